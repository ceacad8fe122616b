//! The Cluster's `spec.cloud.kubevirt` block (KKP `KubevirtCloudSpec`), and the provider's registry entry with its machine rules.

use std::collections::BTreeMap;

use serde_json::Value;

use super::os::OperatingSystem;
use super::registry::{Descriptor, OsSupport, is_set, no_defaults, plain_value};
use crate::field::{FieldError, Path};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_with::skip_serializing_none;

use super::secret_reference::GlobalSecretKeySelector;
use crate::shared_fields::Other;

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
    /// The VolumeSnapshotClass of the infrastructure cluster.
    pub infra_volume_snapshot_class: Option<String>,
    pub is_default_class: Option<bool>,
    /// `Delete` or `Retain`.
    pub deletion_policy: Option<String>,
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

/// The registry entry.
pub(super) const DESCRIPTOR: Descriptor = Descriptor {
    name: "kubevirt",
    machine_name: "kubevirt",
    credential_fields: &["kubeconfig", "csiKubeconfig"],
    cluster_schema: (
        "cluster/kubevirt.json",
        include_str!("../../schemas/cluster/kubevirt.json"),
    ),
    machine_schema: (
        "machine/kubevirt.json",
        include_str!("../../schemas/machine/kubevirt.json"),
    ),
    // machine-controller's SupportedOS.
    operating_systems: |_| {
        use OperatingSystem::*;
        OsSupport::Only(&[Ubuntu, Rhel, Flatcar, Rockylinux])
    },
    ipv6_only: true,
    machine_defaults: no_defaults,
    machine_rules,
};

/// Whether `q` is a Kubernetes resource quantity (`20Gi`, `1.5`, `500M`, `1e3`).
pub fn is_quantity(q: &str) -> bool {
    let body = q.strip_prefix(['+', '-']).unwrap_or(q);
    let digits_end = body
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(body.len());
    let (number, suffix) = body.split_at(digits_end);
    let valid_number = !number.is_empty() && number != "." && number.matches('.').count() <= 1;
    let valid_suffix = matches!(
        suffix,
        "" | "Ki" | "Mi" | "Gi" | "Ti" | "Pi" | "Ei" | "n" | "u" | "m" | "k" | "M" | "G" | "T" | "P" | "E"
    ) || suffix
        .strip_prefix(['e', 'E'])
        .map(|exp| exp.strip_prefix(['+', '-']).unwrap_or(exp))
        .is_some_and(|exp| !exp.is_empty() && exp.bytes().all(|b| b.is_ascii_digit()));
    valid_number && valid_suffix
}

fn machine_rules(spec: &Value, base: &Path) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let disk = base
        .child("virtualMachine")
        .child("template")
        .child("primaryDisk")
        .child("size");
    let size = spec.pointer("/virtualMachine/template/primaryDisk/size");
    if !is_set(size) {
        errors.push(FieldError::required(disk, "the primary disk needs a size such as 20Gi"));
    } else if let Some(s) = size.and_then(plain_value).and_then(Value::as_str)
        && !is_quantity(s)
    {
        errors.push(FieldError::invalid(disk, s, "must be a quantity such as 20Gi"));
    }
    errors
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
