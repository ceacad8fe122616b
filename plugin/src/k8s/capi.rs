//! Cluster API clusters (`cluster.x-k8s.io` `Cluster`) and the kind provider's `KINDCluster`s on
//! the management cluster: when one counts as up, and one line of state for progress and timeouts.
//!
//! Cluster API v1beta2 sums a Cluster up in the `Available` condition; v1beta1 used `Ready`. The
//! milestones on the way are `InfrastructureReady`, `ControlPlaneInitialized` (from then on the
//! `<name>-kubeconfig` secret works), `ControlPlaneAvailable` (v1beta1: `ControlPlaneReady`) and
//! `WorkersAvailable`.

use kube::Api;
use kube::api::{ApiResource, DynamicObject};
use serde_json::Value;

use super::client::Connection;
use super::errors;
use super::resources::{self, Resolver};

/// The Cluster API group.
pub const GROUP: &str = "cluster.x-k8s.io";

/// The conditions shown in progress lines, in the order a cluster reaches them.
const MILESTONES: [&str; 7] = [
    "InfrastructureReady",
    "ControlPlaneInitialized",
    "ControlPlaneAvailable",
    "ControlPlaneReady",
    "WorkersAvailable",
    "Available",
    "Ready",
];

/// Whether `object` is a Cluster API `Cluster`.
pub fn is_cluster(object: &Value) -> bool {
    let api_version = object.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let kind = object.get("kind").and_then(Value::as_str).unwrap_or("");
    kind == "Cluster" && api_version.rsplit_once('/').is_some_and(|(group, _)| group == GROUP)
}

/// Where a Cluster API cluster stands.
#[derive(Debug, PartialEq, Eq)]
pub enum Readiness {
    /// `Available` (v1beta2) or, where the cluster has no such condition, `Ready` (v1beta1) is True.
    Up,
    /// Not yet; the state line says what was seen.
    Pending(String),
    /// It will not come up without someone acting: it is being deleted or its controller gave up.
    Failed(String),
}

/// The condition of type `kind`, if the status has one.
fn condition<'a>(cluster: &'a Value, kind: &str) -> Option<&'a Value> {
    cluster
        .pointer("/status/conditions")
        .and_then(Value::as_array)?
        .iter()
        .find(|c| c.get("type").and_then(Value::as_str) == Some(kind))
}

fn is_true(cluster: &Value, kind: &str) -> bool {
    condition(cluster, kind)
        .and_then(|c| c.get("status"))
        .and_then(Value::as_str)
        == Some("True")
}

fn text<'a>(value: &'a Value, pointer: &str) -> Option<&'a str> {
    value.pointer(pointer).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// Decides from the status alone.
pub fn readiness(cluster: &Value) -> Readiness {
    if cluster
        .pointer("/metadata/deletionTimestamp")
        .is_some_and(|v| !v.is_null())
    {
        return Readiness::Failed("it is being deleted; it will not become available".to_owned());
    }
    // v1beta1 reports terminal failures in failureReason/failureMessage and phase Failed; v1beta2
    // keeps them under status.deprecated.v1beta1.
    let failure = ["/status", "/status/deprecated/v1beta1"].iter().find_map(|base| {
        let reason = text(cluster, &format!("{base}/failureReason"));
        let message = text(cluster, &format!("{base}/failureMessage"));
        match (reason, message) {
            (None, None) => None,
            (reason, message) => Some(format!(
                "{}{}",
                reason.map(|r| format!("{r}: ")).unwrap_or_default(),
                message.unwrap_or("no message")
            )),
        }
    });
    if let Some(failure) = failure {
        return Readiness::Failed(format!("its controller reports a failure: {failure}"));
    }
    if text(cluster, "/status/phase") == Some("Failed") {
        return Readiness::Failed("its phase is Failed; see kubectl describe for the reason".to_owned());
    }
    let up = if condition(cluster, "Available").is_some() {
        is_true(cluster, "Available")
    } else {
        is_true(cluster, "Ready")
    };
    if up {
        Readiness::Up
    } else {
        Readiness::Pending(state_line(cluster))
    }
}

/// Whether `object` is the kind provider's `KINDCluster`.
pub fn is_kind_cluster(object: &Value) -> bool {
    let api_version = object.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    object.get("kind").and_then(Value::as_str) == Some("KINDCluster")
        && api_version
            .rsplit_once('/')
            .is_some_and(|(group, _)| group == KIND_GROUP)
}

/// The kind provider's API group.
pub const KIND_GROUP: &str = "infrastructure.cluster-k8s.io";

/// Where a `KINDCluster` stands: up once `status.ready` is true, failed when its controller wrote a
/// `failureMessage`, else pending with its newest condition.
pub fn kind_readiness(cluster: &Value) -> Readiness {
    if cluster
        .pointer("/metadata/deletionTimestamp")
        .is_some_and(|v| !v.is_null())
    {
        return Readiness::Failed("it is being deleted; it will not become ready".to_owned());
    }
    if let Some(failure) = text(cluster, "/status/failureMessage") {
        return Readiness::Failed(format!("its controller reports a failure: {failure}"));
    }
    if cluster.pointer("/status/ready").and_then(Value::as_bool) == Some(true) {
        return Readiness::Up;
    }
    let newest = cluster
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .and_then(|c| c.last());
    Readiness::Pending(match newest {
        None if cluster.get("status").is_none_or(Value::is_null) => "no status yet".to_owned(),
        None => "not ready yet".to_owned(),
        Some(c) => {
            let reason = text(c, "/reason").unwrap_or("not ready yet");
            match text(c, "/message") {
                Some(message) => format!("{reason}: {message}"),
                None => reason.to_owned(),
            }
        }
    })
}

/// `phase Provisioning; InfrastructureReady, ControlPlaneInitialized not yet (WaitingForControlPlane)`.
pub fn state_line(cluster: &Value) -> String {
    let mut line = match text(cluster, "/status/phase") {
        Some(phase) => format!("phase {phase}"),
        None => "no status yet".to_owned(),
    };
    let parts: Vec<String> = MILESTONES
        .iter()
        .filter_map(|kind| {
            let c = condition(cluster, kind)?;
            if c.get("status").and_then(Value::as_str) == Some("True") {
                return Some((*kind).to_owned());
            }
            Some(match text(c, "/reason") {
                Some(reason) => format!("{kind} not yet ({reason})"),
                None => format!("{kind} not yet"),
            })
        })
        .collect();
    if !parts.is_empty() {
        line.push_str("; ");
        line.push_str(&parts.join(", "));
    }
    line
}

/// The API endpoint of Cluster API Clusters in `api_version`, found through discovery (once per
/// wait, not per look).
pub async fn resource(conn: &Connection, api_version: &str) -> anyhow::Result<ApiResource> {
    let gvk = resources::gvk_of(&serde_json::json!({"apiVersion": api_version, "kind": "Cluster"}))
        .map_err(anyhow::Error::msg)?;
    Ok(Resolver::new(conn.client.clone()).resolve(&gvk).await?.resource)
}

/// Reads the Cluster API cluster `namespace/name`; `Ok(None)` when it does not exist.
pub async fn get_cluster_opt(
    conn: &Connection,
    resource: &ApiResource,
    namespace: &str,
    name: &str,
) -> anyhow::Result<Option<Value>> {
    let api: Api<DynamicObject> = Api::namespaced_with(conn.client.clone(), namespace, resource);
    match api.get_opt(name).await {
        Ok(found) => Ok(found.map(|o| serde_json::to_value(o).unwrap_or(Value::Null))),
        Err(e) => Err(anyhow::anyhow!(errors::explain(
            &e,
            conn,
            &format!("reading Cluster API cluster {namespace}/{name}")
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cluster(api_version: &str, status: Value) -> Value {
        json!({"apiVersion": api_version, "kind": "Cluster", "metadata": {"name": "c1", "namespace": "ns"}, "status": status})
    }

    fn cond(kind: &str, status: &str, reason: Option<&str>) -> Value {
        match reason {
            Some(r) => json!({"type": kind, "status": status, "reason": r}),
            None => json!({"type": kind, "status": status}),
        }
    }

    #[test]
    fn only_cluster_api_clusters_are_recognised() {
        assert!(is_cluster(&cluster("cluster.x-k8s.io/v1beta2", json!({}))));
        assert!(is_cluster(&cluster("cluster.x-k8s.io/v1beta1", json!({}))));
        assert!(!is_cluster(&cluster("kubermatic.k8c.io/v1", json!({}))));
        assert!(!is_cluster(&cluster("kind.x-k8s.io/v1alpha4", json!({}))));
        let kind = |status: Value| {
            json!({"apiVersion": "infrastructure.cluster-k8s.io/v1alpha1", "kind": "KINDCluster",
                "metadata": {"name": "k"}, "status": status})
        };
        assert!(is_kind_cluster(&kind(json!({}))));
        assert!(!is_cluster(&kind(json!({}))));
        assert_eq!(
            kind_readiness(&kind(Value::Null)),
            Readiness::Pending("no status yet".into())
        );
        assert_eq!(
            kind_readiness(&kind(json!({"ready": false, "conditions": [
                {"reason": "Creating", "message": "creating nodes"}]}))),
            Readiness::Pending("Creating: creating nodes".into())
        );
        assert_eq!(kind_readiness(&kind(json!({"ready": true}))), Readiness::Up);
        assert!(matches!(
            kind_readiness(&kind(json!({"ready": false, "failureMessage": "docker is not running"}))),
            Readiness::Failed(m) if m.contains("docker is not running")
        ));
        let md = json!({"apiVersion": "cluster.x-k8s.io/v1beta2", "kind": "MachineDeployment"});
        assert!(!is_cluster(&md));
    }

    #[test]
    fn v1beta2_is_up_when_available_and_not_before() {
        let provisioning = cluster(
            "cluster.x-k8s.io/v1beta2",
            json!({"phase": "Provisioning", "conditions": [
                cond("Available", "False", Some("NotAvailable")),
                cond("InfrastructureReady", "True", None),
                cond("ControlPlaneInitialized", "False", Some("WaitingForControlPlane")),
                // Ready does not count in v1beta2, whatever it says.
                cond("Ready", "True", None),
            ]}),
        );
        assert_eq!(
            readiness(&provisioning),
            Readiness::Pending(
                "phase Provisioning; InfrastructureReady, ControlPlaneInitialized not yet (WaitingForControlPlane), \
                 Available not yet (NotAvailable), Ready"
                    .to_owned()
            )
        );
        let available = cluster(
            "cluster.x-k8s.io/v1beta2",
            json!({"phase": "Provisioned", "conditions": [cond("Available", "True", None)]}),
        );
        assert_eq!(readiness(&available), Readiness::Up);
    }

    #[test]
    fn v1beta1_is_up_when_ready() {
        let ready = cluster(
            "cluster.x-k8s.io/v1beta1",
            json!({"phase": "Provisioned", "conditions": [cond("Ready", "True", None)]}),
        );
        assert_eq!(readiness(&ready), Readiness::Up);
        let not_ready = cluster(
            "cluster.x-k8s.io/v1beta1",
            json!({"phase": "Provisioned", "conditions": [cond("Ready", "False", Some("WaitingForControlPlane"))]}),
        );
        assert_eq!(
            readiness(&not_ready),
            Readiness::Pending("phase Provisioned; Ready not yet (WaitingForControlPlane)".to_owned())
        );
        assert_eq!(
            readiness(&cluster("cluster.x-k8s.io/v1beta1", json!(null))),
            Readiness::Pending("no status yet".to_owned())
        );
    }

    #[test]
    fn failures_and_deletion_end_the_wait() {
        let failed = cluster(
            "cluster.x-k8s.io/v1beta1",
            json!({"phase": "Failed", "failureReason": "InvalidConfiguration", "failureMessage": "no such region"}),
        );
        assert_eq!(
            readiness(&failed),
            Readiness::Failed("its controller reports a failure: InvalidConfiguration: no such region".to_owned())
        );
        let failed_v1beta2 = cluster(
            "cluster.x-k8s.io/v1beta2",
            json!({"deprecated": {"v1beta1": {"failureMessage": "quota exceeded"}}}),
        );
        assert_eq!(
            readiness(&failed_v1beta2),
            Readiness::Failed("its controller reports a failure: quota exceeded".to_owned())
        );
        assert!(matches!(
            readiness(&cluster("cluster.x-k8s.io/v1beta2", json!({"phase": "Failed"}))),
            Readiness::Failed(_)
        ));
        let mut deleting = cluster(
            "cluster.x-k8s.io/v1beta2",
            json!({"conditions": [cond("Available", "True", None)]}),
        );
        deleting["metadata"]["deletionTimestamp"] = json!("2026-01-01T00:00:00Z");
        assert!(matches!(readiness(&deleting), Readiness::Failed(m) if m.contains("being deleted")));
    }
}
