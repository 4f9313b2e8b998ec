"""Summarises a sweep (benches/sweep.sh): one row per step from its Locust CSV, as
summary.md, summary.csv and summary.png in the sweep's folder. Exits 1 if any step is
missing its figures or had a failure.

Usage: python sweep_summary.py OUTDIR COMMAND
"""
import csv
import datetime
import os
import platform
import re
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

COLUMNS = ["users", "user class", "workers", "GET median (ms)", "GET p95 (ms)", "POST median (ms)",
           "POST p95 (ms)", "p99 (ms)", "requests/s", "failure rate", "generator CPU warning"]
CPU_WARNING = "CPU usage"
CONNECTED = re.compile(r"(\d+) workers connected")


def step_row(step: Path):
    users, user_class, workers, _rate = step.joinpath("step.txt").read_text().split()
    stats = {r["Name"]: r for r in csv.DictReader(step.joinpath("locust_stats.csv").open())}
    # A short step may end before some request was ever made: its cells say n/a.
    missing = {"50%": "n/a", "95%": "n/a"}
    get, post = stats.get("/products/{id}", missing), stats.get("/products/{id}/details", missing)
    total = stats["Aggregated"]
    requests, failures = int(total["Request Count"]), int(total["Failure Count"])
    logs = "".join(p.read_text(errors="replace") for p in (step / "locust.log", step / "stdout.txt") if p.exists())
    # The workers that really connected to the master (0: one process, no master).
    connected = max((int(n) for n in CONNECTED.findall(logs)), default=0)
    if connected != int(workers):
        raise ValueError(f"{workers} workers asked for, {connected} connected")
    return {
        "users": int(users),
        "user class": user_class,
        "workers": connected,
        "GET median (ms)": get["50%"],
        "GET p95 (ms)": get["95%"],
        "POST median (ms)": post["50%"],
        "POST p95 (ms)": post["95%"],
        "p99 (ms)": total["99%"],
        "requests/s": f"{float(total['Requests/s']):.1f}",
        "failure rate": f"{failures / requests:.2%}" if requests else "n/a",
        "generator CPU warning": "yes" if CPU_WARNING in logs else "no",
    }, failures, requests


def main():
    out, command = Path(sys.argv[1]), sys.argv[2]
    rows, bad = [], []
    for step in sorted(out.glob("users-*"), key=lambda p: (int(p.name.split("-")[1]), p.name)):
        try:
            row, failures, requests = step_row(step)
        except (FileNotFoundError, KeyError, ValueError) as error:
            bad.append(f"{step.name}: no figures ({error})")
            continue
        rows.append(row)
        if failures or not requests:
            bad.append(f"{step.name}: {failures} failures in {requests} requests")
    with out.joinpath("summary.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Load sweep",
        "",
        f"- command: `{command}`",
        f"- machine: {os.cpu_count()} cores, {platform.machine()}, {platform.system()} {platform.release()}",
        f"- date: {now}",
        "- workers: Locust worker processes that generated the load (0: a single process).",
        "- generator CPU warning: Locust said its own CPU was saturated during the step, so the",
        "  load generator, not the server, may have set the pace.",
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "| " + " | ".join("---" if c == "user class" else "---:" for c in COLUMNS) + " |",
    ]
    lines += ["| " + " | ".join(str(r[c]) for c in COLUMNS) + " |" for r in rows]
    if bad:
        lines += ["", "Problems:", *[f"- {b}" for b in bad]]
    out.joinpath("summary.md").write_text("\n".join(lines) + "\n")

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    for user_class in sorted({r["user class"] for r in rows}):
        mine = sorted((r for r in rows if r["user class"] == user_class), key=lambda r: r["users"])
        xs = [r["users"] for r in mine]
        left.plot(xs, [float(r["requests/s"]) for r in mine], marker="o", label=user_class)
        right.plot(xs, [float(r["GET p95 (ms)"]) if r["GET p95 (ms)"] != "n/a" else float("nan") for r in mine],
                   marker="o", label=user_class)
    for axis, title in ((left, "requests/s"), (right, "GET p95 (ms)")):
        axis.set_xscale("log")
        axis.set_xlabel("users")
        axis.set_title(title)
        axis.grid(True, alpha=0.3)
        axis.legend()
    fig.tight_layout()
    fig.savefig(out / "summary.png", dpi=100)
    print(out.joinpath("summary.md").read_text())
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
