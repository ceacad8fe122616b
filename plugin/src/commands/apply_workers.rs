//! `apply -f` of MachineDeployment files without the KKP API: through the management cluster of
//! the current kubeconfig, into the user cluster of the KKP Cluster `--cluster` names (its ID or
//! human-readable name), with the kubeconfig KKP keeps for it, as `create cluster --wait` sends
//! its workers.

use std::time::Duration;

use anyhow::bail;
use kkp_crds::machine::MACHINE_DEPLOYMENT_NAMESPACE;
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
    let Some(named) = cluster else {
        bail!(
            "--cluster NAME|ID is required: MachineDeployments go into the user cluster of an existing KKP cluster (its ID \
             or human-readable name, as kubectl kkp get clusters shows)"
        );
    };
    let seed = Connection::from_settings(&g.connection).await?;
    let found = find(&seed, named).await?;
    let id = kkp::text(&found, "/metadata/name").unwrap_or(named).to_owned();
    let id = id.as_str();
    if !wait && !kkp::is_running_and_healthy(&found) {
        bail!(
            "--cluster {named:?}: the cluster is not running yet ({}); pass --wait to wait for it",
            kkp::state_line(&found)
        );
    }
    for object in &mut objects {
        object["metadata"]["namespace"] = MACHINE_DEPLOYMENT_NAMESPACE.into();
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

/// The KKP cluster of ID `named`, else the one whose human-readable name it is.
async fn find(seed: &Connection, named: &str) -> anyhow::Result<Value> {
    // Only a name an object can have is looked up as an ID (a human-readable name may hold spaces).
    let could_be_id = !named.is_empty()
        && named.len() <= 253
        && named
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
    if could_be_id && let Some(cluster) = kkp::get_cluster_opt(seed, named).await? {
        return Ok(cluster);
    }
    let mut matching: Vec<Value> = kkp::list_clusters(seed, None)
        .await?
        .into_iter()
        .filter(|c| kkp::text(c, "/spec/humanReadableName") == Some(named))
        .collect();
    match matching.len() {
        1 => Ok(matching.remove(0)),
        0 => bail!(
            "--cluster {named:?}: the management cluster ({}) has no KKP cluster of that ID or human-readable name; \
             kubectl kkp get clusters lists them",
            seed.describe()
        ),
        n => {
            let ids: Vec<&str> = matching.iter().filter_map(|c| kkp::text(c, "/metadata/name")).collect();
            bail!(
                "--cluster {named:?}: {n} KKP clusters have that human-readable name ({}); give the ID",
                ids.join(", ")
            )
        }
    }
}
