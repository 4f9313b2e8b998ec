#!/usr/bin/env bash
# Smoke test of a deployed service through any base URL (the API Gateway stage URL on
# LocalStack, the ALB URL on AWS, or the service itself). Exits non-zero on the first
# failure. Usage: smoke.sh BASE_URL
set -euo pipefail
base=${1:?usage: smoke.sh BASE_URL}
base=${base%/}
fail() { echo "FAIL: $*" >&2; exit 1; }

expect() { # expect STATUS METHOD PATH [BODY [HEADER]]
  local want=$1 method=$2 path=$3 body=${4:-} header=${5:-x-smoke: 1} got
  if [[ -n $body ]]; then
    got=$(curl -s -D /tmp/smoke.headers -o /tmp/smoke.body -w '%{http_code}' -X "$method" -H "$header" \
      -H 'Content-Type: application/json' -d "$body" "$base$path")
  else
    got=$(curl -s -D /tmp/smoke.headers -o /tmp/smoke.body -w '%{http_code}' -X "$method" -H "$header" "$base$path")
  fi
  [[ $got == "$want" ]] || fail "$method $path answered $got, expected $want: $(head -c 300 /tmp/smoke.body)"
  echo "ok: $method $path -> $got"
}

expect 200 GET /health
grep -q '"status":"ok"' /tmp/smoke.body || fail "health body: $(cat /tmp/smoke.body)"
expect 200 GET '/products/search?q=wireless%20headphones&limit=5'
grep -q '"total_found"' /tmp/smoke.body || fail "search body: $(head -c 300 /tmp/smoke.body)"
expect 200 GET /products/1
expect 400 GET /products/abc
grep -q 'productId must be an integer' /tmp/smoke.body || fail "error body: $(cat /tmp/smoke.body)"
expect 404 GET /products/99999999
sku="SMOKE-$(date +%s)"
expect 204 POST /products/1/details "{\"product_id\":1,\"sku\":\"$sku\",\"manufacturer\":\"Acme Corporation\",\"category_id\":456,\"weight\":1250,\"some_other_id\":789}"
# Behind a load balancer the read may reach another replica: it asks for the write's version.
version=$(awk -F': *' 'tolower($1) == "catalog-version" {print $2}' /tmp/smoke.headers | tr -d '\r')
[[ -n $version ]] || fail "the write's answer has no catalog-version header"
expect 200 GET /products/1 "" "min-catalog-version: $version"
grep -q "$sku" /tmp/smoke.body || fail "the write was not read back: $(cat /tmp/smoke.body)"
echo "PASS: smoke test of $base"
