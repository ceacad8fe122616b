//! Turns one parsed AdmissionRequest into its AdmissionResponse by asking the engine. Nothing here
//! decides validity or defaults: the engine's [`Verdict`] does, this only translates it.

use std::panic::{AssertUnwindSafe, catch_unwind};

use kkp_crds::admission::{self, Context, Operation, Request, ResourceKind, Verdict};
use kkp_crds::policy::Enforcement;
use serde_json::json;

use crate::metrics::Outcome;
use crate::patch;
use crate::review::{AdmissionResponse, PATCH_TYPE_JSON_PATCH, ParsedRequest, Status};

/// The audit annotation that lists the Audit-enforced policy violations of an admitted object.
pub const AUDIT_ANNOTATION: &str = "policy-audit-violations";

/// Which webhook is asking.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoint {
    Mutate,
    Validate,
}

impl Endpoint {
    pub fn as_str(self) -> &'static str {
        match self {
            Endpoint::Mutate => "mutate",
            Endpoint::Validate => "validate",
        }
    }
}

/// A response plus what logs and metrics want to know about it.
#[derive(Debug)]
pub struct Answer {
    pub response: AdmissionResponse,
    pub outcome: Outcome,
    pub kind: &'static str,
    pub name: String,
    /// The rules behind a denial: field paths of field errors, `policy/rule` of denying policies.
    pub denied_by: Vec<String>,
    /// `(policy, rule)` of each Audit-enforced violation.
    pub audited: Vec<(String, String)>,
    /// The policies that selected the object, and those of them that denied it.
    pub matched_policies: Vec<String>,
    pub denied_policies: Vec<String>,
    pub patch_operations: usize,
}

/// The names of the policies with a Deny violation, each once.
fn denied_policies(verdict: &Verdict) -> Vec<String> {
    let mut names: Vec<String> = verdict.denials().map(|v| v.policy.clone()).collect();
    names.dedup();
    names
}

pub fn kind_label(kind: &ResourceKind) -> &'static str {
    match kind {
        ResourceKind::Cluster => "Cluster",
        ResourceKind::MachineDeployment => "MachineDeployment",
        ResourceKind::Other { .. } => "Other",
    }
}

pub fn operation_label(operation: Operation) -> &'static str {
    match operation {
        Operation::Create => "CREATE",
        Operation::Update => "UPDATE",
        Operation::Delete => "DELETE",
        Operation::Connect => "CONNECT",
    }
}

/// Answers a review for one endpoint in one context. Never panics: an engine failure becomes an
/// internal-error denial.
pub fn answer(endpoint: Endpoint, parsed: &ParsedRequest, ctx: &Context) -> Answer {
    let req = &parsed.request;
    let request = Request {
        operation: parsed.operation,
        object: req.object.as_ref(),
        old_object: req.old_object.as_ref(),
        user: Some(&parsed.user),
    };
    let evaluated = catch_unwind(AssertUnwindSafe(|| match endpoint {
        Endpoint::Mutate => admission::mutate(&request, ctx),
        Endpoint::Validate => admission::validate(&request, ctx),
    }));
    let verdict = match evaluated {
        Ok(v) => v,
        Err(_) => {
            tracing::error!(uid = %req.uid, endpoint = endpoint.as_str(), "the admission engine panicked");
            return internal_error(
                req.uid.as_str(),
                "Other",
                req.name.clone().unwrap_or_default(),
                "the admission engine failed",
            );
        }
    };
    translate(endpoint, parsed, &verdict)
}

/// The response for the engine's verdict on a request.
pub fn translate(endpoint: Endpoint, parsed: &ParsedRequest, verdict: &Verdict) -> Answer {
    let req = &parsed.request;
    let kind = kind_label(&verdict.kind);
    let name = if verdict.name.is_empty() {
        req.name.clone().unwrap_or_default()
    } else {
        verdict.name.clone()
    };

    let mut response = if verdict.allowed() {
        AdmissionResponse::allow(&req.uid)
    } else {
        AdmissionResponse::deny(&req.uid, Status::failure(verdict.code(), verdict.message()))
    };
    response.warnings = verdict.all_warnings();
    let audited = audit(verdict, &mut response);
    let denied_by = if verdict.allowed() {
        Vec::new()
    } else {
        denial_rules(verdict)
    };
    let mut answer = Answer {
        outcome: if verdict.allowed() {
            Outcome::Allowed
        } else {
            Outcome::Denied
        },
        response,
        kind,
        name,
        denied_by,
        audited,
        matched_policies: verdict.matched_policies.clone(),
        denied_policies: denied_policies(verdict),
        patch_operations: 0,
    };

    // Only a mutating answer that admits the object carries a patch; a validating one never does.
    if endpoint == Endpoint::Mutate && verdict.allowed() {
        let Some(object) = req.object.as_ref() else {
            return answer;
        };
        match patch::encode_checked(object, &verdict.patch, verdict.object.as_ref()) {
            Ok(Some(encoded)) => {
                answer.response.patch = Some(encoded);
                answer.response.patch_type = Some(PATCH_TYPE_JSON_PATCH.to_owned());
                answer.patch_operations = verdict.patch.0.len();
            }
            Ok(None) => {}
            Err(e) => {
                tracing::error!(uid = %req.uid, kind, name = %answer.name, error = %e, "refusing to send a bad patch");
                let warnings = std::mem::take(&mut answer.response.warnings);
                let mut failed = internal_error(&req.uid, kind, answer.name, &format!("internal error: {e}"));
                failed.response.warnings = warnings;
                return failed;
            }
        }
    }
    answer
}

fn internal_error(uid: &str, kind: &'static str, name: String, message: &str) -> Answer {
    Answer {
        response: AdmissionResponse::deny(uid, Status::failure(500, message)),
        outcome: Outcome::Error,
        kind,
        name,
        denied_by: Vec::new(),
        audited: Vec::new(),
        matched_policies: Vec::new(),
        denied_policies: Vec::new(),
        patch_operations: 0,
    }
}

fn denial_rules(verdict: &Verdict) -> Vec<String> {
    let mut rules: Vec<String> = verdict.errors.iter().map(|e| e.field.to_string()).collect();
    rules.extend(verdict.denials().map(|v| format!("{}/{}", v.policy, v.rule)));
    rules
}

/// Puts Audit-enforced violations into the response's audit annotations and returns them.
fn audit(verdict: &Verdict, response: &mut AdmissionResponse) -> Vec<(String, String)> {
    let audits: Vec<_> = verdict
        .violations
        .iter()
        .filter(|v| v.enforcement == Enforcement::Audit)
        .collect();
    if audits.is_empty() {
        return Vec::new();
    }
    let listed: Vec<_> = audits
        .iter()
        .map(|v| json!({"policy": v.policy, "rule": v.rule, "message": v.message}))
        .collect();
    response.audit_annotations.insert(
        AUDIT_ANNOTATION.to_owned(),
        serde_json::Value::Array(listed).to_string(),
    );
    audits.iter().map(|v| (v.policy.clone(), v.rule.clone())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::review;
    use kkp_crds::field::{FieldError, Path};
    use kkp_crds::policy::Violation;
    use serde_json::{Value, json};

    fn parsed(object: Value) -> ParsedRequest {
        let body = json!({"apiVersion": review::API_VERSION, "kind": review::KIND,
                          "request": {"uid": "u-1", "operation": "CREATE", "name": "c1", "object": object}});
        review::parse(body.to_string().as_bytes()).unwrap()
    }

    fn verdict(object: Option<Value>, patch: Value) -> Verdict {
        Verdict {
            kind: ResourceKind::Cluster,
            name: "c1".into(),
            namespace: None,
            object,
            patch: serde_json::from_value(patch).unwrap(),
            errors: vec![],
            warnings: vec![],
            violations: vec![],
            matched_policies: vec![],
            skipped: None,
        }
    }

    fn violation(enforcement: Enforcement, rule: &str) -> Violation {
        Violation {
            policy: "limits".into(),
            rule: rule.into(),
            message: format!("{rule} broken"),
            enforcement,
        }
    }

    #[test]
    fn audit_violations_become_audit_annotations_and_are_admitted() {
        let mut v = verdict(None, json!([]));
        v.violations = vec![violation(Enforcement::Audit, "r1"), violation(Enforcement::Warn, "r2")];
        let a = translate(Endpoint::Validate, &parsed(json!({})), &v);
        assert!(a.response.allowed);
        assert_eq!(a.audited, [("limits".to_string(), "r1".to_string())]);
        let listed: Value = serde_json::from_str(&a.response.audit_annotations[AUDIT_ANNOTATION]).unwrap();
        assert_eq!(
            listed,
            json!([{"policy": "limits", "rule": "r1", "message": "r1 broken"}])
        );
        assert_eq!(a.response.warnings.len(), 1, "the Warn violation is a warning");
        assert!(a.response.warnings[0].contains("r2 broken"));
    }

    #[test]
    fn policy_denials_are_403_and_name_their_rule() {
        let mut v = verdict(None, json!([]));
        v.violations = vec![violation(Enforcement::Deny, "no-aws")];
        let a = translate(Endpoint::Validate, &parsed(json!({})), &v);
        assert!(!a.response.allowed);
        let status = a.response.status.unwrap();
        assert_eq!(status.code, 403);
        assert_eq!(status.message, v.message());
        assert!(status.message.contains("no-aws broken"));
        assert_eq!(a.denied_by, ["limits/no-aws"]);
        assert_eq!(a.outcome, Outcome::Denied);
    }

    #[test]
    fn field_errors_are_400_with_every_error() {
        let mut v = verdict(None, json!([]));
        v.errors = vec![
            FieldError::required(Path::root("spec").child("a"), ""),
            FieldError::forbidden(Path::root("spec").child("b").index(2), "no"),
        ];
        let a = translate(Endpoint::Mutate, &parsed(json!({})), &v);
        let status = a.response.status.unwrap();
        assert_eq!(status.code, 400);
        assert!(status.message.contains("spec.a: Required value"), "{}", status.message);
        assert!(
            status.message.contains("spec.b[2]: Forbidden: no"),
            "{}",
            status.message
        );
        assert_eq!(a.denied_by, ["spec.a", "spec.b[2]"]);
        assert_eq!(a.response.patch, None, "a denial carries no patch");
    }

    #[test]
    fn a_patch_that_does_not_apply_is_an_internal_error() {
        let v = verdict(
            None,
            json!([{"op": "replace", "path": "/spec/nothing/here", "value": 1}]),
        );
        let a = translate(Endpoint::Mutate, &parsed(json!({"spec": {}})), &v);
        assert!(!a.response.allowed);
        assert_eq!(a.response.patch, None);
        assert_eq!(a.response.patch_type, None);
        let status = a.response.status.unwrap();
        assert_eq!(status.code, 500);
        assert!(
            status
                .message
                .starts_with("internal error: the defaulting patch does not apply"),
            "{}",
            status.message
        );
        assert_eq!(a.outcome, Outcome::Error);
    }

    #[test]
    fn a_validating_answer_never_carries_the_patch() {
        let v = verdict(
            Some(json!({"spec": {"x": 1}})),
            json!([{"op": "add", "path": "/spec/x", "value": 1}]),
        );
        let a = translate(Endpoint::Validate, &parsed(json!({"spec": {}})), &v);
        assert!(a.response.allowed);
        assert_eq!((a.response.patch, a.response.patch_type), (None, None));
        let m = translate(Endpoint::Mutate, &parsed(json!({"spec": {}})), &v);
        assert_eq!(m.response.patch_type.as_deref(), Some("JSONPatch"));
        assert_eq!(m.patch_operations, 1);
    }
}
