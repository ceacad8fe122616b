//! `kubectl kkp create cluster`: its flags and help.

use std::time::Duration;

use clap::{ArgAction, Args, Subcommand};

use super::generate::TemplateArgs;
use crate::k8s::apply::DryRun;
use crate::k8s::duration;
use crate::k8s::trust::AllowArgs;
use crate::output::OutputFormat;
use crate::platform::{DEFAULT_KUBERMATIC_NAMESPACE, PlatformFiles};

pub const CREATE_CLUSTER_ABOUT: &str = "\
Create a KKP cluster: generate its objects from a template (the flags of `generate cluster`),
default and check them locally with the same engine as the admission webhook, apply the Cluster
to the management (seed) cluster with server-side apply (field manager kubectl-kkp), wait until
KKP reports it Running with every component healthy, then apply the MachineDeployments into the
user cluster's kube-system namespace through the cluster's own kubeconfig.

NAME is the cluster ID. Without NAME, or with --generate-name, a KKP-style ID is generated (ten
characters) and NAME, if given, becomes the human-readable name. A cluster of the same project
(--project) with that human-readable name that an earlier run of this command applied is
continued instead of making a second one; clusters made otherwise are never taken over.

--wait is on by default, because the MachineDeployments can only be applied once the user cluster
runs. With --wait=false only the Cluster (and any other management-cluster objects) is applied;
run the same command again later to finish. Re-running converges: server-side apply is idempotent
and a running cluster is seen at once, so an interrupted run can simply be repeated.

With a Cluster API template (--from cluster-template.yaml, or a provider's with --infrastructure
NAME[:VERSION]), every object goes to the management cluster, in dependency order (those without
a namespace into --target-namespace or -n), and --wait waits for the cluster.x-k8s.io Cluster's
Available condition (Ready for v1beta1), showing its phase and conditions as they change, then for
its <name>-kubeconfig secret.

The KKP Cluster and MachineDeployments are sent as the local check defaulted them, which is what
--dry-run=client prints (the same as `generate cluster` prints); objects of other kinds are sent
as the template makes them.

The local check uses the platform's own configuration: the versions (offered, default, updates,
provider incompatibilities) of the KubermaticConfiguration and the datacenters of the Seeds that
KKP keeps in --kubermatic-namespace on the management cluster. Where they are not served or you
may not read them, the built-in catalog is used and a warning says so. Files given with
--kubermatic-configuration and --seed win over the cluster's objects; --dry-run=client contacts no
cluster, so it uses those files or the built-in catalog.

With --api (or KKP_API) the cluster is created through the KKP REST API with a service-account
token instead: NAME is the human-readable name and KKP makes the ID. The same local checks run;
then a cluster of that name in the project (--project) is patched with what differs instead of
being created again, the first MachineDeployment goes with the cluster as its initial node
deployment and the others are created once it is healthy. --credential names the KKP preset that
holds the cloud credentials.

Exit codes: 0 done, 1 invalid objects or a refused request (nothing invalid is ever sent),
124 the wait timed out (the message says what was awaited and the last state seen).";

pub const CREATE_CLUSTER_EXAMPLES: &str = "\
Examples:
  # Create a Hetzner cluster with two workers, waiting until it runs
  kubectl kkp create cluster demo --provider hetzner --datacenter hetzner-fsn1 \\
      --project p8kfs2x9jw --set HETZNER_LOCATION=fsn1 --worker-machine-count 2

  # Let KKP-style IDs name it, keeping \"demo\" as the human-readable name
  kubectl kkp create cluster demo --generate-name --provider hetzner ...

  # What would be sent, and what the seed's admission says about it
  kubectl kkp create cluster demo --provider hetzner ... --dry-run=client
  kubectl kkp create cluster demo --provider hetzner ... --dry-run=server

  # Apply the Cluster only, and finish later with the same command
  kubectl kkp create cluster demo --provider hetzner ... --wait=false

  # Check against an exported configuration instead of the one on the management cluster
  kubectl kkp create cluster demo --provider hetzner ... --kubermatic-configuration kubermatic.yaml

  # A seed you trust whose clusters' kubeconfigs log in through a program (exec)
  kubectl kkp create cluster demo --provider hetzner ... --allow-exec

  # Through the KKP REST API with a service-account token
  kubectl kkp create cluster demo --provider kubevirt --datacenter kv-europe-west3-c \\
      --credential my-preset --api https://kkp.example.com --token-file kkp-token --project xw2k9fgh4t

  # A Cluster API template, waiting up to 30 minutes for the cluster to become available
  kubectl kkp create cluster capi-demo --from cluster-template.yaml -n clusters \\
      --kubernetes-version v1.35.7 --timeout 30m";

#[derive(Debug, Args)]
pub struct CreateCommand {
    #[command(subcommand)]
    pub what: CreateWhat,
}

#[derive(Debug, Subcommand)]
pub enum CreateWhat {
    /// Create a KKP cluster and its machine deployments, and wait until it runs.
    #[command(long_about = CREATE_CLUSTER_ABOUT, after_help = CREATE_CLUSTER_EXAMPLES)]
    Cluster(CreateClusterArgs),
}

/// Flags of `create cluster`.
#[derive(Debug, Args)]
pub struct CreateClusterArgs {
    /// The cluster ID; generated when absent (then see --generate-name).
    #[arg(value_name = "NAME")]
    pub name: Option<String>,
    #[command(flatten)]
    pub template: TemplateArgs,
    /// Generate a KKP-style cluster ID; NAME, if given, becomes the human-readable name.
    #[arg(long)]
    pub generate_name: bool,
    /// none: send; client: print what would be sent; server: let the seed run admission without
    /// persisting (the MachineDeployments are not sent).
    #[arg(long, value_enum, value_name = "MODE", default_value_t = DryRun::None, num_args = 0..=1,
          require_equals = true, default_missing_value = "client")]
    pub dry_run: DryRun,
    /// Wait until the cluster runs and apply its MachineDeployments (--wait=false: apply the Cluster
    /// only). For a Cluster API template: wait until its Cluster is available.
    #[arg(long, value_name = "BOOL", default_value_t = true, action = ArgAction::Set, num_args = 0..=1,
          require_equals = true, default_missing_value = "true")]
    pub wait: bool,
    /// How long to wait in all, like 30s, 15m or 1h.
    #[arg(long, value_name = "DURATION", default_value = "15m", value_parser = duration::parse)]
    pub timeout: Duration,
    /// Print the objects (as sent, or as the server returned them) in this format.
    #[arg(short = 'o', long, value_enum, value_name = "FORMAT")]
    pub output: Option<OutputFormat>,
    /// With --api: the KKP preset whose credentials the cluster uses (the API's `credential`).
    #[arg(long, value_name = "PRESET")]
    pub credential: Option<String>,
    /// Take over fields another field manager owns instead of failing with a conflict.
    #[arg(long)]
    pub force_conflicts: bool,
    #[command(flatten)]
    pub allow: AllowArgs,
    /// The namespace KKP keeps its KubermaticConfiguration and Seeds in on the management cluster.
    #[arg(long, value_name = "NAME", default_value = DEFAULT_KUBERMATIC_NAMESPACE, help_heading = "Platform configuration")]
    pub kubermatic_namespace: String,
    #[command(flatten)]
    pub platform: PlatformFiles,
}
