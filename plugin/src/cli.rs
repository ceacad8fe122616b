//! The command tree. Each command's flags live with the command in `commands/`.

use clap::{Parser, Subcommand};

use crate::commands;

/// Generate, validate, create and reach KKP clusters.
#[derive(Debug, Parser)]
#[command(name = "kubectl kkp", bin_name = "kubectl kkp", version, propagate_version = true)]
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
    /// Show clusters, a cluster, policies, or a cluster's kubeconfig.
    Get(commands::get::GetCommand),
    /// Show a cluster as a tree of its health and machine deployments.
    Describe(commands::describe::DescribeCommand),
    /// Delete a cluster.
    Delete(commands::delete::DeleteCommand),
    /// Answer locally what admission would answer for files.
    #[command(long_about = commands::validate::ABOUT)]
    Validate(commands::validate::ValidateArgs),
    /// Install the admission webhook into a cluster.
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
