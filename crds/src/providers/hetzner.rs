//! The Cluster's `spec.cloud.hetzner` block (KKP `HetznerCloudSpec`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_with::skip_serializing_none;

use super::GlobalSecretKeySelector;
use crate::cluster::Other;

/// Hetzner Cloud: an API token and, optionally, the network the CCM uses.
#[skip_serializing_none]
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct HetznerCloudSpec {
    pub credentials_reference: Option<GlobalSecretKeySelector>,
    pub token: Option<String>,
    /// Empty means the datacenter's network.
    pub network: Option<String>,
    #[serde(flatten)]
    pub other: Other,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn upstream_field_names_round_trip() {
        let block = json!({"token": "t", "network": "net", "credentialsReference": {"name": "n", "namespace": "ns"}});
        let spec: HetznerCloudSpec = serde_json::from_value(block.clone()).unwrap();
        assert_eq!(spec.token.as_deref(), Some("t"));
        assert_eq!(
            spec.credentials_reference.as_ref().and_then(|r| r.name.as_deref()),
            Some("n")
        );
        assert_eq!(serde_json::to_value(&spec).unwrap(), block);
    }
}
