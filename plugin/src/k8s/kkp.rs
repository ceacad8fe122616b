//! Reading KKP Clusters on the management (seed) cluster, and what the plugin says about them.

use std::collections::BTreeMap;

use kube::api::ListParams;
use serde_json::Value;

use super::client::Connection;
use super::errors;
use super::resources;

/// The hint every "cluster not found" message ends with.
pub const LIST_HINT: &str = "list clusters with: kubectl kkp get clusters";

/// A KKP cluster that does not exist.
pub fn not_found(name: &str, conn: &Connection) -> anyhow::Error {
    anyhow::anyhow!(
        "cluster {name:?} not found on the management cluster ({}); {LIST_HINT}",
        conn.describe()
    )
}

/// The message when the seed does not know KKP Clusters at all.
fn not_served(conn: &Connection) -> anyhow::Error {
    anyhow::anyhow!(
        "the management cluster ({}, {}) does not serve clusters.kubermatic.k8c.io: is --context pointing at a KKP \
         seed? For a test cluster, install the CRDs with: kubectl kkp install",
        conn.describe(),
        conn.server
    )
}

/// Reads Cluster `name`; `Ok(None)` when it does not exist.
pub async fn get_cluster_opt(conn: &Connection, name: &str) -> anyhow::Result<Option<Value>> {
    let api = resources::clusters(&conn.client);
    match api.get_opt(name).await {
        Ok(found) => Ok(found.map(|o| serde_json::to_value(o).unwrap_or(Value::Null))),
        Err(e) if errors::is_not_found(&e) => Err(not_served(conn)),
        Err(e) => Err(anyhow::anyhow!(errors::explain(
            &e,
            conn,
            &format!("reading cluster {name:?}")
        ))),
    }
}

/// Lists Clusters, optionally by label selector.
pub async fn list_clusters(conn: &Connection, selector: Option<&str>) -> anyhow::Result<Vec<Value>> {
    let api = resources::clusters(&conn.client);
    let mut params = ListParams::default();
    if let Some(s) = selector.filter(|s| !s.is_empty()) {
        params = params.labels(s);
    }
    match api.list(&params).await {
        Ok(list) => Ok(list
            .items
            .into_iter()
            .map(|o| serde_json::to_value(o).unwrap_or(Value::Null))
            .collect()),
        Err(e) if errors::is_not_found(&e) => Err(not_served(conn)),
        Err(e) => Err(anyhow::anyhow!(errors::explain(&e, conn, "listing clusters"))),
    }
}

/// A string at a JSON pointer.
pub fn text<'a>(object: &'a Value, pointer: &str) -> Option<&'a str> {
    object
        .pointer(pointer)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// The provider: `spec.cloud.providerName`, else the name of the populated provider block.
pub fn provider(cluster: &Value) -> Option<String> {
    if let Some(p) = text(cluster, "/spec/cloud/providerName") {
        return Some(p.to_owned());
    }
    cluster
        .pointer("/spec/cloud")
        .and_then(Value::as_object)
        .and_then(|m| m.keys().find(|k| *k != "dc" && *k != "providerName").cloned())
}

/// The component health map, in name order.
pub fn health(cluster: &Value) -> BTreeMap<String, String> {
    cluster
        .pointer("/status/extendedHealth")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

/// `HealthStatusUp` → `up`, and so on.
pub fn short_health(value: &str) -> String {
    value.strip_prefix("HealthStatus").unwrap_or(value).to_ascii_lowercase()
}

/// Whether the cluster is Running with every reported component up, as the engine decides. Only
/// the status is read, so a spec this plugin's types do not know cannot hide a running cluster.
pub fn is_running_and_healthy(cluster: &Value) -> bool {
    let Some(status) = cluster.get("status").cloned() else {
        return false;
    };
    let Ok(status) = serde_json::from_value::<kkp_crds::cluster::ClusterStatus>(status) else {
        return false;
    };
    let mut typed = kkp_crds::Cluster::new("", kkp_crds::cluster::ClusterSpec::default());
    typed.status = Some(status);
    typed.is_running_and_healthy()
}

/// One line describing the state, for progress and timeouts:
/// `phase Creating; apiserver up, etcd provisioning; error ReconcileError: …`.
pub fn state_line(cluster: &Value) -> String {
    let mut line = match text(cluster, "/status/phase") {
        Some(phase) => format!("phase {phase}"),
        None => "no status yet".to_owned(),
    };
    let health = health(cluster);
    if !health.is_empty() {
        let parts: Vec<String> = health.iter().map(|(k, v)| format!("{k} {}", short_health(v))).collect();
        line.push_str("; ");
        line.push_str(&parts.join(", "));
    }
    if let Some(reason) = text(cluster, "/status/errorReason") {
        line.push_str(&format!("; error {reason}"));
        if let Some(message) = text(cluster, "/status/errorMessage") {
            line.push_str(&format!(": {message}"));
        }
    }
    if cluster
        .pointer("/metadata/deletionTimestamp")
        .is_some_and(|v| !v.is_null())
    {
        line.push_str("; being deleted");
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cluster(status: Value) -> Value {
        json!({
            "apiVersion": "kubermatic.k8c.io/v1", "kind": "Cluster", "metadata": {"name": "abc"},
            "spec": {"humanReadableName": "demo", "version": "1.35.7", "cloud": {"dc": "hetzner-fsn1", "hetzner": {"token": "x"}}},
            "status": status
        })
    }

    #[test]
    fn the_state_line_names_phase_health_and_errors() {
        let c = cluster(
            json!({"phase": "Creating", "extendedHealth": {"etcd": "HealthStatusProvisioning", "apiserver": "HealthStatusUp"},
            "errorReason": "ReconcileError", "errorMessage": "no quota"}),
        );
        assert_eq!(
            state_line(&c),
            "phase Creating; apiserver up, etcd provisioning; error ReconcileError: no quota"
        );
        assert_eq!(state_line(&cluster(json!({}))), "no status yet");
        assert!(!is_running_and_healthy(&c));
    }

    #[test]
    fn running_and_healthy_comes_from_the_engine() {
        let up = cluster(
            json!({"phase": "Running", "extendedHealth": {"apiserver": "HealthStatusUp", "etcd": "HealthStatusUp"}}),
        );
        assert!(is_running_and_healthy(&up));
        let down = cluster(json!({"phase": "Running", "extendedHealth": {"apiserver": "HealthStatusDown"}}));
        assert!(!is_running_and_healthy(&down));
    }

    #[test]
    fn the_provider_falls_back_to_the_populated_block() {
        assert_eq!(provider(&cluster(json!({}))).as_deref(), Some("hetzner"));
        let named = json!({"spec": {"cloud": {"dc": "x", "providerName": "aws", "aws": {}}}});
        assert_eq!(provider(&named).as_deref(), Some("aws"));
        assert_eq!(short_health("HealthStatusProvisioning"), "provisioning");
    }
}
