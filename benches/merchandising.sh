#!/usr/bin/env bash
# What merchandising rules cost search. For each catalogue size, the release build in
# memory (result cache off) and wrk (2 threads, 16 connections, SECONDS per run) over the
# 1,000 broad free-text queries (benches/broad_queries.py), split in two mixes:
#   ruled   the first 100 queries, each with a rule of its own (`query` exact) that pins two
#           products (positions 1 and 3), hides one, and boosts `rating >= 4`: the hard
#           case, since such a search runs four passes over the index instead of one;
#   other   the other 900, which no rule applies to while 100 rules are in force;
# each run with no rules, then with the 100 rules, then with none again (so drift shows),
# as ratios within the run.
# Usage: benches/merchandising.sh [SECONDS per wrk run, default 10] [COUNT ...]
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
port=${PORT:-18321}
bench_broad_queries "$work/broad.txt"
head -n 100 "$work/broad.txt" >"$work/ruled.txt"
tail -n +101 "$work/broad.txt" >"$work/other.txt"
# One rule per ruled query; the products it names are in every catalogue of 1,000 or more.
python3 - "$work/ruled.txt" >"$work/rules.json" <<'PY'
import json, sys, urllib.parse
rules = []
for i, line in enumerate(open(sys.argv[1])):
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(line.strip()).query)["q"][0]
    rules.append({"id": f"r{i}", "query": query,
                  "pin": [{"product_id": 1 + i, "position": 1}, {"product_id": 201 + i, "position": 3}],
                  "hide": [401 + i], "boost": "rating >= 4"})
print(json.dumps({"rules": rules}))
PY
echo "machine: $(nproc) cores, $(uname -m); date: $(date -u +%Y-%m-%d); ${seconds}s per wrk run"

rules() { # URL FILE
  curl -sf -X PATCH "$1/settings" -H 'content-type: application/json' --data-binary "@$2" >/dev/null
}

echo '{"rules": []}' >"$work/none.json"
for count in "${counts[@]}"; do
  bench_service "$port" --count "$count" --result-cache-size 0
  url="http://127.0.0.1:$port"
  echo
  echo "== $count products"
  # Every ruled query applies its rule (the ids in rules_applied), or the figures mean nothing.
  rules "$url" "$work/rules.json"
  applied=$(while read -r path; do curl -sf "$url$path&limit=1"; echo; done <"$work/ruled.txt" \
    | python3 -c "import json, sys; print(sum(1 for l in sys.stdin if l.strip() and json.loads(l)['rules_applied']))")
  echo "ruled queries that a rule applied to: $applied of $(wc -l <"$work/ruled.txt")"
  for mix in ruled other; do
    declare -A rps=()
    for step in none rules again; do
      if [[ $step == rules ]]; then rules "$url" "$work/rules.json"; else rules "$url" "$work/none.json"; fi
      read -r r p99 bad <<<"$(bench_wrk "$url" "$work/$mix.txt" "$seconds")"
      rps[$step]=$r
      printf '%-6s %-5s %9s req/s  p99 %8s  non-2xx %s\n' "$mix" "$step" "$r" "$p99" "${bad:-0}"
    done
    python3 -c "import sys; n, r, a = map(float, sys.argv[2:]); print(f'{sys.argv[1]}: rules / none {r / n:.3f}, rules / again {r / a:.3f}')" \
      "$mix" "${rps[none]}" "${rps[rules]}" "${rps[again]}"
  done
  bench_stop_services
done
