#!/usr/bin/env bash
# Makes sure the tools the build and tests need are present: the Rust toolchain components
# (rustfmt, clippy), Go (to build the control plane), make and a C linker. Installs what can be
# installed here and says clearly what is missing otherwise.
set -euo pipefail

say() { echo "toolchain: $*" >&2; }

if ! command -v cargo >/dev/null 2>&1; then
  say "cargo is not installed; install Rust (rustup) first"
  exit 1
fi
if command -v rustup >/dev/null 2>&1; then
  for component in rustfmt clippy; do
    if ! rustup component list --installed 2>/dev/null | grep -q "^$component"; then
      say "adding the Rust component $component"
      rustup component add "$component"
    fi
  done
fi
for tool in cargo-fmt cargo-clippy; do
  command -v "$tool" >/dev/null 2>&1 || { say "$tool is missing (rustup component add ${tool#cargo-})"; exit 1; }
done

apt_install() {
  if command -v apt-get >/dev/null 2>&1 && [[ "$(id -u)" == 0 ]]; then
    say "installing Debian packages: $*"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
  else
    say "missing: $*; install them with your package manager"
    exit 1
  fi
}

command -v cc >/dev/null 2>&1 || apt_install gcc libc6-dev
command -v make >/dev/null 2>&1 || apt_install make
# The image (make image, and its test) holds a static musl build of the webhook: the Rust target
# and a C compiler for musl (ring and mimalloc compile C).
if [[ "$(uname -s)" == Linux ]]; then
  command -v musl-gcc >/dev/null 2>&1 || command -v "$(uname -m)-linux-musl-gcc" >/dev/null 2>&1 || apt_install musl-tools
  musl_target="$(uname -m)-unknown-linux-musl"
  if command -v rustup >/dev/null 2>&1 && ! rustup target list --installed | grep -qx "$musl_target"; then
    say "adding the Rust target $musl_target"
    rustup target add "$musl_target"
  fi
fi
if ! command -v go >/dev/null 2>&1; then
  apt_install golang-go
fi
command -v go >/dev/null 2>&1 || { say "Go is missing; it builds kube-apiserver and etcd from their modules"; exit 1; }
