//! KKP's `kubermatic.k8c.io/v1` `Cluster`, as far as users write it and the plugin reads it.
//!
//! Field names, group, version and kind match upstream, so objects written here work on a real KKP
//! seed. Fields this crate does not model are kept in `other` maps and round-trip unchanged.

use std::collections::BTreeMap;

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_with::skip_serializing_none;

use crate::providers::{
    AwsCloudSpec, AzureCloudSpec, DigitaloceanCloudSpec, GcpCloudSpec, HetznerCloudSpec, KubevirtCloudSpec,
    OpenstackCloudSpec, Provider, VsphereCloudSpec,
};
use crate::shared_fields::{NetworkRanges, Other};

/// The label that ties a Cluster to its KKP project.
pub const PROJECT_ID_LABEL: &str = "project-id";
/// Labels users must not set on a Cluster themselves.
pub const PROTECTED_LABELS: [&str; 3] = ["worker-name", PROJECT_ID_LABEL, "is-credential-preset"];
pub const UNSAFE_CNI_UPGRADE_LABEL: &str = "unsafe-cni-upgrade";
pub const UNSAFE_CNI_MIGRATION_LABEL: &str = "unsafe-cni-migration";
pub const UNSAFE_EXPOSE_STRATEGY_MIGRATION_LABEL: &str = "unsafe-expose-strategy-migration";
/// KKP's limit on the length of a cluster name (the cluster ID).
pub const MAX_CLUSTER_NAME_LENGTH: usize = 36;

#[skip_serializing_none]
#[derive(CustomResource, Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[kube(
    group = "kubermatic.k8c.io",
    version = "v1",
    kind = "Cluster",
    plural = "clusters",
    status = "ClusterStatus",
    printcolumn = r#"{"name":"HumanReadableName","type":"string","jsonPath":".spec.humanReadableName"}"#,
    printcolumn = r#"{"name":"Owner","type":"string","jsonPath":".status.userEmail"}"#,
    printcolumn = r#"{"name":"Version","type":"string","jsonPath":".spec.version"}"#,
    printcolumn = r#"{"name":"Provider","type":"string","jsonPath":".spec.cloud.providerName"}"#,
    printcolumn = r#"{"name":"Datacenter","type":"string","jsonPath":".spec.cloud.dc"}"#,
    printcolumn = r#"{"name":"Phase","type":"string","jsonPath":".status.phase"}"#,
    printcolumn = r#"{"name":"Paused","type":"boolean","jsonPath":".spec.pause"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct ClusterSpec {
    pub human_readable_name: Option<String>,
    /// Kubernetes version, semver with an optional `v`.
    pub version: Option<String>,
    pub cloud: Option<CloudSpec>,
    pub cluster_network: Option<ClusterNetworkingConfig>,
    /// `NodePort`, `LoadBalancer` or `Tunneling`.
    pub expose_strategy: Option<String>,
    /// Only `containerd` is accepted.
    pub container_runtime: Option<String>,
    pub cni_plugin: Option<CniPluginSettings>,
    pub machine_networks: Option<Vec<MachineNetworkingConfig>>,
    #[serde(rename = "apiServerAllowedIPRanges")]
    pub api_server_allowed_ip_ranges: Option<NetworkRanges>,
    pub image_pull_secret: Option<SecretReference>,
    pub features: Option<BTreeMap<String, bool>>,
    pub update_window: Option<UpdateWindow>,
    pub use_pod_security_policy_admission_plugin: Option<bool>,
    pub use_pod_node_selector_admission_plugin: Option<bool>,
    pub use_event_rate_limit_admission_plugin: Option<bool>,
    pub admission_plugins: Option<Vec<String>>,
    pub pod_node_selector_admission_plugin_config: Option<BTreeMap<String, String>>,
    pub event_rate_limit_config: Option<EventRateLimitConfig>,
    #[serde(rename = "enableUserSSHKeyAgent")]
    pub enable_user_ssh_key_agent: Option<bool>,
    pub enable_operating_system_manager: Option<bool>,
    pub kubernetes_dashboard: Option<KubernetesDashboard>,
    #[serde(rename = "oidc")]
    pub oidc: Option<OidcSettings>,
    pub authentication_configuration: Option<AuthenticationConfiguration>,
    pub encryption_configuration: Option<EncryptionConfiguration>,
    #[serde(default)]
    #[schemars(schema_with = "crate::crdgen::preserve_unknown")]
    pub components_override: Option<Value>,
    #[serde(default)]
    #[schemars(schema_with = "crate::crdgen::preserve_unknown")]
    pub audit_logging: Option<Value>,
    #[serde(default)]
    #[schemars(schema_with = "crate::crdgen::preserve_unknown")]
    pub authorization_config: Option<Value>,
    #[serde(default)]
    #[schemars(schema_with = "crate::crdgen::preserve_unknown")]
    pub opa_integration: Option<Value>,
    #[serde(default)]
    #[schemars(schema_with = "crate::crdgen::preserve_unknown")]
    pub service_account: Option<Value>,
    #[serde(default)]
    #[schemars(schema_with = "crate::crdgen::preserve_unknown")]
    pub mla: Option<Value>,
    pub pause: Option<bool>,
    pub pause_reason: Option<String>,
    pub debug_log: Option<bool>,
    pub disable_csi_driver: Option<bool>,
    #[serde(flatten)]
    pub other: Other,
}

#[skip_serializing_none]
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CloudSpec {
    /// The datacenter this cluster runs in, as named on the seed.
    pub dc: Option<String>,
    pub provider_name: Option<String>,
    pub aws: Option<AwsCloudSpec>,
    pub azure: Option<AzureCloudSpec>,
    pub gcp: Option<GcpCloudSpec>,
    pub hetzner: Option<HetznerCloudSpec>,
    pub vsphere: Option<VsphereCloudSpec>,
    pub openstack: Option<OpenstackCloudSpec>,
    pub digitalocean: Option<DigitaloceanCloudSpec>,
    pub kubevirt: Option<KubevirtCloudSpec>,
    /// Other providers' blocks (nutanix, alibaba, …), kept as they came.
    #[serde(flatten)]
    pub other: Other,
}

#[skip_serializing_none]
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ClusterNetworkingConfig {
    /// `IPv4` or `IPv4+IPv6`.
    pub ip_family: Option<String>,
    pub pods: Option<NetworkRanges>,
    pub services: Option<NetworkRanges>,
    #[serde(rename = "nodeCidrMaskSizeIPv4")]
    pub node_cidr_mask_size_ipv4: Option<i32>,
    #[serde(rename = "nodeCidrMaskSizeIPv6")]
    pub node_cidr_mask_size_ipv6: Option<i32>,
    pub dns_domain: Option<String>,
    /// `ipvs`, `iptables`, `ebpf` or `nftables`.
    pub proxy_mode: Option<String>,
    pub ipvs: Option<IpvsConfiguration>,
    #[serde(rename = "nodeLocalDNSCacheEnabled")]
    pub node_local_dns_cache_enabled: Option<bool>,
    #[serde(rename = "coreDNSReplicas")]
    pub core_dns_replicas: Option<i32>,
    pub konnectivity_enabled: Option<bool>,
    #[serde(rename = "tunnelingAgentIP")]
    pub tunneling_agent_ip: Option<String>,
    #[serde(flatten)]
    pub other: Other,
}

#[skip_serializing_none]
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct IpvsConfiguration {
    pub strict_arp: Option<bool>,
    #[serde(flatten)]
    pub other: Other,
}

#[skip_serializing_none]
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CniPluginSettings {
    /// `canal`, `cilium` or `none`.
    #[serde(rename = "type")]
    pub type_: Option<String>,
    pub version: Option<String>,
    #[serde(flatten)]
    pub other: Other,
}

#[skip_serializing_none]
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct MachineNetworkingConfig {
    pub cidr: Option<String>,
    pub gateway: Option<String>,
    pub dns_servers: Option<Vec<String>>,
    #[serde(flatten)]
    pub other: Other,
}

#[skip_serializing_none]
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SecretReference {
    pub name: Option<String>,
    pub namespace: Option<String>,
    #[serde(flatten)]
    pub other: Other,
}

#[skip_serializing_none]
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct UpdateWindow {
    pub start: Option<String>,
    pub length: Option<String>,
    #[serde(flatten)]
    pub other: Other,
}

#[skip_serializing_none]
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct KubernetesDashboard {
    pub enabled: Option<bool>,
    #[serde(flatten)]
    pub other: Other,
}

#[skip_serializing_none]
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct OidcSettings {
    #[serde(rename = "issuerURL")]
    pub issuer_url: Option<String>,
    #[serde(rename = "clientID")]
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    #[serde(flatten)]
    pub other: Other,
}

#[skip_serializing_none]
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AuthenticationConfiguration {
    pub secret_name: Option<String>,
    pub secret_key: Option<String>,
    #[serde(flatten)]
    pub other: Other,
}

#[skip_serializing_none]
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct EventRateLimitConfig {
    pub server: Option<EventRateLimitConfigItem>,
    pub namespace: Option<EventRateLimitConfigItem>,
    pub user: Option<EventRateLimitConfigItem>,
    pub source_and_object: Option<EventRateLimitConfigItem>,
    #[serde(flatten)]
    pub other: Other,
}

#[skip_serializing_none]
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct EventRateLimitConfigItem {
    pub qps: Option<i32>,
    pub burst: Option<i32>,
    pub cache_size: Option<i32>,
    #[serde(flatten)]
    pub other: Other,
}

#[skip_serializing_none]
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct EncryptionConfiguration {
    pub enabled: Option<bool>,
    pub resources: Option<Vec<String>>,
    pub secretbox: Option<SecretboxEncryptionConfiguration>,
    #[serde(flatten)]
    pub other: Other,
}

#[skip_serializing_none]
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SecretboxEncryptionConfiguration {
    pub keys: Option<Vec<SecretboxKey>>,
    #[serde(flatten)]
    pub other: Other,
}

#[skip_serializing_none]
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SecretboxKey {
    pub name: Option<String>,
    pub value: Option<String>,
    #[serde(default)]
    #[schemars(schema_with = "crate::crdgen::preserve_unknown")]
    pub secret_ref: Option<Value>,
    #[serde(flatten)]
    pub other: Other,
}

/// What KKP reports about a cluster.
#[skip_serializing_none]
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ClusterStatus {
    /// `Creating`, `Updating`, `Running` or `Terminating`.
    pub phase: Option<String>,
    pub namespace_name: Option<String>,
    pub address: Option<ClusterAddress>,
    pub versions: Option<ClusterVersionsStatus>,
    pub user_email: Option<String>,
    /// Conditions keyed by their type.
    pub conditions: Option<BTreeMap<String, ClusterCondition>>,
    /// Health of each control plane component: `HealthStatusUp`, `HealthStatusDown` or `HealthStatusProvisioning`.
    pub extended_health: Option<BTreeMap<String, String>>,
    pub error_reason: Option<String>,
    pub error_message: Option<String>,
    #[serde(flatten)]
    pub other: Other,
}

#[skip_serializing_none]
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ClusterAddress {
    pub url: Option<String>,
    pub port: Option<i32>,
    pub external_name: Option<String>,
    #[serde(rename = "internalURL")]
    pub internal_url: Option<String>,
    pub admin_token: Option<String>,
    pub ip: Option<String>,
    pub api_server_external_address: Option<String>,
    #[serde(flatten)]
    pub other: Other,
}

#[skip_serializing_none]
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ClusterVersionsStatus {
    pub control_plane: Option<String>,
    pub apiserver: Option<String>,
    pub controller_manager: Option<String>,
    pub scheduler: Option<String>,
    pub oldest_node_version: Option<String>,
    #[serde(flatten)]
    pub other: Other,
}

#[skip_serializing_none]
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ClusterCondition {
    pub status: Option<String>,
    pub kubermatic_version: Option<String>,
    pub last_heartbeat_time: Option<String>,
    pub last_transition_time: Option<String>,
    pub reason: Option<String>,
    pub message: Option<String>,
    #[serde(flatten)]
    pub other: Other,
}

/// The health value KKP reports for a component that is up.
pub const HEALTH_UP: &str = "HealthStatusUp";

impl Cluster {
    /// Whether KKP reports the cluster Running with every reported component up.
    pub fn is_running_and_healthy(&self) -> bool {
        let Some(status) = &self.status else { return false };
        status.phase.as_deref() == Some("Running")
            && status
                .extended_health
                .as_ref()
                .is_some_and(|h| !h.is_empty() && h.values().all(|v| v == HEALTH_UP))
    }

    /// The provider blocks that are set, whatever `providerName` says.
    pub fn provider_block_names(&self) -> Vec<String> {
        self.spec
            .cloud
            .as_ref()
            .map(|c| c.block_names().into_iter().map(str::to_owned).collect())
            .unwrap_or_default()
    }
}

macro_rules! provider_blocks {
    ($($variant:ident => $field:ident),* $(,)?) => {
        impl CloudSpec {
            /// The names of every provider block that is set, ours and others'.
            pub fn block_names(&self) -> Vec<&str> {
                let mut names = Vec::new();
                $(if self.$field.is_some() { names.push(Provider::$variant.name()); })*
                names.extend(self.other.keys().map(String::as_str));
                names.sort_unstable();
                names
            }

            /// A provider's block as JSON, when set.
            pub fn block_value(&self, provider: Provider) -> Option<Value> {
                match provider {
                    $(Provider::$variant => self.$field.as_ref().and_then(|b| serde_json::to_value(b).ok()),)*
                }
            }

            /// Replaces a provider's block with this JSON; a block that no longer parses is left as it was.
            pub fn set_block_value(&mut self, provider: Provider, value: Value) -> Result<(), serde_json::Error> {
                match provider {
                    $(Provider::$variant => self.$field = Some(serde_json::from_value(value)?),)*
                }
                Ok(())
            }
        }
    };
}

provider_blocks!(
    Aws => aws,
    Azure => azure,
    Gcp => gcp,
    Hetzner => hetzner,
    Vsphere => vsphere,
    Openstack => openstack,
    Digitalocean => digitalocean,
    Kubevirt => kubevirt,
);
