use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::Phase;
use crate::cluster::{
    ClusterNetworkingConfig, ClusterSpec, CniPluginSettings, IpvsConfiguration, KubernetesDashboard, NetworkRanges,
};
use crate::providers::Provider;
use crate::{cni, schema, versions};

pub const DEFAULT_EXPOSE_STRATEGY: &str = "NodePort";
pub const DEFAULT_DNS_DOMAIN: &str = "cluster.local";
pub const DEFAULT_NODE_PORT_RANGE: &str = "30000-32767";
pub const DEFAULT_TUNNELING_AGENT_IP: &str = "100.64.30.10";
pub const DEFAULT_CONTAINER_RUNTIME: &str = "containerd";

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

/// The provider whose block is populated, when exactly one known block is.
fn populated_provider(spec: &ClusterSpec) -> Option<Provider> {
    let cloud = spec.cloud.as_ref()?;
    let present: Vec<Provider> = [
        (Provider::Aws, cloud.aws.is_some()),
        (Provider::Azure, cloud.azure.is_some()),
        (Provider::Gcp, cloud.gcp.is_some()),
        (Provider::Hetzner, cloud.hetzner.is_some()),
        (Provider::Vsphere, cloud.vsphere.is_some()),
        (Provider::Openstack, cloud.openstack.is_some()),
        (Provider::Digitalocean, cloud.digitalocean.is_some()),
        (Provider::Kubevirt, cloud.kubevirt.is_some()),
    ]
    .into_iter()
    .filter_map(|(p, set)| set.then_some(p))
    .collect();
    match present.as_slice() {
        [only] if cloud.other.is_empty() => Some(*only),
        _ => None,
    }
}

/// Applies KKP's Cluster defaults to a spec.
pub fn default_cluster(spec: &mut ClusterSpec, phase: Phase) {
    let provider = populated_provider(spec);

    if let (Some(cloud), Some(p)) = (spec.cloud.as_mut(), provider)
        && cloud.provider_name.as_deref().unwrap_or("").is_empty()
    {
        cloud.provider_name = Some(p.name().to_owned());
    }
    default_provider_block(spec, provider);

    spec.expose_strategy
        .get_or_insert_with(|| DEFAULT_EXPOSE_STRATEGY.to_owned());
    spec.container_runtime
        .get_or_insert_with(|| DEFAULT_CONTAINER_RUNTIME.to_owned());
    spec.kubernetes_dashboard.get_or_insert_with(|| KubernetesDashboard {
        enabled: Some(true),
        ..Default::default()
    });
    default_cni(spec);
    default_network(spec, provider);
    default_node_port_range(spec);

    if phase == Phase::Create {
        let features = spec.features.get_or_insert_with(BTreeMap::new);
        features.entry("apiserverNetworkPolicy".into()).or_insert(true);
        if provider.is_some() {
            features.entry("externalCloudProvider".into()).or_insert(true);
        }
        if features.get("externalCloudProvider") == Some(&true) {
            match provider {
                Some(Provider::Vsphere) => {
                    features.entry("ccmClusterName".into()).or_insert(true);
                    features.entry("vsphereCSIClusterID".into()).or_insert(true);
                }
                Some(Provider::Kubevirt) => {
                    features.entry("ccmClusterName".into()).or_insert(true);
                }
                _ => {}
            }
        }
    }
}

fn default_provider_block(spec: &mut ClusterSpec, provider: Option<Provider>) {
    let Some(provider) = provider else { return };
    let Some(cloud) = spec.cloud.as_mut() else { return };
    let dual_stack = spec
        .cluster_network
        .as_ref()
        .and_then(|n| n.pods.as_ref())
        .and_then(|p| p.cidr_blocks.as_ref())
        .is_some_and(|b| b.len() == 2);
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
        && !obj.contains_key("nodePortsAllowedIPRanges")
    {
        let mut blocks = vec![json!("0.0.0.0/0")];
        if dual_stack {
            blocks.push(json!("::/0"));
        }
        obj.insert("nodePortsAllowedIPRanges".into(), json!({ "cidrBlocks": blocks }));
    }
    schema::apply_defaults(schema::cluster_cloud_schema_json(provider), &mut block);
    // A block that does not parse after defaulting is left for validation to report.
    let _ = cloud.set_block_value(provider, block);
}

fn default_cni(spec: &mut ClusterSpec) {
    let cni = spec.cni_plugin.get_or_insert_with(|| CniPluginSettings {
        type_: Some(cni::DEFAULT_TYPE.to_owned()),
        ..Default::default()
    });
    let kind = cni.type_.get_or_insert_with(|| cni::DEFAULT_TYPE.to_owned()).clone();
    if cni.version.as_deref().unwrap_or("").is_empty()
        && kind != cni::NONE
        && let Some(v) = cni::default_version(&kind)
    {
        cni.version = Some(v.to_owned());
    }
}

fn default_network(spec: &mut ClusterSpec, provider: Option<Provider>) {
    let version = spec.version.as_deref().and_then(|v| versions::parse(v).ok());
    let tunneling = spec.expose_strategy.as_deref() == Some("Tunneling");
    let net = spec
        .cluster_network
        .get_or_insert_with(ClusterNetworkingConfig::default);
    let defaults = network_defaults(provider);

    let dual_stack = net.ip_family.as_deref() == Some("IPv4+IPv6")
        || net
            .pods
            .as_ref()
            .and_then(|p| p.cidr_blocks.as_ref())
            .is_some_and(|b| b.len() == 2);
    net.ip_family
        .get_or_insert_with(|| if dual_stack { "IPv4+IPv6" } else { "IPv4" }.to_owned());
    let fill = |ranges: &mut Option<NetworkRanges>, v4: &str, v6: &str| {
        let blocks = ranges
            .get_or_insert_with(NetworkRanges::default)
            .cidr_blocks
            .get_or_insert_with(Vec::new);
        if blocks.is_empty() {
            blocks.push(v4.to_owned());
            if dual_stack {
                blocks.push(v6.to_owned());
            }
        }
    };
    fill(&mut net.pods, defaults.pods_v4, defaults.pods_v6);
    fill(&mut net.services, defaults.services_v4, defaults.services_v6);
    net.node_cidr_mask_size_ipv4.get_or_insert(24);
    if dual_stack {
        net.node_cidr_mask_size_ipv6.get_or_insert(64);
    }
    if net.proxy_mode.as_deref().unwrap_or("").is_empty() {
        let mode = if provider == Some(Provider::Hetzner) {
            "iptables"
        } else if version.as_ref().is_some_and(|v| (v.major, v.minor) >= (1, 35)) {
            "nftables"
        } else {
            "ipvs"
        };
        net.proxy_mode = Some(mode.to_owned());
    }
    if net.proxy_mode.as_deref() == Some("ipvs") {
        net.ipvs
            .get_or_insert_with(IpvsConfiguration::default)
            .strict_arp
            .get_or_insert(true);
    }
    net.node_local_dns_cache_enabled.get_or_insert(true);
    net.dns_domain.get_or_insert_with(|| DEFAULT_DNS_DOMAIN.to_owned());
    net.konnectivity_enabled.get_or_insert(true);
    if tunneling {
        net.tunneling_agent_ip
            .get_or_insert_with(|| DEFAULT_TUNNELING_AGENT_IP.to_owned());
    }
}

fn default_node_port_range(spec: &mut ClusterSpec) {
    let overrides = spec.components_override.get_or_insert_with(|| json!({}));
    let Some(obj) = overrides.as_object_mut() else { return };
    let apiserver = obj.entry("apiserver").or_insert_with(|| json!({}));
    if let Some(a) = apiserver.as_object_mut() {
        a.entry("nodePortRange")
            .or_insert_with(|| json!(DEFAULT_NODE_PORT_RANGE));
    }
}
