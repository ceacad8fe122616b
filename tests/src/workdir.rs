//! The temp dir of a control plane: its layout, the PKI files, and the removal of dirs
//! left behind by test processes that were killed.

use std::path::{Path, PathBuf};

use crate::error::HarnessError;
use crate::pki::Pki;

/// Temp dirs of control planes start with this.
pub(crate) const TEMP_PREFIX: &str = "kkp-e2e-";

/// The file in a control plane's temp dir holding the pid of the test process that owns it.
pub(crate) const OWNER_FILE: &str = "owner.pid";

/// The paths of the files written from the PKI.
pub(crate) struct PkiFiles {
    pub(crate) serving_ca: PathBuf,
    pub(crate) apiserver_cert: PathBuf,
    pub(crate) apiserver_key: PathBuf,
    pub(crate) client_ca: PathBuf,
    pub(crate) sa_private_key: PathBuf,
    pub(crate) sa_public_key: PathBuf,
}

/// Once per process: removes control-plane temp dirs left behind by test processes that
/// were killed (their owner pid no longer exists). Their children died with them.
pub(crate) fn sweep_stale_dirs_once() {
    static SWEPT: std::sync::Once = std::sync::Once::new();
    SWEPT.call_once(|| sweep_stale_dirs(&std::env::temp_dir()));
}

pub(crate) fn sweep_stale_dirs(temp_root: &Path) {
    let Ok(entries) = std::fs::read_dir(temp_root) else {
        return;
    };
    for entry in entries.flatten() {
        if !entry.file_name().to_string_lossy().starts_with(TEMP_PREFIX) {
            continue;
        }
        let dir = entry.path();
        let Some(pid) = std::fs::read_to_string(dir.join(OWNER_FILE))
            .ok()
            .and_then(|s| s.trim().parse::<libc::pid_t>().ok())
        else {
            continue;
        };
        // SAFETY: signal 0 only checks whether the pid exists.
        let gone =
            unsafe { libc::kill(pid, 0) } != 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH);
        if gone {
            tracing::info!(dir = %dir.display(), pid, "removing a stale control-plane dir");
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
}

pub(crate) fn mkdir(path: &Path) -> Result<(), HarnessError> {
    std::fs::create_dir_all(path).map_err(|e| HarnessError::io(format!("creating {}", path.display()), e))
}

pub(crate) fn write_file(path: &Path, contents: &str) -> Result<(), HarnessError> {
    std::fs::write(path, contents).map_err(|e| HarnessError::io(format!("writing {}", path.display()), e))
}

pub(crate) fn write_pki(dir: &Path, pki: &Pki) -> Result<PkiFiles, HarnessError> {
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

/// `name` reduced to characters safe in a file name.
pub(crate) fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitize_keeps_file_names_safe() {
        assert_eq!(sanitize("system:serviceaccount:a/b"), "system_serviceaccount_a_b");
        assert_eq!(sanitize("alice-1_x"), "alice-1_x");
    }

    #[test]
    fn stale_dirs_of_dead_owners_are_swept() {
        let root = tempfile::tempdir().expect("tempdir");
        let dead = root.path().join("kkp-e2e-dead-x");
        let alive = root.path().join("kkp-e2e-alive-x");
        let foreign = root.path().join("kkp-e2e-no-owner");
        let other = root.path().join("something-else");
        for d in [&dead, &alive, &foreign, &other] {
            std::fs::create_dir(d).expect("mkdir");
        }
        // A reaped child's pid is free (until reused, which a test run will not hit).
        let mut child = std::process::Command::new("true").spawn().expect("spawn");
        let dead_pid = child.id();
        child.wait().expect("wait");
        std::fs::write(dead.join(OWNER_FILE), dead_pid.to_string()).expect("write");
        std::fs::write(alive.join(OWNER_FILE), std::process::id().to_string()).expect("write");
        std::fs::write(other.join(OWNER_FILE), dead_pid.to_string()).expect("write");
        sweep_stale_dirs(root.path());
        assert!(!dead.exists());
        assert!(alive.exists());
        assert!(foreign.exists());
        assert!(other.exists());
    }
}
