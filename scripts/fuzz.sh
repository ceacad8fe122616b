#!/usr/bin/env bash
# Fuzzes the engine for longer than `make test` does: the structured fuzz tests of crds/tests/fuzz.rs
# in release, with KKP_FUZZ_CASES cases per test (default 100000) from a fresh random seed
# (KKP_FUZZ_SEED=<number> repeats a run; the seed is printed). A case that fails is shrunk, printed
# and saved in crds/tests/fuzz.proptest-regressions, which later runs try first.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

export KKP_FUZZ_CASES="${KKP_FUZZ_CASES:-100000}"
export KKP_FUZZ_SEED="${KKP_FUZZ_SEED:-random}"
start=$(date +%s)
echo "fuzz: ${KKP_FUZZ_CASES} cases per test, seed ${KKP_FUZZ_SEED}" >&2
cargo test --release --locked -p kkp-crds --test fuzz -- --nocapture --test-threads 1
echo "fuzz: done in $(( $(date +%s) - start ))s" >&2
