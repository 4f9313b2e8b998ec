#!/usr/bin/env bash
# LocalStack on this machine, without Docker: LocalStack itself (localstack-core, pinned, in
# a virtualenv of its own on Python 3.13 or later), with Lambda execution environments run
# as host processes by our executor plugin (host-executor/), and behind it the service (the
# release build) on a throwaway PostgreSQL server. Everything binds to 127.0.0.1; state and
# logs live in STATE_DIR; every process started is stopped by its PID (LocalStack with its
# whole process group, so no function process outlives it).
#
# Usage: localstack/host.sh start|stop|status|url|deploy|destroy
#   start    the database, the service, then LocalStack (installing what is missing)
#   deploy   the proxy's Lambda zip (cargo lambda), then tflocal init and apply of this root
#   url      the API Gateway stage's base URL
#   (the Terraform root runs from a copy in STATE_DIR: its state lives there)
#   destroy  tflocal destroy
#   stop     everything start started, whatever state it is in
# Settings (environment): LOCALSTACK_PORT (4566), SERVICE_PORT (18080; PostgreSQL takes the
# next port), CATALOG_COUNT (100000), STATE_DIR (localstack/.state), LOCALSTACK_PYTHON (a
# Python >= 3.13; found on PATH or under pyenv otherwise), START_TIMEOUT (90 s).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
state=${STATE_DIR:-$here/.state}
ls_port=${LOCALSTACK_PORT:-4566}
service_port=${SERVICE_PORT:-18080}
pg_port=$((service_port + 1))
count=${CATALOG_COUNT:-100000}
start_timeout=${START_TIMEOUT:-90}
venv="$here/.venv"
tree="$state/tree"
endpoint="http://127.0.0.1:$ls_port"

fail() { echo "host.sh: $*" >&2; exit 1; }

# A Python >= 3.13: localstack-core 4.14.0 uses 3.12 syntax and 3.13's warnings.deprecated.
find_python() {
  local candidate
  for candidate in ${LOCALSTACK_PYTHON:-} python3.14 python3.13 \
    "$(pyenv root 2>/dev/null)"/versions/3.1[3-9]*/bin/python3; do
    [[ -n $candidate ]] && command -v "$candidate" >/dev/null 2>&1 || continue
    if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 13))' 2>/dev/null; then
      command -v "$candidate"
      return 0
    fi
  done
  return 1
}

# The virtualenv: localstack-core and its pins, tflocal, awslocal, and our executor; kept in
# a cache folder by the hash of all of those (scripts/venv-cache.sh), linked as .venv.
ensure_venv() {
  local python
  python=$(find_python) || fail "LocalStack needs Python 3.13 or later: none found (set LOCALSTACK_PYTHON, or install one, e.g. with pyenv)"
  # shellcheck source=../scripts/venv-cache.sh
  source "$root/scripts/venv-cache.sh"
  cached_venv localstack "$venv" "$python" "$here/requirements.txt" "$here"/host-executor/pyproject.toml \
    "$here"/host-executor/lambda_host_executor/*.py -- -r "$here/requirements.txt" "$here/host-executor" ||
    fail "installing LocalStack with $python failed (see pip's output above)"
}

port_free() {
  python3 -c 'import socket, sys; s = socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1])))' "$1" 2>/dev/null
}

wait_for() { # URL SECONDS PIDFILE WHAT
  local deadline=$((SECONDS + $2))
  until curl -sf "$1" >/dev/null; do
    kill -0 "$(cat "$3")" 2>/dev/null || fail "$4 exited; see $state/logs"
    ((SECONDS < deadline)) || fail "$4 not healthy within $2 s; see $state/logs"
    sleep 0.2
  done
}

start() {
  mkdir -p "$state/logs"
  chmod 755 "$state"
  for port in "$ls_port" "$service_port" "$pg_port" "$((service_port + 2))"; do
    port_free "$port" || fail "port $port is taken (set LOCALSTACK_PORT or SERVICE_PORT)"
  done
  # From here on, a start that fails leaves nothing running.
  trap 'stop >/dev/null 2>&1' EXIT
  ensure_venv
  # shellcheck source=../scripts/pg.sh
  source "$root/scripts/pg.sh"
  pg_start "$state/pg" "$pg_port" || fail "PostgreSQL did not start; see $state/pg/server.log"
  "$(pg_bin)/psql" -q -h 127.0.0.1 -p "$pg_port" -U postgres -tc "SELECT 1 FROM pg_database WHERE datname = 'products'" |
    grep -q 1 || "$(pg_bin)/createdb" -h 127.0.0.1 -p "$pg_port" -U postgres products
  local bin=${CARGO_TARGET_DIR:-$root/target}/release/product-search
  [[ -x $bin ]] || (cd "$root" && scripts/release-build.sh) || fail "building the service failed"
  RUST_LOG=${RUST_LOG:-warn} "$bin" --listen "127.0.0.1:$service_port" --metrics-listen "127.0.0.1:$((service_port + 2))" \
    --count "$count" --database-url "$(pg_url "$pg_port" products)" >>"$state/logs/service.log" 2>&1 &
  echo $! >"$state/service.pid"
  # LocalStack in a session of its own: stopping its process group stops every function too.
  # On the host: its files under STATE_DIR, no DNS server, the services the root uses.
  setsid env OVERRIDE_IN_DOCKER=0 FILESYSTEM_ROOT="$state/localstack" GATEWAY_LISTEN="127.0.0.1:$ls_port" \
    DNS_ADDRESS=0 SERVICES=apigateway,lambda,iam,logs,sqs,ec2,sts,cloudwatch LAMBDA_RUNTIME_EXECUTOR=host \
    SKIP_SSL_CERT_DOWNLOAD=1 DISABLE_EVENTS=1 \
    "$venv/bin/python" -m localstack.runtime.main >>"$state/logs/localstack.log" 2>&1 &
  echo $! >"$state/localstack.pid"
  wait_for "http://127.0.0.1:$service_port/health" "$start_timeout" "$state/service.pid" "the service"
  wait_for "$endpoint/_localstack/health" "$start_timeout" "$state/localstack.pid" "LocalStack"
  trap - EXIT
  echo "LocalStack $endpoint; service http://127.0.0.1:$service_port on PostgreSQL 127.0.0.1:$pg_port"
}

stop() {
  local pid
  if [[ -f $state/localstack.pid ]]; then
    pid=$(cat "$state/localstack.pid")
    kill -TERM -- "-$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL -- "-$pid" 2>/dev/null || true
    rm -f "$state/localstack.pid"
  fi
  if [[ -f $state/service.pid ]]; then
    pid=$(cat "$state/service.pid")
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$state/service.pid"
  fi
  if [[ -d $state/pg ]]; then
    # shellcheck source=../scripts/pg.sh
    source "$root/scripts/pg.sh"
    pg_stop "$state/pg" || true
  fi
}

status() {
  local role
  for role in localstack service; do
    if [[ -f $state/$role.pid ]] && kill -0 "$(cat "$state/$role.pid")" 2>/dev/null; then
      echo "$role $(cat "$state/$role.pid") running"
    else
      echo "$role stopped"
    fi
  done
}

# terraform through tflocal, with the provider from the mirror when the machine has one.
tflocal_run() {
  ensure_venv
  if [[ ! -f ${TF_CLI_CONFIG_FILE:-} && -d /opt/tf-plugins ]]; then
    mkdir -p "$state"
    cat >"$state/terraform.rc" <<'HCL'
provider_installation {
  filesystem_mirror {
    path    = "/opt/tf-plugins"
    include = ["registry.terraform.io/hashicorp/*"]
  }
  direct {
    exclude = ["registry.terraform.io/hashicorp/*"]
  }
}
HCL
    export TF_CLI_CONFIG_FILE="$state/terraform.rc"
  fi
  # The root runs from a copy in STATE_DIR, so its state and tflocal's provider override
  # stay out of the working tree; an override left by a killed run would stop the next.
  mkdir -p "$tree/localstack" "$tree/infra"
  cp "$here"/*.tf "$here/.terraform.lock.hcl" "$tree/localstack/"
  rm -rf "$tree/infra/modules" && cp -r "$root/infra/modules" "$tree/infra/"
  rm -f "$tree/localstack/localstack_providers_override.tf"
  (cd "$tree/localstack" && AWS_ENDPOINT_URL="$endpoint" TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1 "$venv/bin/tflocal" "$@")
}

zip="$state/lambda/proxy/bootstrap.zip"
tf_vars() {
  echo -var "proxy_zip=$zip" -var "target_url=http://127.0.0.1:$service_port" -var "localstack_endpoint=$endpoint" \
    ${TF_EXTRA_VARS:-}
}

deploy() {
  command -v cargo-lambda >/dev/null || PATH="$root/.venv/bin:$PATH"
  command -v cargo-lambda >/dev/null || fail "cargo-lambda is needed (pip install cargo-lambda ziglang, or scripts/python-env.sh)"
  (cd "$root" && cargo lambda build --release --output-format zip -p proxy --lambda-dir "$state/lambda") \
    >"$state/logs/lambda-build.log" 2>&1 || { tail -20 "$state/logs/lambda-build.log" >&2; fail "cargo lambda build failed"; }
  tflocal_run init -input=false -no-color >"$state/logs/terraform-init.log" ||
    { cat "$state/logs/terraform-init.log" >&2; fail "tflocal init failed"; }
  # shellcheck disable=SC2046
  tflocal_run apply -auto-approve -input=false -no-color $(tf_vars)
}

destroy() {
  # shellcheck disable=SC2046
  tflocal_run destroy -auto-approve -input=false -no-color $(tf_vars)
}

url() {
  (cd "$tree/localstack" 2>/dev/null && terraform output -raw localstack_url 2>/dev/null) ||
    fail "nothing is deployed: run make deploy"
}

case ${1:-} in
  start) start ;;
  stop) stop ;;
  status) status ;;
  deploy) deploy ;;
  destroy) destroy ;;
  url) url ;;
  *) sed -n '2,17p' "$0" >&2; exit 2 ;;
esac
