//! The PolicyReport CRDs the project ships: the `wgpolicyk8s.io/v1alpha2` API of the Kubernetes
//! Policy working group (kubernetes-sigs/wg-policy-prototypes, policy-report/crd/v1alpha2), which
//! Kyverno and Kubewarden also install: same names, scope, version and result fields.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kkp_manifests::POLICY_REPORT_CRDS;
use serde_json::{Value, json};

fn crd(file: &str) -> CustomResourceDefinition {
    let (_, yaml) = POLICY_REPORT_CRDS
        .iter()
        .find(|(f, _)| *f == file)
        .unwrap_or_else(|| panic!("{file} is shipped"));
    serde_yaml::from_str(yaml).expect("a CustomResourceDefinition")
}

fn schema(crd: &CustomResourceDefinition) -> Value {
    let version = &crd.spec.versions[0];
    serde_json::to_value(version.schema.as_ref().and_then(|s| s.open_api_v3_schema.as_ref())).expect("a schema")
}

#[test]
fn names_scope_and_version_are_the_working_groups() {
    for (file, name, kind, plural, short, scope) in [
        (
            "wgpolicyk8s.io_policyreports.yaml",
            "policyreports.wgpolicyk8s.io",
            "PolicyReport",
            "policyreports",
            "polr",
            "Namespaced",
        ),
        (
            "wgpolicyk8s.io_clusterpolicyreports.yaml",
            "clusterpolicyreports.wgpolicyk8s.io",
            "ClusterPolicyReport",
            "clusterpolicyreports",
            "cpolr",
            "Cluster",
        ),
    ] {
        let crd = crd(file);
        assert_eq!(crd.metadata.name.as_deref(), Some(name));
        assert_eq!(crd.spec.group, "wgpolicyk8s.io");
        assert_eq!(crd.spec.scope, scope);
        assert_eq!(crd.spec.names.kind, kind);
        assert_eq!(crd.spec.names.plural, plural);
        assert_eq!(crd.spec.names.short_names, Some(vec![short.to_owned()]));
        let versions: Vec<(&str, bool, bool)> = crd
            .spec
            .versions
            .iter()
            .map(|v| (v.name.as_str(), v.served, v.storage))
            .collect();
        assert_eq!(versions, [("v1alpha2", true, true)]);
    }
}

#[test]
fn results_carry_the_working_groups_fields() {
    for (file, _) in POLICY_REPORT_CRDS {
        let schema = schema(&crd(file));
        let result = &schema["properties"]["results"]["items"];
        assert_eq!(result["required"], json!(["policy"]), "{file}");
        assert_eq!(
            result["properties"]["result"]["enum"],
            json!(["pass", "fail", "warn", "error", "skip"]),
            "{file}"
        );
        for field in [
            "policy",
            "rule",
            "message",
            "source",
            "category",
            "severity",
            "scored",
            "timestamp",
            "resources",
            "resourceSelector",
            "properties",
        ] {
            assert!(result["properties"].get(field).is_some(), "{file}: results[].{field}");
        }
        for field in ["pass", "fail", "warn", "error", "skip"] {
            assert_eq!(
                schema["properties"]["summary"]["properties"][field]["type"], "integer",
                "{file}"
            );
        }
        for field in ["scope", "scopeSelector", "summary", "results"] {
            assert!(schema["properties"].get(field).is_some(), "{file}: {field}");
        }
        assert_eq!(
            result["properties"]["resources"]["items"]["properties"]["uid"]["type"], "string",
            "{file}"
        );
    }
}
