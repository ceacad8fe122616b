//! The Cluster's `spec.cloud.digitalocean` block (KKP `DigitaloceanCloudSpec`), and the provider's registry entry with its machine rules.

use super::os::OperatingSystem;
use super::registry::{Descriptor, OsSupport, no_defaults, no_rules};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_with::skip_serializing_none;

use super::secret_reference::GlobalSecretKeySelector;
use crate::shared_fields::Other;

/// DigitalOcean: an API token, nothing else.
#[skip_serializing_none]
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct DigitaloceanCloudSpec {
    pub credentials_reference: Option<GlobalSecretKeySelector>,
    pub token: Option<String>,
    #[serde(flatten)]
    pub other: Other,
}

/// The registry entry.
pub(super) const DESCRIPTOR: Descriptor = Descriptor {
    name: "digitalocean",
    machine_name: "digitalocean",
    credential_fields: &["token"],
    cluster_schema: (
        "cluster/digitalocean.json",
        include_str!("../../schemas/cluster/digitalocean.json"),
    ),
    machine_schema: (
        "machine/digitalocean.json",
        include_str!("../../schemas/machine/digitalocean.json"),
    ),
    // Droplet image slugs exist for these two only.
    operating_systems: |_| OsSupport::Only(&[OperatingSystem::Ubuntu, OperatingSystem::Rockylinux]),
    ipv6_only: false,
    machine_defaults: no_defaults,
    machine_rules: no_rules,
};

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn upstream_field_names_round_trip() {
        let block = json!({"token": "dop_v1_x"});
        let spec: DigitaloceanCloudSpec = serde_json::from_value(block.clone()).unwrap();
        assert_eq!(spec.token.as_deref(), Some("dop_v1_x"));
        assert_eq!(spec.credentials_reference, None);
        assert_eq!(serde_json::to_value(&spec).unwrap(), block);
    }
}
