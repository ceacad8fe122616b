//! Kubernetes name rules.

/// RFC 1035 label: lower case alphanumerics and '-', starting with a letter, ending with an
/// alphanumeric, at most 63 characters.
pub fn is_dns1035_label(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_lowercase()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[b.len() - 1] != b'-'
}

/// RFC 1123 subdomain: dot-separated RFC 1123 labels, at most 253 characters.
pub fn is_dns1123_subdomain(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|l| {
            let b = l.as_bytes();
            !b.is_empty()
                && b.len() <= 63
                && b[0].is_ascii_alphanumeric()
                && b[b.len() - 1].is_ascii_alphanumeric()
                && b.iter()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        assert!(is_dns1035_label("a2b-c"));
        assert!(!is_dns1035_label("2abc"));
        assert!(!is_dns1035_label("abc-"));
        assert!(!is_dns1035_label("aBc"));
        assert!(!is_dns1035_label(""));
        assert!(is_dns1123_subdomain("md-1.example"));
        assert!(!is_dns1123_subdomain("md_1"));
    }
}
