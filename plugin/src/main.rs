//! `kubectl kkp`: the kubectl plugin for KKP and Cluster API style clusters.

use std::process::ExitCode;

use clap::Parser;

mod cli;
mod commands;
mod exit;
mod kube;
mod output;
mod template;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    exit::run(cli)
}
