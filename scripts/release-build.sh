#!/usr/bin/env bash
# Builds the release binaries once; every benchmark and load test reuses them.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked --quiet -p product-search --bins
