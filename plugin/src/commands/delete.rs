//! `kubectl kkp delete`.

use clap::{Args, Subcommand};

use super::GlobalArgs;

#[derive(Debug, Args)]
pub struct DeleteCommand {
    #[command(subcommand)]
    pub what: DeleteWhat,
}

#[derive(Debug, Subcommand)]
pub enum DeleteWhat {}

pub async fn run(cmd: DeleteCommand, _g: &GlobalArgs) -> anyhow::Result<()> {
    match cmd.what {}
}
