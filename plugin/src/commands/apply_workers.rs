//! `apply -f` of MachineDeployment files without the KKP API: through the management cluster of
//! the current kubeconfig, into the user cluster of the KKP Cluster `--cluster` names, with the
//! kubeconfig KKP keeps for it, as `create cluster --wait` sends its workers.

use std::time::Duration;

use anyhow::bail;
use serde_json::Value;

use super::create;
use crate::exit::{ExitStatus, Outcome};
use crate::k8s::apply::ApplyOptions;
use crate::k8s::client::Connection;
use crate::k8s::kkp;
use crate::k8s::trust::AllowArgs;
use crate::k8s::wait::Deadline;
use crate::printer::Printer;
use crate::settings::GlobalSettings;

/// Where the MachineDeployments of machine-controller live in a user cluster.
const NAMESPACE: &str = "kube-system";

/// Applies `objects` (checked MachineDeployments) into the user cluster of KKP cluster `cluster`;
/// with `wait`, first waits (at most `timeout`) until the cluster runs.
pub async fn run(
    cluster: Option<&str>,
    mut objects: Vec<Value>,
    wait: bool,
    timeout: Duration,
    g: &GlobalSettings,
    printer: &Printer,
) -> Outcome {
    let Some(id) = cluster else {
        bail!(
            "--cluster ID is required: MachineDeployments go into the user cluster of an existing KKP cluster (its ID, \
             as kubectl kkp get clusters shows)"
        );
    };
    let seed = Connection::from_settings(&g.connection).await?;
    match kkp::get_cluster_opt(&seed, id).await? {
        None => bail!(
            "--cluster {id:?}: the management cluster ({}) has no KKP cluster of that ID; kubectl kkp get clusters lists \
             them",
            seed.describe()
        ),
        Some(c) if !wait && !kkp::is_running_and_healthy(&c) => bail!(
            "--cluster {id:?}: the cluster is not running yet ({}); pass --wait to wait for it",
            kkp::state_line(&c)
        ),
        Some(_) => {}
    }
    for object in &mut objects {
        object["metadata"]["namespace"] = NAMESPACE.into();
    }
    let deadline = Deadline::new(timeout);
    let mut progress = printer.progress(format!("cluster {id:?}"));
    let applied = create::wait_and_apply_workers(
        &seed,
        id,
        &objects,
        (ApplyOptions::default(), AllowArgs::default()),
        deadline,
        &mut progress,
    )
    .await;
    progress.finish();
    for done in applied? {
        printer.data(format_args!("{}", done.summary()));
    }
    Ok(ExitStatus::Success)
}
