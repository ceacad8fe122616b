//! Running the program: logging, the async runtime, resolving settings, dispatching to the
//! command, and turning its outcome into an exit status (messages on stderr).

use std::process::ExitCode;

use crate::cli::Cli;
use crate::commands;
use crate::exit::{ExitStatus, Outcome};
use crate::k8s::wait::WaitTimeout;
use crate::printer::Printer;
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
    let printer = Printer;
    init_logging(settings.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            printer.error(format_args!("cannot start the async runtime: {e}"));
            return ExitStatus::Failure.into();
        }
    };
    let outcome = runtime.block_on(commands::dispatch(cli.command, &settings, &printer));
    exit_status(outcome, &printer).into()
}

/// The one place a command's outcome becomes the exit status: a status as the command returned
/// it, an error reported on stderr (124 for a wait that timed out, else 1).
fn exit_status(outcome: Outcome, printer: &Printer) -> ExitStatus {
    match outcome {
        Ok(status) => status,
        Err(err) => {
            printer.error(render(&err));
            if err.downcast_ref::<WaitTimeout>().is_some() {
                ExitStatus::Timeout
            } else {
                ExitStatus::Failure
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_status_is_kept_and_errors_exit_1_or_124_for_a_timeout() {
        let printer = Printer;
        assert_eq!(exit_status(Ok(ExitStatus::Success), &printer), ExitStatus::Success);
        assert_eq!(exit_status(Ok(ExitStatus::Failure), &printer), ExitStatus::Failure);
        assert_eq!(
            exit_status(Err(anyhow::anyhow!("--flag: wrong")), &printer),
            ExitStatus::Failure
        );
        let timeout = WaitTimeout {
            what: "cluster \"demo\" to be Running".into(),
            after: Duration::from_secs(1),
        };
        let err = anyhow::Error::new(timeout).context("create cluster");
        assert_eq!(exit_status(Err(err), &printer), ExitStatus::Timeout);
    }

    #[test]
    fn causes_are_named_once() {
        let err = anyhow::anyhow!("no such file").context("--values v.yaml: cannot read");
        assert_eq!(render(&err), "--values v.yaml: cannot read: no such file");
        let err = anyhow::anyhow!("boom").context("it went boom");
        assert_eq!(render(&err), "it went boom");
    }
}
