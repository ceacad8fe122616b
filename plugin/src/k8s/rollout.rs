//! Whether a Deployment has rolled out, decided the way `kubectl rollout status` decides it: the
//! controller has seen the newest spec, every replica runs the new template, no old replica is
//! left, and all of them are available.

use k8s_openapi::api::apps::v1::Deployment;

/// Where a rollout stands.
#[derive(Debug, PartialEq, Eq)]
pub enum Rollout {
    Done,
    /// Still going; the text says how far (`1 of 2 updated replicas available`).
    Pending(String),
    /// The controller gave up (the progress deadline passed).
    Failed(String),
}

/// Reads the rollout state from a Deployment's spec and status.
pub fn state(deployment: &Deployment) -> Rollout {
    let generation = deployment.metadata.generation.unwrap_or(0);
    // The apiserver stores a new Deployment with an empty status; no observedGeneration means no
    // controller has looked at it yet.
    let Some((status, observed)) = deployment
        .status
        .as_ref()
        .and_then(|s| Some((s, s.observed_generation?)))
    else {
        return Rollout::Pending("waiting for the deployment controller to see it".to_owned());
    };
    if observed < generation {
        return Rollout::Pending("waiting for the deployment controller to see the new spec".to_owned());
    }
    if let Some(stalled) = status
        .conditions
        .iter()
        .flatten()
        .find(|c| c.type_ == "Progressing" && c.reason.as_deref() == Some("ProgressDeadlineExceeded"))
    {
        return Rollout::Failed(format!(
            "the rollout exceeded its progress deadline: {}",
            stalled.message.as_deref().unwrap_or("no message")
        ));
    }
    let wanted = deployment.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    let updated = status.updated_replicas.unwrap_or(0);
    let total = status.replicas.unwrap_or(0);
    let available = status.available_replicas.unwrap_or(0);
    if updated < wanted {
        Rollout::Pending(format!("{updated} of {wanted} replicas updated"))
    } else if total > updated {
        Rollout::Pending(format!("{} old replica(s) still to go", total - updated))
    } else if available < updated {
        Rollout::Pending(format!("{available} of {updated} updated replicas available"))
    } else {
        Rollout::Done
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployment(generation: i64, status: serde_json::Value) -> Deployment {
        serde_json::from_value(json!({
            "metadata": {"name": "kkp-webhook", "generation": generation},
            "spec": {"replicas": 2, "selector": {}, "template": {}},
            "status": status,
        }))
        .expect("a deployment")
    }

    #[test]
    fn each_stage_of_a_rollout_reads_like_kubectl() {
        let unseen: Deployment =
            serde_json::from_value(json!({"metadata": {"name": "x", "generation": 1}})).expect("a deployment");
        assert_eq!(
            state(&unseen),
            Rollout::Pending("waiting for the deployment controller to see it".into())
        );
        assert_eq!(
            state(&deployment(1, json!({}))),
            Rollout::Pending("waiting for the deployment controller to see it".into())
        );
        assert_eq!(
            state(&deployment(2, json!({"observedGeneration": 1}))),
            Rollout::Pending("waiting for the deployment controller to see the new spec".into())
        );
        assert_eq!(
            state(&deployment(
                1,
                json!({"observedGeneration": 1, "replicas": 2, "updatedReplicas": 1})
            )),
            Rollout::Pending("1 of 2 replicas updated".into())
        );
        assert_eq!(
            state(&deployment(
                1,
                json!({"observedGeneration": 1, "replicas": 3, "updatedReplicas": 2})
            )),
            Rollout::Pending("1 old replica(s) still to go".into())
        );
        assert_eq!(
            state(&deployment(
                1,
                json!({"observedGeneration": 1, "replicas": 2, "updatedReplicas": 2, "availableReplicas": 1})
            )),
            Rollout::Pending("1 of 2 updated replicas available".into())
        );
        assert_eq!(
            state(&deployment(
                1,
                json!({"observedGeneration": 1, "replicas": 2, "updatedReplicas": 2, "availableReplicas": 2})
            )),
            Rollout::Done
        );
    }

    #[test]
    fn a_passed_progress_deadline_fails_the_wait() {
        let stalled = deployment(
            1,
            json!({"observedGeneration": 1, "replicas": 2, "updatedReplicas": 2, "conditions": [
                {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
                 "message": "ReplicaSet \"kkp-webhook-5d\" has timed out progressing."}]}),
        );
        assert_eq!(
            state(&stalled),
            Rollout::Failed(
                "the rollout exceeded its progress deadline: ReplicaSet \"kkp-webhook-5d\" has timed out progressing."
                    .into()
            )
        );
    }
}
