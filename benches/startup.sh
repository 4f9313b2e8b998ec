#!/usr/bin/env bash
# Time from process start to the first 200 from /health, and peak resident memory (VmHWM)
# at that moment, for a release build (or SERVICE=path, another build). Usage:
# benches/startup.sh [COUNT] [RUNS]. With INDEX_DIR=path the index is kept there: a run
# that finds it (every run after the first, on an empty or new path) reopens it. With
# CATALOG=file.jsonl the catalogue is loaded from that file (COUNT is then ignored). With
# SETTLE=seconds each run also prints the resident memory (VmRSS) that long after ready:
# start-up's freed memory is returned by then, and the background merge of the built
# segments is in it, done or (a large catalogue, a short SETTLE) still running.
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-100000}
runs=${2:-5}
port=${PORT:-18181}
cargo build --release --quiet -p product-search
bin=${SERVICE:-target/release/product-search}

for run in $(seq "$runs"); do
  start=$(date +%s%N)
  RUST_LOG=warn "$bin" --listen "127.0.0.1:$port" --count "$count" ${INDEX_DIR:+--index-dir "$INDEX_DIR"} ${CATALOG:+--catalog "$CATALOG"} &
  pid=$!
  until curl -sf "http://127.0.0.1:$port/health" >/dev/null; do
    kill -0 "$pid" 2>/dev/null || { echo "the server exited" >&2; exit 1; }
    sleep 0.005
  done
  ready_ms=$(( ($(date +%s%N) - start) / 1000000 ))
  hwm=$(awk '/VmHWM/ {print $2 " " $3}' "/proc/$pid/status")
  settled=""
  if [[ -n ${SETTLE:-} ]]; then
    sleep "$SETTLE"
    settled=", VmRSS $(awk '/VmRSS/ {print $2 " " $3}' "/proc/$pid/status") ${SETTLE} s later"
  fi
  echo "run $run: ${CATALOG:-$count products} ready in ${ready_ms} ms, VmHWM $hwm$settled"
  kill -TERM "$pid"
  wait "$pid"
done
