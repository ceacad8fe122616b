//! `create cluster` with a Cluster API template: after the objects are applied, waiting until the
//! `cluster.x-k8s.io` Cluster is available and its kubeconfig secret exists.

use serde_json::Value;

use crate::cli::create::CreateClusterArgs;
use crate::k8s::capi;
use crate::k8s::client::Connection;
use crate::k8s::secret;
use crate::k8s::wait::{self, Deadline, Poll, Progress};

/// How often the cluster is looked at while waiting.
pub const POLL_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);

/// Waits until a Cluster API cluster is available and its kubeconfig secret exists, unless --wait=false.
pub(super) async fn wait(seed: &Connection, cluster: &Value, args: &CreateClusterArgs) -> anyhow::Result<()> {
    let name = crate::k8s::resources::meta_str(cluster, "name")
        .unwrap_or_default()
        .to_owned();
    let namespace = crate::k8s::resources::meta_str(cluster, "namespace")
        .unwrap_or(&seed.namespace)
        .to_owned();
    let get_kubeconfig = format!("kubectl kkp get kubeconfig {name} -n {namespace} --merge --set-current");
    if !args.wait {
        eprintln!(
            "Not waiting (--wait=false). Once Cluster API reports the cluster available, get its kubeconfig with: \
             {get_kubeconfig}"
        );
        return Ok(());
    }
    let api_version = cluster.get("apiVersion").and_then(Value::as_str).unwrap_or_default();
    let deadline = Deadline::new(args.timeout);
    let mut progress = Progress::stderr(format!("cluster {namespace}/{name}"));
    let waiting = async {
        let resource = capi::resource(seed, api_version).await?;
        let what = format!("Cluster API cluster {namespace}/{name} to be available");
        wait::poll(&mut progress, deadline, POLL_INTERVAL, &what, || async {
            match capi::get_cluster_opt(seed, &resource, &namespace, &name).await? {
                None => Err(anyhow::anyhow!(
                    "Cluster API cluster {namespace}/{name} disappeared from the management cluster ({}) while \
                     waiting for it",
                    seed.describe()
                )),
                Some(c) => match capi::readiness(&c) {
                    capi::Readiness::Up => Ok(Poll::Ready(())),
                    capi::Readiness::Pending(state) => Ok(Poll::Pending(state)),
                    capi::Readiness::Failed(why) => Err(anyhow::anyhow!(
                        "Cluster API cluster {namespace}/{name} will not become available: {why}"
                    )),
                },
            }
        })
        .await?;
        progress.note(&format!("cluster {namespace}/{name}: available"));
        let kubeconfig = secret::capi_secret_ref(&name, &namespace);
        progress.relabel(format!("cluster {namespace}/{name} kubeconfig"));
        let what = format!("the kubeconfig {kubeconfig} of cluster {namespace}/{name}");
        wait::poll(&mut progress, deadline, POLL_INTERVAL, &what, || async {
            match secret::read_secret(seed, &kubeconfig).await? {
                Some(_) => Ok(Poll::Ready(())),
                None => Ok(Poll::Pending(format!("waiting for {kubeconfig}"))),
            }
        })
        .await
    };
    tokio::select! {
        result = waiting => result?,
        _ = tokio::signal::ctrl_c() => {
            if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
                eprint!("\r\x1b[2K");
            }
            anyhow::bail!(
                "interrupted; the objects of cluster {namespace}/{name} were applied. Run the same command again to \
                 go on waiting"
            );
        }
    }
    eprintln!("Cluster {namespace}/{name} is available. Get its kubeconfig with: {get_kubeconfig}");
    Ok(())
}
