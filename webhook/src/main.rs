//! `kkp-webhook`: parse the command line, set up logging and serve until SIGTERM/SIGINT.

use std::process::ExitCode;

use clap::Parser;
use kkp_webhook::{Config, logging, serve, tls};

fn main() -> ExitCode {
    let config = Config::parse();
    logging::init(config.log_format);
    tls::install_crypto_provider();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!(error = %e, "cannot start the async runtime");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "kkp-webhook failed");
            ExitCode::FAILURE
        }
    }
}
