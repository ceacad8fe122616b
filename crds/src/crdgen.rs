//! Turns the derived CRDs into structural schemas the apiserver accepts, and renders them as the
//! YAML checked in under `crds/`.

use kube::CustomResourceExt;
use schemars::Schema;
use serde_json::{Map, Value, json};

/// Schema for a field that holds free-form JSON.
pub fn preserve_unknown(_: &mut schemars::SchemaGenerator) -> Schema {
    let mut map = Map::new();
    map.insert("x-kubernetes-preserve-unknown-fields".into(), Value::Bool(true));
    Schema::from(map)
}

/// Makes a derived OpenAPI schema structural: a struct with a flattened `other` map becomes an
/// object that preserves unknown fields, and free-form values are marked as such.
pub fn make_structural(schema: &mut Value) {
    let Some(obj) = schema.as_object_mut() else { return };
    if obj.contains_key("properties")
        && let Some(additional) = obj.remove("additionalProperties")
        && additional != Value::Bool(false)
    {
        obj.insert("x-kubernetes-preserve-unknown-fields".into(), Value::Bool(true));
    }
    for key in ["properties", "patternProperties"] {
        if let Some(Value::Object(props)) = obj.get_mut(key) {
            for (_, v) in props.iter_mut() {
                make_structural(v);
            }
        }
    }
    for key in ["items", "additionalProperties", "not"] {
        if let Some(v) = obj.get_mut(key) {
            make_structural(v);
        }
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        if let Some(Value::Array(items)) = obj.get_mut(key) {
            for v in items {
                make_structural(v);
            }
        }
    }
}

/// `*.k8s.io` groups are protected: the apiserver wants an API approval annotation, which a group
/// outside Kubernetes itself marks as unapproved.
const API_APPROVAL: &str = "api-approved.kubernetes.io";

fn render<K: CustomResourceExt>(note: &str) -> String {
    let mut crd = serde_json::to_value(K::crd()).expect("a CRD serialises");
    if let Some(versions) = crd.pointer_mut("/spec/versions").and_then(Value::as_array_mut) {
        for v in versions {
            if let Some(schema) = v.pointer_mut("/schema/openAPIV3Schema") {
                make_structural(schema);
            }
        }
    }
    let mut annotations = json!({ "kubectl-kkp.dev/note": note });
    if K::crd().spec.group.ends_with(".k8s.io") {
        annotations[API_APPROVAL] =
            json!("unapproved, machine-controller's API group, installed for tests and standalone use");
    }
    crd["metadata"]["annotations"] = annotations;
    let yaml = serde_yaml::to_string(&crd).expect("a CRD renders as YAML");
    format!("# Generated from the Rust types in crds/src by `cargo run -p kkp-crds --bin crdgen`. Do not edit.\n{yaml}")
}

/// Every CRD this project ships, as `(file name, YAML)`.
pub fn all() -> Vec<(&'static str, String)> {
    const FOR_TESTS: &str = "For tests and standalone use. On a KKP seed, KKP's own CRDs stay in charge.";
    vec![
        (
            "kubermatic.k8c.io_clusters.yaml",
            render::<crate::cluster::Cluster>(FOR_TESTS),
        ),
        (
            "cluster.k8s.io_machinedeployments.yaml",
            render::<crate::machine::MachineDeployment>(
                "For tests and standalone use. In a user cluster, machine-controller's own CRDs stay in charge.",
            ),
        ),
        (
            "policy.kubectl-kkp.io_admissionpolicies.yaml",
            render::<crate::policy::AdmissionPolicy>(
                "Admission policies for kkp-webhook; install them wherever the webhook runs.",
            ),
        ),
        (
            "cluster.k8s.io_machinesets.yaml",
            render::<crate::machine::MachineSet>(
                "For tests and standalone use. In a user cluster, machine-controller's own CRDs stay in charge.",
            ),
        ),
        (
            "cluster.k8s.io_machines.yaml",
            render::<crate::machine::Machine>(
                "For tests and standalone use. In a user cluster, machine-controller's own CRDs stay in charge.",
            ),
        ),
    ]
}
