//! The Cluster's `spec.cloud.azure` block (KKP `AzureCloudSpec`), and the provider's registry entry with its machine rules.

use serde_json::Value;

use super::os::OperatingSystem;
use super::registry::{Descriptor, OsSupport, is_set, no_defaults, no_rules};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_with::skip_serializing_none;

use super::secret_reference::GlobalSecretKeySelector;
use crate::shared_fields::{NetworkRanges, Other};

/// Microsoft Azure: a service principal and the network resources KKP creates or reuses. Empty
/// resource names at creation mean KKP creates the resource and writes its name back.
#[skip_serializing_none]
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AzureCloudSpec {
    pub credentials_reference: Option<GlobalSecretKeySelector>,
    #[serde(rename = "tenantID")]
    pub tenant_id: Option<String>,
    #[serde(rename = "subscriptionID")]
    pub subscription_id: Option<String>,
    #[serde(rename = "clientID")]
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub resource_group: Option<String>,
    pub vnet_resource_group: Option<String>,
    pub vnet: Option<String>,
    pub subnet: Option<String>,
    pub route_table: Option<String>,
    pub security_group: Option<String>,
    #[serde(rename = "nodePortsAllowedIPRange")]
    pub node_ports_allowed_ip_range: Option<String>,
    #[serde(rename = "nodePortsAllowedIPRanges")]
    pub node_ports_allowed_ip_ranges: Option<NetworkRanges>,
    pub assign_availability_set: Option<bool>,
    pub availability_set: Option<String>,
    /// `standard` or `basic`; empty is read as `standard`.
    #[serde(rename = "loadBalancerSKU")]
    pub load_balancer_sku: Option<String>,
    #[serde(flatten)]
    pub other: Other,
}

/// The registry entry.
pub(super) const DESCRIPTOR: Descriptor = Descriptor {
    name: "azure",
    machine_name: "azure",
    credential_fields: &["tenantID", "subscriptionID", "clientID", "clientSecret"],
    cluster_schema: ("cluster/azure.json", include_str!("../../schemas/cluster/azure.json")),
    machine_schema: ("machine/azure.json", include_str!("../../schemas/machine/azure.json")),
    operating_systems,
    ipv6_only: false,
    machine_defaults: no_defaults,
    machine_rules: no_rules,
};

/// Marketplace images exist for these; a machine that names its image (`imageID` or
/// `imageReference`) may run any system.
fn operating_systems(spec: &Value) -> OsSupport {
    use OperatingSystem::*;
    if is_set(spec.get("imageID")) || is_set(spec.get("imageReference")) {
        OsSupport::Any
    } else {
        OsSupport::Only(&[Ubuntu, Flatcar, Rhel, Rockylinux])
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn upstream_field_names_round_trip() {
        let block = json!({
            "tenantID": "t",
            "subscriptionID": "s",
            "clientID": "c",
            "clientSecret": "x",
            "resourceGroup": "rg",
            "vnetResourceGroup": "",
            "vnet": "v",
            "subnet": "sn",
            "routeTable": "rt",
            "securityGroup": "sg",
            "assignAvailabilitySet": true,
            "availabilitySet": "as",
            "loadBalancerSKU": "standard",
            "nodePortsAllowedIPRanges": {"cidrBlocks": []}
        });
        let spec: AzureCloudSpec = serde_json::from_value(block.clone()).unwrap();
        assert_eq!(spec.tenant_id.as_deref(), Some("t"));
        assert_eq!(spec.load_balancer_sku.as_deref(), Some("standard"));
        assert!(spec.other.is_empty());
        assert_eq!(serde_json::to_value(&spec).unwrap(), block);
    }
}
