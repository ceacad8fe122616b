//! An AdmissionReview over HTTP for the review endpoints beside `/mutate` and `/validate`: the
//! review read from a request (or the request refused with an HTTP error), the response written.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::review::{self, AdmissionResponse, ParsedRequest, ResponseReview};

/// An HTTP error with an apiserver-style `Status` body.
pub fn http_error(code: StatusCode, message: String) -> Response {
    let body = json!({
        "apiVersion": "v1", "kind": "Status", "status": "Failure",
        "message": message, "code": code.as_u16(),
    });
    (code, axum::Json(body)).into_response()
}

/// The review in a request, or the HTTP error that refuses it.
pub fn parse(headers: &HeaderMap, body: Result<Bytes, BytesRejection>) -> Result<ParsedRequest, Box<Response>> {
    let media_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::trim)
        .unwrap_or("");
    if !media_type.eq_ignore_ascii_case("application/json") {
        return Err(Box::new(http_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("expected Content-Type application/json, got {media_type:?}"),
        )));
    }
    let body = body.map_err(|rejection| Box::new(http_error(rejection.status(), rejection.body_text())))?;
    review::parse(&body).map_err(|e| Box::new(http_error(StatusCode::BAD_REQUEST, e.to_string())))
}

/// The HTTP response that carries `response` in an AdmissionReview.
pub fn respond(response: AdmissionResponse) -> Response {
    match serde_json::to_vec(&ResponseReview::new(response)) {
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
