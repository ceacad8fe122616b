//! `kubectl kkp delete cluster NAME`: asks first (on a terminal), deletes the KKP Cluster on the
//! management cluster, and by default waits until it is gone (KKP's finalizers clean up the
//! control plane and the cloud resources first).

use std::io::{BufRead as _, IsTerminal, Write as _};
use std::time::Duration;

use ::kube::api::DeleteParams;
use clap::{ArgAction, Args, Subcommand};

use super::GlobalArgs;
use crate::kube::client::Connection;
use crate::kube::wait::{self, Deadline, Poll, Progress};
use crate::kube::{duration, errors, kkp, resources};

const DELETE_CLUSTER_EXAMPLES: &str = "\
Examples:
  # Delete cluster p8kfs2x9jw after confirming, and wait until it is gone
  kubectl kkp delete cluster p8kfs2x9jw

  # In a script: no question, and no error if it is already gone
  kubectl kkp delete cluster p8kfs2x9jw --yes --ignore-not-found

  # Start the deletion and return at once
  kubectl kkp delete cluster p8kfs2x9jw --yes --wait=false

  # Wait up to 30 minutes for the cloud resources to be cleaned up
  kubectl kkp delete cluster p8kfs2x9jw --yes --timeout 30m";

#[derive(Debug, Args)]
pub struct DeleteCommand {
    #[command(subcommand)]
    pub what: DeleteWhat,
}

#[derive(Debug, Subcommand)]
pub enum DeleteWhat {
    /// Delete a KKP cluster (asks first unless --yes) and wait until it is gone.
    #[command(after_help = DELETE_CLUSTER_EXAMPLES)]
    Cluster(DeleteClusterArgs),
    /// Delete every cluster of a KKP project through the KKP REST API (asks first unless --yes).
    #[command(after_help = DELETE_CLUSTERS_EXAMPLES)]
    Clusters(DeleteClustersArgs),
}

const DELETE_CLUSTERS_EXAMPLES: &str = "\
Examples:
  # Every cluster of the project, after confirming, waiting until all are gone
  kubectl kkp delete clusters --all --api https://kkp.example.com --project xw2k9fgh4t

  # In a script
  kubectl kkp delete clusters --all --yes --wait=false";

/// Flags of `delete clusters`.
#[derive(Debug, Args)]
pub struct DeleteClustersArgs {
    /// Every cluster of the project (required: there is no other way to pick them).
    #[arg(long, required = true)]
    pub all: bool,
    /// Delete without asking; needed when stdin is not a terminal.
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Wait until every cluster is gone (--wait=false: return once deletion started).
    #[arg(long, value_name = "BOOL", default_value_t = true, action = ArgAction::Set, num_args = 0..=1,
          require_equals = true, default_missing_value = "true")]
    pub wait: bool,
    /// How long to wait, like 30s, 15m or 1h.
    #[arg(long, value_name = "DURATION", default_value = "15m", value_parser = duration::parse)]
    pub timeout: Duration,
}

/// Flags of `delete cluster`.
#[derive(Debug, Args)]
pub struct DeleteClusterArgs {
    /// The cluster's name (its ID).
    #[arg(value_name = "NAME")]
    pub name: String,
    /// Delete without asking; needed when stdin is not a terminal.
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Wait until the cluster is gone, its finalizers done (--wait=false: return once deletion started).
    #[arg(long, value_name = "BOOL", default_value_t = true, action = ArgAction::Set, num_args = 0..=1,
          require_equals = true, default_missing_value = "true")]
    pub wait: bool,
    /// How long to wait, like 30s, 15m or 1h.
    #[arg(long, value_name = "DURATION", default_value = "15m", value_parser = duration::parse)]
    pub timeout: Duration,
    /// Succeed when the cluster does not exist.
    #[arg(long)]
    pub ignore_not_found: bool,
}

pub async fn run(cmd: DeleteCommand, g: &GlobalArgs) -> anyhow::Result<()> {
    match cmd.what {
        DeleteWhat::Cluster(args) => match super::api::client(g)? {
            Some(client) => {
                let opts = super::api::clusters::DeleteOptions {
                    yes: args.yes,
                    wait: args.wait,
                    timeout: args.timeout,
                    ignore_not_found: args.ignore_not_found,
                };
                super::api::clusters::delete_one(&client, &args.name, &opts).await
            }
            None => delete_cluster(args, g).await,
        },
        DeleteWhat::Clusters(args) => {
            let client = super::api::required_client(g, "delete clusters --all")?;
            let opts = super::api::clusters::DeleteOptions {
                yes: args.yes,
                wait: args.wait,
                timeout: args.timeout,
                ignore_not_found: false,
            };
            super::api::clusters::delete_all(&client, &opts).await
        }
    }
}

/// The question asked before deleting.
pub fn question(name: &str, human: Option<&str>) -> String {
    match human {
        Some(h) if h != name => format!("Delete cluster {name} ({h})? [y/N] "),
        _ => format!("Delete cluster {name}? [y/N] "),
    }
}

/// Whether an answer means yes.
pub fn is_yes(answer: &str) -> bool {
    matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}

/// Asks on the terminal; refuses when there is no terminal to ask on.
fn confirm(name: &str, human: Option<&str>) -> anyhow::Result<bool> {
    if !std::io::stdin().is_terminal() {
        anyhow::bail!(
            "refusing to delete cluster {name:?} without confirmation: stdin is not a terminal; pass --yes to delete \
             without asking"
        );
    }
    let mut err = std::io::stderr().lock();
    write!(err, "{}", question(name, human))?;
    err.flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(is_yes(&answer))
}

async fn delete_cluster(args: DeleteClusterArgs, g: &GlobalArgs) -> anyhow::Result<()> {
    let conn = Connection::from_global(g).await?;
    let name = args.name.as_str();
    let Some(cluster) = kkp::get_cluster_opt(&conn, name).await? else {
        if args.ignore_not_found {
            return Ok(());
        }
        return Err(kkp::not_found(name, &conn));
    };
    if !args.yes && !confirm(name, kkp::text(&cluster, "/spec/humanReadableName"))? {
        anyhow::bail!("aborted; cluster {name:?} was not deleted");
    }
    let api = resources::clusters(&conn.client);
    match api.delete(name, &DeleteParams::background()).await {
        Ok(_) => println!("cluster.kubermatic.k8c.io {name:?} deleted"),
        Err(e) if errors::is_not_found(&e) && args.ignore_not_found => return Ok(()),
        Err(e) if errors::is_not_found(&e) => return Err(kkp::not_found(name, &conn)),
        Err(e) => anyhow::bail!(errors::explain(&e, &conn, &format!("deleting cluster {name:?}"))),
    }
    if !args.wait {
        return Ok(());
    }
    let mut progress = Progress::stderr(format!("deleting cluster {name:?}"));
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
    eprintln!("Cluster {name:?} is gone.");
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
        assert!(is_yes("y\n") && is_yes(" YES ") && is_yes("Yes"));
        assert!(!is_yes("\n") && !is_yes("n") && !is_yes("yep"));
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
