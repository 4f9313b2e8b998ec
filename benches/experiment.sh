#!/usr/bin/env bash
# The report's experiment (../shared/seeds/001) in one command, on this machine: the same
# Locust search plan (50 users, spawned 3 per second) against both environments, one after
# the other, then a side-by-side table and chart with the report's own AWS and LocalStack
# figures beside ours, labelled as theirs.
#   "ECS behind an ALB": scripts/cluster.sh, REPLICAS replicas of the release build on one
#     PostgreSQL behind HAProxy, which checks /health as the ALB does;
#   "LocalStack": localstack/host.sh, LocalStack on the host (API Gateway -> the Lambda proxy
#     in a host process -> the service on PostgreSQL), the Terraform root applied with
#     tflocal.
# Both serve the generated catalogue of 100,000 products (CATALOG_COUNT). Everything it
# starts it stops.
# Usage: benches/experiment.sh [SECONDS] [OUTDIR] [REPLICAS]   (defaults: 60, results/experiment, 2)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
seconds=${1:-60} out=${2:-results/experiment} replicas=${3:-2}
export CATALOG_COUNT=${CATALOG_COUNT:-100000}
work=$(mktemp -d)
chmod 755 "$work"
export CLUSTER_DIR="$work/cluster" STATE_DIR="$work/localstack"
scripts/python-env.sh
stop_all() {
  localstack/host.sh destroy >/dev/null 2>&1 || true
  localstack/host.sh stop || true
  scripts/cluster.sh stop || true
  rm -rf "$work"
}
trap stop_all EXIT

echo "machine: $(nproc) cores, $(uname -m); date: $(date -u +%Y-%m-%d); $CATALOG_COUNT products; ${seconds}s per environment"
echo "-- the cluster: $replicas replicas behind HAProxy"
lb=$(scripts/cluster.sh start "$replicas" | tail -1)
echo "-- LocalStack on the host"
localstack/host.sh start
localstack/host.sh deploy >"$work/deploy.log" 2>&1 || { tail -30 "$work/deploy.log"; exit 1; }
stage=$(localstack/host.sh url)
echo "cluster: $lb; stage: $stage"
mkdir -p "$out"
benches/compare.sh cluster-behind-haproxy "$lb" localstack-apigw-lambda "$stage" "$seconds" "$out" 50 3 >/dev/null
"$root/.venv/bin/python" benches/compare.py "$out" cluster-behind-haproxy localstack-apigw-lambda \
  "search_ramp.py, 50 users spawned 3/s, ${seconds}s each; ours on one $(nproc)-core machine, the report's as it printed them" \
  --with-report
echo "table: $out/comparison.md; chart: $out/comparison.png; Locust reports: $out/*/report.html"
