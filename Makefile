# The two commands a newcomer needs: `make demo` and `make test`.
.PHONY: demo test bench fuzz release control-plane crds fmt lint

## demo: start a local seed and user control plane, install the CRDs and the webhook, create a cluster with the plugin
demo:
	@scripts/demo.sh

## test: every test, including the end-to-end tests on a real kube-apiserver and etcd
test:
	@scripts/test.sh

## bench: the engine, webhook and plugin benchmarks
bench:
	@scripts/bench.sh

## fuzz: the engine's structured fuzz tests, 100000 cases each in release (KKP_FUZZ_CASES, KKP_FUZZ_SEED)
fuzz:
	@scripts/fuzz.sh

## release: release archives for this platform, SHA256SUMS and the krew manifest dist/kkp.yaml
release:
	@scripts/release.sh

## control-plane: build kube-apiserver, etcd and kubectl from their Go modules (cached)
control-plane:
	@scripts/control-plane.sh build

## crds: regenerate the CRD manifests from the Rust types
crds:
	cargo run -q -p kkp-crds --bin crdgen

fmt:
	cargo fmt --all

lint:
	cargo clippy --workspace --all-targets -- -D warnings
