//! The KKP REST API's request and response bodies the plugin uses, named as the API's OpenAPI
//! definitions name them. Unknown fields are kept (`rest`) so nothing the server adds is lost.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// `CreateClusterSpec`: the body of `POST /api/v2/projects/{p}/clusters`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateClusterSpec {
    pub cluster: ApiCluster,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_deployment: Option<NodeDeployment>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applications: Option<Vec<Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_at_rest: Option<Value>,
}

/// `Cluster`: a user cluster as the API shows it (`id` is KKP's cluster ID, `name` the
/// human-readable name).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiCluster {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creation_timestamp: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_timestamp: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub machine_deployment_count: Option<i64>,
    #[serde(default)]
    pub spec: ApiClusterSpec,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ApiClusterStatus>,
}

/// `body` (the definition's literal name): what `POST /api/v2/projects/{p}/kubernetes/clusters`
/// takes to import a cluster: its name and its kubeconfig, base64 (standard) encoded. `cloud` is
/// left out for an import; `PUT …/kubernetes/clusters/{id}` takes the same two fields.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ExternalClusterBody {
    pub name: String,
    pub kubeconfig: String,
}

/// `ExternalCluster`: an imported cluster as the API shows it (`id` is server-generated).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExternalCluster {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creation_timestamp: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_timestamp: Option<String>,
    /// `ExternalClusterCloudSpec`: one of `aks`, `eks`, `gke`, `kubeOne`, `bringYourOwn`.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub cloud: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub spec: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub status: Map<String, Value>,
    #[serde(flatten)]
    pub rest: Map<String, Value>,
}

impl ExternalCluster {
    /// The provider key of `cloud` (`bringYourOwn` for an imported cluster).
    pub fn provider(&self) -> Option<&str> {
        self.cloud.keys().next().map(String::as_str)
    }

    pub fn version(&self) -> Option<&str> {
        self.spec
            .get("version")
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
    }

    /// `status.state`: `Provisioning`, `Running`, `Error`, ...
    pub fn state(&self) -> Option<&str> {
        self.status
            .get("state")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    }
}

/// `ClusterSpec`: the fields the plugin reads by name; every other field is kept in `rest`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiClusterSpec {
    #[serde(default)]
    pub cloud: CloudSpec,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(flatten)]
    pub rest: Map<String, Value>,
}

/// `CloudSpec`: the datacenter and exactly one provider's object.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CloudSpec {
    #[serde(default)]
    pub dc: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_name: Option<String>,
    #[serde(flatten)]
    pub providers: Map<String, Value>,
}

impl CloudSpec {
    /// The provider: `providerName`, else the one provider object present.
    pub fn provider(&self) -> Option<&str> {
        self.provider_name
            .as_deref()
            .or_else(|| self.providers.keys().next().map(String::as_str))
    }
}

/// `ClusterStatus`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiClusterStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(flatten)]
    pub rest: Map<String, Value>,
}

/// `ProjectClusterList`: the v2 list is an object, not an array.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectClusterList {
    #[serde(default)]
    pub clusters: Vec<ApiCluster>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
}

/// `NodeDeployment`: a machine deployment of a cluster (`id` equals `name`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeDeployment {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creation_timestamp: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_timestamp: Option<String>,
    #[serde(default)]
    pub spec: NodeDeploymentSpec,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Value>,
}

/// `Addon`: an addon installed into a cluster (`id` equals `name`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Addon {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creation_timestamp: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_timestamp: Option<String>,
    #[serde(default)]
    pub spec: AddonSpec,
}

/// `AddonSpec`: the addon's template variables and whether KKP keeps reconciling it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AddonSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub continuously_reconcile: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_default: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variables: Option<Map<String, Value>>,
}

/// `NodeDeploymentSpec`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeDeploymentSpec {
    #[serde(default)]
    pub replicas: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_replicas: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_replicas: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dynamic_config: Option<bool>,
    #[serde(default)]
    pub template: NodeSpec,
}

/// `NodeSpec`: the machines' cloud, operating system and kubelet.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeSpec {
    /// `NodeCloudSpec`: `{<provider>: {...}}`.
    #[serde(default)]
    pub cloud: Map<String, Value>,
    /// `OperatingSystemSpec`: `{<os>: {...}}`.
    #[serde(default)]
    pub operating_system: Map<String, Value>,
    #[serde(default)]
    pub versions: NodeVersionInfo,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub taints: Vec<Value>,
    #[serde(flatten)]
    pub rest: Map<String, Value>,
}

/// `NodeVersionInfo`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NodeVersionInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kubelet: Option<String>,
}

/// `ClusterHealth`: each component's `HealthStatus` (an open string: `HealthStatusUp`,
/// `HealthStatusDown`, `HealthStatusProvisioning`, or empty before the first check).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClusterHealth(pub BTreeMap<String, String>);

/// The value of a component that is up.
pub const HEALTH_UP: &str = "HealthStatusUp";

/// The components KKP itself requires up before a cluster counts as healthy (its
/// `AllHealthy` rule); `machineController` may also be empty.
pub const REQUIRED_COMPONENTS: [&str; 7] = [
    "apiserver",
    "controller",
    "etcd",
    "scheduler",
    "cloudProviderInfrastructure",
    "userClusterControllerManager",
    "machineController",
];

impl ClusterHealth {
    /// The required components that are not up yet (KKP's rule, plus `operatingSystemManager`
    /// when the server reports it).
    pub fn not_up(&self) -> Vec<String> {
        let mut missing = Vec::new();
        for component in REQUIRED_COMPONENTS {
            let value = self.0.get(component).map(String::as_str).unwrap_or_default();
            let ok = value == HEALTH_UP || (component == "machineController" && value.is_empty());
            if !ok {
                missing.push(component.to_owned());
            }
        }
        if let Some(osm) = self.0.get("operatingSystemManager")
            && !osm.is_empty()
            && osm != HEALTH_UP
        {
            missing.push("operatingSystemManager".to_owned());
        }
        missing
    }

    /// One line: `apiserver=Up etcd=Down ...` in the API's order.
    pub fn summary(&self) -> String {
        self.0
            .iter()
            .map(|(k, v)| {
                let short = v.strip_prefix("HealthStatus").unwrap_or(v);
                format!("{k}={}", if short.is_empty() { "?" } else { short })
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// `errorResponse`: `{"error": {"code", "message", "details"}}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ErrorResponse {
    pub error: ErrorDetails,
}

/// `ErrorDetails`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ErrorDetails {
    pub code: i64,
    pub message: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_follows_kkps_rule() {
        let mut h = ClusterHealth::default();
        for c in REQUIRED_COMPONENTS {
            h.0.insert(c.into(), HEALTH_UP.into());
        }
        assert!(h.not_up().is_empty());
        h.0.insert("machineController".into(), String::new());
        assert!(h.not_up().is_empty(), "an empty machineController counts as up");
        h.0.insert("operatingSystemManager".into(), "HealthStatusProvisioning".into());
        assert_eq!(h.not_up(), ["operatingSystemManager"]);
        h.0.insert("etcd".into(), "HealthStatusDown".into());
        assert_eq!(h.not_up(), ["etcd", "operatingSystemManager"]);
        assert!(h.summary().contains("etcd=Down"), "{}", h.summary());
    }

    #[test]
    fn unknown_fields_survive_a_round_trip() {
        let body = serde_json::json!({
            "id": "abc", "name": "demo", "newField": 1,
            "spec": {"cloud": {"dc": "d", "hetzner": {"network": "n"}}, "version": "1.35.8", "exposeStrategy": "NodePort"}
        });
        let c: ApiCluster = serde_json::from_value(body).unwrap();
        assert_eq!(c.spec.cloud.provider(), Some("hetzner"));
        let back = serde_json::to_value(&c).unwrap();
        assert_eq!(back["spec"]["exposeStrategy"], "NodePort");
        assert_eq!(back["spec"]["cloud"]["hetzner"]["network"], "n");
    }
}
