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
# The Go builds (the control plane, then helm, crane and tofu) run in the background beside the
# Rust checks and build: on a cold machine each of the two leaves a core idle for long stretches
# (Go's links, the workspace's last crates). With warm caches they finish at once.
go_log="$target_dir/go-builds.log"
go_paths="$target_dir/go-builds.paths"
go_builds() {
  local path tool
  path="$(scripts/control-plane.sh build | tail -n 1)" || {
    echo "the control plane could not be built; the end-to-end tests cannot run"
    return 1
  }
  echo "KKP_CONTROL_PLANE_BIN=$path" >"$go_paths"
  # helm (the chart tests), crane (the image test) and tofu (the KubeOne tests, in place of
  # terraform), built from their Go modules and cached.
  for tool in helm crane tofu; do
    path="$(scripts/tools.sh "$tool" | tail -n 1)" || {
      echo "$tool could not be built; the tests that run it cannot run"
      return 1
    }
    echo "$tool=$path" >>"$go_paths"
  done
}
rm -f "$go_paths"
go_builds >"$go_log" 2>&1 &
go_pid=$!
trap 'kill "$go_pid" 2>/dev/null || true' EXIT
echo "test: building or finding the control plane, helm, crane and tofu in the background (log: $go_log)" >&2

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

echo "test: cargo fmt --check" >&2
cargo fmt --all -- --check
echo "test: cargo clippy" >&2
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "test: cargo test --no-run (building the tests)" >&2
cargo test --workspace --locked --no-run

if ! wait "$go_pid"; then
  tail -n 40 "$go_log" >&2
  echo "test: $(tail -n 1 "$go_log") (the log above, in full in $go_log)" >&2
  exit 1
fi
trap - EXIT
while IFS='=' read -r name path; do
  case "$name" in
    KKP_CONTROL_PLANE_BIN) export KKP_CONTROL_PLANE_BIN="$path"; export PATH="$path:$PATH" ;;
    helm) export KKP_HELM="$path" ;;
    crane) export KKP_CRANE="$path" ;;
    tofu) export KKP_TERRAFORM="${KKP_TERRAFORM:-$path}" ;;
  esac
done <"$go_paths"
grep -E "already built|: built " "$go_log" >&2 || true

echo "test: cargo test (scripts/run-tests.sh: several test binaries at a time)" >&2
# The end-to-end tests run the kubectl-kkp and kkp-webhook that this build puts in the target
# folder (the plugin's and webhook's own tests need them) rather than building them again.
target_abs="$(cd "$target_dir" && pwd -P)"
export KKP_BUILT_BINARIES="$target_abs/debug"
scripts/run-tests.sh
echo "test: all tests passed in $(( $(date +%s) - start ))s" >&2
