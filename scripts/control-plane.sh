#!/usr/bin/env bash
# Builds the real control plane used by the tests and the demo: kube-apiserver,
# kube-controller-manager, kubectl and etcd, from the upstream Go modules pinned in
# tests/control-plane/go.mod. The binaries land in a per-user cache folder keyed by
# version, so a second run does nothing.
#
#   scripts/control-plane.sh build   build when missing, print the bin folder last
#   scripts/control-plane.sh dir     print the bin folder (built or not)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
module="$root/tests/control-plane"

k8s_version="$(awk '$1 == "k8s.io/kubernetes" { print $2; exit }' "$module/go.mod")"
etcd_version="$(awk '$1 == "go.etcd.io/etcd/server/v3" { print $2; exit }' "$module/go.mod")"
if [[ -z "$k8s_version" || -z "$etcd_version" ]]; then
  echo "control-plane: cannot read the Kubernetes and etcd versions from $module/go.mod" >&2
  exit 1
fi
cache_root="${KKP_CONTROL_PLANE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-kkp/control-plane}"
bin_dir="$cache_root/kubernetes-${k8s_version}-etcd-${etcd_version}/bin"
binaries=(etcd kube-apiserver kube-controller-manager kubectl)

cmd="${1:-build}"
case "$cmd" in
  dir) echo "$bin_dir"; exit 0 ;;
  build) ;;
  *) echo "usage: $0 build|dir" >&2; exit 2 ;;
esac

have_all() {
  local b
  for b in "${binaries[@]}"; do [[ -x "$bin_dir/$b" ]] || return 1; done
}

if have_all; then
  echo "control-plane: kubernetes $k8s_version and etcd $etcd_version already built in $bin_dir" >&2
  echo "$bin_dir"
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  echo "control-plane: Go is not installed or not on PATH; it is needed to build kube-apiserver and etcd from their modules (Go $(awk '$1 == "go" { print $2 }' "$module/go.mod") or newer)" >&2
  exit 1
fi

start=$(date +%s)
echo "control-plane: building kubernetes $k8s_version and etcd $etcd_version with $(go version) (a cold build takes several minutes)" >&2

export CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-mod=mod
cd "$module"
tmp_dir="$(mktemp -d "${TMPDIR:-/tmp}/kkp-control-plane.XXXXXX")"
trap 'rm -rf "$tmp_dir"' EXIT
if ! go mod download 2>"$tmp_dir/download.log"; then
  echo "control-plane: downloading the Go modules failed; is the Go module proxy reachable (GOPROXY=$(go env GOPROXY))?" >&2
  tail -n 20 "$tmp_dir/download.log" >&2
  exit 1
fi

minor="${k8s_version#v1.}"; minor="${minor%%.*}"
build_date="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
kube_ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  kube_ldflags+=" -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  kube_ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$build_date -X $pkg.gitCommit=module-build"
done

build() {
  local name="$1" pkg="$2" ldflags="$3" t0
  t0=$(date +%s)
  echo "control-plane: go build $name" >&2
  go build -trimpath -ldflags "$ldflags" -o "$tmp_dir/$name" "$pkg"
  echo "control-plane: built $name in $(( $(date +%s) - t0 ))s" >&2
}

build etcd go.etcd.io/etcd/server/v3 "-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=module-build"
build kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver "$kube_ldflags"
build kube-controller-manager k8s.io/kubernetes/cmd/kube-controller-manager "$kube_ldflags"
build kubectl k8s.io/kubernetes/cmd/kubectl "$kube_ldflags"

# Move into place only when every binary built, so a failed build leaves no half set.
mkdir -p "$bin_dir"
for b in "${binaries[@]}"; do mv "$tmp_dir/$b" "$bin_dir/$b"; done
echo "control-plane: built kubernetes $k8s_version and etcd $etcd_version in $(( $(date +%s) - start ))s into $bin_dir" >&2
echo "$bin_dir"
