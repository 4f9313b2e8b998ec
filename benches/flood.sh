#!/usr/bin/env bash
# One client floods, another searches: how much of the other's throughput is left. The
# service runs behind a stand-in for a load balancer (--forwarded-hops 1, each client named
# by X-Forwarded-For), result cache off. The searching client (4 connections, the broad
# mix) is measured alone, then while the flooder (64 connections, the same mix) runs, first
# with no rate limit, then with --rate-limit-per-client LIMIT. Its share is its 200s per
# second under the flood over its 200s per second alone.
# Usage: benches/flood.sh [SECONDS] [LIMITS]   (defaults: 10, "200 1000")
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10} limit=${2:-200 1000}
command -v wrk >/dev/null || { echo "wrk is required: apt-get install wrk" >&2; exit 1; }
cargo build --release --quiet -p product-search
work=$(mktemp -d)
port=${PORT:-18531}
pid=""
stop() { [[ -n $pid ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; pid=""; }
trap 'stop; rm -rf "$work"' EXIT
benches/queries.sh "$work" >/dev/null
paths="$work/broad.txt"
echo "machine: $(nproc) cores; date: $(date -u +%Y-%m-%d); ${seconds}s per run; broad mix"

ok_per_second() { # FILE: the 200s per second of a wrk run
  awk -v s="$seconds" '/^statuses:/ { for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == "200") print kv[2] / s } }' "$1"
}
run() { # LABEL FLAGS...
  local label=$1
  shift
  RUST_LOG=warn target/release/product-search --listen "127.0.0.1:$port" --metrics-listen 127.0.0.1:0 \
    --result-cache-size 0 --forwarded-hops 1 "$@" >"$work/service.log" 2>&1 &
  pid=$!
  until curl -sf "http://127.0.0.1:$port/health" >/dev/null; do sleep 0.1; done
  sleep 3
  local client=(wrk -t1 -c4 --latency -s benches/wrk/statuses.lua "http://127.0.0.1:$port" -- "$paths" X-Forwarded-For 10.0.0.2)
  local flooder=(wrk -t1 -c64 -s benches/wrk/statuses.lua "http://127.0.0.1:$port" -- "$paths" X-Forwarded-For 10.0.0.1)
  "${client[@]:0:3}" -d2s "${client[@]:3}" >/dev/null
  "${client[@]:0:3}" -d"${seconds}s" "${client[@]:3}" >"$work/alone.txt"
  "${flooder[@]:0:3}" -d"$((seconds + 2))s" "${flooder[@]:3}" >"$work/flood.txt" &
  local flood=$!
  sleep 1
  "${client[@]:0:3}" -d"${seconds}s" "${client[@]:3}" >"$work/under.txt"
  wait "$flood"
  stop
  local alone under
  alone=$(ok_per_second "$work/alone.txt")
  under=$(ok_per_second "$work/under.txt")
  printf '| %s | %.0f | %.0f | %.0f%% | %s / %s | %s | %s |\n' "$label" "$alone" "$under" \
    "$(awk -v a="$alone" -v u="$under" 'BEGIN { print 100 * u / a }')" \
    "$(awk '$1 == "99%" {print $2}' "$work/alone.txt")" "$(awk '$1 == "99%" {print $2}' "$work/under.txt")" \
    "$(grep '^statuses:' "$work/under.txt" | cut -d' ' -f2-)" "$(grep '^statuses:' "$work/flood.txt" | cut -d' ' -f2-)"
}
echo "| limit | client alone (200/s) | client under the flood (200/s) | share kept | client's p99 alone / flooded | client's answers under the flood | flooder's answers |"
echo "| --- | ---: | ---: | ---: | --- | --- | --- |"
run "none" --rate-limit-per-client 0
for each in $limit; do
  run "$each per client" --rate-limit-per-client "$each"
done
