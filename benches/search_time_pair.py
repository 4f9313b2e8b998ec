#!/usr/bin/env python3
"""Two servers' server-side search times over one mix, taken at the same moments.

Usage: benches/search_time_pair.py URL_A URL_B PATHS.txt [PASSES]
PATHS.txt holds one /products/search path per line (as `benches/queries.sh` writes them).
First every path is sent to both at offsets 0 and 20, and the pages (product ids in order)
and totals are compared; then PASSES times (default 3) every path is sent to each server
in turn, the first alternating, and `search_time` kept. Prints how many pages differ, the
sum of the per-query medians, p50/p90/p99 for each server, and the queries whose medians
moved most either way. Standard library only.
"""
import json
import statistics
import sys
import urllib.request
from collections import defaultdict

from search_time import micros, percentile


def get(base, path):
    with urllib.request.urlopen(base + path, timeout=30) as response:
        return json.load(response)


def page(body):
    return [product["product_id"] for product in body["products"]], body["total_found"]


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    a, b, path = sys.argv[1].rstrip("/"), sys.argv[2].rstrip("/"), sys.argv[3]
    passes = int(sys.argv[4]) if len(sys.argv) > 4 else 3
    paths = [line.strip() for line in open(path, encoding="utf-8") if line.strip()]
    differ = []
    for offset in ("", "&offset=20"):
        for target in paths:
            if page(get(a, target + offset)) != page(get(b, target + offset)):
                differ.append(target + offset)
    print(f"pages compared: {2 * len(paths)}, differing: {len(differ)}", *differ[:10], sep="\n  ")
    times = {a: defaultdict(list), b: defaultdict(list)}
    found = {}
    for round_ in range(passes):
        for i, target in enumerate(paths):
            for base in (a, b) if (i + round_) % 2 == 0 else (b, a):
                body = get(base, target)
                found[target] = body["total_found"]
                times[base][target].append(micros(body["search_time"]))
    medians = {base: {t: statistics.median(v) for t, v in times[base].items()} for base in (a, b)}
    for name, base in (("A", a), ("B", b)):
        values = list(medians[base].values())
        p50, p90, p99 = (percentile(values, q) for q in (0.5, 0.9, 0.99))
        print(f"{name} {base}: sum {sum(values) / 1000:.1f} ms, p50 {p50:.0f} µs, p90 {p90:.0f} µs, "
              f"p99 {p99:.0f} µs")
    print(f"B/A of the sums: {sum(medians[b].values()) / sum(medians[a].values()):.3f}")
    moved = sorted(paths, key=lambda t: medians[b][t] - medians[a][t])
    for target in moved[:5] + moved[-5:]:
        print(f"  {medians[a][target]:8.0f} -> {medians[b][target]:8.0f} µs ({found[target]} found) {target}")


if __name__ == "__main__":
    main()
