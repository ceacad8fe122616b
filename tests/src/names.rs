//! Unique object names, so tests sharing a control plane never collide (and never reuse a
//! namespace that may still be terminating).

use std::hash::{BuildHasher as _, Hasher as _};
use std::sync::atomic::{AtomicU64, Ordering};

/// Longest Kubernetes name that is a DNS label.
const MAX_LABEL: usize = 63;

/// Length of the random suffix.
const SUFFIX: usize = 8;

/// `<prefix>-<8 random base-36 chars>`, a valid DNS-1123 label (lower-cased, other
/// characters turned into `-`, the prefix shortened to fit 63 characters).
pub fn unique_name(prefix: &str) -> String {
    let mut clean: String = prefix
        .chars()
        .map(|c| {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_alphanumeric() { c } else { '-' }
        })
        .collect();
    clean.truncate(MAX_LABEL - SUFFIX - 1);
    let clean = clean.trim_matches('-');
    let suffix = random_suffix();
    if clean.is_empty() {
        // A label must start with a letter for some resources (e.g. namespaces are fine
        // with digits, Services are not), so keep a letter first.
        format!("x{}", &suffix[1..])
    } else {
        format!("{clean}-{suffix}")
    }
}

fn random_suffix() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    // RandomState is seeded randomly per instance; mixing in a counter and the time makes
    // every call distinct even if the seed repeated.
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    hasher.write_u32(std::process::id());
    if let Ok(t) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        hasher.write_u128(t.as_nanos());
    }
    let mut n = hasher.finish();
    let alphabet = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = String::with_capacity(SUFFIX);
    // The first character is a letter.
    out.push(alphabet[10 + (n % 26) as usize] as char);
    n /= 26;
    for _ in 1..SUFFIX {
        out.push(alphabet[(n % 36) as usize] as char);
        n /= 36;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn is_dns_label(s: &str) -> bool {
        !s.is_empty()
            && s.len() <= MAX_LABEL
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !s.starts_with('-')
            && !s.ends_with('-')
    }

    #[test]
    fn names_are_unique_dns_labels() {
        let names: HashSet<String> = (0..1000).map(|_| unique_name("kkp-test")).collect();
        assert_eq!(names.len(), 1000);
        for n in &names {
            assert!(n.starts_with("kkp-test-"), "{n}");
            assert!(is_dns_label(n), "{n}");
        }
    }

    #[test]
    fn odd_prefixes_are_cleaned_and_shortened() {
        let n = unique_name("My_Test.Case!");
        assert!(n.starts_with("my-test-case-"), "{n}");
        assert!(is_dns_label(&n), "{n}");
        let long = unique_name(&"a".repeat(100));
        assert_eq!(long.len(), MAX_LABEL);
        assert!(is_dns_label(&long), "{long}");
        let empty = unique_name("--");
        assert!(is_dns_label(&empty), "{empty}");
        assert!(empty.starts_with(|c: char| c.is_ascii_lowercase()), "{empty}");
    }
}
