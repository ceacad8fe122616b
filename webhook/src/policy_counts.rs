//! Counting on the request path: how many objects each admission policy selected and denied,
//! kept in memory until the policy watch adds them to the policies' status.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::answer::{Answer, Endpoint};

/// Matched and denied objects of one policy.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub matched: u64,
    pub denied: u64,
}

/// Counts per policy since they were last written to the policies' status.
#[derive(Debug, Default)]
pub struct PolicyCounters {
    counts: Mutex<HashMap<String, Counts>>,
}

impl PolicyCounters {
    /// Records one object that `matched` policies selected, of which `denied` denied it.
    pub fn record(&self, matched: &[&str], denied: &[&str]) {
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        for name in matched {
            let c = match counts.get_mut(*name) {
                Some(c) => c,
                None => counts.entry((*name).to_owned()).or_default(),
            };
            c.matched += 1;
            if denied.contains(name) {
                c.denied += 1;
            }
        }
    }

    /// Takes the counts, leaving zero behind.
    pub fn take(&self) -> HashMap<String, Counts> {
        std::mem::take(&mut *self.counts.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Puts back counts that could not be written.
    pub fn give_back(&self, name: &str, back: Counts) {
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        let c = counts.entry(name.to_owned()).or_default();
        c.matched += back.matched;
        c.denied += back.denied;
    }

    /// The counts not yet written (for tests and logs).
    pub fn snapshot(&self) -> HashMap<String, Counts> {
        self.counts.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// Counts a validating review against the policies that selected its object, as the engine
/// reported them in its verdict. Dry runs are not counted: the counts end up in the policies'
/// status, and the webhook promises the apiserver no side effects on dry runs.
pub fn observe(counters: &PolicyCounters, endpoint: Endpoint, dry_run: bool, answer: &Answer) {
    if endpoint != Endpoint::Validate || dry_run || answer.matched_policies.is_empty() {
        return;
    }
    let matched: Vec<&str> = answer.matched_policies.iter().map(String::as_str).collect();
    let denied: Vec<&str> = answer.denied_policies.iter().map(String::as_str).collect();
    counters.record(&matched, &denied);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_take_and_give_back() {
        let c = PolicyCounters::default();
        c.record(&["a", "b"], &["b"]);
        c.record(&["a"], &[]);
        let taken = c.take();
        assert_eq!(taken["a"], Counts { matched: 2, denied: 0 });
        assert_eq!(taken["b"], Counts { matched: 1, denied: 1 });
        assert!(c.snapshot().is_empty());
        c.give_back("b", taken["b"]);
        c.record(&["b"], &["b"]);
        assert_eq!(c.snapshot()["b"], Counts { matched: 2, denied: 2 });
    }
}
