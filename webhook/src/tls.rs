//! The serving certificate: loaded from PEM files, served through a rustls resolver that always
//! hands out the current one, and reloaded when the files change.
//!
//! The files are polled rather than watched with inotify: a Kubernetes Secret volume updates by
//! atomically replacing its `..data` symlink, which per-file watches miss, while reading through
//! the paths always sees what the symlink points at now. A read that straddles a swap (new
//! certificate, old key) fails the key check and is retried at the next poll; until then the
//! previous certificate keeps serving, so no handshake fails during a rotation.
//!
//! With the CA's files (`--ca-cert-file`, `--ca-key-file`) the same loop also renews the served
//! certificate before it runs out (see [`crate::renewal`]). Every certificate served is reported
//! with its expiry ([`CertEvent::Serving`]), and one expiring within 30 days is logged as a
//! warning, again each day while it stays so.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use rustls::ServerConfig;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use tokio::sync::watch;

use crate::config::Config;
use crate::renewal::{self, Renewal, RenewalError, Validity};

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
    #[error(transparent)]
    Renewal(#[from] RenewalError),
}

/// What the certificate loop reports, for metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CertEvent {
    /// Changed files were loaded.
    Loaded,
    /// Changed files could not be loaded; the previous certificate stays.
    LoadFailed,
    /// The webhook issued itself a new certificate.
    Renewed,
    /// A due renewal failed; the current certificate stays.
    RenewalFailed,
    /// The certificate served from now on expires at this unix time.
    Serving { not_after: i64 },
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
    /// Where renewed certificates come from, if the webhook renews its own.
    renewal: Option<Renewal>,
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
            renewal: None,
            seen: Mutex::new((cert_pem, key_pem)),
        })
    }

    /// Loads the certificate files of `config`, renewing from its CA files if it names them. A
    /// certificate already due (a pod restarted long after the Secret was written) is renewed
    /// before anything is served.
    pub fn from_config(config: &Config) -> Result<Self, TlsError> {
        let reloader = CertReloader::load(&config.tls_cert_file, &config.tls_private_key_file)?
            .with_renewal(Renewal::from_args(&config.renewal)?);
        reloader.renew_at_start(time::OffsetDateTime::now_utc());
        Ok(reloader)
    }

    /// Renews a due certificate once, logging the outcome; a failure leaves the loaded one.
    fn renew_at_start(&self, now: time::OffsetDateTime) {
        match self.renew_if_due(now) {
            Ok(Some(validity)) => {
                tracing::info!(
                    not_after = validity.not_after,
                    "serving certificate renewed from the CA at start"
                )
            }
            Ok(None) => {}
            Err(TlsError::Renewal(e)) if e.is_missing_file() => {}
            Err(e) => tracing::warn!(error = %e, "serving certificate not renewed at start; serving the loaded one"),
        }
    }

    /// The same reloader, renewing its certificate as `renewal` says (`None`: never).
    pub fn with_renewal(mut self, renewal: Option<Renewal>) -> Self {
        self.renewal = renewal;
        self
    }

    /// The validity of the certificate served now.
    pub fn validity(&self) -> Result<Validity, RenewalError> {
        let current = self.current();
        let leaf = current.end_entity_cert().map_err(|e| RenewalError::Certificate {
            what: "the served certificate".to_owned(),
            why: e.to_string(),
        })?;
        Validity::of(leaf.as_ref(), "the served certificate")
    }

    /// Renews the served certificate if it is due: `Ok(Some(validity))` when a new one is served
    /// now, `Ok(None)` when it was not due or renewal is off.
    pub fn renew_if_due(&self, now: time::OffsetDateTime) -> Result<Option<Validity>, TlsError> {
        let Some(renewal) = &self.renewal else {
            return Ok(None);
        };
        let current = self.current();
        let leaf = current.end_entity_cert().map_err(|e| RenewalError::Certificate {
            what: "the served certificate".to_owned(),
            why: e.to_string(),
        })?;
        let Some(issued) = renewal::renew_if_due(renewal, leaf.as_ref(), now)? else {
            return Ok(None);
        };
        let key = CertifiedKey::from_der(issued.chain, issued.key, &self.provider)?;
        self.current.store(Arc::new(key));
        Ok(Some(issued.validity))
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

    /// Polls the files every `interval` until `shutdown` turns true, renewing the certificate when
    /// it is due, and reports what happens (first the certificate served at the start).
    pub async fn watch(
        self: Arc<Self>,
        interval: Duration,
        mut shutdown: watch::Receiver<bool>,
        on_event: impl Fn(CertEvent) + Send + 'static,
    ) {
        let mut ticker = tokio::time::interval(interval.max(Duration::from_millis(10)));
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let mut last_read_error: Option<String> = None;
        let mut last_renewal_error: Option<String> = None;
        let mut expiry = ExpiryReport::default();
        expiry.serving(&self, &on_event);
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
                    last_renewal_error = None;
                    tracing::info!(cert = %self.cert_path.display(), "serving certificate reloaded");
                    on_event(CertEvent::Loaded);
                    expiry.serving(&self, &on_event);
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
                    on_event(CertEvent::LoadFailed);
                }
                Err(e) => tracing::error!(error = %e, "certificate reload task failed"),
            }
            if self.renewal.is_some() {
                let this = Arc::clone(&self);
                let renewed =
                    tokio::task::spawn_blocking(move || this.renew_if_due(time::OffsetDateTime::now_utc())).await;
                match renewed {
                    Ok(Ok(None)) => {}
                    Ok(Ok(Some(validity))) => {
                        last_renewal_error = None;
                        tracing::info!(
                            not_after = validity.not_after,
                            "serving certificate renewed from the CA"
                        );
                        on_event(CertEvent::Renewed);
                        expiry.serving(&self, &on_event);
                    }
                    Ok(Err(e)) => {
                        // Reported once per distinct problem; a missing CA file means renewal is
                        // left to whoever writes the files (cert-manager).
                        let message = e.to_string();
                        if last_renewal_error.as_deref() != Some(message.as_str()) {
                            if matches!(&e, TlsError::Renewal(r) if r.is_missing_file()) {
                                tracing::info!(error = %message, "not renewing the serving certificate: no CA files");
                            } else {
                                tracing::warn!(error = %message, "serving certificate not renewed; keeping the current one");
                                on_event(CertEvent::RenewalFailed);
                            }
                            last_renewal_error = Some(message);
                        }
                    }
                    Err(e) => tracing::error!(error = %e, "certificate renewal task failed"),
                }
            }
            expiry.warn_again_daily(&self);
        }
    }
}

/// Reports the served certificate's expiry and warns when it is near.
#[derive(Debug, Default)]
struct ExpiryReport {
    last_warning: Option<Instant>,
}

impl ExpiryReport {
    fn serving(&mut self, certs: &CertReloader, on_event: &impl Fn(CertEvent)) {
        match certs.validity() {
            Ok(validity) => {
                on_event(CertEvent::Serving {
                    not_after: validity.not_after,
                });
                self.last_warning = None;
                self.warn_if_near(certs, validity);
            }
            Err(e) => tracing::warn!(error = %e, "cannot read the served certificate's expiry"),
        }
    }

    fn warn_again_daily(&mut self, certs: &CertReloader) {
        if self
            .last_warning
            .is_some_and(|at| at.elapsed() >= Duration::from_secs(86_400))
            && let Ok(validity) = certs.validity()
        {
            self.warn_if_near(certs, validity);
        }
    }

    fn warn_if_near(&mut self, certs: &CertReloader, validity: Validity) {
        let left = validity.not_after - time::OffsetDateTime::now_utc().unix_timestamp();
        if left < renewal::EXPIRY_WARNING.as_secs() as i64 {
            tracing::warn!(
                cert = %certs.cert_path.display(),
                not_after = validity.not_after,
                days_left = left / 86_400,
                renews_itself = certs.renewal.is_some(),
                "the serving certificate expires within 30 days"
            );
            self.last_warning = Some(Instant::now());
        }
    }
}

impl ResolvesServerCert for CertReloader {
    fn resolve(&self, _client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current.load_full())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};

    /// A CA written as `ca.crt`/`ca.key` and a serving certificate of it written as
    /// `tls.crt`/`tls.key`, with `seconds` left of an hour's lifetime.
    fn files(dir: &Path, seconds: i64) -> Renewal {
        let now = time::OffsetDateTime::now_utc();
        let mut ca = CertificateParams::default();
        ca.distinguished_name.push(DnType::CommonName, "tls-test-ca");
        ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign];
        ca.not_before = now - time::Duration::hours(1);
        ca.not_after = now + time::Duration::days(30);
        let ca_key = KeyPair::generate().unwrap();
        let ca_cert = ca.self_signed(&ca_key).unwrap();
        let mut serving = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        serving.not_before = now - time::Duration::hours(1);
        serving.not_after = now + time::Duration::seconds(seconds);
        let key = KeyPair::generate().unwrap();
        let cert = serving.signed_by(&key, &Issuer::new(ca, &ca_key)).unwrap();
        for (name, pem) in [
            ("ca.crt", ca_cert.pem()),
            ("ca.key", ca_key.serialize_pem()),
            ("tls.crt", cert.pem()),
            ("tls.key", key.serialize_pem()),
        ] {
            std::fs::write(dir.join(name), pem).unwrap();
        }
        Renewal {
            ca_cert_file: dir.join("ca.crt"),
            ca_key_file: dir.join("ca.key"),
            validity: Duration::from_secs(86_400),
            renew_before: None,
        }
    }

    #[test]
    fn a_due_certificate_is_renewed_in_memory_and_the_files_do_not_undo_it() {
        install_crypto_provider();
        let dir = tempfile::tempdir().unwrap();
        let renewal = files(dir.path(), 60);
        let certs = CertReloader::load(dir.path().join("tls.crt"), dir.path().join("tls.key"))
            .unwrap()
            .with_renewal(Some(renewal));
        let before = certs.validity().unwrap();
        let now = time::OffsetDateTime::now_utc();
        let renewed = certs.renew_if_due(now).unwrap().expect("due: a minute of an hour left");
        assert!(renewed.not_after > before.not_after + 3600, "{renewed:?} vs {before:?}");
        assert_eq!(certs.validity().unwrap(), renewed);
        assert_eq!(certs.reload_if_changed().unwrap(), Reload::Unchanged);
        assert_eq!(
            certs.validity().unwrap(),
            renewed,
            "the unchanged files do not replace it"
        );
        assert_eq!(certs.renew_if_due(now).unwrap(), None, "not due again");
    }

    #[test]
    fn a_certificate_due_at_start_is_renewed_before_it_is_served() {
        install_crypto_provider();
        let dir = tempfile::tempdir().unwrap();
        let renewal = files(dir.path(), 60);
        let mut config = Config::for_loopback(dir.path().join("tls.crt"), dir.path().join("tls.key"));
        config.renewal.ca_cert_file = Some(renewal.ca_cert_file);
        config.renewal.ca_key_file = Some(renewal.ca_key_file);
        let certs = CertReloader::from_config(&config).unwrap();
        let left = certs.validity().unwrap().not_after - time::OffsetDateTime::now_utc().unix_timestamp();
        assert!(left > 20 * 86_400, "renewed up to the 30-day CA: {left} s left");
    }

    #[test]
    fn without_renewal_nothing_is_renewed() {
        let dir = tempfile::tempdir().unwrap();
        files(dir.path(), 60);
        let certs = CertReloader::load(dir.path().join("tls.crt"), dir.path().join("tls.key")).unwrap();
        assert_eq!(certs.renew_if_due(time::OffsetDateTime::now_utc()).unwrap(), None);
    }

    #[tokio::test]
    async fn the_watch_reports_the_expiry_and_the_renewal() {
        install_crypto_provider();
        let dir = tempfile::tempdir().unwrap();
        let renewal = files(dir.path(), 60);
        let certs = Arc::new(
            CertReloader::load(dir.path().join("tls.crt"), dir.path().join("tls.key"))
                .unwrap()
                .with_renewal(Some(renewal)),
        );
        let first = certs.validity().unwrap();
        let (events_tx, mut events) = tokio::sync::mpsc::unbounded_channel();
        let (stop, stop_rx) = watch::channel(false);
        let task = tokio::spawn(Arc::clone(&certs).watch(Duration::from_millis(10), stop_rx, move |e| {
            let _ = events_tx.send(e);
        }));
        let mut seen = Vec::new();
        while seen.len() < 3 {
            let event = tokio::time::timeout(Duration::from_secs(10), events.recv())
                .await
                .expect("an event in time")
                .expect("the watch runs");
            seen.push(event);
        }
        stop.send_replace(true);
        task.await.unwrap();
        let renewed = certs.validity().unwrap();
        assert_eq!(
            seen,
            [
                CertEvent::Serving {
                    not_after: first.not_after
                },
                CertEvent::Renewed,
                CertEvent::Serving {
                    not_after: renewed.not_after
                },
            ]
        );
    }
}
