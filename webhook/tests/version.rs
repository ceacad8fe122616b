//! `kkp-webhook --version`: the version, the git commit and the built-in catalog's KKP release.

use std::process::Command;

#[test]
fn version_names_the_commit_and_the_catalog() {
    let out = Command::new(env!("CARGO_BIN_EXE_kkp-webhook"))
        .arg("--version")
        .env_clear()
        .output()
        .expect("kkp-webhook runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let commit = env!("KKP_GIT_COMMIT");
    assert!(!commit.is_empty());
    assert_eq!(
        stdout,
        format!(
            "kkp-webhook {} (commit {commit}, catalog {})\n",
            env!("CARGO_PKG_VERSION"),
            kkp_crds::versions::BUILTIN_KKP_RELEASE
        )
    );
}
