//! `kubectl_complete-kkp`: lets kubectl's own shell completion complete `kubectl kkp …`.
//!
//! kubectl (1.26 and newer) runs this program with the words typed after `kubectl kkp`, the last
//! being the word to complete, and expects cobra's answer: one candidate per line, then a
//! directive line such as `:4`. The answer comes from `kubectl-kkp __complete`, which walks the
//! plugin's own command tree; this program only finds that binary (next to itself, else on PATH)
//! and hands the words over.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::{Command, ExitCode};

const PLUGIN: &str = "kubectl-kkp";

fn plugin_binary() -> Option<PathBuf> {
    let name = format!("{PLUGIN}{}", std::env::consts::EXE_SUFFIX);
    let beside = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join(&name)));
    if let Some(path) = beside.filter(|p| p.is_file()) {
        return Some(path);
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(&name))
        .find(|p| p.is_file())
}

fn main() -> ExitCode {
    let words: Vec<OsString> = std::env::args_os().skip(1).collect();
    let Some(plugin) = plugin_binary() else {
        eprintln!("kubectl_complete-kkp: cannot find {PLUGIN} next to this program or on PATH");
        println!(":4");
        return ExitCode::from(1);
    };
    match Command::new(&plugin).arg("__complete").arg("--").args(&words).status() {
        Ok(status) => ExitCode::from(status.code().and_then(|c| u8::try_from(c).ok()).unwrap_or(1)),
        Err(e) => {
            eprintln!("kubectl_complete-kkp: cannot run {}: {e}", plugin.display());
            println!(":4");
            ExitCode::from(1)
        }
    }
}
