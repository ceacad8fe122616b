//! Logging for a watch that keeps failing: the first error is a warning, the repeats are quiet
//! until the watch recovers, so a cluster without the watched CRD does not fill the log.

/// The error state of one watch.
#[derive(Debug)]
pub struct WatchErrorLog {
    what: &'static str,
    failing: bool,
}

impl WatchErrorLog {
    /// `what` names the watched objects in the log lines, e.g. `"the KubermaticConfiguration"`.
    pub fn new(what: &'static str) -> Self {
        WatchErrorLog { what, failing: false }
    }

    /// Logs a failed attempt; returns whether it was logged as a warning (the first in a row).
    pub fn failed(&mut self, error: &dyn std::fmt::Display) -> bool {
        if self.failing {
            tracing::debug!(watch = self.what, %error, "watching still fails");
            false
        } else {
            tracing::warn!(watch = self.what, %error, "watching failed; retrying with back-off");
            self.failing = true;
            true
        }
    }

    /// Notes a successful event; the next failure is a warning again.
    pub fn recovered(&mut self) {
        if self.failing {
            tracing::info!(watch = self.what, "watching works again");
        }
        self.failing = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_first_failure_in_a_row_warns() {
        let mut log = WatchErrorLog::new("seeds");
        assert!(log.failed(&"404"));
        assert!(!log.failed(&"404"));
        log.recovered();
        assert!(log.failed(&"403"));
    }
}
