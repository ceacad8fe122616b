//! `kubectl kkp delete cluster NAME`: asks first (on a terminal), deletes the KKP Cluster on the
//! management cluster, and by default waits until it is gone (KKP's finalizers clean up the
//! control plane and the cloud resources first).

use std::time::Duration;

use kube::api::DeleteParams;

use super::confirm;
use crate::cli::delete::{DeleteClusterArgs, DeleteCommand, DeleteWhat};
use crate::exit::{ExitStatus, Outcome};
use crate::k8s::client::Connection;
use crate::k8s::wait::{self, Deadline, Poll};
use crate::k8s::{errors, kkp, resources};
use crate::printer::Printer;
use crate::settings::GlobalSettings;

pub async fn run(cmd: DeleteCommand, g: &GlobalSettings, printer: &Printer) -> Outcome {
    match cmd.what {
        DeleteWhat::Cluster(args) => match super::api::client(g)? {
            Some(client) => {
                let opts = super::api::clusters::DeleteOptions {
                    yes: args.yes,
                    wait: args.wait,
                    timeout: args.timeout,
                    ignore_not_found: args.ignore_not_found,
                };
                super::api::clusters::delete_one(&client, &args.name, &opts, printer).await?;
            }
            None => delete_cluster(args, g, printer).await?,
        },
        DeleteWhat::Clusters(args) => {
            let client = super::api::required_client(g, "delete clusters --all")?;
            let opts = super::api::clusters::DeleteOptions {
                yes: args.yes,
                wait: args.wait,
                timeout: args.timeout,
                ignore_not_found: false,
            };
            super::api::clusters::delete_all(&client, &opts, printer).await?;
        }
    }
    Ok(ExitStatus::Success)
}

/// The question asked before deleting.
pub fn question(name: &str, human: Option<&str>) -> String {
    match human {
        Some(h) if h != name => format!("Delete cluster {name} ({h})? [y/N] "),
        _ => format!("Delete cluster {name}? [y/N] "),
    }
}

async fn delete_cluster(args: DeleteClusterArgs, g: &GlobalSettings, printer: &Printer) -> anyhow::Result<()> {
    let conn = Connection::from_settings(&g.connection).await?;
    let name = args.name.as_str();
    let Some(cluster) = kkp::get_cluster_opt(&conn, name).await? else {
        if args.ignore_not_found {
            return Ok(());
        }
        return Err(kkp::not_found(name, &conn));
    };
    if !args.yes
        && !confirm::ask(
            printer,
            question(name, kkp::text(&cluster, "/spec/humanReadableName")),
            "delete",
            format_args!("cluster {name:?}"),
        )?
    {
        anyhow::bail!("aborted; cluster {name:?} was not deleted");
    }
    let api = resources::clusters(&conn.client);
    match api.delete(name, &DeleteParams::background()).await {
        Ok(_) => printer.data(format_args!("cluster.kubermatic.k8c.io {name:?} deleted")),
        Err(e) if errors::is_not_found(&e) && args.ignore_not_found => return Ok(()),
        Err(e) if errors::is_not_found(&e) => return Err(kkp::not_found(name, &conn)),
        Err(e) => anyhow::bail!(errors::explain(&e, &conn, &format!("deleting cluster {name:?}"))),
    }
    if !args.wait {
        return Ok(());
    }
    let mut progress = printer.progress(format!("deleting cluster {name:?}"));
    let what = format!("cluster {name:?} to be deleted");
    wait::poll(
        &mut progress,
        Deadline::new(args.timeout),
        Duration::from_secs(1),
        &what,
        || async {
            match kkp::get_cluster_opt(&conn, name).await? {
                None => Ok(Poll::Ready(())),
                Some(c) => Ok(Poll::Pending(deletion_state(&c))),
            }
        },
    )
    .await?;
    printer.message(format_args!("Cluster {name:?} is gone."));
    Ok(())
}

/// What is still holding a cluster back: its phase and the finalizers left.
pub fn deletion_state(cluster: &serde_json::Value) -> String {
    let finalizers: Vec<&str> = cluster
        .pointer("/metadata/finalizers")
        .and_then(serde_json::Value::as_array)
        .map(|f| f.iter().filter_map(serde_json::Value::as_str).collect())
        .unwrap_or_default();
    let phase = kkp::text(cluster, "/status/phase").unwrap_or("no phase");
    if finalizers.is_empty() {
        format!("{phase}, no finalizers left")
    } else {
        format!("{phase}, waiting for finalizers: {}", finalizers.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_question_names_the_cluster_and_defaults_to_no() {
        assert_eq!(question("abc", Some("demo")), "Delete cluster abc (demo)? [y/N] ");
        assert_eq!(question("abc", Some("abc")), "Delete cluster abc? [y/N] ");
        assert_eq!(question("abc", None), "Delete cluster abc? [y/N] ");
    }

    #[test]
    fn the_deletion_state_names_the_finalizers() {
        let c = json!({"metadata": {"finalizers": ["kubermatic.k8c.io/cleanup-namespace", "x"]}, "status": {"phase": "Terminating"}});
        assert_eq!(
            deletion_state(&c),
            "Terminating, waiting for finalizers: kubermatic.k8c.io/cleanup-namespace, x"
        );
        assert_eq!(deletion_state(&json!({})), "no phase, no finalizers left");
    }
}
