#!/usr/bin/env bash
# Cargo runs rustc through this (`build.rustc-wrapper` in .cargo/config.toml). An optimised
# build (`-C opt-level=3`: `cargo build --release`) of any crate is given the execution
# profile in pgo/, so the compiler lays out and inlines the code the way the service runs
# it: the hot paths of search, indexing and HTTP straight, the rest out of the way
# (benches/RESULTS.md, "Builds guided by a profile"). The profile is read by the LLVM that
# wrote it: pgo/product-search.llvm-N.profdata serves a rustc built on LLVM N, and a rustc
# on another LLVM builds without a profile. Every other build (tests, `cargo check`,
# clippy) runs rustc unchanged. With PGO_GENERATE=DIR an optimised build is instrumented
# instead, writing its counts under DIR: scripts/pgo-profile.sh.
set -euo pipefail
rustc=$1
shift
for arg in "$@"; do
  if [[ $arg == opt-level=3 ]]; then
    if [[ -n ${PGO_GENERATE:-} ]]; then
      exec "$rustc" "$@" -C profile-generate="$PGO_GENERATE"
    fi
    llvm=$("$rustc" -vV | sed -n 's/^LLVM version: \([0-9]*\).*/\1/p')
    root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
    profile="$root/pgo/product-search.llvm-$llvm.profdata"
    if [[ -f $profile ]]; then
      exec "$rustc" "$@" -C profile-use="$profile"
    fi
    break
  fi
done
exec "$rustc" "$@"
