//! `kubectl kkp apply -f`: its flags and help (KKP REST API payload files).

use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgAction, Args};

use crate::k8s::duration;

pub const APPLY_ABOUT: &str = "\
Apply KKP API payload files through the KKP REST API (--api or KKP_API), as the KKP project's
curl scripts do, with create-or-patch semantics:

  - a CreateClusterSpec (JSON with \"cluster\" and optionally \"nodeDeployment\"): a cluster of
    that human-readable name in the project is patched, otherwise the cluster is created;
  - a NodeDeployment (JSON with \"spec.template\"): created or patched by name in the cluster named
    by --cluster (its name or ID), or in the cluster of a CreateClusterSpec applied with it;
  - an Addon (JSON with \"name\" and \"spec.variables\" or \"spec.continuouslyReconcile\"): created
    or, when its settings differ, patched by name in the cluster named by --cluster;
  - a machine-controller MachineDeployment object (YAML like md.yaml, or a List of them as
    `generate machinedeployments -o json` prints): applied into the user cluster's kube-system
    namespace (server-side apply) with the kubeconfig the API hands out.

Without the KKP API, MachineDeployment objects (and only they) go through the management cluster
of the current kubeconfig into the user cluster of the KKP cluster --cluster names (ID or
human-readable name), with the kubeconfig KKP keeps for it (--wait waits until the cluster runs).

Every file is checked before anything is sent: what today's KKP no longer accepts (Kubernetes
versions it does not offer, CentOS and SLES, fields that moved since 2021) is named with the fix,
and `null` fields are dropped (they mean \"not set\"; in a patch they would delete). With
--dry-run the verdict is printed and nothing is sent.

Exit codes: 0 applied, 1 a refused file or request (nothing of a refused file is sent), 124 the
wait timed out.";

pub const APPLY_EXAMPLES: &str = "\
Examples:
  # The seed's make apply-cluster: create or patch the cluster, wait until it is healthy
  kubectl kkp apply -f cluster.json --api https://kkp.example.com --token-file kkp-token \\
      --project xw2k9fgh4t --wait

  # The seed's make apply-machine-deployment
  kubectl kkp apply -f machine_deployment_ubuntu.json --cluster tobi-api-vsphere

  # md.yaml files go into the user cluster
  kubectl kkp apply -f md.yaml -f md-small.yaml --cluster tobi-api-kvirt-md-yaml

  # KubeOne's worker pools, through the management cluster (no --api)
  kubectl kkp generate machinedeployments --terraform-output tf.json --cluster demo -o json > workers.json
  kubectl kkp apply -f workers.json --cluster demo --wait

  # What would happen, without sending anything
  kubectl kkp apply -f cluster.json -f machine_deployment_ubuntu.json --dry-run";

/// Flags of `apply`.
#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// A payload file (JSON) or MachineDeployment objects (YAML or JSON); repeatable.
    #[arg(short = 'f', long = "filename", value_name = "FILE", required = true, num_args = 1..,
          value_hint = clap::ValueHint::FilePath)]
    pub files: Vec<PathBuf>,
    /// The cluster (human-readable name or ID) NodeDeployments and MachineDeployments go to.
    #[arg(long, value_name = "NAME|ID")]
    pub cluster: Option<String>,
    /// Check the files and print the verdict; send nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Wait until the cluster is healthy (and apply the machine deployments then).
    #[arg(long, value_name = "BOOL", default_value_t = false, action = ArgAction::Set, num_args = 0..=1,
          require_equals = true, default_missing_value = "true")]
    pub wait: bool,
    /// How long to wait in all, like 30s, 15m or 1h.
    #[arg(long, value_name = "DURATION", default_value = "15m", value_parser = duration::parse)]
    pub timeout: Duration,
}
