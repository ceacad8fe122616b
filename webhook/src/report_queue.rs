//! The request path's side of policy reports: which admitted objects the reporter should audit
//! again soon. Offering never blocks and never calls the API; the queue is bounded and merges
//! repeats, and what does not fit waits for the next full audit.

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use kkp_crds::request::Operation;
use tokio::sync::Notify;

use crate::answer::{Answer, Endpoint};
use crate::review::ParsedRequest;

/// Objects waiting at most; more are left to the periodic audit.
pub const MAX_PENDING: usize = 1024;

/// Which object to audit again.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectKey {
    /// `Cluster` or `MachineDeployment`.
    pub kind: &'static str,
    /// Empty for a Cluster.
    pub namespace: String,
    pub name: String,
}

/// The objects admitted since the reporter last looked.
#[derive(Debug, Default)]
pub struct ReportQueue {
    enabled: AtomicBool,
    pending: Mutex<BTreeSet<ObjectKey>>,
    notify: Notify,
}

impl ReportQueue {
    /// Starts (or stops) taking objects: only while a reporter runs.
    pub fn set_enabled(&self, enabled: bool) {
        self.enabled.store(enabled, Ordering::Relaxed);
    }

    pub fn is_enabled(&self) -> bool {
        self.enabled.load(Ordering::Relaxed)
    }

    /// Adds an object to audit again; false when the reporter is off or the queue is full.
    pub fn offer(&self, key: ObjectKey) -> bool {
        if !self.is_enabled() {
            return false;
        }
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        if pending.len() >= MAX_PENDING && !pending.contains(&key) {
            return false;
        }
        pending.insert(key);
        drop(pending);
        self.notify.notify_one();
        true
    }

    /// Takes every object waiting.
    pub fn drain(&self) -> BTreeSet<ObjectKey> {
        std::mem::take(&mut *self.pending.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Waits until an object is offered.
    pub async fn notified(&self) {
        self.notify.notified().await;
    }
}

/// Offers the object of a validating review that a policy selected, once it is admitted: its
/// report is written from the object as stored, a moment later. Dry runs, denials and other
/// operations are left out.
pub fn observe(queue: &ReportQueue, endpoint: Endpoint, parsed: &ParsedRequest, answer: &Answer) {
    if endpoint != Endpoint::Validate
        || !answer.response.allowed
        || answer.matched_policies.is_empty()
        || parsed.request.dry_run.unwrap_or(false)
        || !matches!(parsed.operation, Operation::Create | Operation::Update)
        || !matches!(answer.kind, "Cluster" | "MachineDeployment")
    {
        return;
    }
    let namespace = if answer.kind == "Cluster" {
        String::new()
    } else {
        parsed.request.namespace.clone().unwrap_or_default()
    };
    queue.offer(ObjectKey {
        kind: answer.kind,
        namespace,
        name: answer.name.clone(),
    });
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    fn key(name: &str) -> ObjectKey {
        ObjectKey {
            kind: "Cluster",
            namespace: String::new(),
            name: name.into(),
        }
    }

    /// A validating review of a MachineDeployment with `replicas`, judged by a Deny policy
    /// (`maxReplicas: 3`) and an Audit one (`requiredLabels: [team]`).
    fn judged(replicas: i64, operation: &str, dry_run: bool) -> (ParsedRequest, Answer) {
        use kkp_crds::context::Context;
        use kkp_crds::policy::{AdmissionPolicy, PolicySet};
        use serde_json::json;

        let policies: Vec<AdmissionPolicy> = serde_json::from_value(json!([
            {"apiVersion": "policy.kubectl-kkp.io/v1alpha1", "kind": "AdmissionPolicy",
             "metadata": {"name": "limit"}, "spec": {"rules": {"maxReplicas": 3}}},
            {"apiVersion": "policy.kubectl-kkp.io/v1alpha1", "kind": "AdmissionPolicy",
             "metadata": {"name": "team"}, "spec": {"enforcement": "Audit", "rules": {"requiredLabels": ["team"]}}}
        ]))
        .expect("policies");
        let ctx = Context {
            policies: PolicySet::compile(&policies).0,
            ..Context::default()
        };
        let object = json!({"apiVersion": "cluster.k8s.io/v1alpha1", "kind": "MachineDeployment",
            "metadata": {"name": "workers", "namespace": "kube-system"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"pool": "workers"}},
                "template": {"metadata": {"labels": {"pool": "workers"}}, "spec": {
                    "versions": {"kubelet": "1.35.7"},
                    "providerSpec": {"value": {"cloudProvider": "hetzner", "operatingSystem": "ubuntu",
                        "operatingSystemSpec": {},
                        "cloudProviderSpec": {"token": "t", "serverType": "cx22", "location": "fsn1"}}}}}}});
        let body = json!({"apiVersion": crate::review::API_VERSION, "kind": crate::review::KIND, "request": {
            "uid": "u1", "operation": operation, "name": "workers", "namespace": "kube-system",
            "object": object, "oldObject": if operation == "UPDATE" { object.clone() } else { Value::Null },
            "dryRun": dry_run,
            "kind": {"group": "cluster.k8s.io", "version": "v1alpha1", "kind": "MachineDeployment"},
            "userInfo": {"username": "bob", "groups": []}}});
        let parsed = crate::review::parse(body.to_string().as_bytes()).expect("a review");
        let answer = crate::answer::answer(Endpoint::Validate, &parsed, &ctx);
        (parsed, answer)
    }

    #[test]
    fn admitted_objects_a_policy_selected_are_offered_and_nothing_else() {
        let q = ReportQueue::default();
        q.set_enabled(true);
        let (parsed, answer) = judged(2, "CREATE", false);
        assert!(answer.response.allowed, "the Audit violation admits it");
        observe(&q, Endpoint::Validate, &parsed, &answer);
        assert_eq!(
            q.drain().into_iter().collect::<Vec<_>>(),
            [ObjectKey {
                kind: "MachineDeployment",
                namespace: "kube-system".into(),
                name: "workers".into()
            }]
        );
        let (parsed, answer) = judged(2, "CREATE", true);
        observe(&q, Endpoint::Validate, &parsed, &answer);
        assert!(q.drain().is_empty(), "a dry run stores nothing to report on");
        let (parsed, answer) = judged(9, "CREATE", false);
        assert!(!answer.response.allowed);
        observe(&q, Endpoint::Validate, &parsed, &answer);
        assert!(q.drain().is_empty(), "a denied object is not stored");
        let (parsed, answer) = judged(2, "UPDATE", false);
        observe(&q, Endpoint::Mutate, &parsed, &answer);
        assert!(
            q.drain().is_empty(),
            "the mutating review comes before the validating one"
        );
        observe(&q, Endpoint::Validate, &parsed, &answer);
        assert_eq!(q.drain().len(), 1, "an admitted update is offered");
    }

    #[test]
    fn the_queue_takes_objects_only_while_enabled_and_up_to_its_bound() {
        let q = ReportQueue::default();
        assert!(!q.offer(key("a")), "no reporter runs");
        q.set_enabled(true);
        assert!(q.offer(key("a")));
        assert!(q.offer(key("a")), "a repeat is merged");
        assert_eq!(q.drain().len(), 1);
        for i in 0..MAX_PENDING {
            assert!(q.offer(key(&format!("o{i}"))));
        }
        assert!(!q.offer(key("one-too-many")));
        assert!(q.offer(key("o1")), "one already waiting is still fine");
        assert_eq!(q.drain().len(), MAX_PENDING);
        assert!(q.drain().is_empty());
    }
}
