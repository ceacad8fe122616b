//! The Cluster's `spec.cloud.vsphere` block (KKP `VSphereCloudSpec`), and the provider's registry entry with its machine rules.

use super::registry::{Descriptor, OsSupport, no_defaults, no_rules};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_with::skip_serializing_none;

use super::secret_reference::GlobalSecretKeySelector;
use crate::shared_fields::Other;

/// VMware vSphere: credentials and where in vCenter the machines go.
#[skip_serializing_none]
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct VsphereCloudSpec {
    pub credentials_reference: Option<GlobalSecretKeySelector>,
    pub username: Option<String>,
    pub password: Option<String>,
    /// Deprecated in favour of `networks`; the two are mutually exclusive.
    #[serde(rename = "vmNetName")]
    pub vm_net_name: Option<String>,
    pub networks: Option<Vec<String>>,
    pub folder: Option<String>,
    pub base_path: Option<String>,
    /// Mutually exclusive with `datastoreCluster`.
    pub datastore: Option<String>,
    pub datastore_cluster: Option<String>,
    pub storage_policy: Option<String>,
    pub resource_pool: Option<String>,
    /// The user for everything but the cloud provider integration.
    pub infra_management_user: Option<VsphereCredentials>,
    pub tags: Option<VsphereTag>,
    #[serde(flatten)]
    pub other: Other,
}

/// A vSphere user name and password.
#[skip_serializing_none]
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct VsphereCredentials {
    pub username: Option<String>,
    pub password: Option<String>,
    #[serde(flatten)]
    pub other: Other,
}

/// Tags created on the cluster level and attached to its machines.
#[skip_serializing_none]
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct VsphereTag {
    pub tags: Option<Vec<String>>,
    /// Empty means the datacenter's default tag category.
    #[serde(rename = "categoryID")]
    pub category_id: Option<String>,
    #[serde(flatten)]
    pub other: Other,
}

/// The registry entry.
pub(super) const DESCRIPTOR: Descriptor = Descriptor {
    name: "vsphere",
    machine_name: "vsphere",
    credential_fields: &[
        "username",
        "password",
        "infraManagementUser.username",
        "infraManagementUser.password",
    ],
    cluster_schema: (
        "cluster/vsphere.json",
        include_str!("../../schemas/cluster/vsphere.json"),
    ),
    machine_schema: (
        "machine/vsphere.json",
        include_str!("../../schemas/machine/vsphere.json"),
    ),
    // Templates are named by the user; machine-controller has no OS table.
    operating_systems: |_| OsSupport::Any,
    ipv6_only: true,
    machine_defaults: no_defaults,
    machine_rules: no_rules,
};

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn upstream_field_names_round_trip() {
        let block = json!({
            "credentialsReference": {"name": "credential-vsphere-x", "namespace": "kubermatic"},
            "username": "",
            "password": "",
            "vmNetName": "/dc/network/Default Network",
            "folder": "/dc/vm/x",
            "basePath": "kkp",
            "datastore": "vsan",
            "storagePolicy": "",
            "resourcePool": "pool",
            "infraManagementUser": {"username": "infra", "password": "p"},
            "tags": {"tags": ["a"], "categoryID": "urn:cat"}
        });
        let spec: VsphereCloudSpec = serde_json::from_value(block.clone()).unwrap();
        assert_eq!(spec.vm_net_name.as_deref(), Some("/dc/network/Default Network"));
        assert_eq!(
            spec.infra_management_user.as_ref().and_then(|u| u.username.as_deref()),
            Some("infra")
        );
        assert_eq!(
            spec.tags.as_ref().and_then(|t| t.category_id.as_deref()),
            Some("urn:cat")
        );
        assert_eq!(serde_json::to_value(&spec).unwrap(), block);
    }
}
