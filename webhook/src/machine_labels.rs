//! The selector labels of the cluster's MachineDeployments, followed with a watch, for the reviews
//! of their `scale` subresource: a `Scale` carries no labels, so without these the replica rules
//! of every policy would have to apply to every scale request.
//!
//! Only what policy selection reads is kept (the labels of
//! [`kkp_crds::policy::selector_labels`]), by namespace and name. The request path reads the map;
//! it never calls the API. A MachineDeployment not (yet) in the map is judged by every policy with
//! a replica rule, which is never fewer policies than the MachineDeployment itself would be judged by.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};

use futures::StreamExt;
use kkp_crds::policy::selector_labels;
use kkp_crds::request::ResourceKind;
use kube::api::{ApiResource, DynamicObject, GroupVersionKind};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client, ResourceExt};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::watch_log::WatchErrorLog;

type Key = (String, String);

/// Selector labels by (namespace, name). Cloning shares the map.
#[derive(Clone, Debug, Default)]
pub struct MachineLabels {
    map: Arc<RwLock<HashMap<Key, BTreeMap<String, String>>>>,
}

impl MachineLabels {
    /// The selector labels of MachineDeployment `namespace/name`, when known.
    pub fn get(&self, namespace: &str, name: &str) -> Option<BTreeMap<String, String>> {
        let map = self.map.read().ok()?;
        map.get(&(namespace.to_owned(), name.to_owned())).cloned()
    }

    pub fn len(&self) -> usize {
        self.map.read().map(|m| m.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Records a MachineDeployment as the API has it now.
    pub fn apply(&self, object: &DynamicObject) {
        let (key, labels) = entry(object);
        if let Ok(mut map) = self.map.write() {
            map.insert(key, labels);
        }
    }

    pub fn delete(&self, object: &DynamicObject) {
        let key = (object.namespace().unwrap_or_default(), object.name_any());
        if let Ok(mut map) = self.map.write() {
            map.remove(&key);
        }
    }

    /// Replaces everything with a fresh list.
    fn replace(&self, objects: Vec<DynamicObject>) {
        let fresh: HashMap<Key, BTreeMap<String, String>> = objects.iter().map(entry).collect();
        if let Ok(mut map) = self.map.write() {
            *map = fresh;
        }
    }
}

/// A MachineDeployment's key and the labels policy selection reads.
fn entry(object: &DynamicObject) -> (Key, BTreeMap<String, String>) {
    let key = (object.namespace().unwrap_or_default(), object.name_any());
    let value = serde_json::to_value(object).unwrap_or_default();
    (key, selector_labels(&ResourceKind::MachineDeployment, &value))
}

/// machine-controller's `MachineDeployment` resource.
pub fn machine_deployment_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("cluster.k8s.io", "v1alpha1", "MachineDeployment"),
        "machinedeployments",
    )
}

/// A running watch that keeps a [`MachineLabels`] up to date.
#[derive(Debug)]
pub struct MachineLabelWatch {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl MachineLabelWatch {
    /// Starts following the MachineDeployments of every namespace. API errors (the CRD missing on
    /// a seed, forbidden) are logged once and retried with back-off.
    pub fn spawn(client: Client, labels: MachineLabels) -> MachineLabelWatch {
        let (stop, mut stop_rx) = watch::channel(false);
        let task = tokio::spawn(async move {
            let api: Api<DynamicObject> = Api::all_with(client, &machine_deployment_resource());
            let events = watcher(api, watcher::Config::default()).default_backoff();
            let mut events = std::pin::pin!(events);
            let mut errors = WatchErrorLog::new("the MachineDeployments (for scale requests)");
            let mut listing: Vec<DynamicObject> = Vec::new();
            loop {
                tokio::select! {
                    _ = async { let _ = stop_rx.wait_for(|s| *s).await; } => break,
                    event = events.next() => match event {
                        None => break,
                        Some(Ok(event)) => {
                            errors.recovered();
                            match event {
                                watcher::Event::Apply(o) => labels.apply(&o),
                                watcher::Event::Delete(o) => labels.delete(&o),
                                watcher::Event::Init => listing.clear(),
                                watcher::Event::InitApply(o) => listing.push(o),
                                watcher::Event::InitDone => {
                                    labels.replace(std::mem::take(&mut listing));
                                    tracing::debug!(machine_deployments = labels.len(), "MachineDeployment labels listed");
                                }
                            }
                        }
                        Some(Err(error)) => {
                            errors.failed(&error);
                        }
                    }
                }
            }
        });
        MachineLabelWatch { stop, task }
    }

    pub async fn stop(self) {
        self.stop.send_replace(true);
        let _ = self.task.await;
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn md(namespace: &str, name: &str, labels: serde_json::Value, project: Option<&str>) -> DynamicObject {
        let mut spec = json!({});
        if let Some(p) = project {
            spec = json!({"template": {"spec": {"metadata": {"labels": {"system/project": p}}}}});
        }
        serde_json::from_value(json!({
            "apiVersion": "cluster.k8s.io/v1alpha1", "kind": "MachineDeployment",
            "metadata": {"name": name, "namespace": namespace, "labels": labels},
            "spec": spec
        }))
        .unwrap()
    }

    #[test]
    fn selector_labels_are_kept_by_namespace_and_name() {
        let labels = MachineLabels::default();
        labels.apply(&md("kube-system", "a", json!({"team": "x"}), Some("p1")));
        labels.apply(&md("other", "a", json!({"project-id": "p2"}), Some("p1")));
        let a = labels.get("kube-system", "a").unwrap();
        assert_eq!(a.get("team").map(String::as_str), Some("x"));
        assert_eq!(
            a.get("project-id").map(String::as_str),
            Some("p1"),
            "the machines' project counts"
        );
        assert_eq!(
            labels.get("other", "a").unwrap().get("project-id").map(String::as_str),
            Some("p2")
        );
        assert_eq!(labels.get("kube-system", "b"), None);
        labels.delete(&md("kube-system", "a", json!({}), None));
        assert_eq!(labels.get("kube-system", "a"), None);
        labels.replace(vec![md("n", "fresh", json!({}), None)]);
        assert_eq!(labels.len(), 1);
        assert!(labels.get("other", "a").is_none(), "a relist drops what is gone");
    }
}
