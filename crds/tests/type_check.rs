//! The type check never objects to an object that decodes: every example, as written and after
//! defaulting, passes it without a word (the upstream objects are checked in `upstream_examples`).

mod common;

use common::{cluster, defaulted, machine_deployment, with};
use kkp_crds::providers::Provider;
use kkp_crds::request::ResourceKind;
use kkp_crds::type_check::type_errors;
use kkp_crds::{Cluster, MachineDeployment};
use pretty_assertions::assert_eq;
use serde_json::{Value, json};

fn messages(kind: &ResourceKind, object: &Value) -> Vec<String> {
    type_errors(kind, object)
        .into_iter()
        .map(|e| e.error.to_string())
        .collect()
}

#[test]
fn every_provider_example_passes_as_written_and_defaulted() {
    for p in Provider::ALL {
        for object in [cluster(p), defaulted(&cluster(p))] {
            serde_json::from_value::<Cluster>(object.clone()).expect("the example decodes");
            assert_eq!(
                messages(&ResourceKind::Cluster, &object),
                Vec::<String>::new(),
                "Cluster {p}"
            );
        }
        for object in [machine_deployment(p), defaulted(&machine_deployment(p))] {
            serde_json::from_value::<MachineDeployment>(object.clone()).expect("the example decodes");
            assert_eq!(
                messages(&ResourceKind::MachineDeployment, &object),
                Vec::<String>::new(),
                "MachineDeployment {p}"
            );
        }
    }
}

#[test]
fn nulls_and_free_form_parts_pass() {
    let mut md = machine_deployment(Provider::Aws);
    md = with(&md, "/metadata/creationTimestamp", Value::Null);
    md = with(&md, "/spec/selector/matchExpressions", Value::Null);
    md = with(&md, "/spec/replicas", Value::Null);
    md = with(
        &md,
        "/spec/strategy",
        json!({ "rollingUpdate": { "maxSurge": "25%", "maxUnavailable": 0 } }),
    );
    md = with(&md, "/spec/futureField", json!({ "anything": [1, "two"] }));
    md = with(
        &md,
        "/spec/template/spec/providerSpec/value/network",
        json!({ "cidr": 1 }),
    );
    md = with(
        &md,
        "/status",
        json!({ "replicas": 3, "conditions": [{ "type": "x" }] }),
    );
    serde_json::from_value::<MachineDeployment>(md.clone()).expect("decodes");
    assert_eq!(messages(&ResourceKind::MachineDeployment, &md), Vec::<String>::new());

    let mut c = cluster(Provider::Openstack);
    c = with(&c, "/metadata/creationTimestamp", Value::Null);
    c = with(
        &c,
        "/metadata/ownerReferences",
        json!([{ "apiVersion": "v1", "kind": "Project", "name": "p", "uid": "u" }]),
    );
    c = with(
        &c,
        "/spec/componentsOverride",
        json!({ "apiserver": { "replicas": 2 } }),
    );
    c = with(&c, "/spec/cloud/nutanix", json!({ "clusterName": "n" }));
    c = with(
        &c,
        "/spec/clusterNetwork",
        json!({ "pods": { "cidrBlocks": null }, "coreDNSReplicas": 2 }),
    );
    c = with(
        &c,
        "/status",
        json!({ "phase": "Running", "extendedHealth": { "apiserver": "HealthStatusUp" } }),
    );
    serde_json::from_value::<Cluster>(c.clone()).expect("decodes");
    assert_eq!(messages(&ResourceKind::Cluster, &c), Vec::<String>::new());
}

#[test]
fn required_parts_of_kubernetes_types_are_required() {
    let md = with(
        &machine_deployment(Provider::Aws),
        "/spec/selector/matchExpressions",
        json!([{ "operator": "In", "values": ["a"] }]),
    );
    assert_eq!(
        messages(&ResourceKind::MachineDeployment, &md),
        ["spec.selector.matchExpressions[0].key: Required value"]
    );
}

#[test]
fn other_kinds_are_not_checked() {
    let other = ResourceKind::of(&json!({ "apiVersion": "v1", "kind": "ConfigMap" }));
    assert_eq!(messages(&other, &json!({ "data": 1 })), Vec::<String>::new());
}
