//! `kubectl kkp install`: its flags and help.

use std::time::Duration;

use clap::{ArgAction, Args};

use crate::k8s::apply::DryRun;
use crate::k8s::duration;
use crate::output::OutputFormat;

pub const INSTALL_ABOUT: &str = "\
Install the CRDs (KKP Cluster; machine-controller MachineDeployment, MachineSet, Machine;
AdmissionPolicy) and the kkp-webhook admission webhook into the cluster of the current context,
with server-side apply (field manager kubectl-kkp).

The webhook needs a serving certificate. By default one is generated: a CA and a certificate for
kkp-webhook.kkp-system.svc (and .svc.cluster.local), stored in the Secret
kkp-system/kkp-webhook-tls with the CA's key, with the CA filled into the webhook configurations.
The webhook renews its serving certificate from that CA before it runs out. A certificate already
installed is kept while it is valid for more than 30 days (--renew-certificate replaces it), so
re-running install changes nothing. A new CA replaces the old one without a moment in which the
apiserver distrusts the webhook: both CAs are trusted first, then the Secret changes, then install
waits until the webhook pods serve the new certificate, and only then is the old CA dropped. A run
interrupted midway leaves both trusted; running install again finishes it.

With --cert-manager, cert-manager issues the certificate and injects the CA instead; cert-manager
must be installed first.

--wait waits until the webhook's Deployment has rolled out (every replica updated and
available), showing how far it is; without it, install returns once everything is applied.

Use --crds=false or --webhook=false to install only one part. On a KKP seed, KKP's own CRDs are in
charge: install the webhook only there (--crds=false). The AdmissionPolicy CRD belongs to the
webhook, which watches policies, so it is installed with the webhook either way.

The Helm chart kkp-webhook (charts/kkp-webhook in the source) installs exactly the same objects,
for clusters managed with Helm.";

pub const INSTALL_EXAMPLES: &str = "\
Examples:
  # Everything, with a generated certificate
  kubectl kkp install

  # Everything, and wait until the webhook's pods are available
  kubectl kkp install --wait --timeout 5m

  # Only the CRDs, for a test cluster
  kubectl kkp install --webhook=false

  # The webhook with a certificate from cert-manager, into another cluster
  kubectl kkp install --crds=false --cert-manager --context prod-seed

  # Review what would be applied (the generated private key shows as a placeholder)
  kubectl kkp install --dry-run=client > kkp-install.yaml

  # The same with the generated private key, to apply it elsewhere (keep the file private)
  kubectl kkp install --dry-run=client --show-secrets > kkp-install.yaml";

/// Flags of `install`.
#[derive(Debug, Args)]
#[command(long_about = INSTALL_ABOUT, after_help = INSTALL_EXAMPLES)]
pub struct InstallArgs {
    /// Install the Cluster and machine-controller CRDs generated from the engine's types (--crds=false
    /// to skip, as on a KKP seed).
    #[arg(long, value_name = "BOOL", default_value_t = true, action = ArgAction::Set, num_args = 0..=1,
          require_equals = true, default_missing_value = "true")]
    pub crds: bool,
    /// With the webhook, install the PolicyReport and ClusterPolicyReport CRDs (wgpolicyk8s.io/v1alpha2)
    /// it writes its reports as, each only where the cluster does not have it yet: another policy engine
    /// (Kyverno, Kubewarden) that installed them keeps them. --policy-report-crds=false to skip.
    #[arg(long, value_name = "BOOL", default_value_t = true, action = ArgAction::Set, num_args = 0..=1,
          require_equals = true, default_missing_value = "true")]
    pub policy_report_crds: bool,
    /// Install the admission webhook (--webhook=false to skip).
    #[arg(long, value_name = "BOOL", default_value_t = true, action = ArgAction::Set, num_args = 0..=1,
          require_equals = true, default_missing_value = "true")]
    pub webhook: bool,
    /// Let cert-manager issue the serving certificate and inject the CA.
    #[arg(long)]
    pub cert_manager: bool,
    /// Generate a new certificate even if the installed one is still good.
    #[arg(long, conflicts_with = "cert_manager")]
    pub renew_certificate: bool,
    /// The webhook image, any reference (registry/name:tag or name@sha256:digest) [default: the image
    /// of this release].
    #[arg(long, value_name = "IMAGE")]
    pub image: Option<String>,
    /// none: apply; client: print everything that would be applied; server: let the server check
    /// it without persisting.
    #[arg(long, value_enum, value_name = "MODE", default_value_t = DryRun::None, num_args = 0..=1,
          require_equals = true, default_missing_value = "client")]
    pub dry_run: DryRun,
    /// Print the private keys of the generated certificates in the objects that --dry-run=client or
    /// -o prints, instead of a placeholder.
    #[arg(long)]
    pub show_secrets: bool,
    /// Print the objects in this format instead of one line per object.
    #[arg(short = 'o', long, value_enum, value_name = "FORMAT")]
    pub output: Option<OutputFormat>,
    /// Take over fields another field manager owns instead of failing with a conflict.
    #[arg(long)]
    pub force_conflicts: bool,
    /// Wait until the webhook's Deployment has rolled out.
    #[arg(long, value_name = "BOOL", default_value_t = false, action = ArgAction::Set, num_args = 0..=1,
          require_equals = true, default_missing_value = "true")]
    pub wait: bool,
    /// How long to wait in all: for the CRDs to be established and, with --wait, for the rollout.
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = duration::parse)]
    pub timeout: Duration,
}
