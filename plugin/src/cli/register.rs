//! `kubectl kkp register cluster` and `kubectl kkp unregister cluster`: their flags and help.

use std::path::PathBuf;

use clap::{Args, Subcommand};

pub const REGISTER_ABOUT: &str = "\
Import a cluster that already runs into KKP (an imported, \"bring your own\" cluster).

The plugin takes one context of --kubeconfig-file (--cluster-context, else its current context),
checks that it reaches the cluster and reports the cluster's Kubernetes version, then writes, on the
management (seed) cluster of the current context, what KKP's own API writes for an import: the
kubeconfig in the Secret kubeconfig-external-cluster-NAME of namespace kubermatic, and an
ExternalCluster NAME (kubermatic.k8c.io/v1, provider bringyourown) that references it. KKP's
external-cluster controller then takes the cluster over and reports its phase and version
(kubectl kkp get clusters, kubectl kkp describe cluster NAME). --project labels both objects with
the KKP project (project-id).

KKP connects with the stored kubeconfig from inside the seed, so it must carry its credentials
inline: a kubeconfig whose user runs a program (exec, auth-provider, as cloud logins do) or that
names local files (client-certificate, client-key, certificate-authority, tokenFile) is refused,
with how to make a token-based one.

With --api (or KKP_API) the cluster is imported through the KKP REST API instead, into the project
of --project: the same checks run first, then the kubeconfig is sent as KKP's dashboard sends it
(POST /api/v2/projects/PROJECT/kubernetes/clusters) and the API gives the cluster an ID. A cluster
of the same name in the project gets the new kubeconfig instead, so running the command again does
not import the cluster twice.";

pub const REGISTER_EXAMPLES: &str = "\
Examples:
  # Import the cluster of context prod in ~/.kube/prod.yaml into project xw2k9fgh4t
  kubectl kkp register cluster prod --kubeconfig-file ~/.kube/prod.yaml --cluster-context prod \\
      --project xw2k9fgh4t

  # The same through the KKP REST API, with a service-account token
  kubectl kkp register cluster prod --kubeconfig-file ~/.kube/prod.yaml --cluster-context prod \\
      --api https://kkp.example.com --token-file kkp-token --project xw2k9fgh4t

  # A token-based kubeconfig for a cluster whose kubeconfig logs in through a program
  kubectl --context prod create serviceaccount kkp-import -n kube-system
  kubectl --context prod create clusterrolebinding kkp-import --clusterrole cluster-admin \\
      --serviceaccount kube-system:kkp-import
  kubectl --context prod config view --minify --flatten > prod-token.yaml
  kubectl --kubeconfig prod-token.yaml config set-credentials kkp-import \\
      --token \"$(kubectl --context prod create token kkp-import -n kube-system --duration 8760h)\"
  kubectl --kubeconfig prod-token.yaml config set-context --current --user kkp-import";

pub const UNREGISTER_EXAMPLES: &str = "\
Examples:
  # Remove imported cluster prod from KKP after confirming (the cluster itself keeps running)
  kubectl kkp unregister cluster prod

  # Without asking, in scripts
  kubectl kkp unregister cluster prod --yes

  # Through the KKP REST API (by name or ID); KKP disconnects it and leaves the cluster alone
  kubectl kkp unregister cluster prod --yes --api https://kkp.example.com --token-file kkp-token";

#[derive(Debug, Args)]
pub struct RegisterCommand {
    #[command(subcommand)]
    pub what: RegisterWhat,
}

#[derive(Debug, Subcommand)]
pub enum RegisterWhat {
    /// Import a running cluster into KKP through its kubeconfig.
    #[command(long_about = REGISTER_ABOUT, after_help = REGISTER_EXAMPLES)]
    Cluster(RegisterClusterArgs),
}

#[derive(Debug, Args)]
pub struct RegisterClusterArgs {
    /// The name of the imported cluster in KKP (the ExternalCluster's name, its cluster ID).
    #[arg(value_name = "NAME")]
    pub name: String,
    /// The kubeconfig that reaches the cluster; it is stored in KKP, so it must carry its
    /// credentials inline (a token or client certificate data).
    #[arg(long, value_name = "FILE", value_hint = clap::ValueHint::FilePath)]
    pub kubeconfig_file: PathBuf,
    /// The context of --kubeconfig-file to import [default: its current context]. Not the global
    /// --context, which picks the management cluster.
    #[arg(long = "cluster-context", visible_alias = "kubeconfig-context", value_name = "CTX")]
    pub cluster_context: Option<String>,
    /// The name shown in KKP's dashboard [default: NAME]. Not with --api, where NAME is that name.
    #[arg(long, value_name = "TEXT")]
    pub human_readable_name: Option<String>,
}

#[derive(Debug, Args)]
pub struct UnregisterCommand {
    #[command(subcommand)]
    pub what: UnregisterWhat,
}

#[derive(Debug, Subcommand)]
pub enum UnregisterWhat {
    /// Remove an imported cluster from KKP: its ExternalCluster and kubeconfig Secret (with --api:
    /// disconnect it through the KKP REST API).
    #[command(after_help = UNREGISTER_EXAMPLES)]
    Cluster(UnregisterClusterArgs),
}

#[derive(Debug, Args)]
pub struct UnregisterClusterArgs {
    /// The imported cluster's name (with --api: its name or ID).
    #[arg(value_name = "NAME")]
    pub name: String,
    /// Do not ask for confirmation.
    #[arg(long, short = 'y')]
    pub yes: bool,
}
