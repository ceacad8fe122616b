//! `kubectl kkp version`: its flags and help.

use clap::Args;

pub const ABOUT: &str = "\
Print the plugin's version and the git commit it was built from, the Kubernetes version new
clusters get by default, the versions on offer, the KKP release whose configuration that built-in
catalog equals, and the providers the built-in templates cover. Nothing is contacted: these are
the answers of the engine built into this binary. Commands that take --kubermatic-configuration
(and create cluster, which reads the management cluster's) use the platform's own versions instead.";

pub const EXAMPLES: &str = "\
Examples:
  kubectl kkp version
  kubectl kkp version -o json";

#[derive(Debug, Args)]
#[command(after_help = EXAMPLES)]
pub struct VersionArgs {
    /// Output format: text for people, or json / yaml.
    #[arg(short = 'o', long, value_enum, default_value_t = VersionFormat::Text, value_name = "FORMAT")]
    pub output: VersionFormat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum VersionFormat {
    Text,
    Json,
    Yaml,
}
