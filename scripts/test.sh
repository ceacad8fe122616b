#!/usr/bin/env bash
# Runs every test: formatting, lints, unit tests and the end-to-end tests on a real
# kube-apiserver and etcd (built from their Go modules on first use and cached).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/toolchain.sh
start=$(date +%s)
if ! bin_dir="$(scripts/control-plane.sh build | tail -n 1)"; then
  echo "test: the control plane could not be built; the end-to-end tests cannot run (see above)" >&2
  exit 1
fi
export KKP_CONTROL_PLANE_BIN="$bin_dir"
export PATH="$bin_dir:$PATH"

echo "test: cargo fmt --check" >&2
cargo fmt --all -- --check
echo "test: cargo clippy" >&2
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "test: cargo test" >&2
cargo test --workspace --locked
echo "test: all tests passed in $(( $(date +%s) - start ))s" >&2
