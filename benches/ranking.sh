#!/usr/bin/env bash
# What ranking rules cost search. For each catalogue size, the release build in memory
# (result cache off), wrk (2 threads, 16 connections, SECONDS per run) over two mixes:
#   broad     the 1,000 broad free-text queries (benches/broad_queries.py);
#   category  the hard case for rules: one word naming a category (`electronics`, `books`,
#             ...), so tens of thousands of products tie on the same score and every one
#             that could enter the page has its rule values read;
# each run with no rules, then with `ranking: ["in_stock:desc", "rating:desc",
# "attributes.storage_gb:desc"]`, then with none again (so drift shows), as ratios within
# the run.
# Usage: benches/ranking.sh [SECONDS per wrk run, default 10] [COUNT ...]
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
port=${PORT:-18301}
bench_broad_queries "$work/broad.txt"
for category in electronics books home kitchen garden sports toys clothing beauty office; do
  echo "/products/search?q=$category"
done >"$work/category.txt"
echo "machine: $(nproc) cores, $(uname -m); date: $(date -u +%Y-%m-%d); ${seconds}s per wrk run"

ranking() { # URL JSON-LIST
  curl -sf -X PATCH "$1/settings" -H 'content-type: application/json' -d "{\"ranking\": $2}" >/dev/null
}

rules='["in_stock:desc", "rating:desc", "attributes.storage_gb:desc"]'
for count in "${counts[@]}"; do
  bench_service "$port" --count "$count" --result-cache-size 0
  url="http://127.0.0.1:$port"
  echo
  echo "== $count products"
  for mix in broad category; do
    declare -A rps=()
    for step in none rules again; do
      if [[ $step == rules ]]; then ranking "$url" "$rules"; else ranking "$url" '[]'; fi
      read -r r p99 bad <<<"$(bench_wrk "$url" "$work/$mix.txt" "$seconds")"
      rps[$step]=$r
      printf '%-8s %-5s %9s req/s  p99 %8s  non-2xx %s\n' "$mix" "$step" "$r" "$p99" "${bad:-0}"
    done
    python3 -c "import sys; n, r, a = map(float, sys.argv[2:]); print(f'{sys.argv[1]}: rules / none {r / n:.3f}, rules / again {r / a:.3f}')" \
      "$mix" "${rps[none]}" "${rps[rules]}" "${rps[again]}"
  done
  bench_stop_services
done
