#!/usr/bin/env bash
# Builds the Go tools the chart and image tests use (helm, crane) from their Go modules, pinned
# below, into a per-user cache folder keyed by version, so a second run does nothing.
#
#   scripts/tools.sh helm    build helm when missing, print its path last
#   scripts/tools.sh crane   build crane when missing, print its path last
#   scripts/tools.sh path TOOL   print where TOOL is (built or not)
set -euo pipefail

helm_module=helm.sh/helm/v4
helm_version=v4.3.2
crane_module=github.com/google/go-containerregistry
crane_version=v0.22.1

cache_root="${KKP_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-kkp}"

usage() { echo "usage: $0 helm|crane|path helm|path crane" >&2; exit 2; }

# The package to build, its version and where the binary goes, for a tool name.
locate() {
  case "$1" in
    helm) pkg="$helm_module/cmd/helm"; version="$helm_version"
      ldflags="-s -w -X helm.sh/helm/v4/internal/version.version=$helm_version" ;;
    crane) pkg="$crane_module/cmd/crane"; version="$crane_version"; ldflags="-s -w" ;;
    *) usage ;;
  esac
  bin="$cache_root/$1-$version/bin/$1"
}

[[ $# -ge 1 ]] || usage
case "$1" in
  path) [[ $# -eq 2 ]] || usage; locate "$2"; echo "$bin"; exit 0 ;;
  helm | crane) tool="$1"; locate "$tool" ;;
  *) usage ;;
esac

if [[ -x "$bin" ]]; then
  echo "tools: $tool $version already built in $(dirname "$bin")" >&2
  echo "$bin"
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  echo "tools: Go is not installed or not on PATH; it is needed to build $tool $version from $pkg" >&2
  exit 1
fi

start=$(date +%s)
echo "tools: building $tool $version from $pkg with $(go version) (a cold build takes a few minutes)" >&2
tmp_dir="$(mktemp -d "${TMPDIR:-/tmp}/kkp-tools.XXXXXX")"
trap 'rm -rf "$tmp_dir"' EXIT
export CGO_ENABLED=0 GOTOOLCHAIN=local GOBIN="$tmp_dir"
if ! go install -trimpath -ldflags "$ldflags" "$pkg@$version" 2>"$tmp_dir/build.log"; then
  echo "tools: building $tool $version failed; is the Go module proxy reachable (GOPROXY=$(go env GOPROXY))?" >&2
  tail -n 20 "$tmp_dir/build.log" >&2
  exit 1
fi
# Move into place only once it built, so a failed build leaves nothing half-written.
mkdir -p "$(dirname "$bin")"
mv "$tmp_dir/$tool" "$bin.tmp"
mv "$bin.tmp" "$bin"
echo "tools: built $tool $version in $(( $(date +%s) - start ))s into $(dirname "$bin")" >&2
echo "$bin"
