#!/usr/bin/env bash
# Runs a locustfile headless against any host for a set time and writes Locust's CSV and
# HTML reports plus PNG charts into a results folder. Any non-2xx answer is a failure, and
# any failure makes this exit non-zero.
#
# Usage: benches/locust/run.sh LOCUSTFILE HOST SECONDS OUTDIR [USERS] [SPAWN_RATE] [USER_CLASS...]
#   USERS and SPAWN_RATE default to 50 and 3 (the report's plan).
# Example: benches/locust/run.sh benches/locust/products_api.py http://127.0.0.1:8080 60 results/api 100 10 ProductApiFastUser
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
if (($# < 4)); then
  sed -n '2,9p' "$0" >&2
  exit 2
fi
locustfile=$(realpath "$1") host=$2 seconds=$3 out=$4
users=${5:-50} rate=${6:-3}
shift $(($# < 6 ? $# : 6))
"$root/scripts/python-env.sh"
mkdir -p "$out"
out=$(realpath "$out")
cd "$(dirname "$locustfile")"
status=0
"$root/.venv/bin/locust" -f "$locustfile" --headless --host "$host" \
  --users "$users" --spawn-rate "$rate" --run-time "${seconds}s" --stop-timeout 5 \
  --csv "$out/locust" --csv-full-history --html "$out/report.html" \
  --only-summary --loglevel WARNING "$@" || status=$?
"$root/.venv/bin/python" "$root/benches/locust/charts.py" "$out"
python3 - "$out/locust_stats.csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
print(f"{'name':45} {'requests':>9} {'failures':>9} {'req/s':>8} {'p50':>6} {'p95':>6} {'p99':>6}")
for r in rows:
    print(f"{r['Type'] + ' ' + r['Name']:45} {r['Request Count']:>9} {r['Failure Count']:>9} "
          f"{float(r['Requests/s']):8.1f} {r['50%']:>6} {r['95%']:>6} {r['99%']:>6}")
PY
exit "$status"
