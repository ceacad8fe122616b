//! `kubectl kkp policy`.

use clap::{Args, Subcommand};

use super::GlobalArgs;

#[derive(Debug, Args)]
pub struct PolicyCommand {
    #[command(subcommand)]
    pub what: PolicyWhat,
}

#[derive(Debug, Subcommand)]
pub enum PolicyWhat {}

pub async fn run(cmd: PolicyCommand, _g: &GlobalArgs) -> anyhow::Result<()> {
    match cmd.what {}
}
