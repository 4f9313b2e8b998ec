#!/usr/bin/env bash
# Fault tests on the local cluster (scripts/cluster.sh: PostgreSQL, 2 replicas, HAProxy),
# each under a steady load of searches, GETs, POSTs and a read-your-writes client through
# the load balancer (cluster_load.py), bounded in time:
#   1. kill -9 one replica: no GET or search fails; every write answered 2xx is on the
#      surviving replica and, once the killed one is back, on it too;
#   2. SIGTERM one replica (a rolling deploy): no request fails at all;
#   3. PostgreSQL stopped for a few seconds: reads never fail, writes answer 503
#      DEPENDENCY_UNAVAILABLE quickly, and afterwards both replicas serve the same
#      catalog-version and the same totals;
#   4. a replica paused (SIGSTOP) while the feed is pruned past it: resumed, it loads a
#      snapshot and answers at the latest version;
#   and in every run the read-your-writes client never reads a stale value; then the
#   product API Locust plan, with its read-your-writes users, ends with zero failures.
# The replicas keep 20 versions of the feed and wait 3 s for a silent replica.
source "$(dirname "$0")/lib.sh"
# The database server runs as the postgres user, who must reach its folder.
chmod 755 "$work"
export CLUSTER_DIR="$work/cluster" CATALOG_COUNT=20000
export REPLICA_FLAGS="--feed-retention-versions 20 --feed-replica-ttl-ms 3000"
# A free block of ports: the load balancer, PostgreSQL and two replicas (API + metrics).
CLUSTER_PORT=$(free_ports_from 0 1 10 11 12 13)
export CLUSTER_PORT
cluster="$root/scripts/cluster.sh"
stop_cluster() { "$cluster" stop || true; }
trap 'stop_cluster; cleanup' EXIT
lb=$("$cluster" start 2 | tail -1)
echo "cluster: $lb"
pid_of() { awk -v role="$1" '$1 == role {print $2}' "$CLUSTER_DIR/processes"; }
url_of() { awk -v role="$1" '$1 == role {print $3}' "$CLUSTER_DIR/processes"; }
load() { python3 "$root/tests/system/cluster_load.py" "$lb" "$1" "$2"; }

# check RESULT.json ALLOWED_FAILURE_REGEX: prints what was counted; fails on any failure
# whose kind does not match the pattern.
check() {
  python3 - "$1" "$2" <<'PY'
import json, re, sys
result = json.load(open(sys.argv[1]))
allowed = re.compile(sys.argv[2]) if sys.argv[2] else None
print(f"  requests: {result['counts']}")
print(f"  failures: {result['failures'] or 'none'}; acknowledged writes: {len(result['acknowledged'])}; "
      f"slowest refused write: {result['slowest_refused_write_ms']:.0f} ms")
bad = {k: v for k, v in result["failures"].items() if not (allowed and allowed.fullmatch(k))}
if bad:
    sys.exit(f"FAIL: unexpected failures {bad}")
if sum(result["counts"].get(k, 0) for k in ("get", "search")) < 100:
    sys.exit("FAIL: too few reads to judge")
PY
}

# every_write_on URL RESULT.json: each acknowledged write, read at its version, is there.
every_write_on() {
  python3 - "$1" "$2" <<'PY'
import http.client, json, sys
from urllib.parse import urlparse
base, result = urlparse(sys.argv[1]), json.load(open(sys.argv[2]))
latest = {}
for write in result["acknowledged"]:
    if write["version"] >= latest.get(write["id"], {"version": -1})["version"]:
        latest[write["id"]] = write
top = max((w["version"] for w in latest.values()), default=0)
connection = http.client.HTTPConnection(base.hostname, base.port, timeout=10)
for product_id, write in sorted(latest.items()):
    connection.request("GET", f"/products/{product_id}", headers={"min-catalog-version": str(top)})
    response = connection.getresponse()
    body = json.loads(response.read())
    if response.status != 200 or body.get("sku") != write["sku"]:
        sys.exit(f"FAIL: {sys.argv[1]} lost write {write}: {response.status} {body}")
print(f"  {sys.argv[1]}: all {len(result['acknowledged'])} acknowledged writes there ({len(latest)} products)")
PY
}

echo "-- 1. kill -9 replica-1 under load"
load 9 "$work/kill.json" &
loader=$!
sleep 3
kill -9 "$(pid_of replica-1)"
sleep 3
"$cluster" restart-replica 1
wait "$loader"
# Writes in flight to the killed replica may fail; reads never.
check "$work/kill.json" '(post|ryw-put) (502|503|no answer).*'
every_write_on "$(url_of replica-2)" "$work/kill.json"
every_write_on "$(url_of replica-1)" "$work/kill.json"

echo "-- 2. SIGTERM replica-2 under load (rolling deploy)"
load 8 "$work/term.json" &
loader=$!
sleep 2
kill -TERM "$(pid_of replica-2)"
while kill -0 "$(pid_of replica-2)" 2>/dev/null; do sleep 0.1; done
"$cluster" restart-replica 2
wait "$loader"
check "$work/term.json" ''
every_write_on "$(url_of replica-1)" "$work/term.json"

echo "-- 3. PostgreSQL stopped for 4 s under load"
load 12 "$work/db.json" &
loader=$!
sleep 2
source "$root/scripts/pg.sh"
pg_stop "$CLUSTER_DIR/pg"
if "$(pg_bin)/pg_isready" -q -h 127.0.0.1 -p "$((CLUSTER_PORT + 1))"; then
  echo "FAIL: PostgreSQL still answers after pg_stop"; exit 1
fi
sleep 4
pg_start "$CLUSTER_DIR/pg" "$((CLUSTER_PORT + 1))"
wait "$loader"
# While the database is down a replica cannot learn of a write the other one took just
# before: it answers 503 CATALOG_BEHIND (never a stale value) until the database is back.
check "$work/db.json" '(post|ryw-put) 503 DEPENDENCY_UNAVAILABLE|ryw-get 503 CATALOG_BEHIND'
python3 - "$work/db.json" <<'PY'
import json, sys
result = json.load(open(sys.argv[1]))
refused = sum(v for k, v in result["failures"].items() if "DEPENDENCY_UNAVAILABLE" in k)
if refused == 0:
    sys.exit("FAIL: no write met the outage")
if result["slowest_refused_write_ms"] > 3000:
    sys.exit(f"FAIL: a refused write hung for {result['slowest_refused_write_ms']:.0f} ms")
print(f"  {refused} writes refused with DEPENDENCY_UNAVAILABLE during the outage")
PY
every_write_on "$(url_of replica-1)" "$work/db.json"
every_write_on "$(url_of replica-2)" "$work/db.json"
# After recovery both replicas converge: the same version and the same totals.
for _ in $(seq 100); do
  v1=$(curl -s "$(url_of replica-1)/health" | python3 -c 'import json,sys; print(json.load(sys.stdin)["catalog_version"])')
  v2=$(curl -s "$(url_of replica-2)/health" | python3 -c 'import json,sys; print(json.load(sys.stdin)["catalog_version"])')
  [[ $v1 == "$v2" ]] && break
  sleep 0.1
done
[[ $v1 == "$v2" ]] || { echo "FAIL: replicas at versions $v1 and $v2 after recovery"; exit 1; }
for q in lamp wireless%20headphones tent; do
  t1=$(curl -s -H "min-catalog-version: $v1" "$(url_of replica-1)/products/search?q=$q&facets=category" | python3 -c 'import json,sys; b=json.load(sys.stdin); print(b["total_found"], json.dumps(b["facets"], sort_keys=True))')
  t2=$(curl -s -H "min-catalog-version: $v1" "$(url_of replica-2)/products/search?q=$q&facets=category" | python3 -c 'import json,sys; b=json.load(sys.stdin); print(b["total_found"], json.dumps(b["facets"], sort_keys=True))')
  [[ $t1 == "$t2" ]] || { echo "FAIL: replicas disagree on $q: $t1 / $t2"; exit 1; }
done
echo "  both replicas at version $v1 with the same totals and facets"
echo "-- 4. replica-2 paused while the feed is pruned past it"
metric_of() { # ROLE SERIES: the value of a series on a replica's metrics port
  local url
  url=$(url_of "$1")
  curl -s "http://127.0.0.1:$((${url##*:} + 1))/metrics" | awk -v s="$2" '$1 == s {print $2}'
}
paused_at=$(curl -s "$(url_of replica-2)/health" | python3 -c 'import json,sys; print(json.load(sys.stdin)["catalog_version"])')
kill -STOP "$(pid_of replica-2)"
for i in $(seq 60); do
  last=$(curl -s -D - -o /dev/null -X PUT "$(url_of replica-1)/products/7" -d "{\"product_id\":7,\"name\":\"Paused lamp $i\"}" |
    awk -F': *' 'tolower($1) == "catalog-version" {print $2}' | tr -d '\r')
done
for _ in $(seq 150); do
  horizon=$(metric_of replica-1 catalog_feed_horizon_version)
  [[ -n $horizon ]] && python3 -c "import sys; sys.exit(0 if float('$horizon') > $paused_at else 1)" && break
  sleep 0.1
done
python3 -c "import sys; sys.exit(0 if float('${horizon:-0}') > $paused_at else 1)" ||
  { echo "FAIL: the feed was not pruned past replica-2's version $paused_at (horizon ${horizon:-none})"; exit 1; }
kill -CONT "$(pid_of replica-2)"
# It answers CATALOG_BEHIND (503) while the snapshot's index is built, then the product.
for _ in $(seq 30); do
  name=$(curl -s -H "min-catalog-version: $last" "$(url_of replica-2)/products/7" |
    python3 -c 'import json,sys; print(json.load(sys.stdin).get("name"))')
  [[ $name == "Paused lamp 60" ]] && break
  sleep 0.5
done
[[ $name == "Paused lamp 60" ]] || { echo "FAIL: replica-2 answered $name at version $last"; exit 1; }
reloads=$(metric_of replica-2 catalog_snapshot_reloads_total)
[[ $reloads == 1 ]] || { echo "FAIL: replica-2 loaded ${reloads:-no} snapshots, expected 1"; exit 1; }
echo "  paused at version $paused_at, pruned through $horizon; resumed, it loaded a snapshot and read version $last"

echo "-- 5. the product API Locust plan and read-your-writes users through the load balancer"
"$root/benches/locust/run.sh" "$root/benches/locust/products_api.py" "$lb" 8 "$work/locust" 20 10 \
  ProductApiFastUser ReadYourWritesUser >"$work/locust.txt" 2>&1 ||
  { cat "$work/locust.txt"; echo "FAIL: Locust through the load balancer had failures"; exit 1; }
sed -n '/^name/,/Aggregated/p' "$work/locust.txt" | sed 's/^/  /'
grep -q "(read back)" "$work/locust.txt" || { echo "FAIL: no read-your-writes request ran"; exit 1; }
echo "PASS: cluster fault tests"
