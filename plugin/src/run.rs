//! Running the program: logging, the async runtime, resolving settings, dispatching to the
//! command, and turning its outcome into an exit status (messages on stderr).

use std::process::ExitCode;

use crate::cli::Cli;
use crate::commands;
use crate::exit::{ExitStatus, Reported};
use crate::k8s::wait::WaitTimeout;
use crate::settings::GlobalSettings;

/// Reports what the command line parser stopped at: help and version text on stdout with exit 0,
/// a usage error in clap's own words on stderr with exit 1 (not clap's 2: as with kubectl, every
/// error the user can fix exits 1).
pub fn usage(err: &clap::Error) -> ExitCode {
    let _ = err.print();
    if err.use_stderr() {
        ExitStatus::Failure.into()
    } else {
        ExitStatus::Success.into()
    }
}

pub fn run(cli: Cli) -> ExitCode {
    let settings = GlobalSettings::resolve(cli.global);
    init_logging(settings.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitStatus::Failure.into();
        }
    };
    match runtime.block_on(commands::dispatch(cli.command, &settings)) {
        Ok(()) => ExitStatus::Success.into(),
        Err(err) => {
            if err.downcast_ref::<Reported>().is_none() {
                eprintln!("error: {}", render(&err));
            }
            if err.downcast_ref::<WaitTimeout>().is_some() {
                ExitStatus::Timeout.into()
            } else {
                ExitStatus::Failure.into()
            }
        }
    }
}

fn init_logging(verbose: u8) {
    let level = match verbose {
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

/// The error and its causes, one clause each, without repeating a cause already in the message.
fn render(err: &anyhow::Error) -> String {
    let mut out = err.to_string();
    for cause in err.chain().skip(1) {
        let text = cause.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
    }
    out
}
