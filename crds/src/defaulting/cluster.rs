//! KKP's Cluster defaulting (`DefaultClusterSpec`, then `MutateCreate` / `MutateUpdate`), after the
//! CRD's structural defaults, as KKP's chain applies them.
//!
//! Go's zero values (`""`, `null`, empty lists) count as unset wherever KKP's Go code reads them
//! that way, so an object written by a Go client defaults like one that leaves the fields out.

use serde_json::{Map, Value, json};

use super::phase::Phase;
use super::{cluster_crd, cluster_features};
use crate::cluster::{
    Cluster, ClusterNetworkingConfig, ClusterSpec, CniPluginSettings, IpvsConfiguration, KubernetesDashboard,
};
use crate::context::Context;
use crate::providers::Provider;
use crate::{cloud_controller, cni, schema, versions};

pub const DEFAULT_DNS_DOMAIN: &str = "cluster.local";
pub const DEFAULT_NODE_PORT_RANGE: &str = "30000-32767";
pub const DEFAULT_TUNNELING_AGENT_IP: &str = "100.64.30.10";
pub const DEFAULT_CONTAINER_RUNTIME: &str = cluster_crd::CRD_DEFAULT_CONTAINER_RUNTIME;
const IPV4_FAMILY: &str = "IPv4";
const DUAL_STACK_FAMILY: &str = "IPv4+IPv6";

/// Pod and service CIDRs, IPv4 and IPv6, for a provider.
pub struct NetworkDefaults {
    pub pods_v4: &'static str,
    pub pods_v6: &'static str,
    pub services_v4: &'static str,
    pub services_v6: &'static str,
}

pub fn network_defaults(provider: Option<Provider>) -> NetworkDefaults {
    match provider {
        Some(Provider::Kubevirt) => NetworkDefaults {
            pods_v4: "172.26.0.0/16",
            pods_v6: "fd01::/48",
            services_v4: "10.241.0.0/20",
            services_v6: "fd02::/108",
        },
        _ => NetworkDefaults {
            pods_v4: "172.25.0.0/16",
            pods_v6: "fd01::/48",
            services_v4: "10.240.16.0/20",
            services_v6: "fd02::/108",
        },
    }
}

/// The control plane component settings a vanilla KKP Seed gives new clusters
/// (`defaultComponentSettings`), merged into `componentsOverride` where a field is unset.
fn seed_component_defaults() -> Value {
    json!({
        "apiserver": { "nodePortRange": DEFAULT_NODE_PORT_RANGE, "replicas": 2 },
        "controllerManager": { "replicas": 1 },
        "scheduler": { "replicas": 1 },
        "etcd": { "clusterSize": 3, "diskSize": "5Gi" }
    })
}

/// The provider whose block is populated, when exactly one known block is.
fn populated_provider(spec: &ClusterSpec) -> Option<Provider> {
    let cloud = spec.cloud.as_ref()?;
    match cloud.block_names().as_slice() {
        [only] => Provider::from_name(only),
        _ => None,
    }
}

fn is_unset(s: Option<&str>) -> bool {
    s.is_none_or(str::is_empty)
}

/// Applies KKP's Cluster defaults. `old` is the stored object of an update; the datacenter and
/// the version catalog come from the context. Where the datacenter is not known, defaults that
/// depend on it follow the cluster's own fields.
pub fn default_cluster(cluster: &mut Cluster, old: Option<&Cluster>, ctx: &Context, phase: Phase) {
    let dc_name = cluster
        .spec
        .cloud
        .as_ref()
        .and_then(|c| c.dc.clone())
        .unwrap_or_default();
    let datacenter = ctx.datacenter(&dc_name);
    let spec = &mut cluster.spec;
    cluster_crd::apply(spec);
    merge_component_defaults(spec);
    let provider = populated_provider(spec);
    default_provider_block(spec, provider);
    if is_unset(spec.expose_strategy.as_deref()) {
        spec.expose_strategy = Some(ctx.default_expose_strategy(&dc_name).to_owned());
    }
    if datacenter.is_some_and(|dc| dc.flag("enforcePodSecurityPolicy")) {
        spec.use_pod_security_policy_admission_plugin = Some(true);
    }
    if let Some(cloud) = spec.cloud.as_mut()
        && let [only] = cloud.block_names().as_slice()
    {
        cloud.provider_name = Some((*only).to_owned());
    }
    spec.kubernetes_dashboard.get_or_insert_with(|| KubernetesDashboard {
        enabled: Some(true),
        ..Default::default()
    });
    default_cni(spec);
    default_network(spec, provider);

    match (phase, old) {
        (Phase::Create, _) => {
            cluster_features::on_create(cluster, datacenter, &ctx.versions);
        }
        (Phase::Update, Some(old)) => cluster_features::on_update(old, cluster),
        (Phase::Update, None) => {}
    }
}

/// mergo-style: every field of the seed defaults that is unset (absent, `null`, `""`) in the
/// cluster's `componentsOverride` takes the seed's value.
fn merge_component_defaults(spec: &mut ClusterSpec) {
    let overrides = spec.components_override.get_or_insert_with(|| json!({}));
    if overrides.is_null() {
        *overrides = json!({});
    }
    merge_unset(overrides, &seed_component_defaults());
}

fn merge_unset(target: &mut Value, defaults: &Value) {
    let (Some(target), Some(defaults)) = (target.as_object_mut(), defaults.as_object()) else {
        return;
    };
    for (key, default) in defaults {
        let slot = target.entry(key.clone()).or_insert(Value::Null);
        let unset = match slot {
            Value::Null => true,
            Value::String(s) => s.is_empty(),
            _ => false,
        };
        if default.is_object() {
            if unset {
                *slot = Value::Object(Map::new());
            }
            merge_unset(slot, default);
        } else if unset {
            *slot = default.clone();
        }
    }
}

/// The provider's `DefaultCloudSpec`. It runs before the network is defaulted, so the node port
/// ranges follow an `ipFamily` the cluster states itself and are left out otherwise.
fn default_provider_block(spec: &mut ClusterSpec, provider: Option<Provider>) {
    let Some(provider) = provider else { return };
    let family = spec
        .cluster_network
        .as_ref()
        .and_then(|n| n.ip_family.clone())
        .unwrap_or_default();
    let Some(cloud) = spec.cloud.as_mut() else { return };
    let Some(mut block) = cloud.block_value(provider) else {
        return;
    };
    let wants_node_port_ranges = matches!(
        provider,
        Provider::Aws | Provider::Azure | Provider::Gcp | Provider::Openstack
    );
    // KKP reads an empty load balancer SKU as unset and defaults it like an absent one.
    if provider == Provider::Azure
        && let Some(obj) = block.as_object_mut()
        && obj.get("loadBalancerSKU").and_then(Value::as_str) == Some("")
    {
        obj.remove("loadBalancerSKU");
    }
    if let Some(obj) = block.as_object_mut()
        && wants_node_port_ranges
        && obj.get("nodePortsAllowedIPRanges").is_none_or(Value::is_null)
    {
        let blocks = match family.as_str() {
            IPV4_FAMILY => Some(json!(["0.0.0.0/0"])),
            DUAL_STACK_FAMILY => Some(json!(["0.0.0.0/0", "::/0"])),
            _ => None,
        };
        if let Some(blocks) = blocks {
            obj.insert("nodePortsAllowedIPRanges".into(), json!({ "cidrBlocks": blocks }));
        }
    }
    schema::apply_defaults(schema::cluster_cloud_schema_json(provider), &mut block);
    // A block that does not parse after defaulting is left for validation to report.
    let _ = cloud.set_block_value(provider, block);
}

/// No CNI: cilium (canal on edge). A CNI without a version: its type's default. A CNI without a
/// type is left alone; validation refuses it.
fn default_cni(spec: &mut ClusterSpec) {
    let on_edge = spec.cloud.as_ref().is_some_and(|c| c.other.contains_key("edge"));
    match spec.cni_plugin.as_mut() {
        None => {
            let kind = if on_edge { cni::CANAL } else { cni::DEFAULT_TYPE };
            spec.cni_plugin = Some(CniPluginSettings {
                type_: Some(kind.to_owned()),
                version: cni::default_version(kind).map(str::to_owned),
                ..Default::default()
            });
        }
        Some(settings) if is_unset(settings.version.as_deref()) => {
            if let Some(v) = settings.type_.as_deref().and_then(cni::default_version) {
                settings.version = Some(v.to_owned());
            }
        }
        Some(_) => {}
    }
}

/// KKP's `GetDefaultProxyMode`: iptables on Hetzner, nftables from Kubernetes 1.35 on, else ipvs.
fn default_proxy_mode(provider: Option<Provider>, version: Option<&semver::Version>) -> &'static str {
    if provider == Some(Provider::Hetzner) {
        "iptables"
    } else if version.is_some_and(|v| (v.major, v.minor) >= (1, 35)) {
        "nftables"
    } else {
        "ipvs"
    }
}

fn default_network(spec: &mut ClusterSpec, provider: Option<Provider>) {
    let version = spec.version.as_deref().and_then(|v| versions::parse(v).ok());
    let tunneling = spec.expose_strategy.as_deref() == Some("Tunneling");
    let net = spec
        .cluster_network
        .get_or_insert_with(ClusterNetworkingConfig::default);
    let defaults = network_defaults(provider);

    let pod_count = |net: &ClusterNetworkingConfig| {
        net.pods
            .as_ref()
            .and_then(|p| p.cidr_blocks.as_ref())
            .map_or(0, Vec::len)
    };
    if is_unset(net.ip_family.as_deref()) {
        let family = if pod_count(net) < 2 {
            IPV4_FAMILY
        } else {
            DUAL_STACK_FAMILY
        };
        net.ip_family = Some(family.to_owned());
    }
    let dual_stack = net.ip_family.as_deref() == Some(DUAL_STACK_FAMILY);
    let fill = |blocks: &mut Option<Vec<String>>, v4: &str, v6: &str| {
        if blocks.as_ref().is_none_or(Vec::is_empty) {
            let mut list = vec![v4.to_owned()];
            if dual_stack {
                list.push(v6.to_owned());
            }
            *blocks = Some(list);
        }
    };
    fill(
        &mut net.pods.get_or_insert_with(Default::default).cidr_blocks,
        defaults.pods_v4,
        defaults.pods_v6,
    );
    fill(
        &mut net.services.get_or_insert_with(Default::default).cidr_blocks,
        defaults.services_v4,
        defaults.services_v6,
    );
    let pods = net
        .pods
        .as_ref()
        .and_then(|p| p.cidr_blocks.clone())
        .unwrap_or_default();
    let has_family = |v6: bool| {
        pods.iter().any(|b| {
            b.parse::<ipnet::IpNet>()
                .is_ok_and(|n| matches!(n, ipnet::IpNet::V6(_)) == v6)
        })
    };
    if net.node_cidr_mask_size_ipv4.is_none() && has_family(false) {
        net.node_cidr_mask_size_ipv4 = Some(24);
    }
    if net.node_cidr_mask_size_ipv6.is_none() && has_family(true) {
        net.node_cidr_mask_size_ipv6 = Some(64);
    }
    if is_unset(net.proxy_mode.as_deref()) {
        net.proxy_mode = Some(default_proxy_mode(provider, version.as_ref()).to_owned());
    }
    if net.proxy_mode.as_deref() == Some("ipvs") {
        net.ipvs
            .get_or_insert_with(IpvsConfiguration::default)
            .strict_arp
            .get_or_insert(true);
    }
    net.node_local_dns_cache_enabled.get_or_insert(true);
    if is_unset(net.dns_domain.as_deref()) {
        net.dns_domain = Some(DEFAULT_DNS_DOMAIN.to_owned());
    }
    net.konnectivity_enabled.get_or_insert(true);
    if tunneling && is_unset(net.tunneling_agent_ip.as_deref()) {
        net.tunneling_agent_ip = Some(DEFAULT_TUNNELING_AGENT_IP.to_owned());
    }
}

/// Whether a cluster's provider keeps the cloud controller manager in its control plane unless
/// `externalCloudProvider` is on: KKP's version rules depend on that.
pub fn provider_has_ccm(spec: &ClusterSpec) -> bool {
    cloud_controller::cluster_provider(spec).is_some_and(|p| cloud_controller::has_ccm(&p))
}
