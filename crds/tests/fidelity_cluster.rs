//! One test per row of the KKP fidelity audit this engine was changed for (Cluster defaulting,
//! validation and update rules): KKP admits what these admit, and refuses what these refuse,
//! at the same field and with the same reason.
//!
//! Each test cites the upstream code of its rule: `KKP` is kubermatic/kubermatic at 2974df5 and `MC`
//! kubermatic/machine-controller at f106833, paths relative to those repositories.

mod common;

use std::sync::Arc;

use common::{cluster, with, without};
use kkp_crds::admission::{Verdict, admit};
use kkp_crds::context::Context;
use kkp_crds::platform::Datacenters;
use kkp_crds::providers::Provider;
use kkp_crds::request::Request;
use pretty_assertions::assert_eq;
use serde_json::{Value, json};

fn create(object: &Value, ctx: &Context) -> Verdict {
    admit(&Request::create(object), ctx)
}

fn update(old: &Value, new: &Value, ctx: &Context) -> Verdict {
    admit(&Request::update(new, old), ctx)
}

fn errors(v: &Verdict) -> Vec<String> {
    v.errors.iter().map(ToString::to_string).collect()
}

fn admitted(v: &Verdict) -> Value {
    assert_eq!(errors(v), Vec::<String>::new());
    v.object.clone().expect("a defaulted object")
}

/// A context whose one Seed has these datacenters (`name -> spec`).
fn with_datacenters(dcs: Value) -> Context {
    let seed = json!({
        "apiVersion": "kubermatic.k8c.io/v1", "kind": "Seed",
        "metadata": {"name": "europe", "namespace": "kubermatic"},
        "spec": {"datacenters": dcs}
    });
    Context {
        datacenters: Some(Arc::new(Datacenters::from_seeds([&seed]).expect("a valid seed"))),
        ..Context::default()
    }
}

fn hetzner_without_network() -> Value {
    without(&cluster(Provider::Hetzner), "/spec/cloud/hetzner/network")
}

/// A stored cluster: as created, then written back the way KKP keeps it.
fn stored(object: &Value) -> Value {
    admitted(&create(object, &Context::default()))
}

/// Upstream: KKP pkg/validation/cluster.go:394-411; pkg/defaulting/configuration.go:225-273 (default v1.35.8)
#[test]
fn kkp_default_version_is_admitted_with_the_default_context() {
    let c = with(&cluster(Provider::Aws), "/spec/version", json!("1.35.8"));
    admitted(&create(&c, &Context::default()));
}

/// Upstream (CV14): KKP pkg/validation/cluster.go:126-128; pkg/cni/version.go:44-88,126-137
#[test]
fn cv14_deprecated_cni_version_is_allowed() {
    for (kind, version) in [
        ("canal", "v3.21"),
        ("canal", "v3.28"),
        ("cilium", "1.18.8"),
        ("cilium", "v1.11"),
    ] {
        let c = with(
            &cluster(Provider::Aws),
            "/spec/cniPlugin",
            json!({"type": kind, "version": version}),
        );
        admitted(&create(&c, &Context::default()));
    }
    let unknown = with(
        &cluster(Provider::Aws),
        "/spec/cniPlugin",
        json!({"type": "canal", "version": "v3.20"}),
    );
    assert_eq!(
        errors(&create(&unknown, &Context::default())),
        [
            "spec.cniPlugin.version: Unsupported value: \"v3.20\": supported values: \"v3.21\", \"v3.22\", \"v3.23\", \
          \"v3.24\", \"v3.25\", \"v3.26\", \"v3.27\", \"v3.28\", \"v3.29\", \"v3.30\", \"v3.31\""
        ]
    );
}

/// Upstream (CV14): KKP pkg/validation/cluster.go:126-128; pkg/cni/version.go:44-88,126-137
#[test]
fn cv14_label_update_of_a_cilium_1_18_8_cluster_is_admitted() {
    let old = stored(&with(
        &cluster(Provider::Aws),
        "/spec/cniPlugin",
        json!({"type": "cilium", "version": "1.18.8"}),
    ));
    let new = with(&old, "/metadata/labels/team", json!("a"));
    admitted(&update(&old, &new, &Context::default()));
}

/// Upstream (CV38): KKP pkg/crd/k8c.io/kubermatic.k8c.io_clusters.yaml (cloud.*); kubevirt
///   volumeSnapshotClasses 1265-1285; sdk datacenter.go:1100-1102
#[test]
fn cv38_kubevirt_volume_snapshot_classes_follow_upstream() {
    let c = with(
        &cluster(Provider::Kubevirt),
        "/spec/cloud/kubevirt/volumeSnapshotClasses",
        json!([{"infraVolumeSnapshotClass": "csi-snapclass", "isDefaultClass": true, "deletionPolicy": "Delete"}]),
    );
    admitted(&create(&c, &Context::default()));
    let nameless = with(
        &cluster(Provider::Kubevirt),
        "/spec/cloud/kubevirt/volumeSnapshotClasses",
        json!([{"isDefaultClass": true}]),
    );
    let e = errors(&create(&nameless, &Context::default()));
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(
        e[0].starts_with("spec.cloud.kubevirt.volumeSnapshotClasses[0].infraVolumeSnapshotClass: Required value"),
        "{e:?}"
    );
}

/// Upstream (CV5): KKP pkg/validation/cluster.go:370-372; sdk/semver/semver.go:66-77
#[test]
fn cv5_two_part_version_is_admitted() {
    let c = with(&cluster(Provider::Aws), "/spec/version", json!("1.35"));
    admitted(&create(&c, &Context::default()));
}

/// Upstream (CU4): KKP pkg/version/manager.go:251-283; pkg/defaulting/configuration.go:274-319
#[test]
fn cu4_patch_downgrade_within_a_minor_is_allowed() {
    let old = stored(&with(&cluster(Provider::Aws), "/spec/version", json!("1.35.7")));
    admitted(&update(
        &old,
        &with(&old, "/spec/version", json!("1.35.5")),
        &Context::default(),
    ));
    let minor_down = update(&old, &with(&old, "/spec/version", json!("1.34.9")), &Context::default());
    assert_eq!(minor_down.errors.len(), 1);
    assert_eq!(minor_down.errors[0].field.as_str(), "spec.version");
    assert!(
        minor_down.errors[0]
            .to_string()
            .starts_with("spec.version: Unsupported value: \"1.34.9\": supported values: \"1.35.0\""),
        "{:?}",
        minor_down.errors
    );
}

/// Upstream (CU5): KKP pkg/version/cluster/cluster.go:26-40; pkg/defaulting/configuration.go:321-330
#[test]
fn cu5_in_tree_ccm_clusters_cannot_change_version() {
    let in_tree = with(
        &cluster(Provider::Aws),
        "/spec/features/externalCloudProvider",
        json!(false),
    );
    let old = stored(&in_tree);
    let v = update(&old, &with(&old, "/spec/version", json!("1.35.8")), &Context::default());
    assert_eq!(
        errors(&v),
        [
            "spec.version: Unsupported value: \"1.35.8\": clusters with the in-tree cloud provider cannot be updated to \
          1.35.8 (>= 1.29.0); enable spec.features.externalCloudProvider first"
        ]
    );
}

/// Upstream (CU10): KKP pkg/validation/cluster.go:320-328
/// Upstream (CU17): KKP pkg/validation/cluster.go:1290-1298
/// Upstream (CU21): KKP pkg/validation/cluster.go:1336-1342
/// Upstream (CU22): KKP pkg/validation/cluster.go:1344-1376; pkg/cni/version.go:104-113
#[test]
fn cu10_cu17_cu21_cu22_unsafe_labels_count_when_present() {
    let old = stored(&cluster(Provider::Aws));
    let labelled = |label: &str| with(&old, &format!("/metadata/labels/{label}"), json!(""));
    let expose = with(
        &labelled("unsafe-expose-strategy-migration"),
        "/spec/exposeStrategy",
        json!("LoadBalancer"),
    );
    admitted(&update(&old, &expose, &Context::default()));
    let proxy = with(
        &labelled("unsafe-cni-migration"),
        "/spec/clusterNetwork/proxyMode",
        json!("iptables"),
    );
    admitted(&update(&old, &proxy, &Context::default()));
    let migrated = with(
        &labelled("unsafe-cni-migration"),
        "/spec/cniPlugin",
        json!({"type": "canal", "version": "v3.31"}),
    );
    admitted(&update(&old, &migrated, &Context::default()));
    let jumped = with(
        &labelled("unsafe-cni-upgrade"),
        "/spec/cniPlugin/version",
        json!("1.17.16"),
    );
    admitted(&update(&old, &jumped, &Context::default()));
}

/// Upstream (CU22): KKP pkg/validation/cluster.go:1344-1376; pkg/cni/version.go:104-113
#[test]
fn cu22_canal_below_3_22_may_move_to_3_22_and_bad_versions_are_named() {
    let old = with(
        &stored(&cluster(Provider::Aws)),
        "/spec/cniPlugin",
        json!({"type": "canal", "version": "v3.19"}),
    );
    let new = with(&old, "/spec/cniPlugin/version", json!("v3.22"));
    admitted(&update(&old, &new, &Context::default()));
    let bad = with(&old, "/spec/cniPlugin/version", json!("v3.x"));
    let e = errors(&update(&old, &bad, &Context::default()));
    assert!(
        e.iter().any(
            |e| e.starts_with("spec.cniPlugin.version: Invalid value: \"v3.x\": couldn't parse CNI version `v3.x`")
        ),
        "{e:?}"
    );
}

/// Upstream (CV54): KKP pkg/validation/cluster.go:1406-1414
#[test]
fn cv54_same_core_dns_replicas_in_both_places_is_allowed() {
    let c = with(
        &with(
            &cluster(Provider::Aws),
            "/spec/componentsOverride/coreDNS/replicas",
            json!(2),
        ),
        "/spec/clusterNetwork/coreDNSReplicas",
        json!(2),
    );
    admitted(&create(&c, &Context::default()));
}

/// Upstream (CV55): KKP pkg/validation/cluster.go:174-176; sdk cluster.go:534-567
#[test]
fn cv55_authorization_webhook_and_file_conflict_only_when_both_enabled() {
    let c = with(
        &cluster(Provider::Aws),
        "/spec/authorizationConfig",
        json!({
            "authorizationWebhookConfiguration": {"secretName": "a", "secretKey": "k", "webhookVersion": "v1"},
            "authorizationConfigurationFile": {"secretName": "b", "secretKey": "k"}
        }),
    );
    admitted(&create(&c, &Context::default()));
}

/// Upstream (CV50): KKP pkg/validation/cluster.go:161-164,1246-1261
#[test]
fn cv50_node_port_ranges_in_every_kubernetes_form() {
    for range in ["30000", "30000-32767", "30000+2767"] {
        let c = with(
            &cluster(Provider::Aws),
            "/spec/componentsOverride/apiserver/nodePortRange",
            json!(range),
        );
        admitted(&create(&c, &Context::default()));
    }
    let zero = with(
        &cluster(Provider::Aws),
        "/spec/componentsOverride/apiserver/nodePortRange",
        json!("0-100"),
    );
    assert_eq!(
        errors(&create(&zero, &Context::default())),
        ["spec.componentsOverride.apiserver.nodePortRange: Invalid value: \"0-100\": invalid nodeport range"]
    );
}

/// Upstream (CD2): KKP pkg/defaulting/cluster.go:132-138
/// Upstream (CV19): KKP pkg/validation/cluster.go:769-774
#[test]
fn cd2_cv19_provider_name_is_overwritten() {
    let c = with(&cluster(Provider::Aws), "/spec/cloud/providerName", json!("hetzner"));
    let d = admitted(&create(&c, &Context::default()));
    assert_eq!(d["spec"]["cloud"]["providerName"], "aws");
}

/// Upstream (CV7): KKP pkg/validation/cluster.go:413-415,1392-1404
/// Upstream (CU6): KKP pkg/validation/cluster.go:386-388
#[test]
fn cv7_cu6_pod_security_policy_is_checked_with_the_version() {
    let psp = with(
        &cluster(Provider::Aws),
        "/spec/usePodSecurityPolicyAdmissionPlugin",
        json!(true),
    );
    let message = "spec.version: Forbidden: admission plugin \"PodSecurityPolicy\" is not supported in Kubernetes \
                   v1.25 and later";
    assert_eq!(errors(&create(&psp, &Context::default())), [message]);
    // A stored cluster that has it is not refused for unrelated changes...
    let old = with(
        &stored(&cluster(Provider::Aws)),
        "/spec/usePodSecurityPolicyAdmissionPlugin",
        json!(true),
    );
    admitted(&update(
        &old,
        &with(&old, "/metadata/labels/team", json!("a")),
        &Context::default(),
    ));
    // ...but with a version change.
    let moved = with(&old, "/spec/version", json!("1.35.8"));
    assert_eq!(errors(&update(&old, &moved, &Context::default())), [message]);
    // A datacenter that enforces PodSecurityPolicy turns it on, and KKP then refuses the cluster.
    let ctx = with_datacenters(
        json!({"aws-dc1": {"spec": {"aws": {"region": "eu-central-1"}, "enforcePodSecurityPolicy": true}}}),
    );
    assert_eq!(errors(&create(&cluster(Provider::Aws), &ctx)), [message]);
}

/// Upstream: KKP pkg/defaulting/cluster.go:94-96,177-191,235-292 (unset means the Go zero value)
#[test]
fn go_zero_valued_cluster_is_admitted() {
    // A Cluster as KKP's Go clients write it: every field without omitempty, with its zero value.
    let c = json!({
        "apiVersion": "kubermatic.k8c.io/v1",
        "kind": "Cluster",
        "metadata": {"name": "k7bxrtzfwl", "labels": {"project-id": "xw2k9fgh4t"}, "creationTimestamp": null},
        "spec": {
            "humanReadableName": "demo",
            "version": "1.35.8",
            "cloud": {
                "dc": "aws-dc1",
                "providerName": "",
                "aws": {
                    "credentialsReference": {"name": "credential-aws-xyz", "namespace": "kubermatic"},
                    "instanceProfileName": "", "roleARN": "", "routeTableID": "", "securityGroupID": "", "vpcID": "",
                    "nodePortsAllowedIPRange": ""
                }
            },
            "clusterNetwork": {
                "ipFamily": "",
                "pods": {"cidrBlocks": null},
                "services": {"cidrBlocks": null},
                "proxyMode": "",
                "dnsDomain": "",
                "tunnelingAgentIP": ""
            },
            "exposeStrategy": "",
            "cniPlugin": {"type": "cilium", "version": ""},
            "componentsOverride": {
                "apiserver": {"nodePortRange": "", "replicas": null},
                "controllerManager": {"leaderElection": {}, "replicas": null},
                "scheduler": {"leaderElection": {}, "replicas": null},
                "etcd": {"clusterSize": null, "diskSize": null},
                "prometheus": {}
            },
            "oidc": {},
            "features": null
        },
        "status": {"address": {}, "versions": {"controlPlane": ""}}
    });
    let d = admitted(&create(&c, &Context::default()));
    let spec = &d["spec"];
    assert_eq!(spec["exposeStrategy"], "NodePort");
    assert_eq!(spec["cloud"]["providerName"], "aws");
    assert_eq!(spec["cniPlugin"], json!({"type": "cilium", "version": "1.19.4"}));
    assert_eq!(spec["componentsOverride"]["apiserver"]["nodePortRange"], "30000-32767");
    assert_eq!(spec["componentsOverride"]["apiserver"]["replicas"], 2);
    let net = &spec["clusterNetwork"];
    assert_eq!(net["ipFamily"], "IPv4");
    assert_eq!(net["pods"]["cidrBlocks"], json!(["172.25.0.0/16"]));
    assert_eq!(net["services"]["cidrBlocks"], json!(["10.240.16.0/20"]));
    assert_eq!(net["dnsDomain"], "cluster.local");
    // proxyMode was sent (""), so the CRD's ipvs default does not apply; KKP's Go default does.
    assert_eq!(net["proxyMode"], "nftables");
}

/// Upstream (CD24): KKP pkg/mutation/cluster/mutation.go:55-59; pkg/resources/cloudcontroller.go:31-70
#[test]
fn cd24_hetzner_without_network_gets_no_external_ccm() {
    let v = create(&hetzner_without_network(), &Context::default());
    let d = admitted(&v);
    assert_eq!(d["spec"]["features"], json!({"apiserverNetworkPolicy": true}));
    assert_eq!(
        v.warnings,
        ["kkp: datacenter \"hetzner-dc1\" is not known here; rules that depend on it were skipped"]
    );
}

/// Upstream (CD24): KKP pkg/mutation/cluster/mutation.go:55-59; pkg/resources/cloudcontroller.go:31-70
#[test]
fn cd24_hetzner_datacenter_network_enables_external_ccm() {
    let ctx =
        with_datacenters(json!({"hetzner-dc1": {"spec": {"hetzner": {"datacenter": "fsn1-dc14", "network": "kkp"}}}}));
    let v = create(&hetzner_without_network(), &ctx);
    let d = admitted(&v);
    assert_eq!(d["spec"]["features"]["externalCloudProvider"], true);
    assert_eq!(v.warnings, Vec::<String>::new());
}

/// Upstream (CD24): KKP pkg/mutation/cluster/mutation.go:55-59; pkg/resources/cloudcontroller.go:31-70
#[test]
fn cd24_openstack_on_otc_keeps_the_in_tree_provider() {
    let ctx = with_datacenters(json!({"openstack-dc1": {"spec": {"openstack": {
        "authURL": "https://iam.eu-de.otc.t-systems.com/v3", "region": "eu-de"
    }}}}));
    let d = admitted(&create(&cluster(Provider::Openstack), &ctx));
    assert_eq!(d["spec"]["features"], json!({"apiserverNetworkPolicy": true}));
}

/// Upstream (CV12): KKP pkg/validation/cluster.go:117-121; pkg/resources/cloudcontroller.go:31-70
#[test]
fn cv12_unsupported_external_ccm_is_refused() {
    let ctx = with_datacenters(json!({"hetzner-dc1": {"spec": {"hetzner": {"datacenter": "fsn1-dc14"}}}}));
    let c = with(
        &hetzner_without_network(),
        "/spec/features/externalCloudProvider",
        json!(true),
    );
    assert_eq!(
        errors(&create(&c, &ctx)),
        [
            "spec.features[externalCloudProvider]: Invalid value: true: external cloud-controller-manager is not \
          supported for this cluster / provider combination"
        ]
    );
    // Without the datacenter the rule cannot be decided and is skipped, with a warning.
    let v = create(&c, &Context::default());
    admitted(&v);
    assert_eq!(v.warnings.len(), 1, "{:?}", v.warnings);
}

/// Upstream (CV17): KKP pkg/validation/cluster.go:758-760
#[test]
fn cv17_datacenter_provider_must_match_the_cluster() {
    let ctx = with_datacenters(json!({"aws-dc1": {"spec": {"hetzner": {"datacenter": "fsn1-dc14"}}}}));
    assert_eq!(
        errors(&create(&cluster(Provider::Aws), &ctx)),
        ["spec.cloud: Invalid value: null: expected datacenter provider to be \"aws\", but got \"hetzner\""]
    );
}

/// Upstream (CD7): KKP pkg/defaulting/cluster.go:189-191; CRD cniPlugin.required [type, version]
#[test]
fn cd7_cni_without_type_is_not_defaulted() {
    let c = with(&cluster(Provider::Aws), "/spec/cniPlugin", json!({"version": "1.19.4"}));
    assert_eq!(
        errors(&create(&c, &Context::default())),
        ["spec.cniPlugin.type: Required value"]
    );
}

/// Upstream (CD13): KKP pkg/crd/k8c.io/kubermatic.k8c.io_clusters.yaml:1929
#[test]
fn cd13_a_sent_cluster_network_gets_the_crd_proxy_mode() {
    let c = with(
        &cluster(Provider::Aws),
        "/spec/clusterNetwork",
        json!({"pods": {"cidrBlocks": ["10.0.0.0/16"]}}),
    );
    let d = admitted(&create(&c, &Context::default()));
    assert_eq!(d["spec"]["clusterNetwork"]["proxyMode"], "ipvs");
    assert_eq!(d["spec"]["clusterNetwork"]["ipvs"], json!({"strictArp": true}));
    // Without the block, KKP's own default for 1.35 applies.
    let d = admitted(&create(&cluster(Provider::Aws), &Context::default()));
    assert_eq!(d["spec"]["clusterNetwork"]["proxyMode"], "nftables");
}

/// Upstream (CD20): KKP pkg/defaulting/seed.go:100-133; configuration.go:44,56; sdk cluster.go:68
#[test]
fn cd20_seed_component_defaults_fill_unset_fields() {
    let c = with(
        &cluster(Provider::Aws),
        "/spec/componentsOverride",
        json!({"apiserver": {"replicas": 3}, "etcd": {"diskSize": "10Gi"}}),
    );
    let d = admitted(&create(&c, &Context::default()));
    assert_eq!(
        d["spec"]["componentsOverride"],
        json!({
            "apiserver": {"nodePortRange": "30000-32767", "replicas": 3},
            "controllerManager": {"replicas": 1},
            "scheduler": {"replicas": 1},
            "etcd": {"clusterSize": 3, "diskSize": "10Gi"}
        })
    );
}

/// Upstream (CD21): KKP pkg/defaulting/cluster.go:86-90; pkg/provider/cloud/aws/provider.go:88-105 (same in
///   azure/gcp/openstack)
#[test]
fn cd21_node_port_ranges_follow_a_stated_ip_family() {
    let dual = with(
        &cluster(Provider::Aws),
        "/spec/clusterNetwork/ipFamily",
        json!("IPv4+IPv6"),
    );
    let d = admitted(&create(&dual, &Context::default()));
    assert_eq!(
        d["spec"]["cloud"]["aws"]["nodePortsAllowedIPRanges"],
        json!({"cidrBlocks": ["0.0.0.0/0", "::/0"]})
    );
    let unstated = admitted(&create(&cluster(Provider::Aws), &Context::default()));
    assert_eq!(unstated["spec"]["cloud"]["aws"].get("nodePortsAllowedIPRanges"), None);
}

/// Upstream (CD25): KKP pkg/mutation/cluster/mutation.go:61-63; pkg/resources/cloudcontroller.go:112-123
#[test]
fn cd25_ccm_cluster_name_on_the_providers_kkp_names() {
    for (p, expected) in [
        (Provider::Aws, Some(true)),
        (Provider::Azure, Some(true)),
        (Provider::Gcp, Some(true)),
        (Provider::Openstack, Some(true)),
        (Provider::Kubevirt, Some(true)),
        (Provider::Vsphere, None),
        (Provider::Hetzner, None),
        (Provider::Digitalocean, None),
    ] {
        let d = admitted(&create(&cluster(p), &Context::default()));
        assert_eq!(d["spec"]["features"]["externalCloudProvider"], true, "{p}");
        assert_eq!(d["spec"]["features"]["ccmClusterName"].as_bool(), expected, "{p}");
    }
}

/// Upstream (CD27): KKP pkg/mutation/cluster/mutation.go:104-108
#[test]
fn cd27_kubevirt_updates_get_ccm_cluster_name() {
    let old = stored(&cluster(Provider::Kubevirt));
    let new = without(&old, "/spec/features/ccmClusterName");
    let d = admitted(&update(&old, &new, &Context::default()));
    assert_eq!(d["spec"]["features"]["ccmClusterName"], true);
}

/// Upstream (CD28): KKP pkg/mutation/cluster/mutation.go:80-101
#[test]
fn cd28_enabling_external_ccm_marks_the_migration() {
    let old = stored(&with(
        &cluster(Provider::Openstack),
        "/spec/features/externalCloudProvider",
        json!(false),
    ));
    let new = with(&old, "/spec/features/externalCloudProvider", json!(true));
    let v = update(&old, &new, &Context::default());
    let d = admitted(&v);
    assert_eq!(
        d["metadata"]["annotations"],
        json!({"ccm-migration.k8c.io/migration-needed": "", "csi-migration.k8c.io/migration-needed": ""})
    );
    assert_eq!(d["spec"]["cloud"]["openstack"]["useOctavia"], true);
    assert_eq!(d["spec"]["features"]["ccmClusterName"], true);
}

/// Upstream (CD29): KKP CRD spec.eventRateLimitConfig.*
#[test]
fn cd29_event_rate_limit_buckets_get_the_crd_defaults() {
    let c = with(
        &cluster(Provider::Aws),
        "/spec/eventRateLimitConfig",
        json!({"server": {"qps": 10}}),
    );
    let d = admitted(&create(&c, &Context::default()));
    assert_eq!(
        d["spec"]["eventRateLimitConfig"],
        json!({"server": {"qps": 10, "burst": 100, "cacheSize": 4096}})
    );
}

/// Upstream (CV23): KKP pkg/provider/cloud/aws/provider.go ValidateCloudSpec
#[test]
fn cv23_aws_security_group_needs_a_vpc() {
    let c = with(
        &with(&cluster(Provider::Aws), "/spec/cloud/aws/vpcID", json!("")),
        "/spec/cloud/aws/securityGroupID",
        json!("sg-1"),
    );
    assert_eq!(
        errors(&create(&c, &Context::default())),
        ["spec.cloud: Invalid value: \"<redacted>\": a security group ID can only be given together with a VPC ID"]
    );
}

/// Upstream (CV27): KKP pkg/validation/cluster.go:932-943
#[test]
fn cv27_gcp_dual_stack_needs_a_regional_subnetwork() {
    let dual = with(
        &cluster(Provider::Gcp),
        "/spec/clusterNetwork/ipFamily",
        json!("IPv4+IPv6"),
    );
    assert_eq!(
        errors(&create(&dual, &Context::default())),
        [
            "spec.cloud: Invalid value: \"<redacted>\": network and subnetwork should be defined for GCP dual-stack \
          (IPv4 + IPv6) cluster"
        ]
    );
    let named = with(
        &dual,
        "/spec/cloud/gcp/subnetwork",
        json!("projects/kkp/regions/europe-west3/subnetworks/kkp"),
    );
    admitted(&create(&named, &Context::default()));
}

/// Upstream (CV34): KKP pkg/validation/cluster.go:876-878
#[test]
fn cv34_openstack_ingress_hostname_needs_external_ccm() {
    let c = with(
        &with(
            &cluster(Provider::Openstack),
            "/spec/features/externalCloudProvider",
            json!(false),
        ),
        "/spec/cloud/openstack/enableIngressHostname",
        json!(true),
    );
    assert_eq!(
        errors(&create(&c, &Context::default())),
        ["spec.cloud: Invalid value: \"<redacted>\": cannot enable ingress hostname feature without external CCM"]
    );
}

/// Upstream (CV59): KKP pkg/validation/cluster.go:195-199
#[test]
fn cv59_authentication_configuration_names_its_secret() {
    let c = with(
        &cluster(Provider::Aws),
        "/spec/authenticationConfiguration",
        json!({"secretName": "authn"}),
    );
    assert_eq!(
        errors(&create(&c, &Context::default())),
        [
            "spec.authenticationConfiguration.secretKey: Required value: the Secret that holds the AuthenticationConfiguration"
        ]
    );
}

/// Upstream (CU9): KKP pkg/validation/cluster.go:311-318
#[test]
fn cu9_csi_driver_stays_while_its_addon_is_in_use() {
    let old = with(
        &stored(&cluster(Provider::Aws)),
        "/status/conditions/CSIAddonInUse",
        json!({"status": "True", "reason": "volumes exist"}),
    );
    let new = with(&old, "/spec/disableCsiDriver", json!(true));
    assert_eq!(
        errors(&update(&old, &new, &Context::default())),
        ["spec.DisableCSIDriver: Forbidden: CSI addon is in use or unknown state volumes exist"]
    );
}

/// Upstream (CU13): KKP pkg/validation/cluster.go:344-347
#[test]
fn cu13_ssh_key_agent_cannot_go_from_unset_to_false() {
    let old = stored(&cluster(Provider::Aws));
    let new = with(&old, "/spec/enableUserSSHKeyAgent", json!(false));
    assert_eq!(
        errors(&update(&old, &new, &Context::default())),
        [
            "cluster.spec.enableUserSSHKeyAgent: Invalid value: false: UserSSHKey agent is enabled by default for user \
          clusters created prior KKP 2.16 version"
        ]
    );
}

fn encrypted() -> Value {
    let key = json!({"name": "key1", "value": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="});
    let c = with(
        &with(
            &stored(&cluster(Provider::Aws)),
            "/spec/features/encryptionAtRest",
            json!(true),
        ),
        "/spec/encryptionConfiguration",
        json!({"enabled": true, "resources": ["secrets"], "secretbox": {"keys": [key]}}),
    );
    with(&c, "/status/encryption", json!({"phase": "Active"}))
}

/// Upstream (CU24): KKP pkg/validation/cluster.go:602-620
#[test]
fn cu24_encrypted_resources_cannot_change_while_encryption_is_on() {
    let old = encrypted();
    let new = with(
        &old,
        "/spec/encryptionConfiguration/resources",
        json!(["secrets", "configmaps"]),
    );
    assert_eq!(
        errors(&update(&old, &new, &Context::default())),
        [
            "spec.encryptionConfiguration.resources: Forbidden: list of encrypted resources cannot be changed. Please \
          disable encryption and re-configure"
        ]
    );
}

/// Upstream (CU25): KKP pkg/validation/cluster.go:624-629
#[test]
fn cu25_encryption_feature_stays_while_encryption_is_configured() {
    let old = encrypted();
    let new = with(&old, "/spec/features/encryptionAtRest", json!(false));
    let e = errors(&update(&old, &new, &Context::default()));
    assert!(
        e.contains(
            &"features: Forbidden: cannot disable \"encryptionAtRest\" feature flag while encryption is still \
              configured or active"
                .to_owned()
        ),
        "{e:?}"
    );
}

/// Upstream (X3): none: a rule upstream does not have (see the README's deliberate differences)
#[test]
fn x3_project_rule_warns_on_an_unchanged_update_and_refuses_a_new_value() {
    let lb = with(&cluster(Provider::Aws), "/spec/exposeStrategy", json!("LoadBalancer"));
    let bad = with(
        &lb,
        "/spec/apiServerAllowedIPRanges",
        json!({"cidrBlocks": ["10.0.0.0/99"]}),
    );
    let message = "spec.apiServerAllowedIPRanges.cidrBlocks[0]: Invalid value: \"10.0.0.0/99\": not a valid CIDR";
    assert_eq!(errors(&create(&bad, &Context::default())), [message]);
    // Stored by KKP, which never checked it: updates of other fields pass with a warning.
    let old = with(
        &stored(&lb),
        "/spec/apiServerAllowedIPRanges",
        json!({"cidrBlocks": ["10.0.0.0/99"]}),
    );
    let v = update(
        &old,
        &with(&old, "/metadata/labels/team", json!("a")),
        &Context::default(),
    );
    admitted(&v);
    assert!(v.warnings.iter().any(|w| w.starts_with(message)), "{:?}", v.warnings);
}

/// Upstream (CV11): KKP pkg/validation/cluster.go:112-114
#[test]
fn cv11_an_empty_tunneling_agent_ip_is_unset() {
    let c = with(
        &cluster(Provider::Aws),
        "/spec/clusterNetwork/tunnelingAgentIP",
        json!(""),
    );
    admitted(&create(&c, &Context::default()));
}

/// Upstream (CD1): KKP pkg/defaulting/cluster.go:94-96; pkg/defaulting/configuration.go:60
#[test]
fn cd1_expose_strategy_defaults_to_the_seed_then_the_configuration_then_node_port() {
    let object = cluster(Provider::Hetzner);
    let strategy = |ctx: &Context| admitted(&create(&object, ctx))["spec"]["exposeStrategy"].clone();
    assert_eq!(strategy(&Context::default()), json!("NodePort"));
    let configured = Context {
        expose_strategy: Some("LoadBalancer".into()),
        ..Context::default()
    };
    assert_eq!(
        strategy(&configured),
        json!("LoadBalancer"),
        "the configuration's default"
    );
    let seed = json!({
        "apiVersion": "kubermatic.k8c.io/v1", "kind": "Seed",
        "metadata": {"name": "europe", "namespace": "kubermatic"},
        "spec": {"exposeStrategy": "Tunneling", "datacenters": {
            "hetzner-dc1": {"spec": {"hetzner": {"datacenter": "fsn1-dc14", "network": "kkp"}}}
        }}
    });
    let seeded = Context {
        datacenters: Some(Arc::new(Datacenters::from_seeds([&seed]).expect("a valid seed"))),
        ..configured.clone()
    };
    assert_eq!(strategy(&seeded), json!("Tunneling"), "the Seed's default wins");
    let mut explicit = object.clone();
    explicit["spec"]["exposeStrategy"] = json!("NodePort");
    assert_eq!(
        admitted(&create(&explicit, &seeded))["spec"]["exposeStrategy"],
        json!("NodePort"),
        "a strategy the user wrote stays"
    );
}
