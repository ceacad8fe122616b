//! clusterctl's target namespace: with `--target-namespace` (or `-n`), every namespaced object of
//! a Cluster API template goes into that namespace, whatever the template says, and a Namespace
//! object takes its name, as `clusterctl generate cluster --target-namespace` does.

use serde_json::Value;

/// Kinds that live outside namespaces and keep no `metadata.namespace` (clusterctl's list, with
/// the Cluster API runtime extension's `ExtensionConfig`).
const CLUSTER_SCOPED: [&str; 12] = [
    "APIService",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "ExtensionConfig",
    "MutatingWebhookConfiguration",
    "Node",
    "PersistentVolume",
    "PriorityClass",
    "StorageClass",
    "ValidatingAdmissionPolicy",
    "ValidatingWebhookConfiguration",
];

/// Puts every namespaced object into `namespace` and names a Namespace object after it.
pub fn stamp(objects: &mut [Value], namespace: &str) {
    for object in objects.iter_mut() {
        let Some(kind) = object.get("kind").and_then(Value::as_str).map(str::to_owned) else {
            continue;
        };
        let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) else {
            continue;
        };
        if kind == "Namespace" {
            metadata.insert("name".into(), namespace.into());
        } else if !CLUSTER_SCOPED.contains(&kind.as_str()) {
            metadata.insert("namespace".into(), namespace.into());
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn namespaced_objects_move_cluster_scoped_ones_stay() {
        let mut objects = vec![
            json!({"kind": "Cluster", "metadata": {"name": "demo", "namespace": "default"}}),
            json!({"kind": "KubeadmControlPlane", "metadata": {"name": "demo-cp"}}),
            json!({"kind": "Namespace", "metadata": {"name": "from-template"}}),
            json!({"kind": "ClusterRole", "metadata": {"name": "reader"}}),
            json!({"kind": "Secret"}),
            json!({"metadata": {"name": "no-kind"}}),
        ];
        stamp(&mut objects, "clusters");
        assert_eq!(objects[0]["metadata"]["namespace"], "clusters");
        assert_eq!(objects[1]["metadata"]["namespace"], "clusters");
        assert_eq!(objects[2]["metadata"], json!({"name": "clusters"}));
        assert_eq!(objects[3]["metadata"], json!({"name": "reader"}));
        assert_eq!(objects[4], json!({"kind": "Secret"}));
        assert_eq!(objects[5], json!({"metadata": {"name": "no-kind"}}));
    }
}
