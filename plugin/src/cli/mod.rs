//! The command line as clap types only: the command tree, its flags and help texts, one module
//! per command group. What the commands do lives in `commands/`.

pub mod apply;
pub mod completion;
pub mod create;
pub mod delete;
pub mod describe;
pub mod generate;
pub mod get;
pub mod install;
pub mod policy;
pub mod register;
pub mod report;
pub mod validate;
pub mod version;

use clap::{Args, Parser, Subcommand};

use crate::kkp_api::settings::ApiArgs;

const ROOT_EXAMPLES: &str = "\
Examples:
  # Print a Hetzner cluster's objects, offline
  kubectl kkp generate cluster demo --provider hetzner --datacenter hetzner-fsn1 \\
      --project p8kfs2x9jw --set HETZNER_LOCATION=fsn1

  # Create it on the management cluster and wait until it runs
  kubectl kkp create cluster demo --provider hetzner --datacenter hetzner-fsn1 \\
      --project p8kfs2x9jw --set HETZNER_LOCATION=fsn1

  # See the clusters, one cluster in detail, and reach it
  kubectl kkp get clusters
  kubectl kkp describe cluster demo
  kubectl kkp get kubeconfig demo --merge --set-current

  # Check files locally the way admission would
  kubectl kkp validate -f demo.yaml

  # The same through the KKP REST API with a service-account token
  export KKP_API=https://kkp.example.com KKP_TOKEN=$(cat kkp-token) KKP_PROJECT=xw2k9fgh4t
  kubectl kkp apply -f cluster.json --wait
  kubectl kkp get clusters

Exit codes: 0 success; 1 an error, including a wrong flag or argument; 124 a wait that timed out.";

/// Generate, validate, create and reach KKP clusters.
#[derive(Debug, Parser)]
#[command(
    name = "kubectl kkp",
    bin_name = "kubectl kkp",
    version,
    propagate_version = true,
    after_help = ROOT_EXAMPLES
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every command takes, named as kubectl names them.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// Path to the one kubeconfig file to use [default: the files listed in KUBECONFIG, separated
    /// by ':', else ~/.kube/config].
    #[arg(long, global = true, value_name = "FILE", value_hint = clap::ValueHint::FilePath)]
    pub kubeconfig: Option<String>,
    /// The kubeconfig context to use.
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,
    /// The namespace for namespaced objects.
    #[arg(short = 'n', long, global = true, value_name = "NAME")]
    pub namespace: Option<String>,
    /// Log verbosity: -v for info, -vv for debug, -vvv for trace (logs go to stderr).
    #[arg(short = 'v', long = "verbose", global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    #[command(flatten)]
    pub api: ApiArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print cluster and worker objects without contacting any cluster.
    #[command(long_about = generate::GENERATE_ABOUT)]
    Generate(generate::GenerateCommand),
    /// Create a cluster: generate, check locally, apply, wait, fetch its kubeconfig.
    Create(create::CreateCommand),
    /// Show clusters, a cluster, policies, policy reports, or a cluster's kubeconfig.
    Get(get::GetCommand),
    /// Show a cluster as a tree of its health and machine deployments.
    Describe(describe::DescribeCommand),
    /// Delete a cluster, or every cluster of a KKP project.
    Delete(delete::DeleteCommand),
    /// Apply KKP API payload files (clusters, machine deployments) through the KKP REST API.
    #[command(long_about = apply::APPLY_ABOUT, after_help = apply::APPLY_EXAMPLES)]
    Apply(apply::ApplyArgs),
    /// Import a running cluster into KKP (an ExternalCluster with its kubeconfig).
    Register(register::RegisterCommand),
    /// Remove an imported cluster from KKP.
    Unregister(register::UnregisterCommand),
    /// Answer locally what admission would answer for files.
    #[command(long_about = validate::ABOUT)]
    Validate(validate::ValidateArgs),
    /// Install the CRDs and the admission webhook into a cluster.
    #[command(long_about = install::INSTALL_ABOUT)]
    Install(install::InstallArgs),
    /// Test objects against admission policies offline.
    Policy(policy::PolicyCommand),
    /// Print the plugin's version.
    #[command(long_about = version::ABOUT)]
    Version(version::VersionArgs),
    /// Print a shell completion script.
    #[command(long_about = completion::ABOUT)]
    Completion(completion::CompletionArgs),
    /// Answer shell completion requests the way cobra does (used by kubectl_complete-kkp).
    #[command(name = "__complete", hide = true)]
    Complete(completion::CompleteArgs),
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    /// The paths of the commands a user can call that have no subcommands of their own.
    fn leaves(cmd: &clap::Command, path: &str, out: &mut Vec<(String, clap::Command)>) {
        let subs: Vec<&clap::Command> = cmd
            .get_subcommands()
            .filter(|s| !s.is_hide_set() && s.get_name() != "help")
            .collect();
        if subs.is_empty() {
            out.push((path.to_owned(), cmd.clone()));
        }
        for sub in subs {
            leaves(sub, &format!("{path} {}", sub.get_name()), out);
        }
    }

    #[test]
    fn every_leaf_command_has_examples() {
        let mut root = Cli::command();
        root.build();
        let mut found = Vec::new();
        leaves(&root, "kubectl kkp", &mut found);
        assert!(
            found.len() >= 12,
            "{:?}",
            found.iter().map(|(p, _)| p).collect::<Vec<_>>()
        );
        let lacking: Vec<String> = found
            .into_iter()
            .filter_map(|(path, mut cmd)| {
                let help = cmd.render_long_help().to_string();
                (!help.contains("\nExamples:\n")).then_some(path)
            })
            .collect();
        assert!(lacking.is_empty(), "no Examples: in the help of {lacking:?}");
        assert!(
            root.render_long_help().to_string().contains("\nExamples:\n"),
            "the root command's help has no examples"
        );
    }
}
