//! Ratcheting: on UPDATE a policy denies only what the update introduces or changes. A Deny
//! violation that the stored object had as well (the same policy, rule and message, which names
//! the field and its value) is downgraded to a warning and recorded as an audit violation, so that
//! adding a policy does not block controllers' updates of the objects that already break it.
//!
//! A CEL rule cannot say which field it read, so its violation is kept only when `spec` is
//! unchanged: an update of labels, annotations or finalizers passes, a change of the spec is
//! checked in full.

use serde_json::Value;

use super::evaluate::{Evaluation, evaluate_all};
use super::set::PolicySet;
use super::violation::{Enforcement, Violation};
use crate::request::{ResourceKind, UserInfo};

/// What is appended to the message of a violation the update did not introduce.
pub const RATCHETED: &str = "(already so before this update: admitted, fix it with the next change)";

fn same(a: &Violation, b: &Violation) -> bool {
    a.policy == b.policy && a.rule == b.rule && a.message == b.message
}

/// Downgrades the Deny violations of `new` that `old` has too. `spec_unchanged` lets CEL rules'
/// violations ratchet as well.
pub fn ratchet(new: Evaluation, old: &Evaluation, spec_unchanged: bool) -> Evaluation {
    let mut violations = Vec::with_capacity(new.violations.len());
    for v in new.violations {
        let keep = v.enforcement == Enforcement::Deny
            && (spec_unchanged || !v.rule.starts_with("cel."))
            && old.violations.iter().any(|o| same(o, &v));
        if keep {
            let message = format!("{} {RATCHETED}", v.message);
            violations.push(Violation {
                message: message.clone(),
                enforcement: Enforcement::Warn,
                ..v.clone()
            });
            violations.push(Violation {
                message,
                enforcement: Enforcement::Audit,
                ..v
            });
        } else {
            violations.push(v);
        }
    }
    Evaluation {
        matched: new.matched,
        violations,
    }
}

/// The policies on one admission request: [`evaluate_all`] on the object, and on an UPDATE
/// (`old` given) ratcheted against the stored object.
pub fn evaluate_request(
    set: &PolicySet,
    kind: &ResourceKind,
    object: &Value,
    old: Option<&Value>,
    user: Option<&UserInfo>,
) -> Evaluation {
    let new = evaluate_all(set, kind, object, user);
    let Some(old) = old else { return new };
    if !new.violations.iter().any(|v| v.enforcement == Enforcement::Deny) {
        return new;
    }
    let before = evaluate_all(set, kind, old, user);
    ratchet(new, &before, object.get("spec") == old.get("spec"))
}
