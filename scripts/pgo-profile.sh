#!/usr/bin/env bash
# Writes pgo/product-search.llvm-N.profdata, the execution profile every release build by
# a rustc on LLVM N is optimised with (scripts/rustc-with-profile.sh). Builds the service
# instrumented (into target/pgo-generate), runs it as it runs in use, and merges the counts:
#   - 300,000 generated products (seed 3): the catalogue built and indexed, then 20 s of
#     searches from 2 wrk threads: 1 to 3 words drawn from another catalogue of that seed
#     (benches/broad_queries.py, seed 11), some sorted, paged, faceted or filtered, with
#     prefixes, typos, products by id and /health among them; a detail request.
# What the profile leaves out (the database, a kept index) is optimised as rarely run.
# None of it is the benchmarks' own queries or catalogues (seed 42 and 7). Run it again
# after a change to the hot paths: code whose shape changed since the profile was taken
# is optimised without it. rustc lists the profile among each crate's inputs, so the next
# release build after a new profile rebuilds everything.
# Needs wrk, and llvm-profdata of the LLVM version rustc is built on (`rustc -vV`; for
# Rust 1.95, Debian's llvm-22).
set -euo pipefail
cd "$(dirname "$0")/.."
llvm=$(rustc -vV | sed -n 's/^LLVM version: \([0-9]*\).*/\1/p')
profdata=$(command -v "llvm-profdata-$llvm" || command -v llvm-profdata) ||
  { echo "llvm-profdata is required: apt-get install llvm-$llvm" >&2; exit 1; }
"$profdata" --version | grep -q "LLVM version $llvm\." ||
  { echo "$profdata is not LLVM $llvm, rustc's: apt-get install llvm-$llvm" >&2; exit 1; }
command -v wrk >/dev/null || { echo "wrk is required: apt-get install wrk" >&2; exit 1; }
source benches/lib.sh

cargo build --release --locked --quiet -p data-gen
# The directory is compiled in, so it is a fixed one (an unchanged build is not redone);
# LLVM_PROFILE_FILE below sends this run's counts to its own.
PGO_GENERATE="$PWD/target/pgo-generate/counts" CARGO_TARGET_DIR=target/pgo-generate \
  cargo build --release --locked --quiet -p product-search --bin product-search
port=${PORT:-18291}
target/release/data-gen --count 300000 --seed 3 --out "$work/catalogue.jsonl" >/dev/null 2>&1
python3 benches/broad_queries.py "$work/catalogue.jsonl" 1000 11 3 >"$work/broad.txt"
python3 - "$work/broad.txt" >"$work/paths.txt" <<'PY'
import random, sys
from urllib.parse import quote
rng = random.Random(5)
paths = []
for path in open(sys.argv[1]).read().split():
    extra = rng.choice([""] * 10 + [
        "&sort=price_asc", "&sort=price_desc", "&sort=rating_desc", "&offset=20",
        "&facets=brand,category,price", "&category=Books&in_stock=true",
        "&filter=" + quote("attributes.color IN [black, white, red] AND price < 200")
        + "&facets=attributes.color,attributes.material,brand"])
    paths.append(path + extra)
for word in ["headph", "wirel", "lapto", "shoe", "jackt", "cofee", "blak", "speker", "backpak",
             "te", "b"]:
    paths.append("/products/search?q=" + word)
paths += ["/health"] * 50 + [f"/products/{rng.randrange(1, 300000)}" for _ in range(100)]
rng.shuffle(paths)
print("\n".join(paths))
PY

# Stopped with SIGTERM (bench_stop_services), so that the counts are written at exit.
LLVM_PROFILE_FILE="$work/counts/%m_%p.profraw" \
  BENCH_SERVICE=target/pgo-generate/release/product-search \
  bench_service "$port" --count 300000 --seed 3 --result-cache-size 0
echo "requests/s, p99, non-2xx: $(bench_wrk "http://127.0.0.1:$port" "$work/paths.txt" 20)"
curl -s -X POST -H 'content-type: application/json' -d '{}' \
  "http://127.0.0.1:$port/products/7/details" >/dev/null
bench_stop_services

rm -f pgo/*.profdata # profiles of older code
mkdir -p pgo
"$profdata" merge -o "pgo/product-search.llvm-$llvm.profdata" "$work/counts"
"$profdata" show "pgo/product-search.llvm-$llvm.profdata" | tail -5
