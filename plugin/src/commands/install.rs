//! `kubectl kkp install`.

use clap::Args;

use super::GlobalArgs;

#[derive(Debug, Args)]
pub struct InstallArgs {}

pub async fn run(_args: InstallArgs, _g: &GlobalArgs) -> anyhow::Result<()> {
    anyhow::bail!("kubectl kkp install is not available in this build")
}
