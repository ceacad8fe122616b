//! The command tree. Each command's flags live with the command in `commands/`.

use clap::{Parser, Subcommand};

use crate::commands;

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
    pub global: commands::GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print cluster and worker objects without contacting any cluster.
    #[command(long_about = commands::generate::GENERATE_ABOUT)]
    Generate(commands::generate::GenerateCommand),
    /// Create a cluster: generate, check locally, apply, wait, fetch its kubeconfig.
    Create(commands::create::CreateCommand),
    /// Show clusters, a cluster, policies, policy reports, or a cluster's kubeconfig.
    Get(commands::get::GetCommand),
    /// Show a cluster as a tree of its health and machine deployments.
    Describe(commands::describe::DescribeCommand),
    /// Delete a cluster, or every cluster of a KKP project.
    Delete(commands::delete::DeleteCommand),
    /// Apply KKP API payload files (clusters, machine deployments) through the KKP REST API.
    #[command(long_about = commands::api::apply::APPLY_ABOUT, after_help = commands::api::apply::APPLY_EXAMPLES)]
    Apply(commands::api::apply::ApplyArgs),
    /// Import a running cluster into KKP (an ExternalCluster with its kubeconfig).
    Register(commands::register::RegisterCommand),
    /// Remove an imported cluster from KKP.
    Unregister(commands::register::UnregisterCommand),
    /// Answer locally what admission would answer for files.
    #[command(long_about = commands::validate::ABOUT)]
    Validate(commands::validate::ValidateArgs),
    /// Install the CRDs and the admission webhook into a cluster.
    #[command(long_about = commands::install::INSTALL_ABOUT)]
    Install(commands::install::InstallArgs),
    /// Test objects against admission policies offline.
    Policy(commands::policy::PolicyCommand),
    /// Print the plugin's version.
    #[command(long_about = commands::version::ABOUT)]
    Version(commands::version::VersionArgs),
    /// Print a shell completion script.
    #[command(long_about = commands::completion::ABOUT)]
    Completion(commands::completion::CompletionArgs),
    /// Answer shell completion requests the way cobra does (used by kubectl_complete-kkp).
    #[command(name = "__complete", hide = true)]
    Complete(commands::completion::CompleteArgs),
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
