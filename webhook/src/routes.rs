//! The HTTP side: `POST /mutate` and `POST /validate` on the TLS port, `/healthz`, `/readyz` and
//! `/metrics` on the health port. Bad requests get an HTTP error with the reason (400 malformed or
//! not an `admission.k8s.io/v1` AdmissionReview, 413 too large, 415 not JSON); the engine's
//! answers always come back as 200 with an AdmissionReview.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::error_handling::HandleErrorLayer;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use kkp_crds::field::truncated;
use kkp_manifests::{HEALTHZ_PATH, METRICS_PATH, MUTATE_PATH, READYZ_PATH, VALIDATE_PATH};
use serde_json::json;
use tower::{BoxError, ServiceBuilder};

use crate::answer::Endpoint;
use crate::body::{self, BodyError};
use crate::evaluation::{self, Evaluated};
use crate::metrics::Outcome;
use crate::state::AppState;

/// The router of the TLS port: the two review endpoints with request timeout, concurrency limit
/// and body limit (the handler reads the body itself, after it has an evaluation slot).
pub fn router(state: AppState) -> Router {
    let limits = state.limits();
    let timeout_metrics = state.clone();
    let timeout = limits.request_timeout;
    Router::new()
        .route(MUTATE_PATH, post(mutate))
        .route(VALIDATE_PATH, post(validate))
        .merge(crate::policy_routes::routes())
        .layer(
            ServiceBuilder::new()
                .layer(HandleErrorLayer::new(move |err: BoxError| {
                    let state = timeout_metrics.clone();
                    async move { middleware_error(&state, err, timeout) }
                }))
                .timeout(timeout),
        )
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

async fn mutate(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    review(Endpoint::Mutate, state, headers, body).await
}

async fn validate(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
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

/// Bodies up to this size are evaluated on the async worker: with at most
/// [`kkp_crds::type_check::MAX_TYPE_ERRORS`] type errors and capped messages, such a review takes
/// well under a millisecond, less than handing it to a blocking thread. Larger ones go to a
/// blocking thread so the workers stay free for probes and other connections.
const INLINE_BODY_BYTES: usize = 16 * 1024;

/// The longest message of a refused request, in bytes (it may quote what the client sent).
const MAX_REFUSAL_BYTES: usize = 1024;

/// One review: checked headers, an evaluation slot, the body read up to the limit, then parsing
/// and evaluation on a blocking thread. The slot is taken before the body is read, so at most
/// `--max-concurrency` bodies are in memory; it is held by the evaluation, so a review the
/// timeout gave up on still counts until its evaluation ends.
async fn review(endpoint: Endpoint, state: AppState, headers: HeaderMap, body: Body) -> Response {
    let started = Instant::now();
    let reject = |code: StatusCode, message: String| {
        let message = truncated(&message, MAX_REFUSAL_BYTES).into_owned();
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
    let limit = state.limits().max_body_bytes;
    let announced = body::announced_length(&headers);
    if announced.is_some_and(|n| n > limit) {
        return reject(StatusCode::PAYLOAD_TOO_LARGE, BodyError::TooLarge { limit }.to_string());
    }

    // Within the request timeout: wait for a free evaluation slot, then read the body.
    let Ok(permit) = Arc::clone(state.permits()).acquire_owned().await else {
        return reject(StatusCode::SERVICE_UNAVAILABLE, "the server is shutting down".into());
    };
    let busy = state.metrics().evaluating();
    let bytes = match body::read_limited(body, limit, announced).await {
        Ok(bytes) => bytes,
        Err(e @ BodyError::TooLarge { .. }) => return reject(StatusCode::PAYLOAD_TOO_LARGE, e.to_string()),
        Err(e @ BodyError::Read(_)) => return reject(StatusCode::BAD_REQUEST, e.to_string()),
    };
    let max_values = state.limits().max_json_values;
    if let Some(values) = body::json_values_over(&bytes, max_values) {
        return reject(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the review holds about {values} JSON values, more than the {max_values} this webhook evaluates"),
        );
    }
    let evaluated = if bytes.len() <= INLINE_BODY_BYTES {
        // Small enough that evaluating it costs less than the hop to a blocking thread.
        let _slot = (permit, busy);
        Ok(evaluation::evaluate(endpoint, &state, bytes, started))
    } else {
        let evaluating = state.clone();
        // Counted from before the blocking thread takes it until its values are dropped there.
        let large = crate::memory::large_review();
        tokio::task::spawn_blocking(move || {
            let _large = large;
            let _slot = (permit, busy);
            evaluation::evaluate(endpoint, &evaluating, bytes, started)
        })
        .await
    };
    match evaluated {
        Ok(Evaluated::Answered(json)) => (
            [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))],
            json,
        )
            .into_response(),
        Ok(Evaluated::BadRequest(e)) => reject(StatusCode::BAD_REQUEST, e.to_string()),
        Ok(Evaluated::Unencodable(e)) => http_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot encode the response: {e}"),
        ),
        Err(e) => {
            tracing::error!(error = %e, endpoint = endpoint.as_str(), "the evaluation task failed");
            http_error(StatusCode::INTERNAL_SERVER_ERROR, "the review failed".into())
        }
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
        let state = AppState::new(kkp_crds::context::Context::default(), limits);
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
