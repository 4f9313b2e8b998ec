#!/usr/bin/env bash
# Every check of the project, from a fresh machine: formatting, lints, the Rust test suite,
# then system tests against a release build (a real Prometheus scraping the service, short
# Locust runs). Installs what the checks need first; safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v cargo >/dev/null || { echo "cargo is required (https://rustup.rs)" >&2; exit 1; }
command -v python3 >/dev/null || { echo "python3 is required" >&2; exit 1; }

# Debian packages the tests use, installed only when missing. The PostgreSQL server binaries
# are for the tests' own servers (initdb into temporary folders); no system cluster is run.
# Chromium is the browser the search page's tests drive (Playwright never downloads one).
apt_packages=(prometheus curl postgresql haproxy chromium)
missing=()
for package in "${apt_packages[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if ((${#missing[@]})); then
  echo "== installing ${missing[*]}"
  sudo=""
  [[ $(id -u) == 0 ]] || sudo=sudo
  $sudo apt-get update -qq
  # Packages must not start services here (postgresql would start a cluster on 5432).
  no_services=""
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
    $sudo chmod +x /usr/sbin/policy-rc.d
    no_services=1
  fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
  [[ -n $no_services ]] && $sudo rm -f /usr/sbin/policy-rc.d
fi
echo "== python tools (.venv)"
scripts/python-env.sh

echo "== cargo fmt --check"
cargo fmt --all --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test"
# The search bench runs once in test mode; a small catalogue keeps that quick.
BENCH_PRODUCTS=5000 cargo test --workspace --all-targets --locked

echo "== release build"
scripts/release-build.sh
for test in tests/system/*.sh; do
  [[ $test == */lib.sh ]] && continue
  echo "== $test"
  bash "$test"
done
echo "== all checks passed"
