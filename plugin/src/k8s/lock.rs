//! kubectl's lock on a kubeconfig file while it is changed: `<file>.lock`, created exclusively
//! (`O_CREAT|O_EXCL`, as client-go's clientcmd does) and removed once the file is written, so
//! that `kubectl config` and concurrent `kubectl kkp get kubeconfig --merge` runs never lose each
//! other's entries.
//!
//! Where client-go gives up at once, a taken lock is tried again for a while, since another merge
//! takes a moment only. A lock file older than [`STALE_AFTER`] is most likely left over from a
//! program that stopped while writing; it is reported, naming the file, rather than removed, as
//! removing it is only safe when no kubectl is running.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

/// How long a taken lock is tried again.
pub const WAIT: Duration = Duration::from_secs(10);
/// A lock file this old is reported as left over.
pub const STALE_AFTER: Duration = Duration::from_secs(60);
/// How long to sleep between tries.
const RETRY_EVERY: Duration = Duration::from_millis(20);

/// Why the lock was not taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "{file} is locked: the lock file {lock} was made {age} ago, so a kubectl or kubectl-kkp probably stopped \
         while writing it; if none is running, remove {lock} and try again"
    )]
    Stale { file: String, lock: String, age: String },
    #[error(
        "{file} is being changed by another program (the lock file {lock} exists) and it did not finish within {waited}; \
         try again, or remove {lock} if no kubectl is running"
    )]
    Busy { file: String, lock: String, waited: String },
    #[error("cannot make the lock file {lock}: {source}")]
    Io {
        lock: String,
        #[source]
        source: std::io::Error,
    },
}

/// A held lock; dropping it removes the lock file, on success and on error alike.
#[derive(Debug)]
pub struct FileLock {
    path: PathBuf,
}

/// The lock file of `file`: its path with `.lock` appended.
pub fn lock_path(file: &Path) -> PathBuf {
    let mut name = OsString::from(file.as_os_str());
    name.push(".lock");
    PathBuf::from(name)
}

impl FileLock {
    /// Takes the lock of `file`, trying again for up to `wait` while another program holds it.
    pub fn acquire(file: &Path, wait: Duration, stale_after: Duration) -> Result<FileLock, LockError> {
        let path = lock_path(file);
        let shown = || path.display().to_string();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| LockError::Io { lock: shown(), source })?;
        }
        let started = Instant::now();
        loop {
            match create_exclusive(&path) {
                Ok(()) => return Ok(FileLock { path }),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(source) => return Err(LockError::Io { lock: shown(), source }),
            }
            if let Some(age) = age_of(&path).filter(|age| *age >= stale_after) {
                return Err(LockError::Stale {
                    file: file.display().to_string(),
                    lock: shown(),
                    age: super::duration::format(Duration::from_secs(age.as_secs())),
                });
            }
            if started.elapsed() >= wait {
                return Err(LockError::Busy {
                    file: file.display().to_string(),
                    lock: shown(),
                    waited: super::duration::format(wait),
                });
            }
            std::thread::sleep(RETRY_EVERY);
        }
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_file(&self.path) {
            tracing::warn!(lock = %self.path.display(), error = %e, "could not remove the lock file");
        }
    }
}

fn create_exclusive(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt as _;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map(drop)
}

/// How long ago the lock file was made (last modified); `None` when it is gone or has no time.
fn age_of(path: &Path) -> Option<Duration> {
    let modified = std::fs::metadata(path).ok()?.modified().ok()?;
    SystemTime::now().duration_since(modified).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lock_is_the_file_name_with_lock_appended_and_goes_away_when_dropped() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("sub").join("config");
        let lock = lock_path(&file);
        assert_eq!(lock, dir.path().join("sub").join("config.lock"));
        let held = FileLock::acquire(&file, Duration::ZERO, STALE_AFTER).expect("taken");
        assert!(lock.is_file(), "the lock file exists while held");
        drop(held);
        assert!(!lock.exists(), "the lock file is removed");
        FileLock::acquire(&file, Duration::ZERO, STALE_AFTER).expect("taken again");
    }

    #[test]
    fn a_held_lock_is_not_taken_twice_and_the_error_names_the_lock_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("config");
        let _held = FileLock::acquire(&file, Duration::ZERO, STALE_AFTER).expect("taken");
        let err = FileLock::acquire(&file, Duration::ZERO, STALE_AFTER).expect_err("busy");
        assert!(matches!(err, LockError::Busy { .. }), "{err}");
        let text = err.to_string();
        assert!(
            text.contains(&format!("the lock file {}.lock exists", file.display())),
            "{text}"
        );
        assert!(
            lock_path(&file).exists(),
            "a failed attempt leaves the holder's lock alone"
        );
    }

    #[test]
    fn an_old_lock_file_is_reported_as_left_over_and_not_removed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("config");
        let lock = lock_path(&file);
        let old = std::fs::File::create(&lock).expect("create");
        old.set_modified(SystemTime::now() - Duration::from_secs(3600))
            .expect("set the time");
        let err = FileLock::acquire(&file, WAIT, STALE_AFTER).expect_err("stale");
        assert!(matches!(err, LockError::Stale { .. }), "{err}");
        let text = err.to_string();
        assert!(text.contains("made 1h ago"), "{text}");
        assert!(
            text.contains(&format!("remove {} and try again", lock.display())),
            "{text}"
        );
        assert!(lock.exists(), "the lock file is left for the user to judge");
    }
}
