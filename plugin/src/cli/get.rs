//! `kubectl kkp get clusters|kubeconfig|policies|policy-reports`: their flags and help.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::k8s::secret::Convention;
use crate::k8s::trust::AllowArgs;
use crate::output::OutputFormat;

pub const GET_CLUSTERS_EXAMPLES: &str = "\
Examples:
  # Every KKP cluster on the management cluster of the current context
  kubectl kkp get clusters

  # Two clusters by ID, as YAML
  kubectl kkp get cluster p8kfs2x9jw zq4mhb7t6x -o yaml

  # The clusters of one project, IDs only, for scripts
  kubectl kkp get clusters -l project-id=p8kfs2x9jw -o name

  # The table without its header, on another seed
  kubectl kkp get clusters --no-headers --context prod-seed";

pub const GET_KUBECONFIG_EXAMPLES: &str = "\
Examples:
  # Print the kubeconfig of cluster p8kfs2x9jw
  kubectl kkp get kubeconfig p8kfs2x9jw

  # Merge it into your kubeconfig and switch to it
  kubectl kkp get kubeconfig p8kfs2x9jw --merge --set-current

  # Write it to a file of its own (mode 0600)
  kubectl kkp get kubeconfig p8kfs2x9jw --output-file p8kfs2x9jw.kubeconfig

  # The kubeconfig stored for a cluster imported with kubectl kkp register cluster
  kubectl kkp get kubeconfig prod --output-file prod.kubeconfig

  # A Cluster API cluster's kubeconfig, from namespace clusters
  kubectl kkp get kubeconfig capi-demo -n clusters --convention cluster-api

  # A cluster you trust whose kubeconfig logs in through a program (exec) and reads a local CA file
  kubectl kkp get kubeconfig p8kfs2x9jw --merge --allow-exec --allow-file-references";

pub const GET_POLICIES_EXAMPLES: &str = "\
Examples:
  # Every admission policy, with what the webhook reports about it
  kubectl kkp get policies

  # One policy as YAML
  kubectl kkp get policy only-aws -o yaml

  # The policies of one team, names only
  kubectl kkp get policies -l team=platform -o name";

#[derive(Debug, Args)]
pub struct GetCommand {
    #[command(subcommand)]
    pub what: GetWhat,
}

#[derive(Debug, Subcommand)]
pub enum GetWhat {
    /// List the KKP clusters on the management cluster, or show the named ones.
    #[command(visible_alias = "cluster", after_help = GET_CLUSTERS_EXAMPLES)]
    Clusters(GetClustersArgs),
    /// Print a cluster's kubeconfig, write it to a file, or merge it into your kubeconfig.
    #[command(after_help = GET_KUBECONFIG_EXAMPLES)]
    Kubeconfig(GetKubeconfigArgs),
    /// List the admission policies (NAME, ENFORCEMENT, COMPILED, MATCHED, DENIED, AGE), or show the named ones.
    #[command(visible_alias = "policy", after_help = GET_POLICIES_EXAMPLES)]
    Policies(GetPoliciesArgs),
    /// Summarise the policy reports kkp-webhook writes: per Cluster and MachineDeployment, its
    /// PASS, FAIL, WARN, ERROR and SKIP counts and the rules it breaks.
    #[command(visible_alias = "policy-report", after_help = GET_POLICY_REPORTS_EXAMPLES)]
    PolicyReports(GetPolicyReportsArgs),
}

/// Flags of `get clusters`.
#[derive(Debug, Args)]
pub struct GetClustersArgs {
    /// Cluster names (IDs); all clusters when none is given.
    #[arg(value_name = "NAME")]
    pub names: Vec<String>,
    /// Output format instead of the table: yaml, json or name.
    #[arg(short = 'o', long = "output", value_enum)]
    pub output: Option<OutputFormat>,
    /// Accepted for kubectl habit: clusters are cluster-scoped, so every cluster is listed anyway.
    #[arg(short = 'A', long = "all-namespaces")]
    pub all_namespaces: bool,
    /// Only clusters with these labels (kubectl syntax: `project-id=abc,env!=prod`).
    #[arg(short = 'l', long = "selector", value_name = "SELECTOR")]
    pub selector: Option<String>,
    /// Print the table without its header line.
    #[arg(long)]
    pub no_headers: bool,
}

/// Flags of `get kubeconfig`.
#[derive(Debug, Args)]
pub struct GetKubeconfigArgs {
    /// The cluster's name (its ID for KKP clusters, the ExternalCluster's name for imported ones).
    #[arg(value_name = "NAME")]
    pub name: String,
    /// Write the kubeconfig to this file (mode 0600, replaced atomically) instead of printing it.
    #[arg(long, value_name = "PATH", conflicts_with = "merge")]
    pub output_file: Option<PathBuf>,
    /// Merge it into your kubeconfig: the --kubeconfig file, else the first file listed in KUBECONFIG
    /// that exists (the last one if none does), else ~/.kube/config. Entries of the same API server
    /// are replaced, other clashing names get a `-NAME` suffix.
    #[arg(long)]
    pub merge: bool,
    /// With --merge, make the cluster's context the current context.
    #[arg(long, requires = "merge")]
    pub set_current: bool,
    /// Only look for the secret of this convention (default: KKP, then an imported cluster's, then
    /// Cluster API, then kind).
    #[arg(long, value_enum, value_name = "CONVENTION")]
    pub convention: Option<Convention>,
    #[command(flatten)]
    pub allow: AllowArgs,
}

/// Flags of `get policies`.
#[derive(Debug, Args)]
pub struct GetPoliciesArgs {
    /// Policy names; all policies when none is given.
    #[arg(value_name = "NAME")]
    pub names: Vec<String>,
    /// Output format instead of the table: yaml, json or name.
    #[arg(short = 'o', long = "output", value_enum)]
    pub output: Option<OutputFormat>,
    /// Only policies with these labels (kubectl syntax: `team=platform,env!=prod`).
    #[arg(short = 'l', long = "selector", value_name = "SELECTOR")]
    pub selector: Option<String>,
    /// Print the table without its header line.
    #[arg(long)]
    pub no_headers: bool,
}

pub const GET_POLICY_REPORTS_EXAMPLES: &str = "\
Examples:
  # What the admission policies say about every Cluster and MachineDeployment
  kubectl kkp get policy-reports

  # Only the objects that break a rule, and only policy team-a's results
  kubectl kkp get policy-reports --failing --policy team-a

  # The MachineDeployments of one namespace, with every failing result, as JSON
  kubectl kkp get policy-reports -n kube-system -o json";

/// The output formats of the summary besides its table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SummaryFormat {
    Yaml,
    Json,
}

/// Flags of `get policy-reports`.
#[derive(Debug, Args)]
pub struct GetPolicyReportsArgs {
    /// Only the PolicyReports (MachineDeployments) of this namespace; without it, the
    /// ClusterPolicyReports (Clusters) and the PolicyReports of every namespace.
    #[arg(short = 'n', long = "namespace", value_name = "NAMESPACE")]
    pub namespace: Option<String>,
    /// Only the results of this policy.
    #[arg(long, value_name = "POLICY")]
    pub policy: Option<String>,
    /// Only objects with a result other than pass.
    #[arg(long)]
    pub failing: bool,
    /// The summary as yaml or json instead of the table (with each result that is not a pass).
    #[arg(short = 'o', long = "output", value_enum)]
    pub output: Option<SummaryFormat>,
    /// Print the table without its header line.
    #[arg(long)]
    pub no_headers: bool,
}
