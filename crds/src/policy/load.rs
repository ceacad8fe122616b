//! Policy documents, as read from files or from the API, into the policies in force: the one way
//! the plugin and the webhook build a [`PolicySet`], so both enforce the same policies and say the
//! same about the ones they leave out.

use kube::ResourceExt;
use serde::Deserialize as _;
use serde_json::Value;

use super::compile::{PolicyError, compile};
use super::resource::AdmissionPolicy;
use super::set::PolicySet;
use super::violation::Enforcement;

/// The API group of `AdmissionPolicy`.
pub const POLICY_GROUP: &str = "policy.kubectl-kkp.io";

/// Whether a document is an `AdmissionPolicy` (of any version of its group).
pub fn is_policy_document(value: &Value) -> bool {
    value.get("kind").and_then(Value::as_str) == Some("AdmissionPolicy")
        && value
            .get("apiVersion")
            .and_then(Value::as_str)
            .and_then(|v| v.split_once('/'))
            .is_some_and(|(group, _)| group == POLICY_GROUP)
}

/// What became of one policy document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Loaded {
    /// `metadata.name`; empty when the document has none.
    pub name: String,
    /// `spec.enforcement`, the default (Deny) when the document does not parse.
    pub enforcement: Enforcement,
    /// Why the policy is not in force: it does not parse or does not compile.
    pub error: Option<PolicyError>,
}

impl Loaded {
    pub fn in_force(&self) -> bool {
        self.error.is_none()
    }
}

impl PolicySet {
    /// Parses and compiles every document; the set holds the ones that compiled, and there is one
    /// [`Loaded`] per document, in order, saying which did not and why. A policy that does not
    /// parse or compile does not stop the others.
    pub fn from_documents<'a>(documents: impl IntoIterator<Item = &'a Value>) -> (PolicySet, Vec<Loaded>) {
        let mut compiled = Vec::new();
        let mut loaded = Vec::new();
        for document in documents {
            let parsed = AdmissionPolicy::deserialize_document(document);
            let (name, enforcement, result) = match parsed {
                Ok(policy) => (
                    policy.name_any(),
                    policy.spec.enforcement.unwrap_or_default(),
                    compile(&policy),
                ),
                Err(error) => (
                    document
                        .pointer("/metadata/name")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                    Enforcement::default(),
                    Err(error),
                ),
            };
            let error = match result {
                Ok(policy) => {
                    compiled.push(policy);
                    None
                }
                Err(e) => Some(e),
            };
            loaded.push(Loaded {
                name,
                enforcement,
                error,
            });
        }
        (PolicySet::sorted(compiled), loaded)
    }
}

impl AdmissionPolicy {
    /// The policy in a document, or why it is not one.
    fn deserialize_document(document: &Value) -> Result<AdmissionPolicy, PolicyError> {
        AdmissionPolicy::deserialize(document).map_err(|e| PolicyError {
            problems: vec![format!("the policy does not parse: {e}")],
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn document(name: &str, spec: Value) -> Value {
        json!({"apiVersion": "policy.kubectl-kkp.io/v1alpha1", "kind": "AdmissionPolicy",
               "metadata": {"name": name}, "spec": spec})
    }

    #[test]
    fn documents_become_the_set_and_one_outcome_each() {
        let documents = [
            document(
                "z-only-aws",
                json!({"enforcement": "Warn", "rules": {"providers": ["aws"]}}),
            ),
            document("bad", json!({"rules": {"kubernetesVersions": "latest"}})),
            document("unparsable", json!({"rules": {"maxReplicas": "many"}})),
            document("a-few", json!({"rules": {"maxReplicas": 3}})),
        ];
        let (set, loaded) = PolicySet::from_documents(&documents);
        let names: Vec<&str> = set.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["a-few", "z-only-aws"], "in force, sorted by name");
        assert_eq!(loaded.len(), 4);
        assert_eq!(loaded[0].enforcement, Enforcement::Warn);
        assert!(loaded[0].in_force() && loaded[3].in_force());
        let error = |i: usize| loaded[i].error.as_ref().map(ToString::to_string).unwrap_or_default();
        assert!(error(1).starts_with("rules.kubernetesVersions: "), "{}", error(1));
        assert!(error(2).starts_with("the policy does not parse: "), "{}", error(2));
        assert_eq!(loaded[2].name, "unparsable");
    }

    #[test]
    fn policy_documents_are_told_apart() {
        assert!(is_policy_document(&document("p", json!({}))));
        assert!(!is_policy_document(
            &json!({"apiVersion": "other.io/v1", "kind": "AdmissionPolicy"})
        ));
        assert!(!is_policy_document(
            &json!({"apiVersion": "kubermatic.k8c.io/v1", "kind": "Cluster"})
        ));
    }
}
