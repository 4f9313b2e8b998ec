#!/usr/bin/env bash
# What filters and attribute facets cost. For each catalogue size, the release build in
# memory (result cache off), wrk (2 threads, 16 connections) over three mixes, one after
# another in one run:
#   plain     1,000 broad free-text queries (benches/broad_queries.py);
#   faceted   the same queries with the built-in facets (facets=category,brand,price), for
#             what counting facets over a whole matching set costs in itself;
#   filtered  the same queries, each with an attribute filter and three facets:
#             filter=attributes.color IN [black, white, red] AND price < 200
#             facets=attributes.color,attributes.material,brand
#             (the colour facet is counted again without its own condition);
#   browse    the hard case: no text, so every filter and facet runs over the whole
#             catalogue: one colour, or a size list, or a negated boolean with a rating
#             range, each with facets=attributes.color,attributes.material,price.
# It prints requests/s, p50 and p99 per mix, and filtered against plain and faceted as
# ratios within the run.
# Usage: benches/filters.sh [SECONDS per wrk run, default 10] [COUNT ...]
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
port=${PORT:-18281}
bench_broad_queries "$work/plain.txt"
python3 - "$work" <<'PY'
import sys
from urllib.parse import quote
work = sys.argv[1]
plain = open(f"{work}/plain.txt").read().split()
extra = "&filter=" + quote("attributes.color IN [black, white, red] AND price < 200") + \
    "&facets=attributes.color,attributes.material,brand"
open(f"{work}/filtered.txt", "w").write("".join(path + extra + "\n" for path in plain))
open(f"{work}/faceted.txt", "w").write("".join(path + "&facets=category,brand,price\n" for path in plain))
facets = "&facets=attributes.color,attributes.material,price"
colours = ["black", "white", "red", "navy", "grey", "green", "blue", "pink", "teal", "gold"]
browse = [f"attributes.color = {c}" for c in colours]
browse += [f"attributes.size IN [{s}]" for s in ["S, M", "L, XL", "XS", "M"]]
browse += [f"NOT attributes.wireless = true AND rating {low} TO 5" for low in [1, 2, 3, 4]]
browse += [f"attributes.screen_in >= {s} AND in_stock = true" for s in [13, 15, 24, 27]]
open(f"{work}/browse.txt", "w").write(
    "".join(f"/products/search?filter={quote(f)}{facets}\n" for f in browse))
PY
echo "machine: $(nproc) cores, $(uname -m); date: $(date -u +%Y-%m-%d); ${seconds}s per wrk run"

mix() { # URL FILE: requests/s, p50, p99, non-2xx
  local out
  out=$(wrk -t2 -c16 -d"${seconds}s" --latency -s benches/wrk/paths.lua "$1" -- "$2")
  echo "$(awk '/^Requests\/sec/ {print $2}' <<<"$out") $(awk '/^ +50%/ {print $2}' <<<"$out")" \
    "$(awk '/^ +99%/ {print $2}' <<<"$out") $(awk '/Non-2xx/ {print $5}' <<<"$out")"
}

for count in "${counts[@]}"; do
  started=$(date +%s.%N)
  bench_service "$port" --count "$count" --result-cache-size 0
  ready=$(python3 -c "import sys, time; print(f'{time.time() - float(sys.argv[1]):.1f}')" "$started")
  pid=${bench_pids[-1]}
  url="http://127.0.0.1:$port"
  echo
  echo "== $count products (ready in ${ready} s, resident $(($(awk '/VmRSS/ {print $2}' /proc/$pid/status) / 1024)) MB)"
  declare -A rps=()
  for name in plain faceted filtered browse; do
    read -r r p50 p99 bad <<<"$(mix "$url" "$work/$name.txt")"
    rps[$name]=$r
    printf '%-9s %9s req/s  p50 %8s  p99 %8s  non-2xx %s\n' "$name" "$r" "$p50" "$p99" "${bad:-0}"
  done
  python3 -c "import sys; p, f, a = map(float, sys.argv[1:]); print(f'filtered / plain: {a / p:.3f}; filtered / faceted: {a / f:.3f}')" \
    "${rps[plain]}" "${rps[faceted]}" "${rps[filtered]}"
  echo "peak resident: $(($(awk '/VmHWM/ {print $2}' /proc/$pid/status) / 1024)) MB"
  bench_stop_services
done
