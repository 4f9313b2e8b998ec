#!/usr/bin/env bash
# A load-balanced cluster on one machine, without Docker: a PostgreSQL server, N replicas of
# the release build on one database, and HAProxy in front, health-checking /health as the
# ALB does, retrying a failed idempotent request on another replica, and routing nothing to
# a replica that drains (its /health answers 503 after SIGTERM). Everything listens on
# 127.0.0.1 and runs in the background.
#
#   scripts/cluster.sh start [N]   start (N replicas, default 2); the last line printed is
#                                  the load balancer's URL
#   scripts/cluster.sh status      one line per process: role, PID, URL
#   scripts/cluster.sh stop        stop everything it started
#   scripts/cluster.sh restart-replica K   start replica K again (after a kill)
#
# Settings from the environment: CLUSTER_DIR (state and logs, default
# /tmp/product-search-cluster), CLUSTER_PORT (first port, default 18800), CATALOG_COUNT
# (default 100000), REPLICA_FLAGS (more flags for every replica), CARGO_TARGET_DIR.
# Installs Debian's haproxy and postgresql when missing; builds the release binary when
# missing.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dir=${CLUSTER_DIR:-/tmp/product-search-cluster}
base_port=${CLUSTER_PORT:-18800}
count=${CATALOG_COUNT:-100000}
target=${CARGO_TARGET_DIR:-$root/target}
bin="$target/release/product-search"
state="$dir/processes"
source "$root/scripts/pg.sh"

lb_port=$base_port
pg_port=$((base_port + 1))
replica_port() { echo $((base_port + 10 + 2 * ($1 - 1))); }

install_missing() {
  local missing=()
  command -v haproxy >/dev/null || missing+=(haproxy)
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
  ((${#missing[@]})) || return 0
  local sudo=""
  [[ $(id -u) == 0 ]] || sudo=sudo
  echo "installing ${missing[*]}" >&2
  $sudo apt-get update -qq
  # No service may start from the package: this script runs its own, on its own ports.
  local no_services=""
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
    $sudo chmod +x /usr/sbin/policy-rc.d
    no_services=1
  fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
  [[ -n $no_services ]] && $sudo rm -f /usr/sbin/policy-rc.d
  return 0
}

wait_healthy() { # URL SECONDS PID
  local deadline=$((SECONDS + $2))
  until curl -sf "$1" >/dev/null; do
    kill -0 "$3" 2>/dev/null || { echo "process $3 exited; see $dir" >&2; return 1; }
    ((SECONDS < deadline)) || { echo "$1 not healthy within $2 s" >&2; return 1; }
    sleep 0.1
  done
}

start_replica() { # K
  local k=$1 port
  port=$(replica_port "$k")
  # shellcheck disable=SC2086
  RUST_LOG=${RUST_LOG:-warn} "$bin" --listen "127.0.0.1:$port" --metrics-listen "127.0.0.1:$((port + 1))" \
    --database-url "$(pg_url "$pg_port" products)" --count "$count" --shutdown-delay-ms 2000 \
    ${REPLICA_FLAGS:-} >>"$dir/replica-$k.log" 2>&1 &
  local pid=$!
  echo "replica-$k $pid http://127.0.0.1:$port" >>"$state"
  wait_healthy "http://127.0.0.1:$port/health" 120 "$pid"
}

haproxy_config() { # N
  cat <<CFG
global
    maxconn 4096
    log stdout format raw local0 warning

defaults
    mode http
    log global
    timeout connect 1s
    timeout client 30s
    timeout server 30s
    timeout http-keep-alive 5s
    # A request whose replica died is sent to another one.
    retries 3
    option redispatch 1
    retry-on conn-failure empty-response junk-response response-timeout 0rtt-rejected

frontend api
    bind 127.0.0.1:$lb_port
    # A POST that reached a replica is not sent twice; idempotent requests may be.
    http-request disable-l7-retry if METH_POST
    default_backend replicas

backend replicas
    balance roundrobin
    # As the ALB: /health every 500 ms, out after 2 failures (a draining replica answers
    # 503), back after 2 successes.
    option httpchk GET /health
    http-check expect status 200
    default-server inter 500ms fall 2 rise 2
CFG
  for k in $(seq "$1"); do
    echo "    server replica-$k 127.0.0.1:$(replica_port "$k") check"
  done
}

start() {
  local n=${1:-2}
  [[ -s $state ]] && { echo "a cluster is already running (scripts/cluster.sh stop)" >&2; exit 1; }
  install_missing
  [[ -x $bin ]] || (cd "$root" && cargo build --release --locked --quiet -p product-search --bin product-search)
  mkdir -p "$dir"
  chmod 755 "$dir"
  : >"$state"
  pg_start "$dir/pg" "$pg_port"
  echo "postgres $(head -1 "$dir/pg/db/postmaster.pid") $(pg_url "$pg_port")" >>"$state"
  psql_cmd="$(pg_bin)/psql"
  "$psql_cmd" -h 127.0.0.1 -p "$pg_port" -U postgres -qtAc "SELECT 1 FROM pg_database WHERE datname = 'products'" |
    grep -q 1 || "$psql_cmd" -h 127.0.0.1 -p "$pg_port" -U postgres -qc "CREATE DATABASE products"
  # The first replica seeds an empty database; the others then start together.
  start_replica 1
  local starting=()
  for k in $(seq 2 "$n"); do
    start_replica "$k" &
    starting+=($!)
  done
  for pid in "${starting[@]}"; do wait "$pid"; done
  haproxy_config "$n" >"$dir/haproxy.cfg"
  haproxy -f "$dir/haproxy.cfg" >>"$dir/haproxy.log" 2>&1 &
  echo "haproxy $! http://127.0.0.1:$lb_port" >>"$state"
  wait_healthy "http://127.0.0.1:$lb_port/health" 30 "$!"
  status
  echo "http://127.0.0.1:$lb_port"
}

status() {
  [[ -s $state ]] || { echo "no cluster running"; return 0; }
  while read -r role pid url; do
    local alive=dead
    kill -0 "$pid" 2>/dev/null && alive=running
    printf '%-10s %-8s %-28s %s\n' "$role" "$pid" "$url" "$alive"
  done <"$state"
}

stop() {
  [[ -s $state ]] || return 0
  while read -r role pid _; do
    [[ $role == postgres ]] && continue
    kill -TERM "$pid" 2>/dev/null || true
  done <"$state"
  # Replicas drain (2 s of 503 from /health, then in-flight requests), then exit.
  for _ in $(seq 100); do
    local alive=0
    while read -r role pid _; do
      [[ $role == postgres ]] && continue
      kill -0 "$pid" 2>/dev/null && alive=1
    done <"$state"
    ((alive)) || break
    sleep 0.1
  done
  while read -r role pid _; do
    [[ $role == postgres ]] && continue
    kill -KILL "$pid" 2>/dev/null || true
  done <"$state"
  pg_stop "$dir/pg"
  rm -f "$state"
}

case ${1:-} in
  start) start "${2:-2}" ;;
  status) status ;;
  stop) stop ;;
  restart-replica)
    sed -i "/^replica-${2:?replica number} /d" "$state"
    start_replica "$2"
    ;;
  *) sed -n '2,19p' "$0" >&2; exit 2 ;;
esac
