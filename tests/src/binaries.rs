//! Finding etcd, kube-apiserver, kube-controller-manager and kubectl: the folder named by
//! `KKP_CONTROL_PLANE_BIN`, or else the one `scripts/control-plane.sh build` prints
//! (building them from their Go modules on first use). The lookup runs once per process.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::error::{BinariesError, tail_lines};

/// Environment variable naming a folder with prebuilt binaries; skips the build script.
pub const BIN_ENV: &str = "KKP_CONTROL_PLANE_BIN";

/// The binaries the harness runs.
pub const BINARIES: [&str; 4] = ["etcd", "kube-apiserver", "kube-controller-manager", "kubectl"];

/// How many lines of the build script's output an error quotes.
const TAIL: usize = 30;

/// The build script, relative to this crate.
pub fn script_path() -> PathBuf {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    crate_dir
        .parent()
        .unwrap_or(crate_dir)
        .join("scripts")
        .join("control-plane.sh")
}

/// The folder with the control-plane binaries, built on first use.
pub fn bin_dir() -> Result<&'static Path, BinariesError> {
    static DIR: OnceLock<Result<PathBuf, BinariesError>> = OnceLock::new();
    DIR.get_or_init(locate)
        .as_ref()
        .map(PathBuf::as_path)
        .map_err(Clone::clone)
}

fn locate() -> Result<PathBuf, BinariesError> {
    if let Some(dir) = std::env::var_os(BIN_ENV).filter(|v| !v.is_empty()) {
        let dir = PathBuf::from(dir);
        check_binaries(&dir, &format!("${BIN_ENV}"))?;
        tracing::info!(dir = %dir.display(), "using control-plane binaries from {BIN_ENV}");
        return Ok(dir);
    }
    let script = script_path();
    let dir = run_build_script(&script)?;
    check_binaries(&dir, &script.display().to_string())?;
    Ok(dir)
}

/// Runs `<script> build` and returns the folder it printed last.
pub(crate) fn run_build_script(script: &Path) -> Result<PathBuf, BinariesError> {
    tracing::info!(script = %script.display(), "building or locating the control-plane binaries");
    let output =
        Command::new("bash")
            .arg(script)
            .arg("build")
            .output()
            .map_err(|e| BinariesError::ScriptNotRunnable {
                script: script.to_path_buf(),
                message: e.to_string(),
            })?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        return Err(BinariesError::BuildFailed {
            script: script.to_path_buf(),
            status: output.status.to_string(),
            stderr_tail: tail_lines(&stderr, TAIL),
        });
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    match last_line(&stdout) {
        Some(line) => Ok(PathBuf::from(line)),
        None => Err(BinariesError::NoFolderPrinted {
            script: script.to_path_buf(),
            stderr_tail: tail_lines(&stderr, TAIL),
        }),
    }
}

/// The last non-blank line of `text`, trimmed.
pub(crate) fn last_line(text: &str) -> Option<&str> {
    text.lines().map(str::trim).rfind(|l| !l.is_empty())
}

/// Fails unless every binary in [`BINARIES`] is an executable file in `dir`.
pub(crate) fn check_binaries(dir: &Path, origin: &str) -> Result<(), BinariesError> {
    for binary in BINARIES {
        if !is_executable(&dir.join(binary)) {
            return Err(BinariesError::Missing {
                binary: binary.to_string(),
                dir: dir.to_path_buf(),
                origin: origin.to_string(),
            });
        }
    }
    Ok(())
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    #[test]
    fn the_script_is_in_the_workspace() {
        assert!(script_path().is_file(), "{}", script_path().display());
        assert!(!script_path().to_string_lossy().contains(".."));
    }

    #[test]
    fn last_line_skips_trailing_blank_lines() {
        assert_eq!(last_line("building\n/cache/bin\n\n"), Some("/cache/bin"));
        assert_eq!(last_line("  \n"), None);
    }

    #[test]
    fn missing_and_non_executable_binaries_are_reported() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = check_binaries(dir.path(), "test").expect_err("empty folder");
        assert!(err.to_string().contains("etcd is missing"), "{err}");
        for b in BINARIES {
            std::fs::write(dir.path().join(b), "#!/bin/sh\n").expect("write");
            std::fs::set_permissions(dir.path().join(b), std::fs::Permissions::from_mode(0o755)).expect("chmod");
        }
        check_binaries(dir.path(), "test").expect("all present");
        std::fs::set_permissions(dir.path().join("kubectl"), std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let err = check_binaries(dir.path(), "test").expect_err("kubectl not executable");
        assert!(err.to_string().contains("kubectl"), "{err}");
    }

    #[test]
    fn a_failing_script_reports_its_stderr_tail() {
        let dir = tempfile::tempdir().expect("tempdir");
        let script = dir.path().join("fail.sh");
        std::fs::write(&script, "echo 'go: command not found' >&2\nexit 1\n").expect("write");
        let err = run_build_script(&script).expect_err("script fails");
        let text = err.to_string();
        assert!(text.contains("go: command not found"), "{text}");
        assert!(text.contains("build failed"), "{text}");
    }

    #[test]
    fn a_succeeding_script_yields_its_last_line() {
        let dir = tempfile::tempdir().expect("tempdir");
        let script = dir.path().join("ok.sh");
        std::fs::write(&script, "echo progress >&2\necho /some/where\necho /the/bin\n").expect("write");
        assert_eq!(run_build_script(&script).expect("ok"), PathBuf::from("/the/bin"));
        let silent = dir.path().join("silent.sh");
        std::fs::write(&silent, "exit 0\n").expect("write");
        assert!(matches!(
            run_build_script(&silent),
            Err(BinariesError::NoFolderPrinted { .. })
        ));
    }
}
