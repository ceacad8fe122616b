//! One module per command, mirroring the command tree.

pub mod api;
pub mod completion;
pub mod create;
pub mod delete;
pub mod describe;
pub mod files;
pub mod generate;
pub mod generate_workers;
pub mod get;
pub mod get_policies;
pub mod get_policy_reports;
pub mod install;
pub mod policy;
pub mod register;
pub mod validate;
pub mod version;

use clap::Args;

use crate::cli::{Cli, Command};

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
    pub api: crate::kkp_api::settings::ApiArgs,
}

pub fn init_logging(global: &GlobalArgs) {
    let level = match global.verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("KKP_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("kubectl_kkp={level},kkp_crds={level}")));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .without_time()
        .try_init();
}

pub async fn dispatch(cli: Cli) -> anyhow::Result<()> {
    let g = cli.global;
    match cli.command {
        Command::Generate(c) => generate::run(c, &g).await,
        Command::Create(c) => create::run(c, &g).await,
        Command::Get(c) => get::run(c, &g).await,
        Command::Describe(c) => describe::run(c, &g).await,
        Command::Delete(c) => delete::run(c, &g).await,
        Command::Register(c) => register::run(c, &g).await,
        Command::Unregister(c) => register::run_unregister(c, &g).await,
        Command::Validate(c) => validate::run(c, &g).await,
        Command::Apply(c) => api::apply::run(c, &g).await,
        Command::Install(c) => install::run(c, &g).await,
        Command::Policy(c) => policy::run(c, &g).await,
        Command::Version(c) => version::run(c, &g).await,
        Command::Completion(c) => completion::run(c, &g).await,
        Command::Complete(c) => completion::run_complete(c, &g).await,
    }
}
