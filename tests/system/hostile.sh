#!/usr/bin/env bash
# The hostile-input suite (tests/system/hostile.py) against a release build backed by
# PostgreSQL (100,000 products): bad ids, query strings, bodies, headers and methods on every
# route, slow and oversized requests, NUL and invalid UTF-8, concurrent gzip exports. No 5xx
# but the documented 503s, a JSON error on every failure, no change to the data, a bounded
# /metrics, and /health answering throughout, never stalled.
source "$(dirname "$0")/lib.sh"
source "$root/scripts/pg.sh"
chmod 755 "$work"
pg_port=$(free_port)
pg_start "$work/pg" "$pg_port"
trap 'pg_stop "$work/pg" || true; cleanup' EXIT
port=$(free_port) metrics=$(free_port)
start_service "$port" "$metrics" --count 100000 --database-url "$(pg_url "$pg_port")" --request-timeout-ms 2000
python3 "$root/tests/system/hostile.py" "http://127.0.0.1:$port" "http://127.0.0.1:$metrics" ||
  { tail -20 "$work"/service-*.log; echo "FAIL: hostile-input suite"; exit 1; }
echo "PASS: hostile-input suite"
