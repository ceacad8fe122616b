//! Custom resources checked against their real CRDs: the kind provider's `KINDCluster` CRD with
//! its valid and invalid samples, and KKP's real Cluster CRD with the upstream Cluster examples.

use std::path::PathBuf;

use kkp_crds::crd_check::CrdSchemas;
use serde::Deserialize;
use serde_json::Value;

fn examples_dir() -> PathBuf {
    std::env::var_os("KKP_UPSTREAM_EXAMPLES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/upstream-examples"))
}

fn documents(relative: &str) -> Vec<Value> {
    let path = examples_dir().join(relative);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_yaml::Deserializer::from_str(&text)
        .map(|d| Value::deserialize(d).expect("YAML"))
        .filter(|v| v.is_object())
        .collect()
}

fn errors(crds: &CrdSchemas, sample: &str) -> Vec<String> {
    let doc = documents(sample).remove(0);
    crds.check(&doc)
        .expect("the CRD defines the sample's kind")
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn kind_cluster_samples_get_the_apiserver_s_verdicts() {
    let crds = CrdSchemas::from_documents(&documents(
        "capi/kind/config/crd/bases/infrastructure.cluster-k8s.io_kindclusters.yaml",
    ));
    assert_eq!(crds.len(), 1);
    let samples = "capi/kind/config/samples/";
    for valid in ["infrastructure_v1alpha1_kindcluster.yaml", "test1.yaml", "test2.yaml"] {
        assert_eq!(
            errors(&crds, &format!("{samples}{valid}")),
            Vec::<String>::new(),
            "{valid}"
        );
    }
    assert_eq!(
        errors(&crds, &format!("{samples}invalid-test-1.yaml")),
        ["spec.clusterName: Required value"]
    );
    assert_eq!(
        errors(&crds, &format!("{samples}invalid-test-2.yaml")),
        ["spec.clusterName: Invalid value: Too long: may not be more than 64 bytes"]
    );
    assert_eq!(
        errors(&crds, &format!("{samples}invalid-test-3.yaml")),
        [
            "spec.kubernetesVersion: Unsupported value: \"1.13\": supported values: \"1.22\", \"1.21\", \"1.20\", \
             \"1.19\", \"1.18\", \"1.17\", \"1.16\", \"1.15\", \"1.14\""
        ]
    );
}

#[test]
fn upstream_clusters_fit_kkp_s_real_cluster_crd() {
    let crds = CrdSchemas::from_documents(&documents("kkp-config/crds/kubermatic.k8c.io_clusters.yaml"));
    let mut checked = 0;
    let mut misfits = std::collections::BTreeMap::new();
    for entry in std::fs::read_dir(examples_dir()).expect("the examples folder") {
        let path = entry.expect("an entry").path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.starts_with("cluster-") {
            continue;
        }
        for doc in documents(&name) {
            let Some(errors) = crds.check(&doc) else { continue };
            checked += 1;
            let real: Vec<String> = errors.iter().map(ToString::to_string).collect();
            if !real.is_empty() {
                misfits.insert(name.clone(), real);
            }
        }
    }
    assert!(checked >= 10, "only {checked} Clusters checked");
    // The two community-components files leave out fields KKP's current CRD requires.
    let expected = std::collections::BTreeMap::from([
        (
            "cluster-vsphere-4.yaml".to_owned(),
            vec![
                "spec.clusterNetwork: Required value".to_owned(),
                "spec.cloud.vsphere.infraManagementUser: Required value".to_owned(),
            ],
        ),
        (
            "cluster-vsphere-5.yaml".to_owned(),
            vec!["spec.cloud.vsphere.infraManagementUser: Required value".to_owned()],
        ),
    ]);
    assert_eq!(misfits, expected);

    let mut broken = documents("cluster-hetzner-1.yaml").remove(0);
    broken["spec"]["exposeStrategy"] = Value::from("Carrier-Pigeon");
    broken["spec"]["nonsense"] = Value::from(1);
    let errors: Vec<String> = crds.check(&broken).unwrap().iter().map(ToString::to_string).collect();
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with("spec.exposeStrategy: Unsupported value: \"Carrier-Pigeon\"")),
        "{errors:#?}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with("spec.nonsense: Invalid value: unknown field")),
        "{errors:#?}"
    );
}
