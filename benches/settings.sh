#!/usr/bin/env bash
# What a live settings change costs. For each catalogue size, the release build in memory
# (result cache off):
#   1. ROUNDS `PATCH /settings`, each adding or taking away a synonym group (so each changes
#      what searches match), timed from request to answer; the answer comes once this
#      replica has applied the change;
#   2. search requests/s with wrk (2 threads, 16 connections) over 1,000 broad queries,
#      without changes and then with a change every 100 ms, as a ratio within the run, and
#      the non-2xx answers of both.
# Usage: benches/settings.sh [SECONDS per wrk run, default 10] [COUNT ...]
#        (default counts: 100000 1000000). Needs wrk (Debian: apt-get install wrk).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
shift || true
counts=("$@")
((${#counts[@]})) || counts=(100000 1000000)
command -v wrk >/dev/null || { echo "wrk is required: apt-get install wrk" >&2; exit 1; }
scripts/release-build.sh
cargo build --release --locked --quiet -p data-gen
source benches/lib.sh
port=${PORT:-18271}
bench_broad_queries "$work/broad.txt"
echo "machine: $(nproc) cores, $(uname -m); date: $(date -u +%Y-%m-%d); ${seconds}s per wrk run"

changes() { # URL SECONDS ROUNDS: patches every 100 ms for SECONDS, or ROUNDS times, timing each
  python3 - "$@" <<'PY'
import http.client, json, statistics, sys, time
from urllib.parse import urlparse
url, seconds, rounds = urlparse(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
conn.request("GET", "/settings")
base = json.loads(conn.getresponse().read())["synonyms"]
extra = [["quokka", "wombat", "numbat"]]
times, failed, end = [], 0, time.time() + seconds
while len(times) + failed < rounds or (seconds and time.time() < end):
    body = json.dumps({"synonyms": base + (extra if len(times) % 2 == 0 else [])})
    started = time.perf_counter()
    conn.request("PATCH", "/settings", body=body, headers={"Content-Type": "application/json"})
    response = conn.getresponse()
    response.read()
    took = (time.perf_counter() - started) * 1000
    if response.status == 200:
        times.append(took)
    else:
        failed += 1
    if seconds:
        time.sleep(max(0.0, 0.1 - took / 1000))
    if not seconds and len(times) + failed >= rounds:
        break
times.sort()
print(f"{len(times)} changes applied, {failed} failed; answer median {statistics.median(times):.2f} ms, "
      f"p90 {times[int(len(times) * 0.9) - 1]:.2f} ms, largest {times[-1]:.2f} ms")
PY
}

searches() { # URL: wrk's requests/s and non-2xx over the broad queries
  local out
  out=$(wrk -t2 -c16 -d"${seconds}s" --latency -s benches/wrk/paths.lua "$1" -- "$work/broad.txt")
  echo "$(awk '/^Requests\/sec/ {print $2}' <<<"$out") $(awk '/^ +99%/ {print $2}' <<<"$out") $(awk '/Non-2xx/ {print $5}' <<<"$out")"
}

for count in "${counts[@]}"; do
  bench_service "$port" --count "$count" --result-cache-size 0
  url="http://127.0.0.1:$port"
  echo
  echo "== $count products: $(curl -s "$url/health")"
  echo "settings changes alone: $(changes "$url" 0 40)"
  read -r quiet quiet_p99 quiet_bad <<<"$(searches "$url")"
  changes "$url" "$seconds" 0 >"$work/during.txt" &
  changer=$!
  read -r busy busy_p99 busy_bad <<<"$(searches "$url")"
  wait "$changer"
  echo "search without changes: $quiet req/s, p99 $quiet_p99, non-2xx ${quiet_bad:-0}"
  echo "search with a change every 100 ms: $busy req/s, p99 $busy_p99, non-2xx ${busy_bad:-0}"
  echo "  the changes meanwhile: $(cat "$work/during.txt")"
  python3 -c "import sys; print(f'ratio with changes / without: {float(sys.argv[2]) / float(sys.argv[1]):.3f}')" "$quiet" "$busy"
  bench_stop_services
done
