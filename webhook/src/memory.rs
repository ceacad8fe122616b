//! Giving memory back to the system after a large review. The binary installs how (its allocator
//! knows); the library only says when: after each review evaluated off the async workers.

use std::sync::OnceLock;

static RELEASE: OnceLock<fn()> = OnceLock::new();

/// Installs `release`, run after each large review once its values are dropped. The first call
/// wins; without one, nothing is released explicitly.
pub fn set_release(release: fn()) {
    let _ = RELEASE.set(release);
}

/// Gives the memory of a finished large review back, when the binary said how.
pub fn release() {
    if let Some(release) = RELEASE.get() {
        release();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    static CALLS: AtomicUsize = AtomicUsize::new(0);

    #[test]
    fn the_installed_release_runs_and_the_first_one_wins() {
        release();
        set_release(|| {
            CALLS.fetch_add(1, Ordering::SeqCst);
        });
        set_release(|| panic!("a second release is ignored"));
        release();
        release();
        // At least these two: other tests of this process may release after large reviews too.
        assert!(CALLS.load(Ordering::SeqCst) >= 2);
    }
}
