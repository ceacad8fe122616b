//! Local objects through the admission engine: what was read and from where, the engine's verdict
//! on each (defaulting, then validation, as a CREATE), and the same under a cluster's admission
//! policies.

use std::fmt;

use kkp_crds::admission::{self, Verdict};
use kkp_crds::crd_check::CrdSchemas;
use kkp_crds::policy::PolicySet;
use kkp_crds::request::UserInfo;
use serde_json::Value;

use crate::platform::Platform;
use crate::template::documents::Place;

/// An object to check and where it came from.
#[derive(Clone, Debug)]
pub struct Input {
    pub file: Option<String>,
    pub place: Option<Place>,
    pub value: Value,
}

impl Input {
    /// An object that came from a template rather than a file.
    pub fn generated(value: Value) -> Self {
        Input {
            file: None,
            place: None,
            value,
        }
    }

    pub fn api_version(&self) -> Option<&str> {
        self.value.get("apiVersion").and_then(Value::as_str)
    }
}

/// A file, or part of one, that could not be read or parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unreadable {
    /// The file as messages name it (`stdin` for `-`).
    pub file: String,
    pub message: String,
}

impl fmt::Display for Unreadable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.file, self.message)
    }
}

/// What the engine needs beyond the objects.
#[derive(Clone, Debug, Default)]
pub struct CheckOptions {
    /// The versions and datacenters in force.
    pub platform: Platform,
    /// The control plane version for MachineDeployments; when absent, that of the one KKP
    /// Cluster among the inputs.
    pub cluster_version: Option<semver::Version>,
}

/// One object with the engine's verdict.
#[derive(Debug)]
pub struct Checked {
    pub input: Input,
    pub verdict: Verdict,
    /// Judged against its CRD (`--crd`) rather than by the engine's own rules.
    pub against_crd: bool,
}

impl Checked {
    pub fn is_ours(&self) -> bool {
        self.against_crd || (self.verdict.skipped.is_none() && self.verdict.kind.is_ours())
    }

    /// Admitted, or not ours to judge.
    pub fn allowed(&self) -> bool {
        !self.is_ours() || self.verdict.allowed()
    }

    pub fn kind(&self) -> String {
        let kind = self.verdict.kind.to_string();
        if kind.is_empty() { "object".to_owned() } else { kind }
    }

    pub fn name(&self) -> String {
        if self.verdict.name.is_empty() {
            "(unnamed)".to_owned()
        } else {
            self.verdict.name.clone()
        }
    }

    pub fn warnings(&self) -> Vec<String> {
        if self.is_ours() {
            self.verdict.all_warnings()
        } else {
            Vec::new()
        }
    }

    pub fn error_count(&self) -> usize {
        self.messages().len()
    }

    /// Every field error and denying policy rule, one line each.
    pub fn messages(&self) -> Vec<String> {
        let mut out: Vec<String> = self.verdict.errors.iter().map(ToString::to_string).collect();
        out.extend(self.verdict.denials().map(ToString::to_string));
        out
    }

    /// The object as admission would store it: defaulted when the engine judged it, as given
    /// otherwise.
    pub fn into_object(self) -> Value {
        match self.verdict.object {
            Some(obj) if self.is_ours() => obj,
            _ => self.input.value,
        }
    }
}

/// Runs admission (defaulting, then validation, as a CREATE) on every object, together: see
/// [`admission::admit_all`].
pub fn check(inputs: Vec<Input>, opts: &CheckOptions) -> Vec<Checked> {
    let mut ctx = opts.platform.context();
    ctx.cluster_version = opts.cluster_version.clone();
    let values: Vec<&Value> = inputs.iter().map(|i| &i.value).collect();
    let verdicts = admission::admit_all(&values, &ctx, None);
    inputs
        .into_iter()
        .zip(verdicts)
        .map(|(input, verdict)| Checked {
            input,
            verdict,
            against_crd: false,
        })
        .collect()
}

/// Judges the objects the engine has no rules for against their CRD's schema, where `crds`
/// has one for their kind.
pub fn check_against_crds(checked: &mut [Checked], crds: &CrdSchemas) {
    for c in checked.iter_mut().filter(|c| !c.is_ours()) {
        if let Some(errors) = crds.check(&c.input.value) {
            c.verdict.errors = errors;
            c.verdict.skipped = None;
            // The engine's note that it does not judge this kind no longer holds.
            c.verdict.warnings.clear();
            c.against_crd = true;
        }
    }
}

/// The objects admitted together as a CREATE by `user` (see [`admission::admit_all`]) under the
/// policies `set` and the platform's versions and datacenters: each is defaulted first, as the
/// mutating webhook does before the validating one, then judged.
pub fn admit_with_policies(
    objects: &[&Value],
    set: &PolicySet,
    user: Option<&UserInfo>,
    platform: &Platform,
) -> Vec<Verdict> {
    let mut ctx = platform.context();
    ctx.policies = set.clone();
    admission::admit_all(objects, &ctx, user)
}

/// Whether a policy exempts anyone (so its verdict depends on who asks).
pub fn has_exemptions(set: &PolicySet, name: &str) -> bool {
    set.iter()
        .find(|p| p.name == name)
        .is_some_and(|p| !p.exempt_users.is_empty() || !p.exempt_groups.is_empty())
}

/// `Cluster demo`, `MachineDeployment kube-system/workers`: the object a verdict is about.
pub fn subject(verdict: &Verdict) -> String {
    let name = if verdict.name.is_empty() {
        "(unnamed)"
    } else {
        &verdict.name
    };
    match &verdict.namespace {
        Some(ns) => format!("{} {ns}/{name}", verdict.kind),
        None => format!("{} {name}", verdict.kind),
    }
}

#[cfg(test)]
mod tests {
    use kkp_crds::policy::AdmissionPolicy;
    use serde_json::json;

    use super::*;

    fn policy(name: &str, spec: Value) -> AdmissionPolicy {
        serde_json::from_value(json!({
            "apiVersion": "policy.kubectl-kkp.io/v1alpha1", "kind": "AdmissionPolicy",
            "metadata": {"name": name}, "spec": spec
        }))
        .expect("a policy")
    }

    fn set(policies: &[AdmissionPolicy]) -> PolicySet {
        let (set, failed) = PolicySet::compile(policies);
        assert!(failed.is_empty(), "{failed:?}");
        set
    }

    fn cluster() -> Value {
        json!({"apiVersion": "kubermatic.k8c.io/v1", "kind": "Cluster",
               "metadata": {"name": "abcd123456", "labels": {"project-id": "p1"}},
               "spec": {"humanReadableName": "demo", "version": "1.35.7",
                        "cloud": {"dc": "hetzner-fsn1", "hetzner": {"token": "x"}}}})
    }

    fn md(name: &str, replicas: i64) -> Value {
        json!({"apiVersion": "cluster.k8s.io/v1alpha1", "kind": "MachineDeployment",
               "metadata": {"name": name, "namespace": "kube-system"},
               "spec": {"replicas": replicas, "selector": {"matchLabels": {"pool": name}},
                        "template": {"metadata": {"labels": {"pool": name}}, "spec": {
                            "providerSpec": {"value": {"cloudProvider": "hetzner",
                                "cloudProviderSpec": {"serverType": "cx22", "location": "fsn1"},
                                "operatingSystem": "ubuntu", "operatingSystemSpec": {}}},
                            "versions": {"kubelet": "1.35.7"}}}}})
    }

    #[test]
    fn objects_are_defaulted_before_the_policies_see_them() {
        // cniTypes looks at the defaulted CNI: the generated object has none.
        let s = set(&[policy("canal-only", json!({"rules": {"cniTypes": ["canal"]}}))]);
        let c = cluster();
        let out = admit_with_policies(&[&c], &s, None, &Platform::builtin());
        assert_eq!(out[0].matched_policies, ["canal-only"]);
        assert_eq!(out[0].violations.len(), 1);
        assert_eq!(out[0].violations[0].rule, "cniTypes");
        assert!(out[0].denials().next().is_some());
        assert_eq!(subject(&out[0]), "Cluster abcd123456");
    }

    #[test]
    fn exempted_users_are_not_checked_and_foreign_objects_are_skipped() {
        let s = set(&[policy(
            "only-aws",
            json!({"exemptions": {"groups": ["admins"]}, "rules": {"providers": ["aws"]}}),
        )]);
        let c = cluster();
        let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}});
        let admin = UserInfo {
            username: "carol".into(),
            groups: vec!["admins".into()],
        };
        let out = admit_with_policies(&[&c, &cm], &s, Some(&admin), &Platform::builtin());
        assert!(out[0].violations.is_empty());
        assert!(out[0].matched_policies.is_empty());
        assert!(out[1].skipped.is_some());
        let out = admit_with_policies(&[&c], &s, None, &Platform::builtin());
        assert_eq!(out[0].violations[0].policy, "only-aws");
    }

    #[test]
    fn workers_are_counted_over_all_machine_deployments() {
        let s = set(&[policy("few-workers", json!({"rules": {"maxWorkers": 4}}))]);
        let (c, a, b) = (cluster(), md("a", 3), md("b", 2));
        let objects = [&c, &a, &b];
        let each_alone = objects.map(|o| admit_with_policies(&[o], &s, None, &Platform::builtin()));
        assert!(
            each_alone.iter().flatten().all(|v| v.violations.is_empty()),
            "each MachineDeployment alone is within the limit"
        );
        let together = admit_with_policies(&objects, &s, None, &Platform::builtin());
        assert!(together[0].violations.is_empty(), "the Cluster is within it");
        for md in &together[1..] {
            assert_eq!(md.violations.len(), 1, "{:?}", md.violations);
            assert_eq!(md.violations[0].rule, "maxWorkers");
            assert_eq!(
                md.violations[0].message,
                "5 workers across 2 MachineDeployments exceed the maximum of 4 per cluster"
            );
        }
        let (small_a, small_b) = (md("a", 2), md("b", 2));
        assert!(
            admit_with_policies(&[&c, &small_a, &small_b], &s, None, &Platform::builtin())
                .iter()
                .all(|v| v.violations.is_empty())
        );
    }
}
