//! The build script of `kubectl-kkp` and `kkp-webhook` (both name it in their `Cargo.toml`):
//! records the git commit the binary is built from as `KKP_GIT_COMMIT` (`unknown` outside a git
//! checkout, for example when building from a source archive). Never fails the build.

use std::path::Path;
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    let text = text.trim();
    (out.status.success() && !text.is_empty()).then(|| text.to_owned())
}

fn main() {
    println!("cargo:rerun-if-changed=../build/git_commit.rs");
    // Rebuild when HEAD moves: HEAD itself (a branch switch or a detached checkout), the branch's
    // ref file and packed-refs (a commit). Only existing files: Cargo reruns on a missing one every time.
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
    let mut watched = vec!["HEAD".to_owned(), "packed-refs".to_owned()];
    watched.extend(git(&["symbolic-ref", "-q", "HEAD"]));
    for name in watched {
        if let Some(path) = git(&["rev-parse", "--git-path", &name]) {
            let path = Path::new(&dir).join(path);
            if path.is_file() {
                println!("cargo:rerun-if-changed={}", path.display());
            }
        }
    }
    let commit = git(&["rev-parse", "--short=12", "HEAD"]).unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=KKP_GIT_COMMIT={commit}");
}
