"""Hostile requests on every route of a running service, none of which may change anything.

Usage: hostile.py BASE_URL METRICS_URL

Sends bad ids, query strings, bodies (invalid JSON, NUL, invalid UTF-8, deep nesting, wrong
types), headers (unreachable or malformed versions, huge request ids, bogus keys, oversized
heads), made-up methods, bodies announced over the limit, bodies that never come, trickled
heads, and concurrent gzip exports, while a separate process asks /health every 20 ms.

Fails (exit 1) on: a 5xx other than 503 OVERLOADED, DEPENDENCY_UNAVAILABLE or
CATALOG_BEHIND; a failure without the JSON error body; an answer without catalog-version; a
change to the data (the export, the settings and the applied version before and after); /metrics grown
past its bound; /health stalled (over a second) or not answering, at any time. The
slowest /health is printed: how fast it answers is measured by the benchmarks, not here.
"""

import gzip
import http.client
import json
import multiprocessing
import socket
import sys
import threading
import time
from urllib.parse import quote, urlparse

ALLOWED_503 = {"OVERLOADED", "DEPENDENCY_UNAVAILABLE", "CATALOG_BEHIND"}
# /metrics may grow with the series real traffic creates, never with what a client makes up.
METRICS_BOUND = 512 * 1024
# A stall, not a speed goal: a worker blocked by a hostile request (an export compressed on
# the async runtime, a body read without a timeout) holds /health for seconds.
HEALTH_STALL_S = 1.0

base = urlparse(sys.argv[1])
metrics = urlparse(sys.argv[2])
HOST, PORT = base.hostname, base.port
problems = []
answered = {}


def connection(timeout=15):
    return http.client.HTTPConnection(HOST, PORT, timeout=timeout)


def check(label, status, headers, body):
    """Holds one answer to the contract."""
    answered[status] = answered.get(status, 0) + 1
    if headers.get("content-encoding") == "gzip":
        body = gzip.decompress(body)
    if status >= 400:
        try:
            error = json.loads(body)
            assert isinstance(error.get("error"), str) and isinstance(error.get("message"), str)
        except Exception:
            problems.append(f"{label}: {status} without the JSON error body: {body[:200]!r}")
            return
        if status >= 500 and not (status == 503 and error["error"] in ALLOWED_503):
            problems.append(f"{label}: {status} {error['error']}: {error['message'][:200]}")
        if not headers.get("content-type", "").startswith("application/json"):
            problems.append(f"{label}: {status} with content-type {headers.get('content-type')!r}")
    # A timeout answers from outside the version stamp (as the API document says).
    if "catalog-version" not in headers and status not in (408, 504):
        problems.append(f"{label}: {status} without catalog-version")


def request(method, path, body=None, headers=None, label=None):
    conn = connection()
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        data = response.read()
        check(label or f"{method} {path[:80]}", response.status, {k.lower(): v for k, v in response.getheaders()}, data)
        return response.status, data
    except (ConnectionError, socket.timeout, http.client.HTTPException) as error:
        problems.append(f"{label or method + ' ' + path[:80]}: no answer ({error})")
        return None, b""
    finally:
        conn.close()


def raw(data, label, read_timeout=15):
    """Sends bytes as they are; checks the answer if one comes before the server closes."""
    with socket.create_connection((HOST, PORT), timeout=read_timeout) as s:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused before it was all sent: the answer may still be there to read
        received = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                received += chunk
                head, _, body = received.partition(b"\r\n\r\n")
                length = [int(l.split(b":")[1]) for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")]
                if length and len(body) >= length[0]:
                    break
        except (socket.timeout, ConnectionResetError):
            pass
    if not received:
        return None
    head, _, body = received.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {l.split(":", 1)[0].lower(): l.split(":", 1)[1].strip() for l in lines[1:] if ":" in l}
    check(label, status, headers, body)
    return status


def export():
    conn = connection(60)
    conn.request("GET", "/products/export")
    response = conn.getresponse()
    data = response.read()
    assert response.status == 200, response.status
    return data


def settings():
    conn = connection()
    conn.request("GET", "/settings")
    return conn.getresponse().read()


def applied_version():
    conn = connection()
    conn.request("GET", "/health")
    return json.loads(conn.getresponse().read())["catalog_version"]


def metrics_size():
    conn = http.client.HTTPConnection(metrics.hostname, metrics.port, timeout=15)
    conn.request("GET", "/metrics")
    return len(conn.getresponse().read())


def probe_health(stop, results):
    """In its own process, so the load's threads never delay it: /health every 20 ms."""
    slowest, failures, count = 0.0, 0, 0
    conn = None
    while not stop.is_set():
        started = time.perf_counter()
        try:
            conn = conn or http.client.HTTPConnection(HOST, PORT, timeout=5)
            conn.request("GET", "/health")
            response = conn.getresponse()
            response.read()
            ok = response.status == 200
        except Exception:
            ok, conn = False, None
        took = time.perf_counter() - started
        slowest, count = max(slowest, took), count + 1
        failures += not ok
        time.sleep(0.02)
    results.put((count, slowest, failures))


# --- the hostile requests -------------------------------------------------------------

BAD_IDS = ["abc", "0", "-1", "1.5", "99999999999999999999999", "9223372036854775808", "%00", "1%2F2",
           "%ff%fe", quote("ＡＢＣ"), "1;DROP%20TABLE%20products", "x" * 5000, "1e3", "%20", "0x10"]
BAD_QUERIES = [
    "q=" + "a" * 300, "q=", "q=%00", "q=%ff%fe%fd", "q=%zz", "q=lamp&limit=-1", "q=lamp&limit=1000000000000",
    "q=lamp&offset=99999999999999999999", "q=lamp&offset=990&limit=20", "q=lamp&sort=DROP", "q=lamp&facets=secret",
    "q=lamp&min_price=NaN", "q=lamp&min_price=-1", "q=lamp&max_price=inf", "q=lamp&min_price=5&max_price=1",
    "q=lamp&min_rating=9", "q=lamp&in_stock=maybe", "q=lamp&highlight=2", "q=lamp&typo_tolerance=x",
    "q=lamp&matching=some", "&".join(["category=x"] * 50) + "&q=lamp", "category=" + "c" * 500,
    "q=" + quote("' OR 1=1 --"), "q=%27%3B%20DELETE%20FROM%20products%3B--", "q=" + quote("\u202e\u0000\ufeff"),
    # Filter expressions: unbalanced, too deep, too long, too many conditions or values, unknown
    # or unfilterable fields, NUL, wrong kinds; and heavy ones that are allowed (NOT over
    # everything, the longest IN list, every attribute facet) next to the health probe.
    "filter=", "filter=" + quote("(" * 17 + "brand = a" + ")" * 17), "filter=" + quote("NOT " * 40 + "brand = a"),
    "filter=" + quote("brand = '" + "x" * 2100 + "'"), "filter=" + quote(" OR ".join(["price > 1"] * 65)),
    "filter=" + quote("brand IN [" + ",".join(["a"] * 101) + "]"), "filter=" + quote("attributes.secret EXISTS"),
    "filter=" + quote("colour = red"), "filter=" + quote("brand = 'a\u0000'"), "filter=" + quote("price < 'x'"),
    "filter=" + quote("in_stock = 2"), "filter=" + quote("attributes.color = \"unterminated"),
    "filter=" + quote("price > 1e999"), "filter=" + quote("attributes.Color = red"),
    "q=lamp&facets=" + ",".join(f"attributes.a{i}" for i in range(21)), "q=lamp&facets=attributes.",
    "filter=" + quote("NOT (attributes.color = red AND NOT attributes.size EXISTS)") + "&facets=attributes.color,"
    "attributes.size,attributes.material,attributes.screen_in,attributes.storage_gb,attributes.wireless,"
    "attributes.language,attributes.formats,attributes.pages,attributes.capacity_l,brand,category,price",
    "filter=" + quote("price IN [" + ",".join(str(i) for i in range(100)) + "] OR " + " OR ".join(
        f"(attributes.pages {i} TO {i + 50} AND NOT rating < 2)" for i in range(0, 900, 30))),
]
BAD_JSON = [
    b"{", b"[]", b"null", b"\"text\"", b"{\"product_id\": 1, \"name\": \"a\\u0000b\"}",
    b"{\"product_id\": 1, \"sku\": \"\xff\xfe\"}", b"[" * 10000 + b"]" * 10000,
    b"{\"product_id\": 1e400}", b"{\"product_id\": 1, \"price\": \"free\"}", b"{\"product_id\": -5}",
    b"{\"product_id\": 1, \"product_id\": 2}", b"\x00\x01\x02", b"{\"product_id\": 1, \"rating\": 99}",
    b"{\"product_id\": 1, \"sku\": \"' OR 1=1 --\", \"manufacturer\": \"\\u0000\", \"category_id\": 1, "
    b"\"weight\": 1, \"some_other_id\": 1}",
    # Attributes: bad names, kinds, mixes, nesting, sizes and NUL.
    b"{\"product_id\": 1, \"attributes\": [1, 2]}", b"{\"product_id\": 1, \"attributes\": {\"A B\": 1}}",
    b"{\"product_id\": 1, \"attributes\": {\"x\": [[1]]}}", b"{\"product_id\": 1, \"attributes\": {\"x\": [\"a\", 1]}}",
    b"{\"product_id\": 1, \"attributes\": {\"x\": {\"y\": {\"z\": 1}}}}",
    b"{\"product_id\": 1, \"attributes\": {\"x\": \"\\u0000\"}}",
    b"{\"product_id\": 1, \"attributes\": {\"x\": \"" + b"v" * 257 + b"\"}}",
    b"{\"product_id\": 1, \"attributes\": {\"x\": [" + b",".join([b"1"] * 33) + b"]}}",
    b"{\"product_id\": 1, \"attributes\": {" + b",".join(b"\"a%d\": 1" % i for i in range(65)) + b"}}",
    b"{\"product_id\": 1, \"attributes\": {\"x\": " + b"[" * 5000 + b"]" * 5000 + b"}}",
]

# Settings that are not: groups of one, phrases of five words, stop phrases, bounds, kinds.
BAD_SETTINGS = [
    b"{\"synonyms\": [[\"tv\"]]}", b"{\"synonyms\": [[\"a b c d e\", \"f\"]]}",
    b"{\"synonyms\": [[\"--\", \"tv\"]]}", b"{\"synonyms\": \"tv, television\"}",
    b"{\"synonyms\": [[\"tv\", \"\\u0000\"]]}",
    b"{\"synonyms\": [" + b",".join(b"[\"a%d\", \"b\"]" % i for i in range(1001)) + b"]}",
    b"{\"stop_words\": [\"new york\"]}", b"{\"stop_words\": [1]}",
    b"{\"partial_match_below\": 0}", b"{\"partial_match_below\": 1e300}", b"{\"partial_match_below\": \"2\"}",
    b"{\"rank\": [\"rating:desc\"]}", b"{\"__proto__\": {}}",
    b"{\"ranking\": [\"brand:asc\"]}", b"{\"ranking\": [\"rating\"]}", b"{\"ranking\": [\"rating:desc\", \"rating:asc\"]}",
    b"{\"ranking\": [\"attributes.a:asc\", \"attributes.b:asc\", \"attributes.c:asc\", \"price:asc\", \"rating:asc\"]}",
    b"{\"ranking\": [\"attributes.x:" + b"d" * 100_000 + b"\"]}",
    b"{\"filterable_attributes\": [\"color\"]}", b"{\"filterable_attributes\": [\"attributes.A\"]}",
    b"{\"filterable_attributes\": \"attributes.color\"}", b"{\"filterable_attributes\": [null]}",
    b"{\"filterable_attributes\": [" + b",".join(b"\"attributes.a%d\"" % i for i in range(101)) + b"]}",
    b"{\"searchable_attributes\": []}", b"{\"searchable_attributes\": [{\"name\": \"name\", \"weight\": 1e309}]}",
    b"{\"searchable_attributes\": [{\"name\": \"attributes.Color\", \"weight\": 1}]}",
    b"{\"searchable_attributes\": [" + b",".join(b"{\"name\": \"attributes.a%d\", \"weight\": 1}" % i for i in range(17)) + b"]}",
    b"{\"searchable_attributes\": [{\"name\": \"name\", \"weight\": -1}, {\"name\": \"name\"}]}",
    b"{\"searchable_attributes\": [{\"name\": \"name\", \"weight\": 1, \"__proto__\": 1}]}",
    # Merchandising rules: absent products, nothing to do, no condition, bad positions,
    # expressions and times, too many.
    b"{\"rules\": [{\"id\": \"a\", \"query\": \"lamp\", \"hide\": [99999999]}]}",
    b"{\"rules\": [{\"id\": \"a\", \"query\": \"lamp\", \"pin\": [{\"product_id\": 99999999, \"position\": 1}]}]}",
    b"{\"rules\": [{\"id\": \"a\", \"query\": \"lamp\"}]}", b"{\"rules\": [{\"id\": \"a\", \"hide\": [1]}]}",
    b"{\"rules\": [{\"id\": \"a\", \"query\": \"lamp\", \"pin\": [{\"product_id\": 1, \"position\": 1001}]}]}",
    b"{\"rules\": [{\"id\": \"a\", \"query\": \"lamp\", \"boost\": \"(((\"}]}",
    b"{\"rules\": [{\"id\": \"a\", \"query\": \"lamp\", \"hide\": [1], \"from\": \"tomorrow\"}]}",
    b"{\"rules\": [{\"id\": \"a b\", \"query\": \"lamp\", \"hide\": [1]}]}",
    b"{\"rules\": [" + b",".join(b"{\"id\": \"r%d\", \"query\": \"lamp\", \"hide\": [1]}" % i for i in range(101)) + b"]}",
]
# Events that are not: bad types, made-up query ids, absent products, positions out of range.
BAD_EVENTS = [
    b"{\"type\": \"view\", \"query_id\": \"1.bGFtcA\", \"product_id\": 1, \"position\": 1}",
    b"{\"type\": \"click\", \"query_id\": \"" + b"z" * 5000 + b"\", \"product_id\": 1, \"position\": 1}",
    b"{\"type\": \"click\", \"query_id\": \"ffffffffffff.bGFtcA\", \"product_id\": 1, \"position\": 1}",
    b"{\"type\": \"click\", \"query_id\": \"1.\\u0000\", \"product_id\": 1, \"position\": 1}",
    b"{\"type\": \"conversion\", \"query_id\": \"1.bGFtcA\", \"product_id\": 99999999}",
    b"{\"type\": \"click\", \"query_id\": \"1.bGFtcA\", \"product_id\": 1, \"position\": -1}",
]
BAD_ANALYTICS = ["kind=worst", "limit=0", "limit=99999999999999999999", "from=2026-13-40T00:00:00Z",
                 "from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z", "to=" + "9" * 5000, "from=%00"]
BAD_SUGGESTIONS = ["", "q=" + "a" * 300, "q=a&limit=0", "q=a&limit=21", "q=%ff%fe", "q=" + quote("\u0000"),
                   "q=" + quote("jane.doe@example.com"), "q=" + "w" * 256]


def hostile():
    routes = ["/health", "/openapi.json", "/", "/assets/search.js", "/products/search?q=lamp",
              "/products/export", "/products/bulk", "/products/1", "/products/1/details", "/keys", "/keys/x", "/settings",
              "/events", "/suggestions?q=a", "/analytics/queries", "/analytics/products"]
    for route in routes:
        for method in ["M0001XYZ", "TRACE", "PATCH", "CONNECT", "FOO-BAR", "PROPFIND"]:
            if method == "CONNECT":
                continue  # a proxy method: http.client would send an authority form
            request(method, route)
        request("OPTIONS", route, headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "DELETE"})
    for bad in BAD_IDS:
        request("GET", f"/products/{bad}")
        request("PUT", f"/products/{bad}", body=b"{\"product_id\": 1}")
        request("DELETE", f"/products/{bad}x")
        request("POST", f"/products/{bad}/details", body=b"{}")
        request("DELETE", f"/keys/{bad}")
    for query in BAD_QUERIES:
        request("GET", "/products/search?" + query)
    for body in BAD_JSON:
        request("PUT", "/products/1", body=body, headers={"Content-Type": "application/json"})
        request("POST", "/products/1/details", body=body)
        request("POST", "/products/bulk", body=body + b"\n" + body)
        request("POST", "/keys", body=body)
        request("PUT", "/settings", body=body, headers={"Content-Type": "application/json"})
        request("PATCH", "/settings", body=body, headers={"Content-Type": "application/json"})
    for body in BAD_JSON + BAD_EVENTS:
        request("POST", "/events", body=body, headers={"Content-Type": "application/json"})
    for query in BAD_ANALYTICS:
        request("GET", "/analytics/queries?" + query)
        request("GET", "/analytics/products?" + query)
    for query in BAD_SUGGESTIONS:
        request("GET", "/suggestions?" + query)
    for body in BAD_SETTINGS:
        request("PUT", "/settings", body=body, headers={"Content-Type": "application/json"})
        request("PATCH", "/settings", body=body, headers={"Content-Type": "application/json"})
    # A write from another site, whatever its content type.
    request("POST", "/products/1/details", body=b"{\"product_id\":1,\"sku\":\"EVIL\",\"manufacturer\":\"e\","
            b"\"category_id\":1,\"weight\":1,\"some_other_id\":1}",
            headers={"Origin": "https://evil.example", "Content-Type": "text/plain"})
    request("DELETE", "/products/2", headers={"Sec-Fetch-Site": "cross-site"})
    # Headers.
    for version in ["-1", "soon", "18446744073709551615", "9223372036854775808", "1e9", " "]:
        request("GET", "/products/1", headers={"min-catalog-version": version})
    request("GET", "/health", headers={"x-request-id": "r" * 60_000})
    request("GET", "/products/1", headers={"Authorization": "Bearer " + "k" * 10_000})
    request("POST", "/keys", body=b"{\"actions\":[\"admin\"]}", headers={"Authorization": "Bearer guess"})
    request("GET", "/products/1", headers={"Authorization": "Basic YWRtaW46YWRtaW4="})
    request("GET", "/products/1", headers={f"X-Many-{i}": "v" for i in range(150)})
    # What only raw bytes can send.
    raw(b"GET /health HTTP/1.1\r\nHost: t\r\nX-Big: " + b"a" * 80_000 + b"\r\n\r\n", "a head over the limit")
    raw(b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: t\r\n\r\n", "a target over the limit")
    raw(b"GARBAGE\r\n\r\n", "not HTTP")
    raw(b"GET /products/\xff\xfe HTTP/1.1\r\nHost: t\r\n\r\n", "invalid UTF-8 in the path")
    raw(b"GET /health HTTP/1.1\r\nHost: t\r\nBad Header\r\n\r\n", "a malformed header")
    raw(b"POST /products/bulk HTTP/1.1\r\nHost: t\r\nContent-Length: 999999999\r\n\r\n", "a bulk announced at 1 GB")
    raw(b"POST /products/1/details HTTP/1.1\r\nHost: t\r\nContent-Length: 70000\r\n\r\n", "details announced at 70 KB")
    raw(b"POST /products/1/details HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "a bad chunk")
    raw(b"POST /products/1/details HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\n{}",
        "two lengths")
    raw(b"POST /products/bulk HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
        + b"".join(b"%x\r\n%s\r\n" % (65536, b"\n" * 65536) for _ in range(300)) + b"0\r\n\r\n",
        "a chunked bulk over the limit")


def slow_requests():
    """Bodies that never come, and heads that trickle in: answered 408, or closed."""
    def body_never_comes():
        status = raw(b"POST /products/1/details HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n{", "a body that never comes")
        if status not in (408, None):
            problems.append(f"a body that never comes: answered {status}, expected 408")

    def trickled_head():
        with socket.create_connection((HOST, PORT), timeout=20) as s:
            started = time.monotonic()
            try:
                for piece in [b"GET /health HTTP/1.1\r\n", b"Host: t\r\n", b"X-Slow: 1\r\n"] * 10:
                    s.sendall(piece)
                    time.sleep(1)
                closed = s.recv(1) == b""
            except (ConnectionResetError, BrokenPipeError):
                closed = True
            if not closed or time.monotonic() - started > 12:
                problems.append("a trickled head was held open")

    threads = [threading.Thread(target=body_never_comes) for _ in range(5)]
    threads += [threading.Thread(target=trickled_head) for _ in range(10)]
    for thread in threads:
        thread.start()
    return threads


def gzip_exports():
    """Ten concurrent compressed exports: at most four run, the others are told to retry."""
    statuses = []

    def one():
        conn = connection(120)
        conn.request("GET", "/products/export", headers={"Accept-Encoding": "gzip"})
        response = conn.getresponse()
        data = response.read()
        check("a gzip export", response.status, {k.lower(): v for k, v in response.getheaders()}, data)
        statuses.append(response.status)

    threads = [threading.Thread(target=one) for _ in range(10)]
    for thread in threads:
        thread.start()
    return threads, statuses


def main():
    before_export, before_version, before_metrics = export(), applied_version(), metrics_size()
    before_settings = settings()
    stop, results = multiprocessing.Event(), multiprocessing.Queue()
    prober = multiprocessing.Process(target=probe_health, args=(stop, results))
    prober.start()
    time.sleep(0.5)
    started = time.monotonic()
    slow = slow_requests()
    exports, export_statuses = gzip_exports()
    hostile()
    for thread in exports + slow:
        thread.join()
    took = time.monotonic() - started
    stop.set()
    count, slowest, failures = results.get()
    prober.join()

    after_export, after_version, after_metrics = export(), applied_version(), metrics_size()
    if settings() != before_settings:
        problems.append("the settings changed")
    if after_export != before_export or after_version != before_version:
        problems.append(f"the data changed: version {before_version} -> {after_version}, "
                        f"export {len(before_export)} -> {len(after_export)} bytes")
    if after_metrics > METRICS_BOUND:
        problems.append(f"/metrics grew from {before_metrics} to {after_metrics} bytes")
    if failures or slowest > HEALTH_STALL_S:
        problems.append(f"/health: {failures} of {count} failed, slowest {slowest * 1000:.1f} ms")
    print(f"{sum(answered.values())} answers in {took:.1f} s: "
          + ", ".join(f"{status}: {n}" for status, n in sorted(answered.items())))
    print(f"gzip exports: {sorted(export_statuses)}")
    print(f"/health asked {count} times meanwhile: slowest {slowest * 1000:.1f} ms, {failures} failed")
    print(f"/metrics: {before_metrics} bytes before, {after_metrics} after; data unchanged at version {after_version}")
    if problems:
        print("FAIL:", *problems[:40], sep="\n  ")
        sys.exit(1)


if __name__ == "__main__":
    main()
