//! Exemptions and reach of the webhook configurations: every webhook skips namespaces and objects
//! labelled `kkp-webhook.kubectl-kkp.io/exempt: "true"` except the exemptions webhook, which is sent
//! exactly the objects that carry it (so only exemption admins can put it on), the rules name
//! exactly the four resources the webhook judges (no wildcard that could reach the webhook's own
//! objects), and the webhook's own namespace carries the label, so it stays exempt should the rules
//! ever widen.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::admissionregistration::v1::{
    MutatingWebhookConfiguration, RuleWithOperations, ValidatingWebhookConfiguration,
};
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, LabelSelectorRequirement};
use kkp_manifests::{EXEMPT_LABEL, NAMESPACE, Variant, webhook_manifests};
use serde::Deserialize;
use serde_json::Value;

const VARIANTS: [Variant; 2] = [Variant::CertManager, Variant::GeneratedCerts];

fn documents(variant: Variant) -> Vec<Value> {
    webhook_manifests(variant)
        .into_iter()
        .flat_map(|(name, yaml)| {
            serde_yaml::Deserializer::from_str(yaml)
                .map(move |doc| Value::deserialize(doc).unwrap_or_else(|e| panic!("{name} does not parse: {e}")))
        })
        .collect()
}

/// One webhook of either configuration: its name, selectors and rules.
struct Hook {
    name: String,
    namespace_selector: Option<LabelSelector>,
    object_selector: Option<LabelSelector>,
    rules: Vec<RuleWithOperations>,
}

fn hooks(variant: Variant) -> Vec<Hook> {
    let mut out = Vec::new();
    for doc in documents(variant) {
        match doc["kind"].as_str() {
            Some("MutatingWebhookConfiguration") => {
                let c: MutatingWebhookConfiguration = serde_json::from_value(doc).expect("typed");
                out.extend(c.webhooks.unwrap_or_default().into_iter().map(|h| Hook {
                    name: h.name,
                    namespace_selector: h.namespace_selector,
                    object_selector: h.object_selector,
                    rules: h.rules.unwrap_or_default(),
                }));
            }
            Some("ValidatingWebhookConfiguration") => {
                let c: ValidatingWebhookConfiguration = serde_json::from_value(doc).expect("typed");
                out.extend(c.webhooks.unwrap_or_default().into_iter().map(|h| Hook {
                    name: h.name,
                    namespace_selector: h.namespace_selector,
                    object_selector: h.object_selector,
                    rules: h.rules.unwrap_or_default(),
                }));
            }
            _ => {}
        }
    }
    assert_eq!(out.len(), 5, "{variant:?}: one mutating and four validating webhooks");
    out
}

/// Whether a label selector selects these labels, as the apiserver decides it (`NotIn` and
/// `DoesNotExist` select objects without the key).
fn selects(selector: &LabelSelector, labels: &BTreeMap<String, String>) -> bool {
    let by_labels = selector
        .match_labels
        .iter()
        .flatten()
        .all(|(k, v)| labels.get(k) == Some(v));
    let by_expressions = selector.match_expressions.iter().flatten().all(|r| {
        let values = r.values.clone().unwrap_or_default();
        let value = labels.get(&r.key);
        match r.operator.as_str() {
            "In" => value.is_some_and(|v| values.contains(v)),
            "NotIn" => value.is_none_or(|v| !values.contains(v)),
            "Exists" => value.is_some(),
            "DoesNotExist" => value.is_none(),
            other => panic!("not a label selector operator: {other}"),
        }
    });
    by_labels && by_expressions
}

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

#[test]
fn the_exempt_label_is_the_documented_one() {
    assert_eq!(EXEMPT_LABEL, "kkp-webhook.kubectl-kkp.io/exempt");
}

#[test]
fn every_webhook_skips_exempt_namespaces_and_objects() {
    let exempting = LabelSelector {
        match_expressions: Some(vec![LabelSelectorRequirement {
            key: EXEMPT_LABEL.into(),
            operator: "NotIn".into(),
            values: Some(vec!["true".into()]),
        }]),
        match_labels: None,
    };
    for variant in VARIANTS {
        for hook in hooks(variant).into_iter().filter(|h| h.name != EXEMPTIONS_HOOK) {
            for (which, selector) in [
                ("namespaceSelector", &hook.namespace_selector),
                ("objectSelector", &hook.object_selector),
            ] {
                let selector = selector
                    .as_ref()
                    .unwrap_or_else(|| panic!("{variant:?} {}: no {which}", hook.name));
                assert_eq!(selector, &exempting, "{variant:?} {}: {which}", hook.name);
                // What it means: only the label with the value "true" exempts.
                assert!(!selects(selector, &labels(&[(EXEMPT_LABEL, "true")])));
                assert!(selects(selector, &labels(&[])));
                assert!(selects(selector, &labels(&[(EXEMPT_LABEL, "false")])));
                assert!(selects(selector, &labels(&[(EXEMPT_LABEL, "")])));
                assert!(selects(selector, &labels(&[("project-id", "xw2k9fgh4t")])));
            }
        }
    }
}

/// The webhook that lets only exemption admins put the exempt label on an object.
const EXEMPTIONS_HOOK: &str = "exemptions.kkp-webhook.kubectl-kkp.io";

#[test]
fn the_exemptions_webhook_is_sent_exactly_the_labelled_objects_outside_exempt_namespaces() {
    for variant in VARIANTS {
        let hook = hooks(variant)
            .into_iter()
            .find(|h| h.name == EXEMPTIONS_HOOK)
            .unwrap_or_else(|| panic!("{variant:?}: no {EXEMPTIONS_HOOK}"));
        let objects = hook.object_selector.expect("an objectSelector");
        assert!(selects(&objects, &labels(&[(EXEMPT_LABEL, "true")])));
        assert!(!selects(&objects, &labels(&[])));
        assert!(!selects(&objects, &labels(&[(EXEMPT_LABEL, "false")])));
        let namespaces = hook.namespace_selector.expect("a namespaceSelector");
        assert!(!selects(&namespaces, &labels(&[(EXEMPT_LABEL, "true")])));
        assert!(selects(&namespaces, &labels(&[])));
        let resources: BTreeSet<String> = hook
            .rules
            .iter()
            .flat_map(|r| r.resources.clone().unwrap_or_default())
            .collect();
        assert_eq!(
            resources,
            BTreeSet::from(["clusters".to_owned(), "machinedeployments".to_owned()]),
            "{variant:?}: the objects that can be exempted"
        );
    }
}

#[test]
fn the_rules_name_exactly_the_four_resources_the_webhook_judges() {
    let expected: BTreeSet<(String, String, String, String)> = [
        ("kubermatic.k8c.io", "v1", "clusters", "Cluster"),
        ("cluster.k8s.io", "v1alpha1", "machinedeployments", "Namespaced"),
        ("cluster.k8s.io", "v1alpha1", "machinedeployments/scale", "Namespaced"),
        ("policy.kubectl-kkp.io", "v1alpha1", "admissionpolicies", "Cluster"),
    ]
    .iter()
    .map(|(g, v, r, s)| (g.to_string(), v.to_string(), r.to_string(), s.to_string()))
    .collect();
    for variant in VARIANTS {
        let mut seen = BTreeSet::new();
        for hook in hooks(variant) {
            assert!(!hook.rules.is_empty(), "{variant:?} {}: no rules", hook.name);
            for rule in &hook.rules {
                let one = |field: &Option<Vec<String>>, what: &str| -> String {
                    let list = field
                        .as_ref()
                        .unwrap_or_else(|| panic!("{variant:?} {}: no {what}", hook.name));
                    assert_eq!(
                        list.len(),
                        1,
                        "{variant:?} {}: one {what} per rule: {list:?}",
                        hook.name
                    );
                    let item = list[0].clone();
                    assert!(
                        !item.contains('*') && !item.is_empty(),
                        "{variant:?} {}: {what} {item:?} could match anything (the core group included)",
                        hook.name
                    );
                    item
                };
                let scope = rule.scope.clone().unwrap_or_default();
                assert!(
                    scope == "Cluster" || scope == "Namespaced",
                    "{variant:?} {}: scope {scope:?} must be explicit",
                    hook.name
                );
                for op in rule.operations.iter().flatten() {
                    assert!(
                        op == "CREATE" || op == "UPDATE",
                        "{variant:?} {}: operation {op}",
                        hook.name
                    );
                }
                seen.insert((
                    one(&rule.api_groups, "apiGroups"),
                    one(&rule.api_versions, "apiVersions"),
                    one(&rule.resources, "resources"),
                    scope,
                ));
            }
        }
        assert_eq!(seen, expected, "{variant:?}");
    }
}

#[test]
fn the_webhooks_own_namespace_is_exempt() {
    for variant in VARIANTS {
        let namespace: Namespace = documents(variant)
            .into_iter()
            .find(|d| d["kind"] == "Namespace")
            .map(|d| serde_json::from_value(d).expect("a Namespace"))
            .expect("the namespace manifest");
        assert_eq!(namespace.metadata.name.as_deref(), Some(NAMESPACE));
        let ns_labels = namespace.metadata.labels.unwrap_or_default();
        assert_eq!(ns_labels.get(EXEMPT_LABEL).map(String::as_str), Some("true"));
        for hook in hooks(variant) {
            let selector = hook.namespace_selector.expect("a namespaceSelector");
            assert!(
                !selects(&selector, &ns_labels),
                "{variant:?} {}: would be called for objects in {NAMESPACE}",
                hook.name
            );
        }
    }
}
