#!/usr/bin/env bash
# The change feed's size after WRITES single-product writes (PUT, 8 clients at once) on a
# release build backed by a throwaway PostgreSQL server, with every version kept and with
# --feed-retention-versions RETENTION: the changes table's rows, versions and bytes on disk
# (pg_total_relation_size, indexes included).
# Usage: benches/feed_size.sh [WRITES] [RETENTION]   (defaults: 100000, 10000)
set -euo pipefail
cd "$(dirname "$0")/.."
writes=${1:-100000} retention=${2:-10000}
cargo build --release --quiet -p product-search
source benches/lib.sh
port=${PORT:-18241}
pg_port=$((port + 1))
bench_pg "$pg_port"
echo "machine: $(nproc) cores; date: $(date -u +%Y-%m-%d); $writes writes per run"
echo "| retention | versions kept | rows | bytes on disk | writes/s |"
echo "| --- | ---: | ---: | ---: | ---: |"
for keep in 0 "$retention"; do
  db="feed_$keep"
  "$(pg_bin)/psql" -q -h 127.0.0.1 -p "$pg_port" -U postgres -c "CREATE DATABASE $db" postgres
  bench_service "$port" --count 20000 --database-url "$(pg_url "$pg_port" "$db")" --feed-retention-versions "$keep"
  rate=$(python3 - "$port" "$writes" <<'PY'
import http.client, json, sys, threading, time
port, total = int(sys.argv[1]), int(sys.argv[2])
per = total // 8
def client(k):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for i in range(per):
        product = 1 + (k * per + i) % 20000
        body = json.dumps({"product_id": product, "name": f"Feed lamp {k} {i}", "price": 9.5, "in_stock": True})
        conn.request("PUT", f"/products/{product}", body=body, headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        response.read()
        assert response.status == 200, response.status
started = time.monotonic()
threads = [threading.Thread(target=client, args=(k,)) for k in range(8)]
for t in threads: t.start()
for t in threads: t.join()
print(f"{per * 8 / (time.monotonic() - started):.0f}")
PY
)
  # Let the replica's upkeep (every 5 s) prune what is due.
  sleep 12
  read -r versions rows bytes < <("$(pg_bin)/psql" -At -F ' ' -h 127.0.0.1 -p "$pg_port" -U postgres -d "$db" -c \
    "SELECT count(DISTINCT version), count(*), pg_total_relation_size('changes') FROM changes")
  bench_stop_services
  label=$([[ $keep == 0 ]] && echo "all versions" || echo "$keep versions")
  awk -v l="$label" -v v="$versions" -v r="$rows" -v b="$bytes" -v w="$rate" \
    'BEGIN { printf "| %s | %d | %d | %.1f MB | %d |\n", l, v, r, b / 1e6, w }'
done
