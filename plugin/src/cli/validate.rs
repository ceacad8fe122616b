//! `kubectl kkp validate`: its flags and help.

use clap::Args;

use super::report::ReportFormat;
use crate::platform::PlatformFiles;

pub const ABOUT: &str = "\
Answer locally what admission would answer for the objects in files, without contacting any
cluster (unless --crds-from-cluster asks for the CRDs it serves).

Files may hold several YAML documents, JSON objects or Lists. Each KKP Cluster
(kubermatic.k8c.io/v1) and machine-controller MachineDeployment (cluster.k8s.io/v1alpha1) is
defaulted, then validated, by the same engine as the admission webhook, as a CREATE. Every error
is listed with the field it is about. Objects of other kinds (another group's Cluster, say) are
reported as skipped, not as errors, unless --crd gives their CRD (or --crds-from-cluster reads it
from the current cluster): then they are checked against its schema (types, required fields,
enums, lengths, bounds, patterns, formats, unknown fields) and its CEL rules.

The versions (offered, default, updates, provider incompatibilities) come from the
KubermaticConfiguration given with --kubermatic-configuration, else from the catalog built into
this binary (kubectl kkp version names its KKP release); --kubernetes-versions replaces the offered
versions of either. The datacenters come from the Seeds given with --seed; without them, rules
that need the datacenter are skipped with a warning.

The exit code is 1 when any object is invalid or a file cannot be read, 0 otherwise.";

pub const EXAMPLES: &str = "\
Examples:
  # Check a generated cluster before applying it
  kubectl kkp generate cluster demo --provider hetzner ... --skip-validation > demo.yaml
  kubectl kkp validate -f demo.yaml

  # Several files, a directory, or stdin; results as JSON
  kubectl kkp validate -f cluster.yaml -f machines/ -o json
  cat cluster.yaml | kubectl kkp validate -f -

  # Against your platform's configuration and datacenters, exported from the KKP cluster
  kubectl -n kubermatic get kubermaticconfigurations -o yaml > kubermatic.yaml
  kubectl -n kubermatic get seeds -o yaml > seeds.yaml
  kubectl kkp validate -f cluster.yaml --kubermatic-configuration kubermatic.yaml --seed seeds.yaml

  # Against a list of versions, checking kubelet skew against a 1.34 control plane
  kubectl kkp validate -f md.yaml --kubernetes-versions 1.34.3,1.35.2 --cluster-version 1.34.3";

#[derive(Debug, Args)]
#[command(after_help = EXAMPLES)]
pub struct ValidateArgs {
    /// Files or directories to check; `-` reads stdin. Repeatable.
    #[arg(short = 'f', long = "filename", value_name = "FILE", required = true, num_args = 1.., value_hint = clap::ValueHint::AnyPath)]
    pub files: Vec<String>,
    /// Also read the directories under directories given with -f.
    #[arg(short = 'R', long)]
    pub recursive: bool,
    /// Output format: `text` for people, `json` for one result per object.
    #[arg(short = 'o', long, value_enum, default_value_t = ReportFormat::Text, value_name = "FORMAT")]
    pub output: ReportFormat,
    /// The Kubernetes versions clusters may be created with, comma-separated; replaces those of
    /// --kubermatic-configuration [default: the configuration's, else the built-in catalog's].
    #[arg(long = "kubernetes-versions", value_name = "VERSIONS", value_delimiter = ',')]
    pub kubernetes_versions: Vec<String>,
    /// The control plane version MachineDeployments are checked against (kubelet skew) [default:
    /// the version of the one KKP Cluster among the inputs, if there is exactly one].
    #[arg(long, value_name = "VERSION")]
    pub cluster_version: Option<String>,
    /// A CRD file, or a directory of them; repeatable. Objects of the kinds they define are checked
    /// against the CRD's schema (types, required fields, enums, lengths, bounds, patterns, formats,
    /// unknown fields) instead of being skipped.
    #[arg(long = "crd", value_name = "FILE|DIR", value_hint = clap::ValueHint::AnyPath)]
    pub crds: Vec<String>,
    /// Also read the CRDs of the objects' kinds from the current cluster (kubeconfig, --context); a
    /// CRD given with --crd takes precedence over the cluster's.
    #[arg(long)]
    pub crds_from_cluster: bool,
    #[command(flatten)]
    pub platform: PlatformFiles,
}
