//! The mutating response's patch: checked against the request object before it is sent, then
//! base64-encoded as the apiserver expects.
//!
//! A patch the apiserver cannot apply fails the request with an internal error no matter what the
//! failure policy says, so a patch that does not apply here is never sent.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

/// Why a patch was not sent.
#[derive(Debug, thiserror::Error)]
pub enum PatchError {
    #[error("the defaulting patch does not apply to the object: {0}")]
    DoesNotApply(#[from] json_patch::PatchError),
    #[error("the defaulting patch does not produce the defaulted object")]
    WrongResult,
    #[error("the defaulting patch cannot be encoded: {0}")]
    Encode(#[from] serde_json::Error),
}

/// The base64 JSON Patch to send, or `None` when there is nothing to change. The patch must turn
/// `object` into `expected` (when given).
pub fn encode_checked(
    object: &Value,
    patch: &json_patch::Patch,
    expected: Option<&Value>,
) -> Result<Option<String>, PatchError> {
    if patch.0.is_empty() {
        return Ok(None);
    }
    let mut patched = object.clone();
    json_patch::patch(&mut patched, &patch.0)?;
    if expected.is_some_and(|e| *e != patched) {
        return Err(PatchError::WrongResult);
    }
    Ok(Some(STANDARD.encode(serde_json::to_vec(patch)?)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn patch(ops: Value) -> json_patch::Patch {
        serde_json::from_value(ops).unwrap()
    }

    #[test]
    fn an_empty_patch_is_not_sent() {
        assert_eq!(encode_checked(&json!({}), &patch(json!([])), None).unwrap(), None);
    }

    #[test]
    fn a_patch_that_applies_is_base64_json() {
        let p = patch(json!([{"op": "add", "path": "/spec/x", "value": 1}]));
        let object = json!({"spec": {}});
        let encoded = encode_checked(&object, &p, Some(&json!({"spec": {"x": 1}})))
            .unwrap()
            .unwrap();
        let decoded: Value = serde_json::from_slice(&STANDARD.decode(encoded).unwrap()).unwrap();
        assert_eq!(decoded, json!([{"op": "add", "path": "/spec/x", "value": 1}]));
    }

    #[test]
    fn a_patch_that_does_not_apply_is_refused() {
        let p = patch(json!([{"op": "replace", "path": "/spec/missing/x", "value": 1}]));
        assert!(matches!(
            encode_checked(&json!({"spec": {}}), &p, None),
            Err(PatchError::DoesNotApply(_))
        ));
    }

    #[test]
    fn a_patch_with_the_wrong_result_is_refused() {
        let p = patch(json!([{"op": "add", "path": "/spec/x", "value": 1}]));
        let r = encode_checked(&json!({"spec": {}}), &p, Some(&json!({"spec": {"x": 2}})));
        assert!(matches!(r, Err(PatchError::WrongResult)));
    }
}
