//! End to end: the `kkp-webhook` binary as a cluster admin runs it, against a real control plane of
//! its own: it reads its kubeconfig from KUBECONFIG, takes the cluster version from the apiserver
//! when `--cluster-version` is not given (so KKP's kubelet skew rule applies), serves the apiserver
//! through the shipped webhook configurations, and shuts down cleanly on SIGTERM.

use std::time::Duration;

use kkp_e2e::crds::{ADMISSION_POLICIES, MACHINE_DEPLOYMENTS};
use kkp_e2e::examples::{machine_deployment, object};
use kkp_e2e::webhook_process::WebhookProcess;
use kkp_e2e::webhook_support::{self, ServingCert};
use kkp_e2e::{ControlPlane, ControlPlaneOptions, install_shipped_crds, unique_name};
use kkp_e2e::{apis, plugin_support};
use serde_json::json;

const WAIT: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_takes_the_cluster_version_from_the_apiserver_and_serves_it() {
    let binary = plugin_support::webhook_binary().expect("kkp-webhook builds");
    let plane = ControlPlane::start_with(ControlPlaneOptions::named("webhook-binary"))
        .await
        .expect("a control plane");
    let client = plane.client().await.expect("an admin client");
    install_shipped_crds(&client, &[MACHINE_DEPLOYMENTS, ADMISSION_POLICIES])
        .await
        .expect("the CRDs");

    let cert = ServingCert::generate("kkp-webhook").expect("a serving certificate");
    let mut webhook = WebhookProcess::spawn(&binary, &cert, plane.kubeconfig_path(), &[]).expect("kkp-webhook starts");
    // Ready once it has listed the policies.
    webhook.wait_ready(WAIT, |_| true).await.expect("kkp-webhook is ready");
    let detected = webhook
        .find_log("cluster version from the apiserver")
        .unwrap_or_else(|| panic!("no cluster-version log line:\n{}", webhook.log()));
    assert_eq!(detected.get("version"), Some(&json!("1.36.3")), "{detected}");

    // The apiserver calls it through the shipped configurations.
    let base_url = format!("https://127.0.0.1:{}", webhook.tls_port);
    webhook_support::register_shipped(&client, &base_url, &cert.ca_pem, WAIT)
        .await
        .expect("the apiserver calls the webhook through the shipped configurations");

    // KKP's skew rule against the detected 1.36: kubelets 1.34 to 1.36 are fine, 1.33 is not.
    let api = apis::machine_deployments(&client, "kube-system");
    let dry = apis::dry_run();
    let name = unique_name("workers");
    api.create(&dry, &object(&machine_deployment(&name, "kube-system", "1.35.7")))
        .await
        .expect("a kubelet within the skew is admitted");
    let refused = api
        .create(&dry, &object(&machine_deployment(&name, "kube-system", "1.33.4")))
        .await
        .expect_err("a kubelet three minors behind is refused");
    let message = refused.to_string();
    assert!(
        message.contains(
            "spec.template.spec.versions.kubelet: Invalid value: \"1.33.4\": kubelet 1.33.4 is not compatible with \
             control plane 1.36.3: it must be 1.34 to 1.36"
        ),
        "{message}"
    );

    // SIGTERM: a clean exit.
    let status = webhook.terminate(WAIT).await.expect("kkp-webhook stops");
    assert!(status.success(), "{status}:\n{}", webhook.log());
}
