//! KKP's imported clusters: the `ExternalCluster` (`externalclusters.kubermatic.k8c.io`,
//! cluster-scoped, on the seed) and the Secret in `kubermatic` that holds its kubeconfig, in the
//! shape KKP's own API gives them, so KKP's external-cluster controller takes them over.

use kube::Api;
use kube::api::{ApiResource, DeleteParams, DynamicObject, GroupVersionKind};
use serde_json::{Value, json};

use super::client::Connection;
use super::errors;

/// The namespace of KKP's own objects, where it keeps imported clusters' kubeconfigs.
pub const SECRET_NAMESPACE: &str = "kubermatic";
/// The key of the kubeconfig in that Secret.
pub const SECRET_KEY: &str = "kubeconfig";
/// The provider of a cluster KKP did not create and does not manage at a cloud.
pub const BRING_YOUR_OWN: &str = "bringyourown";

pub fn resource() -> ApiResource {
    let gvk = GroupVersionKind::gvk("kubermatic.k8c.io", "v1", "ExternalCluster");
    ApiResource::from_gvk_with_plural(&gvk, "externalclusters")
}

/// The name KKP gives an imported cluster's kubeconfig Secret.
pub fn secret_name(id: &str) -> String {
    format!("kubeconfig-external-cluster-{id}")
}

/// What `register cluster` sends.
#[derive(Clone, Debug)]
pub struct Registration {
    pub id: String,
    pub human_readable_name: String,
    pub project: Option<String>,
    /// The kubeconfig as stored: one context, everything inline.
    pub kubeconfig: String,
    /// The version the cluster reported, `1.36.3` (no `v`), as KKP writes it.
    pub version: String,
}

impl Registration {
    fn labels(&self) -> Value {
        match &self.project {
            Some(p) => json!({"project-id": p}),
            None => json!({}),
        }
    }

    /// The Secret with the kubeconfig.
    pub fn secret(&self) -> Value {
        json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "Opaque",
            "metadata": {"name": secret_name(&self.id), "namespace": SECRET_NAMESPACE, "labels": self.labels()},
            "stringData": {SECRET_KEY: self.kubeconfig},
        })
    }

    /// The ExternalCluster that references the Secret.
    pub fn external_cluster(&self) -> Value {
        json!({
            "apiVersion": "kubermatic.k8c.io/v1",
            "kind": "ExternalCluster",
            "metadata": {"name": self.id, "labels": self.labels()},
            "spec": {
                "humanReadableName": self.human_readable_name,
                "version": self.version,
                "pause": false,
                "cloudSpec": {"providerName": BRING_YOUR_OWN, BRING_YOUR_OWN: {}},
                "kubeconfigReference": {
                    "name": secret_name(&self.id),
                    "namespace": SECRET_NAMESPACE,
                    "key": SECRET_KEY,
                },
            },
        })
    }
}

/// Every ExternalCluster; none when the seed does not serve them.
pub async fn list(conn: &Connection, selector: Option<&str>) -> anyhow::Result<Vec<Value>> {
    let api: Api<DynamicObject> = Api::all_with(conn.client.clone(), &resource());
    let mut params = kube::api::ListParams::default();
    if let Some(s) = selector.filter(|s| !s.is_empty()) {
        params = params.labels(s);
    }
    match api.list(&params).await {
        Ok(list) => Ok(list
            .items
            .into_iter()
            .map(|o| serde_json::to_value(o).unwrap_or(Value::Null))
            .collect()),
        Err(e) if errors::is_not_found(&e) => Ok(Vec::new()),
        Err(e) => Err(anyhow::anyhow!(errors::explain(&e, conn, "listing imported clusters"))),
    }
}

/// One ExternalCluster, if it exists (and the seed serves them).
pub async fn get_opt(conn: &Connection, name: &str) -> anyhow::Result<Option<Value>> {
    let api: Api<DynamicObject> = Api::all_with(conn.client.clone(), &resource());
    match api.get_opt(name).await {
        Ok(found) => Ok(found.map(|o| serde_json::to_value(o).unwrap_or(Value::Null))),
        Err(e) if errors::is_not_found(&e) => Ok(None),
        Err(e) => Err(anyhow::anyhow!(errors::explain(
            &e,
            conn,
            &format!("reading imported cluster {name:?}")
        ))),
    }
}

/// Deletes the ExternalCluster `name`, then the Secret it references; says what was deleted.
pub async fn delete(conn: &Connection, cluster: &Value) -> anyhow::Result<Vec<String>> {
    let name = cluster
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let mut deleted = Vec::new();
    let api: Api<DynamicObject> = Api::all_with(conn.client.clone(), &resource());
    match api.delete(name, &DeleteParams::default()).await {
        Ok(_) => deleted.push(format!("externalcluster.kubermatic.k8c.io/{name}")),
        Err(e) if errors::is_not_found(&e) => {}
        Err(e) => anyhow::bail!(errors::explain(
            &e,
            conn,
            &format!("deleting imported cluster {name:?}")
        )),
    }
    if let Some((secret, namespace)) = kubeconfig_reference(cluster) {
        let secrets: Api<k8s_openapi::api::core::v1::Secret> = Api::namespaced(conn.client.clone(), &namespace);
        match secrets.delete(&secret, &DeleteParams::default()).await {
            Ok(_) => deleted.push(format!("secret/{secret} (namespace {namespace})")),
            Err(e) if errors::is_not_found(&e) => {}
            Err(e) => anyhow::bail!(errors::explain(&e, conn, &format!("deleting Secret {secret:?}"))),
        }
    }
    Ok(deleted)
}

/// The Secret (name, namespace) of `spec.kubeconfigReference`.
pub fn kubeconfig_reference(cluster: &Value) -> Option<(String, String)> {
    let reference = cluster.pointer("/spec/kubeconfigReference")?;
    let name = reference
        .get("name")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())?;
    let namespace = reference
        .get("namespace")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .unwrap_or(SECRET_NAMESPACE);
    Some((name.to_owned(), namespace.to_owned()))
}

/// `status.condition.phase`, as KKP's external-cluster controller reports it.
pub fn phase(cluster: &Value) -> Option<&str> {
    cluster
        .pointer("/status/condition/phase")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registration() -> Registration {
        Registration {
            id: "imported".into(),
            human_readable_name: "Imported".into(),
            project: Some("xw2k9fgh4t".into()),
            kubeconfig: "apiVersion: v1\nkind: Config\n".into(),
            version: "1.36.3".into(),
        }
    }

    #[test]
    fn objects_have_kkp_s_shape() {
        let r = registration();
        let secret = r.secret();
        assert_eq!(secret["metadata"]["name"], "kubeconfig-external-cluster-imported");
        assert_eq!(secret["metadata"]["namespace"], "kubermatic");
        assert_eq!(secret["stringData"]["kubeconfig"], "apiVersion: v1\nkind: Config\n");
        let ec = r.external_cluster();
        assert_eq!(
            ec["spec"]["cloudSpec"],
            json!({"providerName": "bringyourown", "bringyourown": {}})
        );
        assert_eq!(
            kubeconfig_reference(&ec),
            Some(("kubeconfig-external-cluster-imported".into(), "kubermatic".into()))
        );
        assert_eq!(ec["metadata"]["labels"]["project-id"], "xw2k9fgh4t");
        assert_eq!(ec["spec"]["pause"], false);
        assert_eq!(phase(&ec), None);
    }
}
