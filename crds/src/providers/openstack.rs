//! The Cluster's `spec.cloud.openstack` block (KKP `OpenstackCloudSpec`), and the provider's registry entry with its machine rules.

use serde_json::Value;

use super::registry::{Descriptor, OsSupport, no_defaults};
use crate::field::{FieldError, Path};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_with::skip_serializing_none;

use super::secret_reference::GlobalSecretKeySelector;
use crate::shared_fields::{NetworkRanges, Other};

/// OpenStack: user or application credentials, and the network resources KKP creates or reuses.
#[skip_serializing_none]
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct OpenstackCloudSpec {
    pub credentials_reference: Option<GlobalSecretKeySelector>,
    pub username: Option<String>,
    pub password: Option<String>,
    /// The project, formerly known as tenant.
    pub project: Option<String>,
    #[serde(rename = "projectID")]
    pub project_id: Option<String>,
    pub domain: Option<String>,
    #[serde(rename = "applicationCredentialID")]
    pub application_credential_id: Option<String>,
    pub application_credential_secret: Option<String>,
    pub use_token: Option<bool>,
    pub token: Option<String>,
    /// Empty means KKP creates a network, subnet and router.
    pub network: Option<String>,
    /// A single security group name, despite the plural.
    pub security_groups: Option<String>,
    #[serde(rename = "nodePortsAllowedIPRange")]
    pub node_ports_allowed_ip_range: Option<String>,
    #[serde(rename = "nodePortsAllowedIPRanges")]
    pub node_ports_allowed_ip_ranges: Option<NetworkRanges>,
    #[serde(rename = "floatingIPPool")]
    pub floating_ip_pool: Option<String>,
    #[serde(rename = "loadBalancerFloatingIPPool")]
    pub load_balancer_floating_ip_pool: Option<String>,
    #[serde(rename = "routerID")]
    pub router_id: Option<String>,
    #[serde(rename = "subnetID")]
    pub subnet_id: Option<String>,
    #[serde(rename = "subnetCidr")]
    pub subnet_cidr: Option<String>,
    /// First and last usable address, `10.10.0.1-10.10.0.254`.
    pub subnet_allocation_pool: Option<String>,
    #[serde(rename = "ipv6SubnetCidr")]
    pub ipv6_subnet_cidr: Option<String>,
    #[serde(rename = "ipv6SubnetID")]
    pub ipv6_subnet_id: Option<String>,
    #[serde(rename = "ipv6SubnetPool")]
    pub ipv6_subnet_pool: Option<String>,
    pub use_octavia: Option<bool>,
    pub enable_ingress_hostname: Option<bool>,
    pub ingress_hostname_suffix: Option<String>,
    pub cinder_topology_enabled: Option<bool>,
    pub load_balancer_classes: Option<Vec<LoadBalancerClass>>,
    pub node_volume_attach_limit: Option<u32>,
    #[serde(flatten)]
    pub other: Other,
}

/// A named load balancer class of the OpenStack cloud controller manager.
#[skip_serializing_none]
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct LoadBalancerClass {
    pub name: Option<String>,
    pub config: Option<LoadBalancerClassConfig>,
    #[serde(flatten)]
    pub other: Other,
}

/// The cloud-config section of one load balancer class.
#[skip_serializing_none]
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct LoadBalancerClassConfig {
    #[serde(rename = "floatingNetworkID")]
    pub floating_network_id: Option<String>,
    #[serde(rename = "floatingSubnetID")]
    pub floating_subnet_id: Option<String>,
    pub floating_subnet: Option<String>,
    pub floating_subnet_tags: Option<String>,
    #[serde(rename = "networkID")]
    pub network_id: Option<String>,
    #[serde(rename = "subnetID")]
    pub subnet_id: Option<String>,
    #[serde(rename = "memberSubnetID")]
    pub member_subnet_id: Option<String>,
    #[serde(flatten)]
    pub other: Other,
}

/// The registry entry.
pub(super) const DESCRIPTOR: Descriptor = Descriptor {
    name: "openstack",
    machine_name: "openstack",
    credential_fields: &[
        "username",
        "password",
        "project",
        "projectID",
        "domain",
        "applicationCredentialID",
        "applicationCredentialSecret",
        "token",
    ],
    cluster_schema: (
        "cluster/openstack.json",
        include_str!("../../schemas/cluster/openstack.json"),
    ),
    machine_schema: (
        "machine/openstack.json",
        include_str!("../../schemas/machine/openstack.json"),
    ),
    // Images are named by the user; machine-controller has no OS table.
    operating_systems: |_| OsSupport::Any,
    ipv6_only: true,
    machine_defaults: no_defaults,
    machine_rules,
};

/// The server tag machine-controller sets itself.
pub const MACHINE_UID_TAG: &str = "machine-uid";

fn machine_rules(spec: &Value, base: &Path) -> Vec<FieldError> {
    match spec.get("tags").and_then(Value::as_object) {
        Some(tags) if tags.contains_key(MACHINE_UID_TAG) => vec![FieldError::forbidden(
            base.child("tags").key(MACHINE_UID_TAG),
            "the machine-uid tag is reserved for machine-controller",
        )],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn upstream_field_names_round_trip() {
        let block = json!({
            "applicationCredentialID": "id",
            "applicationCredentialSecret": "secret",
            "projectID": "p",
            "network": "net",
            "securityGroups": "sg",
            "floatingIPPool": "ext-net",
            "loadBalancerFloatingIPPool": "lb-net",
            "routerID": "r",
            "subnetID": "s",
            "subnetCidr": "192.168.1.0/24",
            "ipv6SubnetCidr": "fd00::/64",
            "ipv6SubnetID": "s6",
            "ipv6SubnetPool": "pool6",
            "useOctavia": true,
            "loadBalancerClasses": [{"name": "internal", "config": {"floatingNetworkID": "f", "memberSubnetID": "m"}}],
            "nodeVolumeAttachLimit": 25
        });
        let spec: OpenstackCloudSpec = serde_json::from_value(block.clone()).unwrap();
        assert_eq!(spec.floating_ip_pool.as_deref(), Some("ext-net"));
        assert_eq!(spec.node_volume_attach_limit, Some(25));
        let class = &spec.load_balancer_classes.as_ref().unwrap()[0];
        assert_eq!(
            class.config.as_ref().and_then(|c| c.member_subnet_id.as_deref()),
            Some("m")
        );
        assert_eq!(serde_json::to_value(&spec).unwrap(), block);
    }
}
