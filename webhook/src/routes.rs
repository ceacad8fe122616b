//! The HTTP side: `POST /mutate` and `POST /validate` on the TLS port, `/healthz`, `/readyz` and
//! `/metrics` on the health port. Bad requests get an HTTP error with the reason (400 malformed or
//! not an `admission.k8s.io/v1` AdmissionReview, 413 too large, 415 not JSON); the engine's
//! answers always come back as 200 with an AdmissionReview.

use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::error_handling::HandleErrorLayer;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use kkp_manifests::{HEALTHZ_PATH, METRICS_PATH, MUTATE_PATH, READYZ_PATH, VALIDATE_PATH};
use serde_json::json;
use tower::{BoxError, ServiceBuilder};

use crate::answer::{self, Endpoint, operation_label};
use crate::metrics::Outcome;
use crate::review::{self, ResponseReview};
use crate::state::AppState;

/// The router of the TLS port: the two review endpoints with body limit, request timeout and
/// concurrency limit.
pub fn router(state: AppState) -> Router {
    let limits = state.limits();
    let timeout_metrics = state.clone();
    let timeout = limits.request_timeout;
    Router::new()
        .route(MUTATE_PATH, post(mutate))
        .route(VALIDATE_PATH, post(validate))
        .layer(
            ServiceBuilder::new()
                .layer(HandleErrorLayer::new(move |err: BoxError| {
                    let state = timeout_metrics.clone();
                    async move { middleware_error(&state, err, timeout) }
                }))
                .timeout(timeout),
        )
        .layer(DefaultBodyLimit::max(limits.max_body_bytes))
        .with_state(state)
}

/// The router of the plain-HTTP health port.
pub fn health_router(state: AppState) -> Router {
    Router::new()
        .route(HEALTHZ_PATH, get(|| async { "ok" }))
        .route(READYZ_PATH, get(readyz))
        .route(METRICS_PATH, get(metrics))
        .with_state(state)
}

async fn readyz(State(state): State<AppState>) -> Response {
    if state.is_ready() {
        (StatusCode::OK, format!("ok\nplatform: {}\n", state.platform_summary())).into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "shutting down").into_response()
    }
}

async fn metrics(State(state): State<AppState>) -> Response {
    let content_type = HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8");
    ([(header::CONTENT_TYPE, content_type)], state.metrics().render()).into_response()
}

fn middleware_error(state: &AppState, err: BoxError, timeout: Duration) -> Response {
    let message = if err.is::<tower::timeout::error::Elapsed>() {
        format!("the review did not finish within {timeout:?}")
    } else {
        format!("the review failed: {err}")
    };
    tracing::warn!(error = %message, "review not answered");
    state
        .metrics()
        .observe_review("Unknown", "UNKNOWN", "unknown", Outcome::Error, timeout);
    http_error(StatusCode::SERVICE_UNAVAILABLE, message)
}

async fn mutate(State(state): State<AppState>, headers: HeaderMap, body: Result<Bytes, BytesRejection>) -> Response {
    review(Endpoint::Mutate, state, headers, body).await
}

async fn validate(State(state): State<AppState>, headers: HeaderMap, body: Result<Bytes, BytesRejection>) -> Response {
    review(Endpoint::Validate, state, headers, body).await
}

/// An HTTP error in the shape of a Kubernetes `Status`, so the apiserver's log shows the reason.
fn http_error(code: StatusCode, message: String) -> Response {
    let reason = match code {
        StatusCode::BAD_REQUEST => "BadRequest",
        StatusCode::PAYLOAD_TOO_LARGE => "RequestEntityTooLarge",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "UnsupportedMediaType",
        StatusCode::SERVICE_UNAVAILABLE => "ServiceUnavailable",
        _ => "InternalError",
    };
    let body = json!({
        "apiVersion": "v1", "kind": "Status", "status": "Failure",
        "message": message, "reason": reason, "code": code.as_u16(),
    });
    (code, axum::Json(body)).into_response()
}

fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let media_type = value.split(';').next().unwrap_or("").trim();
    media_type.eq_ignore_ascii_case("application/json")
}

async fn review(
    endpoint: Endpoint,
    state: AppState,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let started = Instant::now();
    let reject = |code: StatusCode, message: String| {
        tracing::info!(endpoint = endpoint.as_str(), code = code.as_u16(), error = %message, "request refused");
        state.metrics().observe_review(
            "Unknown",
            "UNKNOWN",
            endpoint.as_str(),
            Outcome::Error,
            started.elapsed(),
        );
        http_error(code, message)
    };
    if !is_json(&headers) {
        let got = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("none");
        return reject(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("expected Content-Type application/json, got {got}"),
        );
    }
    let body = match body {
        Ok(b) => b,
        Err(rejection) => {
            let status = rejection.status();
            let message = if status == StatusCode::PAYLOAD_TOO_LARGE {
                format!(
                    "the request body is larger than {} bytes",
                    state.limits().max_body_bytes
                )
            } else {
                rejection.body_text()
            };
            return reject(status, message);
        }
    };
    let parsed = match review::parse(&body) {
        Ok(p) => p,
        Err(e) => return reject(StatusCode::BAD_REQUEST, e.to_string()),
    };

    // Within the request timeout: wait for a free evaluation slot.
    let Ok(_permit) = state.permits().acquire().await else {
        return reject(StatusCode::SERVICE_UNAVAILABLE, "the server is shutting down".into());
    };
    let ctx = state.context();
    let answer = answer::answer(endpoint, &parsed, &ctx);
    let took = started.elapsed();

    let operation = operation_label(parsed.operation);
    let metrics = state.metrics();
    metrics.observe_review(answer.kind, operation, endpoint.as_str(), answer.outcome, took);
    for rule in &answer.denied_by {
        metrics.observe_denial(answer.kind, endpoint.as_str(), rule);
    }
    for (policy, rule) in &answer.audited {
        metrics.observe_audit(policy, rule);
    }
    crate::policies::observe(
        state.policy_counters(),
        endpoint,
        parsed.request.dry_run.unwrap_or(false),
        &answer,
    );

    let req = &parsed.request;
    let response = &answer.response;
    tracing::info!(
        uid = %req.uid,
        kind = answer.kind,
        namespace = req.namespace.as_deref().unwrap_or(""),
        name = %answer.name,
        operation,
        endpoint = endpoint.as_str(),
        dry_run = req.dry_run.unwrap_or(false),
        allowed = response.allowed,
        code = response.status.as_ref().map_or(200, |s| s.code),
        patch_operations = answer.patch_operations,
        warnings = response.warnings.len(),
        duration_us = u64::try_from(took.as_micros()).unwrap_or(u64::MAX),
        message = response.status.as_ref().map_or("", |s| s.message.as_str()),
        "review"
    );

    match serde_json::to_vec(&ResponseReview::new(answer.response)) {
        Ok(json) => (
            [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))],
            json,
        )
            .into_response(),
        Err(e) => http_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot encode the response: {e}"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_content_types() {
        let mut h = HeaderMap::new();
        assert!(!is_json(&h));
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        assert!(is_json(&h));
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("Application/JSON; charset=utf-8"),
        );
        assert!(is_json(&h));
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        assert!(!is_json(&h));
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/yaml"));
        assert!(!is_json(&h));
    }

    #[tokio::test]
    async fn a_review_waiting_for_a_slot_times_out_with_503() {
        use axum::body::Body;
        use tower::ServiceExt;

        let limits = crate::config::Limits {
            max_concurrency: 2,
            request_timeout: Duration::from_millis(100),
            ..Default::default()
        };
        let state = AppState::new(kkp_crds::admission::Context::default(), limits);
        // Every evaluation slot is taken.
        let _held = state.permits().clone().acquire_many_owned(2).await.unwrap();
        let body = serde_json::json!({
            "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
            "request": {"uid": "t", "operation": "DELETE", "object": null, "oldObject": {}}
        });
        let request = axum::http::Request::post(VALIDATE_PATH)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap();
        let started = std::time::Instant::now();
        let response = router(state.clone()).oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(started.elapsed() >= Duration::from_millis(100));
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert!(
            json["message"]
                .as_str()
                .unwrap()
                .contains("did not finish within 100ms"),
            "{json}"
        );

        // With a free slot the same review is answered.
        drop(_held);
        let request = axum::http::Request::post(VALIDATE_PATH)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap();
        assert_eq!(router(state).oneshot(request).await.unwrap().status(), StatusCode::OK);
    }
}
