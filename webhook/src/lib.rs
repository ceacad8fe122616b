//! `kkp-webhook`: the admission webhook that defaults (`POST /mutate`) and validates
//! (`POST /validate`) KKP Clusters and machine-controller MachineDeployments.
//!
//! Every decision comes from the engine in `kkp_crds::admission`; this crate turns HTTP into calls
//! of it and its verdicts into AdmissionReview responses, and adds what a server needs: TLS with
//! certificate reload, limits, metrics, logs and graceful shutdown.
//!
//! Tests drive [`router`] in-process, or start the whole TLS server on loopback ports:
//!
//! ```no_run
//! # async fn run() -> Result<(), kkp_webhook::ServeError> {
//! let config = kkp_webhook::Config::for_loopback("tls.crt", "tls.key");
//! let server = kkp_webhook::Server::bind(config).await?;
//! let port = server.tls_addr().port();
//! // ... send AdmissionReviews to https://127.0.0.1:{port}/validate ...
//! server.shutdown().await?;
//! # Ok(()) }
//! ```

#![forbid(unsafe_code)]

pub mod answer;
pub mod body;
pub mod cluster_version;
pub mod config;
pub mod connection;
pub mod duration;
pub mod evaluation;
pub mod exemption;
pub mod exemption_route;
pub mod logging;
pub mod machine_labels;
pub mod memory;
pub mod metrics;
pub mod patch;
pub mod pkcs8;
pub mod platform;
pub mod policies;
pub mod policy_counts;
pub mod policy_routes;
pub mod renewal;
pub mod report_queue;
pub mod reports;
pub mod review;
pub mod review_http;
pub mod routes;
pub mod server;
pub mod startup;
pub mod state;
pub mod tls;
pub mod watch_log;

pub use config::{Config, ConnectionLimits, Enforcement, Limits, LogFormat};
pub use kkp_manifests::{MUTATE_PATH, VALIDATE_PATH};
pub use routes::{health_router, router};
pub use server::{ServeError, Server, ShutdownHandle, serve};
pub use state::AppState;

/// The git commit the binary was built from (`unknown` when built outside a git checkout).
pub const GIT_COMMIT: &str = env!("KKP_GIT_COMMIT");

/// What `kkp-webhook --version` prints: the version, the git commit and the KKP release the
/// built-in catalog matches, e.g. `0.1.0 (commit abc123def456, catalog KKP v2.31 …)`.
pub fn version() -> &'static str {
    static VERSION: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    VERSION.get_or_init(|| {
        format!(
            "{} (commit {GIT_COMMIT}, catalog {})",
            env!("CARGO_PKG_VERSION"),
            kkp_crds::versions::BUILTIN_KKP_RELEASE
        )
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn version_names_the_commit_and_the_catalog() {
        let v = super::version();
        assert!(v.starts_with(concat!(env!("CARGO_PKG_VERSION"), " (commit ")), "{v}");
        assert!(!super::GIT_COMMIT.is_empty());
        assert!(v.contains(&format!("commit {}, ", super::GIT_COMMIT)), "{v}");
        assert!(
            v.ends_with(&format!("catalog {})", kkp_crds::versions::BUILTIN_KKP_RELEASE)),
            "{v}"
        );
    }
}
