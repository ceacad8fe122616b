//! `kubectl scale machinedeployment` goes through the `scale` subresource: the review carries an
//! `autoscaling/v1` `Scale` (`spec.replicas`), not the MachineDeployment, so the replica rules
//! (`maxReplicas`, `maxWorkers`) are applied to it here.
//!
//! A Scale has no labels. When the caller knows the MachineDeployment's selector labels it passes
//! them and the policies select as usual; when it does not, every policy that does not exempt the
//! user applies, whatever its selector: a scale request is never judged by fewer policies than
//! the MachineDeployment would be.

use std::collections::BTreeMap;

use serde_json::Value;

use super::evaluate::{Evaluation, replica_rules};
use super::ratchet::ratchet;
use super::set::PolicySet;
use super::violation::Violation;
use crate::request::UserInfo;

/// The replicas a Scale asks for.
pub fn scale_replicas(scale: &Value) -> i64 {
    scale.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(0)
}

fn evaluate_one(
    set: &PolicySet,
    scale: &Value,
    labels: Option<&BTreeMap<String, String>>,
    user: Option<&UserInfo>,
) -> Evaluation {
    let replicas = scale_replicas(scale);
    let mut out = Evaluation::default();
    for policy in set.iter() {
        if policy.rules.max_replicas.is_none() && policy.rules.max_workers.is_none() {
            continue;
        }
        let applies = match labels {
            Some(labels) => policy.applies(labels, user),
            None => !policy.exempts(user),
        };
        if !applies {
            continue;
        }
        out.matched.push(policy.name.clone());
        let mut found = Vec::new();
        replica_rules(policy, Some(replicas), true, &mut found);
        out.violations
            .extend(found.into_iter().map(|(rule, message)| Violation {
                policy: policy.name.clone(),
                rule,
                message,
                enforcement: policy.enforcement,
            }));
    }
    out
}

/// The replica rules on a scale request (`old` is the stored Scale), ratcheted like any update:
/// a replica count that already broke a rule and does not change is admitted with a warning.
pub fn evaluate_scale(
    set: &PolicySet,
    scale: &Value,
    old: Option<&Value>,
    labels: Option<&BTreeMap<String, String>>,
    user: Option<&UserInfo>,
) -> Evaluation {
    let new = evaluate_one(set, scale, labels, user);
    match old {
        Some(old) => ratchet(new, &evaluate_one(set, old, labels, user), true),
        None => new,
    }
}
