//! The real upstream objects: every KKP Cluster and machine-controller MachineDeployment parses into
//! the typed resources and serialises back without losing a field; other groups' objects are
//! recognised as not ours. The files are read in place from the shared examples folder.

use std::path::PathBuf;

use kkp_crds::request::ResourceKind;
use kkp_crds::{Cluster, MachineDeployment};
use pretty_assertions::assert_eq;
use serde::Deserialize;
use serde_json::Value;

fn examples_dir() -> PathBuf {
    // `scripts/test.sh` finds the folder and exports it; a plain `cargo test` uses the checkout's sibling.
    std::env::var_os("KKP_UPSTREAM_EXAMPLES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/upstream-examples"))
}

fn yaml_files() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![examples_dir()];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()));
        for entry in entries {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// Every YAML document of a file that is an object with a kind; Cluster API templates carry
/// `${VARIABLES}` and still parse as YAML.
fn documents(path: &PathBuf) -> Vec<Value> {
    let text = std::fs::read_to_string(path).expect("readable");
    serde_yaml::Deserializer::from_str(&text)
        .filter_map(|d| Value::deserialize(d).ok())
        .filter(|v| v.get("kind").is_some())
        .collect()
}

/// YAML may say `1` where the typed field is a string and the like; compare as JSON after one
/// normalising round through the types.
fn roundtrip<T: serde::de::DeserializeOwned + serde::Serialize>(value: &Value) -> Value {
    let typed: T = serde_json::from_value(value.clone()).unwrap_or_else(|e| panic!("does not parse: {e}"));
    serde_json::to_value(typed).expect("serialises")
}

/// Drops `null`s, which carry nothing and which the types leave out.
fn without_nulls(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), without_nulls(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}

#[test]
fn upstream_objects_round_trip_without_losing_a_field() {
    let (mut clusters, mut mds, mut others) = (0, 0, 0);
    for path in yaml_files() {
        for doc in documents(&path) {
            let name = format!("{} in {}", doc["kind"], path.display());
            match ResourceKind::of(&doc) {
                ResourceKind::Cluster => {
                    clusters += 1;
                    assert_eq!(
                        without_nulls(&roundtrip::<Cluster>(&doc)),
                        without_nulls(&doc),
                        "{name}"
                    );
                }
                ResourceKind::MachineDeployment => {
                    mds += 1;
                    assert_eq!(
                        without_nulls(&roundtrip::<MachineDeployment>(&doc)),
                        without_nulls(&doc),
                        "{name}"
                    );
                }
                ResourceKind::Other { .. } => others += 1,
            }
        }
    }
    assert!(clusters >= 10, "expected the upstream Clusters, found {clusters}");
    assert!(mds >= 15, "expected the upstream MachineDeployments, found {mds}");
    assert!(others >= 5, "expected other groups' objects, found {others}");
}

#[test]
fn upstream_objects_pass_the_type_check() {
    let mut checked = 0;
    for path in yaml_files() {
        for doc in documents(&path) {
            let kind = ResourceKind::of(&doc);
            if !kind.is_ours() {
                continue;
            }
            checked += 1;
            let errors: Vec<String> = kkp_crds::type_check::type_errors(&kind, &doc)
                .into_iter()
                .map(|e| e.error.to_string())
                .collect();
            assert_eq!(errors, Vec::<String>::new(), "{} in {}", doc["kind"], path.display());
        }
    }
    assert!(
        checked >= 25,
        "expected the upstream Clusters and MachineDeployments, found {checked}"
    );
}

#[test]
fn a_lookalike_cluster_is_not_ours() {
    let docs = documents(&examples_dir().join("lookalike-kind-config-cluster.yaml"));
    assert!(!docs.is_empty());
    for doc in docs {
        assert_eq!(doc["kind"], "Cluster");
        assert!(!ResourceKind::of(&doc).is_ours(), "{}", doc["apiVersion"]);
        let verdict = kkp_crds::admit(&kkp_crds::Request::create(&doc), &Default::default());
        assert!(verdict.allowed());
        assert!(verdict.skipped.is_some());
        assert!(verdict.patch.0.is_empty());
    }
}

#[test]
fn capi_template_clusters_are_not_ours() {
    let path = examples_dir().join("capi/kubernetes/release/cluster-template.yaml");
    let kinds: Vec<ResourceKind> = documents(&path).iter().map(ResourceKind::of).collect();
    assert!(
        kinds
            .iter()
            .any(|k| matches!(k, ResourceKind::Other { kind, .. } if kind == "Cluster"))
    );
    assert!(kinds.iter().all(|k| !k.is_ours()));
}

/// A field the types spell differently from upstream would still round-trip (through the `other`
/// maps) but would be invisible to the rules. Catch that: at every level of every upstream object,
/// a key the schema does not know must not match a known property but for its case.
fn assert_spelled_like_upstream(value: &Value, schema: &Value, path: &str) {
    let (Some(obj), Some(props)) = (value.as_object(), schema.get("properties").and_then(Value::as_object)) else {
        return;
    };
    for (key, child) in obj {
        match props.get(key) {
            Some(child_schema) => {
                let child_schema = child_schema.get("items").unwrap_or(child_schema);
                match child {
                    Value::Array(items) => {
                        for item in items {
                            assert_spelled_like_upstream(item, child_schema, &format!("{path}.{key}[]"));
                        }
                    }
                    _ => assert_spelled_like_upstream(child, child_schema, &format!("{path}.{key}")),
                }
            }
            None => {
                let clash = props.keys().find(|p| p.eq_ignore_ascii_case(key));
                assert!(clash.is_none(), "{path}.{key} is spelled {:?} in the types", clash);
            }
        }
    }
}

#[test]
fn typed_field_names_are_spelled_like_upstream() {
    use kube::CustomResourceExt;
    let schema = |crd: k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition| {
        serde_json::to_value(&crd.spec.versions[0].schema.as_ref().unwrap().open_api_v3_schema).unwrap()
    };
    let (cluster_schema, md_schema) = (schema(Cluster::crd()), schema(MachineDeployment::crd()));
    for path in yaml_files() {
        for doc in documents(&path) {
            match ResourceKind::of(&doc) {
                ResourceKind::Cluster => {
                    assert_spelled_like_upstream(&doc, &cluster_schema, &path.display().to_string())
                }
                ResourceKind::MachineDeployment => {
                    assert_spelled_like_upstream(&doc, &md_schema, &path.display().to_string())
                }
                ResourceKind::Other { .. } => {}
            }
        }
    }
}
