# Helpers for the system tests: start the release binary on loopback, wait for it, and stop
# every process started here by its PID when the test exits.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
pids=()
work=$(mktemp -d)
cleanup() {
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

# A free loopback port.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# free_ports_from OFFSET...: a base port such that base+OFFSET is free for every OFFSET.
free_ports_from() {
  python3 - "$@" <<'PY'
import socket, sys
offsets = [int(o) for o in sys.argv[1:]]
for base in range(20000, 60000, 97):
    sockets = []
    try:
        for offset in offsets:
            s = socket.socket(); s.bind(("127.0.0.1", base + offset)); sockets.append(s)
        print(base)
        break
    except OSError:
        pass
    finally:
        for s in sockets:
            s.close()
PY
}

# start_service API_PORT METRICS_PORT [flags...]: the release build over 100,000 products.
start_service() {
  local port=$1 metrics=$2
  shift 2
  RUST_LOG=warn "$root/target/release/product-search" --listen "127.0.0.1:$port" \
    --metrics-listen "127.0.0.1:$metrics" "$@" >"$work/service-$port.log" 2>&1 &
  pids+=($!)
  wait_for "http://127.0.0.1:$port/health" 60
}

# wait_for URL SECONDS: until the URL answers 2xx.
wait_for() {
  local deadline=$((SECONDS + $2))
  until curl -sf "$1" >/dev/null; do
    if ((SECONDS > deadline)); then
      echo "FAIL: $1 did not answer within $2 s" >&2
      cat "$work"/*.log >&2 2>/dev/null || true
      return 1
    fi
    sleep 0.1
  done
}
