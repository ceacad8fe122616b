//! Settings resolved from the command line before a command runs: which cluster to reach and how
//! much to log. Commands take these instead of clap's types for the global flags.

use crate::cli::GlobalArgs;
use crate::k8s::client::ConnectionSettings;

/// The global flags, resolved.
#[derive(Clone, Debug, Default)]
pub struct GlobalSettings {
    /// `--kubeconfig`, `--context` and `-n` (an empty `-n` counts as not given).
    pub connection: ConnectionSettings,
    /// `-v` given this many times.
    pub verbose: u8,
}

impl GlobalSettings {
    pub fn resolve(args: GlobalArgs) -> Self {
        let GlobalArgs {
            kubeconfig,
            context,
            namespace,
            verbose,
        } = args;
        GlobalSettings {
            connection: ConnectionSettings {
                kubeconfig,
                context,
                namespace: namespace.filter(|n| !n.is_empty()),
            },
            verbose,
        }
    }
}
