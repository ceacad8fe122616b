#!/usr/bin/env bash
# Builds the Go tools the tests use from their Go modules, pinned below, into a per-user cache
# folder keyed by version, so a second run does nothing: helm (the chart tests), crane (the image
# test) and OpenTofu's `tofu` (the KubeOne tests run `output.tf` files through it; it is a
# drop-in for `terraform` and, unlike Terraform, open source).
#
#   scripts/tools.sh helm|crane|tofu   build the tool when missing, print its path last
#   scripts/tools.sh path TOOL         print where TOOL is (built or not)
set -euo pipefail

helm_module=helm.sh/helm/v4
helm_version=v4.3.2
crane_module=github.com/google/go-containerregistry
crane_version=v0.22.1
tofu_module=github.com/opentofu/opentofu
tofu_version=v1.10.10

cache_root="${KKP_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-kkp}"

usage() { echo "usage: $0 helm|crane|tofu|path TOOL" >&2; exit 2; }

# The package to build, its version and where the binary goes, for a tool name.
locate() {
  case "$1" in
    helm) pkg="$helm_module/cmd/helm"; version="$helm_version"
      ldflags="-s -w -X helm.sh/helm/v4/internal/version.version=$helm_version" ;;
    crane) pkg="$crane_module/cmd/crane"; version="$crane_version"; ldflags="-s -w" ;;
    tofu) pkg="$tofu_module/cmd/tofu"; version="$tofu_version"
      ldflags="-s -w -X github.com/opentofu/opentofu/version.dev=no" ;;
    *) usage ;;
  esac
  bin="$cache_root/$1-$version/bin/$1"
}

[[ $# -ge 1 ]] || usage
case "$1" in
  path) [[ $# -eq 2 ]] || usage; locate "$2"; echo "$bin"; exit 0 ;;
  helm | crane | tofu) tool="$1"; locate "$tool" ;;
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
# `go install module@version` refuses modules whose go.mod has replace directives (OpenTofu's
# has one); those are built inside a copy of the module's source, where go.mod is the main one.
build() {
  if [[ "$tool" != tofu ]]; then
    go install -trimpath -ldflags "$ldflags" "$pkg@$version"
    return
  fi
  local src
  src="$(go mod download -json "$tofu_module@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  [[ -n "$src" && -d "$src" ]] || { echo "go mod download gave no source folder for $tofu_module@$version"; return 1; }
  cp -r "$src" "$tmp_dir/src"
  chmod -R u+w "$tmp_dir/src"
  (cd "$tmp_dir/src" && go build -trimpath -ldflags "$ldflags" -o "$tmp_dir/$tool" ./cmd/tofu)
}
if ! build >"$tmp_dir/build.log" 2>&1; then
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
