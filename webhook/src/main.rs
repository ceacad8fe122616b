//! `kkp-webhook`: parse the command line, set up logging and serve until SIGTERM/SIGINT.

use std::process::ExitCode;

use clap::Parser;
use kkp_webhook::platform::PlatformArgs;
use kkp_webhook::policies::{self, PolicyArgs};
use kkp_webhook::{Config, logging, tls};

/// The server's flags and where its admission policies come from.
#[derive(Debug, Parser)]
#[command(
    name = "kkp-webhook",
    version = kkp_webhook::version(),
    about = "Defaults and validates KKP Clusters and MachineDeployments at admission."
)]
struct Cli {
    #[command(flatten)]
    config: Config,
    #[command(flatten)]
    policies: PolicyArgs,
    #[command(flatten)]
    platform: PlatformArgs,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    logging::init(cli.config.log_format);
    tls::install_crypto_provider();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!(error = %e, "cannot start the async runtime");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(policies::serve(cli.config, cli.policies, cli.platform)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "kkp-webhook failed");
            ExitCode::FAILURE
        }
    }
}
