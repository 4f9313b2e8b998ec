#!/usr/bin/env bash
# The rustc wrapper of .cargo/config.toml (scripts/rustc-with-profile.sh), against a rustc
# stand-in that answers `-vV` with an LLVM version and otherwise prints its arguments: an
# optimised build gets the profile of its LLVM, by absolute path; a build at another
# optimisation level, or on another LLVM, gets rustc's arguments unchanged; PGO_GENERATE
# instruments. Then the suite's own release build: its crate's dep-info lists the profile,
# so the binary every system test serves was built with it.
source "$(dirname "$0")/lib.sh"
wrapper="$root/scripts/rustc-with-profile.sh"
cat >"$work/rustc" <<'SH'
#!/usr/bin/env bash
if [[ $1 == -vV ]]; then printf 'rustc 1.0.0\nLLVM version: %s\n' "$FAKE_LLVM"; else printf '%s\n' "$@"; fi
SH
chmod +x "$work/rustc"
args=(--crate-name x src/lib.rs -C opt-level=3 -C codegen-units=1)
run() { "$wrapper" "$work/rustc" "$@" | paste -sd' '; }
expect() { # WHAT GOT WANTED
  [[ $2 == "$3" ]] || { echo "FAIL: $1: got '$2', wanted '$3'" >&2; exit 1; }
  echo "ok: $1"
}

profile="$root/pgo/product-search.llvm-22.profdata"
[[ -f $profile ]] || { echo "FAIL: $profile is missing" >&2; exit 1; }
expect "an optimised build on LLVM 22 gets its profile" "$(FAKE_LLVM=22.1.2 run "${args[@]}")" \
  "${args[*]} -C profile-use=$profile"
expect "an optimised build on another LLVM gets none" "$(FAKE_LLVM=19.1.7 run "${args[@]}")" "${args[*]}"
debug=(--crate-name x src/lib.rs -C opt-level=0)
expect "a build that is not optimised gets none" "$(FAKE_LLVM=22.1.2 run "${debug[@]}")" "${debug[*]}"
expect "PGO_GENERATE instruments an optimised build" \
  "$(PGO_GENERATE=/counts FAKE_LLVM=22.1.2 run "${args[@]}")" "${args[*]} -C profile-generate=/counts"
expect "-vV passes through" "$(FAKE_LLVM=22.1.2 run -vV | cut -d' ' -f1-2)" "rustc 1.0.0"

llvm=$(rustc -vV | sed -n 's/^LLVM version: \([0-9]*\).*/\1/p')
if [[ -f $root/pgo/product-search.llvm-$llvm.profdata ]]; then
  depinfo=$(ls -t "$root"/target/release/deps/product_search-*.d | head -1)
  grep -q "pgo/product-search.llvm-$llvm.profdata" "$depinfo" ||
    { echo "FAIL: the release build did not read the profile ($depinfo; a target folder built" \
      "before the wrapper was added is not rebuilt by cargo: cargo clean --release)" >&2; exit 1; }
  echo "ok: the release build read pgo/product-search.llvm-$llvm.profdata"
else
  echo "ok: no profile for this rustc's LLVM $llvm; its release build has none"
fi
echo "PASS: the rustc wrapper gives optimised builds their LLVM's profile, and nothing else"
