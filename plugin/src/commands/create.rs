//! `kubectl kkp create`.

use clap::{Args, Subcommand};

use super::GlobalArgs;

#[derive(Debug, Args)]
pub struct CreateCommand {
    #[command(subcommand)]
    pub what: CreateWhat,
}

#[derive(Debug, Subcommand)]
pub enum CreateWhat {}

pub async fn run(cmd: CreateCommand, _g: &GlobalArgs) -> anyhow::Result<()> {
    match cmd.what {}
}
