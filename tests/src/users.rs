//! Client identities of a control plane: a certificate, a kubeconfig file, a kube client.

use std::path::{Path, PathBuf};

use kube::config::{KubeConfigOptions, Kubeconfig};

use crate::control_plane::install_crypto_provider;
use crate::error::HarnessError;
use crate::kubeconfig::{self, KubeconfigSpec};
use crate::pki::KeyAndCert;
use crate::workdir::write_file;

/// A client identity with its kubeconfig file.
#[derive(Debug, Clone)]
pub struct UserCredentials {
    /// The Kubernetes user name (the certificate's CN).
    pub name: String,
    /// The groups (the certificate's O values).
    pub groups: Vec<String>,
    pub cert: KeyAndCert,
    /// The kubeconfig file, with inline certificate data.
    pub kubeconfig_path: PathBuf,
    /// The same kubeconfig as YAML.
    pub kubeconfig: String,
    /// Its current context.
    pub context: String,
}

impl UserCredentials {
    /// A fresh kube client acting as this user. Create one per test: a client belongs to
    /// the tokio runtime it was made on.
    pub async fn client(&self) -> Result<kube::Client, HarnessError> {
        client_from_kubeconfig(&self.kubeconfig, &self.context).await
    }
}

/// A kube client for `context` of the kubeconfig `yaml`.
pub async fn client_from_kubeconfig(yaml: &str, context: &str) -> Result<kube::Client, HarnessError> {
    client_for(yaml, Some(context)).await
}

/// A kube client for the current context of the kubeconfig `yaml`.
pub async fn client_from_current_context(yaml: &str) -> Result<kube::Client, HarnessError> {
    client_for(yaml, None).await
}

async fn client_for(yaml: &str, context: Option<&str>) -> Result<kube::Client, HarnessError> {
    install_crypto_provider();
    let file = Kubeconfig::from_yaml(yaml).map_err(|e| HarnessError::Kubeconfig(e.to_string()))?;
    let options = KubeConfigOptions {
        context: context.map(str::to_owned),
        ..KubeConfigOptions::default()
    };
    let config = kube::Config::from_custom_kubeconfig(file, &options)
        .await
        .map_err(|e| HarnessError::Kubeconfig(e.to_string()))?;
    Ok(kube::Client::try_from(config)?)
}

/// The `MAJOR.MINOR.PATCH` version (`1.36.3`) the apiserver behind `client` reports, asked
/// within 5 s: what KKP records of a cluster it connects to.
pub async fn reachable_version(client: &kube::Client) -> Result<String, String> {
    let info = tokio::time::timeout(std::time::Duration::from_secs(5), client.apiserver_version())
        .await
        .map_err(|_| "the cluster did not answer within 5s".to_owned())?
        .map_err(|e| format!("cannot reach the cluster: {e}"))?;
    Ok(info
        .git_version
        .trim_start_matches('v')
        .split(['+', '-'])
        .next()
        .unwrap_or_default()
        .to_owned())
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn write_user_kubeconfig(
    path: &Path,
    cluster: &str,
    context: &str,
    kubeconfig_user: &str,
    server: &str,
    ca_pem: &str,
    name: &str,
    groups: &[&str],
    cert: KeyAndCert,
) -> Result<UserCredentials, HarnessError> {
    let yaml = kubeconfig::render(&KubeconfigSpec {
        cluster,
        context,
        user: kubeconfig_user,
        server,
        ca_pem,
        cert_pem: &cert.cert_pem,
        key_pem: &cert.key_pem,
        namespace: None,
    })?;
    write_file(path, &yaml)?;
    Ok(UserCredentials {
        name: name.to_string(),
        groups: groups.iter().map(|g| g.to_string()).collect(),
        cert,
        kubeconfig_path: path.to_path_buf(),
        kubeconfig: yaml,
        context: context.to_string(),
    })
}
