#!/usr/bin/env bash
# The store of record measured, against a local PostgreSQL started here (and stopped after):
#   1. seeding an empty database with COUNT products, and start-up of a replica from it
#      (time to the first healthy answer, peak resident memory), RUNS times;
#   2. the visibility delay of a write on replica A at replica B, under a steady write load;
#   3. distinct-query search throughput (wrk, result cache off) on a replica, without and
#      with a steady background write load on it (WRITES_PER_SECOND, and a fifth of it);
#   4. the product API Locust plan against a replica: write latency through the database.
#
# Usage: benches/replicas.sh [COUNT=100000] [RUNS=5] [SECONDS=10] [WRITES_PER_SECOND=50]
# Needs wrk; uses the Locust of .venv (scripts/python-env.sh makes it).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
count=${1:-100000} runs=${2:-5} seconds=${3:-10} rate=${4:-50}
command -v wrk >/dev/null || { echo "wrk is required: apt-get install wrk" >&2; exit 1; }
source scripts/pg.sh
scripts/release-build.sh
cargo build --release --locked --quiet -p relevance
scripts/python-env.sh

work=$(mktemp -d)
chmod 755 "$work" # the database server runs as another user
pg_port=${PG_PORT:-18250} port_a=${PORT:-18251} port_b=$((${PORT:-18251} + 2))
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
  pg_stop "$work/pg"
  rm -rf "$work"
}
trap cleanup EXIT
pg_start "$work/pg" "$pg_port"
url=$(pg_url "$pg_port")
bin=target/release/product-search

# replica PORT [flags...]: starts one in the background, waits for /health; sets $pid.
replica() {
  local port=$1
  shift
  RUST_LOG=warn "$bin" --listen "127.0.0.1:$port" --metrics-listen "127.0.0.1:$((port + 1))" \
    --database-url "$url" --count "$count" "$@" >>"$work/replica-$port.log" 2>&1 &
  pid=$!
  until curl -sf "http://127.0.0.1:$port/health" >/dev/null; do
    kill -0 "$pid" 2>/dev/null || { cat "$work/replica-$port.log" >&2; exit 1; }
    sleep 0.005
  done
}

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -m); date: $(date -u +%Y-%m-%dT%H:%MZ)"
echo "PostgreSQL $("$(pg_bin)/postgres" --version | awk '{print $3}') on 127.0.0.1:$pg_port; $count products"
echo
echo "## 1. Seeding and start-up from the database"
start=$(date +%s%N)
replica "$port_a"
echo "seed run (empty database: generate, COPY, snapshot, index): ready in $(( ($(date +%s%N) - start) / 1000000 )) ms"
kill -TERM "$pid"; wait "$pid" || true
for run in $(seq "$runs"); do
  start=$(date +%s%N)
  replica "$port_a"
  ready_ms=$(( ($(date +%s%N) - start) / 1000000 ))
  echo "run $run: $count products from the database, ready in ${ready_ms} ms, VmHWM $(awk '/VmHWM/ {print $2 " " $3}' "/proc/$pid/status")"
  kill -TERM "$pid"; wait "$pid" || true
done

echo
echo "## 2. Visibility of a write on A at B ($rate writes/s)"
replica "$port_a"; pids+=("$pid")
replica "$port_b"; pids+=("$pid")
python3 benches/visibility.py "http://127.0.0.1:$port_a" "http://127.0.0.1:$port_b" $((rate * 20)) "$rate"
for pid in "${pids[@]}"; do kill -TERM "$pid"; wait "$pid" || true; done
pids=()

echo
echo "## 3. Distinct-query search throughput, without and with $((rate / 5)) and $rate writes/s on the same replica"
target/release/relevance --count "$count" --per-class 150 --dump-queries "$work/queries.jsonl" >/dev/null 2>&1
python3 -c '
import json, sys
for line in open(sys.argv[1]):
    print("/products/search?" + json.loads(line)["query"])
' "$work/queries.jsonl" | sort -u >"$work/distinct.txt"
replica "$port_a" --result-cache-size 0; pids+=("$pid")
declare -A rps
printf '| background writes | connections | requests/s | p50 | p99 | non-2xx |\n| --- | ---: | ---: | ---: | ---: | ---: |\n'
for load in none "$((rate / 5))/s" "$rate/s"; do
  for connections in 8 64; do
    writer=""
    if [[ $load != none ]]; then
      python3 benches/write_load.py "http://127.0.0.1:$port_a" "${load%/s}" $((seconds + 5)) >"$work/writes.txt" &
      writer=$!
      sleep 1
    fi
    out=$(wrk -t2 -c"$connections" -d"${seconds}s" --latency -s benches/wrk/paths.lua \
      "http://127.0.0.1:$port_a" -- "$work/distinct.txt")
    [[ -n $writer ]] && { kill -TERM "$writer"; wait "$writer" || true; }
    rate_now=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
    rps[$load-$connections]=$rate_now
    printf '| %s | %s | %s | %s | %s | %s |\n' "$load" "$connections" "$rate_now" \
      "$(awk '/^ +50%/ {print $2}' <<<"$out")" "$(awk '/^ +99%/ {print $2}' <<<"$out")" \
      "$(awk '/Non-2xx/ {print $5}' <<<"$out" | grep . || echo 0)"
    [[ -n $writer ]] && sed 's/^/    /' "$work/writes.txt"
  done
done
for load in "$((rate / 5))/s" "$rate/s"; do
  for connections in 8 64; do
    python3 -c "import sys; print(f'with {sys.argv[1]} writes / without at {sys.argv[2]} connections: {float(sys.argv[3]) / float(sys.argv[4]):.2f}')" \
      "$load" "$connections" "${rps[$load-$connections]}" "${rps[none-$connections]}"
  done
done

echo
echo "## 4. Product API Locust plan (ProductApiFastUser, 50 users, 30 s) through the database"
benches/locust/run.sh benches/locust/products_api.py "http://127.0.0.1:$port_a" 30 "$work/locust" 50 10 ProductApiFastUser
