//! The engine's CRD checks (`kkp_crds::crd_check`) give the verdicts the real apiserver gives: the
//! kind provider's `KINDCluster` CRD is installed in the harness's control plane, and each sample
//! (and a few broken variants) is applied with a server-side dry run and strict field validation,
//! as kubectl does, and compared with what the engine says offline. `create cluster --from` runs
//! the same check with the CRD the cluster serves, before anything is sent.

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

/// Runs the plugin through the real kubectl against `plane`.
fn kkp(plane: &kkp_e2e::ControlPlane, home: &std::path::Path, args: &[&str]) -> kkp_e2e::plugin_support::Ran {
    let plugin_dir = kkp_e2e::plugin_support::plugin_dir().expect("the plugin builds");
    let mut command = kkp_e2e::plugin_support::kubectl(plane.bin_dir(), plugin_dir, plane.kubeconfig_path(), home);
    command.arg("kkp").args(args);
    kkp_e2e::plugin_support::run(command, std::time::Duration::from_secs(180)).expect("kubectl kkp runs")
}

#[test]
fn create_from_checks_custom_resources_against_the_served_crd_before_sending() {
    let plane = kkp_e2e::shared_control_plane_blocking().expect("the control plane starts");
    let crd_file = "capi/kind/config/crd/bases/infrastructure.cluster-k8s.io_kindclusters.yaml";
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = rt.block_on(plane.client()).expect("a client");
    rt.block_on(kkp_e2e::install_crds(
        &client,
        &kkp_e2e::upstream::read(crd_file).unwrap(),
    ))
    .expect("the KINDCluster CRD installs");
    let api: Api<DynamicObject> = Api::namespaced_with(
        client,
        "default",
        &ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk("infrastructure.cluster-k8s.io", "v1alpha1", "KINDCluster"),
            "kindclusters",
        ),
    );
    let home = tempfile::tempdir().unwrap();
    let template = |spec: &str| {
        let path = home.path().join("kind-template.yaml");
        std::fs::write(
            &path,
            format!(
                "apiVersion: infrastructure.cluster-k8s.io/v1alpha1\nkind: KINDCluster\nmetadata:\n  name: ${{CLUSTER_NAME}}\n  namespace: default\nspec:\n{spec}\n"
            ),
        )
        .unwrap();
        path
    };
    let name = kkp_e2e::unique_name("kind-crd");

    // A wrong type and an unknown field: refused per field, nothing is created.
    let bad = template("  clusterName: 5\n  color: red");
    let ran = kkp(
        plane,
        home.path(),
        &[
            "create",
            "cluster",
            &name,
            "--from",
            bad.to_str().unwrap(),
            "--wait=false",
        ],
    );
    ran.expect_code(1)
        .expect_stderr("spec.clusterName")
        .expect_stderr("spec.color")
        .expect_stderr("nothing was sent");
    assert!(
        rt.block_on(api.get_opt(&name)).expect("get").is_none(),
        "a refused object is not created"
    );

    // validate reads the same CRD from the cluster when asked, and only then.
    let ran = kkp(
        plane,
        home.path(),
        &["validate", "-f", bad.to_str().unwrap(), "--crds-from-cluster"],
    );
    ran.expect_code(1)
        .expect_stdout("spec.clusterName")
        .expect_stdout("spec.color");
    kkp(plane, home.path(), &["validate", "-f", bad.to_str().unwrap()])
        .expect_code(0)
        .expect_stdout("skipped");

    // The same template, fixed, is applied.
    let good = template("  clusterName: demo");
    let ran = kkp(
        plane,
        home.path(),
        &[
            "create",
            "cluster",
            &name,
            "--from",
            good.to_str().unwrap(),
            "--wait=false",
        ],
    );
    ran.expect_code(0)
        .expect_stdout(&format!("kindcluster.infrastructure.cluster-k8s.io/{name} created"));
    assert!(rt.block_on(api.get_opt(&name)).expect("get").is_some());
}

/// A CRD with `x-kubernetes-validations` rules at two levels, installed in the control plane.
const GADGET_CRD: &str = r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gadgets.crdcheck.kubectl-kkp.io
spec:
  group: crdcheck.kubectl-kkp.io
  scope: Namespaced
  names: {kind: Gadget, plural: gadgets, singular: gadget, listKind: GadgetList}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            x-kubernetes-validations:
            - rule: self.min <= self.max
              message: min must not exceed max
            - rule: "!has(self.ports) || self.ports.all(p, p > 1024)"
              message: ports must be above 1024
            properties:
              min: {type: integer}
              max: {type: integer}
              ports:
                type: array
                maxItems: 8
                items: {type: integer}
              quota:
                type: object
                x-kubernetes-validations:
                - rule: self.resources.size() > 0
                  message: quota resources must not be empty
                properties:
                  resources:
                    type: array
                    maxItems: 8
                    items: {type: string, maxLength: 16}
"#;

#[test]
fn cel_rule_verdicts_match_the_apiserver_s() {
    let plane = kkp_e2e::shared_control_plane_blocking().expect("the control plane starts");
    let crds = CrdSchemas::from_documents(
        &serde_yaml::Deserializer::from_str(GADGET_CRD)
            .map(|d| Value::deserialize(d).expect("YAML"))
            .collect::<Vec<_>>(),
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = rt.block_on(plane.client()).expect("a client");
    rt.block_on(kkp_e2e::install_crds(&client, GADGET_CRD))
        .expect("the Gadget CRD installs");
    let gvk = GroupVersionKind::gvk("crdcheck.kubectl-kkp.io", "v1", "Gadget");
    let api: Api<DynamicObject> =
        Api::namespaced_with(client, "default", &ApiResource::from_gvk_with_plural(&gvk, "gadgets"));
    let gadget = |name: &str, spec: Value| {
        json!({"apiVersion": "crdcheck.kubectl-kkp.io/v1", "kind": "Gadget",
            "metadata": {"name": name, "namespace": "default"}, "spec": spec})
    };
    let cases = [
        (
            gadget(
                "fine",
                json!({"min": 1, "max": 2, "ports": [2000], "quota": {"resources": ["gpu"]}}),
            ),
            0,
        ),
        (gadget("min-over-max", json!({"min": 3, "max": 2})), 1),
        (gadget("low-port", json!({"min": 1, "max": 1, "ports": [80, 3000]})), 1),
        (
            gadget("empty-quota", json!({"min": 1, "max": 1, "quota": {"resources": []}})),
            1,
        ),
        (
            gadget(
                "all-three",
                json!({"min": 9, "max": 1, "ports": [22], "quota": {"resources": []}}),
            ),
            3,
        ),
    ];
    for (object, expected) in cases {
        let name = object["metadata"]["name"].as_str().unwrap().to_owned();
        let offline = crds.check(&object).expect("the CRD defines Gadget");
        assert_eq!(offline.len(), expected, "{name}: {offline:?}");
        let params = PatchParams::apply("kkp-crd-check").dry_run().validation_strict();
        match rt.block_on(api.patch(&name, &params, &Patch::Apply(&object))) {
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
                for error in &offline {
                    let field = error.field.to_string();
                    assert!(
                        status.message.contains(&field),
                        "{name}: the apiserver does not name {field}: {}",
                        status.message
                    );
                    assert!(
                        status.message.contains(&error.detail),
                        "{name}: the apiserver does not say {:?}: {}",
                        error.detail,
                        status.message
                    );
                }
            }
            Err(e) => panic!("{name}: {e}"),
        }
    }
}
