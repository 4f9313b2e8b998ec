#!/usr/bin/env python3
"""Server-side search time of a word being typed: two-letter prefixes, the hardest words a
search box sends (each completes to dozens of words in every field).

Usage: benches/prefix_times.py CATALOGUE.jsonl URL[,URL ...] [QUERY ...]
The prefixes are the 30 most common two-letter beginnings of words in the names and
descriptions of the catalogue's first 20,000 products; any QUERY given (URL-encoded, as in
`q=`) is timed after them. Each query is sent ROUNDS times (default 15) to every server in
turn, so that servers compared at once see the same moments of the machine, and the
median and lowest `search_time` of each are printed, with the matches found. Standard
library only.
"""
import json
import os
import re
import statistics
import sys
import urllib.request
from collections import Counter

from search_time import micros


def prefixes(catalogue, products=20_000, count=30):
    beginnings = Counter()
    with open(catalogue, encoding="utf-8") as lines:
        for number, line in enumerate(lines):
            if number >= products:
                break
            product = json.loads(line)
            text = f"{product.get('name', '')} {product.get('description', '')}".lower()
            beginnings.update({word[:2] for word in re.findall(r"[a-z]+", text) if len(word) >= 2})
    return [beginning for beginning, _ in beginnings.most_common(count)]


def search(url, query):
    with urllib.request.urlopen(f"{url}/products/search?q={query}", timeout=30) as response:
        body = json.load(response)
    return micros(body["search_time"]), body["total_found"]


def main():
    catalogue, urls = sys.argv[1], [url.rstrip("/") for url in sys.argv[2].split(",")]
    queries = prefixes(catalogue) + sys.argv[3:]
    rounds = int(os.environ.get("ROUNDS", "15"))
    print("| query | found | " + " | ".join(f"{url}: median, lowest" for url in urls) + " |")
    print("| --- | ---: | " + " | ".join("---:" for _ in urls) + " |")
    for query in queries:
        times = {url: [] for url in urls}
        found = set()
        for _ in range(rounds):
            for url in urls:
                took, total = search(url, query)
                times[url].append(took)
                found.add(total)
        cells = [f"{statistics.median(t) / 1000:.2f}, {min(t) / 1000:.2f} ms" for t in times.values()]
        print(f"| `{query}` | {'/'.join(str(n) for n in sorted(found))} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
