//! The serving certificate: loaded from PEM files, served through a rustls resolver that always
//! hands out the current one, and reloaded when the files change.
//!
//! The files are polled rather than watched with inotify: a Kubernetes Secret volume updates by
//! atomically replacing its `..data` symlink, which per-file watches miss, while reading through
//! the paths always sees what the symlink points at now. A read that straddles a swap (new
//! certificate, old key) fails the key check and is retried at the next poll; until then the
//! previous certificate keeps serving, so no handshake fails during a rotation.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arc_swap::ArcSwap;
use rustls::ServerConfig;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use tokio::sync::watch;

/// Why a certificate could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path} holds no PEM certificate")]
    NoCertificate { path: PathBuf },
    #[error("cannot parse the PEM in {path}: {source}")]
    Pem {
        path: PathBuf,
        source: rustls::pki_types::pem::Error,
    },
    #[error("the key in {key} does not fit the certificate in {cert}: {source}")]
    Key {
        cert: PathBuf,
        key: PathBuf,
        source: rustls::Error,
    },
    #[error("cannot build the TLS configuration: {0}")]
    Config(#[from] rustls::Error),
}

/// The one crypto provider the webhook uses.
pub fn crypto_provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Installs ring as the process-wide rustls provider. Harmless when one is already installed.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        path: path.to_owned(),
        source,
    })
}

fn parse(
    provider: &CryptoProvider,
    cert_path: &Path,
    cert_pem: &[u8],
    key_path: &Path,
    key_pem: &[u8],
) -> Result<CertifiedKey, TlsError> {
    let chain = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|source| TlsError::Pem {
            path: cert_path.to_owned(),
            source,
        })?;
    if chain.is_empty() {
        return Err(TlsError::NoCertificate {
            path: cert_path.to_owned(),
        });
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|source| TlsError::Pem {
        path: key_path.to_owned(),
        source,
    })?;
    CertifiedKey::from_der(chain, key, provider).map_err(|source| TlsError::Key {
        cert: cert_path.to_owned(),
        key: key_path.to_owned(),
        source,
    })
}

/// The serving certificate, reloadable while the server runs.
#[derive(Debug)]
pub struct CertReloader {
    cert_path: PathBuf,
    key_path: PathBuf,
    provider: Arc<CryptoProvider>,
    current: ArcSwap<CertifiedKey>,
    /// The file contents last looked at (loaded or not), so a broken pair is reported once.
    seen: Mutex<(Vec<u8>, Vec<u8>)>,
}

/// What a reload check found.
#[derive(Debug, PartialEq, Eq)]
pub enum Reload {
    Unchanged,
    Loaded,
}

impl CertReloader {
    /// Loads the certificate and key; fails if they are missing, unreadable or do not match.
    pub fn load(cert_path: impl Into<PathBuf>, key_path: impl Into<PathBuf>) -> Result<Self, TlsError> {
        let (cert_path, key_path) = (cert_path.into(), key_path.into());
        let provider = crypto_provider();
        let (cert_pem, key_pem) = (read(&cert_path)?, read(&key_path)?);
        let key = parse(&provider, &cert_path, &cert_pem, &key_path, &key_pem)?;
        Ok(CertReloader {
            cert_path,
            key_path,
            provider,
            current: ArcSwap::from_pointee(key),
            seen: Mutex::new((cert_pem, key_pem)),
        })
    }

    /// The certificate handed to new handshakes.
    pub fn current(&self) -> Arc<CertifiedKey> {
        self.current.load_full()
    }

    /// Reads the files and installs them if they changed. On an error the previous certificate
    /// stays in use; the same broken contents are not reported again.
    pub fn reload_if_changed(&self) -> Result<Reload, TlsError> {
        let (cert_pem, key_pem) = (read(&self.cert_path)?, read(&self.key_path)?);
        {
            let mut seen = self.seen.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            if seen.0 == cert_pem && seen.1 == key_pem {
                return Ok(Reload::Unchanged);
            }
            *seen = (cert_pem.clone(), key_pem.clone());
        }
        let key = parse(&self.provider, &self.cert_path, &cert_pem, &self.key_path, &key_pem)?;
        self.current.store(Arc::new(key));
        Ok(Reload::Loaded)
    }

    /// A rustls server configuration that serves whatever certificate is current, over HTTP/2 or
    /// HTTP/1.1.
    pub fn server_config(self: &Arc<Self>) -> Result<Arc<ServerConfig>, TlsError> {
        let mut config = ServerConfig::builder_with_provider(Arc::clone(&self.provider))
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_cert_resolver(Arc::clone(self) as Arc<dyn ResolvesServerCert>);
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }

    /// Polls the files every `interval` until `shutdown` turns true, reporting each outcome.
    pub async fn watch(
        self: Arc<Self>,
        interval: Duration,
        mut shutdown: watch::Receiver<bool>,
        on_reload: impl Fn(bool) + Send + 'static,
    ) {
        let mut ticker = tokio::time::interval(interval.max(Duration::from_millis(10)));
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let mut last_read_error: Option<String> = None;
        loop {
            tokio::select! {
                _ = ticker.tick() => {}
                _ = shutdown.wait_for(|stop| *stop) => return,
            }
            let this = Arc::clone(&self);
            let checked = tokio::task::spawn_blocking(move || this.reload_if_changed()).await;
            match checked {
                Ok(Ok(Reload::Unchanged)) => last_read_error = None,
                Ok(Ok(Reload::Loaded)) => {
                    last_read_error = None;
                    tracing::info!(cert = %self.cert_path.display(), "serving certificate reloaded");
                    on_reload(true);
                }
                Ok(Err(e @ TlsError::Read { .. })) => {
                    // A file missing for a moment (mid-swap) is not worth a report each poll.
                    let message = e.to_string();
                    if last_read_error.as_deref() != Some(message.as_str()) {
                        tracing::warn!(error = %message, "cannot read the serving certificate; keeping the current one");
                        last_read_error = Some(message);
                    }
                }
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "new serving certificate not loaded; keeping the current one");
                    on_reload(false);
                }
                Err(e) => tracing::error!(error = %e, "certificate reload task failed"),
            }
        }
    }
}

impl ResolvesServerCert for CertReloader {
    fn resolve(&self, _client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current.load_full())
    }
}
