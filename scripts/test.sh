#!/usr/bin/env bash
# Runs every test: formatting, lints, unit tests and the end-to-end tests on a real
# kube-apiserver and etcd (built from their Go modules on first use and cached).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/toolchain.sh
start=$(date +%s)

# A clean build of the workspace and its test binaries needs a few GB under target/. Say so up
# front rather than failing later in the linker with a truncated message.
target_dir="${CARGO_TARGET_DIR:-target}"
mkdir -p "$target_dir"
free_kib=$(df -Pk "$target_dir" | awk 'NR == 2 { print $4 }')
need_kib=$((3 * 1024 * 1024))
if [ "${free_kib:-0}" -lt "$need_kib" ]; then
  echo "test: only $((free_kib / 1024)) MiB free for $target_dir; a clean build needs about 3 GiB" >&2
  echo "test: free some disk space (for example 'cargo clean' in other checkouts) and run again" >&2
  exit 1
fi
# Incremental caches only help repeated local builds; a CI run builds once.
if [ -n "${CI:-}" ]; then
  export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
fi
if ! bin_dir="$(scripts/control-plane.sh build | tail -n 1)"; then
  echo "test: the control plane could not be built; the end-to-end tests cannot run (see above)" >&2
  exit 1
fi
export KKP_CONTROL_PLANE_BIN="$bin_dir"
# helm (the chart tests), crane (the image test) and tofu (the KubeOne tests, in place of
# terraform), built from their Go modules and cached.
for tool in helm crane tofu; do
  if ! tool_path="$(scripts/tools.sh "$tool" | tail -n 1)"; then
    echo "test: $tool could not be built; the tests that run it cannot run (see above)" >&2
    exit 1
  fi
  case "$tool" in
    helm) export KKP_HELM="$tool_path" ;;
    crane) export KKP_CRANE="$tool_path" ;;
    tofu) export KKP_TERRAFORM="${KKP_TERRAFORM:-$tool_path}" ;;
  esac
done

# Some tests read the real upstream objects in place, from the shared/upstream-examples folder next
# to the checkout (or next to one of its parent folders). KKP_UPSTREAM_EXAMPLES overrides the search.
if [ -z "${KKP_UPSTREAM_EXAMPLES:-}" ]; then
  dir="$(pwd -P)"
  while [ "$dir" != "/" ]; do
    dir="$(dirname "$dir")"
    if [ -d "$dir/shared/upstream-examples" ]; then
      KKP_UPSTREAM_EXAMPLES="$dir/shared/upstream-examples"
      break
    fi
  done
fi
if [ -z "${KKP_UPSTREAM_EXAMPLES:-}" ] || [ ! -d "$KKP_UPSTREAM_EXAMPLES" ]; then
  echo "test: the upstream examples folder (shared/upstream-examples) was not found next to this" >&2
  echo "test: checkout or its parents; set KKP_UPSTREAM_EXAMPLES to its path" >&2
  exit 1
fi
export KKP_UPSTREAM_EXAMPLES
echo "test: upstream examples from $KKP_UPSTREAM_EXAMPLES" >&2
export PATH="$bin_dir:$PATH"

echo "test: cargo fmt --check" >&2
cargo fmt --all -- --check
echo "test: cargo clippy" >&2
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "test: cargo test" >&2
# The end-to-end tests run the kubectl-kkp and kkp-webhook that this build puts in the target
# folder (the plugin's and webhook's own tests need them) rather than building them again.
target_abs="$(cd "$target_dir" && pwd -P)"
export KKP_BUILT_BINARIES="$target_abs/debug"
cargo test --workspace --locked
echo "test: all tests passed in $(( $(date +%s) - start ))s" >&2
