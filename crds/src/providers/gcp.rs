//! The Cluster's `spec.cloud.gcp` block (KKP `GCPCloudSpec`), and the provider's registry entry with its machine rules.

use serde_json::Value;

use super::os::OperatingSystem;
use super::registry::{Descriptor, OsSupport, is_set, no_defaults, no_rules};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_with::skip_serializing_none;

use super::secret_reference::GlobalSecretKeySelector;
use crate::shared_fields::{NetworkRanges, Other};

/// Google Cloud: a service account and the network the machines join.
#[skip_serializing_none]
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct GcpCloudSpec {
    pub credentials_reference: Option<GlobalSecretKeySelector>,
    /// The service account JSON, base64-encoded.
    pub service_account: Option<String>,
    pub network: Option<String>,
    pub subnetwork: Option<String>,
    #[serde(rename = "nodePortsAllowedIPRange")]
    pub node_ports_allowed_ip_range: Option<String>,
    #[serde(rename = "nodePortsAllowedIPRanges")]
    pub node_ports_allowed_ip_ranges: Option<NetworkRanges>,
    #[serde(flatten)]
    pub other: Other,
}

/// The registry entry.
pub(super) const DESCRIPTOR: Descriptor = Descriptor {
    name: "gcp",
    machine_name: "gce",
    credential_fields: &["serviceAccount"],
    cluster_schema: ("cluster/gcp.json", include_str!("../../schemas/cluster/gcp.json")),
    machine_schema: ("machine/gce.json", include_str!("../../schemas/machine/gce.json")),
    operating_systems,
    ipv6_only: false,
    machine_defaults: no_defaults,
    machine_rules: no_rules,
};

/// Image families exist for ubuntu and flatcar; a `customImage` may be any system.
fn operating_systems(spec: &Value) -> OsSupport {
    if is_set(spec.get("customImage")) {
        OsSupport::Any
    } else {
        OsSupport::Only(&[OperatingSystem::Ubuntu, OperatingSystem::Flatcar])
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn upstream_field_names_round_trip() {
        let block = json!({
            "credentialsReference": {"name": "credential-gcp-x", "namespace": "kubermatic"},
            "serviceAccount": "e30=",
            "network": "global/networks/default",
            "subnetwork": "",
            "nodePortsAllowedIPRange": "0.0.0.0/0"
        });
        let spec: GcpCloudSpec = serde_json::from_value(block.clone()).unwrap();
        assert_eq!(spec.network.as_deref(), Some("global/networks/default"));
        assert_eq!(spec.node_ports_allowed_ip_range.as_deref(), Some("0.0.0.0/0"));
        assert_eq!(serde_json::to_value(&spec).unwrap(), block);
    }
}
