#!/usr/bin/env bash
# Builds the kkp-webhook container image as an OCI image archive, without a container daemon:
# a static (musl) release build of kkp-webhook, one layer holding only /kkp-webhook on an empty
# base, entrypoint /kkp-webhook, user 65532:65532 (non-root), assembled with crane (built from
# its Go module by scripts/tools.sh) through a registry that runs in memory on 127.0.0.1 for the
# duration of this script. `podman load -i`, `skopeo copy oci-archive:...` and `crane push`
# read the result. The Containerfile builds the same image where a container builder is at hand.
#
#   scripts/image.sh [OUTPUT]   default dist/kkp-webhook_v<version>_linux_<arch>.oci.tar
# IMAGE names the image reference inside the archive (default ghcr.io/kubectl-kkp/kkp-webhook:v<version>).
# KKP_IMAGE_PROFILE names the cargo profile of the binary (default release; the tests use
# image-check, the same static stripped binary without optimisation).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

fail() { echo "image: $*" >&2; exit 1; }

version="$(awk -F'"' '/^\[workspace\.package\]/ { s = 1; next } /^\[/ { s = 0 } s && /^version *=/ { print $2; exit }' Cargo.toml)"
[[ -n "$version" ]] || fail "cannot read the workspace version from Cargo.toml"
[[ "$(uname -s)" == Linux ]] || fail "the image holds a Linux binary; build it on Linux (or use the Containerfile)"
case "$(uname -m)" in
  x86_64 | amd64) arch=amd64; target=x86_64-unknown-linux-musl ;;
  aarch64 | arm64) arch=arm64; target=aarch64-unknown-linux-musl ;;
  *) fail "unsupported architecture $(uname -m) (amd64, arm64)" ;;
esac
output="${1:-dist/kkp-webhook_v${version}_linux_${arch}.oci.tar}"
image="${IMAGE:-ghcr.io/kubectl-kkp/kkp-webhook:v${version}}"

# The static binary: Rust's musl target links statically by default.
if command -v rustup >/dev/null 2>&1 && ! rustup target list --installed | grep -qx "$target"; then
  echo "image: adding the Rust target $target" >&2
  rustup target add "$target" >&2 || fail "cannot add the Rust target $target (rustup target add $target)"
fi
# A C compiler for musl, for the crates that compile C (ring, mimalloc).
cc_var="CC_${target//-/_}"
if [[ -z "${!cc_var:-}" ]]; then
  if command -v "${target%%-*}-linux-musl-gcc" >/dev/null 2>&1; then
    export "$cc_var=${target%%-*}-linux-musl-gcc"
  elif command -v musl-gcc >/dev/null 2>&1; then
    export "$cc_var=musl-gcc"
  else
    fail "no C compiler for musl (musl-gcc); install musl-tools (Debian, Ubuntu) or musl-dev (Alpine), or set $cc_var"
  fi
fi
profile="${KKP_IMAGE_PROFILE:-release}"
[[ "$profile" =~ ^[a-z][a-z0-9-]*$ ]] || fail "KKP_IMAGE_PROFILE=$profile is not a cargo profile name"
echo "image: cargo build --profile $profile --target $target -p kkp-webhook (C compiler ${!cc_var})" >&2
cargo build --profile "$profile" --locked --target "$target" -p kkp-webhook --bin kkp-webhook >&2
case "$profile" in
  dev | test) profile_dir=debug ;;
  bench) profile_dir=release ;;
  *) profile_dir="$profile" ;;
esac
target_dir="$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
binary="${target_dir:-target}/$target/$profile_dir/kkp-webhook"
[[ -x "$binary" ]] || fail "$binary was not built"
if command -v file >/dev/null 2>&1 && file "$binary" | grep -q "dynamically linked"; then
  fail "$binary is dynamically linked; the image has no libc"
fi

crane="${KKP_CRANE:-}"
[[ -n "$crane" ]] || crane="$(scripts/tools.sh crane | tail -n 1)" || fail "crane could not be built (see above)"

work="$(mktemp -d "${TMPDIR:-/tmp}/kkp-image.XXXXXX")"
registry_pid=""
cleanup() {
  [[ -n "$registry_pid" ]] && kill "$registry_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# The one layer: /kkp-webhook, owned by root, read and run by anyone, with a fixed time so the
# same binary gives the same layer.
mkdir -p "$work/root"
install -m 0755 "$binary" "$work/root/kkp-webhook"
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$work/root" -cf "$work/layer.tar" kkp-webhook

# A registry in memory on a free loopback port.
"$crane" registry serve --address 127.0.0.1:0 >"$work/registry.log" 2>&1 &
registry_pid=$!
port=""
for _ in $(seq 1 100); do
  port="$(sed -n 's/.*serving on port \([0-9][0-9]*\).*/\1/p' "$work/registry.log" | head -n 1)"
  [[ -n "$port" ]] && break
  kill -0 "$registry_pid" 2>/dev/null || break
  sleep 0.1
done
[[ -n "$port" ]] || { cat "$work/registry.log" >&2; fail "crane's registry did not start"; }
ref="127.0.0.1:$port/kkp-webhook:v$version"

"$crane" append --insecure --oci-empty-base -f "$work/layer.tar" -t "$ref" >/dev/null
"$crane" mutate --insecure "$ref" -t "$ref" \
  --entrypoint /kkp-webhook --user 65532:65532 --set-platform "linux/$arch" \
  -l "org.opencontainers.image.title=kkp-webhook" \
  -l "org.opencontainers.image.version=v$version" \
  -l "org.opencontainers.image.revision=$(git rev-parse HEAD 2>/dev/null || echo unknown)" \
  -l "org.opencontainers.image.source=https://github.com/kubectl-kkp/kubectl-kkp" >/dev/null
"$crane" pull --insecure --format oci "$ref" "$work/layout"
# The reference the archive is loaded as.
manifest_type='"mediaType": "application/vnd.oci.image.manifest.v1+json",'
grep -q "$manifest_type" "$work/layout/index.json" || fail "crane wrote an index.json without an OCI manifest"
sed -i "0,/$(printf '%s' "$manifest_type" | sed 's#[/.]#\\&#g')/s##\"annotations\": {\"org.opencontainers.image.ref.name\": \"$image\"}, &#" "$work/layout/index.json"

mkdir -p "$(dirname "$output")"
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$work/layout" -cf "$output.tmp" .
mv "$output.tmp" "$output"
echo "image: $image in $output ($(du -h "$output" | cut -f1))" >&2
echo "$output"
