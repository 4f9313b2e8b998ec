#!/usr/bin/env python3
"""Server-side search time per query class, as the service reports it in `search_time`.

Usage: benches/search_time.py BASE_URL QUERIES.jsonl
QUERIES.jsonl comes from `relevance --dump-queries`. Every query is sent once to warm up,
then once more, one at a time, and the second pass is reported: p50 and p99 per class.
Standard library only.
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
    queries = [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]
    times = defaultdict(list)
    for timed in (False, True):
        for q in queries:
            url = f"{base}/products/search?{q['query']}&limit=100"
            with urllib.request.urlopen(url, timeout=30) as response:
                body = json.load(response)
            if timed:
                times[q["class"]].append(micros(body["search_time"]))
    print("| class | queries | p50 | p99 |")
    print("| --- | ---: | ---: | ---: |")
    for cls, values in times.items():
        print(f"| {cls} | {len(values)} | {percentile(values, 0.5):.0f} µs | {percentile(values, 0.99):.0f} µs |")


if __name__ == "__main__":
    main()
