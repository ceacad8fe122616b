//! Label selectors: matching, as a Deployment's selector must match its template's labels, and the
//! syntax of label keys and values (apimachinery's `IsQualifiedName` and `IsValidLabelValue`).

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

/// Whether the selector selects an object with these labels. An empty selector selects nothing
/// here, since machine-controller rejects it.
pub fn selector_matches(selector: &LabelSelector, labels: &BTreeMap<String, String>) -> bool {
    let mut constrained = false;
    for (k, v) in selector.match_labels.iter().flatten() {
        constrained = true;
        if labels.get(k) != Some(v) {
            return false;
        }
    }
    for expr in selector.match_expressions.iter().flatten() {
        constrained = true;
        let value = labels.get(&expr.key);
        let values = expr.values.as_deref().unwrap_or_default();
        let ok = match expr.operator.as_str() {
            "In" => value.is_some_and(|v| values.contains(v)),
            "NotIn" => value.is_none_or(|v| !values.contains(v)),
            "Exists" => value.is_some(),
            "DoesNotExist" => value.is_none(),
            _ => false,
        };
        if !ok {
            return false;
        }
    }
    constrained
}

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
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement;

    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn match_labels_and_expressions() {
        let sel = LabelSelector {
            match_labels: Some(labels(&[("name", "workers")])),
            match_expressions: Some(vec![LabelSelectorRequirement {
                key: "tier".into(),
                operator: "In".into(),
                values: Some(vec!["a".into(), "b".into()]),
            }]),
        };
        assert!(selector_matches(&sel, &labels(&[("name", "workers"), ("tier", "a")])));
        assert!(!selector_matches(&sel, &labels(&[("name", "workers"), ("tier", "c")])));
        assert!(!selector_matches(&sel, &labels(&[("name", "other"), ("tier", "a")])));
        assert!(!selector_matches(&LabelSelector::default(), &labels(&[("a", "b")])));
    }

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
