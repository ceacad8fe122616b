//! The syntax of label keys and values (apimachinery's `IsQualifiedName` and `IsValidLabelValue`).

/// A name part or label value: at most 63 characters, alphanumerics, `-`, `_` and `.`, starting and
/// ending with an alphanumeric.
fn is_name_part(s: &str) -> bool {
    let alnum = |c: char| c.is_ascii_alphanumeric();
    s.len() <= 63
        && s.starts_with(alnum)
        && s.ends_with(alnum)
        && s.chars().all(|c| alnum(c) || matches!(c, '-' | '_' | '.'))
}

/// Why `key` is not a label key (`[prefix/]name`, the prefix a DNS subdomain), if it is not.
pub fn label_key_problem(key: &str) -> Option<String> {
    let (prefix, name) = match key.split_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    if let Some(prefix) = prefix
        && !super::names::is_dns1123_subdomain(prefix)
    {
        return Some("prefix part must be a DNS-1123 subdomain".to_owned());
    }
    if name.is_empty() {
        return Some("name part must be non-empty".to_owned());
    }
    if name.len() > 63 {
        return Some("name part must be no more than 63 characters".to_owned());
    }
    (!is_name_part(name)).then(|| {
        "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an \
         alphanumeric character"
            .to_owned()
    })
}

/// Why `value` is not a label value, if it is not. The empty value is one.
pub fn label_value_problem(value: &str) -> Option<String> {
    if value.is_empty() || is_name_part(value) {
        return None;
    }
    Some(if value.len() > 63 {
        "must be no more than 63 characters".to_owned()
    } else {
        "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must \
         start and end with an alphanumeric character"
            .to_owned()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_syntax() {
        for ok in ["machine", "k8c.io/aws-spot", "a_b.c-d", "A1"] {
            assert_eq!(label_key_problem(ok), None, "{ok}");
        }
        for bad in ["", "a b", "-a", "Bad_Prefix/x", "k8c.io/", &"x".repeat(64)] {
            assert!(label_key_problem(bad).is_some(), "{bad}");
        }
        for ok in ["", "md-worker", "v1.2"] {
            assert_eq!(label_value_problem(ok), None, "{ok}");
        }
        for bad in ["a b", "-a", "a-", &"x".repeat(64)] {
            assert!(label_value_problem(bad).is_some(), "{bad}");
        }
    }
}
