"""A steady background write load: POST /products/{id}/details at a fixed total rate, from
several threads (a write answers once applied, so one connection alone could not keep the
rate), until stopped (SIGTERM) or for a given time. Prints how many writes were sent and
how many failed.

Usage: python3 benches/write_load.py URL WRITES_PER_SECOND SECONDS [THREADS=8]
"""
import http.client
import json
import signal
import sys
import threading
import time
from urllib.parse import urlparse


def main():
    parsed = urlparse(sys.argv[1])
    rate, seconds = float(sys.argv[2]), float(sys.argv[3])
    threads = int(sys.argv[4]) if len(sys.argv) > 4 else 8
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    counts = [[0, 0] for _ in range(threads)]
    started = time.perf_counter()

    def writer(t):
        connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=10)
        n = 0
        while not stopping.is_set() and time.perf_counter() - started < seconds:
            # Thread t owns every threads-th slot of the steady schedule.
            slot = started + (n * threads + t) / rate
            time.sleep(max(0.0, slot - time.perf_counter()))
            i = n * threads + t
            product_id = 1 + i % 5000
            body = json.dumps({"product_id": product_id, "sku": f"BG-{i:08d}", "manufacturer": "Acme",
                               "category_id": 1, "weight": i, "some_other_id": 1})
            connection.request("POST", f"/products/{product_id}/details", body,
                               {"Content-Type": "application/json"})
            response = connection.getresponse()
            response.read()
            counts[t][0] += 1
            counts[t][1] += response.status != 204
            n += 1

    workers = [threading.Thread(target=writer, args=(t,), daemon=True) for t in range(threads)]
    for w in workers:
        w.start()
    while any(w.is_alive() for w in workers) and not stopping.is_set():
        time.sleep(0.05)
    stopping.set()
    for w in workers:
        w.join(timeout=15)
    sent, failed = sum(c[0] for c in counts), sum(c[1] for c in counts)
    elapsed = time.perf_counter() - started
    print(f"background writes: {sent} sent ({sent / elapsed:.1f}/s), {failed} failed")


if __name__ == "__main__":
    main()
