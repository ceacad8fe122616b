//! The Cluster's `spec.cloud.kubevirt` block (KKP `KubevirtCloudSpec`).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_with::skip_serializing_none;

use super::GlobalSecretKeySelector;
use crate::cluster::Other;

/// KubeVirt: the infrastructure cluster's kubeconfig and its storage.
#[skip_serializing_none]
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct KubevirtCloudSpec {
    pub credentials_reference: Option<GlobalSecretKeySelector>,
    /// The infrastructure cluster's kubeconfig, base64-encoded.
    pub kubeconfig: Option<String>,
    #[serde(rename = "csiKubeconfig")]
    pub csi_kubeconfig: Option<String>,
    pub pre_allocated_data_volumes: Option<Vec<PreAllocatedDataVolume>>,
    /// Deprecated in favour of `storageClasses`.
    pub infra_storage_classes: Option<Vec<String>>,
    pub storage_classes: Option<Vec<KubeVirtInfraStorageClass>>,
    pub volume_snapshot_classes: Option<Vec<KubeVirtInfraVolumeSnapshotClass>>,
    pub image_cloning_enabled: Option<bool>,
    pub vpc_name: Option<String>,
    pub subnet_name: Option<String>,
    pub csi_driver_operator: Option<KubeVirtCsiDriverOperator>,
    #[serde(flatten)]
    pub other: Other,
}

/// A DataVolume created in the infrastructure cluster before any machine, e.g. a custom image.
#[skip_serializing_none]
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PreAllocatedDataVolume {
    pub name: Option<String>,
    pub annotations: Option<BTreeMap<String, String>>,
    pub url: Option<String>,
    pub size: Option<String>,
    pub storage_class: Option<String>,
    #[serde(flatten)]
    pub other: Other,
}

/// An infrastructure StorageClass offered to the user cluster.
#[skip_serializing_none]
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct KubeVirtInfraStorageClass {
    pub name: Option<String>,
    pub is_default_class: Option<bool>,
    #[serde(flatten)]
    pub other: Other,
}

/// An infrastructure VolumeSnapshotClass offered to the user cluster.
#[skip_serializing_none]
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct KubeVirtInfraVolumeSnapshotClass {
    pub name: Option<String>,
    pub is_default_class: Option<bool>,
    #[serde(flatten)]
    pub other: Other,
}

/// Settings of the KubeVirt CSI driver operator in the user cluster.
#[skip_serializing_none]
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct KubeVirtCsiDriverOperator {
    pub overwrite_registry: Option<String>,
    #[serde(flatten)]
    pub other: Other,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn upstream_field_names_round_trip() {
        let block = json!({
            "credentialsReference": {"name": "credential-kubevirt-x", "namespace": "kubermatic"},
            "csiKubeconfig": "a2M=",
            "preAllocatedDataVolumes": [
                {"name": "ubuntu", "url": "http://img/ubuntu.img", "size": "10Gi", "storageClass": "fast",
                 "annotations": {"a": "b"}}
            ],
            "storageClasses": [{"name": "px-csi-db", "isDefaultClass": true, "volumeBindingMode": "Immediate"}],
            "volumeSnapshotClasses": [{"name": "snap"}],
            "imageCloningEnabled": true,
            "vpcName": "vpc",
            "subnetName": "subnet",
            "csiDriverOperator": {"overwriteRegistry": "registry.local"}
        });
        let spec: KubevirtCloudSpec = serde_json::from_value(block.clone()).unwrap();
        assert_eq!(spec.csi_kubeconfig.as_deref(), Some("a2M="));
        let class = &spec.storage_classes.as_ref().unwrap()[0];
        assert_eq!(class.is_default_class, Some(true));
        assert!(class.other.contains_key("volumeBindingMode"));
        assert_eq!(serde_json::to_value(&spec).unwrap(), block);
    }
}
