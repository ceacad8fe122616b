//! A Kubernetes client for the context the user chose, and for a cluster reached through a
//! kubeconfig read from a secret.

use std::time::Duration;

use anyhow::Context as _;
use kube::Client;
use kube::config::{Config, KubeConfigOptions, Kubeconfig};

use super::config::{KubeconfigFiles, context_namespace, select_context};

/// How long one request may take before the plugin gives up on it.
const READ_TIMEOUT: Duration = Duration::from_secs(60);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Which cluster to reach, resolved from the command line: `--kubeconfig`, `--context`, `-n`.
#[derive(Clone, Debug, Default)]
pub struct ConnectionSettings {
    /// The one kubeconfig file to use; `None` for `KUBECONFIG`, else `~/.kube/config`.
    pub kubeconfig: Option<String>,
    /// The context to use; `None` for the current context.
    pub context: Option<String>,
    /// The namespace given with `-n`, if any (never empty).
    pub namespace: Option<String>,
}

/// A client together with what messages need to say which cluster it talks to.
#[derive(Clone)]
pub struct Connection {
    pub client: Client,
    /// The kubeconfig context, for messages (`context "seed"`).
    pub context: String,
    /// The API server URL.
    pub server: String,
    /// `-n`, else the context's namespace, else `default`.
    pub namespace: String,
    /// Whether the namespace came from `-n`.
    pub namespace_from_flag: bool,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("context", &self.context)
            .field("server", &self.server)
            .field("namespace", &self.namespace)
            .finish()
    }
}

/// Installs the TLS crypto provider once; later calls do nothing.
fn install_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // An error only means another thread installed one first, which is just as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

impl Connection {
    /// Connects to the cluster of `--context` (or the current context) from `--kubeconfig`/`KUBECONFIG`.
    pub async fn from_settings(settings: &ConnectionSettings) -> anyhow::Result<Self> {
        let files = KubeconfigFiles::from_flag(settings.kubeconfig.as_deref())?;
        let kubeconfig = files.load()?;
        let context = select_context(&kubeconfig, settings.context.as_deref(), &files.describe())?;
        let flag_ns = settings.namespace.clone().filter(|n| !n.is_empty());
        let namespace_from_flag = flag_ns.is_some();
        let namespace = flag_ns
            .or_else(|| context_namespace(&kubeconfig, &context))
            .unwrap_or_else(|| "default".to_owned());
        let mut conn = Self::connect(kubeconfig, &context, &files.describe()).await?;
        conn.namespace = namespace;
        conn.namespace_from_flag = namespace_from_flag;
        Ok(conn)
    }

    /// Connects with a kubeconfig given as text (a cluster's own kubeconfig from a secret), using
    /// its current context. `origin` names where the text came from, for messages.
    pub async fn from_kubeconfig_text(text: &str, origin: &str) -> anyhow::Result<Self> {
        let kubeconfig =
            Kubeconfig::from_yaml(text).with_context(|| format!("the kubeconfig in {origin} does not parse"))?;
        let context = select_context(&kubeconfig, None, origin)?;
        Self::connect(kubeconfig, &context, origin).await
    }

    async fn connect(kubeconfig: Kubeconfig, context: &str, origin: &str) -> anyhow::Result<Self> {
        install_crypto_provider();
        let namespace = context_namespace(&kubeconfig, context).unwrap_or_else(|| "default".to_owned());
        let options = KubeConfigOptions {
            context: Some(context.to_owned()),
            ..KubeConfigOptions::default()
        };
        let mut config = Config::from_custom_kubeconfig(kubeconfig, &options)
            .await
            .with_context(|| format!("cannot use context {context:?} of kubeconfig {origin}"))?;
        config.read_timeout = Some(READ_TIMEOUT);
        config.connect_timeout = Some(CONNECT_TIMEOUT);
        let server = config.cluster_url.to_string().trim_end_matches('/').to_owned();
        let client = Client::try_from(config)
            .with_context(|| format!("cannot build a client for context {context:?} ({server})"))?;
        Ok(Connection {
            client,
            context: context.to_owned(),
            server,
            namespace,
            namespace_from_flag: false,
        })
    }

    /// `context "seed"`, for messages.
    pub fn describe(&self) -> String {
        format!("context {:?}", self.context)
    }
}
