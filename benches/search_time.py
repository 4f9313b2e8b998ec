#!/usr/bin/env python3
"""Server-side search time per query class, as the service reports it in `search_time`.

Usage: benches/search_time.py BASE_URL QUERIES.jsonl
       benches/search_time.py BASE_URL PATHS.txt [CLASS]
QUERIES.jsonl comes from `relevance --dump-queries`; PATHS.txt holds one /products/search
path per line (as `benches/broad_queries.py` writes them), all of one class (default
"broad"), sent as they are. Every query is sent once to warm up, then once more, one at a
time, and the second pass is reported: p50, p90 and p99 per class, and the slowest queries
with how many products each matched. Standard library only.
"""
import json
import sys
import urllib.request
from collections import defaultdict

UNITS = {"ns": 1e-3, "µs": 1.0, "us": 1.0, "ms": 1e3, "s": 1e6}


def micros(text):
    for unit in sorted(UNITS, key=len, reverse=True):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * UNITS[unit]
    raise ValueError(f"unknown duration {text!r}")


def percentile(values, q):
    values = sorted(values)
    rank = max(1, min(len(values), int(-(-len(values) * q // 1))))
    return values[rank - 1]


def main():
    base, path = sys.argv[1].rstrip("/"), sys.argv[2]
    lines = [line.strip() for line in open(path, encoding="utf-8") if line.strip()]
    if path.endswith(".jsonl"):
        queries = [json.loads(line) for line in lines]
        queries = [(q["class"], f"/products/search?{q['query']}&limit=100") for q in queries]
    else:
        cls = sys.argv[3] if len(sys.argv) > 3 else "broad"
        queries = [(cls, line) for line in lines]
    times = defaultdict(list)
    slowest = []
    for timed in (False, True):
        for cls, target in queries:
            with urllib.request.urlopen(base + target, timeout=30) as response:
                body = json.load(response)
            if timed:
                took = micros(body["search_time"])
                times[cls].append(took)
                slowest.append((took, body["total_found"], target))
    print("| class | queries | p50 | p90 | p99 |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for cls, values in times.items():
        p50, p90, p99 = (percentile(values, q) for q in (0.5, 0.9, 0.99))
        print(f"| {cls} | {len(values)} | {p50:.0f} µs | {p90:.0f} µs | {p99:.0f} µs |")
    print()
    print("slowest: " + ", ".join(f"{t:.0f} µs ({n} found) {p}" for t, n, p in sorted(slowest, reverse=True)[:5]))


if __name__ == "__main__":
    main()
