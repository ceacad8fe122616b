//! Evaluating compiled policies against one object. No I/O, no allocation beyond the answer.

use kube_cel::{KubeCelExt, cel};
use serde_json::Value;

use super::compile::CompiledPolicy;
use super::facts::Facts;
use super::{PolicySet, Violation};
use crate::admission::{ResourceKind, UserInfo};
use crate::validation::selector_matches;

impl CompiledPolicy {
    /// Whether the policy applies to an object with these labels, asked by this user.
    pub fn applies(&self, labels: &std::collections::BTreeMap<String, String>, user: Option<&UserInfo>) -> bool {
        if let Some(u) = user
            && (self.exempt_users.iter().any(|x| x == &u.username)
                || u.groups.iter().any(|g| self.exempt_groups.contains(g)))
        {
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

/// Every rule of one policy that the object breaks.
fn check(
    policy: &CompiledPolicy,
    kind: &ResourceKind,
    object: &Value,
    facts: &Facts<'_>,
    cel_context: &mut Option<CelContext>,
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
        if let Some(allowed) = not_in(Some(size), list) {
            deny(
                &format!("instanceSizes.{provider}"),
                format!("{field} {size:?} is not allowed; allowed: {allowed}"),
            );
        }
    }
    let provider = facts.provider.as_deref();
    if let (Some(limits), Some("vsphere")) = (&r.vsphere, provider) {
        if let (Some(max), Some(cpus)) = (limits.max_cpus, facts.cpus)
            && cpus > max as f64
        {
            deny("vsphere.maxCPUs", format!("{cpus} CPUs exceed the maximum of {max}"));
        }
        if let (Some(max), Some(mem)) = (limits.max_memory_mb, facts.memory_mb)
            && mem > max
        {
            deny(
                "vsphere.maxMemoryMB",
                format!("{mem} MB of memory exceed the maximum of {max} MB"),
            );
        }
    }
    if let (Some(limits), Some("kubevirt")) = (&r.kubevirt, provider) {
        if let (Some(max), Some(cpus)) = (limits.max_cpus, facts.cpus)
            && cpus > max as f64
        {
            deny("kubevirt.maxCPUs", format!("{cpus} CPUs exceed the maximum of {max}"));
        }
        if let (Some(max), Some(mem)) = (policy.kubevirt_max_memory_bytes, facts.memory_bytes)
            && mem > max
        {
            deny(
                "kubevirt.maxMemory",
                format!(
                    "memory exceeds the maximum of {}",
                    limits.max_memory.as_deref().unwrap_or("")
                ),
            );
        }
    }
    if let (Some(max), Some(replicas), ResourceKind::MachineDeployment) = (r.max_replicas, facts.replicas, kind)
        && replicas > max
    {
        deny(
            "maxReplicas",
            format!("{replicas} replicas exceed the maximum of {max}"),
        );
    }
    if let (Some(max), Some(replicas)) = (r.max_workers, facts.replicas)
        && replicas > max
    {
        deny(
            "maxWorkers",
            format!("{replicas} workers exceed the maximum of {max} per cluster"),
        );
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
    if !policy.cel.is_empty() {
        let ctx = cel_context.get_or_insert_with(|| CelContext::new(kind, object));
        check_cel(policy, ctx, &mut out);
    }
    out
}

/// The CEL context for one object: the Kubernetes functions and the object bound once, shared by
/// every policy's rules.
pub(crate) struct CelContext {
    context: cel::Context<'static>,
    bind_error: Option<String>,
}

/// The CEL functions, Kubernetes' included, registered once per process.
static CEL_FUNCTIONS: std::sync::LazyLock<cel::Context<'static>> =
    std::sync::LazyLock::new(|| cel::Context::default().with_all());

impl CelContext {
    fn new(kind: &ResourceKind, object: &Value) -> Self {
        let mut context = CEL_FUNCTIONS.new_inner_scope();
        let bound = context
            .add_variable("object", object)
            .and(context.add_variable("kind", kind.to_string()));
        CelContext {
            context,
            bind_error: bound.err().map(|e| e.to_string()),
        }
    }
}

fn check_cel(policy: &CompiledPolicy, ctx: &CelContext, out: &mut Vec<(String, String)>) {
    for rule in &policy.cel {
        let name = format!("cel.{}", rule.name);
        if let Some(e) = &ctx.bind_error {
            out.push((name, format!("the object could not be handed to CEL: {e}")));
            continue;
        }
        match rule.program.execute(&ctx.context) {
            Ok(cel::Value::Bool(true)) => {}
            Ok(cel::Value::Bool(false)) => out.push((name, rule.message.clone())),
            Ok(other) => out.push((
                name,
                format!("the expression must return a bool, it returned {other:?}"),
            )),
            Err(e) => out.push((name, format!("{} (the expression failed: {e})", rule.message))),
        }
    }
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
    let mut cel_context = None;
    for policy in set.iter() {
        if !policy.applies(&facts.selector_labels, user) {
            continue;
        }
        out.matched.push(policy.name.clone());
        for (rule, message) in check(policy, kind, object, &facts, &mut cel_context) {
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
