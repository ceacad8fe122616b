//! Evaluating compiled policies against one object. No I/O, no allocation beyond the answer.

use std::sync::Arc;

use serde_json::Value;

use super::compile::CompiledPolicy;
use super::facts::{self, Facts, Given};
use super::sandbox::{self, runtime::Outcome};
use super::set::PolicySet;
use super::violation::Violation;
use crate::label_selector::selector_matches;
use crate::request::{ResourceKind, UserInfo};

impl CompiledPolicy {
    /// Whether the policy exempts this user, by name or group.
    pub fn exempts(&self, user: Option<&UserInfo>) -> bool {
        user.is_some_and(|u| {
            self.exempt_users.iter().any(|x| x == &u.username)
                || u.groups.iter().any(|g| self.exempt_groups.contains(g))
        })
    }

    /// Whether the policy applies to an object with these labels, asked by this user.
    pub fn applies(&self, labels: &std::collections::BTreeMap<String, String>, user: Option<&UserInfo>) -> bool {
        if self.exempts(user) {
            return false;
        }
        match &self.selector {
            None => true,
            Some(s)
                if s.match_labels.as_ref().is_none_or(|m| m.is_empty())
                    && s.match_expressions.as_ref().is_none_or(|m| m.is_empty()) =>
            {
                true
            }
            Some(s) => selector_matches(s, labels),
        }
    }
}

fn allowed_list(list: &[String]) -> String {
    list.join(", ")
}

/// A restricted field's value, or why there is none to check: given by reference (denied unless
/// the policy allows references) or not a valid value (always denied).
fn restricted<'v, T>(
    policy: &CompiledPolicy,
    out: &mut Vec<(String, String)>,
    rule: &str,
    field: &str,
    given: Option<&'v Given<T>>,
) -> Option<&'v T> {
    match given? {
        Given::Value(v) => Some(v),
        Given::Reference(how) => {
            if !policy.allow_references {
                out.push((
                    rule.to_owned(),
                    format!(
                        "{field} is given by reference ({how}), but this rule restricts it: write the value inline"
                    ),
                ));
            }
            None
        }
        Given::Invalid(raw) => {
            out.push((
                rule.to_owned(),
                format!("{field} {raw:?} is not a valid value for this rule"),
            ));
            None
        }
    }
}

/// Whether a policy reads the machines' provider spec.
fn reads_provider_spec(policy: &CompiledPolicy) -> bool {
    let r = &policy.rules;
    r.providers.is_some()
        || r.instance_sizes.is_some()
        || r.vsphere.is_some()
        || r.kubevirt.is_some()
        || r.forbid_inline_credentials == Some(true)
}

/// The replica rules, on a MachineDeployment or its `scale` subresource (`machine_deployment`) or
/// on a Cluster's initial machine deployment request.
pub(super) fn replica_rules(
    policy: &CompiledPolicy,
    replicas: Option<i64>,
    machine_deployment: bool,
    out: &mut Vec<(String, String)>,
) {
    let r = &policy.rules;
    if let (Some(max), Some(replicas), true) = (r.max_replicas, replicas, machine_deployment)
        && replicas > max
    {
        out.push((
            "maxReplicas".into(),
            format!("{replicas} replicas exceed the maximum of {max}"),
        ));
    }
    if let (Some(max), Some(replicas)) = (r.max_workers, replicas)
        && replicas > max
    {
        out.push((
            "maxWorkers".into(),
            format!("{replicas} workers exceed the maximum of {max} per cluster"),
        ));
    }
}

/// Every rule of one policy that the object breaks; `cel` is what each of its CEL rules said.
fn check(
    policy: &CompiledPolicy,
    kind: &ResourceKind,
    facts: &Facts<'_>,
    cel: &[Outcome],
    credentials: &[String],
) -> Vec<(String, String)> {
    let r = &policy.rules;
    let mut out: Vec<(String, String)> = Vec::new();
    let mut deny = |rule: &str, message: String| out.push((rule.to_owned(), message));

    let not_in = |value: Option<&str>, list: &Option<Vec<String>>| -> Option<String> {
        let list = list.as_ref()?;
        let v = value?;
        (!list.iter().any(|x| x == v)).then(|| allowed_list(list))
    };
    if let Some(allowed) = not_in(facts.provider.as_deref(), &r.providers) {
        deny(
            "providers",
            format!(
                "provider {:?} is not allowed; allowed: {allowed}",
                facts.provider.as_deref().unwrap_or("")
            ),
        );
    }
    if let Some(allowed) = not_in(facts.datacenter, &r.datacenters) {
        deny(
            "datacenters",
            format!(
                "datacenter {:?} is not allowed; allowed: {allowed}",
                facts.datacenter.unwrap_or("")
            ),
        );
    }
    if let Some(allowed) = not_in(facts.cni_type, &r.cni_types) {
        deny(
            "cniTypes",
            format!(
                "CNI {:?} is not allowed; allowed: {allowed}",
                facts.cni_type.unwrap_or("")
            ),
        );
    }
    if let Some(allowed) = not_in(facts.expose_strategy, &r.expose_strategies) {
        deny(
            "exposeStrategies",
            format!(
                "expose strategy {:?} is not allowed; allowed: {allowed}",
                facts.expose_strategy.unwrap_or("")
            ),
        );
    }
    if let (Some(req), Some(v)) = (&policy.versions, facts.version) {
        let what = if matches!(kind, ResourceKind::Cluster) {
            "Kubernetes version"
        } else {
            "kubelet version"
        };
        match crate::versions::parse(v) {
            Ok(parsed) if req.matches(&parsed) => {}
            _ => deny(
                "kubernetesVersions",
                format!("{what} {v:?} is not allowed; allowed: {req}"),
            ),
        }
    }
    if facts.provider_spec_referenced && matches!(kind, ResourceKind::MachineDeployment) && reads_provider_spec(policy)
    {
        deny(
            "providerSpec",
            "the machines' provider spec comes from providerSpec.valueFrom, which policies cannot read: write providerSpec.value inline".into(),
        );
    }
    if let (Some(sizes), Some(provider), Some((size, field))) =
        (&r.instance_sizes, &facts.provider, &facts.instance_size)
    {
        let list = match provider.as_str() {
            "aws" => &sizes.aws,
            "azure" => &sizes.azure,
            "gcp" => &sizes.gcp,
            "hetzner" => &sizes.hetzner,
            "openstack" => &sizes.openstack,
            "digitalocean" => &sizes.digitalocean,
            _ => &None,
        };
        if list.is_some() {
            let rule = format!("instanceSizes.{provider}");
            let mut found = Vec::new();
            if let Some(size) = restricted(policy, &mut found, &rule, field, Some(size))
                && let Some(allowed) = not_in(Some(size), list)
            {
                found.push((rule, format!("{field} {size:?} is not allowed; allowed: {allowed}")));
            }
            for (rule, message) in found {
                deny(&rule, message);
            }
        }
    }
    let provider = facts.provider.as_deref();
    let mut found = Vec::new();
    if let (Some(limits), Some("vsphere")) = (&r.vsphere, provider) {
        if let Some(max) = limits.max_cpus
            && let Some(cpus) = restricted(policy, &mut found, "vsphere.maxCPUs", "cpus", facts.cpus.as_ref())
            && *cpus > max as f64
        {
            found.push((
                "vsphere.maxCPUs".into(),
                format!("{cpus} CPUs exceed the maximum of {max}"),
            ));
        }
        if let Some(max) = limits.max_memory_mb
            && let Some(mem) = restricted(
                policy,
                &mut found,
                "vsphere.maxMemoryMB",
                "memoryMB",
                facts.memory_mb.as_ref(),
            )
            && *mem > max
        {
            found.push((
                "vsphere.maxMemoryMB".into(),
                format!("{mem} MB of memory exceed the maximum of {max} MB"),
            ));
        }
    }
    if let (Some(limits), Some("kubevirt")) = (&r.kubevirt, provider) {
        if let Some(max) = limits.max_cpus
            && let Some(cpus) = restricted(policy, &mut found, "kubevirt.maxCPUs", "cpus", facts.cpus.as_ref())
            && *cpus > max as f64
        {
            found.push((
                "kubevirt.maxCPUs".into(),
                format!("{cpus} CPUs exceed the maximum of {max}"),
            ));
        }
        if let Some(max) = policy.kubevirt_max_memory_bytes
            && let Some(mem) = restricted(
                policy,
                &mut found,
                "kubevirt.maxMemory",
                "memory",
                facts.memory_bytes.as_ref(),
            )
            && *mem > max
        {
            found.push((
                "kubevirt.maxMemory".into(),
                format!(
                    "memory exceeds the maximum of {}",
                    limits.max_memory.as_deref().unwrap_or("")
                ),
            ));
        }
    }
    let mut replicas = Vec::new();
    replica_rules(
        policy,
        facts.replicas,
        matches!(kind, ResourceKind::MachineDeployment),
        &mut replicas,
    );
    for (rule, message) in found.into_iter().chain(replicas) {
        deny(&rule, message);
    }
    for (rule, have, required) in [
        ("requiredLabels", &facts.labels, &policy.required_labels),
        ("requiredAnnotations", &facts.annotations, &policy.required_annotations),
    ] {
        for (key, value) in required {
            let ok = match value {
                Some(v) => have.get(key) == Some(v),
                None => have.contains_key(key),
            };
            if !ok {
                let what = if rule == "requiredLabels" {
                    "label"
                } else {
                    "annotation"
                };
                let expected = value
                    .as_ref()
                    .map(|v| format!("{key}={v}"))
                    .unwrap_or_else(|| key.clone());
                deny(rule, format!("the {what} {expected} is required"));
            }
        }
    }
    if r.forbid_inline_credentials == Some(true) && !facts.inline_credentials.is_empty() {
        deny(
            "forbidInlineCredentials",
            format!(
                "credentials must come from a reference, not inline: {}",
                facts.inline_credentials.join(", ")
            ),
        );
    }
    for (rule, outcome) in policy.cel.iter().zip(cel) {
        let message = match outcome {
            Outcome::Held => continue,
            Outcome::Broken => rule.message.clone(),
            Outcome::NotBool(t) => format!("the expression must return a bool, it returned a {t}"),
            Outcome::Failed(e) => format!(
                "{} (the expression failed: {})",
                rule.message,
                facts::redact(e.clone(), credentials)
            ),
            Outcome::OverBudget(u64::MAX) => format!("{} (not evaluated: its cost has no bound)", rule.message),
            Outcome::OverBudget(c) => format!(
                "{} (not evaluated: its estimated cost over this object, {c}, is over the budget of {})",
                rule.message,
                sandbox::limits::COST_BUDGET
            ),
            Outcome::TimedOut => format!(
                "{} (the expression did not finish within {:?})",
                rule.message,
                sandbox::limits::EVALUATION_DEADLINE
            ),
            Outcome::Busy => format!("{} (not evaluated: too many CEL evaluations are running)", rule.message),
            Outcome::Crashed => format!("{} (the CEL evaluator crashed)", rule.message),
        };
        deny(&format!("cel.{}", rule.name), message);
    }
    out
}

/// What the policies say about one object: the policies that selected it, and every rule broken.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Evaluation {
    /// The names of the policies that selected the object and did not exempt the user.
    pub matched: Vec<String>,
    pub violations: Vec<Violation>,
}

/// Evaluates every policy that selects the object and does not exempt the user.
pub fn evaluate_all(set: &PolicySet, kind: &ResourceKind, object: &Value, user: Option<&UserInfo>) -> Evaluation {
    let mut out = Evaluation::default();
    if set.is_empty() || !kind.is_ours() {
        return out;
    }
    let facts = Facts::of(kind, object);
    let applying: Vec<&CompiledPolicy> = set.iter().filter(|p| p.applies(&facts.selector_labels, user)).collect();
    let programs: Vec<Arc<kube_cel::cel::Program>> = applying
        .iter()
        .flat_map(|p| p.cel.iter().map(|c| Arc::clone(&c.program)))
        .collect();
    let outcomes = sandbox::runtime::evaluate(&kind.to_string(), object, &programs);
    let credentials = if outcomes.iter().any(|o| matches!(o, Outcome::Failed(_))) {
        facts::credential_values(kind, object)
    } else {
        Vec::new()
    };
    let mut next = 0;
    for policy in applying {
        out.matched.push(policy.name.clone());
        let cel = outcomes.get(next..next + policy.cel.len()).unwrap_or(&[]);
        next += policy.cel.len();
        for (rule, message) in check(policy, kind, &facts, cel, &credentials) {
            out.violations.push(Violation {
                policy: policy.name.clone(),
                rule,
                message,
                enforcement: policy.enforcement,
            });
        }
    }
    out
}

/// Every violation of every policy that selects the object and does not exempt the user.
pub fn evaluate(set: &PolicySet, kind: &ResourceKind, object: &Value, user: Option<&UserInfo>) -> Vec<Violation> {
    evaluate_all(set, kind, object, user).violations
}
