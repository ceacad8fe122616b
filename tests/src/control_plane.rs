//! A real, throwaway Kubernetes control plane: etcd and kube-apiserver (and optionally
//! kube-controller-manager) on free loopback ports, with their own PKI, in a temp dir that
//! is removed again when the [`ControlPlane`] is dropped.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rustls::ClientConfig;
use tempfile::TempDir;

use crate::binaries;
use crate::components;
use crate::error::HarnessError;
use crate::pki::{MASTERS_GROUP, Pki};
use crate::ports;
use crate::probe::{self, HttpResponse};
use crate::process::ManagedProcess;
use crate::startup::{PROBE_TIMEOUT, start_core, tls_status, wait_until};
use crate::users::{UserCredentials, write_user_kubeconfig};
use crate::workdir::{OWNER_FILE, TEMP_PREFIX, mkdir, sanitize, sweep_stale_dirs_once, write_file, write_pki};

/// Set to keep a control plane's temp dir (logs, certificates, etcd data) after it stops.
pub const KEEP_ENV: &str = "KKP_E2E_KEEP";

/// How long a child gets between SIGTERM and SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// Installs ring as the process-wide rustls crypto provider (once; later calls do nothing).
pub fn install_crypto_provider() {
    // Err only means a provider is installed already.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// How to start a control plane.
#[derive(Debug, Clone)]
pub struct ControlPlaneOptions {
    /// Cluster and context name in its kubeconfigs (for example `seed` or `user`).
    pub name: String,
    /// Also run kube-controller-manager (namespace deletion, garbage collection, service accounts).
    pub controller_manager: bool,
    /// How long each component may take to become ready.
    pub ready_timeout: Duration,
    /// How many times to start over on new ports when a port turns out to be taken.
    pub start_attempts: u32,
    /// Ports (etcd client, etcd peer, kube-apiserver) for the first attempt instead of free
    /// ones; later attempts always pick free ports. Lets a test exercise the retry path.
    pub first_attempt_ports: Option<[u16; 3]>,
}

impl Default for ControlPlaneOptions {
    fn default() -> Self {
        Self {
            name: "kkp-e2e".into(),
            controller_manager: false,
            ready_timeout: Duration::from_secs(90),
            start_attempts: 4,
            first_attempt_ports: None,
        }
    }
}

impl ControlPlaneOptions {
    /// Default options with the given cluster name.
    pub fn named(name: &str) -> Self {
        Self {
            name: name.to_string(),
            ..Self::default()
        }
    }

    /// Also run kube-controller-manager.
    pub fn with_controller_manager(mut self) -> Self {
        self.controller_manager = true;
        self
    }
}

/// How long starting took.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timings {
    /// From spawning etcd until `/health` said true (last attempt).
    pub etcd: Duration,
    /// From spawning kube-apiserver until `/readyz` and namespace `default` (last attempt).
    pub apiserver: Duration,
    /// From spawning kube-controller-manager until the `default` ServiceAccount existed.
    pub controller_manager: Option<Duration>,
    /// The whole start, including PKI, retries and the kubeconfig.
    pub total: Duration,
    /// How many attempts it took (more than one after a port collision).
    pub attempts: u32,
}

/// A running control plane. Dropping it stops every process and removes its temp dir.
#[derive(Debug)]
pub struct ControlPlane {
    name: String,
    bin_dir: PathBuf,
    dir: PathBuf,
    temp: Mutex<Option<TempDir>>,
    processes: Mutex<Vec<ManagedProcess>>,
    pki: Pki,
    tls: Arc<ClientConfig>,
    apiserver_port: u16,
    etcd_port: u16,
    admin: UserCredentials,
    controller_manager: bool,
    timings: Timings,
}

impl ControlPlane {
    /// Starts a control plane with default options (etcd and kube-apiserver).
    pub async fn start() -> Result<Self, HarnessError> {
        Self::start_with(ControlPlaneOptions::default()).await
    }

    /// Starts a control plane. The blocking work runs on tokio's blocking pool, so this
    /// must be awaited inside a tokio runtime (any flavour).
    pub async fn start_with(options: ControlPlaneOptions) -> Result<Self, HarnessError> {
        tokio::task::spawn_blocking(move || Self::start_blocking(options))
            .await
            .map_err(|e| HarnessError::Join(e.to_string()))?
    }

    /// Starts a control plane, blocking the calling thread until it is ready.
    pub fn start_blocking(options: ControlPlaneOptions) -> Result<Self, HarnessError> {
        let started = Instant::now();
        install_crypto_provider();
        if options.name.trim().is_empty() {
            return Err(HarnessError::InvalidInput("a control plane needs a name".into()));
        }
        let bin_dir = binaries::bin_dir()?.to_path_buf();
        sweep_stale_dirs_once();
        let temp = tempfile::Builder::new()
            .prefix(&format!("{TEMP_PREFIX}{}-", sanitize(&options.name)))
            .tempdir()
            .map_err(|e| HarnessError::io("creating the control plane's temp dir", e))?;
        let dir = temp.path().to_path_buf();
        write_file(&dir.join(OWNER_FILE), &std::process::id().to_string())?;
        let pki = Pki::generate()?;
        let files = write_pki(&dir, &pki)?;
        mkdir(&dir.join("logs"))?;
        mkdir(&dir.join("users"))?;
        let tls = probe::client_tls_config(&pki.serving_ca.cert().cert_der, &pki.admin.cert_der, &pki.admin.key_der)?;

        let attempts = options.start_attempts.max(1);
        let mut attempt = 1;
        let core = loop {
            let ports = match (attempt, options.first_attempt_ports) {
                (1, Some(ports)) => ports,
                _ => ports::free_ports()?,
            };
            match start_core(&bin_dir, &dir, &files, &tls, attempt, ports, options.ready_timeout) {
                Ok(core) => break core,
                Err(e) if e.is_port_conflict() && attempt < attempts => {
                    tracing::warn!(attempt, error = %e, "a port was taken; starting over on new ports");
                    attempt += 1;
                }
                Err(e) if e.is_port_conflict() => {
                    return Err(HarnessError::PortsExhausted {
                        attempts,
                        last: Box::new(e),
                    });
                }
                Err(e) => return Err(e),
            }
        };

        let server = format!("https://127.0.0.1:{}", core.apiserver_port);
        let admin = write_user_kubeconfig(
            &dir.join("admin.kubeconfig"),
            &options.name,
            &options.name,
            &format!("{}-admin", options.name),
            &server,
            &pki.serving_ca.cert().cert_pem,
            "admin",
            &[MASTERS_GROUP],
            pki.admin.clone(),
        )?;

        let mut processes = core.processes;
        let mut controller_manager_time = None;
        if options.controller_manager {
            let kcm_started = Instant::now();
            let args =
                components::controller_manager_args(&admin.kubeconfig_path, &files.sa_private_key, &files.serving_ca);
            let mut kcm = ManagedProcess::spawn(
                "kube-controller-manager",
                &bin_dir.join("kube-controller-manager"),
                args,
                dir.join("logs").join("kube-controller-manager.log"),
            )?;
            let port = core.apiserver_port;
            // The serviceaccount controller creates `default` in every namespace: proof that
            // the controllers run and reach the apiserver.
            wait_until(&mut kcm, options.ready_timeout, || {
                tls_status(&tls, port, "/api/v1/namespaces/default/serviceaccounts/default", 200)
            })?;
            processes.push(kcm);
            controller_manager_time = Some(kcm_started.elapsed());
        }

        let timings = Timings {
            etcd: core.etcd_time,
            apiserver: core.apiserver_time,
            controller_manager: controller_manager_time,
            total: started.elapsed(),
            attempts: attempt,
        };
        tracing::info!(name = %options.name, %server, ?timings, "control plane ready");
        Ok(Self {
            name: options.name,
            bin_dir,
            dir,
            temp: Mutex::new(Some(temp)),
            processes: Mutex::new(processes),
            pki,
            tls,
            apiserver_port: core.apiserver_port,
            etcd_port: core.etcd_port,
            admin,
            controller_manager: options.controller_manager,
            timings,
        })
    }

    /// The cluster name in its kubeconfigs.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `https://127.0.0.1:<port>` of kube-apiserver.
    pub fn server_url(&self) -> String {
        format!("https://127.0.0.1:{}", self.apiserver_port)
    }

    /// The kube-apiserver port.
    pub fn apiserver_port(&self) -> u16 {
        self.apiserver_port
    }

    /// The etcd client URL.
    pub fn etcd_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.etcd_port)
    }

    /// Whether kube-controller-manager runs.
    pub fn has_controller_manager(&self) -> bool {
        self.controller_manager
    }

    /// How long the start took.
    pub fn timings(&self) -> Timings {
        self.timings
    }

    /// The temp dir with logs (`logs/`), certificates (`pki/`) and kubeconfigs.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The folder with etcd, kube-apiserver, kube-controller-manager and kubectl.
    pub fn bin_dir(&self) -> &Path {
        &self.bin_dir
    }

    /// PEM of the CA that signed the apiserver's serving certificate.
    pub fn ca_pem(&self) -> &str {
        &self.pki.serving_ca.cert().cert_pem
    }

    /// The admin identity (CN=admin, O=system:masters) and its kubeconfig.
    pub fn admin(&self) -> &UserCredentials {
        &self.admin
    }

    /// The admin kubeconfig file.
    pub fn kubeconfig_path(&self) -> &Path {
        &self.admin.kubeconfig_path
    }

    /// The admin kubeconfig as YAML.
    pub fn kubeconfig(&self) -> &str {
        &self.admin.kubeconfig
    }

    /// A fresh admin client (one per test: a client belongs to the runtime it was made on).
    pub async fn client(&self) -> Result<kube::Client, HarnessError> {
        self.admin.client().await
    }

    /// A new user `name` in `groups` (at most two), authenticated by a client certificate
    /// from the cluster's client CA. RBAC grants it nothing until the test binds a role.
    /// Its kubeconfig is written to `users/<name>.kubeconfig` in the temp dir.
    pub fn mint_user(&self, name: &str, groups: &[&str]) -> Result<UserCredentials, HarnessError> {
        if name.trim().is_empty() {
            return Err(HarnessError::InvalidInput("a user needs a name".into()));
        }
        let cert = self.pki.client_ca.issue_client(name, groups)?;
        let path = self.dir.join("users").join(format!("{}.kubeconfig", sanitize(name)));
        let id = format!("{}-{}", self.name, name);
        write_user_kubeconfig(
            &path,
            &self.name,
            &id,
            &id,
            &self.server_url(),
            self.ca_pem(),
            name,
            groups,
            cert,
        )
    }

    /// `GET <path>` on the apiserver as admin (blocking, no kube client needed).
    pub fn get_as_admin(&self, path: &str) -> Result<HttpResponse, HarnessError> {
        probe::get_tls(&self.tls, self.apiserver_port, path, PROBE_TIMEOUT)
            .map_err(|e| HarnessError::io(format!("GET {path}"), e))
    }

    /// The built `kubectl`, talking to this control plane as admin: `KUBECONFIG` is the admin
    /// kubeconfig, the bin dir comes first on `PATH`, proxy variables are removed.
    ///
    /// The kubeconfig is passed through the environment rather than `--kubeconfig`, because
    /// kubectl refuses flags before a plugin name (`kubectl --kubeconfig=… kkp` fails with
    /// "flags cannot be placed before plugin name"), and plugins read `KUBECONFIG` too.
    /// Append `--kubeconfig` yourself after the subcommand if you want it explicit.
    pub fn kubectl(&self) -> Command {
        let mut command = Command::new(self.bin_dir.join("kubectl"));
        command
            .env("KUBECONFIG", &self.admin.kubeconfig_path)
            .env("PATH", path_with_first(&self.bin_dir));
        for var in [
            "HTTP_PROXY",
            "HTTPS_PROXY",
            "ALL_PROXY",
            "http_proxy",
            "https_proxy",
            "all_proxy",
        ] {
            command.env_remove(var);
        }
        command
    }

    /// The last lines of a component's log (`etcd`, `kube-apiserver`, `kube-controller-manager`).
    pub fn log_tail(&self, component: &str) -> String {
        let processes = self.processes.lock().unwrap_or_else(|p| p.into_inner());
        processes
            .iter()
            .find(|p| p.name() == component)
            .map(ManagedProcess::log_tail)
            .unwrap_or_else(|| format!("(no running {component})"))
    }

    /// Stops every process (SIGTERM, then SIGKILL after a grace period) and removes the
    /// temp dir (unless `KKP_E2E_KEEP` is set). Idempotent; `Drop` calls it too.
    pub fn stop(&self) {
        let processes = std::mem::take(&mut *self.processes.lock().unwrap_or_else(|p| p.into_inner()));
        // Controller manager first, etcd last.
        for mut process in processes.into_iter().rev() {
            process.stop(STOP_GRACE);
        }
        if let Some(temp) = self.temp.lock().unwrap_or_else(|p| p.into_inner()).take() {
            if std::env::var_os(KEEP_ENV).is_some_and(|v| !v.is_empty()) {
                let kept = temp.keep();
                tracing::info!(dir = %kept.display(), "kept the control plane's temp dir");
            } else if let Err(e) = temp.close() {
                tracing::warn!(error = %e, "could not remove the control plane's temp dir");
            }
        }
    }

    /// Whether all its processes are still running (false after [`ControlPlane::stop`]).
    pub fn is_running(&self) -> bool {
        let mut processes = self.processes.lock().unwrap_or_else(|p| p.into_inner());
        !processes.is_empty() && processes.iter_mut().all(|p| p.exited().is_none())
    }

    /// The pids of its processes (for tests of the harness itself).
    pub fn pids(&self) -> Vec<u32> {
        let processes = self.processes.lock().unwrap_or_else(|p| p.into_inner());
        processes.iter().map(ManagedProcess::pid).collect()
    }
}

impl Drop for ControlPlane {
    fn drop(&mut self) {
        self.stop();
    }
}

/// `PATH` with `dir` in front.
fn path_with_first(dir: &Path) -> OsString {
    let rest = std::env::var_os("PATH").unwrap_or_default();
    let paths = std::iter::once(dir.to_path_buf()).chain(std::env::split_paths(&rest));
    std::env::join_paths(paths).unwrap_or_else(|_| dir.as_os_str().to_os_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_puts_the_bin_dir_first() {
        let path = path_with_first(Path::new("/opt/kkp/bin"));
        let first = std::env::split_paths(&path).next().expect("one entry");
        assert_eq!(first, PathBuf::from("/opt/kkp/bin"));
    }

    #[test]
    fn options_builders() {
        let o = ControlPlaneOptions::named("seed").with_controller_manager();
        assert_eq!(o.name, "seed");
        assert!(o.controller_manager);
        assert!(!ControlPlaneOptions::default().controller_manager);
    }
}
