#!/usr/bin/env bash
# Makes .venv hold requirements-dev.txt installed; does nothing when it is up to date.
# The virtualenv itself lives in a cache folder named after the requirements' hash
# (PRODUCT_SEARCH_CACHE, default ~/.cache/product-search), and .venv links to it: a fresh
# clone with the same requirements finds it ready instead of downloading it all again.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv-cache.sh
cached_venv dev .venv python3 requirements-dev.txt -- -r requirements-dev.txt
