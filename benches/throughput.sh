#!/usr/bin/env bash
# Requests per second and latency with wrk at 8 and 64 connections for /health (the HTTP
# floor of this machine), search with common terms, search with over 1,000 distinct
# labelled queries (narrow: brand and type, names), and search with 1,000 broad queries
# (1 to 3 words drawn from names and descriptions, frequent words included); then each
# mix's requests per second as a share of /health.
#
# Usage: benches/throughput.sh [SECONDS per run, default 10] [extra service flags...]
# SERVICE=path/to/product-search measures another build (another commit's) over the same
# queries; RELEVANCE=path/to/relevance takes the distinct queries from another build's
# labelled set. Needs wrk (Debian: apt-get install wrk).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
shift || true
command -v wrk >/dev/null || { echo "wrk is required: apt-get install wrk" >&2; exit 1; }

scripts/release-build.sh
work=$(mktemp -d)
port=${PORT:-18190}
metrics_port=$((port + 1))
server=""
cleanup() {
  [[ -n $server ]] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

benches/queries.sh "$work"

RUST_LOG=warn "${SERVICE:-target/release/product-search}" --listen "127.0.0.1:$port" \
  --metrics-listen "127.0.0.1:$metrics_port" "$@" >"$work/server.log" 2>&1 &
server=$!
until curl -sf "http://127.0.0.1:$port/health" >/dev/null; do
  kill -0 "$server" 2>/dev/null || { cat "$work/server.log"; exit 1; }
  sleep 0.05
done
echo "http://127.0.0.1:$port: $(curl -s "http://127.0.0.1:$port/health")"
echo "$(wc -l <"$work/distinct.txt") distinct queries, $(wc -l <"$work/broad.txt") broad queries, $(wc -l <"$work/common.txt") common terms; ${seconds}s per run"
echo "machine: $(nproc) cores, $(uname -m); date: $(date -u +%Y-%m-%d)"
echo
echo "/health" >"$work/health.txt"

declare -A rps
printf '| workload | connections | requests/s | p50 | p99 | non-2xx |\n| --- | ---: | ---: | ---: | ---: | ---: |\n'
for workload in health common distinct broad; do
  for connections in 8 64; do
    out=$(wrk -t2 -c"$connections" -d"${seconds}s" --latency -s benches/wrk/paths.lua \
      "http://127.0.0.1:$port" -- "$work/$workload.txt")
    rate=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
    p50=$(awk '/^ +50%/ {print $2}' <<<"$out")
    p99=$(awk '/^ +99%/ {print $2}' <<<"$out")
    bad=$(awk '/Non-2xx/ {print $5}' <<<"$out")
    errors=$(awk '/Socket errors/ {print $0}' <<<"$out")
    rps[$workload-$connections]=$rate
    printf '| %s | %s | %s | %s | %s | %s |\n' "$workload" "$connections" "$rate" "$p50" "$p99" "${bad:-0}${errors:+ ($errors)}"
  done
done
echo
for connections in 8 64; do
  for workload in common distinct broad; do
    python3 -c "import sys; print(f'{sys.argv[1]} search / health at {sys.argv[2]} connections: {float(sys.argv[3]) / float(sys.argv[4]):.1%}')" \
      "$workload" "$connections" "${rps[$workload-$connections]}" "${rps[health-$connections]}"
  done
done
