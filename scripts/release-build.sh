#!/usr/bin/env bash
# Builds the service's release binary once; every benchmark and load test reuses it.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked --quiet -p product-search --bins
