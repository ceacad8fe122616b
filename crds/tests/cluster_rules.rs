//! Every Cluster rule: one case that passes and one that fails with the exact error.

mod common;

use common::{cluster, create_errors, defaulted, update_errors, with, without};
use kkp_crds::providers::Provider;
use pretty_assertions::assert_eq;
use serde_json::{Value, json};

fn base() -> Value {
    defaulted(&cluster(Provider::Hetzner))
}

/// Asserts the base passes, and the changed object fails with exactly these errors.
fn fails(changed: Value, expected: &[&str]) {
    assert_eq!(
        create_errors(&base()),
        Vec::<String>::new(),
        "the base cluster must be valid"
    );
    assert_eq!(create_errors(&changed), expected);
}

#[test]
fn every_provider_example_is_valid_after_defaulting() {
    for p in Provider::ALL {
        let obj = defaulted(&cluster(p));
        assert_eq!(create_errors(&obj), Vec::<String>::new(), "{p}");
    }
}

#[test]
fn name_must_be_a_short_dns_label() {
    fails(
        with(&base(), "/metadata/name", json!("Bad_Name")),
        &[
            "metadata.name: Invalid value: \"Bad_Name\": a cluster name must be a DNS-1035 label: lower case letters, digits and '-', starting with a letter",
        ],
    );
    let long = "a".repeat(37);
    fails(
        with(&base(), "/metadata/name", json!(long)),
        &[&format!(
            "metadata.name: Invalid value: \"{long}\": must be no more than 36 characters"
        )],
    );
}

#[test]
fn project_label_is_required_on_create() {
    fails(
        without(&base(), "/metadata/labels/project-id"),
        &["metadata.labels[project-id]: Required value: every cluster belongs to a KKP project"],
    );
}

#[test]
fn human_readable_name_is_required() {
    fails(
        with(&base(), "/spec/humanReadableName", json!("")),
        &["spec.humanReadableName: Required value: no name specified"],
    );
    // KKP only refuses an empty name; blanks get a warning here.
    let blanks = kkp_crds::validate(
        &kkp_crds::Request::create(&with(&base(), "/spec/humanReadableName", json!(" "))),
        &Default::default(),
    );
    assert!(blanks.errors.is_empty(), "{:?}", blanks.errors);
    assert_eq!(
        blanks.warnings,
        ["spec.humanReadableName: Invalid value: \" \": consists of blanks only"]
    );
}

#[test]
fn version_must_be_semver_and_offered() {
    fails(
        without(&base(), "/spec/version"),
        &["spec.version: Required value: version is required but was not specified"],
    );
    fails(
        with(&base(), "/spec/version", json!("1.x")),
        &[
            "spec.version: Invalid value: \"1.x\": not a semantic version: expected up to three dot-separated numbers such as 1.35.2, found \"1.x\"",
        ],
    );
    let offered = kkp_crds::versions::VersionCatalog::default()
        .versions
        .iter()
        .map(|v| format!("{:?}", v.to_string()))
        .collect::<Vec<_>>()
        .join(", ");
    fails(
        with(&base(), "/spec/version", json!("1.31.2")),
        &[&format!(
            "spec.version: Unsupported value: \"1.31.2\": supported values: {offered}"
        )],
    );
    assert_eq!(
        create_errors(&with(&base(), "/spec/version", json!("v1.36.3"))),
        Vec::<String>::new()
    );
}

#[test]
fn pod_security_policy_is_forbidden() {
    fails(
        with(&base(), "/spec/usePodSecurityPolicyAdmissionPlugin", json!(true)),
        &[
            "spec.version: Forbidden: admission plugin \"PodSecurityPolicy\" is not supported in Kubernetes v1.25 and later",
        ],
    );
    fails(
        with(
            &base(),
            "/spec/admissionPlugins",
            json!(["PodNodeSelector", "PodSecurityPolicy"]),
        ),
        &[
            "spec.version: Forbidden: admission plugin \"PodSecurityPolicy\" is not supported in Kubernetes v1.25 and later",
        ],
    );
}

#[test]
fn container_runtime_must_be_containerd() {
    fails(
        with(&base(), "/spec/containerRuntime", json!("docker")),
        &["spec.containerRuntime: Unsupported value: \"docker\": supported values: \"containerd\""],
    );
}

#[test]
fn expose_strategy_rules() {
    fails(
        with(&base(), "/spec/exposeStrategy", json!("Ingress")),
        &[
            "spec.exposeStrategy: Unsupported value: \"Ingress\": supported values: \"NodePort\", \"LoadBalancer\", \"Tunneling\"",
        ],
    );
    fails(
        with(
            &base(),
            "/spec/apiServerAllowedIPRanges",
            json!({ "cidrBlocks": ["10.0.0.0/8"] }),
        ),
        &["spec.apiServerAllowedIPRanges: Forbidden: only allowed with exposeStrategy LoadBalancer"],
    );
    let lb = with(&base(), "/spec/exposeStrategy", json!("LoadBalancer"));
    assert_eq!(
        create_errors(&with(
            &lb,
            "/spec/apiServerAllowedIPRanges",
            json!({ "cidrBlocks": ["10.0.0.0/8"] })
        )),
        Vec::<String>::new()
    );
    fails(
        with(
            &lb,
            "/spec/apiServerAllowedIPRanges",
            json!({ "cidrBlocks": ["10.0.0.0/33"] }),
        ),
        &["spec.apiServerAllowedIPRanges.cidrBlocks[0]: Invalid value: \"10.0.0.0/33\": not a valid CIDR"],
    );
    fails(
        with(&base(), "/spec/clusterNetwork/tunnelingAgentIP", json!("100.64.30.10")),
        &["spec.clusterNetwork.tunnelingAgentIP: Forbidden: only allowed with exposeStrategy Tunneling"],
    );
    let tunneling = with(&base(), "/spec/exposeStrategy", json!("Tunneling"));
    assert_eq!(
        create_errors(&with(
            &tunneling,
            "/spec/clusterNetwork/tunnelingAgentIP",
            json!("100.64.30.10")
        )),
        Vec::<String>::new()
    );
}

#[test]
fn cni_rules() {
    fails(
        with(&base(), "/spec/cniPlugin", json!({ "type": "flannel", "version": "1" })),
        &["spec.cniPlugin.type: Unsupported value: \"flannel\": supported values: \"canal\", \"cilium\", \"none\""],
    );
    fails(
        with(
            &base(),
            "/spec/cniPlugin",
            json!({ "type": "cilium", "version": "1.14.0" }),
        ),
        &[&format!(
            "spec.cniPlugin.version: Unsupported value: \"1.14.0\": supported values: {}",
            kkp_crds::cni::allowed_versions("cilium")
                .iter()
                .map(|v| format!("{v:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        )],
    );
    fails(
        with(&base(), "/spec/cniPlugin", json!({ "type": "none", "version": "v1" })),
        &["spec.cniPlugin.version: Unsupported value: \"v1\": supported values: \"\""],
    );
    assert_eq!(
        create_errors(&with(
            &base(),
            "/spec/cniPlugin",
            json!({ "type": "canal", "version": "v3.30" })
        )),
        Vec::<String>::new()
    );
}

#[test]
fn exactly_one_provider_block_matching_provider_name() {
    fails(
        with(&base(), "/spec/cloud/providerName", json!("aws")),
        &["spec.cloud.providerName: Invalid value: \"aws\": expected providerName to be \"hetzner\""],
    );
    fails(
        with(
            &base(),
            "/spec/cloud/digitalocean",
            common::cluster_block(Provider::Digitalocean),
        ),
        &["spec.cloud: Forbidden: exactly one provider block may be set, found digitalocean, hetzner"],
    );
    fails(
        without(&base(), "/spec/cloud/hetzner"),
        &[
            "spec.cloud: Required value: exactly one provider block is needed, one of: aws, azure, digitalocean, gcp, hetzner, kubevirt, openstack, vsphere",
        ],
    );
    fails(
        with(&base(), "/spec/cloud/dc", json!("")),
        &["spec.cloud.dc: Required value: no node datacenter specified"],
    );
}

#[test]
fn aws_iam_reconciling_needs_role_and_profile() {
    let aws = defaulted(&cluster(Provider::Aws));
    assert_eq!(create_errors(&aws), Vec::<String>::new());
    assert_eq!(
        create_errors(&with(&aws, "/spec/cloud/aws/disableIAMReconciling", json!(true))),
        [
            "spec.cloud.aws.instanceProfileName: Required value: instanceProfileName is required when disableIAMReconciling is true",
            "spec.cloud.aws.roleARN: Required value: roleARN is required when disableIAMReconciling is true",
        ]
    );
}

#[test]
fn provider_block_cidrs_are_checked_once() {
    let aws = defaulted(&cluster(Provider::Aws));
    let bad = with(
        &aws,
        "/spec/cloud/aws/nodePortsAllowedIPRanges",
        json!({ "cidrBlocks": ["0.0.0.0/99"] }),
    );
    let errors = create_errors(&bad);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with("spec.cloud.aws.nodePortsAllowedIPRanges.cidrBlocks[0]: Invalid value: \"0.0.0.0/99\""),
        "{errors:?}"
    );
}

#[test]
fn machine_networks_only_on_vsphere() {
    let net = json!([{ "cidr": "192.168.1.0/24", "gateway": "192.168.1.1", "dnsServers": ["8.8.8.8"] }]);
    fails(
        with(&base(), "/spec/machineNetworks", net.clone()),
        &["spec.machineNetworks: Forbidden: machine networks are only supported on vsphere"],
    );
    let vsphere = defaulted(&cluster(Provider::Vsphere));
    assert_eq!(
        create_errors(&with(&vsphere, "/spec/machineNetworks", net)),
        Vec::<String>::new()
    );
    let bad = json!([{ "cidr": "192.168.1.0", "gateway": "x", "dnsServers": ["y"] }]);
    assert_eq!(
        create_errors(&with(&vsphere, "/spec/machineNetworks", bad)),
        [
            "spec.machineNetworks[0].cidr: Invalid value: \"192.168.1.0\": not a valid CIDR",
            "spec.machineNetworks[0].gateway: Invalid value: \"x\": not a valid IP address",
            "spec.machineNetworks[0].dnsServers[0]: Invalid value: \"y\": not a valid IP address",
        ]
    );
}

#[test]
fn cluster_network_cidrs() {
    fails(
        with(&base(), "/spec/clusterNetwork/pods/cidrBlocks", json!(["fd00::/48"])),
        &["spec.clusterNetwork.pods.cidrBlocks[0]: Invalid value: \"fd00::/48\": the first CIDR must be IPv4"],
    );
    fails(
        with(
            &base(),
            "/spec/clusterNetwork/pods/cidrBlocks",
            json!(["10.0.0.0/16", "10.1.0.0/16", "fd00::/48"]),
        ),
        &[
            "spec.clusterNetwork.pods.cidrBlocks: Too many: 3: must have at most 2 items",
            "spec.clusterNetwork.pods.cidrBlocks[1]: Invalid value: \"10.1.0.0/16\": the second CIDR must be IPv6",
            "spec.clusterNetwork.services.cidrBlocks: Invalid value: 1: must have as many CIDRs as pods.cidrBlocks (3)",
            "spec.clusterNetwork.ipFamily: Invalid value: \"IPv4\": needs 1 pod and service CIDR(s), found 3",
        ],
    );
    fails(
        with(
            &base(),
            "/spec/clusterNetwork/services/cidrBlocks",
            json!(["10.240.16.0/40"]),
        ),
        &["spec.clusterNetwork.services.cidrBlocks[0]: Invalid value: \"10.240.16.0/40\": not a valid CIDR"],
    );
    fails(
        with(&base(), "/spec/clusterNetwork/services/cidrBlocks", json!([])),
        &["spec.clusterNetwork.services.cidrBlocks: Required value: at least one CIDR"],
    );
    fails(
        with(&base(), "/spec/clusterNetwork/ipFamily", json!("IPv6")),
        &["spec.clusterNetwork.ipFamily: Unsupported value: \"IPv6\": supported values: \"IPv4\", \"IPv4+IPv6\""],
    );
}

#[test]
fn dual_stack_is_valid() {
    let mut c = cluster(Provider::Hetzner);
    c["spec"]["clusterNetwork"] = json!({ "ipFamily": "IPv4+IPv6" });
    let d = defaulted(&c);
    assert_eq!(
        d["spec"]["clusterNetwork"]["pods"]["cidrBlocks"],
        json!(["172.25.0.0/16", "fd01::/48"])
    );
    assert_eq!(
        d["spec"]["clusterNetwork"]["services"]["cidrBlocks"],
        json!(["10.240.16.0/20", "fd02::/108"])
    );
    assert_eq!(create_errors(&d), Vec::<String>::new());
}

#[test]
fn node_mask_must_be_longer_than_pod_prefix() {
    fails(
        with(&base(), "/spec/clusterNetwork/nodeCidrMaskSizeIPv4", json!(16)),
        &[
            "spec.clusterNetwork.nodeCidrMaskSizeIPv4: Invalid value: 16: node CIDR mask size (16) must be longer than the mask size of the pod CIDR (\"172.25.0.0/16\")",
        ],
    );
    // Kept on create as the project's own rule (X6): a mask longer than the address.
    fails(
        with(&base(), "/spec/clusterNetwork/nodeCidrMaskSizeIPv4", json!(33)),
        &["spec.clusterNetwork.nodeCidrMaskSizeIPv4: Invalid value: 33: must be at most 32"],
    );
}

#[test]
fn dns_domain_must_be_cluster_local() {
    fails(
        with(&base(), "/spec/clusterNetwork/dnsDomain", json!("example.local")),
        &["spec.clusterNetwork.dnsDomain: Invalid value: \"example.local\": must be cluster.local"],
    );
}

#[test]
fn proxy_mode_rules() {
    fails(
        with(&base(), "/spec/clusterNetwork/proxyMode", json!("userspace")),
        &[
            "spec.clusterNetwork.proxyMode: Unsupported value: \"userspace\": supported values: \"ipvs\", \"iptables\", \"ebpf\", \"nftables\"",
        ],
    );
    let ebpf = with(&base(), "/spec/clusterNetwork/proxyMode", json!("ebpf"));
    assert_eq!(create_errors(&ebpf), Vec::<String>::new());
    fails(
        with(&ebpf, "/spec/cniPlugin", json!({ "type": "canal", "version": "v3.31" })),
        &["spec.clusterNetwork.proxyMode: Forbidden: ebpf proxy mode needs a CNI other than canal"],
    );
}

#[test]
fn konnectivity_cannot_be_disabled() {
    fails(
        with(&base(), "/spec/clusterNetwork/konnectivityEnabled", json!(false)),
        &[
            "spec.clusterNetwork.konnectivityEnabled: Forbidden: Konnectivity cannot be disabled; it is the only supported control plane to node connection",
        ],
    );
}

#[test]
fn node_port_range_must_parse() {
    fails(
        with(
            &base(),
            "/spec/componentsOverride/apiserver/nodePortRange",
            json!("32767-30000"),
        ),
        &[
            "spec.componentsOverride.apiserver.nodePortRange: Invalid value: \"32767-30000\": end port cannot be less than start port: 32767-30000",
        ],
    );
}

#[test]
fn core_dns_replicas_in_one_place() {
    let both = |a, b| {
        with(
            &with(&base(), "/spec/componentsOverride/coreDNS/replicas", json!(a)),
            "/spec/clusterNetwork/coreDNSReplicas",
            json!(b),
        )
    };
    assert_eq!(create_errors(&both(2, 2)), Vec::<String>::new());
    fails(
        both(3, 2),
        &[
            "spec.componentsOverride.coreDNS.replicas: Invalid value: 3: both the new spec.componentsOverride.coreDNS.replicas and deprecated spec.clusterNetwork.coreDNSReplicas fields are set",
        ],
    );
}

#[test]
fn leader_election_settings() {
    let le = |v: Value| with(&base(), "/spec/componentsOverride/scheduler/leaderElection", v);
    assert_eq!(
        create_errors(&le(json!({ "leaseDurationSeconds": 15, "renewDeadlineSeconds": 10 }))),
        Vec::<String>::new()
    );
    fails(
        le(json!({ "leaseDurationSeconds": 5, "renewDeadlineSeconds": 10 })),
        &[
            "spec.componentsOverride.scheduler.leaderElection.leaseDurationSeconds: Invalid value: 5: must not be shorter than renewDeadlineSeconds",
        ],
    );
    fails(
        le(json!({ "leaseDurationSeconds": 15 })),
        &[
            "spec.componentsOverride.scheduler.leaderElection: Forbidden: leaseDurationSeconds and renewDeadlineSeconds must be set together",
        ],
    );
    fails(
        le(json!({ "retryPeriodSeconds": -1 })),
        &[
            "spec.componentsOverride.scheduler.leaderElection.retryPeriodSeconds: Invalid value: -1: must not be negative",
        ],
    );
}

#[test]
fn encryption_at_rest_rules() {
    let key = "MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE="; // 32 bytes
    let enc =
        json!({ "enabled": true, "resources": ["secrets"], "secretbox": { "keys": [{ "name": "k1", "value": key }] } });
    let with_gate = with(&base(), "/spec/features/encryptionAtRest", json!(true));
    assert_eq!(
        create_errors(&with(&with_gate, "/spec/encryptionConfiguration", enc.clone())),
        Vec::<String>::new()
    );
    fails(
        with(&base(), "/spec/encryptionConfiguration", enc),
        &["spec.encryptionConfiguration: Forbidden: needs the feature gate spec.features.encryptionAtRest"],
    );
    let short =
        json!({ "enabled": true, "resources": [], "secretbox": { "keys": [{ "name": "k1", "value": "c2hvcnQ=" }] } });
    assert_eq!(
        create_errors(&with(&with_gate, "/spec/encryptionConfiguration", short)),
        [
            "spec.encryptionConfiguration.resources: Required value: at least one resource to encrypt",
            "spec.encryptionConfiguration.secretbox.keys[0].value: Invalid value: \"(redacted)\": must be 32 bytes, base64 encoded",
        ]
    );
    let both = json!({ "enabled": true, "resources": ["secrets"], "secretbox": { "keys": [{ "name": "k1", "value": key, "secretRef": { "name": "s" } }] } });
    assert_eq!(
        create_errors(&with(&with_gate, "/spec/encryptionConfiguration", both)),
        ["spec.encryptionConfiguration.secretbox.keys[0]: Forbidden: value and secretRef are mutually exclusive",]
    );
}

#[test]
fn event_rate_limit_rules() {
    let on = with(&base(), "/spec/useEventRateLimitAdmissionPlugin", json!(true));
    fails(
        on.clone(),
        &["spec.eventRateLimitConfig: Required value: the EventRateLimit plugin needs at least one limit"],
    );
    assert_eq!(
        create_errors(&with(
            &on,
            "/spec/eventRateLimitConfig/server",
            json!({ "qps": 50, "burst": 100 })
        )),
        Vec::<String>::new()
    );
    fails(
        with(
            &on,
            "/spec/eventRateLimitConfig/server",
            json!({ "qps": 0, "burst": 100, "cacheSize": -1 }),
        ),
        &[
            "spec.eventRateLimitConfig.server.qps: Invalid value: 0: must be at least 1",
            "spec.eventRateLimitConfig.server.cacheSize: Invalid value: -1: must be at least 0",
        ],
    );
}

#[test]
fn authentication_exclusive_with_oidc() {
    let both = with(
        &with(&base(), "/spec/oidc/issuerURL", json!("https://dex.example")),
        "/spec/authenticationConfiguration",
        json!({ "secretName": "authn", "secretKey": "config" }),
    );
    fails(
        both,
        &["spec.authenticationConfiguration: Forbidden: cannot be used together with spec.oidc.issuerURL"],
    );
    let authz = json!({
        "enabledModes": ["Node", "RBAC", "Webhook"],
        "authorizationWebhookConfiguration": { "secretName": "a", "secretKey": "k", "webhookVersion": "v1" },
        "authorizationConfigurationFile": { "secretName": "b", "secretKey": "k" }
    });
    fails(
        with(&base(), "/spec/authorizationConfig", authz),
        &[
            "spec.authorizationConfig: Forbidden: AuthorizationWebhookConfiguration and AuthorizationConfigurationFile cannot be used together",
        ],
    );
}

#[test]
fn update_window_format() {
    assert_eq!(
        create_errors(&with(
            &base(),
            "/spec/updateWindow",
            json!({ "start": "Mon 21:00", "length": "2h" })
        )),
        Vec::<String>::new()
    );
    // KKP never parses the window at admission: a bad one is admitted with warnings.
    let bad = kkp_crds::validate(
        &kkp_crds::Request::create(&with(
            &base(),
            "/spec/updateWindow",
            json!({ "start": "monday", "length": "2 hours" }),
        )),
        &Default::default(),
    );
    assert!(bad.errors.is_empty(), "{:?}", bad.errors);
    assert_eq!(
        bad.warnings,
        [
            "spec.updateWindow.start: Invalid value: \"monday\": must be a time such as 22:30 or Mon 21:00",
            "spec.updateWindow.length: Invalid value: \"2 hours\": must be a duration such as 1h30m",
        ]
    );
}

#[test]
fn wrong_types_name_the_field() {
    fails(
        with(&base(), "/spec/clusterNetwork/nodeCidrMaskSizeIPv4", json!("24")),
        &["spec.clusterNetwork.nodeCidrMaskSizeIPv4: Invalid value: \"24\": must be of type integer"],
    );
}

#[test]
fn every_wrong_type_is_reported_at_once() {
    let mut c = with(&base(), "/spec/version", json!(1.35));
    c = with(&c, "/spec/clusterNetwork/pods/cidrBlocks", json!("10.0.0.0/8"));
    c = with(&c, "/spec/features", json!({ "externalCloudProvider": "yes" }));
    fails(
        c,
        &[
            "spec.clusterNetwork.pods.cidrBlocks: Invalid value: \"10.0.0.0/8\": must be of type array",
            "spec.features[externalCloudProvider]: Invalid value: \"yes\": must be of type boolean",
            "spec.version: Invalid value: 1.35: must be of type string",
        ],
    );
}

#[test]
fn a_wrong_type_under_a_numeric_or_dotted_map_key_is_reported_once() {
    let c = with(
        &base(),
        "/metadata/labels",
        json!({ "project-id": "xw2k9fgh4t", "1": 2, "kubernetes.io/name": false }),
    );
    fails(
        c,
        &[
            "metadata.labels[1]: Invalid value: 2: must be of type string",
            "metadata.labels[kubernetes.io/name]: Invalid value: false: must be of type string",
        ],
    );
}

#[test]
fn rules_still_speak_about_the_fields_that_decode() {
    let mut c = with(&base(), "/spec/version", json!(1.35));
    c = with(&c, "/metadata/labels/project-id", json!(7));
    c = with(&c, "/spec/exposeStrategy", json!("Foo"));
    c = with(&c, "/spec/cloud/hetzner/network", json!(5));
    fails(
        c,
        &[
            "metadata.labels[project-id]: Invalid value: 7: must be of type string",
            "spec.cloud.hetzner.network: Invalid value: 5: must be of type string",
            "spec.version: Invalid value: 1.35: must be of type string",
            "spec.exposeStrategy: Unsupported value: \"Foo\": supported values: \"NodePort\", \"LoadBalancer\", \"Tunneling\"",
        ],
    );
}

#[test]
fn admit_reports_every_wrong_type_without_defaulting() {
    let mut c = cluster(Provider::Hetzner);
    c = with(&c, "/spec/version", json!(["1.35.7"]));
    c = with(&c, "/spec/pause", json!("no"));
    c = with(&c, "/spec/exposeStrategy", json!("Foo"));
    let verdict = kkp_crds::admit(&kkp_crds::Request::create(&c), &Default::default());
    assert_eq!(verdict.object, None);
    assert!(verdict.patch.0.is_empty());
    assert_eq!(
        verdict.errors.iter().map(ToString::to_string).collect::<Vec<_>>(),
        [
            "spec.pause: Invalid value: \"no\": must be of type boolean",
            "spec.version: Invalid value: [\"1.35.7\"]: must be of type string",
            "spec.exposeStrategy: Unsupported value: \"Foo\": supported values: \"NodePort\", \"LoadBalancer\", \"Tunneling\"",
        ]
    );
}

#[test]
fn deprecated_fields_warn_without_failing() {
    let c = with(&base(), "/spec/oidc/issuerURL", json!("https://dex.example"));
    let verdict = kkp_crds::validate(&kkp_crds::Request::create(&c), &Default::default());
    assert!(verdict.errors.is_empty(), "{:?}", verdict.errors);
    assert_eq!(
        verdict.warnings,
        ["spec.oidc: deprecated; use spec.authenticationConfiguration"]
    );
}

// --- updates -------------------------------------------------------------------------------

fn update_fails(pointer: &str, value: Value, expected: &[&str]) {
    let old = base();
    let new = with(&old, pointer, value);
    assert_eq!(update_errors(&old, &old), Vec::<String>::new());
    assert_eq!(update_errors(&old, &new), expected);
}

#[test]
fn immutable_fields_on_update() {
    update_fails(
        "/spec/cloud/dc",
        json!("hetzner-nbg1"),
        &["spec.cloud.dc: Invalid value: \"hetzner-nbg1\": field is immutable"],
    );
    update_fails(
        "/metadata/labels/project-id",
        json!("other"),
        &["metadata.labels[project-id]: Invalid value: \"other\": field is immutable"],
    );
    update_fails(
        "/spec/clusterNetwork/pods/cidrBlocks",
        json!(["172.26.0.0/16"]),
        &["spec.clusterNetwork.pods.cidrBlocks: Invalid value: [\"172.26.0.0/16\"]: field is immutable"],
    );
    update_fails(
        "/spec/clusterNetwork/nodeLocalDNSCacheEnabled",
        json!(false),
        &["spec.clusterNetwork.nodeLocalDNSCacheEnabled: Invalid value: false: field is immutable"],
    );
    update_fails(
        "/spec/componentsOverride/apiserver/nodePortRange",
        json!("30000-31000"),
        &["spec.componentsOverride.apiserver.nodePortRange: Invalid value: \"30000-31000\": field is immutable"],
    );
}

#[test]
fn encryption_changes_wait_for_the_active_phase() {
    let key = json!({"name": "key1", "value": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="});
    let encrypted = with(
        &with(&base(), "/spec/features/encryptionAtRest", json!(true)),
        "/spec/encryptionConfiguration",
        json!({"enabled": true, "resources": ["secrets"], "secretbox": {"keys": [key]}}),
    );
    let rotated = with(
        &encrypted,
        "/spec/encryptionConfiguration/secretbox/keys/0/name",
        json!("key2"),
    );
    let disabled = with(&encrypted, "/spec/features/encryptionAtRest", json!(false));
    let in_phase = |phase: &str| with(&encrypted, "/status/encryption", json!({"phase": phase}));

    // Active: changes are fine.
    assert_eq!(update_errors(&in_phase("Active"), &rotated), Vec::<String>::new());
    // Still encrypting: no change to the configuration.
    assert_eq!(
        update_errors(&in_phase("EncryptionNeeded"), &rotated),
        [
            "spec.encryptionConfiguration: Forbidden: no changes to encryption configuration are allowed while encryption phase is 'EncryptionNeeded'"
        ]
    );
    assert_eq!(
        update_errors(
            &in_phase("Pending"),
            &with(&disabled, "/spec/encryptionConfiguration", json!(null))
        ),
        [
            "spec.encryptionConfiguration: Forbidden: no changes to encryption configuration are allowed while encryption phase is 'Pending'"
        ]
    );
    // Writing out what is already so (false for an absent flag) is no change, as in KKP.
    let spelled_out = with(
        &with(&in_phase("Pending"), "/spec/features/encryptionAtRest", json!(null)),
        "/spec/encryptionConfiguration/enabled",
        json!(null),
    );
    let same = with(
        &with(&spelled_out, "/spec/features/encryptionAtRest", json!(false)),
        "/spec/encryptionConfiguration/enabled",
        json!(false),
    );
    assert_eq!(update_errors(&spelled_out, &same), Vec::<String>::new());
    // An update that leaves encryption alone passes in any phase.
    assert_eq!(
        update_errors(&in_phase("Pending"), &with(&encrypted, "/spec/pause", json!(true))),
        Vec::<String>::new()
    );
}

#[test]
fn expose_strategy_and_proxy_mode_have_unsafe_escapes() {
    update_fails(
        "/spec/exposeStrategy",
        json!("LoadBalancer"),
        &[
            "spec.exposeStrategy: Invalid value: \"LoadBalancer\": field is immutable unless the cluster has the label unsafe-expose-strategy-migration",
        ],
    );
    let old = base();
    let new = with(
        &with(&old, "/spec/exposeStrategy", json!("LoadBalancer")),
        "/metadata/labels/unsafe-expose-strategy-migration",
        json!("true"),
    );
    assert_eq!(update_errors(&old, &new), Vec::<String>::new());

    update_fails(
        "/spec/clusterNetwork/proxyMode",
        json!("ipvs"),
        &[
            "spec.clusterNetwork.proxyMode: Invalid value: \"ipvs\": field is immutable unless the cluster has the label unsafe-cni-migration",
        ],
    );
    let new = with(
        &with(&old, "/spec/clusterNetwork/proxyMode", json!("ipvs")),
        "/metadata/labels/unsafe-cni-migration",
        json!("true"),
    );
    assert_eq!(update_errors(&old, &new), Vec::<String>::new());
}

#[test]
fn cni_changes_on_update() {
    update_fails(
        "/spec/cniPlugin/type",
        json!("canal"),
        &[
            "spec.cniPlugin.version: Unsupported value: \"1.19.4\": supported values: \"v3.21\", \"v3.22\", \"v3.23\", \"v3.24\", \"v3.25\", \"v3.26\", \"v3.27\", \"v3.28\", \"v3.29\", \"v3.30\", \"v3.31\"",
            "spec.cniPlugin.type: Forbidden: cannot change CNI plugin type, unless unsafe-cni-migration label is present",
        ],
    );
    update_fails(
        "/spec/cniPlugin/version",
        json!("1.17.16"),
        &[
            "spec.cniPlugin.version: Forbidden: cannot upgrade CNI from 1.19.4 to 1.17.16, only one minor version difference is allowed unless unsafe-cni-upgrade label is present",
        ],
    );
    let old = base();
    assert_eq!(
        update_errors(&old, &with(&old, "/spec/cniPlugin/version", json!("1.18.10"))),
        Vec::<String>::new()
    );
    let removed = without(&old, "/spec/cniPlugin");
    assert_eq!(
        update_errors(&old, &removed),
        ["spec.cniPlugin: Required value: CNI plugin settings cannot be removed"]
    );
}

#[test]
fn features_cannot_be_turned_off() {
    update_fails(
        "/spec/features/externalCloudProvider",
        json!(false),
        &["spec.features[externalCloudProvider]: Forbidden: cannot be disabled once enabled"],
    );
}

#[test]
fn versions_move_one_minor_up() {
    let old = with(&base(), "/spec/version", json!("1.34.3"));
    let catalog = kkp_crds::versions::VersionCatalog::default();
    let possible = |minors: &[u64]| {
        catalog
            .versions
            .iter()
            .filter(|v| minors.contains(&v.minor) && v.to_string() != "1.34.3")
            .map(|v| format!("{:?}", v.to_string()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    assert_eq!(
        update_errors(&old, &with(&old, "/spec/version", json!("1.35.2"))),
        Vec::<String>::new()
    );
    assert_eq!(
        update_errors(&old, &with(&old, "/spec/version", json!("1.34.1"))),
        Vec::<String>::new(),
        "patch downgrades within a minor are configured updates"
    );
    for target in ["1.36.3", "1.33.2", "1.35.99"] {
        assert_eq!(
            update_errors(&old, &with(&old, "/spec/version", json!(target))),
            [format!(
                "spec.version: Unsupported value: {target:?}: supported values: {}",
                possible(&[34, 35])
            )]
        );
    }
}

#[test]
fn ssh_key_agent_is_immutable_once_set() {
    let old = with(&base(), "/spec/enableUserSSHKeyAgent", json!(false));
    assert_eq!(
        update_errors(&old, &with(&old, "/spec/enableUserSSHKeyAgent", json!(true))),
        ["spec.enableUserSSHKeyAgent: Invalid value: true: field is immutable",]
    );
}

#[test]
fn more_cluster_network_fields_are_immutable() {
    update_fails(
        "/spec/clusterNetwork/services/cidrBlocks",
        json!(["10.241.0.0/20"]),
        &["spec.clusterNetwork.services.cidrBlocks: Invalid value: [\"10.241.0.0/20\"]: field is immutable"],
    );
    update_fails(
        "/spec/clusterNetwork/dnsDomain",
        json!("example.local"),
        &[
            "spec.clusterNetwork.dnsDomain: Invalid value: \"example.local\": must be cluster.local",
            "spec.clusterNetwork.dnsDomain: Invalid value: \"example.local\": field is immutable",
        ],
    );
    update_fails(
        "/spec/clusterNetwork/ipFamily",
        json!(""),
        &["spec.clusterNetwork.ipFamily: Invalid value: \"\": field is immutable"],
    );
}

#[test]
fn switching_to_dual_stack_on_update_is_refused() {
    let old = base();
    let new = with(&old, "/spec/clusterNetwork/ipFamily", json!("IPv4+IPv6"));
    let new = with(
        &new,
        "/spec/clusterNetwork/pods/cidrBlocks",
        json!(["172.25.0.0/16", "fd01::/48"]),
    );
    let new = with(
        &new,
        "/spec/clusterNetwork/services/cidrBlocks",
        json!(["10.240.16.0/20", "fd02::/108"]),
    );
    assert_eq!(
        create_errors(&new),
        Vec::<String>::new(),
        "dual stack is valid on create"
    );
    assert_eq!(
        update_errors(&old, &new),
        [
            "spec.clusterNetwork.ipFamily: Invalid value: \"IPv4+IPv6\": field is immutable",
            "spec.clusterNetwork.pods.cidrBlocks: Invalid value: [\"172.25.0.0/16\",\"fd01::/48\"]: field is immutable",
            "spec.clusterNetwork.services.cidrBlocks: Invalid value: [\"10.240.16.0/20\",\"fd02::/108\"]: field is immutable",
        ]
    );
}

#[test]
fn provider_name_is_immutable() {
    update_fails(
        "/spec/cloud/providerName",
        json!("aws"),
        &[
            "spec.cloud.providerName: Invalid value: \"aws\": expected providerName to be \"hetzner\"",
            "spec.cloud.providerName: Invalid value: \"aws\": field is immutable",
        ],
    );
}

#[test]
fn etcd_launcher_cannot_be_turned_off() {
    let old = with(&base(), "/spec/features/etcdLauncher", json!(true));
    assert_eq!(create_errors(&old), Vec::<String>::new());
    assert_eq!(
        update_errors(&base(), &old),
        Vec::<String>::new(),
        "turning it on is fine"
    );
    for off in [
        with(&old, "/spec/features/etcdLauncher", json!(false)),
        without(&old, "/spec/features/etcdLauncher"),
    ] {
        assert_eq!(
            update_errors(&old, &off),
            ["spec.features[etcdLauncher]: Forbidden: cannot be disabled once enabled"]
        );
    }
}

#[test]
fn ebpf_proxy_mode_needs_konnectivity() {
    let ebpf = with(&base(), "/spec/clusterNetwork/proxyMode", json!("ebpf"));
    assert_eq!(create_errors(&ebpf), Vec::<String>::new());
    fails(
        without(&ebpf, "/spec/clusterNetwork/konnectivityEnabled"),
        &["spec.clusterNetwork.proxyMode: Forbidden: ebpf proxy mode needs Konnectivity"],
    );
}
