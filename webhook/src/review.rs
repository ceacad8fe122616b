//! The `admission.k8s.io/v1` AdmissionReview wire format: the request as the apiserver sends it
//! and the response exactly as it expects it back.
//!
//! Response rules the apiserver enforces (a violation fails the call): `uid`, `apiVersion` and
//! `kind` echoed; `patch` base64 and only together with `patchType: JSONPatch`; no patch at all
//! from a validating webhook; a denial's `status.code` at least 400.

use std::collections::BTreeMap;

use kkp_crds::request::{Operation, UserInfo};
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub const API_VERSION: &str = "admission.k8s.io/v1";
pub const KIND: &str = "AdmissionReview";
pub const PATCH_TYPE_JSON_PATCH: &str = "JSONPatch";

/// Why a request body is not an AdmissionReview we can answer.
#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    #[error("the body is not a JSON AdmissionReview: {0}")]
    Json(#[from] serde_json::Error),
    #[error("the body is not a JSON AdmissionReview: it is not UTF-8 ({0})")]
    NotUtf8(#[from] std::str::Utf8Error),
    #[error("expected apiVersion {API_VERSION:?} and kind {KIND:?}, got apiVersion {api_version:?} and kind {kind:?}")]
    WrongType { api_version: String, kind: String },
    #[error("the AdmissionReview has no request")]
    NoRequest,
    #[error("the AdmissionReview request has no uid")]
    NoUid,
    #[error("unknown operation {0:?} (expected CREATE, UPDATE, DELETE or CONNECT)")]
    UnknownOperation(String),
    #[error("request.{field} is a {found}, but request.kind says {expected}")]
    KindMismatch {
        field: &'static str,
        found: String,
        expected: String,
    },
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct IncomingReview {
    #[serde(default)]
    api_version: String,
    #[serde(default)]
    kind: String,
    request: Option<AdmissionRequest>,
}

/// Group, version and kind as the apiserver names them in a request.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct GroupVersionKind {
    #[serde(default)]
    pub group: String,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub kind: String,
}

/// The requesting user, as far as policies care.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct RequestUser {
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub groups: Vec<String>,
}

/// The parts of an AdmissionRequest the webhook reads; everything else is ignored.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdmissionRequest {
    #[serde(default)]
    pub uid: String,
    #[serde(default)]
    pub kind: GroupVersionKind,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub namespace: Option<String>,
    #[serde(default)]
    pub operation: String,
    #[serde(default)]
    pub user_info: RequestUser,
    #[serde(default)]
    pub object: Option<Value>,
    #[serde(default)]
    pub old_object: Option<Value>,
    #[serde(default)]
    pub dry_run: Option<bool>,
}

/// A checked request: the review was `admission.k8s.io/v1` and the operation is known.
#[derive(Debug)]
pub struct ParsedRequest {
    pub request: AdmissionRequest,
    pub operation: Operation,
    pub user: UserInfo,
}

/// Parses and checks a request body.
pub fn parse(body: &[u8]) -> Result<ParsedRequest, ReviewError> {
    // One UTF-8 check of the whole body is cheaper than serde_json's check of each string.
    let text = std::str::from_utf8(body)?;
    let review: IncomingReview = serde_json::from_str(text)?;
    if review.api_version != API_VERSION || review.kind != KIND {
        return Err(ReviewError::WrongType {
            api_version: review.api_version,
            kind: review.kind,
        });
    }
    let mut request = review.request.ok_or(ReviewError::NoRequest)?;
    if request.uid.is_empty() {
        return Err(ReviewError::NoUid);
    }
    let operation =
        Operation::parse(&request.operation).ok_or_else(|| ReviewError::UnknownOperation(request.operation.clone()))?;
    for (field, object) in [("object", &mut request.object), ("oldObject", &mut request.old_object)] {
        if let Some(object) = object.as_mut() {
            align_with_request_kind(field, object, &request.kind)?;
        }
    }
    let user = UserInfo {
        username: std::mem::take(&mut request.user_info.username),
        groups: std::mem::take(&mut request.user_info.groups),
    };
    Ok(ParsedRequest {
        request,
        operation,
        user,
    })
}

/// The request's `kind` decides what an object is: an object without `apiVersion`/`kind` gets them
/// from it, and one whose group or kind disagrees with it is refused (the version may differ, as
/// the apiserver converts objects to the version a webhook registered for).
fn align_with_request_kind(
    field: &'static str,
    object: &mut Value,
    kind: &GroupVersionKind,
) -> Result<(), ReviewError> {
    let Some(map) = object.as_object_mut() else {
        return Ok(());
    };
    if kind.kind.is_empty() {
        return Ok(());
    }
    let api_version = map.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let object_kind = map.get("kind").and_then(Value::as_str).unwrap_or("");
    if api_version.is_empty() && object_kind.is_empty() {
        let api_version = if kind.group.is_empty() {
            kind.version.clone()
        } else {
            format!("{}/{}", kind.group, kind.version)
        };
        map.insert("apiVersion".into(), Value::String(api_version));
        map.insert("kind".into(), Value::String(kind.kind.clone()));
        return Ok(());
    }
    let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
    if group != kind.group || object_kind != kind.kind {
        let describe = |group: &str, kind: &str| {
            if group.is_empty() {
                kind.to_owned()
            } else {
                format!("{kind}.{group}")
            }
        };
        return Err(ReviewError::KindMismatch {
            field,
            found: describe(group, object_kind),
            expected: describe(&kind.group, &kind.kind),
        });
    }
    Ok(())
}

/// A `metav1.Status` as the apiserver reads it from a denial.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Status {
    pub status: String,
    pub message: String,
    pub reason: String,
    pub code: u16,
}

impl Status {
    /// A failure with the reason the apiserver uses for this code.
    pub fn failure(code: u16, message: impl Into<String>) -> Self {
        let reason = match code {
            400 => "BadRequest",
            403 => "Forbidden",
            422 => "Invalid",
            _ => "InternalError",
        };
        Status {
            status: "Failure".into(),
            message: message.into(),
            reason: reason.into(),
            code,
        }
    }
}

/// The response part of an AdmissionReview.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct AdmissionResponse {
    pub uid: String,
    pub allowed: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    /// Base64 of the JSON Patch document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patch: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patch_type: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub audit_annotations: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl AdmissionResponse {
    pub fn allow(uid: &str) -> Self {
        AdmissionResponse {
            uid: uid.to_owned(),
            allowed: true,
            status: None,
            patch: None,
            patch_type: None,
            audit_annotations: BTreeMap::new(),
            warnings: Vec::new(),
        }
    }

    pub fn deny(uid: &str, status: Status) -> Self {
        AdmissionResponse {
            allowed: false,
            status: Some(status),
            ..AdmissionResponse::allow(uid)
        }
    }
}

/// A whole AdmissionReview carrying a response.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ResponseReview {
    pub api_version: String,
    pub kind: String,
    pub response: AdmissionResponse,
}

impl ResponseReview {
    pub fn new(response: AdmissionResponse) -> Self {
        ResponseReview {
            api_version: API_VERSION.into(),
            kind: KIND.into(),
            response,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_minimal_request_parses() {
        let body = json!({
            "apiVersion": API_VERSION, "kind": KIND,
            "request": {"uid": "u1", "operation": "CREATE", "object": {"a": 1}, "oldObject": null,
                        "userInfo": {"username": "alice", "groups": ["g"]}, "dryRun": true}
        });
        let parsed = parse(body.to_string().as_bytes()).unwrap();
        assert_eq!(parsed.request.uid, "u1");
        assert_eq!(parsed.operation, Operation::Create);
        assert_eq!(parsed.user.username, "alice");
        assert_eq!(parsed.request.object, Some(json!({"a": 1})));
        assert_eq!(parsed.request.old_object, None);
        assert_eq!(parsed.request.dry_run, Some(true));
    }

    #[test]
    fn the_request_kind_decides_what_an_object_is() {
        let review = |object: Value| {
            json!({
                "apiVersion": API_VERSION, "kind": KIND,
                "request": {"uid": "u", "operation": "CREATE", "object": object,
                            "kind": {"group": "kubermatic.k8c.io", "version": "v1", "kind": "Cluster"}}
            })
            .to_string()
        };
        // An object without apiVersion and kind takes them from the request.
        let parsed = parse(review(json!({"metadata": {"name": "c"}})).as_bytes()).unwrap();
        let object = parsed.request.object.unwrap();
        assert_eq!(object["apiVersion"], "kubermatic.k8c.io/v1");
        assert_eq!(object["kind"], "Cluster");
        // Another version of the same kind is fine (the apiserver converts); another kind is not.
        let v2 = json!({"apiVersion": "kubermatic.k8c.io/v2", "kind": "Cluster"});
        assert!(parse(review(v2).as_bytes()).is_ok());
        let foreign = json!({"apiVersion": "cluster.x-k8s.io/v1beta2", "kind": "Cluster"});
        assert_eq!(
            parse(review(foreign).as_bytes()).unwrap_err().to_string(),
            "request.object is a Cluster.cluster.x-k8s.io, but request.kind says Cluster.kubermatic.k8c.io"
        );
        let config_map = json!({"apiVersion": "v1", "kind": "ConfigMap"});
        assert!(matches!(
            parse(review(config_map).as_bytes()),
            Err(ReviewError::KindMismatch { field: "object", .. })
        ));
    }

    #[test]
    fn wrong_reviews_are_refused_with_the_reason() {
        let v1beta1 = json!({"apiVersion": "admission.k8s.io/v1beta1", "kind": KIND, "request": {"uid": "u"}});
        assert!(matches!(
            parse(v1beta1.to_string().as_bytes()),
            Err(ReviewError::WrongType { .. })
        ));
        let no_request = json!({"apiVersion": API_VERSION, "kind": KIND});
        assert!(matches!(
            parse(no_request.to_string().as_bytes()),
            Err(ReviewError::NoRequest)
        ));
        let no_uid = json!({"apiVersion": API_VERSION, "kind": KIND, "request": {"operation": "CREATE"}});
        assert!(matches!(parse(no_uid.to_string().as_bytes()), Err(ReviewError::NoUid)));
        let bad_op = json!({"apiVersion": API_VERSION, "kind": KIND, "request": {"uid": "u", "operation": "PATCH"}});
        assert_eq!(
            parse(bad_op.to_string().as_bytes()).unwrap_err().to_string(),
            "unknown operation \"PATCH\" (expected CREATE, UPDATE, DELETE or CONNECT)"
        );
        assert!(matches!(parse(b"{not json"), Err(ReviewError::Json(_))));
        assert!(matches!(parse(b"[]"), Err(ReviewError::Json(_))));
        assert!(matches!(
            parse(b"{\"apiVersion\": \"\xff\"}"),
            Err(ReviewError::NotUtf8(_))
        ));
    }

    #[test]
    fn an_allow_serialises_without_optional_fields() {
        let json = serde_json::to_value(ResponseReview::new(AdmissionResponse::allow("u"))).unwrap();
        assert_eq!(
            json,
            json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": {"uid": "u", "allowed": true}})
        );
    }

    #[test]
    fn a_denial_carries_code_and_message() {
        let json = serde_json::to_value(AdmissionResponse::deny("u", Status::failure(403, "no"))).unwrap();
        assert_eq!(
            json,
            json!({"uid": "u", "allowed": false,
                   "status": {"status": "Failure", "message": "no", "reason": "Forbidden", "code": 403}})
        );
    }
}
