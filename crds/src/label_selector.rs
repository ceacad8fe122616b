//! Label selectors matched against labels, as a Deployment's selector must match its template's
//! labels and as a policy's selector picks the objects it applies to.

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
}
