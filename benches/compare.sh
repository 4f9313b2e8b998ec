#!/usr/bin/env bash
# Runs the same Locust plan against two base URLs, one after the other, and writes a
# side-by-side table (requests/s, p50/p95/p99, failure rate) and a chart.
#
# Usage: benches/compare.sh NAME_A URL_A NAME_B URL_B SECONDS OUTDIR [USERS] [SPAWN_RATE] [LOCUSTFILE]
#   defaults: 50 users, 3 per second, benches/locust/search_ramp.py (the report's plan)
# Example: benches/compare.sh aws http://my-alb.example.com localstack http://localhost:4566/restapis/abc/test/_user_request_ 60 results/compare
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
if (($# < 6)); then
  sed -n '2,8p' "$0" >&2
  exit 2
fi
name_a=$1 url_a=$2 name_b=$3 url_b=$4 seconds=$5 out=$6
users=${7:-50} rate=${8:-3} plan=${9:-$root/benches/locust/search_ramp.py}
mkdir -p "$out"
# A run with failures still counts: the comparison reports its failure rate.
"$root/benches/locust/run.sh" "$plan" "$url_a" "$seconds" "$out/$name_a" "$users" "$rate" >"$out/$name_a.log" 2>&1
"$root/benches/locust/run.sh" "$plan" "$url_b" "$seconds" "$out/$name_b" "$users" "$rate" >"$out/$name_b.log" 2>&1
"$root/.venv/bin/python" "$root/benches/compare.py" "$out" "$name_a" "$name_b" \
  "plan $(basename "$plan"), $users users spawned $rate/s, $seconds s each"
