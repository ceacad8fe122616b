//! `kubectl kkp`: the kubectl plugin for KKP and Cluster API style clusters.
//!
//! Layers, each using only those below it: `main` and `run` (start the program, map outcomes to
//! exit statuses) → `commands` (one module per command) → `cli` (clap types only) and `settings`
//! (resolved global flags) → `platform`, `template`, `kkp_api` → `k8s` (cluster access) →
//! `output` and `exit`.

use std::process::ExitCode;

use clap::Parser;

mod cli;
mod commands;
mod exit;
mod k8s;
mod kkp_api;
mod output;
mod platform;
mod run;
mod settings;
mod template;
mod terraform;

fn main() -> ExitCode {
    match cli::Cli::try_parse() {
        Ok(cli) => run::run(cli),
        Err(err) => run::usage(&err),
    }
}
