//! Running an admission webhook next to a test control plane: a serving certificate the apiserver
//! trusts for `https://127.0.0.1`, the shipped webhook configurations pointed at a URL instead of
//! a Service, and waiting until the apiserver really calls the webhook.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use k8s_openapi::api::admissionregistration::v1::{MutatingWebhookConfiguration, ValidatingWebhookConfiguration};
use kube::Api;
use kube::api::{DeleteParams, Patch, PatchParams};
use serde::Deserialize as _;
use serde_json::{Value, json};
use tempfile::TempDir;

use crate::crds::FIELD_MANAGER;
use crate::error::HarnessError;
use crate::pki::CertificateAuthority;
use crate::workdir::write_file;
use crate::{apis, examples};

/// A CA and a serving certificate for 127.0.0.1 (and `localhost`), written to a temp dir that
/// lives as long as this value.
#[derive(Debug)]
pub struct ServingCert {
    /// PEM of the CA: the `caBundle` of the webhook configurations.
    pub ca_pem: String,
    pub cert_path: PathBuf,
    pub key_path: PathBuf,
    _dir: TempDir,
}

impl ServingCert {
    pub fn generate(common_name: &str) -> Result<Self, HarnessError> {
        let ca = CertificateAuthority::new(&format!("{common_name}-ca"))?;
        let serving = ca.issue_serving(common_name, &["localhost"], &[IpAddr::V4(Ipv4Addr::LOCALHOST)])?;
        let dir = tempfile::Builder::new()
            .prefix("kkp-e2e-webhook-")
            .tempdir()
            .map_err(|e| HarnessError::io("creating the webhook's certificate dir", e))?;
        let cert_path = dir.path().join("tls.crt");
        let key_path = dir.path().join("tls.key");
        write_file(&cert_path, &serving.cert_pem)?;
        write_file(&key_path, &serving.key_pem)?;
        Ok(ServingCert {
            ca_pem: ca.cert().cert_pem.clone(),
            cert_path,
            key_path,
            _dir: dir,
        })
    }
}

/// The webhook configurations applied by [`register_webhooks`], to remove them again.
#[derive(Debug, Clone, Default)]
pub struct Registered {
    pub mutating: Vec<String>,
    pub validating: Vec<String>,
}

/// Points every webhook of the Mutating/ValidatingWebhookConfigurations in `yaml` at
/// `base_url` + the path its Service reference named (`/mutate`, `/validate`), trusting `ca_pem`,
/// and server-side applies them. Other documents in `yaml` are ignored.
pub async fn register_webhooks(
    client: &kube::Client,
    yaml: &str,
    base_url: &str,
    ca_pem: &str,
) -> Result<Registered, HarnessError> {
    let mut registered = Registered::default();
    let params = PatchParams::apply(FIELD_MANAGER).force();
    for (index, document) in serde_yaml::Deserializer::from_str(yaml).enumerate() {
        let mut value = Value::deserialize(document)
            .map_err(|e| HarnessError::InvalidInput(format!("document {index} of the webhook YAML: {e}")))?;
        let kind = value.get("kind").and_then(Value::as_str).unwrap_or("").to_owned();
        if kind != "MutatingWebhookConfiguration" && kind != "ValidatingWebhookConfiguration" {
            continue;
        }
        point_at_url(&mut value, base_url, ca_pem)?;
        let name = value
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let bad = |e: serde_json::Error| HarnessError::InvalidInput(format!("{kind} {name}: {e}"));
        if kind == "MutatingWebhookConfiguration" {
            let typed: MutatingWebhookConfiguration = serde_json::from_value(value).map_err(bad)?;
            Api::<MutatingWebhookConfiguration>::all(client.clone())
                .patch(&name, &params, &Patch::Apply(&typed))
                .await?;
            registered.mutating.push(name);
        } else {
            let typed: ValidatingWebhookConfiguration = serde_json::from_value(value).map_err(bad)?;
            Api::<ValidatingWebhookConfiguration>::all(client.clone())
                .patch(&name, &params, &Patch::Apply(&typed))
                .await?;
            registered.validating.push(name);
        }
    }
    if registered.mutating.is_empty() && registered.validating.is_empty() {
        return Err(HarnessError::InvalidInput(
            "no Mutating/ValidatingWebhookConfiguration in the webhook YAML".into(),
        ));
    }
    Ok(registered)
}

/// The webhook configurations this project ships (`webhook-configurations.yaml` of the manifests
/// with generated certificates).
pub fn shipped_configurations() -> Result<&'static str, HarnessError> {
    kkp_manifests::webhook_manifests(kkp_manifests::Variant::GeneratedCerts)
        .into_iter()
        .find(|(file, _)| *file == "webhook-configurations.yaml")
        .map(|(_, yaml)| yaml)
        .ok_or_else(|| HarnessError::InvalidInput("the shipped manifests have no webhook configurations".into()))
}

/// Registers the [`shipped_configurations`] pointed at `base_url`, trusting `ca_pem`, and waits
/// (at most `timeout`) until the apiserver calls the webhook ([`wait_until_called`]).
pub async fn register_shipped(
    client: &kube::Client,
    base_url: &str,
    ca_pem: &str,
    timeout: Duration,
) -> Result<Registered, HarnessError> {
    let registered = register_webhooks(client, shipped_configurations()?, base_url, ca_pem).await?;
    wait_until_called(client, timeout).await?;
    Ok(registered)
}

/// Replaces each webhook's `clientConfig` with `{url, caBundle}`.
fn point_at_url(configuration: &mut Value, base_url: &str, ca_pem: &str) -> Result<(), HarnessError> {
    let webhooks = configuration
        .get_mut("webhooks")
        .and_then(Value::as_array_mut)
        .ok_or_else(|| HarnessError::InvalidInput("a webhook configuration without webhooks".into()))?;
    for webhook in webhooks {
        let path = webhook
            .pointer("/clientConfig/service/path")
            .or_else(|| webhook.pointer("/clientConfig/url"))
            .and_then(Value::as_str)
            .map(|p| {
                p.rsplit_once("://")
                    .map_or(p, |(_, rest)| rest.find('/').map_or("", |i| &rest[i..]))
            })
            .unwrap_or("")
            .to_owned();
        webhook["clientConfig"] = json!({
            "url": format!("{}{path}", base_url.trim_end_matches('/')),
            "caBundle": STANDARD.encode(ca_pem),
        });
    }
    // cert-manager's injection annotation has nothing to inject here.
    if let Some(annotations) = configuration
        .pointer_mut("/metadata/annotations")
        .and_then(Value::as_object_mut)
    {
        annotations.remove("cert-manager.io/inject-ca-from");
    }
    Ok(())
}

/// Deletes the webhook configurations [`register_webhooks`] applied.
pub async fn unregister_webhooks(client: &kube::Client, registered: &Registered) -> Result<(), HarnessError> {
    let params = DeleteParams::default();
    for name in &registered.mutating {
        Api::<MutatingWebhookConfiguration>::all(client.clone())
            .delete(name, &params)
            .await?;
    }
    for name in &registered.validating {
        Api::<ValidatingWebhookConfiguration>::all(client.clone())
            .delete(name, &params)
            .await?;
    }
    Ok(())
}

/// Runs kkp-webhook in this process for the rest of the test binary (on a thread and runtime of
/// its own), registered with the shipped webhook configurations on every control plane given, and
/// returns once each apiserver really calls it: a dry-run of an object the webhook must deny (a
/// Cluster where Clusters are served, else a MachineDeployment) comes back denied by it.
pub fn spawn_registered(planes: &[&crate::ControlPlane], timeout: Duration) -> Result<(), HarnessError> {
    let targets: Vec<(String, String)> = planes
        .iter()
        .map(|p| (p.kubeconfig().to_owned(), p.admin().context.clone()))
        .collect();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Result<(), String>>();
    std::thread::spawn(move || {
        let rt = match tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
        {
            Ok(rt) => rt,
            Err(e) => return drop(ready_tx.send(Err(format!("a tokio runtime: {e}")))),
        };
        rt.block_on(async move {
            let started = async {
                let cert = ServingCert::generate("kkp-webhook").map_err(|e| e.to_string())?;
                let config = kkp_webhook::Config::for_loopback(&cert.cert_path, &cert.key_path);
                let server = kkp_webhook::Server::bind(config).await.map_err(|e| e.to_string())?;
                let base_url = format!("https://127.0.0.1:{}", server.tls_addr().port());
                for (kubeconfig, context) in &targets {
                    let client = crate::client_from_kubeconfig(kubeconfig, context)
                        .await
                        .map_err(|e| e.to_string())?;
                    register_shipped(&client, &base_url, &cert.ca_pem, timeout)
                        .await
                        .map_err(|e| e.to_string())?;
                }
                Ok::<_, String>((server, cert))
            };
            match started.await {
                Ok(running) => {
                    let _ = ready_tx.send(Ok(()));
                    // Serve for as long as the test binary runs.
                    let _running = running;
                    std::future::pending::<()>().await;
                }
                Err(e) => drop(ready_tx.send(Err(e))),
            }
        });
    });
    match ready_rx.recv() {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(HarnessError::InvalidInput(format!("starting the webhook: {e}"))),
        Err(_) => Err(HarnessError::InvalidInput(
            "the webhook thread ended before it was ready".into(),
        )),
    }
}

/// Waits until the apiserver of `client` really calls the registered webhook: a dry run of an
/// object the webhook must deny (a Cluster where Clusters are served, else a MachineDeployment)
/// comes back denied by it.
pub async fn wait_until_called(client: &kube::Client, timeout: Duration) -> Result<(), HarnessError> {
    wait_until("the apiserver to call the webhook", timeout, || probe_denied(client)).await
}

/// A server-side dry run of an object the webhook denies; `Ok` once the denial comes from it.
async fn probe_denied(client: &kube::Client) -> Result<(), String> {
    // A Cluster on a version KKP never offered.
    let cluster = examples::hetzner_cluster("webhook-probe", "1.0.0", "x");
    let answer = match apis::clusters(client)
        .create(&apis::dry_run(), &examples::object(&cluster))
        .await
    {
        Err(kube::Error::Api(s)) if s.code == 404 => {
            // Well-formed for the CRD's schema, wrong for the webhook: the selector does not
            // match the template's labels.
            let mut md = examples::machine_deployment("webhook-probe", "kube-system", "1.35.7");
            md["spec"]["selector"]["matchLabels"]["pool"] = json!("another-pool");
            apis::machine_deployments(client, "kube-system")
                .create(&apis::dry_run(), &examples::object(&md))
                .await
        }
        other => other,
    };
    match answer {
        Err(kube::Error::Api(s)) if s.message.contains("kkp-webhook") => Ok(()),
        other => Err(format!("not denied by the webhook yet: {other:?}")),
    }
}

/// Retries `probe` every 200 ms until it answers `Ok(value)`, for at most `timeout`; the error
/// names `what` and the probe's last complaint.
pub async fn wait_until<T, F, Fut>(what: &str, timeout: Duration, mut probe: F) -> Result<T, HarnessError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, String>>,
{
    let started = Instant::now();
    loop {
        let last = match probe().await {
            Ok(value) => return Ok(value),
            Err(why) => why,
        };
        if started.elapsed() >= timeout {
            return Err(HarnessError::InvalidInput(format!(
                "{what}: not after {timeout:?}; last: {last}"
            )));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Binds the webhook's shipped ClusterRoles (`manifests/webhook/rbac.yaml`) to `user`, as the
/// install binds them to its ServiceAccount, so a webhook run by a test as `user` has exactly the
/// permissions it has in a cluster. `manager` names the field manager and the bindings' suffix.
pub async fn grant_webhook_cluster_roles(admin: &kube::Client, user: &str, manager: &str) {
    use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding};

    let params = PatchParams::apply(manager).force();
    let (_, rbac) = kkp_manifests::webhook_manifests(kkp_manifests::Variant::GeneratedCerts)
        .into_iter()
        .find(|(file, _)| *file == "rbac.yaml")
        .expect("the shipped RBAC");
    for document in serde_yaml::Deserializer::from_str(rbac) {
        let value = Value::deserialize(document).expect("YAML");
        if value["kind"] != "ClusterRole" {
            continue;
        }
        let role: ClusterRole = serde_json::from_value(value).expect("a ClusterRole");
        let name = role.metadata.name.clone().expect("a name");
        Api::<ClusterRole>::all(admin.clone())
            .patch(&name, &params, &Patch::Apply(&role))
            .await
            .expect("the webhook's ClusterRole");
        let binding_name = format!("{name}-{manager}");
        let binding: ClusterRoleBinding = serde_json::from_value(json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
            "metadata": {"name": binding_name},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}]
        }))
        .expect("a binding");
        Api::<ClusterRoleBinding>::all(admin.clone())
            .patch(&binding_name, &params, &Patch::Apply(&binding))
            .await
            .expect("the webhook's ClusterRoleBinding");
    }
}

/// kkp-webhook served in this process on loopback, following the AdmissionPolicies with its own
/// client, with the certificate the webhook configurations are to trust.
pub struct InProcessWebhook {
    pub cert: ServingCert,
    pub state: kkp_webhook::AppState,
    pub server: kkp_webhook::Server,
    pub watch: kkp_webhook::policies::PolicyWatch,
}

impl InProcessWebhook {
    /// Starts the server with a fresh certificate and its policy watch with `client` and
    /// `options`, and waits (at most `timeout`) until the watch has listed the policies.
    pub async fn start(
        client: kube::Client,
        options: kkp_webhook::policies::WatchOptions,
        timeout: Duration,
    ) -> Result<InProcessWebhook, HarnessError> {
        let cert = ServingCert::generate("kkp-webhook")?;
        let config = kkp_webhook::Config::for_loopback(&cert.cert_path, &cert.key_path);
        let state = kkp_webhook::AppState::new(config.context(), config.limits());
        let server = kkp_webhook::Server::bind_with_state(config, state.clone())
            .await
            .map_err(|e| HarnessError::InvalidInput(format!("kkp-webhook does not serve: {e}")))?;
        let watch = kkp_webhook::policies::PolicyWatch::spawn(client, state.clone(), options);
        if !watch.wait_synced(timeout).await {
            return Err(HarnessError::InvalidInput(format!(
                "kkp-webhook did not list the AdmissionPolicies within {timeout:?}"
            )));
        }
        Ok(InProcessWebhook {
            cert,
            state,
            server,
            watch,
        })
    }

    /// `https://127.0.0.1:PORT`, where the server answers reviews.
    pub fn base_url(&self) -> String {
        format!("https://127.0.0.1:{}", self.server.tls_addr().port())
    }

    /// Registers the shipped webhook configurations pointed at this server ([`register_shipped`]).
    pub async fn register(&self, admin: &kube::Client, timeout: Duration) -> Result<Registered, HarnessError> {
        register_shipped(admin, &self.base_url(), &self.cert.ca_pem, timeout).await
    }

    /// Removes `registered`, stops the watch and the server.
    pub async fn stop(self, admin: &kube::Client, registered: &Registered) -> Result<(), HarnessError> {
        unregister_webhooks(admin, registered).await?;
        self.watch.stop().await;
        self.server
            .shutdown()
            .await
            .map_err(|e| HarnessError::InvalidInput(format!("kkp-webhook does not stop: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_references_become_urls() {
        let mut config = json!({
            "kind": "ValidatingWebhookConfiguration",
            "metadata": {"name": "w", "annotations": {"cert-manager.io/inject-ca-from": "ns/cert", "keep": "me"}},
            "webhooks": [
                {"name": "a", "clientConfig": {"service": {"name": "s", "namespace": "n", "path": "/validate"}, "caBundle": "eA=="}},
                {"name": "b", "clientConfig": {"url": "https://example.test:8443/mutate"}}
            ]
        });
        point_at_url(&mut config, "https://127.0.0.1:9443/", "PEM").expect("rewritten");
        assert_eq!(
            config["webhooks"][0]["clientConfig"],
            json!({"url": "https://127.0.0.1:9443/validate", "caBundle": STANDARD.encode("PEM")})
        );
        assert_eq!(
            config["webhooks"][1]["clientConfig"]["url"],
            "https://127.0.0.1:9443/mutate"
        );
        assert_eq!(config["metadata"]["annotations"], json!({"keep": "me"}));
        assert!(point_at_url(&mut json!({"kind": "X"}), "https://x", "PEM").is_err());
    }

    #[test]
    fn serving_certificates_are_for_loopback() {
        let cert = ServingCert::generate("webhook").expect("generated");
        let pem = std::fs::read_to_string(&cert.cert_path).expect("the certificate file");
        assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");
        assert!(cert.key_path.is_file());
        assert!(cert.ca_pem.starts_with("-----BEGIN CERTIFICATE-----"));
    }
}
