//! A real, throwaway Kubernetes control plane: etcd and kube-apiserver (and optionally
//! kube-controller-manager) on free loopback ports, with their own PKI, in a temp dir that
//! is removed again when the [`ControlPlane`] is dropped.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kube::config::{KubeConfigOptions, Kubeconfig};
use rustls::ClientConfig;
use tempfile::TempDir;

use crate::binaries;
use crate::components::{self, ApiserverFiles, EtcdPorts};
use crate::error::HarnessError;
use crate::kubeconfig::{self, KubeconfigSpec};
use crate::pki::{KeyAndCert, MASTERS_GROUP, Pki};
use crate::ports;
use crate::probe::{self, HttpResponse};
use crate::process::ManagedProcess;

/// Set to keep a control plane's temp dir (logs, certificates, etcd data) after it stops.
pub const KEEP_ENV: &str = "KKP_E2E_KEEP";

/// How long a child gets between SIGTERM and SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// How often readiness is polled.
const POLL: Duration = Duration::from_millis(100);

/// Timeout of one probe request.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// The Kubernetes release the binaries are built from (pinned in the Go module).
pub fn kubernetes_version() -> &'static str {
    module_version(include_str!("../control-plane/go.mod"), "k8s.io/kubernetes").unwrap_or("unknown")
}

/// The etcd release the binaries are built from.
pub fn etcd_version() -> &'static str {
    module_version(include_str!("../control-plane/go.mod"), "go.etcd.io/etcd/server/v3").unwrap_or("unknown")
}

/// The version a go.mod requires of `module` (the first `module vX…` line).
pub(crate) fn module_version<'a>(go_mod: &'a str, module: &str) -> Option<&'a str> {
    go_mod.lines().find_map(|line| {
        let mut words = line.split_whitespace();
        let first = words.next()?;
        let first = if first == "require" { words.next()? } else { first };
        let version = words.next()?;
        (first == module && version.starts_with('v')).then_some(version)
    })
}

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
}

impl Default for ControlPlaneOptions {
    fn default() -> Self {
        Self {
            name: "kkp-e2e".into(),
            controller_manager: false,
            ready_timeout: Duration::from_secs(90),
            start_attempts: 4,
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
    install_crypto_provider();
    let file = Kubeconfig::from_yaml(yaml).map_err(|e| HarnessError::Kubeconfig(e.to_string()))?;
    let options = KubeConfigOptions {
        context: Some(context.to_string()),
        ..KubeConfigOptions::default()
    };
    let config = kube::Config::from_custom_kubeconfig(file, &options)
        .await
        .map_err(|e| HarnessError::Kubeconfig(e.to_string()))?;
    Ok(kube::Client::try_from(config)?)
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

/// The paths of the files written from the PKI.
struct PkiFiles {
    serving_ca: PathBuf,
    apiserver_cert: PathBuf,
    apiserver_key: PathBuf,
    client_ca: PathBuf,
    sa_private_key: PathBuf,
    sa_public_key: PathBuf,
}

/// The processes and ports of a started etcd + kube-apiserver.
struct Core {
    processes: Vec<ManagedProcess>,
    etcd_port: u16,
    apiserver_port: u16,
    etcd_time: Duration,
    apiserver_time: Duration,
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
        let temp = tempfile::Builder::new()
            .prefix(&format!("kkp-e2e-{}-", sanitize(&options.name)))
            .tempdir()
            .map_err(|e| HarnessError::io("creating the control plane's temp dir", e))?;
        let dir = temp.path().to_path_buf();
        let pki = Pki::generate()?;
        let files = write_pki(&dir, &pki)?;
        mkdir(&dir.join("logs"))?;
        mkdir(&dir.join("users"))?;
        let tls = probe::client_tls_config(&pki.serving_ca.cert().cert_der, &pki.admin.cert_der, &pki.admin.key_der)?;

        let attempts = options.start_attempts.max(1);
        let mut attempt = 1;
        let core = loop {
            match start_core(&bin_dir, &dir, &files, &tls, attempt, options.ready_timeout) {
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
            let args = components::controller_manager_args(&admin.kubeconfig_path, &files.sa_private_key, &files.serving_ca);
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

    /// `kubectl --kubeconfig=<admin kubeconfig>` from the bin dir, with the bin dir first on
    /// `PATH`, `KUBECONFIG` set to the admin kubeconfig (plugins see it too) and no proxy variables.
    pub fn kubectl(&self) -> Command {
        let mut command = Command::new(self.bin_dir.join("kubectl"));
        command
            .arg(format!("--kubeconfig={}", self.admin.kubeconfig_path.display()))
            .env("KUBECONFIG", &self.admin.kubeconfig_path)
            .env("PATH", path_with_first(&self.bin_dir));
        for var in ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"] {
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

/// Starts etcd and kube-apiserver on fresh ports and waits until both are ready.
fn start_core(
    bin_dir: &Path,
    dir: &Path,
    files: &PkiFiles,
    tls: &Arc<ClientConfig>,
    attempt: u32,
    timeout: Duration,
) -> Result<Core, HarnessError> {
    let [etcd_client, etcd_peer, apiserver_port] = ports::free_ports()?;
    let logs = dir.join("logs");

    let etcd_started = Instant::now();
    let data_dir = dir.join(format!("etcd-{attempt}"));
    let etcd_ports = EtcdPorts {
        client: etcd_client,
        peer: etcd_peer,
    };
    let mut etcd = ManagedProcess::spawn(
        "etcd",
        &bin_dir.join("etcd"),
        components::etcd_args(etcd_ports, &data_dir),
        logs.join(format!("etcd-{attempt}.log")),
    )?;
    wait_until(&mut etcd, timeout, || {
        let r = probe::get_plain(etcd_client, "/health", PROBE_TIMEOUT).map_err(|e| e.to_string())?;
        if r.status == 200 && r.body.contains("\"health\":\"true\"") {
            Ok(())
        } else {
            Err(format!("/health: {} {}", r.status, r.body.trim()))
        }
    })?;
    let etcd_time = etcd_started.elapsed();

    let apiserver_started = Instant::now();
    let cert_dir = dir.join("apiserver-certs");
    mkdir(&cert_dir)?;
    let apiserver_files = ApiserverFiles {
        cert_dir: &cert_dir,
        tls_cert: &files.apiserver_cert,
        tls_key: &files.apiserver_key,
        client_ca: &files.client_ca,
        sa_public_key: &files.sa_public_key,
        sa_private_key: &files.sa_private_key,
    };
    let mut apiserver = ManagedProcess::spawn(
        "kube-apiserver",
        &bin_dir.join("kube-apiserver"),
        components::apiserver_args(etcd_client, apiserver_port, &apiserver_files),
        logs.join(format!("kube-apiserver-{attempt}.log")),
    )?;
    let ready = wait_until(&mut apiserver, timeout, || {
        // etcd dying makes the apiserver hang rather than exit; report it directly.
        if let Some(e) = etcd.exited() {
            return Err(e.to_string());
        }
        tls_status(tls, apiserver_port, "/readyz", 200)?;
        tls_status(tls, apiserver_port, "/api/v1/namespaces/default", 200)
    });
    if let Err(e) = ready {
        if let Some(etcd_exit) = etcd.exited() {
            return Err(etcd_exit);
        }
        return Err(e);
    }
    Ok(Core {
        processes: vec![etcd, apiserver],
        etcd_port: etcd_client,
        apiserver_port,
        etcd_time,
        apiserver_time: apiserver_started.elapsed(),
    })
}

/// `Ok` when `GET path` answers `want`, else a description of what came back.
fn tls_status(tls: &Arc<ClientConfig>, port: u16, path: &str, want: u16) -> Result<(), String> {
    let r = probe::get_tls(tls, port, path, PROBE_TIMEOUT).map_err(|e| format!("{path}: {e}"))?;
    if r.status == want {
        Ok(())
    } else {
        Err(format!("{path}: {} {}", r.status, crate::error::tail_lines(r.body.trim(), 5)))
    }
}

/// Polls `check` until it succeeds, the process exits, or `timeout` passes.
fn wait_until(
    process: &mut ManagedProcess,
    timeout: Duration,
    mut check: impl FnMut() -> Result<(), String>,
) -> Result<(), HarnessError> {
    let started = Instant::now();
    loop {
        if let Some(e) = process.exited() {
            return Err(e);
        }
        let last_check = match check() {
            Ok(()) => return Ok(()),
            Err(e) => e,
        };
        if started.elapsed() >= timeout {
            return Err(HarnessError::NotReady {
                name: process.name().to_string(),
                timeout,
                last_check,
                log: process.log_path().to_path_buf(),
                log_tail: process.log_tail(),
            });
        }
        std::thread::sleep(POLL);
    }
}

fn mkdir(path: &Path) -> Result<(), HarnessError> {
    std::fs::create_dir_all(path).map_err(|e| HarnessError::io(format!("creating {}", path.display()), e))
}

fn write_file(path: &Path, contents: &str) -> Result<(), HarnessError> {
    std::fs::write(path, contents).map_err(|e| HarnessError::io(format!("writing {}", path.display()), e))
}

fn write_pki(dir: &Path, pki: &Pki) -> Result<PkiFiles, HarnessError> {
    let pki_dir = dir.join("pki");
    mkdir(&pki_dir)?;
    let files = PkiFiles {
        serving_ca: pki_dir.join("serving-ca.crt"),
        apiserver_cert: pki_dir.join("apiserver.crt"),
        apiserver_key: pki_dir.join("apiserver.key"),
        client_ca: pki_dir.join("client-ca.crt"),
        sa_private_key: pki_dir.join("sa.key"),
        sa_public_key: pki_dir.join("sa.pub"),
    };
    write_file(&files.serving_ca, &pki.serving_ca.cert().cert_pem)?;
    write_file(&files.apiserver_cert, &pki.apiserver.cert_pem)?;
    write_file(&files.apiserver_key, &pki.apiserver.key_pem)?;
    write_file(&files.client_ca, &pki.client_ca.cert().cert_pem)?;
    write_file(&files.sa_private_key, &pki.service_account.private_key_pem)?;
    write_file(&files.sa_public_key, &pki.service_account.public_key_pem)?;
    Ok(files)
}

#[allow(clippy::too_many_arguments)]
fn write_user_kubeconfig(
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

/// `name` reduced to characters safe in a file name.
fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' })
        .collect()
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
    fn versions_come_from_the_go_module() {
        let go_mod = "module x\n\ngo 1.26\n\nrequire (\n\tgo.etcd.io/etcd/server/v3 v3.6.8\n\tk8s.io/kubernetes v1.36.3\n)\n\nreplace k8s.io/kubernetes => k8s.io/kubernetes v1.36.3\n";
        assert_eq!(module_version(go_mod, "k8s.io/kubernetes"), Some("v1.36.3"));
        assert_eq!(module_version(go_mod, "go.etcd.io/etcd/server/v3"), Some("v3.6.8"));
        assert_eq!(module_version("require k8s.io/kubernetes v1.2.3", "k8s.io/kubernetes"), Some("v1.2.3"));
        assert_eq!(module_version(go_mod, "k8s.io/api"), None);
        assert!(kubernetes_version().starts_with("v1."), "{}", kubernetes_version());
        assert!(etcd_version().starts_with("v3."), "{}", etcd_version());
    }

    #[test]
    fn sanitize_keeps_file_names_safe() {
        assert_eq!(sanitize("system:serviceaccount:a/b"), "system_serviceaccount_a_b");
        assert_eq!(sanitize("alice-1_x"), "alice-1_x");
    }

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
