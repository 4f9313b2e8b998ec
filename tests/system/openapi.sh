#!/usr/bin/env bash
# The OpenAPI document against the running release build: `product-search openapi` prints
# what `/openapi.json` serves, and schemathesis (every operation, a bounded number of
# generated cases, valid and invalid) finds no 5xx and no response that strays from the
# document: status, content type, headers and body schema, error bodies included.
source "$(dirname "$0")/lib.sh"
st="$root/.venv/bin/schemathesis"
[[ -x $st ]] || { echo "FAIL: schemathesis is not installed (scripts/python-env.sh)" >&2; exit 1; }
port=$(free_port) metrics=$(free_port)
start_service "$port" "$metrics" --count 2000

"$root/target/release/product-search" openapi >"$work/printed.json"
curl -sf "http://127.0.0.1:$port/openapi.json" >"$work/served.json"
python3 - "$work/printed.json" "$work/served.json" <<'PY'
import json, sys
printed, served = (json.load(open(path)) for path in sys.argv[1:])
assert printed == served, "`product-search openapi` and /openapi.json differ"
assert printed["openapi"].startswith("3.1"), printed["openapi"]
operations = sum(len(item) for item in printed["paths"].values())
print(f"document: OpenAPI {printed['openapi']}, {len(printed['paths'])} paths, {operations} operations")
open(sys.argv[1] + ".operations", "w").write(str(operations))
PY
operations=$(cat "$work/printed.json.operations")

# `min-catalog-version` is fixed at 0: a version nobody wrote makes the request wait, then
# answer the documented 503 CATALOG_BEHIND, which the no-5xx check would count. The HTTP
# tests cover that header.
cd "$work"
set +e
SCHEMATHESIS_HOOKS=schemathesis_hooks PYTHONPATH="$root/tests/system" "$st" run \
  "http://127.0.0.1:$port/openapi.json" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance \
  --header 'min-catalog-version: 0' \
  --max-examples "${SCHEMATHESIS_EXAMPLES:-50}" --seed 1 --generation-database none \
  --request-timeout 10 --no-color >"$work/schemathesis.log" 2>&1
status=$?
set -e
if ((status != 0)); then
  cat "$work/schemathesis.log" >&2
  echo "FAIL: schemathesis exited $status" >&2
  exit 1
fi
grep -E "Operations:|generated," "$work/schemathesis.log" | sed 's/^ */schemathesis: /'
grep -Eq "Tested: +$operations\b" "$work/schemathesis.log" || { echo "FAIL: not all $operations operations were tested" >&2; exit 1; }
echo "PASS: the API keeps to its OpenAPI document"
