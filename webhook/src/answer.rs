//! Turns one parsed AdmissionRequest into its AdmissionResponse by asking the engine. Nothing here
//! decides validity or defaults: the engine's [`Verdict`] does, this only translates it.

use std::panic::{AssertUnwindSafe, catch_unwind};

use kkp_crds::admission::{self, MAX_REPORTED_ERRORS, Verdict};
use kkp_crds::context::Context;
use kkp_crds::field::truncated;
use kkp_crds::policy::Enforcement;
use kkp_crds::request::{Operation, Request, ResourceKind};
use serde_json::json;

use crate::config;
use crate::metrics::Outcome;
use crate::patch;
use crate::review::{AdmissionResponse, PATCH_TYPE_JSON_PATCH, ParsedRequest, Status};

/// The audit annotation that lists the Audit-enforced policy violations of an admitted object.
pub const AUDIT_ANNOTATION: &str = "policy-audit-violations";
/// The audit annotation that says why the built-in rules would have denied an object admitted
/// with `--enforcement=audit`.
pub const WOULD_DENY_ANNOTATION: &str = "kkp-webhook.kubectl-kkp.io/would-deny";

/// Warnings in one response at most; the apiserver shows each to the user.
pub const MAX_WARNINGS: usize = 20;
/// The longest warning, in bytes (the apiserver cuts longer ones at 256 characters anyway).
pub const MAX_WARNING_BYTES: usize = 512;
/// The longest audit annotation value, in bytes.
pub const MAX_ANNOTATION_BYTES: usize = 8 * 1024;
/// In audit mode, errors spelled out as warnings; the annotation and the metric count them all.
pub const WOULD_DENY_WARNINGS: usize = 5;

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
    /// In audit mode, the field paths of the errors that would have denied the object.
    pub would_deny: Vec<String>,
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

/// Answers a review for one endpoint in one context, denying what the built-in rules find
/// invalid. Never panics: an engine failure becomes an internal-error denial.
pub fn answer(endpoint: Endpoint, parsed: &ParsedRequest, ctx: &Context) -> Answer {
    answer_with(endpoint, parsed, ctx, config::Enforcement::Deny)
}

/// [`answer`], with the built-in rules' errors denying the object or, in audit mode, admitting it
/// with what would have denied it in warnings, the audit annotation and [`Answer::would_deny`].
/// AdmissionPolicy violations are enforced as their policies say, in either mode.
pub fn answer_with(
    endpoint: Endpoint,
    parsed: &ParsedRequest,
    ctx: &Context,
    enforcement: config::Enforcement,
) -> Answer {
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
    let mut verdict = match evaluated {
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
    if enforcement == config::Enforcement::Deny || verdict.errors.is_empty() {
        return translate(endpoint, parsed, &verdict);
    }
    // Audit mode: the errors are reported, not enforced. What they would have said is the
    // message of the verdict with its errors and without the policy denials.
    let policy_violations = std::mem::take(&mut verdict.violations);
    let would_have_said = verdict.message();
    let errors = std::mem::take(&mut verdict.errors);
    verdict.violations = policy_violations;
    let mut answer = translate(endpoint, parsed, &verdict);
    let shown = errors.len().min(WOULD_DENY_WARNINGS);
    let mut warnings: Vec<String> = errors[..shown]
        .iter()
        .map(|e| format!("kkp-webhook would deny this in deny mode: {e}"))
        .collect();
    if errors.len() > shown {
        warnings.push(format!(
            "kkp-webhook would deny this in deny mode: ... and {} more",
            errors.len() - shown
        ));
    }
    warnings.append(&mut answer.response.warnings);
    answer.response.warnings = bounded_warnings(warnings);
    answer.response.audit_annotations.insert(
        WOULD_DENY_ANNOTATION.to_owned(),
        truncated(&would_have_said, MAX_ANNOTATION_BYTES).into_owned(),
    );
    answer.would_deny = errors
        .iter()
        .take(MAX_REPORTED_ERRORS)
        .map(|e| e.field.to_string())
        .collect();
    answer
}

/// At most [`MAX_WARNINGS`] warnings of at most [`MAX_WARNING_BYTES`] each.
fn bounded_warnings(mut warnings: Vec<String>) -> Vec<String> {
    if warnings.len() > MAX_WARNINGS {
        let more = warnings.len() - (MAX_WARNINGS - 1);
        warnings.truncate(MAX_WARNINGS - 1);
        warnings.push(format!("... and {more} more warnings"));
    }
    for w in &mut warnings {
        if w.len() > MAX_WARNING_BYTES {
            *w = truncated(w, MAX_WARNING_BYTES).into_owned();
        }
    }
    warnings
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
    response.warnings = bounded_warnings(verdict.all_warnings());
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
        would_deny: Vec::new(),
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
        would_deny: Vec::new(),
        patch_operations: 0,
    }
}

/// The rules behind a denial, as many as the message lists.
fn denial_rules(verdict: &Verdict) -> Vec<String> {
    let mut rules: Vec<String> = verdict
        .errors
        .iter()
        .take(MAX_REPORTED_ERRORS)
        .map(|e| e.field.to_string())
        .collect();
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
    let listed = serde_json::Value::Array(listed).to_string();
    response.audit_annotations.insert(
        AUDIT_ANNOTATION.to_owned(),
        truncated(&listed, MAX_ANNOTATION_BYTES).into_owned(),
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
            object,
            patch: serde_json::from_value(patch).unwrap(),
            ..Verdict::for_object(ResourceKind::Cluster, "c1", None)
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
    fn warnings_and_denial_rules_are_bounded() {
        let mut v = verdict(None, json!([]));
        v.warnings = (0..1000).map(|i| format!("warning {i} {}", "w".repeat(2000))).collect();
        v.errors = (0..1000)
            .map(|i| FieldError::required(Path::root("spec").child(&format!("f{i}")), ""))
            .collect();
        let a = translate(Endpoint::Validate, &parsed(json!({})), &v);
        assert_eq!(a.response.warnings.len(), MAX_WARNINGS);
        assert!(a.response.warnings.iter().all(|w| w.len() <= MAX_WARNING_BYTES));
        assert_eq!(a.response.warnings.last().unwrap(), "... and 981 more warnings");
        assert_eq!(a.denied_by.len(), MAX_REPORTED_ERRORS);
        let message = a.response.status.unwrap().message;
        assert!(message.ends_with("... and 900 more]"), "{message}");
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
