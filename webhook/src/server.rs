//! The running server: a TLS listener (tokio-rustls + hyper-util, HTTP/1.1 keep-alive and
//! HTTP/2) for the review endpoints, a plain-HTTP listener for health and metrics, the
//! certificate watcher, and graceful shutdown.
//!
//! Shutdown order: readiness turns false, the TLS listener stops accepting, open connections are
//! told to close after their current request (in-flight requests finish, up to the shutdown
//! timeout), then the health listener stops.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

use crate::config::{Config, ConnectionLimits};
use crate::connection::{self, Activity, HANDSHAKE_TIMEOUT, Watched};
use crate::routes;
use crate::state::AppState;
use crate::tls::{self, CertReloader, TlsError};

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error("the health listener failed: {0}")]
    Health(std::io::Error),
    #[error("a server task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
    #[error("cannot wait for shutdown signals: {0}")]
    Signal(std::io::Error),
}

/// Starts a graceful shutdown of a [`Server`]; clones trigger the same server.
#[derive(Clone, Debug)]
pub struct ShutdownHandle(Arc<watch::Sender<bool>>);

impl ShutdownHandle {
    /// Asks the server to shut down gracefully. Returns at once; [`Server::wait`] tells when it is done.
    pub fn shutdown(&self) {
        self.0.send_replace(true);
    }
}

/// A started server. Dropping it does not stop it: call [`Server::shutdown`].
#[derive(Debug)]
pub struct Server {
    tls_addr: SocketAddr,
    health_addr: SocketAddr,
    state: AppState,
    certs: Arc<CertReloader>,
    shutdown: ShutdownHandle,
    health_stop: watch::Sender<bool>,
    tls_task: JoinHandle<()>,
    health_task: JoinHandle<std::io::Result<()>>,
    watcher_task: JoinHandle<()>,
}

async fn listen(addr: SocketAddr) -> Result<TcpListener, ServeError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind { addr, source })
}

impl Server {
    /// Loads the certificate, binds both listeners and starts serving with a fresh state built
    /// from the configuration. Use port 0 to get ephemeral ports; [`Server::tls_addr`] says which.
    pub async fn bind(config: Config) -> Result<Server, ServeError> {
        let state = AppState::new(config.context(), config.limits());
        Server::bind_with_state(config, state).await
    }

    /// Like [`Server::bind`], with a state made by the caller (for example one a policy source
    /// keeps updating). The state's request limits apply, not the configuration's; the
    /// configuration's connection limits and enforcement do.
    pub async fn bind_with_state(config: Config, state: AppState) -> Result<Server, ServeError> {
        tls::install_crypto_provider();
        state.set_enforcement(config.enforcement);
        state.set_exemption_admins(config.exemption.clone());
        let certs = Arc::new(CertReloader::from_config(&config)?);
        let acceptor = TlsAcceptor::from(certs.server_config()?);
        let tls_listener = listen(config.listen_address).await?;
        let health_listener = listen(config.health_listen_address).await?;
        let local = |l: &TcpListener, addr| l.local_addr().map_err(|source| ServeError::Bind { addr, source });
        let tls_addr = local(&tls_listener, config.listen_address)?;
        let health_addr = local(&health_listener, config.health_listen_address)?;

        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let (health_stop, mut health_stop_rx) = watch::channel(false);
        state.set_ready(true);

        let tls_task = tokio::spawn(accept_loop(
            tls_listener,
            acceptor,
            routes::router(state.clone()),
            state.clone(),
            shutdown_rx.clone(),
            config.connection_limits(),
            config.shutdown_timeout,
        ));
        let health_app = routes::health_router(state.clone());
        let health_task = tokio::spawn(async move {
            axum::serve(health_listener, health_app)
                .with_graceful_shutdown(async move {
                    let _ = health_stop_rx.wait_for(|stop| *stop).await;
                })
                .await
        });
        let reload_state = state.clone();
        let watcher_task = tokio::spawn(Arc::clone(&certs).watch(
            config.cert_reload_interval,
            shutdown_rx,
            move |event| reload_state.metrics().observe_certificate(event),
        ));
        tracing::info!(%tls_addr, %health_addr, "kkp-webhook serving");
        Ok(Server {
            tls_addr,
            health_addr,
            state,
            certs,
            shutdown: ShutdownHandle(Arc::new(shutdown_tx)),
            health_stop,
            tls_task,
            health_task,
            watcher_task,
        })
    }

    /// Where the TLS listener (review endpoints) is.
    pub fn tls_addr(&self) -> SocketAddr {
        self.tls_addr
    }

    /// Where the plain-HTTP listener (health, readiness, metrics) is.
    pub fn health_addr(&self) -> SocketAddr {
        self.health_addr
    }

    /// The shared state: context (policy hook), metrics, readiness.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The certificate in use and its reloader.
    pub fn certificates(&self) -> &Arc<CertReloader> {
        &self.certs
    }

    /// A handle that starts the shutdown from elsewhere (a signal handler, a test).
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        self.shutdown.clone()
    }

    /// Starts a graceful shutdown and waits until it is done.
    pub async fn shutdown(self) -> Result<(), ServeError> {
        self.shutdown.shutdown();
        self.wait().await
    }

    /// Waits until a shutdown started through a [`ShutdownHandle`] is done.
    pub async fn wait(self) -> Result<(), ServeError> {
        let Server {
            tls_task,
            health_task,
            watcher_task,
            health_stop,
            ..
        } = self;
        let tls_result = tls_task.await;
        health_stop.send_replace(true);
        let health_result = health_task.await;
        let watcher_result = watcher_task.await;
        tls_result?;
        health_result?.map_err(ServeError::Health)?;
        watcher_result?;
        tracing::info!("kkp-webhook stopped");
        Ok(())
    }
}

/// Accepts TLS connections until shutdown, then drains them. At most `limits.max_connections`
/// are open at once: a connection beyond them is closed at once, so the client tries another
/// replica instead of waiting in the accept queue.
async fn accept_loop(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    app: Router,
    state: AppState,
    mut shutdown: watch::Receiver<bool>,
    limits: ConnectionLimits,
    drain_timeout: Duration,
) {
    let graceful = GracefulShutdown::new();
    let builder = connection::builder();
    let slots = Arc::new(Semaphore::new(limits.max_connections.clamp(1, Semaphore::MAX_PERMITS)));

    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = shutdown.wait_for(|stop| *stop) => break,
        };
        let (tcp, peer) = match accepted {
            Ok(conn) => conn,
            Err(e) => {
                // Out of file descriptors and the like: back off instead of spinning.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
            state.metrics().observe_connection_refused();
            tracing::debug!(%peer, max = limits.max_connections, "too many open connections; closing");
            drop(tcp);
            continue;
        };
        let open = state.metrics().connection_opened();
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        let builder = builder.clone();
        let service = TowerToHyperService::new(app.clone());
        let watcher = graceful.watcher();
        let idle_timeout = limits.idle_timeout;
        tokio::spawn(async move {
            let _held = (slot, open);
            let tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(tls)) => tls,
                Ok(Err(e)) => {
                    tracing::debug!(%peer, error = %e, "TLS handshake failed");
                    return;
                }
                Err(_) => {
                    tracing::debug!(%peer, "TLS handshake timed out");
                    return;
                }
            };
            let activity = Activity::default();
            let conn = builder.serve_connection(TokioIo::new(Watched::new(tls, activity.clone())), service);
            tokio::select! {
                served = watcher.watch(conn) => if let Err(e) = served {
                    tracing::debug!(%peer, error = %e, "connection ended with an error");
                },
                () = activity.idle_for(idle_timeout) => {
                    tracing::debug!(%peer, timeout = ?idle_timeout, "closing an idle connection");
                }
            }
        });
    }

    state.set_ready(false);
    drop(listener);
    tracing::info!(
        connections = graceful.count(),
        "shutting down: draining open connections"
    );
    if tokio::time::timeout(drain_timeout, graceful.shutdown()).await.is_err() {
        tracing::warn!(timeout = ?drain_timeout, "connections still open after the shutdown timeout; closing them");
    }
}

/// Resolves on SIGTERM or SIGINT.
pub async fn shutdown_signal() -> Result<(), ServeError> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).map_err(ServeError::Signal)?;
        tokio::select! {
            _ = term.recv() => tracing::info!("SIGTERM received"),
            r = tokio::signal::ctrl_c() => { r.map_err(ServeError::Signal)?; tracing::info!("SIGINT received") }
        }
    }
    #[cfg(not(unix))]
    tokio::signal::ctrl_c().await.map_err(ServeError::Signal)?;
    Ok(())
}

/// Runs the server until SIGTERM or SIGINT, then shuts down gracefully.
pub async fn serve(config: Config) -> Result<(), ServeError> {
    let server = Server::bind(config).await?;
    let signalled = shutdown_signal().await;
    server.shutdown().await?;
    signalled
}
