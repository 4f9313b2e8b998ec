#!/usr/bin/env bash
# Bulk writes of growing size through POST /products/bulk on a release build backed by a
# throwaway PostgreSQL server: for each size, the body's bytes, the answer's status and the
# time from the request to the answer (commit and apply included). The products rewrite
# the seeded catalogue's own (same ids and SKUs), as a shop's nightly feed does.
# Usage: benches/bulk.sh [SIZES...]   (default: 5000 10000 20000 40000 60000)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
sizes=("$@")
((${#sizes[@]})) || sizes=(5000 10000 20000 40000 60000)
largest=$(printf '%s\n' "${sizes[@]}" | sort -n | tail -1)
cargo build --release --quiet -p product-search -p data-gen
source benches/lib.sh
port=${PORT:-18231}
bench_pg $((port + 1))
bench_service "$port" --count "$largest" --database-url "$(pg_url $((port + 1)))"
target/release/data-gen --count "$largest" --seed 42 --out "$work/catalogue.jsonl" 2>/dev/null
echo "| products | body | status | seconds |"
echo "| ---: | ---: | --- | ---: |"
for size in "${sizes[@]}"; do
  head -n "$size" "$work/catalogue.jsonl" >"$work/bulk.jsonl"
  bytes=$(stat -c %s "$work/bulk.jsonl")
  read -r status seconds < <(curl -s -o "$work/answer.json" -w '%{http_code} %{time_total}\n' \
    -H 'content-type: application/x-ndjson' --data-binary "@$work/bulk.jsonl" \
    "http://127.0.0.1:$port/products/bulk")
  detail=""
  [[ $status == 200 ]] || detail=" $(head -c 200 "$work/answer.json")"
  awk -v n="$size" -v b="$bytes" -v s="$status$detail" -v t="$seconds" \
    'BEGIN { printf "| %d | %.1f MiB | %s | %.2f |\n", n, b / 1048576, s, t }'
done
