#!/usr/bin/env bash
# The product API load experiment in one command: for each user count and each user class
# of the plan, one headless Locust run against HOST, with the spawn rate scaled to the
# users as in the original report (a tenth of them per second, at least 2). With
# --workers N each step runs on Locust's own distributed mode: a master and N worker
# processes (`--processes N`), for when one load-generating process is the limit.
#
# Usage: benches/sweep.sh HOST OUTDIR [--users "10 100 500 1000"] [--seconds 30]
#          [--workers N] [--locustfile FILE] [--classes "ProductApiHttpUser ProductApiFastUser"]
#
# Writes into OUTDIR: summary.md (one row per user count and class: GET and POST median and
# p95, p99, requests/s, failure rate, workers, and whether Locust warned that its own CPU
# was saturated; machine, date and command on top), summary.csv with the same rows,
# summary.png (requests/s and p95 against users, a line per class), and each step's Locust
# CSV and HTML reports under OUTDIR/STEP/. Exits non-zero if any step had a failure, after
# writing everything.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
usage() { sed -n '2,16p' "$0" >&2; exit 2; }
(($# >= 2)) || usage
host=$1 out=$2
shift 2
users="10 100 500 1000" seconds=30 workers=0
locustfile="$root/benches/locust/products_api.py"
classes="ProductApiHttpUser ProductApiFastUser"
command="benches/sweep.sh $host $out $*"
while (($#)); do
  case $1 in
    --users) users=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --workers) workers=$2; shift 2 ;;
    --locustfile) locustfile=$(realpath "$2"); shift 2 ;;
    --classes) classes=$2; shift 2 ;;
    *) usage ;;
  esac
done
"$root/scripts/python-env.sh"
mkdir -p "$out"
out=$(realpath "$out")
locust="$root/.venv/bin/locust"
cd "$(dirname "$locustfile")"

status=0
for count in $users; do
  rate=$((count / 10 > 2 ? count / 10 : 2))
  for class in $classes; do
    step="$out/users-$count-$class"
    mkdir -p "$step"
    echo "== $count users, $class, spawn rate $rate/s, ${seconds}s, workers: ${workers:-0}"
    distributed=()
    ((workers > 0)) && distributed=(--processes "$workers")
    # Locust's log (its CPU warning, the workers that connected) is kept per step.
    "$locust" -f "$locustfile" --headless --host "$host" --users "$count" --spawn-rate "$rate" \
      --run-time "${seconds}s" --stop-timeout 5 --csv "$step/locust" --html "$step/report.html" \
      --only-summary --loglevel INFO --logfile "$step/locust.log" "${distributed[@]}" "$class" \
      >"$step/stdout.txt" 2>&1 || status=$?
    printf '%s\n' "$count" "$class" "$workers" "$rate" >"$step/step.txt"
  done
done

"$root/.venv/bin/python" "$root/benches/sweep_summary.py" "$out" "$command" || status=$?
exit "$status"
