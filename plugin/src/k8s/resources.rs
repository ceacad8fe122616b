//! The resources the plugin works with, and how an object's `apiVersion`/`kind` becomes an API
//! endpoint (through discovery, so CRDs installed a moment ago are found).

use std::collections::HashMap;

use kube::api::{ApiResource, DynamicObject, GroupVersionKind};
use kube::discovery::{self, Scope};
use kube::{Api, Client};
use serde_json::Value;

/// KKP's Cluster (`clusters.kubermatic.k8c.io`, cluster-scoped, on the seed).
pub fn cluster() -> ApiResource {
    ApiResource::erase::<kkp_crds::Cluster>(&())
}

/// machine-controller's MachineDeployment (`machinedeployments.cluster.k8s.io`, namespaced).
pub fn machine_deployment() -> ApiResource {
    ApiResource::erase::<kkp_crds::MachineDeployment>(&())
}

/// The kind provider's `KINDCluster` (`kindclusters.infrastructure.cluster-k8s.io`, namespaced).
pub fn kind_cluster() -> ApiResource {
    let gvk = GroupVersionKind::gvk("infrastructure.cluster-k8s.io", "v1alpha1", "KINDCluster");
    ApiResource::from_gvk_with_plural(&gvk, "kindclusters")
}

/// The Cluster API.
pub fn clusters(client: &Client) -> Api<DynamicObject> {
    Api::all_with(client.clone(), &cluster())
}

/// `kind.group/name` as kubectl prints it (`cluster.kubermatic.k8c.io/abc`).
pub fn kubectl_name(object: &Value) -> String {
    let kind = object
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or("object")
        .to_ascii_lowercase();
    let group = object
        .get("apiVersion")
        .and_then(Value::as_str)
        .and_then(|v| v.rsplit_once('/').map(|(g, _)| g))
        .unwrap_or("");
    let name = meta_str(object, "name")
        .or_else(|| meta_str(object, "generateName"))
        .unwrap_or("");
    if group.is_empty() {
        format!("{kind}/{name}")
    } else {
        format!("{kind}.{group}/{name}")
    }
}

/// `metadata.<key>` as a string.
pub fn meta_str<'a>(object: &'a Value, key: &str) -> Option<&'a str> {
    object.get("metadata").and_then(|m| m.get(key)).and_then(Value::as_str)
}

/// The `apiVersion`/`kind` of an object.
pub fn gvk_of(object: &Value) -> Result<GroupVersionKind, String> {
    let api_version = object.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let kind = object.get("kind").and_then(Value::as_str).unwrap_or("");
    if api_version.is_empty() || kind.is_empty() {
        return Err(format!("object {} has no apiVersion or kind", kubectl_name(object)));
    }
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    Ok(GroupVersionKind::gvk(group, version, kind))
}

/// `Kind.group/version`, for messages.
pub fn describe_gvk(gvk: &GroupVersionKind) -> String {
    if gvk.group.is_empty() {
        format!("{} {}", gvk.kind, gvk.version)
    } else {
        format!("{}.{}/{}", gvk.kind, gvk.group, gvk.version)
    }
}

/// A resource found through discovery.
#[derive(Clone, Debug)]
pub struct Discovered {
    pub resource: ApiResource,
    pub namespaced: bool,
}

/// Why a kind could not be resolved.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error("the server does not serve {0}; are its CRDs installed?")]
    NotServed(String),
    #[error("discovering {what}: {source}")]
    Request {
        what: String,
        #[source]
        source: kube::Error,
    },
}

/// Resolves kinds through discovery, once per kind.
pub struct Resolver {
    client: Client,
    cache: HashMap<String, Discovered>,
}

impl Resolver {
    pub fn new(client: Client) -> Self {
        Resolver {
            client,
            cache: HashMap::new(),
        }
    }

    pub async fn resolve(&mut self, gvk: &GroupVersionKind) -> Result<Discovered, ResolveError> {
        let key = describe_gvk(gvk);
        if let Some(found) = self.cache.get(&key) {
            return Ok(found.clone());
        }
        let (resource, caps) = match discovery::pinned_kind(&self.client, gvk).await {
            Ok(found) => found,
            Err(kube::Error::Discovery(_)) => return Err(ResolveError::NotServed(key)),
            Err(e) if super::errors::is_not_found(&e) => return Err(ResolveError::NotServed(key)),
            Err(source) => return Err(ResolveError::Request { what: key, source }),
        };
        let found = Discovered {
            resource,
            namespaced: caps.scope == Scope::Namespaced,
        };
        self.cache.insert(key, found.clone());
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_and_kinds_read_like_kubectl() {
        let c = json!({"apiVersion": "kubermatic.k8c.io/v1", "kind": "Cluster", "metadata": {"name": "abc"}});
        assert_eq!(kubectl_name(&c), "cluster.kubermatic.k8c.io/abc");
        let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x"}});
        assert_eq!(kubectl_name(&ns), "namespace/x");
        let gvk = gvk_of(&c).expect("gvk");
        assert_eq!(
            (gvk.group.as_str(), gvk.version.as_str(), gvk.kind.as_str()),
            ("kubermatic.k8c.io", "v1", "Cluster")
        );
        assert_eq!(describe_gvk(&gvk), "Cluster.kubermatic.k8c.io/v1");
        assert!(gvk_of(&json!({"kind": "X"})).is_err());
    }

    #[test]
    fn known_resources_have_the_right_plurals() {
        assert_eq!(cluster().plural, "clusters");
        assert_eq!(cluster().group, "kubermatic.k8c.io");
        assert_eq!(machine_deployment().plural, "machinedeployments");
        assert_eq!(kind_cluster().plural, "kindclusters");
    }
}
