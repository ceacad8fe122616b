//! Memory around large reviews. The binary installs how its allocator behaves while large reviews
//! are in flight (its allocator knows how); the library only says when: from the first large review
//! that starts until the last one ends.

use std::sync::{Mutex, OnceLock};

/// What the allocator does around large reviews.
#[derive(Clone, Copy, Debug)]
pub struct Hooks {
    /// The first large review starts (none was in flight).
    pub first_started: fn(),
    /// The last large review in flight ended; its values are dropped.
    pub last_ended: fn(),
}

static HOOKS: OnceLock<Hooks> = OnceLock::new();
static IN_FLIGHT: InFlight = InFlight::new();

/// Installs the hooks. The first call wins; without one, large reviews change nothing.
pub fn install(hooks: Hooks) {
    let _ = HOOKS.set(hooks);
}

/// Held while a large review is evaluated.
#[must_use = "the review counts as in flight until this is dropped"]
pub struct LargeReview(&'static InFlight, Option<&'static Hooks>);

/// Marks a large review as in flight until the returned guard is dropped.
pub fn large_review() -> LargeReview {
    let hooks = HOOKS.get();
    IN_FLIGHT.start(hooks);
    LargeReview(&IN_FLIGHT, hooks)
}

impl Drop for LargeReview {
    fn drop(&mut self) {
        self.0.end(self.1);
    }
}

/// Large reviews in flight. A lock rather than an atomic, so that a review starting while the last
/// one ends sees the hooks run in order; large reviews are rare.
struct InFlight(Mutex<usize>);

impl InFlight {
    const fn new() -> Self {
        InFlight(Mutex::new(0))
    }

    fn start(&self, hooks: Option<&Hooks>) {
        let mut count = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if *count == 0
            && let Some(hooks) = hooks
        {
            (hooks.first_started)();
        }
        *count += 1;
    }

    fn end(&self, hooks: Option<&Hooks>) {
        let mut count = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *count = count.saturating_sub(1);
        if *count == 0
            && let Some(hooks) = hooks
        {
            (hooks.last_ended)();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    static STARTED: AtomicUsize = AtomicUsize::new(0);
    static ENDED: AtomicUsize = AtomicUsize::new(0);

    #[test]
    fn the_hooks_run_when_the_first_large_review_starts_and_the_last_one_ends() {
        let hooks = Hooks {
            first_started: || {
                STARTED.fetch_add(1, Ordering::SeqCst);
            },
            last_ended: || {
                ENDED.fetch_add(1, Ordering::SeqCst);
            },
        };
        let in_flight = InFlight::new();
        in_flight.start(Some(&hooks));
        in_flight.start(Some(&hooks));
        assert_eq!(STARTED.load(Ordering::SeqCst), 1, "only the first start runs the hook");
        in_flight.end(Some(&hooks));
        assert_eq!(ENDED.load(Ordering::SeqCst), 0, "one is still in flight");
        in_flight.end(Some(&hooks));
        assert_eq!(ENDED.load(Ordering::SeqCst), 1);
        in_flight.start(Some(&hooks));
        in_flight.end(Some(&hooks));
        assert_eq!((STARTED.load(Ordering::SeqCst), ENDED.load(Ordering::SeqCst)), (2, 2));
        // Without hooks the count still goes up and down.
        in_flight.start(None);
        in_flight.end(None);
        assert_eq!(*in_flight.0.lock().unwrap(), 0);
    }
}
