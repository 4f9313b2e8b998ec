"""PNG charts of a Locust run from its stats history CSV: requests and failures per second,
and p50/p95/p99 response times, over time.

Usage: charts.py RESULTS_DIR   (reads RESULTS_DIR/locust_stats_history.csv)
"""
import csv
import sys
from datetime import datetime, timezone
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def number(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def main():
    out = Path(sys.argv[1])
    rows = [r for r in csv.DictReader(open(out / "locust_stats_history.csv")) if r["Name"] == "Aggregated"]
    if not rows:
        sys.exit("no aggregated rows in the stats history")
    start = int(rows[0]["Timestamp"])
    seconds = [int(r["Timestamp"]) - start for r in rows]
    title = datetime.fromtimestamp(start, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")

    fig, ax = plt.subplots(figsize=(9, 4))
    ax.plot(seconds, [number(r["Requests/s"]) for r in rows], label="requests/s")
    ax.plot(seconds, [number(r["Failures/s"]) for r in rows], label="failures/s", color="tab:red")
    ax.set(xlabel="seconds", ylabel="per second", title=f"Throughput, run of {title}")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "requests_per_second.png", dpi=100)

    fig, ax = plt.subplots(figsize=(9, 4))
    for column, label in (("50%", "p50"), ("95%", "p95"), ("99%", "p99")):
        ax.plot(seconds, [number(r[column]) for r in rows], label=label)
    ax.set(xlabel="seconds", ylabel="ms", title=f"Response times, run of {title}")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "response_times.png", dpi=100)
    print(f"charts written to {out}")


if __name__ == "__main__":
    main()
