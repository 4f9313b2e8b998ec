"""A steady, bounded load through the cluster's load balancer for the fault tests: searches
and GETs, details POSTs, and a read-your-writes client (PUT, then GET with
`min-catalog-version`, failing on a stale answer). Every write carries a unique SKU; every write
answered 2xx is recorded with its version, so the test can check that none was lost.

Usage: python3 cluster_load.py LB_URL SECONDS OUT.json
Writes OUT.json: counts and failures by kind, the slowest refused write, and the
acknowledged writes.
"""
import http.client
import json
import sys
import threading
import time
from collections import Counter
from urllib.parse import urlparse

QUERIES = ["lamp", "wireless headphones", "organic coffee", "alpha", "tent", "blanket", "shoes"]


class Client:
    def __init__(self, url):
        parsed = urlparse(url)
        self.host, self.port = parsed.hostname, parsed.port
        self.connection = None

    def request(self, method, path, body=None, headers=None):
        """(status, headers, body) or (None, None, error text) when no answer came."""
        headers = dict(headers or {})
        if body is not None:
            headers["Content-Type"] = "application/json"
        if self.connection is None:
            self.connection = http.client.HTTPConnection(self.host, self.port, timeout=10)
        try:
            self.connection.request(method, path, body, headers)
            response = self.connection.getresponse()
            return response.status, response, response.read()
        except (http.client.HTTPException, OSError) as error:
            # Counted as a failure; the next request opens a new connection.
            self.connection.close()
            self.connection = None
            return None, None, str(error).encode()


def main():
    url, seconds, out = sys.argv[1], float(sys.argv[2]), sys.argv[3]
    stop_at = time.monotonic() + seconds
    lock = threading.Lock()
    counts, failures = Counter(), Counter()
    acknowledged, refused_ms = [], []

    def count(kind, status, body):
        with lock:
            counts[kind] += 1
            if status is None or status >= 400:
                code = ""
                try:
                    code = json.loads(body).get("error", "")
                except (ValueError, AttributeError):
                    pass
                failures[f"{kind} {status or 'no answer'} {code}".strip()] += 1

    def reader(t):
        client, i = Client(url), 0
        while time.monotonic() < stop_at:
            i += 1
            if i % 2:
                path = f"/products/search?q={QUERIES[i % len(QUERIES)].replace(' ', '%20')}&limit=5"
                kind = "search"
            else:
                path, kind = f"/products/{1 + (i * 7 + t) % 500}", "get"
            status, _, body = client.request("GET", path)
            count(kind, status, body)
            time.sleep(0.005)

    def writer(t):
        client, i = Client(url), 0
        while time.monotonic() < stop_at:
            i += 1
            product_id = 1000 + t * 500 + i % 500
            sku = f"FAULT-{t}-{i:06d}"
            body = json.dumps({"product_id": product_id, "sku": sku, "manufacturer": "Acme",
                               "category_id": 1, "weight": i, "some_other_id": 1})
            started = time.monotonic()
            status, response, answer = client.request("POST", f"/products/{product_id}/details", body)
            took = (time.monotonic() - started) * 1000
            count("post", status, answer)
            if status == 204:
                with lock:
                    acknowledged.append({"id": product_id, "sku": sku,
                                         "version": int(response.getheader("catalog-version"))})
            elif status == 503:
                with lock:
                    refused_ms.append(took)
            time.sleep(0.02)

    def read_your_writes():
        client, i = Client(url), 0
        while time.monotonic() < stop_at:
            i += 1
            name = f"Read Back {i}"
            status, response, answer = client.request("PUT", "/products/4000",
                                                      json.dumps({"product_id": 4000, "name": name}))
            count("ryw-put", status, answer)
            if status == 200:
                version = response.getheader("catalog-version")
                # A replica that has not applied the write yet says so (503 CATALOG_BEHIND,
                # Retry-After): a client waits that long and asks again, as documented.
                for attempt in range(3):
                    status, response, answer = client.request("GET", "/products/4000",
                                                              headers={"min-catalog-version": version})
                    if status != 503 or b"CATALOG_BEHIND" not in (answer or b"") or attempt == 2:
                        break
                    time.sleep(float(response.getheader("retry-after") or 1))
                count("ryw-get", status, answer)
                if status == 200 and json.loads(answer).get("name") != name:
                    with lock:
                        failures["ryw-get stale"] += 1
            time.sleep(0.02)

    threads = [threading.Thread(target=reader, args=(t,)) for t in range(4)]
    threads += [threading.Thread(target=writer, args=(t,)) for t in range(2)]
    threads.append(threading.Thread(target=read_your_writes))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result = {"counts": dict(counts), "failures": dict(failures), "acknowledged": acknowledged,
              "slowest_refused_write_ms": max(refused_ms, default=0.0)}
    with open(out, "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
