//! `kubectl kkp`: the kubectl plugin for KKP and Cluster API style clusters.

use std::process::ExitCode;

use clap::Parser;

mod cli;
mod commands;
mod exit;
mod kkp_api;
mod kube;
mod output;
mod platform;
mod template;
mod terraform;

fn main() -> ExitCode {
    match cli::Cli::try_parse() {
        Ok(cli) => exit::run(cli),
        Err(err) => exit::usage(&err),
    }
}
