#!/usr/bin/env bash
# The search page in headless Chromium (Debian's package, driven by Playwright): typing,
# facets, paging, shared links, zero results, a result opened (and its click counted), a
# phone-width screen. Screenshots are kept in
# target/browser-tests (or $BROWSER_TEST_OUTPUT).
source "$(dirname "$0")/lib.sh"
[[ -x /usr/bin/chromium ]] || { echo "FAIL: /usr/bin/chromium is not installed" >&2; exit 1; }
port=$(free_port) metrics=$(free_port)
start_service "$port" "$metrics" --count 20000 --analytics-flush-ms 100
output=${BROWSER_TEST_OUTPUT:-$root/target/browser-tests}
"$root/.venv/bin/python" "$root/tests/browser/search_page.py" "http://127.0.0.1:$port" "$output"
echo "PASS: the search page works in a real browser"
