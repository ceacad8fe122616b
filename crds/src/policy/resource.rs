//! The `AdmissionPolicy` resource cluster admins write (`policy.kubectl-kkp.io/v1alpha1`,
//! cluster-scoped).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_with::skip_serializing_none;

use super::violation::Enforcement;

pub const GROUP: &str = "policy.kubectl-kkp.io";

/// What users may create: providers, datacenters, versions, sizes, labels, credentials, and custom
/// CEL rules. Rules left out allow anything.
#[skip_serializing_none]
#[derive(CustomResource, Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[kube(
    group = "policy.kubectl-kkp.io",
    version = "v1alpha1",
    kind = "AdmissionPolicy",
    plural = "admissionpolicies",
    shortname = "kkppolicy",
    status = "AdmissionPolicyStatus",
    printcolumn = r#"{"name":"Enforcement","type":"string","jsonPath":".spec.enforcement"}"#,
    printcolumn = r#"{"name":"Compiled","type":"boolean","jsonPath":".status.compiled"}"#,
    printcolumn = r#"{"name":"Matched","type":"integer","jsonPath":".status.matched"}"#,
    printcolumn = r#"{"name":"Denied","type":"integer","jsonPath":".status.denied"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct AdmissionPolicySpec {
    /// `Deny` (default) rejects, `Warn` admits with a warning, `Audit` admits and records.
    pub enforcement: Option<Enforcement>,
    /// Which objects the policy applies to, by their labels (for example `project-id`). Empty
    /// selects every Cluster and MachineDeployment. A MachineDeployment without a `project-id`
    /// label is matched with `project-id` set to its machines' `system/project` label.
    pub selector: Option<LabelSelector>,
    /// Users and groups the policy does not apply to.
    pub exemptions: Option<Exemptions>,
    /// Whether a field the rules restrict (an instance size, CPUs, memory) may be given by
    /// reference (`secretKeyRef`, `configMapKeyRef`) and go unchecked. By default such an object is
    /// denied with a message that asks for the value inline.
    pub allow_references: Option<bool>,
    #[serde(default)]
    pub rules: PolicyRules,
}

#[skip_serializing_none]
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Exemptions {
    pub users: Option<Vec<String>>,
    pub groups: Option<Vec<String>>,
}

#[skip_serializing_none]
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PolicyRules {
    /// Allowed providers, by KKP name (`aws`, `gcp`, `hetzner`, …).
    pub providers: Option<Vec<String>>,
    /// Allowed datacenters (`spec.cloud.dc`).
    pub datacenters: Option<Vec<String>>,
    /// A semver constraint on the cluster version and the kubelet version, e.g. `>=1.34, <1.36`.
    pub kubernetes_versions: Option<String>,
    /// Allowed CNI types (`cilium`, `canal`, `none`).
    pub cni_types: Option<Vec<String>>,
    /// Allowed expose strategies (`NodePort`, `LoadBalancer`, `Tunneling`).
    pub expose_strategies: Option<Vec<String>>,
    /// Allowed instance sizes per provider.
    pub instance_sizes: Option<InstanceSizes>,
    /// Upper bounds for vSphere machines.
    pub vsphere: Option<VsphereLimits>,
    /// Upper bounds for KubeVirt machines.
    pub kubevirt: Option<KubevirtLimits>,
    /// Most replicas one MachineDeployment may ask for.
    pub max_replicas: Option<i64>,
    /// Most workers a cluster may have: checked on each MachineDeployment, on a Cluster's initial
    /// machine deployment request, and by the plugin over everything it creates at once.
    pub max_workers: Option<i64>,
    /// Labels every object must carry: `key` or `key=value`.
    pub required_labels: Option<Vec<String>>,
    /// Annotations every object must carry: `key` or `key=value`.
    pub required_annotations: Option<Vec<String>>,
    /// Credentials must come from a reference (`credentialsReference` or a secret reference), never inline.
    pub forbid_inline_credentials: Option<bool>,
    /// Custom rules over the object, as CEL expressions that must evaluate to true.
    pub cel: Option<Vec<CelRule>>,
}

#[skip_serializing_none]
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct InstanceSizes {
    /// Allowed `instanceType`s.
    pub aws: Option<Vec<String>>,
    /// Allowed `vmSize`s.
    pub azure: Option<Vec<String>>,
    /// Allowed `machineType`s.
    pub gcp: Option<Vec<String>>,
    /// Allowed `serverType`s.
    pub hetzner: Option<Vec<String>>,
    /// Allowed `flavor`s.
    pub openstack: Option<Vec<String>>,
    /// Allowed `size`s.
    pub digitalocean: Option<Vec<String>>,
}

#[skip_serializing_none]
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct VsphereLimits {
    #[serde(rename = "maxCPUs")]
    pub max_cpus: Option<i64>,
    #[serde(rename = "maxMemoryMB")]
    pub max_memory_mb: Option<i64>,
}

#[skip_serializing_none]
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct KubevirtLimits {
    #[serde(rename = "maxCPUs")]
    pub max_cpus: Option<i64>,
    /// A quantity such as `16Gi`.
    pub max_memory: Option<String>,
}

#[skip_serializing_none]
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CelRule {
    /// Names the rule in messages and metrics.
    pub name: String,
    /// Evaluated with `object` (the object) and `kind` bound; must return a bool.
    pub expression: String,
    /// Shown when the expression is false.
    pub message: Option<String>,
}

/// What the webhook reports about a policy.
#[skip_serializing_none]
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AdmissionPolicyStatus {
    /// Whether the policy compiled; when false, `error` says why and the policy is not enforced.
    pub compiled: Option<bool>,
    pub error: Option<String>,
    pub observed_generation: Option<i64>,
    /// Admission requests the policy selected, added up by every webhook replica.
    pub matched: Option<i64>,
    /// Admission requests the policy denied, added up by every webhook replica.
    pub denied: Option<i64>,
}
