//! Two review endpoints for the policies themselves, beside `/mutate` and `/validate`:
//!
//! - `POST /validate-policy`: an `AdmissionPolicy` that does not parse, does not compile or is over
//!   a CEL limit is refused with the reason, so it never reaches the policy watch.
//! - `POST /validate-scale`: `kubectl scale machinedeployment` goes through the `scale`
//!   subresource, whose review carries an `autoscaling/v1` `Scale`, not the MachineDeployment. The
//!   replica rules (`maxReplicas`, `maxWorkers`) are applied to its `spec.replicas`. A Scale has no
//!   labels, so the MachineDeployment's selector labels come from a watch
//!   ([`crate::machine_labels`]); for a MachineDeployment the watch has not seen, every policy that
//!   does not exempt the user is applied, whatever its selector: a scale is never judged by fewer
//!   policies than the MachineDeployment itself would be (see `kkp_crds::policy::evaluate_scale`).

use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::post;
use kkp_crds::admission::Verdict;
use kkp_crds::policy::{self, AdmissionPolicy};
use kkp_crds::request::{Operation, ResourceKind};
use kkp_manifests::{VALIDATE_EXEMPTION_PATH, VALIDATE_POLICY_PATH, VALIDATE_SCALE_PATH};

use crate::answer::{self, Answer, Endpoint, operation_label};
use crate::exemption_route;
use crate::metrics::Outcome;
use crate::review::{AdmissionResponse, ParsedRequest, Status};
use crate::review_http::{http_error, parse, respond};
use crate::state::AppState;

/// The routes of the two endpoints, to merge into the TLS router.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(VALIDATE_POLICY_PATH, post(validate_policy))
        .route(VALIDATE_SCALE_PATH, post(validate_scale))
        .route(VALIDATE_EXEMPTION_PATH, post(exemption_route::validate_exemption))
}

/// Whether an AdmissionPolicy in a review may be stored: `None` when it may, else why not.
pub fn policy_problem(parsed: &ParsedRequest) -> Option<String> {
    if !matches!(parsed.operation, Operation::Create | Operation::Update) {
        return None;
    }
    let object = parsed.request.object.clone()?;
    let name = parsed.request.name.clone().unwrap_or_default();
    let policy: AdmissionPolicy = match serde_json::from_value(object) {
        Ok(p) => p,
        Err(e) => {
            return Some(format!(
                "AdmissionPolicy {name:?} is invalid: the policy does not parse: {e}"
            ));
        }
    };
    policy::compile(&policy)
        .err()
        .map(|e| format!("AdmissionPolicy {name:?} is invalid: {e}"))
}

/// What an endpoint decided about one review, for the metrics and the answer.
struct Judged {
    kind: &'static str,
    outcome: Outcome,
    response: AdmissionResponse,
}

/// The steps both endpoints share: parse the review (or refuse the request), have `judge` decide
/// it, count it under `endpoint` with the time it took, and answer. `judge` may answer with an
/// HTTP error instead.
async fn serve_review<F, Fut>(
    state: AppState,
    endpoint: &'static str,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
    judge: F,
) -> Response
where
    F: FnOnce(AppState, ParsedRequest) -> Fut,
    Fut: Future<Output = Result<Judged, Response>>,
{
    let started = Instant::now();
    let parsed = match parse(&headers, body) {
        Ok(p) => p,
        Err(refused) => return *refused,
    };
    let operation = operation_label(parsed.operation);
    match judge(state.clone(), parsed).await {
        Ok(judged) => {
            state
                .metrics()
                .observe_review(judged.kind, operation, endpoint, judged.outcome, started.elapsed());
            respond(judged.response)
        }
        Err(refused) => refused,
    }
}

async fn validate_policy(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    serve_review(state, "validate-policy", headers, body, |_, parsed| async move {
        // Compiling runs the CEL parser on a thread of its own; keep it off the async workers.
        let (parsed, problem) = tokio::task::spawn_blocking(move || {
            let problem = policy_problem(&parsed);
            (parsed, problem)
        })
        .await
        .map_err(|e| {
            http_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("checking the policy failed: {e}"),
            )
        })?;
        let uid = parsed.request.uid.as_str();
        let (response, outcome) = match &problem {
            None => (AdmissionResponse::allow(uid), Outcome::Allowed),
            Some(message) => (
                AdmissionResponse::deny(uid, Status::failure(422, message.as_str())),
                Outcome::Denied,
            ),
        };
        tracing::info!(
            uid,
            name = parsed.request.name.as_deref().unwrap_or(""),
            operation = operation_label(parsed.operation),
            allowed = problem.is_none(),
            message = problem.as_deref().unwrap_or(""),
            "policy review"
        );
        Ok(Judged {
            kind: "AdmissionPolicy",
            outcome,
            response,
        })
    })
    .await
}

/// The answer to a review of a MachineDeployment's `scale` subresource.
///
/// `labels` are the MachineDeployment's selector labels when the webhook knows them; without
/// them every policy with a replica rule applies.
pub fn scale_answer(
    parsed: &ParsedRequest,
    ctx: &kkp_crds::context::Context,
    labels: Option<&std::collections::BTreeMap<String, String>>,
) -> Answer {
    let req = &parsed.request;
    let mut verdict = Verdict::for_object(
        ResourceKind::MachineDeployment,
        req.name.as_deref().unwrap_or_default(),
        req.namespace.as_deref(),
    );
    match (&req.object, parsed.operation, req.kind.kind.as_str()) {
        (Some(scale), Operation::Update | Operation::Create, "Scale") => {
            let old = req.old_object.as_ref();
            let evaluation = policy::evaluate_scale(&ctx.policies, scale, old, labels, Some(&parsed.user));
            verdict.violations = evaluation.violations;
            verdict.matched_policies = evaluation.matched;
        }
        _ => verdict.skipped = Some("not an update of a Scale".into()),
    }
    answer::translate(Endpoint::Validate, parsed, &verdict)
}

async fn validate_scale(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    serve_review(state, "validate-scale", headers, body, |state, parsed| async move {
        let labels = state.machine_labels().get(
            parsed.request.namespace.as_deref().unwrap_or(""),
            parsed.request.name.as_deref().unwrap_or(""),
        );
        let answer = scale_answer(&parsed, &state.context(), labels.as_ref());
        let metrics = state.metrics();
        for rule in &answer.denied_by {
            metrics.observe_denial(answer.kind, "validate-scale", rule);
        }
        for (policy, rule) in &answer.audited {
            metrics.observe_audit(policy, rule);
        }
        crate::policy_counts::observe(
            state.policy_counters(),
            Endpoint::Validate,
            parsed.request.dry_run.unwrap_or(false),
            &answer,
        );
        tracing::info!(
            uid = %parsed.request.uid,
            namespace = parsed.request.namespace.as_deref().unwrap_or(""),
            name = %answer.name,
            operation = operation_label(parsed.operation),
            allowed = answer.response.allowed,
            replicas = parsed.request.object.as_ref().map_or(0, policy::scale_replicas),
            "scale review"
        );
        Ok(Judged {
            kind: answer.kind,
            outcome: answer.outcome,
            response: answer.response,
        })
    })
    .await
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::header;
    use kkp_crds::context::Context;
    use serde_json::{Value, json};
    use tower::ServiceExt;

    use super::*;
    use crate::review;

    fn review(kind: Value, object: Value, old: Option<Value>) -> String {
        json!({"apiVersion": review::API_VERSION, "kind": review::KIND, "request": {
            "uid": "u1", "operation": if old.is_some() { "UPDATE" } else { "CREATE" },
            "name": "workers", "namespace": "kube-system", "kind": kind,
            "object": object, "oldObject": old,
            "userInfo": {"username": "bob", "groups": ["devs"]}}})
        .to_string()
    }

    async fn post_review(state: AppState, path: &str, body: String) -> Value {
        let request = axum::http::Request::post(path)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body))
            .unwrap();
        let response = routes().with_state(state).oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    fn policy_object(name: &str, rules: Value) -> Value {
        json!({"apiVersion": "policy.kubectl-kkp.io/v1alpha1", "kind": "AdmissionPolicy",
               "metadata": {"name": name}, "spec": {"rules": rules}})
    }

    fn policy_kind() -> Value {
        json!({"group": "policy.kubectl-kkp.io", "version": "v1alpha1", "kind": "AdmissionPolicy"})
    }

    #[tokio::test]
    async fn policies_over_a_limit_or_broken_are_refused_with_the_reason() {
        let state = AppState::new(Context::default(), Default::default());
        let deep = format!("{}true{}", "(".repeat(64), ")".repeat(64));
        let refused = post_review(
            state.clone(),
            VALIDATE_POLICY_PATH,
            review(
                policy_kind(),
                policy_object("deep", json!({"cel": [{"name": "d", "expression": deep}]})),
                None,
            ),
        )
        .await;
        assert_eq!(refused["response"]["allowed"], false);
        assert_eq!(refused["response"]["status"]["code"], 422);
        assert_eq!(
            refused["response"]["status"]["message"],
            "AdmissionPolicy \"workers\" is invalid: rules.cel[0] (d): the expression nests brackets 64 deep; the limit is 32"
        );
        let unparsable = post_review(
            state.clone(),
            VALIDATE_POLICY_PATH,
            review(policy_kind(), policy_object("p", json!({"providers": "aws"})), None),
        )
        .await;
        let message = unparsable["response"]["status"]["message"].as_str().unwrap();
        assert!(message.contains("the policy does not parse"), "{message}");
        let fine = post_review(
            state,
            VALIDATE_POLICY_PATH,
            review(policy_kind(), policy_object("p", json!({"maxReplicas": 3})), None),
        )
        .await;
        assert_eq!(fine["response"]["allowed"], true);
    }

    fn scale(replicas: i64) -> Value {
        json!({"apiVersion": "autoscaling/v1", "kind": "Scale",
               "metadata": {"name": "workers", "namespace": "kube-system"}, "spec": {"replicas": replicas}})
    }

    fn scale_kind() -> Value {
        json!({"group": "autoscaling", "version": "v1", "kind": "Scale"})
    }

    #[tokio::test]
    async fn scale_requests_over_the_replica_limits_are_denied() {
        let compiled = crate::policies::compile_all(
            &[],
            &[serde_json::from_value(policy_object("few", json!({"maxReplicas": 3}))).unwrap()],
        );
        let state = AppState::new(Context::default(), Default::default());
        state.set_policies(compiled.set);
        let denied = post_review(
            state.clone(),
            VALIDATE_SCALE_PATH,
            review(scale_kind(), scale(100), Some(scale(2))),
        )
        .await;
        assert_eq!(denied["response"]["allowed"], false);
        assert_eq!(
            denied["response"]["status"]["message"],
            "MachineDeployment.cluster.k8s.io \"workers\" is forbidden: [policy \"few\" rule maxReplicas: 100 replicas exceed the maximum of 3]"
        );
        let allowed = post_review(
            state.clone(),
            VALIDATE_SCALE_PATH,
            review(scale_kind(), scale(3), Some(scale(2))),
        )
        .await;
        assert_eq!(allowed["response"]["allowed"], true);
        // Already over the limit before: scaling to the same count is admitted with a warning.
        let kept = post_review(
            state,
            VALIDATE_SCALE_PATH,
            review(scale_kind(), scale(5), Some(scale(5))),
        )
        .await;
        assert_eq!(kept["response"]["allowed"], true);
        assert_eq!(kept["response"]["warnings"].as_array().map(Vec::len), Some(1), "{kept}");
    }

    #[tokio::test]
    async fn scale_requests_are_judged_by_the_policies_that_select_the_machine_deployment() {
        let mut team_a = policy_object("team-a", json!({"maxReplicas": 3}));
        team_a["spec"]["selector"] = json!({"matchLabels": {"project-id": "a"}});
        let compiled = crate::policies::compile_all(&[], &[serde_json::from_value(team_a).unwrap()]);
        let state = AppState::new(Context::default(), Default::default());
        state.set_policies(compiled.set);
        let body = || review(scale_kind(), scale(100), Some(scale(2)));
        // Unknown to the watch: every policy with a replica rule applies.
        let unknown = post_review(state.clone(), VALIDATE_SCALE_PATH, body()).await;
        assert_eq!(unknown["response"]["allowed"], false, "{unknown}");
        // Known, in project b: team a's policy does not select it.
        let md: kube::api::DynamicObject = serde_json::from_value(json!({
            "apiVersion": "cluster.k8s.io/v1alpha1", "kind": "MachineDeployment",
            "metadata": {"name": "workers", "namespace": "kube-system"},
            "spec": {"template": {"spec": {"metadata": {"labels": {"system/project": "b"}}}}}
        }))
        .unwrap();
        state.machine_labels().apply(&md);
        let other_project = post_review(state.clone(), VALIDATE_SCALE_PATH, body()).await;
        assert_eq!(other_project["response"]["allowed"], true, "{other_project}");
        // Known, in project a: denied.
        let mut in_a = md.clone();
        in_a.data["spec"]["template"]["spec"]["metadata"]["labels"]["system/project"] = json!("a");
        state.machine_labels().apply(&in_a);
        let same_project = post_review(state, VALIDATE_SCALE_PATH, body()).await;
        assert_eq!(same_project["response"]["allowed"], false, "{same_project}");
    }
}
