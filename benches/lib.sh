# What the benchmarks on a database share, sourced from the repository root: a work folder,
# a throwaway PostgreSQL server in it (scripts/pg.sh), release builds of the service on it,
# and everything stopped, by its PID, when the script exits.
#   bench_pg PORT                 PostgreSQL on 127.0.0.1:PORT (its URL: pg_url PORT [DB])
#   bench_service PORT FLAGS...   the release build (or BENCH_SERVICE=path, another build)
#                                 on 127.0.0.1:PORT, waited for
#   bench_stop_services           stops the services started so far
#   bench_broad_queries FILE      the broad query mix, as search paths
#   bench_wrk URL FILE SECONDS    wrk over FILE's paths: requests/s, p99, non-2xx
source scripts/pg.sh
work=$(mktemp -d)
# The database server runs as the postgres user, who must reach its folder.
chmod 755 "$work"
bench_pids=()

bench_stop_services() {
  local pid
  for pid in "${bench_pids[@]}"; do
    kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  done
  bench_pids=()
}

bench_cleanup() {
  bench_stop_services
  pg_stop "$work/pg" || true
  rm -rf "$work"
}
trap bench_cleanup EXIT

# bench_broad_queries FILE: 1,000 broad free-text queries drawn from the 100,000 products of
# seed 42 (benches/broad_queries.py), as search paths, one per line.
bench_broad_queries() {
  target/release/data-gen --count 100000 --seed 42 --out "$work/catalogue.jsonl" >/dev/null 2>&1
  python3 benches/broad_queries.py "$work/catalogue.jsonl" 1000 >"$1"
  rm -f "$work/catalogue.jsonl"
}

bench_pg() {
  pg_start "$work/pg" "$1"
}

bench_service() {
  local port=$1
  shift
  RUST_LOG=warn "${BENCH_SERVICE:-target/release/product-search}" --listen "127.0.0.1:$port" \
    --metrics-listen 127.0.0.1:0 "$@" >"$work/service-$port.log" 2>&1 &
  local pid=$!
  bench_pids+=("$pid")
  until curl -sf "http://127.0.0.1:$port/health" >/dev/null; do
    kill -0 "$pid" 2>/dev/null || { cat "$work/service-$port.log" >&2; return 1; }
    sleep 0.1
  done
}

# bench_wrk URL FILE SECONDS: wrk (2 threads, 16 connections) over the search paths of FILE
# for SECONDS; prints its requests/s, p99 and non-2xx answers (empty when none).
bench_wrk() {
  local out
  out=$(wrk -t2 -c16 -d"${3}s" --latency -s benches/wrk/paths.lua "$1" -- "$2")
  echo "$(awk '/^Requests\/sec/ {print $2}' <<<"$out") $(awk '/^ +99%/ {print $2}' <<<"$out")" \
    "$(awk '/Non-2xx/ {print $5}' <<<"$out")"
}
