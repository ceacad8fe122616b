//! What the end-to-end tests of `kubectl kkp` need beyond a control plane: the plugin built once
//! per test binary, a `kubectl` invocation that finds it on `PATH` the way a user's shell does,
//! and a pair of control planes (a management "seed" and a "user" cluster) shared by the tests of
//! a binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use crate::control_plane::{ControlPlane, ControlPlaneOptions};
use crate::error::HarnessError;

/// The plugin's package and binary.
pub const PLUGIN_PACKAGE: &str = "kubectl-kkp";
pub const PLUGIN_BINARY: &str = "kubectl-kkp";

/// The webhook's package and binary, built alongside the plugin.
pub const WEBHOOK_PACKAGE: &str = "kkp-webhook";

/// Names a folder whose `kubectl-kkp` and `kkp-webhook` were just built from this checkout, so
/// the tests use them instead of building their own. `make test` sets it to the target folder's
/// `debug`, where `cargo test --workspace` has put both binaries (the plugin's and the webhook's
/// own tests run them): a separate `cargo build` would compile the two crates again with another
/// feature set, a minute or more of a cold run.
pub const BUILT_BINARIES_ENV: &str = "KKP_BUILT_BINARIES";

/// The folder holding the freshly built `kubectl-kkp` and `kkp-webhook`: the one
/// [`BUILT_BINARIES_ENV`] names, or else built on first use with `cargo build -p kubectl-kkp -p
/// kkp-webhook --bins` (into the workspace's target folder, debug profile).
pub fn plugin_dir() -> Result<&'static Path, HarnessError> {
    static DIR: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    DIR.get_or_init(
        || match std::env::var_os(BUILT_BINARIES_ENV).filter(|v| !v.is_empty()) {
            Some(dir) => built_binaries(PathBuf::from(dir)),
            None => build_plugin(),
        },
    )
    .as_ref()
    .map(PathBuf::as_path)
    .map_err(|e| HarnessError::InvalidInput(e.clone()))
}

/// The folder [`BUILT_BINARIES_ENV`] names, if it holds both binaries.
fn built_binaries(dir: PathBuf) -> Result<PathBuf, String> {
    for binary in [PLUGIN_BINARY, WEBHOOK_PACKAGE] {
        if !dir.join(binary).is_file() {
            return Err(format!(
                "${BUILT_BINARIES_ENV} names {}, which holds no {binary}; build it (cargo build -p {PLUGIN_PACKAGE} -p \
                 {WEBHOOK_PACKAGE}) or unset ${BUILT_BINARIES_ENV}",
                dir.display()
            ));
        }
    }
    Ok(dir)
}

fn cargo() -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command.current_dir(workspace_root());
    command
}

/// The workspace root (the folder above this crate).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn build_plugin() -> Result<PathBuf, String> {
    let built = cargo()
        .args(["build", "-p", PLUGIN_PACKAGE, "-p", WEBHOOK_PACKAGE, "--bins"])
        .stdout(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run cargo to build {PLUGIN_PACKAGE}: {e}"))?;
    if !built.status.success() {
        let stderr = String::from_utf8_lossy(&built.stderr);
        return Err(format!(
            "cargo build -p {PLUGIN_PACKAGE} -p {WEBHOOK_PACKAGE} failed ({}):\n{stderr}",
            built.status
        ));
    }
    let metadata = cargo()
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .output()
        .map_err(|e| format!("cannot run cargo metadata: {e}"))?;
    let parsed: serde_json::Value =
        serde_json::from_slice(&metadata.stdout).map_err(|e| format!("cargo metadata printed no JSON ({e})"))?;
    let target = parsed
        .get("target_directory")
        .and_then(serde_json::Value::as_str)
        .ok_or("cargo metadata names no target_directory")?;
    let dir = PathBuf::from(target).join("debug");
    for binary in [PLUGIN_BINARY, WEBHOOK_PACKAGE] {
        if !dir.join(binary).is_file() {
            return Err(format!("{} was not built", dir.join(binary).display()));
        }
    }
    Ok(dir)
}

/// The freshly built `kkp-webhook` binary (see [`plugin_dir`]).
pub fn webhook_binary() -> Result<PathBuf, HarnessError> {
    Ok(plugin_dir()?.join(WEBHOOK_PACKAGE))
}

/// What a finished command printed, and how it ended.
#[derive(Debug, Clone)]
pub struct Ran {
    /// The exit code; `None` when a signal ended it.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Ran {
    /// stdout and stderr, for assertion messages.
    pub fn both(&self) -> String {
        format!(
            "exit {:?}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }

    /// Asserts the exit code; the failure shows the whole run.
    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(self.code, Some(code), "{}", self.both());
        self
    }

    /// Asserts that stdout contains `text`.
    #[track_caller]
    pub fn expect_stdout(&self, text: &str) -> &Self {
        assert!(self.stdout.contains(text), "no {text:?} on stdout:\n{}", self.both());
        self
    }

    /// Asserts that stderr contains `text`.
    #[track_caller]
    pub fn expect_stderr(&self, text: &str) -> &Self {
        assert!(self.stderr.contains(text), "no {text:?} on stderr:\n{}", self.both());
        self
    }

    /// Asserts that stderr does not contain `text`.
    #[track_caller]
    pub fn expect_no_stderr(&self, text: &str) -> &Self {
        assert!(!self.stderr.contains(text), "{text:?} on stderr:\n{}", self.both());
        self
    }
}

/// `kubectl` from the control-plane binaries, with the plugin's folder on `PATH`, `KUBECONFIG`
/// set to `kubeconfig`, and an otherwise empty environment (a fresh `HOME` and config folder),
/// so nothing of the machine it runs on leaks into a test.
pub fn kubectl(kubectl_dir: &Path, plugin_dir: &Path, kubeconfig: &Path, home: &Path) -> Command {
    let mut path = std::ffi::OsString::from(kubectl_dir.as_os_str());
    path.push(":");
    path.push(plugin_dir.as_os_str());
    if let Some(system) = std::env::var_os("PATH") {
        path.push(":");
        path.push(system);
    }
    let mut command = Command::new(kubectl_dir.join("kubectl"));
    command
        .env_clear()
        .env("PATH", path)
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("KUBECONFIG", kubeconfig)
        .stdin(Stdio::null());
    command
}

/// Runs a command to its end (at most `timeout`, then kills it) and collects its output.
pub fn run(mut command: Command, timeout: Duration) -> Result<Ran, HarnessError> {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| HarnessError::io(format!("starting {:?}", command.get_program()), e))?;
    let out = drain(child.stdout.take());
    let err = drain(child.stderr.take());
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child
            .try_wait()
            .map_err(|e| HarnessError::io("waiting for a command", e))?
        {
            break status;
        }
        if started.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            return Err(HarnessError::InvalidInput(format!(
                "{:?} did not finish within {timeout:?}",
                command.get_args().collect::<Vec<_>>()
            )));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Ok(Ran {
        code: status.code(),
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    })
}

/// Reads a pipe to its end on a thread, so a chatty child never blocks on a full pipe.
fn drain<R: std::io::Read + Send + 'static>(pipe: Option<R>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut p) = pipe {
            let _ = p.read_to_string(&mut text);
        }
        text
    })
}

/// A management ("seed") and a user control plane, started together once per test binary.
#[derive(Debug)]
pub struct SeedAndUser {
    pub seed: ControlPlane,
    pub user: ControlPlane,
}

static PAIR: OnceLock<Result<SeedAndUser, String>> = OnceLock::new();

/// The seed and user control planes of this test binary, started on first use (blocking). They
/// are stopped when the test binary exits.
pub fn seed_and_user() -> Result<&'static SeedAndUser, HarnessError> {
    PAIR.get_or_init(|| {
        let seed = ControlPlane::start_blocking(ControlPlaneOptions::named("seed")).map_err(|e| e.to_string())?;
        let user = ControlPlane::start_blocking(ControlPlaneOptions::named("user")).map_err(|e| e.to_string())?;
        // SAFETY: registers a plain `extern "C" fn` with no captured state.
        if unsafe { libc::atexit(stop_pair) } != 0 {
            tracing::warn!("could not register the exit hook; the death signal still stops the processes");
        }
        Ok(SeedAndUser { seed, user })
    })
    .as_ref()
    .map_err(|e| HarnessError::Shared(e.clone()))
}

extern "C" fn stop_pair() {
    if let Some(Ok(pair)) = PAIR.get() {
        pair.user.stop();
        pair.seed.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_run_to_the_end_and_report_output_and_exit_code() {
        let mut sh = Command::new("sh");
        sh.args(["-c", "echo out; echo err >&2; exit 3"]);
        let ran = run(sh, Duration::from_secs(10)).expect("runs");
        assert_eq!(ran.code, Some(3));
        assert_eq!(ran.stdout, "out\n");
        assert_eq!(ran.stderr, "err\n");
        assert!(ran.both().contains("exit Some(3)"));
    }

    #[test]
    fn commands_that_hang_are_killed() {
        let mut sleep = Command::new("sleep");
        sleep.arg("30");
        let err = run(sleep, Duration::from_millis(200)).expect_err("killed");
        assert!(err.to_string().contains("did not finish"), "{err}");
    }

    #[test]
    fn the_kubectl_environment_is_clean_and_finds_the_plugin() {
        let cmd = kubectl(
            Path::new("/k/bin"),
            Path::new("/p/debug"),
            Path::new("/c/kc"),
            Path::new("/h"),
        );
        let envs: std::collections::HashMap<_, _> = cmd
            .get_envs()
            .filter_map(|(k, v)| Some((k.to_string_lossy().into_owned(), v?.to_string_lossy().into_owned())))
            .collect();
        assert!(envs["PATH"].starts_with("/k/bin:/p/debug"), "{envs:?}");
        assert_eq!(envs["KUBECONFIG"], "/c/kc");
        assert_eq!(envs["HOME"], "/h");
        assert_eq!(cmd.get_program(), Path::new("/k/bin/kubectl"));
    }
}
