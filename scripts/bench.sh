#!/usr/bin/env bash
# Runs the benchmarks and prints their figures: the engine (default + validate, policies), the
# webhook under load over keep-alive TLS, and the plugin's `generate` next to `kubectl version --client`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/toolchain.sh
bin_dir="$(scripts/control-plane.sh build | tail -n 1)"
export PATH="$bin_dir:$PATH"

cargo bench -p kkp-crds --bench admission -- --warm-up-time 1 --measurement-time 5
cargo bench -p kkp-crds --bench policies -- --warm-up-time 1 --measurement-time 5
# The webhook under load, without policies and with 50 installed (the policy target: p99 < 2 ms).
cargo bench -p kkp-webhook --bench load
KKP_LOAD_POLICIES=50 cargo bench -p kkp-webhook --bench load
# A typical MachineDeployment's reviews only: the payload of the "at most 3x an echo" target.
KKP_LOAD_MIX=machinedeployment cargo bench -p kkp-webhook --bench load
cargo bench -p kubectl-kkp --bench generate
