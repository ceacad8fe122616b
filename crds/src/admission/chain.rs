//! The admission chain on one object: [`mutate`] (defaulting, as a patch), [`validate`] (rules and
//! policies) and [`admit`] (both, the way the apiserver runs them).

use serde_json::Value;

use super::verdict::Verdict;
use crate::cluster::Cluster;
use crate::context::Context;
use crate::decode::{Undecodable, decode};
use crate::defaulting::{self, Phase};
use crate::field::{FieldError, Path};
use crate::machine::MachineDeployment;
use crate::policy;
use crate::request::{Operation, Request, ResourceKind};
use crate::validation::{self, Findings};

/// The deepest nesting of an object the engine looks at. The apiserver's JSON parser and ours stop
/// at about this depth anyway; the check keeps objects built in code to the same bound.
pub const MAX_NESTING: usize = 128;

/// The stored object of an update, when it decodes; a stored object that does not is not the
/// user's to fix, so the update rules are skipped for it.
fn decodes<T: serde::de::DeserializeOwned>(value: &Value) -> Option<T> {
    T::deserialize(value).ok()
}

fn being_deleted(object: &Value) -> bool {
    object
        .pointer("/metadata/deletionTimestamp")
        .is_some_and(|v| !v.is_null())
}

/// Steps that let an object through untouched, or `None` when it must be checked.
fn precheck<'a>(req: &Request<'a>) -> Result<(ResourceKind, &'a Value), Box<Verdict>> {
    let subject = req.object.or(req.old_object);
    let kind = subject.map(ResourceKind::of).unwrap_or(ResourceKind::Other {
        api_version: String::new(),
        kind: String::new(),
    });
    let verdict = Verdict::new(kind.clone(), subject);
    if matches!(req.operation, Operation::Delete | Operation::Connect) {
        return Err(Box::new(verdict.skip(format!(
            "{} requests are not checked",
            format!("{:?}", req.operation).to_uppercase()
        ))));
    }
    let Some(object) = req.object else {
        return Err(Box::new(verdict.skip("no object in the request")));
    };
    if !kind.is_ours() {
        let mut v = verdict.skip(format!(
            "{} is not a KKP Cluster or machine-controller MachineDeployment",
            kind.qualified()
        ));
        v.warnings.push(format!(
            "kkp: {} is not an object this webhook checks; allowed unchanged",
            kind.qualified()
        ));
        return Err(Box::new(v));
    }
    if being_deleted(object) {
        return Err(Box::new(verdict.skip("the object is being deleted")));
    }
    if let Some(at) = crate::decode::deeper_than(object, MAX_NESTING) {
        let mut v = verdict;
        v.errors.push(FieldError::forbidden(
            at,
            format!("nested deeper than {MAX_NESTING} levels"),
        ));
        return Err(Box::new(v));
    }
    Ok((kind, object))
}

/// Defaulting only, as the mutating webhook does: the defaulted object and its patch. Objects that
/// do not decode come back with every field of the wrong type and no patch.
pub fn mutate(req: &Request<'_>, ctx: &Context) -> Verdict {
    mutate_or_explain(req, ctx).0
}

/// [`mutate`], and for an object that does not decode, why not.
fn mutate_or_explain(req: &Request<'_>, ctx: &Context) -> (Verdict, Option<Box<Undecodable>>) {
    let (kind, object) = match precheck(req) {
        Ok(x) => x,
        Err(v) => return (*v, None),
    };
    let mut verdict = Verdict::new(kind.clone(), Some(object));
    let phase = if req.operation == Operation::Create {
        Phase::Create
    } else {
        Phase::Update
    };
    let defaulted = match kind {
        ResourceKind::Cluster => decode::<Cluster>(&kind, object).map(|mut c| {
            let old = req.old_object.and_then(decodes::<Cluster>);
            defaulting::default_cluster(&mut c, old.as_ref(), ctx, phase);
            serde_json::to_value(c)
        }),
        ResourceKind::MachineDeployment => decode::<MachineDeployment>(&kind, object).map(|mut md| {
            defaulting::default_machine_deployment(&mut md, ctx.cluster_version.as_ref());
            serde_json::to_value(md)
        }),
        ResourceKind::Other { .. } => {
            verdict.errors.push(FieldError::forbidden(
                Path::default(),
                "not an object this engine checks",
            ));
            return (verdict, None);
        }
    };
    match defaulted {
        Err(broken) => {
            verdict.errors = broken.errors.clone();
            return (verdict, Some(broken));
        }
        Ok(Err(e)) => verdict
            .errors
            .push(FieldError::invalid(Path::default(), Value::Null, e.to_string())),
        Ok(Ok(mut out)) => {
            let annotations = out.pointer("/metadata/annotations").cloned();
            keep_untyped_parts(object, &mut out);
            if kind == ResourceKind::Cluster {
                keep_added_annotations(annotations, &mut out);
            }
            verdict.patch = super::patch::diff(object, &out);
            verdict.object = Some(out);
        }
    }
    (verdict, None)
}

/// Keeps everything outside `spec` (and a MachineDeployment's namespace) exactly as sent, so the
/// patch only says what defaulting changed.
fn keep_untyped_parts(original: &Value, out: &mut Value) {
    let (Some(orig), Some(new)) = (original.as_object(), out.as_object_mut()) else {
        return;
    };
    let namespace = new.get("metadata").and_then(|m| m.get("namespace")).cloned();
    for (k, v) in orig {
        if k != "spec" {
            new.insert(k.clone(), v.clone());
        }
    }
    new.retain(|k, _| k == "spec" || orig.contains_key(k));
    if let (Some(ns), Some(meta)) = (namespace, new.get_mut("metadata").and_then(Value::as_object_mut)) {
        meta.entry("namespace").or_insert(ns);
    }
}

/// Cluster defaulting may add annotations (KKP marks clusters that move to the external cloud
/// controller manager); they survive [`keep_untyped_parts`].
fn keep_added_annotations(annotations: Option<Value>, out: &mut Value) {
    let Some(Value::Object(added)) = annotations else {
        return;
    };
    let Some(meta) = out.get_mut("metadata").and_then(Value::as_object_mut) else {
        return;
    };
    let target = meta
        .entry("annotations")
        .or_insert_with(|| Value::Object(Default::default()));
    if target.is_null() {
        *target = Value::Object(Default::default());
    }
    if let Some(target) = target.as_object_mut() {
        for (k, v) in added {
            target.entry(k).or_insert(v);
        }
    }
}

/// Validation and policies on the object as it is, as the validating webhook does.
pub fn validate(req: &Request<'_>, ctx: &Context) -> Verdict {
    let (kind, object) = match precheck(req) {
        Ok(x) => x,
        Err(v) => return *v,
    };
    let mut verdict = Verdict::new(kind.clone(), Some(object));
    let creating = req.operation == Operation::Create;
    let old = req.old_object.filter(|_| req.operation == Operation::Update);
    let findings = match rule_findings(&kind, object, old, ctx, creating) {
        Ok(findings) => findings,
        Err(broken) => {
            let mut findings = Findings {
                errors: broken.errors.clone(),
                warnings: vec![],
            };
            // The rules still speak about the fields that are fine.
            if let Some(stripped) = &broken.stripped
                && let Ok(rest) = rule_findings(&kind, stripped, old, ctx, creating)
            {
                findings
                    .errors
                    .extend(rest.errors.into_iter().filter(|e| broken.keeps(e)));
                findings.warnings = rest.warnings;
            }
            findings
        }
    };
    verdict.errors = dedup(findings.errors);
    verdict.warnings = findings.warnings;
    let evaluation = policy::evaluate_request(&ctx.policies, &kind, object, old, req.user);
    verdict.violations = evaluation.violations;
    verdict.matched_policies = evaluation.matched;
    verdict
}

/// The validation rules on an object, or why it does not decode.
fn rule_findings(
    kind: &ResourceKind,
    object: &Value,
    old: Option<&Value>,
    ctx: &Context,
    creating: bool,
) -> Result<Findings, Box<Undecodable>> {
    Ok(match kind {
        ResourceKind::Cluster => {
            let cluster = decode::<Cluster>(kind, object)?;
            let mut f = validation::validate_cluster(&cluster, ctx, creating);
            if let Some(old) = old.and_then(decodes::<Cluster>) {
                f.extend(validation::validate_cluster_update(&old, &cluster, ctx));
            }
            f
        }
        ResourceKind::MachineDeployment => {
            let md = decode::<MachineDeployment>(kind, object)?;
            let old = old.and_then(decodes::<MachineDeployment>);
            validation::validate_machine_deployment(&md, old.as_ref(), ctx.cluster_version.as_ref())
        }
        ResourceKind::Other { .. } => Findings::default(),
    })
}

fn dedup(mut errors: Vec<FieldError>) -> Vec<FieldError> {
    let mut seen = std::collections::HashSet::new();
    errors.retain(|e| seen.insert(e.to_string()));
    errors
}

/// The whole admission chain: default, then validate the defaulted object.
pub fn admit(req: &Request<'_>, ctx: &Context) -> Verdict {
    let (mutated, broken) = mutate_or_explain(req, ctx);
    let Some(defaulted) = mutated.object.as_ref() else {
        return match broken {
            Some(broken) => admit_undecodable(req, ctx, mutated, &broken),
            None => mutated,
        };
    };
    let next = Request {
        object: Some(defaulted),
        ..*req
    };
    let mut verdict = validate(&next, ctx);
    verdict.object = mutated.object.clone();
    verdict.patch = mutated.patch;
    verdict.warnings.splice(0..0, mutated.warnings);
    verdict
}

/// The chain for an object that does not decode: its type errors, what the chain says about the
/// rest of it (the object without the offending fields, defaulted and validated), and the policies
/// on the object as sent. No defaulted object and no patch.
fn admit_undecodable(req: &Request<'_>, ctx: &Context, mut verdict: Verdict, broken: &Undecodable) -> Verdict {
    if let Some(stripped) = &broken.stripped {
        let rest = admit(
            &Request {
                object: Some(stripped),
                ..*req
            },
            ctx,
        );
        verdict
            .errors
            .extend(rest.errors.into_iter().filter(|e| broken.keeps(e)));
        verdict.errors = dedup(std::mem::take(&mut verdict.errors));
        verdict.warnings.extend(rest.warnings);
    }
    if let Some(object) = req.object {
        let old = req.old_object.filter(|_| req.operation == Operation::Update);
        let evaluation = policy::evaluate_request(&ctx.policies, &verdict.kind, object, old, req.user);
        verdict.violations = evaluation.violations;
        verdict.matched_policies = evaluation.matched;
    }
    verdict
}

#[cfg(test)]
mod capping_tests {
    use serde_json::{Map, json};

    use super::*;
    use crate::admission::{MAX_MESSAGE_BYTES, MAX_REPORTED_ERRORS};

    /// A Cluster whose `spec.features` holds `n` entries of the wrong type.
    fn wrong_typed_features(n: usize) -> Value {
        let features: Map<String, Value> = (0..n).map(|i| (format!("feature{i}"), json!("yes"))).collect();
        json!({
            "apiVersion": "kubermatic.k8c.io/v1", "kind": "Cluster",
            "metadata": { "name": "abcd123456" },
            "spec": { "humanReadableName": "demo", "version": "1.35.7",
                      "cloud": { "dc": "hetzner-fsn1", "hetzner": { "token": "x" } },
                      "features": features }
        })
    }

    #[test]
    fn denial_messages_list_the_first_errors_and_count_the_rest() {
        let object = wrong_typed_features(1_000);
        let verdict = validate(&Request::create(&object), &Context::default());
        assert!(
            verdict.errors.len() >= 1_000,
            "every error is kept: {}",
            verdict.errors.len()
        );
        let message = verdict.message();
        assert!(message.len() <= MAX_MESSAGE_BYTES, "{}", message.len());
        let listed = message.matches("must be of type boolean").count();
        assert_eq!(listed, MAX_REPORTED_ERRORS, "{message}");
        let more = verdict.errors.len() - MAX_REPORTED_ERRORS;
        assert!(message.ends_with(&format!(", ... and {more} more]")), "{message}");
    }

    #[test]
    fn a_short_list_is_not_cut() {
        let object = wrong_typed_features(3);
        let message = validate(&Request::create(&object), &Context::default()).message();
        assert_eq!(message.matches("must be of type boolean").count(), 3, "{message}");
        assert!(!message.contains("more]"), "{message}");
    }

    #[test]
    fn objects_nested_too_deep_are_refused_before_anything_walks_them() {
        let mut object = wrong_typed_features(0);
        let mut deep = json!(1);
        for _ in 0..MAX_NESTING {
            deep = json!({ "x": deep });
        }
        object["spec"]["cloud"]["hetzner"]["extra"] = deep;
        for verdict in [
            validate(&Request::create(&object), &Context::default()),
            mutate(&Request::create(&object), &Context::default()),
            admit(&Request::create(&object), &Context::default()),
        ] {
            assert!(!verdict.allowed());
            assert_eq!(verdict.errors.len(), 1, "{:?}", verdict.errors);
            assert!(verdict.errors[0].to_string().contains("nested deeper than 128 levels"));
            assert!(
                verdict.errors[0]
                    .field
                    .as_str()
                    .starts_with("spec.cloud.hetzner.extra.x.x")
            );
        }
    }
}
