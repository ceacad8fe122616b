//! Settings resolved from the command line before a command runs: which cluster to reach and how
//! much to log. Commands take these instead of clap's types for the global flags.

use crate::cli::GlobalArgs;
use crate::k8s::client::ConnectionSettings;
use crate::kkp_api::settings::ApiArgs;

/// The global flags, resolved.
#[derive(Clone, Debug, Default)]
pub struct GlobalSettings {
    /// `--kubeconfig`, `--context` and `-n` (an empty `-n` counts as not given).
    pub connection: ConnectionSettings,
    /// `-v` given this many times.
    pub verbose: u8,
    /// The KKP REST API flags (`--api`, `--token-file`, `--project`, ...), resolved together with
    /// the environment and the config file when a command asks for the API client.
    pub api: ApiArgs,
}

impl GlobalSettings {
    pub fn resolve(args: GlobalArgs) -> Self {
        let GlobalArgs {
            kubeconfig,
            context,
            namespace,
            verbose,
            api,
        } = args;
        GlobalSettings {
            connection: ConnectionSettings {
                kubeconfig,
                context,
                namespace: namespace.filter(|n| !n.is_empty()),
            },
            verbose,
            api,
        }
    }
}
