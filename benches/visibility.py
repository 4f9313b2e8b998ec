"""Visibility delay of writes across replicas, under a steady write load.

Each write is a POST /products/{id}/details on replica A; as soon as A acknowledges it with
its catalog-version V, replica B is asked GET /health with `min-catalog-version: V`, which B
answers once it has applied V. That answer's time is the delay (an upper bound: it includes
one loopback round trip). Several threads share a steady schedule, since each write is
answered only once applied on A. Prints write latency on A and visibility delay at B,
p50/p99/max.

Usage: python3 benches/visibility.py URL_A URL_B [WRITES=1000] [WRITES_PER_SECOND=50] [THREADS=8]
"""
import http.client
import json
import sys
import threading
import time
from urllib.parse import urlparse


def connection(url):
    parsed = urlparse(url)
    return http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=10)


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main():
    url_a, url_b = sys.argv[1], sys.argv[2]
    writes = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
    rate = float(sys.argv[4]) if len(sys.argv) > 4 else 50.0
    threads = int(sys.argv[5]) if len(sys.argv) > 5 else 8
    write_ms, visible_ms, failures = [], [], []
    lock = threading.Lock()
    started = time.perf_counter()

    def worker(t):
        a, b = connection(url_a), connection(url_b)
        for i in range(t, writes, threads):
            time.sleep(max(0.0, started + i / rate - time.perf_counter()))
            product_id = 1 + i % 1000
            body = json.dumps({"product_id": product_id, "sku": f"VIS-{i:07d}", "manufacturer": "Acme",
                               "category_id": 1, "weight": i, "some_other_id": 1})
            t0 = time.perf_counter()
            a.request("POST", f"/products/{product_id}/details", body, {"Content-Type": "application/json"})
            response = a.getresponse()
            response.read()
            t1 = time.perf_counter()
            if response.status != 204:
                with lock:
                    failures.append(f"write {response.status}")
                continue
            b.request("GET", "/health", headers={"min-catalog-version": response.getheader("catalog-version")})
            seen = b.getresponse()
            seen.read()
            t2 = time.perf_counter()
            with lock:
                if seen.status != 200:
                    failures.append(f"read {seen.status}")
                else:
                    write_ms.append((t1 - t0) * 1000)
                    visible_ms.append((t2 - t1) * 1000)

    workers = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - started
    print(f"{writes} writes at {rate:g}/s target ({len(write_ms) / elapsed:.1f}/s achieved), {len(failures)} failed")
    for name, values in (("write on A", write_ms), ("visible at B", visible_ms)):
        if values:
            print(f"{name:13} p50 {percentile(values, 50):6.2f} ms  p99 {percentile(values, 99):6.2f} ms  "
                  f"max {max(values):6.2f} ms")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
