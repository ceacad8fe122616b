//! `make demo` runs to the end: the whole flow on two real control planes, as the README promises.

use kkp_e2e::demo::{self, Narrator};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_runs_to_the_end() {
    kkp_e2e::install_crypto_provider();
    let mut narrator = Narrator::new(Vec::new());
    let result = demo::run(&mut narrator).await;
    let out = String::from_utf8(narrator.into_inner()).expect("UTF-8");
    let running = result.unwrap_or_else(|e| panic!("the demo failed: {e}\n{out}"));
    for expected in [
        // The webhook's defaults on a minimal Cluster.
        "proxyMode: iptables",
        // A denial that lists every field error.
        "spec.containerRuntime: Unsupported value: \"docker\"",
        "spec.clusterNetwork.dnsDomain: Invalid value: \"example.local\": must be cluster.local",
        // The policy, checked by the plugin and enforced by the webhook.
        "policy \"allowed-providers\" rule providers: provider \"aws\" is not allowed",
        "denied the request",
        // The cluster runs and its kubeconfig reaches it.
        "cluster \"demo\": Running and healthy",
        "demo-worker",
    ] {
        assert!(out.contains(expected), "the demo output lacks {expected:?}:\n{out}");
    }
    assert!(running.cluster_kubeconfig().is_file());
}
