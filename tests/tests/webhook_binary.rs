//! End to end: the `kkp-webhook` binary as a cluster admin runs it, against a real control plane of
//! its own: it reads its kubeconfig from KUBECONFIG, takes the cluster version from the apiserver
//! when `--cluster-version` is not given (so KKP's kubelet skew rule applies), serves the apiserver
//! through the shipped webhook configurations, and shuts down cleanly on SIGTERM.

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kkp_e2e::plugin_support;
use kkp_e2e::webhook_support::{self, ServingCert};
use kkp_e2e::{ControlPlane, ControlPlaneOptions, install_crds, unique_name};
use kube::Api;
use kube::api::{ApiResource, DynamicObject, GroupVersionKind, PostParams};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(60);

/// A CRD manifest this project ships, exactly as generated.
fn crd(file: &str) -> String {
    kkp_e2e::shipped_crd(file).expect("a shipped CRD")
}

fn machine_deployment(name: &str, kubelet: &str) -> DynamicObject {
    serde_json::from_value(json!({
        "apiVersion": "cluster.k8s.io/v1alpha1",
        "kind": "MachineDeployment",
        "metadata": {"name": name, "namespace": "kube-system"},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"pool": name}},
            "template": {
                "metadata": {"labels": {"pool": name}},
                "spec": {
                    "providerSpec": {"value": {
                        "cloudProvider": "hetzner",
                        "cloudProviderSpec": {"token": "x", "serverType": "cx22", "location": "fsn1"},
                        "operatingSystem": "ubuntu",
                        "operatingSystemSpec": {}
                    }},
                    "versions": {"kubelet": kubelet}
                }
            }
        }
    }))
    .expect("a MachineDeployment")
}

/// Stops the webhook process if the test ends early.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_takes_the_cluster_version_from_the_apiserver_and_serves_it() {
    let binary = plugin_support::webhook_binary().expect("kkp-webhook builds");
    let plane = ControlPlane::start_with(ControlPlaneOptions::named("webhook-binary"))
        .await
        .expect("a control plane");
    let client = plane.client().await.expect("an admin client");
    for file in [
        "cluster.k8s.io_machinedeployments.yaml",
        "policy.kubectl-kkp.io_admissionpolicies.yaml",
    ] {
        install_crds(&client, &crd(file)).await.expect("the CRDs");
    }

    let cert = ServingCert::generate("kkp-webhook").expect("a serving certificate");
    let [tls_port, health_port] = kkp_e2e::ports::free_ports::<2>().expect("two free ports");
    let mut child = Child(
        Command::new(&binary)
            .args(["--tls-cert-file", cert.cert_path.to_str().expect("a UTF-8 path")])
            .args(["--tls-private-key-file", cert.key_path.to_str().expect("a UTF-8 path")])
            .args(["--listen-address", &format!("127.0.0.1:{tls_port}")])
            .args(["--health-listen-address", &format!("127.0.0.1:{health_port}")])
            .env("KUBECONFIG", plane.kubeconfig_path())
            .env_remove("KKP_WEBHOOK_CLUSTER_VERSION")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("kkp-webhook starts"),
    );
    // Its JSON log lines, as they come.
    let lines = Arc::new(Mutex::new(Vec::<String>::new()));
    for pipe in [
        child
            .0
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn std::io::Read + Send>),
        child
            .0
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn std::io::Read + Send>),
    ]
    .into_iter()
    .flatten()
    {
        let lines = Arc::clone(&lines);
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                lines.lock().expect("the log").push(line);
            }
        });
    }
    let log = || lines.lock().expect("the log").join("\n");

    // Ready once it has listed the policies.
    let started = Instant::now();
    loop {
        let ready = kkp_e2e::probe::get_plain(health_port, "/readyz", Duration::from_secs(1));
        if ready.is_ok_and(|r| r.status == 200) {
            break;
        }
        assert!(
            started.elapsed() < WAIT,
            "kkp-webhook not ready after {WAIT:?}:\n{}",
            log()
        );
        assert!(
            child.0.try_wait().expect("status").is_none(),
            "kkp-webhook exited:\n{}",
            log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let detected = lines
        .lock()
        .expect("the log")
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|l| {
            l.get("message")
                .and_then(Value::as_str)
                .is_some_and(|m| m.starts_with("cluster version from the apiserver"))
        });
    let detected = detected.unwrap_or_else(|| panic!("no cluster-version log line:\n{}", log()));
    assert_eq!(detected.get("version"), Some(&json!("1.36.3")), "{detected}");

    // The apiserver calls it through the shipped configurations.
    let configurations = kkp_manifests::webhook_manifests(kkp_manifests::Variant::GeneratedCerts)
        .into_iter()
        .find(|(file, _)| *file == "webhook-configurations.yaml")
        .expect("the shipped webhook configurations")
        .1;
    let base_url = format!("https://127.0.0.1:{tls_port}");
    webhook_support::register_webhooks(&client, configurations, &base_url, &cert.ca_pem)
        .await
        .expect("the webhook configurations");
    webhook_support::wait_until_called(&client, WAIT)
        .await
        .expect("the apiserver calls the webhook");

    // KKP's skew rule against the detected 1.36: kubelets 1.34 to 1.36 are fine, 1.33 is not.
    let gvk = GroupVersionKind::gvk("cluster.k8s.io", "v1alpha1", "MachineDeployment");
    let api: Api<DynamicObject> = Api::namespaced_with(
        client.clone(),
        "kube-system",
        &ApiResource::from_gvk_with_plural(&gvk, "machinedeployments"),
    );
    let dry = PostParams {
        dry_run: true,
        ..PostParams::default()
    };
    let name = unique_name("workers");
    api.create(&dry, &machine_deployment(&name, "1.35.7"))
        .await
        .expect("a kubelet within the skew is admitted");
    let refused = api
        .create(&dry, &machine_deployment(&name, "1.33.4"))
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
    let pid = i32::try_from(child.0.id()).expect("a pid");
    // SAFETY: sending a signal to our own child process.
    let sent = unsafe { libc::kill(pid, libc::SIGTERM) };
    assert_eq!(sent, 0, "SIGTERM sent");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.0.try_wait().expect("status") {
            break status;
        }
        assert!(
            started.elapsed() < WAIT,
            "kkp-webhook did not stop on SIGTERM:\n{}",
            log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(status.success(), "{status}:\n{}", log());
}
