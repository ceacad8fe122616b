//! The one error type of the harness. Every variant says what failed and, where a child
//! process is involved, carries the tail of its log so a CI failure explains itself.

use std::path::PathBuf;
use std::time::Duration;

/// Why the control plane (or one of its helpers) could not do what a test asked.
///
/// `Debug` prints the same text as `Display` plus the source chain, so that a test's
/// `.expect("…")` shows readable log tails rather than an escaped one-line string.
#[derive(thiserror::Error)]
pub enum HarnessError {
    /// The control-plane binaries could not be located or built.
    #[error(transparent)]
    Binaries(#[from] BinariesError),

    /// A certificate or key could not be generated.
    #[error("generating {what}: {source}")]
    Pki {
        what: String,
        #[source]
        source: rcgen::Error,
    },

    /// A caller asked for something the harness cannot do.
    #[error("{0}")]
    InvalidInput(String),

    /// A file-system or process operation failed.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },

    /// A child process exited while the harness still needed it.
    #[error("{name} exited early ({status}); last lines of {log}:\n{log_tail}")]
    ProcessExited {
        name: String,
        status: String,
        log: PathBuf,
        log_tail: String,
    },

    /// A child process did not become ready in time.
    #[error("{name} was not ready after {timeout:?} (last check: {last_check}); last lines of {log}:\n{log_tail}")]
    NotReady {
        name: String,
        timeout: Duration,
        last_check: String,
        log: PathBuf,
        log_tail: String,
    },

    /// Every attempt to start the control plane hit a port that was already taken.
    #[error("gave up after {attempts} attempts to start the control plane on free ports; last error: {last}")]
    PortsExhausted { attempts: u32, last: Box<HarnessError> },

    /// TLS set-up for the readiness probes failed.
    #[error("TLS configuration: {0}")]
    Tls(#[from] rustls::Error),

    /// A kubeconfig could not be rendered or loaded.
    #[error("kubeconfig: {0}")]
    Kubeconfig(String),

    /// A request through the Kubernetes client failed.
    #[error("Kubernetes API: {0}")]
    Kube(#[from] kube::Error),

    /// CRDs could not be installed or never became usable.
    #[error("installing CRDs: {0}")]
    Crd(String),

    /// The shared control plane of this test binary failed to start earlier.
    #[error("the shared control plane failed to start: {0}")]
    Shared(String),

    /// A blocking start-up task could not be joined.
    #[error("the start-up task failed: {0}")]
    Join(String),
}

impl std::fmt::Debug for HarnessError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self}")?;
        let mut source = std::error::Error::source(self);
        while let Some(cause) = source {
            write!(f, "\n  caused by: {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}

impl HarnessError {
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io {
            context: context.into(),
            source,
        }
    }

    pub(crate) fn pki(what: impl Into<String>, source: rcgen::Error) -> Self {
        Self::Pki {
            what: what.into(),
            source,
        }
    }

    /// Whether this failure looks like a port collision, so that a retry on new ports may help.
    pub fn is_port_conflict(&self) -> bool {
        let text = match self {
            Self::ProcessExited { log_tail, .. } | Self::NotReady { log_tail, .. } => log_tail,
            _ => return false,
        };
        looks_like_port_conflict(text)
    }
}

/// Whether a log excerpt reports a failed bind because the address is taken.
pub(crate) fn looks_like_port_conflict(log: &str) -> bool {
    let log = log.to_ascii_lowercase();
    log.contains("address already in use") || log.contains("bind: address in use")
}

/// Why the control-plane binaries are unavailable. Cloneable so the once-per-process
/// lookup can hand the same failure to every test.
#[derive(Debug, Clone, thiserror::Error)]
pub enum BinariesError {
    /// The build script could not be started at all.
    #[error("could not run {script}: {message}")]
    ScriptNotRunnable { script: PathBuf, message: String },

    /// The build script failed (Go missing, module download failed, compile error …).
    #[error(
        "{script} build failed ({status}); is Go installed and the Go module proxy reachable? \
         Set KKP_CONTROL_PLANE_BIN to a folder with prebuilt binaries to skip the build. \
         Last lines of its output:\n{stderr_tail}"
    )]
    BuildFailed {
        script: PathBuf,
        status: String,
        stderr_tail: String,
    },

    /// The build script succeeded but printed no folder.
    #[error("{script} printed no bin folder; its output ended with:\n{stderr_tail}")]
    NoFolderPrinted { script: PathBuf, stderr_tail: String },

    /// A binary the harness needs is not in the folder.
    #[error("{binary} is missing or not executable in {dir} (from {origin})")]
    Missing {
        binary: String,
        dir: PathBuf,
        origin: String,
    },
}

/// The last `lines` lines of `text`.
pub(crate) fn tail_lines(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    let start = all.len().saturating_sub(lines);
    all[start..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_keeps_last_lines() {
        assert_eq!(tail_lines("a\nb\nc\nd", 2), "c\nd");
        assert_eq!(tail_lines("a", 5), "a");
        assert_eq!(tail_lines("", 5), "");
    }

    #[test]
    fn port_conflicts_are_recognised() {
        assert!(looks_like_port_conflict(
            "listen tcp 127.0.0.1:6443: bind: address already in use"
        ));
        assert!(looks_like_port_conflict("Address already in use (os error 98)"));
        assert!(!looks_like_port_conflict("connection refused"));
        let err = HarnessError::ProcessExited {
            name: "etcd".into(),
            status: "exit status: 1".into(),
            log: PathBuf::from("etcd.log"),
            log_tail: "listen tcp 127.0.0.1:1: bind: address already in use".into(),
        };
        assert!(err.is_port_conflict());
        assert!(!HarnessError::Crd("x".into()).is_port_conflict());
    }

    #[test]
    fn debug_is_readable_and_shows_causes() {
        let err = HarnessError::io(
            "writing pki/ca.crt",
            std::io::Error::new(std::io::ErrorKind::PermissionDenied, "denied"),
        );
        let text = format!("{err:?}");
        assert!(text.starts_with("writing pki/ca.crt: denied"), "{text}");
        assert!(text.contains("caused by: denied"), "{text}");
        let exited = HarnessError::ProcessExited {
            name: "etcd".into(),
            status: "exit status: 1".into(),
            log: PathBuf::from("etcd.log"),
            log_tail: "line one\nline two".into(),
        };
        assert!(format!("{exited:?}").contains("line one\nline two"));
    }
}
