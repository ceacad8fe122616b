# The two commands a newcomer needs: `make demo` and `make test`.
.PHONY: demo test bench fuzz release image chart tools control-plane crds fmt lint

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

## image: the kkp-webhook container image as an OCI archive in dist/, without a container daemon (crane)
image:
	@scripts/image.sh

## chart: copy the manifests and CRDs into the Helm chart charts/kkp-webhook (its tests check the copies)
chart:
	@scripts/chart.sh sync

## tools: build helm, crane and tofu from their Go modules (cached)
tools:
	@scripts/tools.sh helm >/dev/null
	@scripts/tools.sh crane >/dev/null
	@scripts/tools.sh tofu >/dev/null

## control-plane: build kube-apiserver, etcd and kubectl from their Go modules (cached)
control-plane:
	@scripts/control-plane.sh build

## crds: regenerate the CRD manifests from the Rust types
crds:
	cargo run -q -p kkp-crds --bin crdgen
	@scripts/chart.sh sync

fmt:
	cargo fmt --all

lint:
	cargo clippy --workspace --all-targets -- -D warnings
