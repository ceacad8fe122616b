//! `kubectl kkp policy test`: its flags and help.

use clap::{Args, Subcommand};

use super::report::ReportFormat;
use crate::platform::PlatformFiles;

pub const TEST_ABOUT: &str = "\
Evaluate admission policies on objects offline, with the same engine as the admission webhook.

Files may hold several YAML documents, JSON objects or Lists, and may mix AdmissionPolicy objects
(policy.kubectl-kkp.io/v1alpha1) with the objects to test: every AdmissionPolicy found is in force,
every other object is tested. KKP Clusters and machine-controller MachineDeployments are defaulted
first, as the mutating webhook does before the validating one; other objects are skipped.

For each object the output lists every rule it breaks, with the policy and its enforcement: Deny
(the webhook refuses the object), Warn (admitted with a warning) or Audit (admitted and recorded).
Use --as and --as-group to see what a user or group exempted by a policy would get. Objects are
defaulted with the versions of --kubermatic-configuration and the datacenters of --seed when given.

The exit code is 1 when an object breaks a Deny rule, a policy does not compile or a file cannot
be read, and 0 otherwise.";

pub const TEST_EXAMPLES: &str = "\
Examples:
  # Would this cluster pass the platform's policies?
  kubectl kkp policy test -f policies.yaml -f cluster.yaml

  # Generated objects, from stdin, as JSON
  kubectl kkp generate cluster demo --provider hetzner ... \\
      | kubectl kkp policy test -f policies.yaml -f - -o json

  # As a member of a group some policies exempt
  kubectl kkp policy test -f policies.yaml -f cluster.yaml --as alice --as-group platform-admins

  # With your platform's configuration and datacenters
  kubectl kkp policy test -f policies.yaml -f cluster.yaml \\
      --kubermatic-configuration kubermatic.yaml --seed seeds.yaml";

#[derive(Debug, Args)]
pub struct PolicyCommand {
    #[command(subcommand)]
    pub what: PolicyWhat,
}

#[derive(Debug, Subcommand)]
pub enum PolicyWhat {
    /// Evaluate AdmissionPolicies on objects offline and list the rules each object breaks.
    #[command(long_about = TEST_ABOUT, after_help = TEST_EXAMPLES)]
    Test(PolicyTestArgs),
}

/// Flags of `policy test`.
#[derive(Debug, Args)]
pub struct PolicyTestArgs {
    /// Files or directories with policies and objects; `-` reads stdin. Repeatable.
    #[arg(short = 'f', long = "filename", value_name = "FILE", required = true, num_args = 1.., value_hint = clap::ValueHint::AnyPath)]
    pub files: Vec<String>,
    /// Output format: `text` for people, `json` for one result per object.
    #[arg(short = 'o', long, value_enum, default_value_t = ReportFormat::Text, value_name = "FORMAT")]
    pub output: ReportFormat,
    /// Evaluate as this user (for policies' user exemptions).
    #[arg(long = "as", value_name = "USER")]
    pub as_user: Option<String>,
    /// Evaluate as a member of this group (for policies' group exemptions). Repeatable.
    #[arg(long = "as-group", value_name = "GROUP")]
    pub as_groups: Vec<String>,
    #[command(flatten)]
    pub platform: PlatformFiles,
}
