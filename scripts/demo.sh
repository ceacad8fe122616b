#!/usr/bin/env bash
# The demo: two local control planes (a KKP seed and a user cluster), the CRDs, kkp-webhook with
# two admission policies, and `kubectl kkp` creating a cluster and fetching its kubeconfig.
# Everything keeps running until Ctrl-C; pass --exit to stop at the end.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/toolchain.sh
bin_dir="$(scripts/control-plane.sh build | tail -n 1)"
export KKP_CONTROL_PLANE_BIN="$bin_dir"
export PATH="$bin_dir:$PWD/target/debug:$PATH"

echo "demo: building kubectl-kkp, kkp-webhook and the demo" >&2
cargo build -q -p kubectl-kkp -p kkp-webhook -p kkp-e2e --bins
exec target/debug/kkp-demo "$@"
