#!/usr/bin/env bash
# A real Prometheus server scrapes the service; after some traffic, its HTTP API must show
# the target up, a request rate and a latency quantile computed from our series.
source "$(dirname "$0")/lib.sh"
command -v prometheus >/dev/null || { echo "FAIL: prometheus is not installed" >&2; exit 1; }
port=$(free_port) metrics=$(free_port) prom=$(free_port)
start_service "$port" "$metrics"
cat >"$work/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: product-search
    static_configs:
      - targets: ["127.0.0.1:$metrics"]
YAML
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
  --web.listen-address="127.0.0.1:$prom" >"$work/prometheus.log" 2>&1 &
pids+=($!)
wait_for "http://127.0.0.1:$prom/-/ready" 60

# Bounded traffic: 12 seconds at most, 3,000 requests at most.
python3 - "$port" <<'PY'
import sys, time, urllib.request
base = f"http://127.0.0.1:{sys.argv[1]}"
paths = ["/products/search?q=alpha", "/products/search?q=wireless%20headph", "/products/42", "/health"]
deadline, sent = time.time() + 12, 0
while time.time() < deadline and sent < 3000:
    urllib.request.urlopen(base + paths[sent % len(paths)], timeout=5).read()
    sent += 1
    time.sleep(0.002)
print(f"sent {sent} requests")
PY

query() {
  python3 - "$prom" "$1" <<'PY'
import json, sys, urllib.parse, urllib.request
url = f"http://127.0.0.1:{sys.argv[1]}/api/v1/query?" + urllib.parse.urlencode({"query": sys.argv[2]})
body = json.load(urllib.request.urlopen(url, timeout=10))
result = body["data"]["result"]
print(result[0]["value"][1] if result else "none")
PY
}
check() {
  local name=$1 expr=$2 value
  value=$(query "$expr")
  if [[ $value == none || $value == NaN ]] || ! python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) > 0 else 1)" "$value"; then
    echo "FAIL: $name: $expr gave $value"
    exit 1
  fi
  echo "ok: $name = $value"
}
check "target up" 'up{job="product-search"}'
check "request rate" 'sum(rate(http_requests_total{job="product-search"}[10s]))'
check "search rate" 'sum(rate(http_requests_total{job="product-search",route="/products/search",status="200"}[10s]))'
check "p99 latency" 'histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{job="product-search"}[10s])))'
check "search p50" 'histogram_quantile(0.5, sum by (le) (rate(search_duration_seconds_bucket{job="product-search"}[10s])))'
check "resident memory" 'process_resident_memory_bytes{job="product-search"}'
echo "PASS: prometheus scraped the service and computed rates and quantiles"
