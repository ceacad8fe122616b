//! The cluster commands through the KKP REST API: chosen when `--api` or `KKP_API` (or the config
//! file's `api.url`) is set; without it the commands work through the Kubernetes API as before.

pub mod apply;
pub mod clusters;
pub mod create;
pub mod health;

use crate::kkp_api::client::KkpClient;
use crate::kkp_api::settings::{self, ConfigApi};
use crate::settings::GlobalSettings;

/// The KKP API client when the API is selected, else `None`.
pub fn client(g: &GlobalSettings) -> anyhow::Result<Option<KkpClient>> {
    let env = |k: &str| std::env::var(k).ok();
    let config_path = crate::template::config::default_config_path(&env);
    let chosen = g.api.api.is_some() || env("KKP_API").is_some_and(|v| !v.trim().is_empty());
    let config = match &config_path {
        Some(path) => match ConfigApi::load(path) {
            Ok(config) => config,
            // Without --api or KKP_API a config file the API part cannot read changes nothing.
            Err(e) if !chosen => {
                tracing::debug!("not using the KKP API: {e}");
                ConfigApi::default()
            }
            Err(e) => return Err(e.into()),
        },
        None => ConfigApi::default(),
    };
    let Some(url) = settings::selected_url(&g.api, &env, &config) else {
        return Ok(None);
    };
    let shown = config_path
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "~/.config/kubectl-kkp/config.yaml".into());
    let resolved = settings::resolve(&g.api, &url, &env, &config, &shown)?;
    let _ = rustls::crypto::ring::default_provider().install_default();
    tracing::info!(api = %resolved.base, project = %resolved.project, "using the KKP REST API");
    Ok(Some(KkpClient::new(resolved)?))
}

/// [`client`], for commands that only work through the KKP API.
pub fn required_client(g: &GlobalSettings, command: &str) -> anyhow::Result<KkpClient> {
    client(g)?.ok_or_else(|| {
        anyhow::anyhow!(
            "{command} works through the KKP REST API: give --api URL (or set KKP_API) with a token (--token-file or KKP_TOKEN) and --project (or KKP_PROJECT)"
        )
    })
}

/// The cluster's name for messages: `name (ID id)`.
pub fn shown(cluster: &crate::kkp_api::models::ApiCluster) -> String {
    match &cluster.id {
        Some(id) if *id != cluster.name => format!("{:?} (ID {id})", cluster.name),
        _ => format!("{:?}", cluster.name),
    }
}
