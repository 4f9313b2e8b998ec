#!/usr/bin/env bash
# Short Locust runs against a local release build: the search and product API plans must
# finish with zero failures (every non-2xx or malformed answer is one).
source "$(dirname "$0")/lib.sh"
port=$(free_port) metrics=$(free_port)
start_service "$port" "$metrics"
run="$root/benches/locust/run.sh"
"$run" "$root/benches/locust/search_common.py" "http://127.0.0.1:$port" 8 "$work/common" 20 10 >"$work/common.txt" 2>&1 ||
  { cat "$work/common.txt"; echo "FAIL: search_common had failures"; exit 1; }
"$run" "$root/benches/locust/search_ramp.py" "http://127.0.0.1:$port" 8 "$work/ramp" 50 10 >"$work/ramp.txt" 2>&1 ||
  { cat "$work/ramp.txt"; echo "FAIL: search_ramp had failures"; exit 1; }
"$run" "$root/benches/locust/products_api.py" "http://127.0.0.1:$port" 6 "$work/api" 10 10 ProductApiFastUser \
  >"$work/api.txt" 2>&1 || { cat "$work/api.txt"; echo "FAIL: products_api had failures"; exit 1; }
for run_dir in common ramp api; do
  for file in report.html locust_stats.csv requests_per_second.png response_times.png; do
    [[ -s "$work/$run_dir/$file" ]] || { echo "FAIL: $run_dir/$file was not written"; exit 1; }
  done
  sed -n '/^name/,/Aggregated/p' "$work/$run_dir.txt" | tail -1 | sed "s/^/$run_dir: /"
done
echo "PASS: locust runs finished with zero failures"
