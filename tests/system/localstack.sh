#!/usr/bin/env bash
# The LocalStack root applied to a real LocalStack running on this machine, without Docker
# (localstack/host.sh: LocalStack in its own virtualenv, Lambda environments as host
# processes, the release build on PostgreSQL behind them): tflocal apply; the smoke test
# through the API Gateway stage; the report's Locust plan through it and directly
# (benches/compare.sh: zero failures, the table and chart written); the
# service gone (the proxy's 502 JSON comes back through API Gateway) and the service hung
# (the function's timeout ends the invocation: an answer, not a hung request); destroy, and
# nothing of the stack left; stop, and no process left.
source "$(dirname "$0")/lib.sh"
export PATH="$root/.venv/bin:$PATH"
# The database server runs as the postgres user, who must reach its folder.
chmod 755 "$work"
export STATE_DIR="$work/localstack" CATALOG_COUNT=20000
export LOCALSTACK_PORT SERVICE_PORT
LOCALSTACK_PORT=$(free_port)
# The service, PostgreSQL and the service's metrics.
SERVICE_PORT=$(free_ports_from 0 1 2)
# A short function timeout with a longer wait for the service, so that a hung service ends
# as a Lambda timeout (the proxy would otherwise answer 504 first).
export TF_EXTRA_VARS="-var function_timeout_seconds=5 -var target_timeout_ms=20000"
host="$root/localstack/host.sh"
# Every process of the environment names its folder, or is a function's bootstrap.
ls_pids() { pgrep -f "$STATE_DIR|code/bootstrap" || true; }
export DISABLE_DEPRECATION_NOTICE=1
# Each step runs whatever the one before it did: under `set -e` a failing command ends the
# trap itself (a destroy with nothing deployed fails, and stop and cleanup never ran).
trap '"$host" destroy >/dev/null 2>&1 || true; "$host" stop || true; cleanup' EXIT

echo "-- start (LocalStack on 127.0.0.1:$LOCALSTACK_PORT, the service on $SERVICE_PORT)"
"$host" start
echo "-- the host executor's own tests (fake runtimes: answers, timeouts, crashes)"
(cd "$root/localstack/host-executor/tests" && "$root/localstack/.venv/bin/python" -m unittest -q test_executor 2>&1 | tail -3)
echo "-- deploy (tflocal apply)"
"$host" deploy >"$work/deploy.log" 2>&1 || { tail -40 "$work/deploy.log"; echo "FAIL: deploy"; exit 1; }
grep -E "^Apply complete" "$work/deploy.log"
url=$("$host" url)
echo "stage: $url"

echo "-- smoke test through API Gateway -> Lambda -> the service"
"$root/localstack/smoke.sh" "$url"

echo "-- the report's search plan, the service directly and through the stage (benches/compare.sh)"
"$root/benches/compare.sh" direct "http://127.0.0.1:$SERVICE_PORT" localstack "$url" 10 "$work/compare" 20 5 \
  >"$work/compare.txt" 2>&1 || { cat "$work/compare.txt"; echo "FAIL: compare"; exit 1; }
sed 's/^/  /' "$work/compare/comparison.md"
[[ -s $work/compare/comparison.png ]] || { echo "FAIL: no comparison chart"; exit 1; }
grep -q "| failure rate | 0.00% | 0.00% |" "$work/compare/comparison.md" ||
  { echo "FAIL: failures directly or through the stage"; exit 1; }
echo "-- the proxy's lines reach CloudWatch Logs"
AWS_ENDPOINT_URL="http://127.0.0.1:$LOCALSTACK_PORT" "$root/localstack/.venv/bin/awslocal" logs filter-log-events \
  --log-group-name /aws/lambda/product-search-proxy --query 'events[].message' --output text >"$work/logs.txt"
grep -q "START RequestId" "$work/logs.txt" && grep -q "forwarded" "$work/logs.txt" ||
  { head -c 2000 "$work/logs.txt"; echo "FAIL: no proxy lines in /aws/lambda/product-search-proxy"; exit 1; }

echo "-- the service gone: the proxy's 502 comes back through API Gateway"
service_pid=$(cat "$STATE_DIR/service.pid")
kill "$service_pid"
while kill -0 "$service_pid" 2>/dev/null; do sleep 0.1; done
status=$(curl -s -m 30 -o "$work/gone.json" -w '%{http_code}' "$url/products/1")
[[ $status == 502 ]] && grep -q '"error":"BAD_GATEWAY"' "$work/gone.json" ||
  { echo "FAIL: with the service gone the stage answered $status: $(cat "$work/gone.json")"; exit 1; }
echo "  502 $(cat "$work/gone.json")"

echo "-- the service hung: the function's 5 s timeout ends the invocation"
python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(64)
held = []
while True:
    held.append(s.accept()[0])  # accepted, never answered
' "$SERVICE_PORT" &
pids+=($!)
sleep 0.5
started=$SECONDS
status=$(curl -s -m 60 -o "$work/hung.json" -w '%{http_code}' "$url/products/1")
took=$((SECONDS - started))
[[ $status =~ ^5 ]] && ((took < 30)) ||
  { echo "FAIL: with the service hung the stage answered $status after $took s: $(head -c 300 "$work/hung.json")"; exit 1; }
echo "  $status after ${took}s: $(head -c 200 "$work/hung.json")"
AWS_ENDPOINT_URL="http://127.0.0.1:$LOCALSTACK_PORT" "$root/localstack/.venv/bin/awslocal" logs filter-log-events \
  --log-group-name /aws/lambda/product-search-proxy --query 'events[].message' --output text >"$work/logs.txt"
grep -q "Task timed out after 5.00 seconds" "$work/logs.txt" || { echo "FAIL: no timeout in the function's logs"; exit 1; }

echo "-- destroy: nothing of the stack is left"
"$host" destroy >"$work/destroy.log" 2>&1 || { tail -40 "$work/destroy.log"; echo "FAIL: destroy"; exit 1; }
grep -E "^Destroy complete" "$work/destroy.log"
left=$(cd "$STATE_DIR/tree/localstack" && terraform state list 2>/dev/null | wc -l)
((left == 0)) || { echo "FAIL: $left resources left in the state"; exit 1; }
awslocal_out() { AWS_ENDPOINT_URL="http://127.0.0.1:$LOCALSTACK_PORT" "$root/localstack/.venv/bin/awslocal" "$@" --output text; }
[[ -z $(awslocal_out lambda list-functions --query 'Functions[].FunctionName') ]] || { echo "FAIL: functions left"; exit 1; }
[[ -z $(awslocal_out apigateway get-rest-apis --query 'items[].id') ]] || { echo "FAIL: REST APIs left"; exit 1; }
[[ -z $(awslocal_out sqs list-queues --query 'QueueUrls[]') || $(awslocal_out sqs list-queues --query 'QueueUrls[]') == None ]] ||
  { echo "FAIL: queues left"; exit 1; }

echo "-- stop: no process left"
"$host" stop
sleep 0.5
leftover=$(ls_pids)
[[ -z $leftover ]] || { ps -o pid,args -p "$(echo "$leftover" | paste -sd,)"; echo "FAIL: processes left after stop"; exit 1; }
echo "PASS: the LocalStack root on a real LocalStack, without Docker"
