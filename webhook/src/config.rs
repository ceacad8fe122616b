//! The command line (every flag also read from a `KKP_WEBHOOK_*` environment variable) and what
//! it turns into: listen addresses, limits, the engine's context.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use kkp_crds::context::Context;
use kkp_crds::versions::{self, VersionCatalog};

use crate::duration::parse_duration;

/// How log lines are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// One JSON object per line, for log collectors.
    #[default]
    Json,
    /// Human-readable lines, for a terminal.
    Text,
}

/// The default --max-body-bytes: two objects of the apiserver's 3 MiB and 1 MiB for the review.
pub const DEFAULT_MAX_BODY_BYTES: usize = 7 * 1024 * 1024;
/// The default --max-json-values: a real Cluster or MachineDeployment has a few hundred.
pub const DEFAULT_MAX_JSON_VALUES: usize = 200_000;
/// The default --max-concurrency, measured to fit the Deployment's memory limit (see the README).
pub const DEFAULT_MAX_CONCURRENCY: u32 = 4;
/// The default --max-connections.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 256;

/// What the built-in rules do with an invalid object.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum Enforcement {
    /// Deny it (400 with every error).
    #[default]
    Deny,
    /// Admit it and report what would have been denied.
    Audit,
}

/// `kkp-webhook`'s configuration.
#[derive(Clone, Debug, Parser)]
#[command(
    name = "kkp-webhook",
    version,
    about = "Defaults and validates KKP Clusters and MachineDeployments at admission."
)]
pub struct Config {
    /// PEM file with the serving certificate (and its chain); reloaded when it changes.
    #[arg(long, env = "KKP_WEBHOOK_TLS_CERT_FILE")]
    pub tls_cert_file: PathBuf,

    /// PEM file with the serving certificate's private key; reloaded when it changes.
    #[arg(long, env = "KKP_WEBHOOK_TLS_PRIVATE_KEY_FILE")]
    pub tls_private_key_file: PathBuf,

    /// Address of the TLS listener that serves /mutate and /validate.
    #[arg(long, env = "KKP_WEBHOOK_LISTEN_ADDRESS", default_value = "0.0.0.0:8443")]
    pub listen_address: SocketAddr,

    /// Address of the plain-HTTP listener that serves /healthz, /readyz and /metrics.
    #[arg(long, env = "KKP_WEBHOOK_HEALTH_LISTEN_ADDRESS", default_value = "0.0.0.0:8080")]
    pub health_listen_address: SocketAddr,

    /// Largest request body accepted, in bytes. The apiserver takes request bodies of at most 3 MiB,
    /// and an UPDATE review carries two objects (object and oldObject) of at most that each, plus
    /// the review around them (request, user, options) and JSON re-encoding: 7 MiB is 2 × 3 MiB
    /// and 1 MiB of room. Larger bodies are refused with 413 before they are read.
    #[arg(long, env = "KKP_WEBHOOK_MAX_BODY_BYTES", default_value_t = DEFAULT_MAX_BODY_BYTES)]
    pub max_body_bytes: usize,

    /// Most JSON values (objects, lists, strings, numbers...) a review may hold. Parsed, each costs
    /// about 100 bytes whatever its size in the body, so this bounds a review's memory: 200000
    /// values are about 20 MiB parsed. Reviews with more are refused with 413.
    #[arg(long, env = "KKP_WEBHOOK_MAX_JSON_VALUES", default_value_t = DEFAULT_MAX_JSON_VALUES)]
    pub max_json_values: usize,

    /// Time allowed for one review, from the first byte of the request to the response (e.g. `4s`,
    /// `500ms`). Keep it under the webhook configurations' timeoutSeconds (5 s): the apiserver gives up then.
    #[arg(long, env = "KKP_WEBHOOK_REQUEST_TIMEOUT", default_value = "4s", value_parser = parse_duration)]
    pub request_timeout: Duration,

    /// Reviews read and evaluated at once; further ones wait (within the request timeout) for a slot
    /// before their body is read. Each slot may hold a body of --max-body-bytes and the objects
    /// parsed from it: the default fits the Deployment's memory limit (see the README).
    #[arg(long, env = "KKP_WEBHOOK_MAX_CONCURRENCY", default_value_t = DEFAULT_MAX_CONCURRENCY, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_concurrency: u32,

    /// Open TLS connections at most; connections beyond it are closed at once.
    #[arg(long, env = "KKP_WEBHOOK_MAX_CONNECTIONS", default_value_t = DEFAULT_MAX_CONNECTIONS, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,

    /// How long a TLS connection may stay silent (no bytes either way) before it is closed (e.g. `60s`).
    #[arg(long, env = "KKP_WEBHOOK_IDLE_TIMEOUT", default_value = "60s", value_parser = parse_duration)]
    pub idle_timeout: Duration,

    /// What the built-in rules do with an object they find invalid: `deny` it, or `audit`: admit it
    /// and report what would have been denied (AdmissionReview warnings, the audit annotation
    /// `kkp-webhook.kubectl-kkp.io/would-deny` and the metric kkp_webhook_would_deny_total), for a
    /// safe rollout. Defaulting and AdmissionPolicy enforcement are the same in both.
    #[arg(long, env = "KKP_WEBHOOK_ENFORCEMENT", value_enum, default_value_t = Enforcement::Deny)]
    pub enforcement: Enforcement,

    /// Log line format.
    #[arg(long, env = "KKP_WEBHOOK_LOG_FORMAT", value_enum, default_value_t = LogFormat::Json)]
    pub log_format: LogFormat,

    /// The Kubernetes versions clusters may use, comma-separated (e.g. `1.35.7,1.36.3`); the newest is the
    /// default. Without it, the versions the platform release offers.
    #[arg(long, env = "KKP_WEBHOOK_KUBERNETES_VERSIONS", value_delimiter = ',', value_parser = parse_version)]
    pub kubernetes_versions: Vec<semver::Version>,

    /// The control plane version of the user cluster this webhook guards MachineDeployments for
    /// (e.g. `1.35.7`). With it, kubelet versions are checked against KKP's skew rule and an empty
    /// kubelet version defaults to it. Without it, the version of the apiserver the webhook talks to
    /// (the cluster it runs in), when it has API access.
    #[arg(long, env = "KKP_WEBHOOK_CLUSTER_VERSION", value_parser = parse_version)]
    pub cluster_version: Option<semver::Version>,

    /// How often the certificate and key files are checked for changes.
    #[arg(long, env = "KKP_WEBHOOK_CERT_RELOAD_INTERVAL", default_value = "2s", value_parser = parse_duration)]
    pub cert_reload_interval: Duration,

    /// Self-renewal of the serving certificate from its CA.
    #[command(flatten)]
    pub renewal: crate::renewal::RenewalArgs,

    #[command(flatten)]
    pub exemption: crate::exemption::ExemptionAdmins,

    /// On SIGTERM/SIGINT, how long in-flight requests may take to finish before the server exits.
    #[arg(long, env = "KKP_WEBHOOK_SHUTDOWN_TIMEOUT", default_value = "25s", value_parser = parse_duration)]
    pub shutdown_timeout: Duration,
}

impl Config {
    /// A configuration with every default, listening on ephemeral loopback ports: what tests and
    /// benchmarks start in-process.
    pub fn for_loopback(tls_cert_file: impl Into<PathBuf>, tls_private_key_file: impl Into<PathBuf>) -> Self {
        Config {
            tls_cert_file: tls_cert_file.into(),
            tls_private_key_file: tls_private_key_file.into(),
            listen_address: SocketAddr::from(([127, 0, 0, 1], 0)),
            health_listen_address: SocketAddr::from(([127, 0, 0, 1], 0)),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_json_values: DEFAULT_MAX_JSON_VALUES,
            request_timeout: Duration::from_secs(4),
            max_concurrency: DEFAULT_MAX_CONCURRENCY,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            idle_timeout: Duration::from_secs(60),
            enforcement: Enforcement::Deny,
            log_format: LogFormat::Json,
            kubernetes_versions: Vec::new(),
            cluster_version: None,
            cert_reload_interval: Duration::from_secs(2),
            renewal: crate::renewal::RenewalArgs::default(),
            exemption: crate::exemption::ExemptionAdmins::default(),
            shutdown_timeout: Duration::from_secs(25),
        }
    }

    /// The engine's context this configuration starts with (no policies yet).
    pub fn context(&self) -> Context {
        let versions = VersionCatalog::from_versions(self.kubernetes_versions.clone()).unwrap_or_default();
        Context {
            versions,
            cluster_version: self.cluster_version.clone(),
            ..Context::default()
        }
    }

    /// The connection limits for the TLS listener.
    pub fn connection_limits(&self) -> ConnectionLimits {
        ConnectionLimits {
            max_connections: self.max_connections as usize,
            idle_timeout: self.idle_timeout,
        }
    }

    /// The request limits for the router.
    pub fn limits(&self) -> Limits {
        Limits {
            max_body_bytes: self.max_body_bytes,
            max_json_values: self.max_json_values,
            request_timeout: self.request_timeout,
            max_concurrency: self.max_concurrency as usize,
        }
    }
}

/// The limits every review request is held to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub max_body_bytes: usize,
    pub max_json_values: usize,
    pub request_timeout: Duration,
    pub max_concurrency: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_json_values: DEFAULT_MAX_JSON_VALUES,
            request_timeout: Duration::from_secs(4),
            max_concurrency: DEFAULT_MAX_CONCURRENCY as usize,
        }
    }
}

/// The limits every TLS connection is held to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectionLimits {
    pub max_connections: usize,
    pub idle_timeout: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            max_connections: DEFAULT_MAX_CONNECTIONS as usize,
            idle_timeout: Duration::from_secs(60),
        }
    }
}

fn parse_version(s: &str) -> Result<semver::Version, String> {
    versions::parse(s).map_err(|e| format!("{s:?} is not a Kubernetes version like 1.35.7: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cluster_version_reaches_the_engine() {
        use clap::Parser;
        let config = Config::try_parse_from([
            "kkp-webhook",
            "--tls-cert-file=c",
            "--tls-private-key-file=k",
            "--cluster-version=1.36.3",
        ])
        .expect("flags parse");
        assert_eq!(config.context().cluster_version, Some(semver::Version::new(1, 36, 3)));
        let bad = Config::try_parse_from([
            "kkp-webhook",
            "--tls-cert-file=c",
            "--tls-private-key-file=k",
            "--cluster-version=new",
        ]);
        assert!(bad.unwrap_err().to_string().contains("--cluster-version"));
    }

    #[test]
    fn defaults_match_the_documented_command_line() {
        let c = Config::try_parse_from([
            "kkp-webhook",
            "--tls-cert-file",
            "c.pem",
            "--tls-private-key-file",
            "k.pem",
        ])
        .unwrap();
        assert_eq!(c.listen_address, "0.0.0.0:8443".parse().unwrap());
        assert_eq!(c.health_listen_address, "0.0.0.0:8080".parse().unwrap());
        assert_eq!(c.max_body_bytes, 7 * 1024 * 1024);
        assert_eq!(c.max_concurrency, DEFAULT_MAX_CONCURRENCY);
        assert_eq!(c.enforcement, Enforcement::Deny);
        assert_eq!(c.request_timeout, Duration::from_secs(4));
        assert_eq!(c.log_format, LogFormat::Json);
        assert_eq!(c.context().versions, VersionCatalog::default());
    }

    #[test]
    fn versions_override_the_catalog() {
        let c = Config::try_parse_from([
            "kkp-webhook",
            "--tls-cert-file=c",
            "--tls-private-key-file=k",
            "--kubernetes-versions=1.35.7,v1.36.3",
            "--log-format=text",
        ])
        .unwrap();
        let catalog = c.context().versions;
        assert_eq!(
            catalog.versions,
            [semver::Version::new(1, 35, 7), semver::Version::new(1, 36, 3)]
        );
        assert_eq!(catalog.default, semver::Version::new(1, 36, 3));
        assert_eq!(c.log_format, LogFormat::Text);
        assert!(
            Config::try_parse_from([
                "kkp-webhook",
                "--tls-cert-file=c",
                "--tls-private-key-file=k",
                "--kubernetes-versions=latest"
            ])
            .is_err()
        );
    }

    #[test]
    fn enforcement_comes_from_the_flag() {
        let c = Config::try_parse_from([
            "kkp-webhook",
            "--tls-cert-file=c",
            "--tls-private-key-file=k",
            "--enforcement=audit",
        ])
        .unwrap();
        assert_eq!(c.enforcement, Enforcement::Audit);
        assert!(
            Config::try_parse_from([
                "kkp-webhook",
                "--tls-cert-file=c",
                "--tls-private-key-file=k",
                "--enforcement=warn"
            ])
            .is_err()
        );
    }

    #[test]
    fn certificate_files_are_required() {
        assert!(Config::try_parse_from(["kkp-webhook"]).is_err());
    }
}
