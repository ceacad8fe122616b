//! `create cluster` with a Cluster API template: after the objects are applied, waiting until the
//! `cluster.x-k8s.io` Cluster is available (or the kind provider's `KINDCluster` is ready) and
//! its kubeconfig secret exists.

use kube::api::ApiResource;
use serde_json::Value;

use crate::cli::create::CreateClusterArgs;
use crate::k8s::capi::{self, Readiness};
use crate::k8s::client::Connection;
use crate::k8s::resources;
use crate::k8s::secret::{self, SecretRef};
use crate::k8s::wait::{self, Deadline, Poll};
use crate::printer::Printer;

/// How often the cluster is looked at while waiting.
pub const POLL_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);

/// What is waited for: a Cluster API `Cluster` or a `KINDCluster`.
struct Target {
    /// How messages name it: `Cluster API cluster`, `KINDCluster`.
    what: &'static str,
    /// The word for "up": `available`, `ready`.
    up: &'static str,
    /// The last line, before the kubeconfig hint.
    done: String,
    /// Who reports it up, for --wait=false.
    reporter: &'static str,
    readiness: fn(&Value) -> Readiness,
    kubeconfig: SecretRef,
}

impl Target {
    fn of(object: &Value, name: &str, namespace: &str) -> Option<Target> {
        if capi::is_cluster(object) {
            Some(Target {
                what: "Cluster API cluster",
                up: "available",
                done: format!("Cluster {namespace}/{name} is available."),
                reporter: "Cluster API reports the cluster available",
                readiness: capi::readiness,
                kubeconfig: secret::capi_secret_ref(name, namespace),
            })
        } else if capi::is_kind_cluster(object) {
            // The kind provider names the cluster, and its secret, after spec.clusterName.
            let cluster_name = object
                .pointer("/spec/clusterName")
                .and_then(Value::as_str)
                .filter(|n| !n.is_empty())
                .unwrap_or(name);
            Some(Target {
                what: "KINDCluster",
                up: "ready",
                done: format!("KINDCluster {namespace}/{name} is ready."),
                reporter: "the kind provider reports the KINDCluster ready",
                readiness: capi::kind_readiness,
                kubeconfig: secret::kind_secret_ref(cluster_name, namespace),
            })
        } else {
            None
        }
    }

    async fn resource(&self, seed: &Connection, object: &Value) -> anyhow::Result<ApiResource> {
        if capi::is_kind_cluster(object) {
            return Ok(resources::kind_cluster());
        }
        let api_version = object.get("apiVersion").and_then(Value::as_str).unwrap_or_default();
        capi::resource(seed, api_version).await
    }
}

/// The applied object `create` waits for, if the template made one: a Cluster API `Cluster`
/// first, else a `KINDCluster`.
pub(super) fn waited_for(applied: &[Value]) -> Option<&Value> {
    applied
        .iter()
        .find(|o| capi::is_cluster(o))
        .or_else(|| applied.iter().find(|o| capi::is_kind_cluster(o)))
}

/// Waits until a Cluster API cluster is available (a KINDCluster ready) and its kubeconfig secret
/// exists, unless --wait=false.
pub(super) async fn wait(
    seed: &Connection,
    cluster: &Value,
    args: &CreateClusterArgs,
    printer: &Printer,
) -> anyhow::Result<()> {
    let name = resources::meta_str(cluster, "name").unwrap_or_default().to_owned();
    let namespace = resources::meta_str(cluster, "namespace")
        .unwrap_or(&seed.namespace)
        .to_owned();
    let Some(target) = Target::of(cluster, &name, &namespace) else {
        return Ok(());
    };
    let get_kubeconfig = format!("kubectl kkp get kubeconfig {name} -n {namespace} --merge --set-current");
    if !args.wait {
        printer.message(format_args!(
            "Not waiting (--wait=false). Once {}, get its kubeconfig with: {get_kubeconfig}",
            target.reporter
        ));
        return Ok(());
    }
    let what = target.what;
    let deadline = Deadline::new(args.timeout);
    let mut progress = printer.progress(format!("cluster {namespace}/{name}"));
    let waiting = async {
        let resource = target.resource(seed, cluster).await?;
        let waited = format!("{what} {namespace}/{name} to be {}", target.up);
        wait::poll(&mut progress, deadline, POLL_INTERVAL, &waited, || async {
            match capi::get_cluster_opt(seed, &resource, &namespace, &name).await? {
                None => Err(anyhow::anyhow!(
                    "{what} {namespace}/{name} disappeared from the management cluster ({}) while waiting for it",
                    seed.describe()
                )),
                Some(c) => match (target.readiness)(&c) {
                    Readiness::Up => Ok(Poll::Ready(())),
                    Readiness::Pending(state) => Ok(Poll::Pending(state)),
                    Readiness::Failed(why) => Err(anyhow::anyhow!(
                        "{what} {namespace}/{name} will not become {}: {why}",
                        target.up
                    )),
                },
            }
        })
        .await?;
        progress.note(&format!("cluster {namespace}/{name}: {}", target.up));
        let kubeconfig = &target.kubeconfig;
        progress.relabel(format!("cluster {namespace}/{name} kubeconfig"));
        let waited = format!("the kubeconfig {kubeconfig} of cluster {namespace}/{name}");
        wait::poll(&mut progress, deadline, POLL_INTERVAL, &waited, || async {
            match secret::read_secret(seed, kubeconfig).await? {
                Some(_) => Ok(Poll::Ready(())),
                None => Ok(Poll::Pending(format!("waiting for {kubeconfig}"))),
            }
        })
        .await
    };
    tokio::select! {
        result = waiting => result?,
        _ = tokio::signal::ctrl_c() => {
            if printer.stderr_is_terminal() {
                printer.message_text(format_args!("\r\x1b[2K"));
            }
            anyhow::bail!(
                "interrupted; the objects of cluster {namespace}/{name} were applied. Run the same command again to \
                 go on waiting"
            );
        }
    }
    printer.message(format_args!(
        "{} Get its kubeconfig with: {get_kubeconfig}",
        target.done
    ));
    Ok(())
}
