//! The CRD manifests checked in under `crds/` are exactly what the types generate.
//! Regenerate with `cargo run -p kkp-crds --bin crdgen`.

use serde_json::Value;

#[test]
fn checked_in_crds_match_the_types() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for (name, generated) in kkp_crds::crdgen::all() {
        let on_disk = std::fs::read_to_string(dir.join(name))
            .unwrap_or_else(|e| panic!("crds/{name} is missing ({e}); run: cargo run -p kkp-crds --bin crdgen"));
        assert!(
            on_disk == generated,
            "crds/{name} differs from what the Rust types generate; run: cargo run -p kkp-crds --bin crdgen"
        );
    }
}

#[test]
fn crds_are_structural() {
    fn walk(v: &Value, path: &str) {
        if let Some(obj) = v.as_object() {
            assert!(
                !(obj.contains_key("properties") && obj.contains_key("additionalProperties")),
                "{path}: properties and additionalProperties together are not structural"
            );
            if obj.is_empty() {
                panic!("{path}: an empty schema is not structural");
            }
            for (k, child) in obj {
                if k == "properties" {
                    for (field, s) in child.as_object().into_iter().flatten() {
                        walk(s, &format!("{path}.{field}"));
                    }
                } else if k == "items" || k == "additionalProperties" {
                    walk(child, &format!("{path}[]"));
                }
            }
        }
    }
    for (name, yaml) in kkp_crds::crdgen::all() {
        let crd: Value = serde_yaml::from_str(&yaml).expect("parses");
        for version in crd["spec"]["versions"].as_array().expect("versions") {
            walk(&version["schema"]["openAPIV3Schema"], name);
        }
    }
}
