"""Side-by-side table and chart of two Locust runs written by benches/locust/run.sh.

Usage: compare.py OUTDIR NAME_A NAME_B DESCRIPTION [--with-report]
Reads OUTDIR/NAME/locust_stats.csv, writes OUTDIR/comparison.md and OUTDIR/comparison.png.
With --with-report, the report's own figures (../shared/seeds/001: its Go service on AWS ECS
behind an ALB, and on LocalStack through API Gateway and a Lambda proxy, same plan) stand
beside ours, labelled as theirs.
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


# The report's Locust results for the same plan, as it printed them (its LocalStack table
# gives p95 34,000 ms and p99 60,000 ms; its text says 3,400 and 6,000).
REPORT = {
    "report's AWS (ECS + ALB)": {
        "requests": 25110, "rps": 387.0, "p50": 99, "p95": 500, "p99": 580, "failure_rate": 0.0,
    },
    "report's LocalStack (API GW + Lambda)": {
        "requests": 480, "rps": 3.5, "p50": 4100, "p95": 34000, "p99": 60000, "failure_rate": 30 / 480,
    },
}


def main():
    out, names, description = Path(sys.argv[1]), sys.argv[2:4], sys.argv[4]
    stats = {name: aggregated(out / name / "locust_stats.csv") for name in names}
    if "--with-report" in sys.argv[5:]:
        stats.update(REPORT)
        names = names + list(REPORT)
    lines = [
        f"Same plan against each: {description}.",
        "",
        "| metric | " + " | ".join(names) + " |",
        "| --- |" + " ---: |" * len(names),
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
        lines.append(f"| {labels.get(key, key)} | " + " | ".join(fmt.format(stats[n][key]) for n in names) + " |")
    table = "\n".join(lines) + "\n"
    (out / "comparison.md").write_text(table)
    print(table)

    fig, (left, right) = plt.subplots(1, 2, figsize=(6 + 2.5 * len(names), 4.5))
    colours = ["tab:blue", "tab:orange", "tab:gray", "silver"][: len(names)]
    left.bar(range(len(names)), [stats[n]["rps"] for n in names], color=colours)
    left.set_xticks(range(len(names)), [n.replace(" (", "\n(") for n in names], fontsize=8)
    left.set(title="Requests per second", ylabel="requests/s")
    width = 0.8 / len(names)
    for i, name in enumerate(names):
        right.bar([x + i * width for x in range(3)], [stats[name][p] for p in ("p50", "p95", "p99")], width,
                  label=name, color=colours[i])
    right.set_xticks([x + width * (len(names) - 1) / 2 for x in range(3)], ["p50", "p95", "p99"])
    right.set(title="Response time", ylabel="ms")
    if len(names) > 2:
        right.set_yscale("log")
    right.legend(fontsize=8)
    fig.suptitle(description)
    fig.tight_layout()
    fig.savefig(out / "comparison.png", dpi=100)


if __name__ == "__main__":
    main()
