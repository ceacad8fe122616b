//! A stand-in for KKP's seed controller, for tests and the demo, where KKP itself cannot run:
//! it reports new Clusters `Creating`, then `Running` and healthy, writes their `admin-kubeconfig`
//! Secret (pointing at a real user control plane) and holds a finalizer on deletion for a moment,
//! like KKP's cleanup. Clusters whose name lacks the prefix are left alone.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Namespace, Secret};
use kube::Api;
use kube::api::{ApiResource, DynamicObject, Patch, PatchParams, PostParams};
use serde_json::{Value, json};

use crate::ControlPlane;

/// How the stand-in behaves.
#[derive(Clone, Debug)]
pub struct FakeKkp {
    /// Clusters it manages; others never get a status.
    pub name_prefix: String,
    /// The finalizer it holds until a deleted cluster has been "cleaned up".
    pub finalizer: String,
    /// How long a cluster stays Creating before it runs.
    pub creating_for: Duration,
    user_kubeconfig: String,
    user_url: String,
    user_port: u16,
}

impl FakeKkp {
    /// A stand-in whose clusters all run on `user`.
    pub fn new(user: &ControlPlane, name_prefix: &str) -> Self {
        FakeKkp {
            name_prefix: name_prefix.to_owned(),
            finalizer: "kubermatic.k8c.io/cleanup-e2e".to_owned(),
            creating_for: Duration::from_secs(2),
            user_kubeconfig: user.kubeconfig().to_owned(),
            user_url: user.server_url(),
            user_port: user.apiserver_port(),
        }
    }

    /// Runs the stand-in on a thread of its own, with its own runtime, until the handle is dropped.
    pub fn spawn(self, seed: &ControlPlane) -> FakeKkpHandle {
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
                    Err(e) => return eprintln!("fake KKP: no seed client: {e}"),
                };
                let mut state = State::default();
                while !stopped.load(Ordering::Relaxed) {
                    if let Err(e) = self.reconcile(&seed, &mut state).await {
                        eprintln!("fake KKP: {e}");
                    }
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            })
        });
        FakeKkpHandle { stop }
    }

    /// The user control plane's admin kubeconfig, named the way KKP names its entries: the
    /// cluster and the context after the cluster ID, the user `default`.
    pub fn kkp_style_kubeconfig(&self, id: &str) -> String {
        let mut config: serde_yaml::Value =
            serde_yaml::from_str(&self.user_kubeconfig).expect("the harness kubeconfig parses");
        let rename = |list: &mut serde_yaml::Value, name: &str| {
            if let Some(entry) = list.get_mut(0) {
                entry["name"] = serde_yaml::Value::from(name);
            }
        };
        rename(&mut config["clusters"], id);
        rename(&mut config["users"], "default");
        rename(&mut config["contexts"], id);
        config["contexts"][0]["context"]["cluster"] = serde_yaml::Value::from(id);
        config["contexts"][0]["context"]["user"] = serde_yaml::Value::from("default");
        config["current-context"] = serde_yaml::Value::from(id);
        serde_yaml::to_string(&config).expect("renders")
    }

    async fn reconcile(&self, seed: &kube::Client, state: &mut State) -> Result<(), kube::Error> {
        let clusters: Api<DynamicObject> = Api::all_with(seed.clone(), &ApiResource::erase::<kkp_crds::Cluster>(&()));
        for cluster in clusters.list(&Default::default()).await? {
            let Some(name) = cluster.metadata.name.clone() else {
                continue;
            };
            if !name.starts_with(&self.name_prefix) {
                continue;
            }
            let finalizers = cluster.metadata.finalizers.clone().unwrap_or_default();
            let holds = finalizers.iter().any(|f| f == &self.finalizer);
            if cluster.metadata.deletion_timestamp.is_some() {
                let since = *state.deleting.entry(name.clone()).or_insert_with(Instant::now);
                if since.elapsed() >= Duration::from_secs(1) && holds {
                    let patch = json!({"metadata": {"finalizers": null}});
                    clusters
                        .patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
                        .await?;
                }
                continue;
            }
            if !holds {
                let patch = json!({"metadata": {"finalizers": [self.finalizer]}});
                clusters
                    .patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
                    .await?;
            }
            let first_seen = *state.seen.entry(name.clone()).or_insert_with(Instant::now);
            let phase = cluster
                .data
                .pointer("/status/phase")
                .and_then(Value::as_str)
                .unwrap_or("");
            if phase.is_empty() {
                let status = json!({"status": {"phase": "Creating", "extendedHealth": {
                    "apiserver": "HealthStatusProvisioning", "etcd": "HealthStatusProvisioning"}}});
                clusters
                    .patch_status(&name, &PatchParams::default(), &Patch::Merge(&status))
                    .await?;
            } else if phase == "Creating" && first_seen.elapsed() >= self.creating_for {
                self.run_cluster(seed, &clusters, &name).await?;
            }
        }
        Ok(())
    }

    /// What KKP does once a control plane is up: its namespace, its admin kubeconfig, its status.
    async fn run_cluster(
        &self,
        seed: &kube::Client,
        clusters: &Api<DynamicObject>,
        name: &str,
    ) -> Result<(), kube::Error> {
        let namespace = format!("cluster-{name}");
        let namespaces: Api<Namespace> = Api::all(seed.clone());
        let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": namespace}})).expect("a namespace");
        match namespaces.create(&PostParams::default(), &ns).await {
            Ok(_) => {}
            Err(kube::Error::Api(s)) if s.code == 409 => {}
            Err(e) => return Err(e),
        }
        let secrets: Api<Secret> = Api::namespaced(seed.clone(), &namespace);
        let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "admin-kubeconfig"},
            "stringData": {"kubeconfig": self.kkp_style_kubeconfig(name)}});
        secrets
            .patch(
                "admin-kubeconfig",
                &PatchParams::apply("fake-kkp").force(),
                &Patch::Apply(&secret),
            )
            .await?;
        let up = "HealthStatusUp";
        let status = json!({"status": {
            "phase": "Running",
            "namespaceName": namespace,
            "address": {"url": self.user_url, "port": self.user_port},
            "extendedHealth": {"apiserver": up, "etcd": up, "controller": up, "scheduler": up, "machineController": up},
            "conditions": {"ClusterControllerReconciledSuccessfully": {"status": "True", "reason": "Reconciled"}}
        }});
        clusters
            .patch_status(name, &PatchParams::default(), &Patch::Merge(&status))
            .await?;
        Ok(())
    }
}

/// Stops the stand-in when dropped.
#[derive(Debug)]
pub struct FakeKkpHandle {
    stop: Arc<AtomicBool>,
}

impl Drop for FakeKkpHandle {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

#[derive(Default)]
struct State {
    seen: HashMap<String, Instant>,
    deleting: HashMap<String, Instant>,
}
