#!/usr/bin/env bash
# The Lambda proxy for real: built with `cargo lambda build --release --output-format zip`,
# then run under `cargo lambda watch` on loopback, where HTTP requests (function URL events)
# pass through the emulated Lambda runtime to the service: the smoke test must pass, and
# the comparison command must compare the two paths.
source "$(dirname "$0")/lib.sh"
export PATH="$root/.venv/bin:$PATH"
command -v cargo-lambda >/dev/null || { echo "FAIL: cargo-lambda is not installed (.venv)" >&2; exit 1; }

echo "-- cargo lambda build"
(cd "$root" && cargo lambda build --release --output-format zip -p proxy --lambda-dir "$work/lambda" >"$work/build.log" 2>&1) ||
  { tail -20 "$work/build.log"; echo "FAIL: cargo lambda build"; exit 1; }
python3 - "$work/lambda/proxy/bootstrap.zip" <<'PY'
import sys, zipfile
names = zipfile.ZipFile(sys.argv[1]).namelist()
assert names == ["bootstrap"], names
print(f"ok: {sys.argv[1].split('/')[-1]} holds {names}")
PY

port=$(free_port) metrics=$(free_port) invoke=$(free_port)
start_service "$port" "$metrics" --count 20000
echo "-- cargo lambda watch on 127.0.0.1:$invoke"
(cd "$root" && exec cargo lambda watch -A 127.0.0.1 -P "$invoke" -p proxy --ignore-changes \
  --env-var "TARGET_URL=http://127.0.0.1:$port") >"$work/watch.log" 2>&1 &
pids+=($!)
wait_for "http://127.0.0.1:$invoke/lambda-url/proxy/health" 300
"$root/localstack/smoke.sh" "http://127.0.0.1:$invoke/lambda-url/proxy"

echo "-- compare: direct against the proxy"
"$root/benches/compare.sh" direct "http://127.0.0.1:$port" lambda-proxy "http://127.0.0.1:$invoke/lambda-url/proxy" \
  6 "$work/compare" 10 10 >"$work/compare.txt" 2>&1 || { cat "$work/compare.txt"; echo "FAIL: compare"; exit 1; }
cat "$work/compare/comparison.md"
[[ -s $work/compare/comparison.png ]] || { echo "FAIL: no comparison chart"; exit 1; }
grep -q "| failure rate | 0.00% | 0.00% |" "$work/compare/comparison.md" || { echo "FAIL: failures in the comparison"; exit 1; }
echo "PASS: the proxy builds as a Lambda zip and serves through the emulated runtime"
