#!/usr/bin/env bash
# What searching another attribute costs: the index is rebuilt in the background while the
# old one answers. For each catalogue size, the release build in memory (result cache off):
#   1. idle: `PATCH /settings` adds attributes.material and attributes.color to the
#      searchable attributes; the time to apply is the service's own measure
#      (search_index_rebuild_duration_seconds, from the change to the swap);
#   2. under load: wrk (2 threads, 16 connections, 1,000 broad queries) in one-second
#      slices: 10 before the change (once the new index's segments are merged: a pause of
#      a second per 50,000 products, at least 2), then slices until the rebuild is done
#      while a second change takes the two attributes away again. Search requests/s
#      before and during the rebuild (slices that ended with the rebuild still running),
#      as a ratio within the run, and every answer that was not 2xx or failed;
#   3. the peak resident memory, two indexes side by side at the swap.
# Usage: benches/rebuild.sh [COUNT ...] (default counts: 100000 1000000).
#        Needs wrk (Debian: apt-get install wrk).
set -euo pipefail
cd "$(dirname "$0")/.."
counts=("$@")
((${#counts[@]})) || counts=(100000 1000000)
command -v wrk >/dev/null || { echo "wrk is required: apt-get install wrk" >&2; exit 1; }
scripts/release-build.sh
cargo build --release --locked --quiet -p data-gen
source benches/lib.sh
port=${PORT:-18291}
metrics_port=$((port + 1))
bench_broad_queries "$work/broad.txt"
echo "machine: $(nproc) cores, $(uname -m); date: $(date -u +%Y-%m-%d)"

slice() { # URL: requests/s of one second of wrk, and its answers that were not 2xx or failed
  local out
  out=$(wrk -t2 -c16 -d1s -s benches/wrk/paths.lua "$1" -- "$work/broad.txt")
  local bad errors
  bad=$(awk '/Non-2xx/ {print $5}' <<<"$out")
  errors=$(awk -F'[ ,]+' '/Socket errors/ {print $4 + $6 + $8 + $10}' <<<"$out")
  echo "$(awk '/^Requests\/sec/ {print $2}' <<<"$out") $((${bad:-0} + ${errors:-0}))"
}

pending() { # URL: whether an index rebuild is running
  curl -sf "$1/health" | python3 -c "import json, sys; sys.exit(json.load(sys.stdin)['index_rebuild'] is None)"
}

searching() { # URL ATTRIBUTES...: makes the built-in fields and ATTRIBUTES (weight 1) searched
  local url=$1
  shift
  python3 - "$url" "$@" <<'PY' >/dev/null
import json, sys, urllib.request
url, attributes = sys.argv[1], sys.argv[2:]
fields = [{"name": n, "weight": w} for n, w in
          [("name", 3), ("brand", 3), ("category", 2), ("manufacturer", 1.5), ("sku", 3), ("description", 1)]]
fields += [{"name": a, "weight": 1} for a in attributes]
body = json.dumps({"searchable_attributes": fields}).encode()
request = urllib.request.Request(f"{url}/settings", data=body, method="PATCH",
                                 headers={"content-type": "application/json"})
answer = json.load(urllib.request.urlopen(request))
assert answer["status"] == "pending", answer
PY
}

took() { # the last rebuild's duration, from /metrics
  curl -sf "http://127.0.0.1:$metrics_port/metrics" | awk '/^search_index_rebuild_duration_seconds / {printf "%.1f", $2}'
}

mean() { python3 -c "import sys; v = [float(x) for x in sys.argv[1:]]; print(f'{sum(v) / len(v):.0f}' if v else 'n/a')" "$@"; }

for count in "${counts[@]}"; do
  bench_service "$port" --count "$count" --result-cache-size 0 --metrics-listen "127.0.0.1:$metrics_port"
  pid=${bench_pids[-1]}
  url="http://127.0.0.1:$port"
  echo
  echo "== $count products (resident $(($(awk '/VmRSS/ {print $2}' /proc/$pid/status) / 1024)) MB)"
  searching "$url" attributes.material attributes.color
  while pending "$url"; do sleep 0.05; done
  echo "idle: searching material and colour applied in $(took) s"

  sleep $((count / 50000 > 2 ? count / 50000 : 2))
  before=() during=() bad=0
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    read -r r b <<<"$(slice "$url")"
    before+=("$r")
    bad=$((bad + ${b:-0}))
  done
  searching "$url"
  slices=0
  while pending "$url"; do
    read -r r b <<<"$(slice "$url")"
    bad=$((bad + ${b:-0}))
    slices=$((slices + 1))
    # Only a slice the rebuild outlasted ran wholly during it.
    if pending "$url"; then during+=("$r"); fi
  done
  b_rps=$(mean "${before[@]}")
  d_rps=$(mean "${during[@]}")
  echo "under load: taking them away applied in $(took) s ($slices one-second slices)"
  echo "search req/s before: $b_rps; during the rebuild: $d_rps (${#during[@]} whole slices); not 2xx or failed: $bad"
  if ((${#during[@]})); then
    python3 -c "import sys; b, d = map(float, sys.argv[1:]); print(f'during / before: {d / b:.3f}')" "$b_rps" "$d_rps"
  fi
  echo "peak resident: $(($(awk '/VmHWM/ {print $2}' /proc/$pid/status) / 1024)) MB"
  bench_stop_services
done
