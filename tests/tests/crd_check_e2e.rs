//! The engine's CRD checks (`kkp_crds::crd_check`) give the verdicts the real apiserver gives: the
//! kind provider's `KINDCluster` CRD is installed in the harness's control plane, and each sample
//! (and a few broken variants) is applied with a server-side dry run and strict field validation,
//! as kubectl does, and compared with what the engine says offline.

use kkp_crds::crd_check::CrdSchemas;
use kube::Api;
use kube::api::{ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams};
use serde::Deserialize;
use serde_json::{Value, json};

fn documents(relative: &str) -> Vec<Value> {
    let text = kkp_e2e::upstream::read(relative).expect("an upstream example");
    serde_yaml::Deserializer::from_str(&text)
        .map(|d| Value::deserialize(d).expect("YAML"))
        .filter(Value::is_object)
        .collect()
}

#[test]
fn offline_verdicts_match_the_apiserver_s() {
    let plane = kkp_e2e::shared_control_plane_blocking().expect("the control plane starts");
    let crd_file = "capi/kind/config/crd/bases/infrastructure.cluster-k8s.io_kindclusters.yaml";
    let crds = CrdSchemas::from_documents(&documents(crd_file));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = rt.block_on(plane.client()).expect("a client");
    let crd_text = kkp_e2e::upstream::read(crd_file).unwrap();
    rt.block_on(kkp_e2e::install_crds(&client, &crd_text))
        .expect("the KINDCluster CRD installs");
    let gvk = GroupVersionKind::gvk("infrastructure.cluster-k8s.io", "v1alpha1", "KINDCluster");
    let api: Api<DynamicObject> = Api::namespaced_with(
        client,
        "default",
        &ApiResource::from_gvk_with_plural(&gvk, "kindclusters"),
    );

    let mut objects = Vec::new();
    for sample in [
        "infrastructure_v1alpha1_kindcluster.yaml",
        "invalid-test-1.yaml",
        "invalid-test-2.yaml",
        "invalid-test-3.yaml",
        "test1.yaml",
        "test2.yaml",
    ] {
        objects.push(documents(&format!("capi/kind/config/samples/{sample}")).remove(0));
    }
    let base = objects[0].clone();
    let variant = |name: &str, spec: Value| {
        let mut o = base.clone();
        o["metadata"]["name"] = Value::from(name);
        o["spec"] = spec;
        o
    };
    objects.push(variant("unknown-field", json!({"clusterName": "a", "color": "red"})));
    objects.push(variant("wrong-type", json!({"clusterName": 5})));
    objects.push(variant("status-wrong-type", json!({"clusterName": "a"})));
    objects.last_mut().unwrap()["status"] = json!({"ready": "yes"});
    objects.push(variant(
        "null-value",
        json!({"clusterName": "a", "kubernetesVersion": null}),
    ));
    objects.push(variant("several", json!({"kubernetesVersion": "2.0", "extra": {}})));

    for object in &objects {
        let name = object["metadata"]["name"].as_str().unwrap().to_owned();
        let offline = crds.check(object).expect("the CRD defines KINDCluster");
        let params = PatchParams::apply("kkp-crd-check").dry_run().validation_strict();
        let server = rt.block_on(api.patch(&name, &params, &Patch::Apply(object)));
        match server {
            Ok(_) => assert!(
                offline.is_empty(),
                "{name}: the apiserver admits it, the engine says {offline:?}"
            ),
            Err(kube::Error::Api(status)) => {
                assert!(
                    !offline.is_empty(),
                    "{name}: the apiserver refuses it ({}), the engine admits it",
                    status.message
                );
                // The apiserver stops at its first failing stage (unknown fields before values), so
                // it may name fewer fields than the engine; it names one of them at least.
                let fields: Vec<String> = offline.iter().map(|e| e.field.to_string()).collect();
                assert!(
                    fields.iter().any(|f| status.message.contains(f.as_str())),
                    "{name}: the engine names {fields:?}, the apiserver says: {}",
                    status.message
                );
            }
            Err(e) => panic!("{name}: {e}"),
        }
    }
}
