"""Side-by-side table and chart of two Locust runs written by benches/locust/run.sh.

Usage: compare.py OUTDIR NAME_A NAME_B DESCRIPTION
Reads OUTDIR/NAME/locust_stats.csv, writes OUTDIR/comparison.md and OUTDIR/comparison.png.
"""
import csv
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def aggregated(path):
    for row in csv.DictReader(open(path)):
        if row["Name"] == "Aggregated":
            requests = int(row["Request Count"])
            failures = int(row["Failure Count"])
            return {
                "requests": requests,
                "rps": float(row["Requests/s"]),
                "p50": float(row["50%"]),
                "p95": float(row["95%"]),
                "p99": float(row["99%"]),
                "failure_rate": failures / requests if requests else 0.0,
            }
    sys.exit(f"no aggregated row in {path}")


def main():
    out, names, description = Path(sys.argv[1]), sys.argv[2:4], sys.argv[4]
    stats = {name: aggregated(out / name / "locust_stats.csv") for name in names}
    lines = [
        f"Same plan against both: {description}.",
        "",
        f"| metric | {names[0]} | {names[1]} |",
        "| --- | ---: | ---: |",
    ]
    rows = [
        ("requests", "{:.0f}"),
        ("rps", "{:.1f}"),
        ("p50", "{:.0f} ms"),
        ("p95", "{:.0f} ms"),
        ("p99", "{:.0f} ms"),
        ("failure_rate", "{:.2%}"),
    ]
    labels = {"rps": "requests/s", "failure_rate": "failure rate"}
    for key, fmt in rows:
        lines.append(f"| {labels.get(key, key)} | {fmt.format(stats[names[0]][key])} | {fmt.format(stats[names[1]][key])} |")
    table = "\n".join(lines) + "\n"
    (out / "comparison.md").write_text(table)
    print(table)

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.bar(names, [stats[n]["rps"] for n in names], color=["tab:blue", "tab:orange"])
    left.set(title="Requests per second", ylabel="requests/s")
    width = 0.35
    for i, name in enumerate(names):
        right.bar([x + i * width for x in range(3)], [stats[name][p] for p in ("p50", "p95", "p99")], width, label=name)
    right.set_xticks([x + width / 2 for x in range(3)], ["p50", "p95", "p99"])
    right.set(title="Response time", ylabel="ms")
    right.legend()
    fig.suptitle(description)
    fig.tight_layout()
    fig.savefig(out / "comparison.png", dpi=100)


if __name__ == "__main__":
    main()
