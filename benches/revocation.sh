#!/usr/bin/env bash
# How long a key's revocation takes to reach another replica: two release builds on one
# throwaway PostgreSQL database; ROUNDS times, a search key is made on replica A and used on
# B until B accepts it, then revoked on A, and B is asked every millisecond until it refuses
# it. Prints each round's time from A's answer to B's first refusal, then the median and the
# largest. Usage: benches/revocation.sh [ROUNDS]   (default 20)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-20}
cargo build --release --quiet -p product-search
source benches/lib.sh
port=${PORT:-18251}
bench_pg $((port + 10))
master=revocation-bench-master
for replica in 0 1; do
  bench_service $((port + replica)) --count 20000 --database-url "$(pg_url $((port + 10)))" --master-key "$master"
done
echo "machine: $(nproc) cores; date: $(date -u +%Y-%m-%d); $rounds rounds"
python3 - "$port" "$master" "$rounds" <<'PY'
import http.client, json, statistics, sys, time
port, master, rounds = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
a = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
b = http.client.HTTPConnection("127.0.0.1", port + 1, timeout=10)

def call(conn, method, path, key, body=None):
    conn.request(method, path, body=body, headers={"Authorization": f"Bearer {key}"})
    response = conn.getresponse()
    return response.status, response.read()

times = []
for round in range(rounds):
    status, body = call(a, "POST", "/keys", master, json.dumps({"actions": ["search"]}))
    assert status == 201, (status, body)
    made = json.loads(body)
    while call(b, "GET", "/products/1", made["key"])[0] != 200:
        time.sleep(0.001)
    status, _ = call(a, "DELETE", f"/keys/{made['id']}", master)
    assert status == 204, status
    revoked = time.perf_counter()
    while call(b, "GET", "/products/1", made["key"])[0] == 200:
        time.sleep(0.001)
    times.append((time.perf_counter() - revoked) * 1000)
    print(f"round {round + 1}: refused by the other replica {times[-1]:.1f} ms after the revocation's answer")
print(f"median {statistics.median(times):.1f} ms, largest {max(times):.1f} ms over {rounds} rounds")
PY
