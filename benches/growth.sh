#!/usr/bin/env bash
# The growth curve: for each catalogue size, the time to the first healthy answer and the
# peak resident memory then (built in memory; built into --index-dir; reopened from it),
# then, once the built segments are merged, wrk (2 threads) at 8 and 64 connections over
# 1,000 broad queries drawn from that catalogue (benches/broad_queries.py, from every
# COUNT/100,000-th product), the server's own search_time over the same queries one at a
# time (p50, p99, the slowest five: benches/search_time.py) and the peak memory over it all.
# Result cache off, so every request searches.
#
# Usage: benches/growth.sh [COUNT...]   (default: 100000 1000000)
# SEED (default 7), SECONDS per wrk run (default 10), SERVICE=path for another build.
# Needs wrk. Prints one table row per size, then each size's slowest queries.
set -euo pipefail
cd "$(dirname "$0")/.."
counts=("$@")
((${#counts[@]})) || counts=(100000 1000000)
seed=${SEED:-7}
seconds=${SECONDS_PER_RUN:-10}
port=${PORT:-18300}
command -v wrk >/dev/null || { echo "wrk is required: apt-get install wrk" >&2; exit 1; }
cargo build --release --locked --quiet -p product-search -p data-gen
bin=${SERVICE:-target/release/product-search}
work=$(mktemp -d)
pid=""
cleanup() {
  [[ -n $pid ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
api="http://127.0.0.1:$port"

# start COUNT [flags...]: serves COUNT products; sets pid, ready_ms and hwm_mb.
start() {
  local count=$1
  shift
  local started
  started=$(date +%s%N)
  RUST_LOG=warn "$bin" --listen "127.0.0.1:$port" --metrics-listen "127.0.0.1:$((port + 1))" \
    --result-cache-size 0 --count "$count" --seed "$seed" "$@" >"$work/server.log" 2>&1 &
  pid=$!
  until curl -sf "$api/health" >/dev/null; do
    kill -0 "$pid" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
    sleep 0.02
  done
  ready_ms=$((($(date +%s%N) - started) / 1000000))
  hwm_mb=$(awk '/VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$pid/status")
}

stop() {
  kill -TERM "$pid"
  wait "$pid" || true
  pid=""
}

# settle: waits (at most 10 minutes) until the server uses under 5% of a core for two
# seconds running: the background merge of the built segments is done.
settle() {
  local tick quiet=0 before after
  tick=$(getconf CLK_TCK)
  before=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  for _ in $(seq 600); do
    sleep 1
    after=$(awk '{print $14 + $15}' "/proc/$pid/stat")
    if (((after - before) * 20 < tick)); then quiet=$((quiet + 1)); else quiet=0; fi
    before=$after
    ((quiet >= 2)) && return 0
  done
}

# load CONNECTIONS: "requests/s p99" of one wrk run over the mix.
load() {
  wrk -t2 -c"$1" -d"${seconds}s" --latency -s benches/wrk/paths.lua "$api" -- "$work/mix.txt" |
    awk '/Requests\/sec/ {rps = $2} $1 == "99%" {p99 = $2} END {printf "%.0f %s", rps, p99}'
}

echo "machine: $(nproc) cores, $(uname -m); date: $(date -u +%Y-%m-%d); seed $seed; wrk ${seconds}s runs"
echo
echo "| products | ready, in memory | peak then | ready, built into --index-dir | ready, reopened | peak then | req/s at 8 | p99 at 8 | req/s at 64 | p99 at 64 | server p50 | server p99 | peak over the run |"
echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
slowest=()
for count in "${counts[@]}"; do
  target/release/data-gen --count "$count" --seed "$seed" --out "$work/catalogue.jsonl" >/dev/null 2>&1
  python3 benches/broad_queries.py "$work/catalogue.jsonl" 1000 7 $(((count + 99999) / 100000)) >"$work/mix.txt"
  rm -f "$work/catalogue.jsonl"

  rm -rf "$work/index"
  start "$count" --index-dir "$work/index"
  kept_cold_ms=$ready_ms
  settle
  stop
  start "$count" --index-dir "$work/index"
  reopened_ms=$ready_ms reopened_mb=$hwm_mb
  stop
  rm -rf "$work/index"

  start "$count"
  memory_ms=$ready_ms memory_mb=$hwm_mb
  settle
  read -r rps8 p99_8 <<<"$(load 8)"
  read -r rps64 p99_64 <<<"$(load 64)"
  python3 benches/search_time.py "$api" "$work/mix.txt" >"$work/search_time.txt"
  read -r p50 p99 <<<"$(awk -F'|' '$2 ~ /broad/ {gsub(/ /, "", $4); gsub(/ /, "", $6); print $4, $6}' "$work/search_time.txt")"
  slowest+=("$count: $(grep '^slowest' "$work/search_time.txt")")
  peak_mb=$(awk '/VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$pid/status")
  stop
  printf '| %d | %.1f s | %d MB | %.1f s | %.1f s | %d MB | %s | %s | %s | %s | %s | %s | %d MB |\n' \
    "$count" "$(bc -l <<<"$memory_ms / 1000")" "$memory_mb" "$(bc -l <<<"$kept_cold_ms / 1000")" \
    "$(bc -l <<<"$reopened_ms / 1000")" "$reopened_mb" "$rps8" "$p99_8" "$rps64" "$p99_64" "$p50" "$p99" "$peak_mb"
done
echo
for line in "${slowest[@]}"; do echo "- $line"; done
