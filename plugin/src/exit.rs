//! Exit codes and how errors reach the user: data on stdout, messages on stderr.
//!
//! 0 success (and `--help`, `--version`); 1 an error the user can fix: a usage error reported by
//! clap (unknown flag, missing argument, bad value), an invalid object, a denied request, a
//! missing cluster; 124 a wait that timed out.

use std::process::ExitCode;

use crate::cli::Cli;
use crate::commands;

pub const EXIT_ERROR: u8 = 1;
pub const EXIT_TIMEOUT: u8 = 124;

/// A wait (`--wait`) that ran out of time. Commands return it inside their `anyhow::Error`.
#[derive(Debug, thiserror::Error)]
#[error("timed out after {after:?} waiting for {what}")]
pub struct WaitTimeout {
    pub what: String,
    pub after: std::time::Duration,
}

/// An error already reported in full on stderr (for example a list of validation errors): only
/// the exit code remains to be set.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Reported(pub String);

/// Reports what the command line parser stopped at: help and version text on stdout with exit 0,
/// a usage error in clap's own words on stderr with exit 1 (not clap's 2: as with kubectl, every
/// error the user can fix exits 1).
pub fn usage(err: &clap::Error) -> ExitCode {
    let _ = err.print();
    if err.use_stderr() {
        ExitCode::from(EXIT_ERROR)
    } else {
        ExitCode::SUCCESS
    }
}

pub fn run(cli: Cli) -> ExitCode {
    commands::init_logging(&cli.global);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_ERROR);
        }
    };
    match runtime.block_on(commands::dispatch(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            if err.downcast_ref::<Reported>().is_none() {
                eprintln!("error: {}", render(&err));
            }
            if err.downcast_ref::<WaitTimeout>().is_some() {
                ExitCode::from(EXIT_TIMEOUT)
            } else {
                ExitCode::from(EXIT_ERROR)
            }
        }
    }
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
