//! `kubectl kkp`: the kubectl plugin for KKP and Cluster API style clusters.

use std::process::ExitCode;

use clap::Parser;

mod cli;
mod commands;
mod exit;
// Wired into the commands step by step; until then parts are used by its tests only.
#[cfg_attr(not(test), allow(dead_code))]
mod kkp_api;
mod kube;
mod output;
mod platform;
mod template;

fn main() -> ExitCode {
    match cli::Cli::try_parse() {
        Ok(cli) => exit::run(cli),
        Err(err) => exit::usage(&err),
    }
}
