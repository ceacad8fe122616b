//! Defaulting: KKP's and machine-controller's defaults, the JSON patch, and idempotence.

mod common;

use common::{cluster, defaulted, machine_deployment, with};
use kkp_crds::admission::{admit, mutate, validate};
use kkp_crds::context::Context;
use kkp_crds::providers::Provider;
use kkp_crds::request::{Operation, Request};
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
        spec["cloud"]["aws"].get("nodePortsAllowedIPRanges"),
        None,
        "KKP adds them only when the IP family is given"
    );
    assert_eq!(
        spec["features"],
        json!({ "apiserverNetworkPolicy": true, "ccmClusterName": true, "externalCloudProvider": true })
    );
    assert_eq!(spec["pause"], false);
    assert_eq!(
        spec["componentsOverride"],
        json!({
            "apiserver": { "nodePortRange": "30000-32767", "replicas": 2 },
            "controllerManager": { "replicas": 1 },
            "scheduler": { "replicas": 1 },
            "etcd": { "clusterSize": 3, "diskSize": "5Gi" }
        })
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
        // The second round adds the node port ranges KKP adds once the IP family is known.
        let once = defaulted(&defaulted(&object));
        let again = mutate(&Request::create(&once), &Context::default());
        assert_eq!(again.patch.0, vec![], "{}", object["kind"]);
    }
}

/// tests/unknown_fields.rs puts an unknown key into every object of a fully populated Cluster and
/// MachineDeployment; this one names a few.
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

#[test]
fn a_lone_zero_max_surge_is_refused_as_upstream() {
    // machine-controller fills each of maxSurge (1) and maxUnavailable (0) on its own, so a
    // deployment that only sets maxSurge to 0 ends up with both at 0, which its validation refuses.
    let md = with(
        &machine_deployment(Provider::Aws),
        "/spec/strategy",
        json!({ "type": "RollingUpdate", "rollingUpdate": { "maxSurge": 0 } }),
    );
    let v = admit(&Request::create(&md), &Context::default());
    assert_eq!(
        v.errors.iter().map(ToString::to_string).collect::<Vec<_>>(),
        ["spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when maxSurge is 0"]
    );
}

#[test]
fn an_empty_azure_load_balancer_sku_is_defaulted_like_an_absent_one() {
    let empty = with(
        &cluster(Provider::Azure),
        "/spec/cloud/azure/loadBalancerSKU",
        json!(""),
    );
    let absent = common::without(&cluster(Provider::Azure), "/spec/cloud/azure/loadBalancerSKU");
    for c in [empty, absent] {
        let v = mutate(&Request::create(&c), &Context::default());
        assert_eq!(
            v.object.unwrap()["spec"]["cloud"]["azure"]["loadBalancerSKU"],
            "standard"
        );
    }
    let basic = with(
        &cluster(Provider::Azure),
        "/spec/cloud/azure/loadBalancerSKU",
        json!("basic"),
    );
    assert_eq!(defaulted(&basic)["spec"]["cloud"]["azure"]["loadBalancerSKU"], "basic");
    // On UPDATE too: KKP's defaulting reads the empty value as unset whatever the operation.
    let empty = with(
        &cluster(Provider::Azure),
        "/spec/cloud/azure/loadBalancerSKU",
        json!(""),
    );
    let v = mutate(&Request::update(&empty, &empty), &Context::default());
    assert_eq!(
        v.object.unwrap()["spec"]["cloud"]["azure"]["loadBalancerSKU"],
        "standard"
    );
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

/// Clusters as a user may write them in full: everything validation requires is there, and each
/// optional field is either left for defaulting or set to a value of its own. Most of them are
/// valid as written; the property test below keeps only those that are.
fn arb_written_cluster() -> impl Strategy<Value = Value> {
    let network = (
        any::<bool>(),
        prop::option::of(Just(())),
        prop::sample::select(vec!["ipvs", "iptables", "nftables", "ebpf"]),
        prop::option::of(Just(true)),
        prop::option::of(20..=28i32),
        prop::option::of(any::<bool>()),
        prop::option::of(any::<bool>()),
    );
    let rest = (
        prop::option::of(prop::sample::select(vec!["NodePort", "LoadBalancer", "Tunneling"])),
        prop::option::of(prop::sample::select(vec!["canal", "cilium"])),
        prop::sample::select(vec!["1.34.10", "1.35.7", "1.36.3"]),
        prop::option::of(any::<bool>()),
        prop::option::of(Just("30000-32767")),
        prop::option::of(any::<bool>()),
    );
    (prop::sample::select(Provider::ALL.to_vec()), network, rest).prop_map(
        |(
            p,
            (dual, family, proxy, konnectivity, mask, strict_arp, dns_cache),
            (expose, cni, version, external, ports, dashboard),
        )| {
            let mut c = with(&cluster(p), "/spec/version", json!(version));
            c = with(&c, "/spec/cloud/providerName", json!(p.name()));
            if dual && p == Provider::Gcp {
                // KKP's dual-stack GCP clusters name a regional subnetwork.
                c = with(
                    &c,
                    "/spec/cloud/gcp/subnetwork",
                    json!("projects/kkp/regions/europe-west3/subnetworks/kkp"),
                );
            }
            let defaults = kkp_crds::defaulting::network_defaults(Some(p));
            let (pods, services) = if dual {
                (
                    json!([defaults.pods_v4, defaults.pods_v6]),
                    json!([defaults.services_v4, defaults.services_v6]),
                )
            } else {
                (json!([defaults.pods_v4]), json!([defaults.services_v4]))
            };
            let mut net = json!({
                "pods": { "cidrBlocks": pods },
                "services": { "cidrBlocks": services },
                "dnsDomain": "cluster.local",
                "proxyMode": proxy,
            });
            if family.is_some() {
                net["ipFamily"] = json!(if dual { "IPv4+IPv6" } else { "IPv4" });
            }
            if let Some(k) = konnectivity {
                net["konnectivityEnabled"] = json!(k);
            }
            if let Some(m) = mask {
                net["nodeCidrMaskSizeIPv4"] = json!(m);
            }
            if let Some(s) = strict_arp.filter(|_| proxy == "ipvs") {
                net["ipvs"] = json!({ "strictArp": s });
            }
            if let Some(d) = dns_cache {
                net["nodeLocalDNSCacheEnabled"] = json!(d);
            }
            c = with(&c, "/spec/clusterNetwork", net);
            if let Some(e) = expose {
                c = with(&c, "/spec/exposeStrategy", json!(e));
            }
            if let Some(t) = cni {
                // Validation wants a version with the type; defaulting fills it only later.
                let version = kkp_crds::cni::default_version(t).expect("a default version");
                c = with(&c, "/spec/cniPlugin", json!({ "type": t, "version": version }));
            }
            if let Some(x) = external {
                c = with(&c, "/spec/features/externalCloudProvider", json!(x));
            }
            if let Some(range) = ports {
                c = with(&c, "/spec/componentsOverride/apiserver/nodePortRange", json!(range));
            }
            if let Some(d) = dashboard {
                c = with(&c, "/spec/kubernetesDashboard/enabled", json!(d));
            }
            c
        },
    )
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

/// An int or a percentage, as `maxSurge` and `maxUnavailable` take them.
fn arb_int_or_percent() -> impl Strategy<Value = Value> {
    prop_oneof![
        (0..4i32).prop_map(|n| json!(n)),
        (0..=100i32).prop_map(|n| json!(format!("{n}%")))
    ]
}

/// MachineDeployments as a user may write them, with the control plane version the webhook may
/// know. Most are valid as written; the property test below keeps only those that are.
fn arb_written_machine_deployment() -> impl Strategy<Value = (Value, Option<semver::Version>)> {
    (
        prop::sample::select(Provider::ALL.to_vec()),
        prop::option::of(0..10i32),
        prop::option::of(any::<prop::sample::Index>()),
        prop::option::of((
            prop::option::of(arb_int_or_percent()),
            prop::option::of(arb_int_or_percent()),
        )),
        prop::option::of(0..600i32),
        prop::option::of(0..5i32),
        prop::option::of(prop::sample::select(vec![(1, 34, 10), (1, 35, 7), (1, 36, 3)])),
    )
        .prop_map(|(p, replicas, os, rolling, ready, history, cluster)| {
            let mut md = machine_deployment(p);
            if let Some(r) = replicas {
                md = with(&md, "/spec/replicas", json!(r));
            }
            if let Some(i) = os {
                let os = i.get(p.supported_operating_systems());
                md = with(&md, &format!("{VALUE}/operatingSystem"), json!(os.name()));
            }
            if let Some((mut unavailable, surge)) = rolling {
                // machine-controller defaults a missing maxUnavailable to 0, so a lone zero maxSurge
                // is refused after defaulting (see `a_lone_zero_max_surge_is_refused_as_upstream`).
                if unavailable.is_none() && surge.as_ref().is_some_and(|s| *s == json!(0) || *s == json!("0%")) {
                    unavailable = Some(json!(1));
                }
                md = with(&md, "/spec/strategy/type", json!("RollingUpdate"));
                if let Some(u) = unavailable {
                    md = with(&md, "/spec/strategy/rollingUpdate/maxUnavailable", u);
                }
                if let Some(s) = surge {
                    md = with(&md, "/spec/strategy/rollingUpdate/maxSurge", s);
                }
            }
            if let Some(s) = ready {
                md = with(&md, "/spec/minReadySeconds", json!(s));
            }
            if let Some(h) = history {
                md = with(&md, "/spec/revisionHistoryLimit", json!(h));
            }
            let cluster = cluster.map(|(a, b, c)| semver::Version::new(a, b, c));
            // Validation wants the kubelet version as written; a known control plane sets it.
            if let Some(cp) = &cluster {
                md = with(&md, "/spec/template/spec/versions/kubelet", json!(cp.to_string()));
            }
            (md, cluster)
        })
}

const VALUE: &str = "/spec/template/spec/providerSpec/value";

fn errors(v: &kkp_crds::admission::Verdict) -> Vec<String> {
    v.errors.iter().map(ToString::to_string).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn cluster_defaulting_is_idempotent(c in arb_cluster()) {
        // KKP adds the node port ranges of a provider block only once the IP family is set, so a
        // cluster written without one gains them on its second defaulting (its first update in
        // KKP), and is stable from then on.
        let ctx = Context::default();
        let once = mutate(&Request::create(&c), &ctx).object.expect("defaults");
        let twice = mutate(&Request::create(&once), &ctx).object.expect("defaults");
        let thrice = mutate(&Request::create(&twice), &ctx);
        prop_assert_eq!(thrice.patch.0.len(), 0);
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

proptest! {
    // The written objects are mostly valid: at most one rejected case per accepted one, or the
    // generators have drifted from the rules and the property tests next to nothing.
    #![proptest_config(ProptestConfig { cases: 128, max_global_rejects: 128, ..ProptestConfig::default() })]

    #[test]
    fn a_valid_cluster_stays_valid_after_defaulting(c in arb_written_cluster()) {
        let ctx = Context::default();
        prop_assume!(validate(&Request::create(&c), &ctx).errors.is_empty());
        let defaulted = mutate(&Request::create(&c), &ctx).object.expect("defaults");
        let after = validate(&Request::create(&defaulted), &ctx);
        prop_assert!(after.errors.is_empty(), "{:?}\nwritten: {}\ndefaulted: {}", errors(&after), c, defaulted);
    }

    #[test]
    fn a_valid_machine_deployment_stays_valid_after_defaulting((md, cluster) in arb_written_machine_deployment()) {
        let ctx = Context { cluster_version: cluster, ..Context::default() };
        prop_assume!(validate(&Request::create(&md), &ctx).errors.is_empty());
        let defaulted = mutate(&Request::create(&md), &ctx).object.expect("defaults");
        let after = validate(&Request::create(&defaulted), &ctx);
        prop_assert!(after.errors.is_empty(), "{:?}\nwritten: {}\ndefaulted: {}", errors(&after), md, defaulted);
    }
}
