#!/usr/bin/env bash
# Instructions executed from process start to the first 200 from /health, counted by
# valgrind's callgrind (Debian's `valgrind`), less those of the background merge of the built
# segments that starts just before: a measure of start-up work that does not move with the
# machine's speed, as wall and CPU times do here by 10-30% from run to run. Under callgrind
# the server runs about 50 times slower and on one core, so use small catalogues. Usage:
# benches/startup_instructions.sh [RUNS] [service flags...], e.g.
# `benches/startup_instructions.sh 2 --catalog c100k.jsonl`. SERVICE=path runs another build.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-1}
shift || true
port=${PORT:-18183}
command -v valgrind >/dev/null || { echo "valgrind is missing: apt-get install valgrind" >&2; exit 1; }
cargo build --release --quiet -p product-search
bin=${SERVICE:-target/release/product-search}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for run in $(seq "$runs"); do
  out="$work/callgrind.out"
  RUST_LOG=warn valgrind --tool=callgrind --callgrind-out-file="$out" \
    "$bin" --listen "127.0.0.1:$port" --metrics-listen "127.0.0.1:$((port + 1))" "$@" 2>"$work/valgrind.log" &
  pid=$!
  until curl -sf "http://127.0.0.1:$port/health" >/dev/null; do
    kill -0 "$pid" 2>/dev/null || { cat "$work/valgrind.log" >&2; echo "the server exited" >&2; exit 1; }
    sleep 0.2
  done
  # The counts so far go to $out.1; what runs after (shutting down) is not counted.
  callgrind_control -d "$pid" >/dev/null 2>&1
  # The dump is written once valgrind gets to it; its last line is the totals.
  until grep -q '^totals:' "$out.1" 2>/dev/null; do sleep 0.2; done
  kill -TERM "$pid"
  wait "$pid" || true
  total=$(awk '/^summary:/ {print $2}' "$out.1")
  merge=$(callgrind_annotate --inclusive=yes "$out.1" 2>/dev/null |
    awk '/IndexMerger::write \[/ && !found {gsub(",", "", $1); found = $1} END {print found + 0}')
  echo "run $run: $total instructions to ready, $merge of them the background merge: $((total - merge)) without it"
  rm -f "$out"*
done
