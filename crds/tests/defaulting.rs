//! Defaulting: KKP's and machine-controller's defaults, the JSON patch, and idempotence.

mod common;

use common::{cluster, defaulted, machine_deployment, with};
use kkp_crds::admission::{Context, Operation, Request, admit, mutate};
use kkp_crds::providers::Provider;
use pretty_assertions::assert_eq;
use proptest::prelude::*;
use serde_json::{Value, json};

#[test]
fn cluster_defaults_follow_kkp() {
    let d = defaulted(&cluster(Provider::Aws));
    let spec = &d["spec"];
    assert_eq!(spec["cloud"]["providerName"], "aws");
    assert_eq!(spec["exposeStrategy"], "NodePort");
    assert_eq!(spec["containerRuntime"], "containerd");
    assert_eq!(spec["cniPlugin"], json!({ "type": "cilium", "version": "1.19.4" }));
    assert_eq!(spec["kubernetesDashboard"], json!({ "enabled": true }));
    assert_eq!(spec["componentsOverride"]["apiserver"]["nodePortRange"], "30000-32767");
    assert_eq!(
        spec["cloud"]["aws"]["nodePortsAllowedIPRanges"],
        json!({ "cidrBlocks": ["0.0.0.0/0"] })
    );
    assert_eq!(
        spec["features"],
        json!({ "apiserverNetworkPolicy": true, "externalCloudProvider": true })
    );
    assert_eq!(
        spec["clusterNetwork"],
        json!({
            "ipFamily": "IPv4",
            "pods": { "cidrBlocks": ["172.25.0.0/16"] },
            "services": { "cidrBlocks": ["10.240.16.0/20"] },
            "nodeCidrMaskSizeIPv4": 24,
            "dnsDomain": "cluster.local",
            "proxyMode": "nftables",
            "nodeLocalDNSCacheEnabled": true,
            "konnectivityEnabled": true
        })
    );
}

#[test]
fn proxy_mode_depends_on_provider_and_version() {
    let hetzner = defaulted(&cluster(Provider::Hetzner));
    assert_eq!(hetzner["spec"]["clusterNetwork"]["proxyMode"], "iptables");
    let old = defaulted(&with(&cluster(Provider::Aws), "/spec/version", json!("1.34.2")));
    assert_eq!(old["spec"]["clusterNetwork"]["proxyMode"], "ipvs");
    assert_eq!(old["spec"]["clusterNetwork"]["ipvs"], json!({ "strictArp": true }));
}

#[test]
fn kubevirt_gets_its_own_cidrs_and_ccm_features() {
    let d = defaulted(&cluster(Provider::Kubevirt));
    assert_eq!(
        d["spec"]["clusterNetwork"]["pods"]["cidrBlocks"],
        json!(["172.26.0.0/16"])
    );
    assert_eq!(
        d["spec"]["clusterNetwork"]["services"]["cidrBlocks"],
        json!(["10.241.0.0/20"])
    );
    assert_eq!(d["spec"]["features"]["ccmClusterName"], true);
}

#[test]
fn vsphere_gets_csi_cluster_id_feature() {
    let d = defaulted(&cluster(Provider::Vsphere));
    assert_eq!(d["spec"]["features"]["vsphereCSIClusterID"], true);
}

#[test]
fn tunneling_gets_an_agent_ip() {
    let d = defaulted(&with(
        &cluster(Provider::Aws),
        "/spec/exposeStrategy",
        json!("Tunneling"),
    ));
    assert_eq!(d["spec"]["clusterNetwork"]["tunnelingAgentIP"], "100.64.30.10");
}

#[test]
fn explicit_values_are_kept() {
    let c = with(
        &cluster(Provider::Aws),
        "/spec/features/externalCloudProvider",
        json!(false),
    );
    let c = with(&c, "/spec/cniPlugin", json!({ "type": "canal" }));
    let d = defaulted(&c);
    assert_eq!(d["spec"]["features"]["externalCloudProvider"], false);
    assert_eq!(d["spec"]["cniPlugin"], json!({ "type": "canal", "version": "v3.31" }));
}

#[test]
fn create_only_defaults_are_not_applied_on_update() {
    let c = cluster(Provider::Aws);
    let req = Request {
        operation: Operation::Update,
        object: Some(&c),
        old_object: Some(&c),
        user: None,
    };
    let v = mutate(&req, &Context::default());
    assert!(v.object.as_ref().unwrap()["spec"].get("features").is_none());
}

#[test]
fn machine_deployment_defaults_follow_machine_controller() {
    let mut md = machine_deployment(Provider::Aws);
    md["metadata"].as_object_mut().unwrap().remove("namespace");
    let d = defaulted(&md);
    assert_eq!(d["metadata"]["namespace"], "default");
    let spec = &d["spec"];
    assert_eq!(spec["replicas"], 1);
    assert_eq!(spec["minReadySeconds"], 0);
    assert_eq!(spec["revisionHistoryLimit"], 1);
    assert_eq!(spec["progressDeadlineSeconds"], 600);
    assert_eq!(
        spec["strategy"],
        json!({ "type": "RollingUpdate", "rollingUpdate": { "maxUnavailable": 0, "maxSurge": 1 } })
    );
}

#[test]
fn kubelet_defaults_to_the_cluster_version_when_known() {
    let md = common::without(
        &machine_deployment(Provider::Hetzner),
        "/spec/template/spec/versions/kubelet",
    );
    let ctx = Context {
        cluster_version: Some(semver::Version::new(1, 35, 7)),
        ..Context::default()
    };
    let v = admit(&Request::create(&md), &ctx);
    assert_eq!(
        v.object.unwrap()["spec"]["template"]["spec"]["versions"]["kubelet"],
        "1.35.7"
    );
}

#[test]
fn patch_turns_the_input_into_the_defaulted_object() {
    for object in Provider::ALL.iter().flat_map(|p| [cluster(*p), machine_deployment(*p)]) {
        let v = mutate(&Request::create(&object), &Context::default());
        assert!(v.errors.is_empty(), "{:?}", v.errors);
        let mut patched = object.clone();
        json_patch::patch(&mut patched, &v.patch).expect("the patch applies");
        assert_eq!(&patched, v.object.as_ref().unwrap());
    }
}

#[test]
fn defaulting_a_defaulted_object_gives_an_empty_patch() {
    for object in Provider::ALL.iter().flat_map(|p| [cluster(*p), machine_deployment(*p)]) {
        let once = defaulted(&object);
        let again = mutate(&Request::create(&once), &Context::default());
        assert_eq!(again.patch.0, vec![], "{}", object["kind"]);
    }
}

#[test]
fn unknown_fields_survive_defaulting() {
    let c = with(&cluster(Provider::Aws), "/spec/someFutureField", json!({ "a": [1, 2] }));
    let c = with(&c, "/spec/cloud/aws/futureAwsField", json!("x"));
    let c = with(&c, "/spec/clusterNetwork/futureNetworkField", json!(true));
    let d = defaulted(&c);
    assert_eq!(d["spec"]["someFutureField"], json!({ "a": [1, 2] }));
    assert_eq!(d["spec"]["cloud"]["aws"]["futureAwsField"], "x");
    assert_eq!(d["spec"]["clusterNetwork"]["futureNetworkField"], true);
}

fn arb_cluster() -> impl Strategy<Value = Value> {
    (
        prop::sample::select(Provider::ALL.to_vec()),
        prop::option::of(prop::sample::select(vec!["NodePort", "LoadBalancer", "Tunneling"])),
        prop::option::of(prop::sample::select(vec!["canal", "cilium", "none"])),
        prop::option::of(prop::sample::select(vec!["IPv4", "IPv4+IPv6"])),
        prop::option::of(prop::sample::select(vec!["ipvs", "iptables", "nftables"])),
        prop::sample::select(vec!["1.33.4", "1.34.10", "1.35.7", "1.36.3"]),
        prop::option::of(any::<bool>()),
    )
        .prop_map(|(p, expose, cni, family, proxy, version, external)| {
            let mut c = with(&cluster(p), "/spec/version", json!(version));
            if let Some(e) = expose {
                c = with(&c, "/spec/exposeStrategy", json!(e));
            }
            if let Some(t) = cni {
                c = with(&c, "/spec/cniPlugin/type", json!(t));
            }
            if let Some(f) = family {
                c = with(&c, "/spec/clusterNetwork/ipFamily", json!(f));
            }
            if let Some(m) = proxy {
                c = with(&c, "/spec/clusterNetwork/proxyMode", json!(m));
            }
            if let Some(x) = external {
                c = with(&c, "/spec/features/externalCloudProvider", json!(x));
            }
            c
        })
}

fn arb_machine_deployment() -> impl Strategy<Value = Value> {
    (
        prop::sample::select(Provider::ALL.to_vec()),
        prop::option::of(0..10i32),
        prop::option::of(prop::sample::select(vec!["ubuntu", "flatcar", "rhel", "rockylinux"])),
        prop::option::of((0..3i32, 1..3i32)),
    )
        .prop_map(|(p, replicas, os, surge)| {
            let mut md = machine_deployment(p);
            if let Some(r) = replicas {
                md = with(&md, "/spec/replicas", json!(r));
            }
            if let Some(os) = os {
                let supported = p.supported_operating_systems().iter().any(|o| o.name() == os);
                if supported {
                    md = with(&md, "/spec/template/spec/providerSpec/value/operatingSystem", json!(os));
                    md = with(
                        &md,
                        "/spec/template/spec/providerSpec/value/operatingSystemSpec",
                        json!({}),
                    );
                }
            }
            if let Some((u, s)) = surge {
                md = with(
                    &md,
                    "/spec/strategy/rollingUpdate",
                    json!({ "maxUnavailable": u, "maxSurge": s }),
                );
            }
            md
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn cluster_defaulting_is_idempotent_and_keeps_valid_objects_valid(c in arb_cluster()) {
        let ctx = Context::default();
        let first = admit(&Request::create(&c), &ctx);
        let once = first.object.clone().expect("defaults");
        let twice = mutate(&Request::create(&once), &ctx);
        prop_assert_eq!(twice.patch.0.len(), 0);
        // A cluster valid after defaulting stays valid when defaulted again.
        if first.errors.is_empty() {
            let again = admit(&Request::create(&once), &ctx);
            prop_assert!(again.errors.is_empty(), "{:?}", again.errors);
        }
    }

    #[test]
    fn machine_deployment_defaulting_is_idempotent_and_valid(md in arb_machine_deployment()) {
        let ctx = Context::default();
        let first = admit(&Request::create(&md), &ctx);
        prop_assert!(first.errors.is_empty(), "{:?}", first.errors);
        let once = first.object.clone().expect("defaults");
        let twice = mutate(&Request::create(&once), &ctx);
        prop_assert_eq!(twice.patch.0.len(), 0);
    }
}
