//! Fields the types do not model survive defaulting, at every level of an object.
//!
//! The mutating webhook answers with a JSON patch from the object as sent to the re-serialised
//! typed object, so a nested struct that dropped an unknown key would make the webhook remove a
//! field the user (or a newer KKP) set. These tests put an unknown key into every JSON object of a
//! fully populated Cluster and MachineDeployment, default them, and check that every key is still
//! there. A second test reads the generated CRD schemas, so a struct added later without the
//! catch-all, or without a place in the populated examples, fails here too.

mod common;

use std::collections::BTreeSet;

use common::{SSH_KEY, cluster_block, datacenter, machine_block, with};
use kkp_crds::admission::mutate;
use kkp_crds::context::Context;
use kkp_crds::providers::Provider;
use kkp_crds::request::Request;
use serde_json::{Value, json};

/// Where the types use upstream Kubernetes structs (`LabelSelector`), which have a fixed schema
/// upstream too: the apiserver prunes unknown keys there before any webhook sees the object.
fn is_fixed_upstream_type(pointer: &str) -> bool {
    pointer == "/spec/selector" || pointer.starts_with("/spec/selector/matchExpressions/")
}

/// `spec.cloud`'s catch-all holds other providers' blocks; a key there turns off provider
/// defaulting, so it is covered by its own test and left out of the walk to keep the provider
/// blocks' defaulting in play.
fn is_provider_map(pointer: &str) -> bool {
    pointer == "/spec/cloud"
}

/// A Cluster with every typed struct set, and `p`'s provider block populated in full.
fn full_cluster(p: Provider) -> Value {
    let mut block = cluster_block(p);
    let extra = match p {
        Provider::Aws | Provider::Azure | Provider::Gcp => {
            json!({ "nodePortsAllowedIPRanges": { "cidrBlocks": ["10.0.0.0/8"] } })
        }
        Provider::Vsphere => json!({
            "infraManagementUser": { "username": "infra", "password": "" },
            "tags": { "tags": ["kkp"], "categoryID": "cat-1" }
        }),
        Provider::Openstack => json!({
            "nodePortsAllowedIPRanges": { "cidrBlocks": ["10.0.0.0/8"] },
            "loadBalancerClasses": [{ "name": "internal", "config": { "floatingNetworkID": "net-1", "subnetID": "sn-1" } }]
        }),
        Provider::Kubevirt => json!({
            "preAllocatedDataVolumes": [{
                "name": "ubuntu", "url": "http://images.example/ubuntu.img", "size": "10Gi",
                "storageClass": "standard", "annotations": { "a": "b" }
            }],
            "storageClasses": [{ "name": "standard", "isDefaultClass": true }],
            "volumeSnapshotClasses": [{ "name": "snap", "isDefaultClass": false }],
            "csiDriverOperator": { "overwriteRegistry": "registry.example" }
        }),
        Provider::Hetzner | Provider::Digitalocean => json!({}),
    };
    for (k, v) in extra.as_object().into_iter().flatten() {
        block[k] = v.clone();
    }
    json!({
        "apiVersion": "kubermatic.k8c.io/v1",
        "kind": "Cluster",
        "metadata": { "name": "k7bxrtzfwl", "labels": { "project-id": "xw2k9fgh4t" } },
        "spec": {
            "humanReadableName": "demo",
            "version": "1.35.7",
            "cloud": { "dc": datacenter(p), "providerName": p.name(), p.name(): block },
            "clusterNetwork": {
                "ipFamily": "IPv4",
                "pods": { "cidrBlocks": ["172.25.0.0/16"] },
                "services": { "cidrBlocks": ["10.240.16.0/20"] },
                "nodeCidrMaskSizeIPv4": 24,
                "dnsDomain": "cluster.local",
                "proxyMode": "ipvs",
                "ipvs": { "strictArp": true },
                "konnectivityEnabled": true
            },
            "exposeStrategy": "LoadBalancer",
            "containerRuntime": "containerd",
            "cniPlugin": { "type": "cilium", "version": "1.19.4" },
            "machineNetworks": [{ "cidr": "192.168.1.0/24", "gateway": "192.168.1.1", "dnsServers": ["8.8.8.8"] }],
            "apiServerAllowedIPRanges": { "cidrBlocks": ["10.0.0.0/8"] },
            "imagePullSecret": { "name": "pull", "namespace": "kubermatic" },
            "features": { "apiserverNetworkPolicy": true },
            "updateWindow": { "start": "Tue 02:00", "length": "2h" },
            "useEventRateLimitAdmissionPlugin": true,
            "eventRateLimitConfig": {
                "server": { "qps": 50, "burst": 100, "cacheSize": 1000 },
                "namespace": { "qps": 50, "burst": 100, "cacheSize": 1000 },
                "user": { "qps": 50, "burst": 100, "cacheSize": 1000 },
                "sourceAndObject": { "qps": 50, "burst": 100, "cacheSize": 1000 }
            },
            "podNodeSelectorAdmissionPluginConfig": { "clusterDefaultNodeSelector": "env=prod" },
            "kubernetesDashboard": { "enabled": true },
            "oidc": { "issuerURL": "https://dex.example", "clientID": "kkp" },
            "authenticationConfiguration": { "secretName": "authn", "secretKey": "config" },
            "encryptionConfiguration": {
                "enabled": true,
                "resources": ["secrets"],
                "secretbox": { "keys": [{ "name": "k1", "value": "YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXoxMjM0NTY=" }] }
            },
            "componentsOverride": { "apiserver": { "nodePortRange": "30000-32767" } }
        }
    })
}

/// A MachineDeployment with every typed struct set.
fn full_machine_deployment(p: Provider) -> Value {
    json!({
        "apiVersion": "cluster.k8s.io/v1alpha1",
        "kind": "MachineDeployment",
        "metadata": { "name": "k7bxrtzfwl-worker", "namespace": "kube-system" },
        "spec": {
            "replicas": 2,
            "selector": { "matchLabels": { "machine": "md-k7bxrtzfwl-worker" } },
            "strategy": { "type": "RollingUpdate", "rollingUpdate": { "maxUnavailable": 0, "maxSurge": 1 } },
            "minReadySeconds": 0,
            "revisionHistoryLimit": 1,
            "progressDeadlineSeconds": 600,
            "paused": false,
            "template": {
                "metadata": { "labels": { "machine": "md-k7bxrtzfwl-worker" }, "annotations": { "a": "b" } },
                "spec": {
                    "metadata": { "labels": { "node": "worker" }, "annotations": { "c": "d" } },
                    "taints": [{ "key": "dedicated", "value": "gpu", "effect": "NoSchedule" }],
                    "providerSpec": { "value": {
                        "sshPublicKeys": [SSH_KEY],
                        "caPublicKey": "",
                        "cloudProvider": p.machine_name(),
                        "cloudProviderSpec": machine_block(p),
                        "operatingSystem": "ubuntu",
                        "operatingSystemSpec": { "distUpgradeOnBoot": false },
                        "network": { "cidr": "192.168.1.10/24", "gateway": "192.168.1.1", "dns": { "servers": ["8.8.8.8"] } }
                    } },
                    "versions": { "kubelet": "1.35.7", "controlPlane": "1.35.7" }
                }
            }
        }
    })
}

/// Escapes a key for a JSON pointer.
fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// Adds an unknown key to every JSON object under `pointer` and returns what was added, as
/// `(pointer of the new key, its value)`. The value copies a scalar sibling when there is one, so
/// string and bool maps (labels, features) still parse; elsewhere any value is unknown.
fn plant(node: &mut Value, pointer: &str, planted: &mut Vec<(String, Value)>) {
    match node {
        Value::Object(map) => {
            for (k, child) in map.iter_mut() {
                plant(child, &format!("{pointer}/{}", escape(k)), planted);
            }
            if is_fixed_upstream_type(pointer) || is_provider_map(pointer) {
                return;
            }
            let value = map
                .values()
                .find(|v| v.is_string() || v.is_boolean() || v.is_number())
                .cloned()
                .unwrap_or_else(|| json!(format!("planted-{}", planted.len())));
            let key = format!("kkpUnknownField{}", planted.len());
            planted.push((format!("{pointer}/{key}"), value.clone()));
            map.insert(key, value);
        }
        Value::Array(items) => {
            for (i, child) in items.iter_mut().enumerate() {
                plant(child, &format!("{pointer}/{i}"), planted);
            }
        }
        _ => {}
    }
}

fn assert_planted_keys_survive(object: &Value) {
    let mut planted_object = object.clone();
    let mut planted = Vec::new();
    plant(&mut planted_object, "", &mut planted);
    assert!(planted.len() > 10, "the walk reached the nested objects: {planted:?}");
    for operation in [
        Request::create(&planted_object),
        Request::update(&planted_object, &planted_object),
    ] {
        let v = mutate(&operation, &Context::default());
        assert!(v.errors.is_empty(), "{}: {:?}", object["kind"], v.errors);
        let patch = serde_json::to_value(&v.patch).expect("a patch serialises");
        let touched: Vec<&Value> = patch
            .as_array()
            .expect("a patch is a list")
            .iter()
            .filter(|op| op["op"] == "remove" || planted.iter().any(|(p, _)| op["path"] == json!(p)))
            .collect();
        assert!(touched.is_empty(), "the patch drops or rewrites fields: {touched:?}");
        let out = v.object.expect("defaulted");
        for (pointer, value) in &planted {
            assert_eq!(out.pointer(pointer), Some(value), "{pointer} was lost");
        }
    }
}

#[test]
fn unknown_keys_survive_at_every_level_of_a_cluster() {
    for p in Provider::ALL {
        assert_planted_keys_survive(&full_cluster(p));
    }
}

#[test]
fn unknown_keys_survive_at_every_level_of_a_machine_deployment() {
    for p in Provider::ALL {
        assert_planted_keys_survive(&full_machine_deployment(p));
    }
}

#[test]
fn named_upstream_fields_survive() {
    let md = with(
        &full_machine_deployment(Provider::Aws),
        "/spec/template/spec/taints/0/timeAdded",
        json!("2026-01-01T00:00:00Z"),
    );
    let md = with(&md, "/spec/strategy/rollingUpdate/futureKnob", json!(3));
    let v = mutate(&Request::create(&md), &Context::default());
    assert!(
        v.patch
            .0
            .iter()
            .all(|op| !matches!(op, json_patch::PatchOperation::Remove(_))),
        "{:?}",
        v.patch
    );
    let out = v.object.expect("defaulted");
    assert_eq!(
        out.pointer("/spec/template/spec/taints/0/timeAdded"),
        Some(&json!("2026-01-01T00:00:00Z"))
    );
    assert_eq!(out.pointer("/spec/strategy/rollingUpdate/futureKnob"), Some(&json!(3)));

    let c = with(&full_cluster(Provider::Aws), "/spec/cniPlugin/x", json!("y"));
    let c = with(&c, "/spec/clusterNetwork/pods/x", json!(1));
    let c = with(&c, "/spec/cloud/nutanix", json!({ "projectName": "p" }));
    let v = mutate(&Request::create(&c), &Context::default());
    assert!(
        v.patch
            .0
            .iter()
            .all(|op| !matches!(op, json_patch::PatchOperation::Remove(_))),
        "{:?}",
        v.patch
    );
    let out = v.object.expect("defaulted");
    assert_eq!(out.pointer("/spec/cniPlugin/x"), Some(&json!("y")));
    assert_eq!(out.pointer("/spec/clusterNetwork/pods/x"), Some(&json!(1)));
    assert_eq!(out.pointer("/spec/cloud/nutanix/projectName"), Some(&json!("p")));
}

/// Every path of `object`, with array indices written as `[]`, the way the schema walk names them.
fn object_paths(node: &Value, path: &str, out: &mut BTreeSet<String>) {
    out.insert(path.to_owned());
    match node {
        Value::Object(map) => {
            for (k, child) in map {
                object_paths(child, &format!("{path}.{k}"), out);
            }
        }
        Value::Array(items) => {
            for child in items {
                object_paths(child, &format!("{path}[]"), out);
            }
        }
        _ => {}
    }
}

/// The paths of every struct (an object schema with `properties`) in a CRD's spec schema, with
/// whether it keeps unknown fields.
fn struct_schemas(schema: &Value, path: &str, out: &mut Vec<(String, bool)>) {
    let Some(obj) = schema.as_object() else { return };
    if let Some(props) = obj.get("properties").and_then(Value::as_object) {
        let keeps = obj.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true));
        out.push((path.to_owned(), keeps));
        for (k, child) in props {
            struct_schemas(child, &format!("{path}.{k}"), out);
        }
    }
    if let Some(items) = obj.get("items") {
        struct_schemas(items, &format!("{path}[]"), out);
    }
    if let Some(additional) = obj.get("additionalProperties") {
        struct_schemas(additional, &format!("{path}{{}}"), out);
    }
}

/// Checks one CRD's spec schema against its populated example.
fn check_structs(file: &str, example: fn(Provider) -> Value) {
    let (_, yaml) = kkp_crds::crdgen::all()
        .into_iter()
        .find(|(name, _)| *name == file)
        .expect("the CRD is generated");
    let crd: Value = serde_yaml::from_str(&yaml).expect("parses");
    let spec = &crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"];
    let mut structs = Vec::new();
    struct_schemas(spec, "spec", &mut structs);
    assert!(structs.len() > 10, "{file}: the schema walk found the structs");

    let mut covered = BTreeSet::new();
    for p in Provider::ALL {
        object_paths(&example(p)["spec"], "spec", &mut covered);
    }
    for (path, keeps_unknown) in &structs {
        if path == "spec.selector" || path == "spec.selector.matchExpressions[]" {
            continue;
        }
        assert!(
            *keeps_unknown,
            "{file}: {path} drops unknown fields; give its struct a flattened `other: Other`"
        );
        assert!(
            covered.contains(path),
            "{file}: {path} is not in the populated example of this test; add it there"
        );
    }
}

#[test]
fn every_spec_struct_keeps_unknown_fields_and_is_in_the_examples() {
    check_structs("kubermatic.k8c.io_clusters.yaml", full_cluster);
    check_structs("cluster.k8s.io_machinedeployments.yaml", full_machine_deployment);
}
