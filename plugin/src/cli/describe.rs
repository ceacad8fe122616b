//! `kubectl kkp describe cluster`: its flags and help.

use clap::{Args, Subcommand};

use crate::k8s::trust::AllowArgs;

pub const DESCRIBE_CLUSTER_EXAMPLES: &str = "\
Examples:
  # The state of cluster p8kfs2x9jw and its machine deployments
  kubectl kkp describe cluster p8kfs2x9jw

  # Without colours, for a log or a ticket
  kubectl kkp describe cluster p8kfs2x9jw --color never > p8kfs2x9jw.txt

  # A cluster on another seed
  kubectl kkp describe cluster p8kfs2x9jw --context prod-seed

  # A cluster you trust whose kubeconfig logs in through a program (exec)
  kubectl kkp describe cluster p8kfs2x9jw --allow-exec";

#[derive(Debug, Args)]
pub struct DescribeCommand {
    #[command(subcommand)]
    pub what: DescribeWhat,
}

#[derive(Debug, Subcommand)]
pub enum DescribeWhat {
    /// Show a cluster: phase, address, component health, conditions and machine deployments.
    #[command(after_help = DESCRIBE_CLUSTER_EXAMPLES)]
    Cluster(DescribeClusterArgs),
}

/// Flags of `describe cluster`.
#[derive(Debug, Args)]
pub struct DescribeClusterArgs {
    /// The cluster's name (its ID).
    #[arg(value_name = "NAME")]
    pub name: String,
    /// When to colour the output: auto (a terminal without NO_COLOR), always or never.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    #[command(flatten)]
    pub allow: AllowArgs,
}

/// `--color`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    /// Colour when stdout is a terminal and NO_COLOR is unset.
    #[default]
    Auto,
    Always,
    Never,
}
