//! `POST /validate-exemption`: the review endpoint that admits the exemption label only from
//! exemption admins, by the rule in [`crate::exemption`], and counts each review in the metrics.

use std::time::Instant;

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::HeaderMap;
use axum::response::Response;

use crate::answer::operation_label;
use crate::exemption::refusal;
use crate::metrics::Outcome;
use crate::review::{AdmissionResponse, Status};
use crate::review_http;
use crate::state::AppState;

/// `POST /validate-exemption`.
pub async fn validate_exemption(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let started = Instant::now();
    let parsed = match review_http::parse(&headers, body) {
        Ok(p) => p,
        Err(refused) => return *refused,
    };
    let problem = refusal(&parsed, &state.exemption_admins());
    let uid = parsed.request.uid.as_str();
    let (response, outcome) = match &problem {
        None => (AdmissionResponse::allow(uid), Outcome::Allowed),
        Some(message) => (
            AdmissionResponse::deny(uid, Status::failure(403, message.as_str())),
            Outcome::Denied,
        ),
    };
    let operation = operation_label(parsed.operation);
    let kind = match parsed.request.kind.kind.as_str() {
        "Cluster" => "Cluster",
        "MachineDeployment" => "MachineDeployment",
        _ => "Unknown",
    };
    state
        .metrics()
        .observe_review(kind, operation, "validate-exemption", outcome, started.elapsed());
    tracing::info!(
        uid,
        user = %parsed.user.username,
        name = parsed.request.name.as_deref().unwrap_or(""),
        namespace = parsed.request.namespace.as_deref().unwrap_or(""),
        operation,
        allowed = problem.is_none(),
        "exemption review"
    );
    review_http::respond(response)
}
