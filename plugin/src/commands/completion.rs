//! `kubectl kkp completion`.

use clap::Args;

use super::GlobalArgs;

#[derive(Debug, Args)]
pub struct CompletionArgs {}

pub async fn run(_args: CompletionArgs, _g: &GlobalArgs) -> anyhow::Result<()> {
    anyhow::bail!("kubectl kkp completion is not available in this build")
}
