//! Turning an `AdmissionPolicy` into something quick to evaluate, and saying clearly what is wrong
//! with one that cannot be.

use std::sync::Arc;

use kube::ResourceExt;
use kube_cel::cel;
use semver::VersionReq;

use super::resource::{AdmissionPolicy, PolicyRules};
use super::violation::Enforcement;
use super::{quantity, sandbox};
use crate::providers::Provider;

/// Why a policy cannot be enforced. Each problem names the rule it is about.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .problems.join("; "))]
pub struct PolicyError {
    pub problems: Vec<String>,
}

/// A CEL rule, parsed once.
#[derive(Clone)]
pub struct CompiledCel {
    pub name: String,
    pub expression: String,
    pub message: String,
    pub program: Arc<cel::Program>,
}

impl std::fmt::Debug for CompiledCel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompiledCel")
            .field("name", &self.name)
            .field("expression", &self.expression)
            .finish()
    }
}

/// A policy ready to evaluate: no parsing left for the request path.
#[derive(Clone, Debug)]
pub struct CompiledPolicy {
    pub name: String,
    pub enforcement: Enforcement,
    pub selector: Option<k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector>,
    pub exempt_users: Vec<String>,
    pub exempt_groups: Vec<String>,
    pub rules: PolicyRules,
    pub versions: Option<VersionReq>,
    pub kubevirt_max_memory_bytes: Option<u128>,
    pub cel: Vec<CompiledCel>,
    /// `key` or `key=value` pairs, split once.
    pub required_labels: Vec<(String, Option<String>)>,
    pub required_annotations: Vec<(String, Option<String>)>,
    /// `spec.allowReferences`: restricted fields may be given by reference, unchecked.
    pub allow_references: bool,
}

fn split_requirements(items: Option<&Vec<String>>) -> Vec<(String, Option<String>)> {
    items
        .into_iter()
        .flatten()
        .map(|item| match item.split_once('=') {
            Some((k, v)) => (k.trim().to_owned(), Some(v.trim().to_owned())),
            None => (item.trim().to_owned(), None),
        })
        .collect()
}

/// Compiles a policy, collecting every problem rather than stopping at the first.
///
/// Compiling runs on a thread of its own with a large stack, and a panic in it (the CEL parser has
/// some) is caught and reported as the policy's error: no policy can take the process down.
pub fn compile(policy: &AdmissionPolicy) -> Result<CompiledPolicy, PolicyError> {
    let crashed = || PolicyError {
        problems: vec!["compiling the policy crashed; it is not enforced".into()],
    };
    std::thread::scope(|scope| {
        let compiling = std::thread::Builder::new()
            .name("policy-compile".into())
            .stack_size(sandbox::limits::STACK_BYTES)
            .spawn_scoped(scope, || {
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| compile_here(policy)))
                    .unwrap_or_else(|_| Err(crashed()))
            });
        match compiling {
            Ok(handle) => handle.join().unwrap_or_else(|_| Err(crashed())),
            Err(e) => Err(PolicyError {
                problems: vec![format!("no thread to compile the policy on: {e}")],
            }),
        }
    })
}

/// [`compile`] on the current thread.
fn compile_here(policy: &AdmissionPolicy) -> Result<CompiledPolicy, PolicyError> {
    let spec = &policy.spec;
    let rules = &spec.rules;
    let mut problems = Vec::new();

    let versions = rules
        .kubernetes_versions
        .as_deref()
        .and_then(|c| match VersionReq::parse(c) {
            Ok(req) => Some(req),
            Err(e) => {
                problems.push(format!(
                    "rules.kubernetesVersions: {c:?} is not a semver constraint: {e}"
                ));
                None
            }
        });
    for (i, p) in rules.providers.iter().flatten().enumerate() {
        if Provider::from_name(p).is_none() {
            let known: Vec<&str> = Provider::ALL.iter().map(|p| p.name()).collect();
            problems.push(format!(
                "rules.providers[{i}]: unknown provider {p:?}; known: {}",
                known.join(", ")
            ));
        }
    }
    let kubevirt_max_memory_bytes = rules
        .kubevirt
        .as_ref()
        .and_then(|k| k.max_memory.as_deref())
        .and_then(|m| match quantity::parse_bytes(m) {
            Some(b) => Some(b),
            None => {
                problems.push(format!(
                    "rules.kubevirt.maxMemory: {m:?} is not a quantity such as 16Gi"
                ));
                None
            }
        });
    for (key, value) in [("maxReplicas", rules.max_replicas), ("maxWorkers", rules.max_workers)] {
        if value.is_some_and(|v| v < 0) {
            problems.push(format!("rules.{key}: must not be negative"));
        }
    }
    let mut cel_rules = Vec::new();
    for (i, rule) in rules.cel.iter().flatten().enumerate() {
        if rule.name.trim().is_empty() {
            problems.push(format!("rules.cel[{i}].name: a rule needs a name"));
        }
        match sandbox::compile_expression(&rule.expression) {
            Ok(program) => cel_rules.push(CompiledCel {
                name: rule.name.clone(),
                expression: rule.expression.clone(),
                message: rule
                    .message
                    .clone()
                    .unwrap_or_else(|| format!("{} must hold", rule.expression)),
                program: Arc::new(program),
            }),
            Err(e) => problems.push(format!("rules.cel[{i}] ({}): {e}", rule.name)),
        }
    }
    if let Some(selector) = &spec.selector {
        for (i, expr) in selector.match_expressions.iter().flatten().enumerate() {
            if !["In", "NotIn", "Exists", "DoesNotExist"].contains(&expr.operator.as_str()) {
                problems.push(format!(
                    "selector.matchExpressions[{i}].operator: unknown operator {:?}",
                    expr.operator
                ));
            }
        }
    }
    if !problems.is_empty() {
        return Err(PolicyError { problems });
    }
    let exemptions = spec.exemptions.clone().unwrap_or_default();
    Ok(CompiledPolicy {
        name: policy.name_any(),
        enforcement: spec.enforcement.unwrap_or_default(),
        selector: spec.selector.clone(),
        exempt_users: exemptions.users.unwrap_or_default(),
        exempt_groups: exemptions.groups.unwrap_or_default(),
        rules: rules.clone(),
        versions,
        kubevirt_max_memory_bytes,
        cel: cel_rules,
        required_labels: split_requirements(rules.required_labels.as_ref()),
        required_annotations: split_requirements(rules.required_annotations.as_ref()),
        allow_references: spec.allow_references == Some(true),
    })
}
