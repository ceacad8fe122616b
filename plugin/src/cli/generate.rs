//! `kubectl kkp generate cluster|machinedeployments`: their flags and help, and the template flags
//! `create cluster` shares.

use std::path::PathBuf;

use clap::builder::{PossibleValue, TypedValueParser};
use clap::{Args, Subcommand};
use kkp_crds::providers::Provider;

use crate::output::OutputFormat;
use crate::platform::PlatformFiles;
use crate::template::builtin;

pub const GENERATE_ABOUT: &str = "\
Print the objects of a cluster without contacting any cluster.

The objects come from a template: a built-in one for a provider and flavor, any
clusterctl-style template file (--from), or a Cluster API provider's template from its local
clusterctl repository (--infrastructure NAME[:VERSION], --flavor). Its ${VARIABLES} take their
values, highest first, from flags (--set KEY=VALUE and the named flags), the environment, a
Terraform output (--terraform-output FILE), config files (--values FILE, then the `variables:` of
${XDG_CONFIG_HOME:-~/.config}/kubectl-kkp/config.yaml), clusterctl's config file (for Cluster API
templates), and the template's own defaults. The objects are then defaulted and checked
exactly as KKP's and machine-controller's admission webhooks would, and printed defaulted.

`generate machinedeployments` turns the worker pools of KubeOne's Terraform output into
machine-controller MachineDeployments.

The versions (the default version included) come from --kubermatic-configuration when given, else
from the catalog built into this binary; the datacenters from --seed.";

pub const GENERATE_EXAMPLES: &str = "\
Examples:
  # A Hetzner cluster in project p8kfs2x9jw, saved for review, then applied
  kubectl kkp generate cluster demo --provider hetzner --datacenter hetzner-fsn1 \\
      --project p8kfs2x9jw --set HETZNER_LOCATION=fsn1 > demo.yaml
  kubectl apply -f demo.yaml

  # Which variables a template takes, where their values come from
  kubectl kkp generate cluster demo --provider aws --list-variables";

pub const CLUSTER_ABOUT: &str = "\
Print a KKP Cluster (kubermatic.k8c.io/v1, cluster-scoped, named NAME, which is the cluster ID)
and its machine-controller MachineDeployments (cluster.k8s.io/v1alpha1, namespace kube-system)
without contacting any cluster.

The built-in templates (--provider, --flavor) need at least the project (--project or
KKP_PROJECT_ID), the datacenter (--datacenter or KKP_DATACENTER) and a few provider variables;
--list-variables shows them all. Every missing variable is reported at once.

Credentials: a template puts the provider's usual environment variables (AWS_ACCESS_KEY_ID,
HZ_TOKEN, ...) inline when they are set, and KKP moves them into a Secret; otherwise the Cluster
references the Secret KKP_CREDENTIALS_SECRET (default credential-<provider>-NAME) in namespace
KKP_CREDENTIALS_NAMESPACE (default kubermatic).

Template syntax (clusterctl's): ${VAR}, ${VAR:=default} and ${VAR:-default} (default when unset
or empty), ${VAR=default} and ${VAR-default} (default when unset), ${VAR:+alt}, ${VAR:?message},
${#VAR}, ${VAR^^} / ${VAR,,}, and $$ for a literal $. A bare $VAR is left as written, so shell
scripts in templates pass through. Substrings and pattern edits (${VAR:1:2}, ${VAR#prefix},
${VAR/old/new}) are refused with an error naming the line, never expanded half-way.

Unless --skip-validation is given, every KKP Cluster and MachineDeployment is defaulted and
validated by the same engine as the admission webhook; errors are listed per object and field
and the command exits 1. Objects of other kinds are printed as they are.

Versions: without --kubernetes-version, clusters get the default version of the
KubermaticConfiguration given with --kubermatic-configuration, else that of the built-in catalog.
The versions are checked against that configuration's offer, and the datacenter against the Seeds
given with --seed.";

pub fn cluster_after_help() -> String {
    format!(
        "{}\n{}\n\n\
Examples:
  # Print a cluster on Hetzner with two workers
  kubectl kkp generate cluster demo --provider hetzner --datacenter hetzner-fsn1 \\
      --project p8kfs2x9jw --set HETZNER_LOCATION=fsn1 --worker-machine-count 2

  # The same, in the dual-stack flavor, with variables from a file, as JSON
  kubectl kkp generate cluster demo --provider hetzner --flavor dual-stack \\
      --values demo.yaml -o json

  # See the variables of the AWS template, their values and where they come from
  kubectl kkp generate cluster demo --provider aws --list-variables

  # With your platform's default version, checked against its offer and datacenters
  kubectl kkp generate cluster demo --provider hetzner ... \\
      --kubermatic-configuration kubermatic.yaml --seed seeds.yaml

  # Fill any clusterctl template, such as a Cluster API provider's cluster-template.yaml
  kubectl kkp generate cluster demo --from cluster-template.yaml --kubernetes-version v1.35.7 \\
      --control-plane-machine-count 3 --worker-machine-count 2

  # A provider's template from its local clusterctl repository (providers: in clusterctl.yaml)
  kubectl kkp generate cluster demo --infrastructure kubernetes:v0.3.0 \\
      --flavor persistent-control-plane --target-namespace clusters

  # Create it right away
  kubectl kkp generate cluster demo --provider hetzner ... | kubectl apply -f -",
        builtin::catalog(),
        known_variables_help()
    )
}

pub fn known_variables_help() -> String {
    let width = FLAG_VARIABLES
        .iter()
        .map(|(var, _)| var.len())
        .max()
        .unwrap_or_default()
        + 2;
    let mut out = String::from("Variables set by flags:\n");
    for (var, flag) in FLAG_VARIABLES {
        out.push_str(&format!("  {var:<width$}{flag}\n"));
    }
    out.push_str(&format!("  {:<width$}NAME", "CLUSTER_NAME"));
    out
}

#[derive(Debug, Args)]
#[command(after_help = GENERATE_EXAMPLES)]
pub struct GenerateCommand {
    #[command(subcommand)]
    pub what: GenerateWhat,
}

#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum GenerateWhat {
    /// Print a KKP Cluster and its MachineDeployments from a template, offline.
    #[command(long_about = CLUSTER_ABOUT, after_long_help = cluster_after_help())]
    Cluster(GenerateClusterArgs),
    /// Print MachineDeployments for the worker pools of KubeOne's Terraform output, offline.
    #[command(
        name = "machinedeployments",
        visible_alias = "md",
        long_about = MACHINEDEPLOYMENTS_ABOUT,
        after_long_help = MACHINEDEPLOYMENTS_AFTER_HELP
    )]
    MachineDeployments(GenerateWorkersArgs),
}

#[derive(Debug, Args)]
pub struct GenerateClusterArgs {
    /// The cluster's name, which is its KKP cluster ID (CLUSTER_NAME in templates).
    #[arg(value_name = "NAME")]
    pub name: String,
    #[command(flatten)]
    pub template: TemplateArgs,
    /// Print the template's variables (value, source, whether required) instead of the objects.
    #[arg(long)]
    pub list_variables: bool,
    /// Print the objects as the template gives them: no defaulting, no validation.
    #[arg(long)]
    pub skip_validation: bool,
    /// Output format. With --list-variables the default is a table and `-o json` gives JSON.
    #[arg(short = 'o', long, value_enum, value_name = "FORMAT")]
    pub output: Option<OutputFormat>,
    /// Write the objects to FILE (created with mode 0600) instead of stdout; `-` is stdout.
    #[arg(long, value_name = "FILE", value_hint = clap::ValueHint::FilePath)]
    pub write_to: Option<PathBuf>,
    #[command(flatten)]
    pub platform: PlatformFiles,
}

/// The flags that pick a template and give its variables values. `create cluster` flattens them.
#[derive(Debug, Clone, Default, Args)]
pub struct TemplateArgs {
    /// The cloud provider of the built-in template.
    #[arg(long, value_name = "NAME", required_unless_present_any = ["from", "infrastructure"], value_parser = Suggest(provider_names()))]
    pub provider: Option<String>,
    /// The flavor: of the built-in template [default: default], or of the --infrastructure
    /// provider's (cluster-template-FLAVOR.yaml) [default: cluster-template.yaml].
    #[arg(long, value_name = "NAME", conflicts_with = "from", value_parser = Suggest(builtin::flavor_names()))]
    pub flavor: Option<String>,
    /// Use this clusterctl-style template file instead of a built-in one; `-` reads stdin.
    #[arg(long, value_name = "FILE", conflicts_with = "provider", value_hint = clap::ValueHint::FilePath)]
    pub from: Option<String>,
    /// Take the template of this Cluster API infrastructure provider, as `clusterctl generate
    /// cluster` does, from its local repository (a file:// URL in the providers: of clusterctl's
    /// config file) or the overrides folder; VERSION defaults to the URL's (`latest`: the highest
    /// release in the repository).
    #[arg(
        short = 'i',
        long,
        value_name = "NAME[:VERSION]",
        conflicts_with_all = ["provider", "from"]
    )]
    pub infrastructure: Option<String>,
    /// clusterctl's config file, for its providers:, overridesFolder and variables [default:
    /// ${XDG_CONFIG_HOME:-~/.config}/cluster-api/clusterctl.yaml, else ~/.cluster-api/clusterctl.yaml].
    /// Read for Cluster API templates (--infrastructure, --from).
    #[arg(long = "config", value_name = "FILE", conflicts_with = "provider", value_hint = clap::ValueHint::FilePath)]
    pub clusterctl_config: Option<String>,
    /// The namespace of the cluster's objects (NAMESPACE), as clusterctl's --target-namespace;
    /// the same as -n/--namespace, which it must not contradict.
    #[arg(long, value_name = "NAME")]
    pub target_namespace: Option<String>,
    /// The KKP datacenter to run the cluster in, as named on the seed (KKP_DATACENTER).
    #[arg(long, value_name = "NAME")]
    pub datacenter: Option<String>,
    /// The ID of the KKP project the cluster belongs to (KKP_PROJECT_ID): the global `--project`,
    /// which the command copies here before rendering.
    #[arg(skip)]
    pub project: Option<String>,
    /// The name shown in KKP's dashboard [default: NAME] (KKP_HUMAN_READABLE_NAME).
    #[arg(long, value_name = "TEXT")]
    pub human_readable_name: Option<String>,
    /// The Kubernetes version of the control plane and the kubelets [default: the platform
    /// configuration's default, with a leading v for --from templates, as Cluster API wants]
    /// (KUBERNETES_VERSION).
    #[arg(long, value_name = "VERSION")]
    pub kubernetes_version: Option<String>,
    /// Workers per MachineDeployment [default: 1; 0 for Cluster API templates (--from,
    /// --infrastructure), as clusterctl] (WORKER_MACHINE_COUNT).
    #[arg(long, value_name = "COUNT")]
    pub worker_machine_count: Option<u32>,
    /// Control plane machines, for Cluster API templates [default: 1] (CONTROL_PLANE_MACHINE_COUNT).
    #[arg(long, value_name = "COUNT")]
    pub control_plane_machine_count: Option<u32>,
    /// An SSH public key for the workers, in authorized_keys format; repeatable (SSH_PUBLIC_KEYS).
    #[arg(long = "ssh-public-key", value_name = "KEY")]
    pub ssh_public_keys: Vec<String>,
    /// A file of SSH public keys, one per line (such as ~/.ssh/id_ed25519.pub); repeatable.
    #[arg(long = "ssh-public-key-file", value_name = "FILE", value_hint = clap::ValueHint::FilePath)]
    pub ssh_public_key_files: Vec<PathBuf>,
    /// Set a template variable; repeatable. The named flags win over --set for their variable.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// A YAML file of variables (KEY: value); repeatable, later files win. Below the environment.
    #[arg(long = "values", value_name = "FILE", value_hint = clap::ValueHint::FilePath)]
    pub values: Vec<PathBuf>,
    /// The JSON of `terraform output -json` (`-` reads stdin): each value becomes a variable named
    /// by its path in upper case (kubeone_api.endpoint is KUBEONE_API_ENDPOINT; lists as JSON).
    /// Below the environment, above --values.
    #[arg(long, value_name = "FILE", value_hint = clap::ValueHint::FilePath)]
    pub terraform_output: Option<String>,
    /// The global `-n/--namespace`, which fills NAMESPACE (as clusterctl's --target-namespace
    /// does); the command copies it here before rendering.
    #[arg(skip)]
    pub namespace: Option<String>,
}

/// The variables the named flags set, and the flag for each.
pub const FLAG_VARIABLES: [(&str, &str); 8] = [
    ("KKP_PROJECT_ID", "--project"),
    ("KKP_DATACENTER", "--datacenter"),
    ("KKP_HUMAN_READABLE_NAME", "--human-readable-name"),
    ("KUBERNETES_VERSION", "--kubernetes-version"),
    ("WORKER_MACHINE_COUNT", "--worker-machine-count"),
    ("CONTROL_PLANE_MACHINE_COUNT", "--control-plane-machine-count"),
    ("SSH_PUBLIC_KEYS", "--ssh-public-key"),
    ("NAMESPACE", "--target-namespace or -n"),
];

pub fn provider_names() -> Vec<&'static str> {
    Provider::ALL.iter().map(|p| p.name()).collect()
}

/// A value parser that takes any text (so the command can explain a wrong value in its own
/// words) but tells help and completion which values there are.
#[derive(Clone, Debug)]
pub struct Suggest(Vec<&'static str>);

impl TypedValueParser for Suggest {
    type Value = String;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<String, clap::Error> {
        clap::builder::StringValueParser::new().parse_ref(cmd, arg, value)
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(self.0.iter().map(|v| PossibleValue::new(*v))))
    }
}

pub const MACHINEDEPLOYMENTS_ABOUT: &str = "\
Print machine-controller MachineDeployments (cluster.k8s.io/v1alpha1, namespace kube-system) for
the worker pools of KubeOne's Terraform output, without contacting any cluster.

The input is the JSON of `terraform output -json` of a Terraform configuration with KubeOne's
output.tf: each entry of its kubeone_workers output is a pool (name, replicas, providerSpec) and
becomes one MachineDeployment as KubeOne makes it: named for the pool, its machines labelled
workerset=POOL (plus the pool's labels), providerSpec.annotations on the MachineDeployment,
machineObjectAnnotations on the Machines, nodeAnnotations and taints on the Nodes, and the rest of
providerSpec (cloudProviderSpec, operatingSystem, operatingSystemSpec, sshPublicKeys, network) as
the machines' providerSpec with cloudProvider set. AWS machines get the tag
kubernetes.io/cluster/CLUSTER=shared, as KubeOne gives them.

The cloud provider is kubeone_hosts.control_plane.cloud_provider of the output, or --provider.
Every invalid field of every pool is reported at once; then, unless --skip-validation is given,
the MachineDeployments are defaulted and validated by the same engine as the admission webhook,
for the kubelet version --kubernetes-version (default: the platform configuration's default).

The output is applied to the user cluster, where machine-controller runs (kubectl apply with the
kubeconfig of `kubectl kkp get kubeconfig CLUSTER`).";

pub const MACHINEDEPLOYMENTS_AFTER_HELP: &str = "\
Examples:
  # The workers of a KubeOne Terraform configuration, for cluster demo
  terraform output -json > tf.json
  kubectl kkp generate machinedeployments --terraform-output tf.json --cluster demo

  # Straight from Terraform, with the kubelet version of the cluster
  terraform output -json | kubectl kkp generate machinedeployments --terraform-output - \\
      --cluster demo --kubernetes-version 1.35.7 > workers.yaml";

#[derive(Debug, Args)]
pub struct GenerateWorkersArgs {
    /// The JSON of `terraform output -json` with KubeOne's kubeone_workers output; `-` reads stdin.
    #[arg(long, value_name = "FILE", value_hint = clap::ValueHint::FilePath)]
    pub terraform_output: String,
    /// The cluster the workers join (its KKP cluster ID, or KubeOne's cluster name).
    #[arg(long, value_name = "NAME")]
    pub cluster: String,
    /// The cloud provider, machine-controller's or KKP's name [default:
    /// kubeone_hosts.control_plane.cloud_provider of the output].
    #[arg(long, value_name = "NAME")]
    pub provider: Option<String>,
    /// The kubelet version of the machines [default: the platform configuration's default].
    #[arg(long, value_name = "VERSION")]
    pub kubernetes_version: Option<String>,
    /// Print the MachineDeployments as converted: no defaulting, no validation by the engine.
    #[arg(long)]
    pub skip_validation: bool,
    /// Output format [default: yaml].
    #[arg(short = 'o', long, value_enum, value_name = "FORMAT")]
    pub output: Option<OutputFormat>,
    /// Write the objects to FILE (created with mode 0600) instead of stdout; `-` is stdout.
    #[arg(long, value_name = "FILE", value_hint = clap::ValueHint::FilePath)]
    pub write_to: Option<PathBuf>,
    #[command(flatten)]
    pub platform: PlatformFiles,
}
