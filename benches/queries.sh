#!/usr/bin/env bash
# Writes the URL paths the throughput benchmarks send, one per line, into DIR:
#   distinct.txt  the relevance benchmark's labelled set, every class (narrow: brand and
#                 type, names), over 1,000 distinct queries;
#   broad.txt     1,000 queries of 1 to 3 words drawn from names and descriptions of the
#                 catalogue the service generates (frequent words included): its default
#                 100,000 products, or COUNT=N products (seed 42 both), read from every
#                 N/100,000-th product;
#   common.txt    20 common terms: what most shoppers type first;
#   health.txt    /health alone: what the HTTP layer costs a request before any search.
#
# Usage: benches/queries.sh DIR
# RELEVANCE=path/to/relevance takes the distinct queries from another build's labelled set.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: benches/queries.sh DIR}
mkdir -p "$out"
if [[ -z ${RELEVANCE:-} ]]; then
  cargo build --release --locked --quiet -p relevance
fi
"${RELEVANCE:-target/release/relevance}" --count 100000 --per-class 150 --dump-queries "$out/queries.jsonl" >/dev/null
python3 -c '
import json, sys
for line in open(sys.argv[1]):
    print("/products/search?" + json.loads(line)["query"])
' "$out/queries.jsonl" | sort -u >"$out/distinct.txt"
rm -f "$out/queries.jsonl"
cargo build --release --locked --quiet -p data-gen
count=${COUNT:-100000}
target/release/data-gen --count "$count" --seed 42 --out "$out/catalogue.jsonl" >/dev/null 2>&1
python3 benches/broad_queries.py "$out/catalogue.jsonl" 1000 7 $(((count + 99999) / 100000)) >"$out/broad.txt"
rm -f "$out/catalogue.jsonl"
for term in headphones wireless laptop shoes jacket coffee lamp alpha beta organic black \
  speaker backpack tent chair blanket knife puzzle shampoo sneaker; do
  echo "/products/search?q=$term"
done >"$out/common.txt"
echo /health >"$out/health.txt"
