#!/usr/bin/env bash
# A short load sweep against a local release build, once with a single Locust process and
# once with Locust's distributed mode (2 workers): every step must end with zero failures,
# and summary.md, summary.csv and summary.png must hold every step with its figures.
source "$(dirname "$0")/lib.sh"
port=$(free_port) metrics=$(free_port)
start_service "$port" "$metrics" --count 20000
for workers in 0 2; do
  out="$work/sweep-$workers"
  "$root/benches/sweep.sh" "http://127.0.0.1:$port" "$out" --users "10 40" --seconds 8 --workers "$workers" \
    >"$work/sweep-$workers.txt" 2>&1 || { cat "$work/sweep-$workers.txt"; echo "FAIL: the sweep (workers $workers) failed"; exit 1; }
  [[ -s $out/summary.png ]] || { echo "FAIL: summary.png missing (workers $workers)"; exit 1; }
  python3 - "$out" "$workers" <<'PY' || exit 1
import csv, sys
from pathlib import Path
out, workers = Path(sys.argv[1]), int(sys.argv[2])
rows = list(csv.DictReader(open(out / "summary.csv")))
steps = {(r["users"], r["user class"]) for r in rows}
expected = {(u, c) for u in ("10", "40") for c in ("ProductApiHttpUser", "ProductApiFastUser")}
assert steps == expected, f"steps {sorted(steps)} != {sorted(expected)}"
for r in rows:
    for column in ("GET median (ms)", "GET p95 (ms)", "p99 (ms)", "requests/s"):
        float(r[column])  # every figure is a number
    # A write is one task in ten: a short step may make none after its seeding writes, and
    # then (only then) its POST cells say n/a.
    stats = out / f"users-{r['users']}-{r['user class']}" / "locust_stats.csv"
    written = any(s["Name"] == "/products/{id}/details" for s in csv.DictReader(open(stats)))
    for column in ("POST median (ms)", "POST p95 (ms)"):
        if written:
            float(r[column])
        else:
            assert r[column] == "n/a", (column, r)
    assert float(r["requests/s"]) > 0, r
    assert r["failure rate"] == "0.00%", r
    assert int(r["workers"]) == workers, r
table = [l for l in (out / "summary.md").read_text().splitlines() if l.startswith("| ") and l[2].isdigit()]
assert len(table) == 4, table
print(f"workers {workers}: {len(rows)} steps, " + ", ".join(f"{r['users']} {r['user class']} {r['requests/s']}/s" for r in rows))
PY
done
# A step whose Locust warned about its own CPU is marked so in the summary, and only that one.
mkdir -p "$work/warned"
cp -r "$work/sweep-0/users-10-ProductApiFastUser" "$work/sweep-0/users-10-ProductApiHttpUser" "$work/warned/"
echo "[2026-01-01 00:00:00,000] vm/WARNING/root: CPU usage above 90%! This may constrain your throughput" \
  >>"$work/warned/users-10-ProductApiHttpUser/locust.log"
"$root/.venv/bin/python" "$root/benches/sweep_summary.py" "$work/warned" test >/dev/null
grep -q '^| 10 | ProductApiHttpUser | .* | yes |$' "$work/warned/summary.md" &&
  grep -q '^| 10 | ProductApiFastUser | .* | no |$' "$work/warned/summary.md" ||
  { cat "$work/warned/summary.md"; echo "FAIL: the generator CPU warning is not marked per step"; exit 1; }
# Against a port where nothing listens every request fails: the sweep still writes its
# summary, then exits non-zero.
closed=$(free_port)
if "$root/benches/sweep.sh" "http://127.0.0.1:$closed" "$work/sweep-closed" --users 2 --seconds 2 \
  --classes ProductApiFastUser >"$work/sweep-closed.txt" 2>&1; then
  echo "FAIL: a sweep whose every request failed exited 0"; exit 1
fi
grep -q "100.00%" "$work/sweep-closed/summary.md" || { cat "$work/sweep-closed/summary.md"; echo "FAIL: the failure rate is not in summary.md"; exit 1; }
echo "PASS: sweeps with 1 and 2 Locust workers, every step with figures and zero failures"
