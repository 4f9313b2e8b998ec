#!/usr/bin/env bash
# --index-dir with the release binary: the first start builds the index there, a restart
# over the same catalogue reopens it as it is, one over a changed catalogue file writes only
# what changed (and answers as a build from scratch does), an index another build wrote is
# built again, and a directory of other files is refused and left alone. Then with PostgreSQL
# as the store of record: the replica's own writes are in its kept index when it restarts,
# and what another replica wrote while it was down is caught up, nothing else.
source "$(dirname "$0")/lib.sh"
source "$root/scripts/pg.sh"
bin="$root/target/release/product-search"
port=$(free_port) metrics=$(free_port)
api="http://127.0.0.1:$port"
index="$work/index"

# serve NAME [flags...]: starts the service, logging at info to $work/NAME.log.
serve() {
  local name=$1
  shift
  NO_COLOR=1 RUST_LOG=info "$bin" --listen "127.0.0.1:$port" --metrics-listen "127.0.0.1:$metrics" "$@" \
    >"$work/$name.log" 2>&1 &
  pids+=($!)
  wait_for "$api/health" 60
}

# stop: SIGTERM to the last service started, and wait for it to exit.
stop() {
  local pid=${pids[-1]}
  kill -TERM "$pid"
  wait "$pid" || true
}

expect_log() {
  grep -q -- "$2" "$work/$1.log" || { cat "$work/$1.log"; echo "FAIL: $1: no log line with: $2"; exit 1; }
}

# answers: each query's total and first page of ids, one line each.
answers() {
  for q in lamp "wireless+headphones" a zyzzogeton; do
    curl -sf "$api/products/search?q=$q&limit=20" |
      python3 -c 'import json, sys; r = json.load(sys.stdin); print(r["total_found"], [p["product_id"] for p in r["products"]])'
  done
}

echo "-- a catalogue file, exported from a generated catalogue"
serve export --count 3000 --seed 5
curl -sf "$api/products/export" >"$work/catalogue.jsonl"
stop
[[ $(wc -l <"$work/catalogue.jsonl") == 3000 ]] || { echo "FAIL: the export does not hold 3000 products"; exit 1; }

echo "-- first start: built and kept"
serve first --catalog "$work/catalogue.jsonl" --index-dir "$index"
expect_log first "index built and kept"
answers >"$work/first.txt"
stop
[[ -f $index/meta.json ]] || { echo "FAIL: no index was kept in $index"; exit 1; }

echo "-- same catalogue: reopened as it is"
serve same --catalog "$work/catalogue.jsonl" --index-dir "$index"
expect_log same "kept index reopened and brought up to date.*unchanged=3000 written=0 deleted=0"
answers >"$work/same.txt"
stop
diff "$work/first.txt" "$work/same.txt" || { echo "FAIL: the reopened index answers otherwise"; exit 1; }

echo "-- one product renamed, one gone: only they are written"
python3 - "$work/catalogue.jsonl" <<'PY'
import json, sys
path = sys.argv[1]
products = [json.loads(line) for line in open(path)]
products[9]["name"] = "Zyzzogeton lantern"
del products[19]
open(path, "w").write("".join(json.dumps(p) + "\n" for p in products))
PY
renamed=$(sed -n 10p "$work/catalogue.jsonl" | python3 -c 'import json, sys; print(json.load(sys.stdin)["product_id"])')
serve changed --catalog "$work/catalogue.jsonl" --index-dir "$index"
expect_log changed "unchanged=2998 written=1 deleted=1"
answers >"$work/changed.txt"
stop
grep -qx "1 \[$renamed\]" "$work/changed.txt" || { cat "$work/changed.txt"; echo "FAIL: the renamed product is not found by its new name"; exit 1; }
serve memory --catalog "$work/catalogue.jsonl"
answers >"$work/memory.txt"
stop
# Totals are exact whatever the segments; the pages too once deleted documents are merged
# away, which the reopened index does in the background: compare the totals only.
diff <(cut -d' ' -f1 "$work/changed.txt") <(cut -d' ' -f1 "$work/memory.txt") ||
  { echo "FAIL: the caught-up index and a fresh build find different totals"; exit 1; }

echo "-- an index another build wrote: built again, never served"
python3 - "$index/meta.json" <<'PY'
import json, sys
path = sys.argv[1]
meta = json.load(open(path))
assert meta["payload"].startswith("product-search index format"), meta["payload"]
meta["payload"] = "product-search index format 0"
json.dump(meta, open(path, "w"))
PY
serve other --catalog "$work/catalogue.jsonl" --index-dir "$index"
expect_log other "the kept index was not served but built again.*another build wrote it"
answers >"$work/other.txt"
stop
diff <(cut -d' ' -f1 "$work/other.txt") <(cut -d' ' -f1 "$work/memory.txt") ||
  { echo "FAIL: the index built again finds other totals"; exit 1; }

echo "-- a directory of other files: refused, left alone"
mkdir -p "$work/mine"
echo "keep me" >"$work/mine/notes.txt"
if NO_COLOR=1 RUST_LOG=info "$bin" --listen "127.0.0.1:$port" --metrics-listen "127.0.0.1:$metrics" --count 100 \
  --index-dir "$work/mine" >"$work/refused.log" 2>&1; then
  echo "FAIL: the service started on a directory of other files"
  exit 1
fi
expect_log refused "holds files but no index"
[[ $(cat "$work/mine/notes.txt") == "keep me" && $(ls -A "$work/mine") == "notes.txt" ]] ||
  { ls -la "$work/mine"; echo "FAIL: the directory of other files was changed"; exit 1; }

echo "-- PostgreSQL: the replica's own writes are in its kept index when it restarts"
# The database server runs as the postgres user, who must reach its folder.
chmod 755 "$work"
pg_port=$(free_port)
pg_start "$work/pg" "$pg_port"
trap 'pg_stop "$work/pg" || true; cleanup' EXIT
db=$(pg_url "$pg_port")
put() {
  curl -sf -X PUT "$api/products/$1" -H 'content-type: application/json' -d "{\"product_id\":$1,\"name\":\"$2\"}" >/dev/null ||
    { echo "FAIL: PUT /products/$1"; exit 1; }
}
serve db-first --count 3000 --seed 5 --database-url "$db" --index-dir "$work/db-index"
expect_log db-first "index built and kept"
put 11 "Zyzzogeton lamp"
stop
serve db-same --count 3000 --seed 5 --database-url "$db" --index-dir "$work/db-index"
expect_log db-same "unchanged=3000 written=0 deleted=0"
answers >"$work/db-same.txt"
stop
grep -qx "1 \[11\]" "$work/db-same.txt" || { cat "$work/db-same.txt"; echo "FAIL: the replica's own write is not found after a restart"; exit 1; }

echo "-- PostgreSQL: what another replica wrote meanwhile is caught up, nothing else"
serve db-other --count 3000 --seed 5 --database-url "$db"
put 12 "Zyzzogeton kettle"
curl -sf -X DELETE "$api/products/13" || { echo "FAIL: DELETE /products/13"; exit 1; }
stop
serve db-caught-up --count 3000 --seed 5 --database-url "$db" --index-dir "$work/db-index"
expect_log db-caught-up "unchanged=2998 written=1 deleted=1"
answers >"$work/db-caught-up.txt"
[[ $(curl -s -o /dev/null -w '%{http_code}' "$api/products/13") == 404 ]] || { echo "FAIL: the deleted product is still served"; exit 1; }
stop
grep -qx "2 \[1[12], 1[12]\]" "$work/db-caught-up.txt" ||
  { cat "$work/db-caught-up.txt"; echo "FAIL: the other replica's write is not found, or the replica's own is lost"; exit 1; }
serve db-memory --count 3000 --seed 5 --database-url "$db"
answers >"$work/db-memory.txt"
stop
diff <(cut -d' ' -f1 "$work/db-caught-up.txt") <(cut -d' ' -f1 "$work/db-memory.txt") ||
  { echo "FAIL: the caught-up index and a fresh build from the database find different totals"; exit 1; }
echo "kept index: built, reopened, caught up, rebuilt and refused as expected, from a file and from PostgreSQL"
