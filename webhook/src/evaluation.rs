//! The CPU-bound part of a review, run on a blocking thread so the async runtime's workers stay
//! free for health probes, metrics and other connections: parse the body, ask the engine, record
//! metrics and the log line, encode the response. The large values (body, objects, verdict) are
//! also dropped here, not on a worker.

use std::time::Instant;

use axum::body::Bytes;

use crate::answer::{self, Endpoint, operation_label};
use crate::config::Enforcement;
use crate::review::{self, ResponseReview, ReviewError};
use crate::state::AppState;

/// The longest message a log line repeats, in bytes.
pub const MAX_LOGGED_MESSAGE_BYTES: usize = 4 * 1024;

/// What came of evaluating one review.
#[derive(Debug)]
pub enum Evaluated {
    /// The encoded AdmissionReview response.
    Answered(Vec<u8>),
    /// The body is not a review we can answer.
    BadRequest(ReviewError),
    /// The response could not be encoded.
    Unencodable(serde_json::Error),
}

/// Parses, answers, records and encodes one review. Blocking: call it off the async runtime.
pub fn evaluate(endpoint: Endpoint, state: &AppState, body: Bytes, started: Instant) -> Evaluated {
    let parsed = match review::parse(&body) {
        Ok(p) => p,
        Err(e) => return Evaluated::BadRequest(e),
    };
    drop(body);
    let ctx = state.context();
    let answer = answer::answer_with(endpoint, &parsed, &ctx, state.enforcement());
    let took = started.elapsed();

    let operation = operation_label(parsed.operation);
    let metrics = state.metrics();
    metrics.observe_review(answer.kind, operation, endpoint.as_str(), answer.outcome, took);
    for rule in &answer.denied_by {
        metrics.observe_denial(answer.kind, endpoint.as_str(), rule);
    }
    for rule in &answer.would_deny {
        metrics.observe_would_deny(answer.kind, endpoint.as_str(), rule);
    }
    for (policy, rule) in &answer.audited {
        metrics.observe_audit(policy, rule);
    }
    crate::policy_counts::observe(
        state.policy_counters(),
        endpoint,
        parsed.request.dry_run.unwrap_or(false),
        &answer,
    );
    crate::report_queue::observe(state.report_queue(), endpoint, &parsed, &answer);

    let req = &parsed.request;
    let response = &answer.response;
    let message = response.status.as_ref().map_or("", |s| s.message.as_str());
    // One line per review; a review that changed nothing and said nothing (the bulk of the
    // traffic) is logged at debug level, everything else at info.
    macro_rules! log_review {
        ($level:expr) => {
            tracing::event!(
                $level,
                uid = %kkp_crds::field::truncated(&req.uid, 128),
                kind = answer.kind,
                namespace = %kkp_crds::field::truncated(req.namespace.as_deref().unwrap_or(""), 128),
                name = %kkp_crds::field::truncated(&answer.name, 256),
                operation,
                endpoint = endpoint.as_str(),
                dry_run = req.dry_run.unwrap_or(false),
                allowed = response.allowed,
                code = response.status.as_ref().map_or(200, |s| s.code),
                patch_operations = answer.patch_operations,
                warnings = response.warnings.len(),
                would_deny = answer.would_deny.len(),
                audit_mode = state.enforcement() == Enforcement::Audit,
                duration_us = u64::try_from(took.as_micros()).unwrap_or(u64::MAX),
                message = %kkp_crds::field::truncated(message, MAX_LOGGED_MESSAGE_BYTES),
                "review"
            )
        };
    }
    let uneventful = response.allowed
        && answer.patch_operations == 0
        && response.warnings.is_empty()
        && answer.would_deny.is_empty()
        && answer.audited.is_empty();
    if uneventful {
        log_review!(tracing::Level::DEBUG);
    } else {
        log_review!(tracing::Level::INFO);
    }

    match serde_json::to_vec(&ResponseReview::new(answer.response)) {
        Ok(json) => Evaluated::Answered(json),
        Err(e) => Evaluated::Unencodable(e),
    }
}
