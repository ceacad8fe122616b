//! machine-controller's `cluster.k8s.io/v1alpha1` `MachineDeployment`, `MachineSet` and `Machine`.
//!
//! `providerSpec.value` is typed as [`ProviderConfig`]; its `cloudProviderSpec` and
//! `operatingSystemSpec` stay JSON and are checked against the provider and OS schemas.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_with::skip_serializing_none;

use crate::shared_fields::Other;

/// Where KKP puts MachineDeployments in a user cluster.
pub const MACHINE_DEPLOYMENT_NAMESPACE: &str = "kube-system";

#[skip_serializing_none]
#[derive(CustomResource, Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[kube(
    group = "cluster.k8s.io",
    version = "v1alpha1",
    kind = "MachineDeployment",
    plural = "machinedeployments",
    shortname = "md",
    namespaced,
    status = "MachineDeploymentStatus",
    scale = r#"{"specReplicasPath":".spec.replicas","statusReplicasPath":".status.replicas"}"#,
    printcolumn = r#"{"name":"Replicas","type":"integer","jsonPath":".spec.replicas"}"#,
    printcolumn = r#"{"name":"Available","type":"integer","jsonPath":".status.availableReplicas"}"#,
    printcolumn = r#"{"name":"Provider","type":"string","jsonPath":".spec.template.spec.providerSpec.value.cloudProvider"}"#,
    printcolumn = r#"{"name":"OS","type":"string","jsonPath":".spec.template.spec.providerSpec.value.operatingSystem"}"#,
    printcolumn = r#"{"name":"Kubelet","type":"string","jsonPath":".spec.template.spec.versions.kubelet"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct MachineDeploymentSpec {
    pub replicas: Option<i32>,
    pub selector: Option<LabelSelector>,
    pub template: Option<MachineTemplateSpec>,
    pub strategy: Option<MachineDeploymentStrategy>,
    pub min_ready_seconds: Option<i32>,
    pub revision_history_limit: Option<i32>,
    pub paused: Option<bool>,
    pub progress_deadline_seconds: Option<i32>,
    #[serde(flatten)]
    pub other: Other,
}

#[skip_serializing_none]
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct MachineDeploymentStatus {
    pub observed_generation: Option<i64>,
    pub replicas: Option<i32>,
    pub updated_replicas: Option<i32>,
    pub ready_replicas: Option<i32>,
    pub available_replicas: Option<i32>,
    pub unavailable_replicas: Option<i32>,
    #[serde(flatten)]
    pub other: Other,
}

#[skip_serializing_none]
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct MachineDeploymentStrategy {
    /// Only `RollingUpdate` is accepted.
    #[serde(rename = "type")]
    pub type_: Option<String>,
    pub rolling_update: Option<RollingUpdate>,
    #[serde(flatten)]
    pub other: Other,
}

#[skip_serializing_none]
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RollingUpdate {
    pub max_unavailable: Option<IntOrString>,
    pub max_surge: Option<IntOrString>,
    #[serde(flatten)]
    pub other: Other,
}

/// Labels and annotations for the Machines (and Nodes) a deployment creates.
#[skip_serializing_none]
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TemplateMeta {
    pub name: Option<String>,
    pub namespace: Option<String>,
    pub labels: Option<BTreeMap<String, String>>,
    pub annotations: Option<BTreeMap<String, String>>,
    #[serde(flatten)]
    pub other: Other,
}

#[skip_serializing_none]
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct MachineTemplateSpec {
    pub metadata: Option<TemplateMeta>,
    pub spec: Option<MachineSpec>,
    #[serde(flatten)]
    pub other: Other,
}

#[skip_serializing_none]
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct MachineSpec {
    pub metadata: Option<TemplateMeta>,
    pub taints: Option<Vec<Taint>>,
    pub provider_spec: Option<ProviderSpec>,
    pub versions: Option<MachineVersionInfo>,
    #[serde(default)]
    #[schemars(schema_with = "crate::crdgen::preserve_unknown")]
    pub config_source: Option<Value>,
    #[serde(rename = "providerID")]
    pub provider_id: Option<String>,
    #[serde(flatten)]
    pub other: Other,
}

#[skip_serializing_none]
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Taint {
    pub key: Option<String>,
    pub value: Option<String>,
    pub effect: Option<String>,
    #[serde(flatten)]
    pub other: Other,
}

#[skip_serializing_none]
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct MachineVersionInfo {
    pub kubelet: Option<String>,
    pub control_plane: Option<String>,
    #[serde(flatten)]
    pub other: Other,
}

#[skip_serializing_none]
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ProviderSpec {
    pub value: Option<ProviderConfig>,
    #[serde(default)]
    #[schemars(schema_with = "crate::crdgen::preserve_unknown")]
    pub value_from: Option<Value>,
    #[serde(flatten)]
    pub other: Other,
}

/// machine-controller's `providerconfig.Config`.
#[skip_serializing_none]
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ProviderConfig {
    pub ssh_public_keys: Option<Vec<String>>,
    pub ca_public_key: Option<String>,
    /// machine-controller's provider name: `aws`, `gce` (not `gcp`), `vsphere`, …
    pub cloud_provider: Option<String>,
    #[serde(default)]
    #[schemars(schema_with = "crate::crdgen::preserve_unknown")]
    pub cloud_provider_spec: Option<Value>,
    pub operating_system: Option<String>,
    #[serde(default)]
    #[schemars(schema_with = "crate::crdgen::preserve_unknown")]
    pub operating_system_spec: Option<Value>,
    #[serde(default)]
    #[schemars(schema_with = "crate::crdgen::preserve_unknown")]
    pub network: Option<Value>,
    pub overwrite_cloud_config: Option<String>,
    #[serde(flatten)]
    pub other: Other,
}

#[skip_serializing_none]
#[derive(CustomResource, Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[kube(
    group = "cluster.k8s.io",
    version = "v1alpha1",
    kind = "MachineSet",
    plural = "machinesets",
    shortname = "ms",
    namespaced,
    status = "MachineSetStatus"
)]
#[serde(rename_all = "camelCase")]
pub struct MachineSetSpec {
    pub replicas: Option<i32>,
    pub min_ready_seconds: Option<i32>,
    /// `Random`, `Newest` or `Oldest`.
    pub delete_policy: Option<String>,
    pub selector: Option<LabelSelector>,
    pub template: Option<MachineTemplateSpec>,
    #[serde(flatten)]
    pub other: Other,
}

#[skip_serializing_none]
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct MachineSetStatus {
    pub replicas: Option<i32>,
    pub fully_labeled_replicas: Option<i32>,
    pub ready_replicas: Option<i32>,
    pub available_replicas: Option<i32>,
    pub error_reason: Option<String>,
    pub error_message: Option<String>,
    #[serde(flatten)]
    pub other: Other,
}

#[skip_serializing_none]
#[derive(CustomResource, Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[kube(
    group = "cluster.k8s.io",
    version = "v1alpha1",
    kind = "Machine",
    plural = "machines",
    shortname = "ma",
    namespaced,
    status = "MachineStatus"
)]
#[serde(rename_all = "camelCase")]
pub struct MachineSpecRoot {
    #[serde(flatten)]
    pub spec: MachineSpec,
}

#[skip_serializing_none]
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct MachineStatus {
    #[serde(default)]
    #[schemars(schema_with = "crate::crdgen::preserve_unknown")]
    pub node_ref: Option<Value>,
    pub versions: Option<MachineVersionInfo>,
    pub error_reason: Option<String>,
    pub error_message: Option<String>,
    pub phase: Option<String>,
    #[serde(flatten)]
    pub other: Other,
}
