"""Broad queries, as shoppers type free text: 1 to 3 words drawn from the names and
descriptions of a catalogue (frequent words such as "the", "with" and "made" included, in
proportion to how often they occur), as distinct /products/search paths. Deterministic for
a seed. EVERY reads only every EVERY-th product (a catalogue of millions drawn from evenly
without holding all its words in memory).

Usage: python3 benches/broad_queries.py CATALOGUE.jsonl COUNT [SEED] [EVERY] > paths.txt
"""
import json
import random
import re
import sys
from urllib.parse import quote


def main():
    path, count = sys.argv[1], int(sys.argv[2])
    rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 7)
    every = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    texts = []
    with open(path) as f:
        for number, line in enumerate(f):
            if number % every:
                continue
            product = json.loads(line)
            texts += [product.get("name") or "", product.get("description") or ""]
    words = [w for t in texts for w in re.findall(r"[A-Za-z]+", t.lower())]
    queries = set()
    while len(queries) < count:
        queries.add(" ".join(rng.choice(words) for _ in range(rng.randint(1, 3))))
    for query in sorted(queries):
        print("/products/search?q=" + quote(query))


if __name__ == "__main__":
    main()
