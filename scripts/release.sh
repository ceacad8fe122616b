#!/usr/bin/env bash
# Builds the release archives for this machine's platform into dist/:
#   kubectl-kkp_v<version>_<os>_<arch>.tar.gz  kubectl-kkp, kubectl_complete-kkp (+ LICENSE, README.md)
#   kkp-webhook_v<version>_<os>_<arch>.tar.gz  kkp-webhook (+ LICENSE, README.md)
#   SHA256SUMS                                 the archives' sha256 sums
#   kkp.yaml                                   plugins/kkp.yaml with this platform's sha256 filled in
# Every file is written to a temporary name in dist/ and renamed into place, so an interrupted run
# never leaves a half-written archive under its final name.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

fail() { echo "release: $*" >&2; exit 1; }

version="$(awk -F'"' '/^\[workspace\.package\]/ { s = 1; next } /^\[/ { s = 0 } s && /^version *=/ { print $2; exit }' Cargo.toml)"
[[ -n "$version" ]] || fail "cannot read the workspace version from Cargo.toml"

case "$(uname -s)" in
  Linux) os=linux ;;
  Darwin) os=darwin ;;
  *) fail "unsupported operating system $(uname -s) (krew manifest: linux, darwin)" ;;
esac
case "$(uname -m)" in
  x86_64 | amd64) arch=amd64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) fail "unsupported architecture $(uname -m) (krew manifest: amd64, arm64)" ;;
esac

if command -v sha256sum >/dev/null 2>&1; then
  sha256() { sha256sum "$@"; }
elif command -v shasum >/dev/null 2>&1; then
  sha256() { shasum -a 256 "$@"; }
else
  fail "neither sha256sum nor shasum is installed"
fi

manifest=plugins/kkp.yaml
grep -q "^  version: v${version}\$" "$manifest" || fail "$manifest: spec.version is not v$version"
placeholder="@SHA256_${os}_${arch}@"
grep -q "$placeholder" "$manifest" || fail "$manifest: no placeholder $placeholder for this platform"

start=$(date +%s)
echo "release: building v$version for $os/$arch" >&2
cargo build --release --locked -p kubectl-kkp -p kkp-webhook --bins
target_dir="${CARGO_TARGET_DIR:-target}/release"
for bin in kubectl-kkp kubectl_complete-kkp kkp-webhook; do
  [[ -x "$target_dir/$bin" ]] || fail "$target_dir/$bin was not built"
done
"$target_dir/kubectl-kkp" --version | grep -qx "kubectl kkp $version" || fail "kubectl-kkp --version does not say $version"

mkdir -p dist
tmp="$(mktemp -d dist/.release.XXXXXX)"
trap 'rm -rf "$tmp"' EXIT

docs=()
for f in LICENSE README.md; do
  if [[ -f "$f" ]]; then docs+=("$f"); fi
done

plugin_archive="kubectl-kkp_v${version}_${os}_${arch}.tar.gz"
webhook_archive="kkp-webhook_v${version}_${os}_${arch}.tar.gz"

# pack ARCHIVE BINARY...: dist/ARCHIVE with the binaries and docs at its root.
pack() {
  local archive="$1"; shift
  local stage="$tmp/stage-$archive"
  mkdir "$stage"
  local bin
  for bin in "$@"; do cp "$target_dir/$bin" "$stage/"; done
  if ((${#docs[@]})); then cp "${docs[@]}" "$stage/"; fi
  (cd "$stage" && tar -czf "../$archive" -- *)
  mv -f "$tmp/$archive" "dist/$archive"
}

pack "$plugin_archive" kubectl-kkp kubectl_complete-kkp
pack "$webhook_archive" kkp-webhook

(cd dist && sha256 "$plugin_archive" "$webhook_archive") >"$tmp/SHA256SUMS"
mv -f "$tmp/SHA256SUMS" dist/SHA256SUMS

plugin_sha="$(cd dist && sha256 "$plugin_archive" | awk '{ print $1 }')"
[[ "$plugin_sha" =~ ^[0-9a-f]{64}$ ]] || fail "cannot compute the sha256 of dist/$plugin_archive"
sed "s/\"$placeholder\"/$plugin_sha/" "$manifest" >"$tmp/kkp.yaml"
mv -f "$tmp/kkp.yaml" dist/kkp.yaml

echo "release: done in $(($(date +%s) - start))s" >&2
ls -l "dist/$plugin_archive" "dist/$webhook_archive" >&2
not_built="$(sed -n 's/.*@SHA256_\([a-z]*\)_\([a-z0-9]*\)@.*/\1\/\2/p' dist/kkp.yaml | paste -sd ' ' -)"
echo "release: dist/kkp.yaml has the sha256 for $os/$arch" >&2
if [[ -n "$not_built" ]]; then
  echo "release: not built here, sha256 placeholders kept in dist/kkp.yaml: $not_built" >&2
fi
