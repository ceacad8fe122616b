//! A stand-in for KKP's external-cluster controller, for tests where KKP cannot run: for every
//! `ExternalCluster` on the seed it reads the kubeconfig Secret the cluster references, really
//! connects with it, and writes what it finds as KKP does: `status.condition.phase` (`Running`, or
//! `Error` with the reason in `message`) and the cluster's version in `spec.version`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use kube::api::{ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams};
use serde_json::{Value, json};

use crate::ControlPlane;

/// `externalclusters.kubermatic.k8c.io`, as KKP's CRD defines it.
pub fn resource() -> ApiResource {
    let gvk = GroupVersionKind::gvk("kubermatic.k8c.io", "v1", "ExternalCluster");
    ApiResource::from_gvk_with_plural(&gvk, "externalclusters")
}

/// Stops the stand-in when dropped.
#[derive(Debug)]
pub struct FakeExternalHandle {
    stop: Arc<AtomicBool>,
}

impl Drop for FakeExternalHandle {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Runs the stand-in against `seed` on a thread of its own until the handle is dropped.
pub fn spawn(seed: &ControlPlane) -> FakeExternalHandle {
    let seed_kubeconfig = seed.kubeconfig().to_owned();
    let context = seed.admin().context.clone();
    let stop = Arc::new(AtomicBool::new(false));
    let stopped = stop.clone();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime");
        rt.block_on(async move {
            let seed = match crate::client_from_kubeconfig(&seed_kubeconfig, &context).await {
                Ok(c) => c,
                Err(e) => return eprintln!("fake external-cluster controller: no seed client: {e}"),
            };
            while !stopped.load(Ordering::Relaxed) {
                if let Err(e) = reconcile(&seed).await {
                    eprintln!("fake external-cluster controller: {e}");
                }
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
        });
    });
    FakeExternalHandle { stop }
}

async fn reconcile(seed: &kube::Client) -> Result<(), kube::Error> {
    let api: Api<DynamicObject> = Api::all_with(seed.clone(), &resource());
    let list = match api.list(&Default::default()).await {
        Ok(list) => list,
        // The CRD is not installed (yet).
        Err(kube::Error::Api(s)) if s.code == 404 => return Ok(()),
        Err(e) => return Err(e),
    };
    for cluster in list {
        let Some(name) = cluster.metadata.name.clone() else {
            continue;
        };
        if cluster.metadata.deletion_timestamp.is_some() {
            continue;
        }
        let (phase, message, version) = match probe(seed, &cluster.data).await {
            Ok(version) => ("Running", String::new(), Some(version)),
            Err(why) => ("Error", why, None),
        };
        let now_phase = cluster.data.pointer("/status/condition/phase").and_then(Value::as_str);
        let now_message = cluster
            .data
            .pointer("/status/condition/message")
            .and_then(Value::as_str);
        let now_version = cluster.data.pointer("/spec/version").and_then(Value::as_str);
        let same_version = version.is_none() || version.as_deref() == now_version;
        if now_phase == Some(phase) && now_message.unwrap_or("") == message && same_version {
            continue;
        }
        let mut patch = json!({"status": {"condition": {"phase": phase, "message": message}}});
        if let Some(v) = version {
            patch["spec"] = json!({"version": v});
        }
        api.patch(&name, &PatchParams::default(), &Patch::Merge(&patch)).await?;
    }
    Ok(())
}

/// Connects with the cluster's stored kubeconfig; its version (`1.36.3`) or why not.
async fn probe(seed: &kube::Client, cluster: &Value) -> Result<String, String> {
    let reference = cluster
        .pointer("/spec/kubeconfigReference")
        .ok_or("spec.kubeconfigReference is not set")?;
    let name = reference
        .get("name")
        .and_then(Value::as_str)
        .ok_or("kubeconfigReference has no name")?;
    let namespace = reference
        .get("namespace")
        .and_then(Value::as_str)
        .unwrap_or("kubermatic");
    let key = reference.get("key").and_then(Value::as_str).unwrap_or("kubeconfig");
    let secrets: Api<Secret> = Api::namespaced(seed.clone(), namespace);
    let secret = secrets
        .get_opt(name)
        .await
        .map_err(|e| format!("reading Secret {namespace}/{name}: {e}"))?
        .ok_or_else(|| format!("Secret {namespace}/{name} does not exist"))?;
    let bytes = secret
        .data
        .and_then(|d| d.get(key).cloned())
        .ok_or_else(|| format!("Secret {namespace}/{name} has no key {key}"))?;
    let text = String::from_utf8(bytes.0).map_err(|_| "the kubeconfig is not UTF-8".to_owned())?;
    let client = crate::users::client_from_current_context(&text)
        .await
        .map_err(|e| format!("kubeconfig: {e}"))?;
    crate::users::reachable_version(&client).await
}
