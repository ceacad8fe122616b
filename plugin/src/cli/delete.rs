//! `kubectl kkp delete cluster|clusters`: their flags and help.

use std::time::Duration;

use clap::{ArgAction, Args, Subcommand};

use crate::k8s::duration;

pub const DELETE_CLUSTER_EXAMPLES: &str = "\
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

pub const DELETE_CLUSTERS_EXAMPLES: &str = "\
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
