//! The Go tools the chart and image tests run (helm, crane): built from their Go modules by
//! `scripts/tools.sh` on first use and cached; `KKP_HELM` or `KKP_CRANE` name a prebuilt binary.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::error::{HarnessError, tail_lines};

/// The build script, relative to this crate.
fn script_path() -> PathBuf {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    crate_dir.parent().unwrap_or(crate_dir).join("scripts").join("tools.sh")
}

/// `helm`, built on first use.
pub fn helm() -> Result<&'static Path, HarnessError> {
    static HELM: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    located(&HELM, "helm", "KKP_HELM")
}

/// `crane`, built on first use.
pub fn crane() -> Result<&'static Path, HarnessError> {
    static CRANE: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    located(&CRANE, "crane", "KKP_CRANE")
}

fn located(
    cell: &'static OnceLock<Result<PathBuf, String>>,
    tool: &str,
    env: &str,
) -> Result<&'static Path, HarnessError> {
    cell.get_or_init(|| locate(tool, env))
        .as_ref()
        .map(PathBuf::as_path)
        .map_err(|e| HarnessError::InvalidInput(e.clone()))
}

fn locate(tool: &str, env: &str) -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os(env).filter(|v| !v.is_empty()) {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(format!("${env} names {}, which is not a file", path.display()))
        };
    }
    let script = script_path();
    let output = Command::new("bash")
        .arg(&script)
        .arg(tool)
        .output()
        .map_err(|e| format!("could not run {}: {e}", script.display()))?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        return Err(format!(
            "{} {tool} failed ({}); is Go installed and the Go module proxy reachable? Set ${env} to a prebuilt \
             {tool} to skip the build. Last lines of its output:\n{}",
            script.display(),
            output.status,
            tail_lines(&stderr, 20)
        ));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let path = stdout
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .map(|l| PathBuf::from(l.trim()));
    match path {
        Some(path) if path.is_file() => Ok(path),
        _ => Err(format!(
            "{} {tool} printed no binary path; its output:\n{}",
            script.display(),
            tail_lines(&stderr, 20)
        )),
    }
}
