//! Policy results in the shape of the `wgpolicyk8s.io/v1alpha2` PolicyReport API (the format
//! Kyverno and Kubewarden write): one result per object and rule, and the report of one object.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::compile::CompiledPolicy;
use super::evaluate::evaluate_all;
use super::set::PolicySet;
use super::violation::Enforcement;
use crate::request::ResourceKind;

/// The API group of PolicyReport and ClusterPolicyReport.
pub const REPORT_GROUP: &str = "wgpolicyk8s.io";
/// The version of the report API written.
pub const REPORT_VERSION: &str = "v1alpha2";
/// `apiVersion` of the reports.
pub const REPORT_API_VERSION: &str = "wgpolicyk8s.io/v1alpha2";
/// The `source` of every result, and the reports' `app.kubernetes.io/managed-by` label.
pub const SOURCE: &str = "kkp-webhook";
/// The label that marks the reports written by the webhook.
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
/// The label that names the kind of the object a report is about.
pub const SCOPE_KIND_LABEL: &str = "kkp-webhook.kubectl-kkp.io/scope-kind";
/// Results in one report at most; the summary still counts them all.
pub const MAX_RESULTS_PER_REPORT: usize = 200;
/// The longest message of one result, in bytes.
pub const MAX_MESSAGE_BYTES: usize = 1024;

/// What a rule said about an object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResultKind {
    Pass,
    Fail,
    Warn,
    Error,
    Skip,
}

impl ResultKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ResultKind::Pass => "pass",
            ResultKind::Fail => "fail",
            ResultKind::Warn => "warn",
            ResultKind::Error => "error",
            ResultKind::Skip => "skip",
        }
    }
}

/// The object a result is about (`resources[]` of a result, `scope` of a report).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectRef {
    #[serde(default)]
    pub api_version: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
}

impl ObjectRef {
    /// The reference to a Cluster or MachineDeployment as the API returns it.
    pub fn of(object: &Value) -> ObjectRef {
        let text = |pointer: &str| object.pointer(pointer).and_then(Value::as_str).map(str::to_owned);
        ObjectRef {
            api_version: text("/apiVersion").unwrap_or_default(),
            kind: text("/kind").unwrap_or_default(),
            name: text("/metadata/name").unwrap_or_default(),
            namespace: text("/metadata/namespace").filter(|n| !n.is_empty()),
            uid: text("/metadata/uid"),
        }
    }
}

/// One result of a report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportResult {
    pub policy: String,
    #[serde(default)]
    pub rule: String,
    pub result: ResultKind,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub source: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<ObjectRef>,
    /// `enforcement`: what the policy does with a violation (Deny, Warn or Audit).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub properties: BTreeMap<String, String>,
}

/// How many results of each kind a report holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    #[serde(default)]
    pub pass: u64,
    #[serde(default)]
    pub fail: u64,
    #[serde(default)]
    pub warn: u64,
    #[serde(default)]
    pub error: u64,
    #[serde(default)]
    pub skip: u64,
}

impl Summary {
    pub fn of(results: &[ReportResult]) -> Summary {
        let mut s = Summary::default();
        for r in results {
            s.add(r.result);
        }
        s
    }

    pub fn add(&mut self, result: ResultKind) {
        let n = match result {
            ResultKind::Pass => &mut self.pass,
            ResultKind::Fail => &mut self.fail,
            ResultKind::Warn => &mut self.warn,
            ResultKind::Error => &mut self.error,
            ResultKind::Skip => &mut self.skip,
        };
        *n += 1;
    }

    pub fn total(&self) -> u64 {
        self.pass + self.fail + self.warn + self.error + self.skip
    }
}

/// The rules a policy checks on objects of `kind`, named as its violations name them.
pub fn rule_names(policy: &CompiledPolicy, kind: &ResourceKind) -> Vec<String> {
    let r = &policy.rules;
    let machine_deployment = matches!(kind, ResourceKind::MachineDeployment);
    let mut names: Vec<String> = Vec::new();
    let mut add = |present: bool, name: &str| {
        if present {
            names.push(name.to_owned());
        }
    };
    add(r.providers.is_some(), "providers");
    add(r.datacenters.is_some(), "datacenters");
    add(r.cni_types.is_some(), "cniTypes");
    add(r.expose_strategies.is_some(), "exposeStrategies");
    add(policy.versions.is_some(), "kubernetesVersions");
    if let Some(sizes) = &r.instance_sizes {
        for (provider, list) in [
            ("aws", &sizes.aws),
            ("azure", &sizes.azure),
            ("gcp", &sizes.gcp),
            ("hetzner", &sizes.hetzner),
            ("openstack", &sizes.openstack),
            ("digitalocean", &sizes.digitalocean),
        ] {
            add(list.is_some(), &format!("instanceSizes.{provider}"));
        }
    }
    if let Some(v) = &r.vsphere {
        add(v.max_cpus.is_some(), "vsphere.maxCPUs");
        add(v.max_memory_mb.is_some(), "vsphere.maxMemoryMB");
    }
    if let Some(k) = &r.kubevirt {
        add(k.max_cpus.is_some(), "kubevirt.maxCPUs");
        add(k.max_memory.is_some(), "kubevirt.maxMemory");
    }
    add(r.max_replicas.is_some() && machine_deployment, "maxReplicas");
    add(r.max_workers.is_some(), "maxWorkers");
    add(!policy.required_labels.is_empty(), "requiredLabels");
    add(!policy.required_annotations.is_empty(), "requiredAnnotations");
    add(r.forbid_inline_credentials == Some(true), "forbidInlineCredentials");
    for cel in &policy.cel {
        names.push(format!("cel.{}", cel.name));
    }
    names
}

/// What a violation of a policy enforced this way is in a report.
pub fn result_of(enforcement: Enforcement) -> ResultKind {
    match enforcement {
        Enforcement::Deny | Enforcement::Audit => ResultKind::Fail,
        Enforcement::Warn => ResultKind::Warn,
    }
}

fn clip(message: String) -> String {
    crate::field::truncated(&message, MAX_MESSAGE_BYTES).into_owned()
}

/// One result per rule of every policy that selects the object (as it is stored: no user is
/// exempted): `fail` or `warn` with the violations' messages, else `pass`.
pub fn results(set: &PolicySet, object: &Value) -> Vec<ReportResult> {
    let kind = ResourceKind::of(object);
    if !kind.is_ours() {
        return Vec::new();
    }
    let evaluation = evaluate_all(set, &kind, object, None);
    let subject = ObjectRef::of(object);
    let mut out = Vec::new();
    for policy in set.iter().filter(|p| evaluation.matched.contains(&p.name)) {
        let mut by_rule: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for v in evaluation.violations.iter().filter(|v| v.policy == policy.name) {
            by_rule.entry(v.rule.as_str()).or_default().push(v.message.as_str());
        }
        let mut names = rule_names(policy, &kind);
        // Rules only a violation names (a restricted field given by reference, say).
        for rule in by_rule.keys() {
            if !names.iter().any(|n| n == rule) {
                names.push((*rule).to_owned());
            }
        }
        for rule in names {
            let (result, message) = match by_rule.get(rule.as_str()) {
                Some(messages) => (result_of(policy.enforcement), messages.join("; ")),
                None => (ResultKind::Pass, format!("rule {rule} holds")),
            };
            out.push(ReportResult {
                policy: policy.name.clone(),
                rule,
                result,
                message: clip(message),
                source: SOURCE.to_owned(),
                resources: vec![subject.clone()],
                properties: BTreeMap::from([("enforcement".to_owned(), policy.enforcement.to_string())]),
            });
        }
    }
    out
}

/// The report kind for an object: `ClusterPolicyReport` for a cluster-scoped one (a Cluster),
/// `PolicyReport` in its namespace for a namespaced one (a MachineDeployment).
pub fn report_kind(subject: &ObjectRef) -> &'static str {
    if subject.namespace.is_some() {
        "PolicyReport"
    } else {
        "ClusterPolicyReport"
    }
}

/// The name of the report about an object: its uid, so that one report belongs to one object.
pub fn report_name(subject: &ObjectRef) -> Option<&str> {
    subject.uid.as_deref().filter(|u| !u.is_empty())
}

/// The whole report about one object, ready to apply: owned by the object (so it goes with it),
/// its `scope` the object, at most [`MAX_RESULTS_PER_REPORT`] results (failures first) and a
/// summary of all of them. `None` for an object without a uid (never stored).
pub fn report(subject: &ObjectRef, mut results: Vec<ReportResult>) -> Option<Value> {
    let name = report_name(subject)?;
    let summary = Summary::of(&results);
    results.sort_by_key(|r| r.result == ResultKind::Pass);
    results.truncate(MAX_RESULTS_PER_REPORT);
    let mut metadata = json!({
        "name": name,
        "labels": {MANAGED_BY_LABEL: SOURCE, SCOPE_KIND_LABEL: subject.kind},
        "ownerReferences": [{
            "apiVersion": subject.api_version, "kind": subject.kind,
            "name": subject.name, "uid": name,
        }],
    });
    if let Some(ns) = &subject.namespace {
        metadata["namespace"] = json!(ns);
    }
    Some(json!({
        "apiVersion": REPORT_API_VERSION,
        "kind": report_kind(subject),
        "metadata": metadata,
        "scope": subject,
        "summary": summary,
        "results": results,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{AdmissionPolicy, PolicySet};

    fn set(policies: Value) -> PolicySet {
        let policies: Vec<AdmissionPolicy> = serde_json::from_value(policies).expect("policies");
        let (set, failed) = PolicySet::compile(&policies);
        assert!(failed.is_empty(), "{failed:?}");
        set
    }

    fn policy(name: &str, enforcement: &str, rules: Value) -> Value {
        json!({"apiVersion": "policy.kubectl-kkp.io/v1alpha1", "kind": "AdmissionPolicy",
               "metadata": {"name": name}, "spec": {"enforcement": enforcement, "rules": rules}})
    }

    fn cluster(dc: &str, labels: Value) -> Value {
        json!({"apiVersion": "kubermatic.k8c.io/v1", "kind": "Cluster",
               "metadata": {"name": "abcd123456", "uid": "u-1", "labels": labels},
               "spec": {"humanReadableName": "demo", "version": "1.35.7",
                        "cloud": {"dc": dc, "providerName": "hetzner", "hetzner": {"token": "x"}}}})
    }

    #[test]
    fn one_result_per_rule_fail_warn_or_pass() {
        let set = set(json!([
            policy(
                "audit-dc",
                "Audit",
                json!({"datacenters": ["hetzner-fsn1"], "maxReplicas": 3})
            ),
            policy("warn-team", "Warn", json!({"requiredLabels": ["team", "cost-center"]})),
        ]));
        let results = results(&set, &cluster("hetzner-hel1", json!({})));
        let brief: Vec<(&str, &str, ResultKind)> = results
            .iter()
            .map(|r| (r.policy.as_str(), r.rule.as_str(), r.result))
            .collect();
        // maxReplicas is about MachineDeployments: a Cluster gets no result for it.
        assert_eq!(
            brief,
            [
                ("audit-dc", "datacenters", ResultKind::Fail),
                ("warn-team", "requiredLabels", ResultKind::Warn),
            ]
        );
        assert_eq!(
            results[0].message,
            r#"datacenter "hetzner-hel1" is not allowed; allowed: hetzner-fsn1"#
        );
        assert_eq!(
            results[1].message,
            "the label team is required; the label cost-center is required"
        );
        assert_eq!(results[0].source, SOURCE);
        assert_eq!(results[0].properties["enforcement"], "Audit");
        assert_eq!(results[0].resources[0].name, "abcd123456");
        assert_eq!(results[0].resources[0].uid.as_deref(), Some("u-1"));

        let fixed = super::results(&set, &cluster("hetzner-fsn1", json!({"team": "a", "cost-center": "b"})));
        assert!(fixed.iter().all(|r| r.result == ResultKind::Pass), "{fixed:?}");
        assert_eq!(fixed[0].message, "rule datacenters holds");
    }

    #[test]
    fn unselected_objects_and_other_kinds_have_no_results() {
        let mut selective = policy("p2-only", "Audit", json!({"providers": ["aws"]}));
        selective["spec"]["selector"] = json!({"matchLabels": {"project-id": "p2"}});
        let set = set(json!([selective]));
        assert!(results(&set, &cluster("hetzner-fsn1", json!({"project-id": "p1"}))).is_empty());
        assert_eq!(
            results(&set, &cluster("hetzner-fsn1", json!({"project-id": "p2"})))[0].result,
            ResultKind::Fail
        );
        let config_map = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}});
        assert!(results(&set, &config_map).is_empty());
    }

    #[test]
    fn reports_are_owned_by_their_object_and_capped() {
        let subject = ObjectRef {
            api_version: "cluster.k8s.io/v1alpha1".into(),
            kind: "MachineDeployment".into(),
            name: "workers".into(),
            namespace: Some("team-a".into()),
            uid: Some("u-2".into()),
        };
        let one = |rule: usize, result: ResultKind| ReportResult {
            policy: "p".into(),
            rule: format!("cel.r{rule}"),
            result,
            message: String::new(),
            source: SOURCE.into(),
            resources: vec![subject.clone()],
            properties: BTreeMap::new(),
        };
        let mut many: Vec<ReportResult> = (0..MAX_RESULTS_PER_REPORT + 50)
            .map(|i| one(i, ResultKind::Pass))
            .collect();
        many.push(one(9999, ResultKind::Fail));
        let report = report(&subject, many).expect("a report");
        assert_eq!(report["kind"], "PolicyReport");
        assert_eq!(report["metadata"]["name"], "u-2");
        assert_eq!(report["metadata"]["namespace"], "team-a");
        assert_eq!(report["metadata"]["ownerReferences"][0]["uid"], "u-2");
        assert_eq!(report["metadata"]["labels"][MANAGED_BY_LABEL], SOURCE);
        assert_eq!(report["scope"]["kind"], "MachineDeployment");
        let results = report["results"].as_array().expect("results");
        assert_eq!(results.len(), MAX_RESULTS_PER_REPORT);
        assert_eq!(results[0]["result"], "fail", "failures are kept first");
        assert_eq!(report["summary"]["pass"], MAX_RESULTS_PER_REPORT as u64 + 50);
        assert_eq!(report["summary"]["fail"], 1);

        let cluster = ObjectRef {
            namespace: None,
            kind: "Cluster".into(),
            ..subject.clone()
        };
        assert_eq!(
            super::report(&cluster, Vec::new()).expect("a report")["kind"],
            "ClusterPolicyReport"
        );
        let unsaved = ObjectRef { uid: None, ..subject };
        assert!(super::report(&unsaved, Vec::new()).is_none());
    }
}
