//! The Cluster's `spec.cloud.hetzner` block (KKP `HetznerCloudSpec`), and the provider's registry entry with its machine rules.

use serde_json::Value;

use super::os::OperatingSystem;
use super::registry::{Descriptor, MachineLabels, OsSupport, is_set, plain_str};
use crate::field::{FieldError, Path};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_with::skip_serializing_none;

use super::secret_reference::GlobalSecretKeySelector;
use crate::shared_fields::Other;

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

/// The registry entry.
pub(super) const DESCRIPTOR: Descriptor = Descriptor {
    name: "hetzner",
    machine_name: "hetzner",
    credential_fields: &["token"],
    cluster_schema: (
        "cluster/hetzner.json",
        include_str!("../../schemas/cluster/hetzner.json"),
    ),
    machine_schema: (
        "machine/hetzner.json",
        include_str!("../../schemas/machine/hetzner.json"),
    ),
    operating_systems,
    ipv6_only: true,
    machine_defaults,
    machine_rules,
};

/// hcloud images exist for ubuntu and rockylinux; a machine that names its `image` may run any.
fn operating_systems(spec: &Value) -> OsSupport {
    if is_set(spec.get("image")) {
        OsSupport::Any
    } else {
        OsSupport::Only(&[OperatingSystem::Ubuntu, OperatingSystem::Rockylinux])
    }
}

/// A datacenter name (`nbg1-dc3`) as its location (`nbg1`); `None` for a numeric datacenter ID,
/// which names no location.
pub fn datacenter_location(datacenter: &str) -> Option<&str> {
    if datacenter.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(datacenter.split_once('-').map_or(datacenter, |(location, _)| location))
}

/// machine-controller moves the deprecated `datacenter` to `location` and clears it.
fn machine_defaults(spec: &mut Value, _: &mut MachineLabels) {
    if is_set(spec.get("location")) {
        return;
    }
    let Some(location) = plain_str(spec, "/datacenter")
        .filter(|d| !d.is_empty())
        .and_then(datacenter_location)
        .map(str::to_owned)
    else {
        return;
    };
    if let Some(obj) = spec.as_object_mut() {
        obj.insert("location".into(), Value::String(location));
        obj.insert("datacenter".into(), Value::String(String::new()));
    }
}

fn machine_rules(spec: &Value, base: &Path) -> Vec<FieldError> {
    match plain_str(spec, "/datacenter") {
        Some(dc) if !dc.is_empty() && datacenter_location(dc).is_none() => vec![FieldError::invalid(
            base.child("datacenter"),
            dc,
            "is a numeric ID; give the location (such as fsn1) instead",
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
