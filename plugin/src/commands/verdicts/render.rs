//! The one renderer of verdicts, shared by `validate`, `policy test`, `generate` and `create`: a
//! line per object (`✓`, `✗`, `○` or `!`, the object, how it fared) with its errors, policy
//! violations and warnings indented under it, or the same results as JSON; the `Warning:` and
//! `error:` lines of the checks before printing or sending objects; and the one-line summaries
//! the commands end with. Everything here returns text; the printer writes it.

use std::fmt::Write as _;

use kkp_crds::admission::Verdict;
use kkp_crds::policy::{Enforcement, PolicySet, Violation};
use serde::{Serialize, Serializer};
use serde_json::Value;

use super::admit::{Checked, Input, Unreadable, has_exemptions, subject};
use crate::cli::report::ReportFormat;
use crate::output;

/// `1 error`, `2 errors`.
pub fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// A report in the format asked for: text for people, or JSON (one line at the end).
pub fn in_format(format: ReportFormat, text: impl FnOnce() -> String, json: impl FnOnce() -> Value) -> String {
    match format {
        ReportFormat::Text => text(),
        ReportFormat::Json => output::to_json(&json()) + "\n",
    }
}

/// How an object fared, shown first on its line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mark {
    Passed,
    Failed,
    Skipped,
    /// Admitted, with violations of rules that do not deny.
    Flagged,
}

impl Mark {
    fn symbol(self) -> char {
        match self {
            Mark::Passed => '✓',
            Mark::Failed => '✗',
            Mark::Skipped => '○',
            Mark::Flagged => '!',
        }
    }
}

/// One object's line and the lines under it.
struct Entry {
    mark: Mark,
    subject: String,
    summary: String,
    details: Vec<String>,
}

impl Entry {
    fn skipped(subject: String, why: &str) -> Self {
        Entry {
            mark: Mark::Skipped,
            subject,
            summary: format!("skipped: {why}"),
            details: Vec::new(),
        }
    }

    fn unreadable(u: &Unreadable) -> Self {
        Entry {
            mark: Mark::Failed,
            subject: u.file.clone(),
            summary: u.message.clone(),
            details: Vec::new(),
        }
    }

    fn write(&self, out: &mut String) {
        let _ = writeln!(out, "{} {}: {}", self.mark.symbol(), self.subject, self.summary);
        for d in &self.details {
            let _ = writeln!(out, "  {d}");
        }
    }
}

fn entries_text(entries: impl IntoIterator<Item = Entry>) -> String {
    let mut out = String::new();
    for e in entries {
        e.write(&mut out);
    }
    out
}

fn checked_entry(c: &Checked, show_file: bool) -> Entry {
    let prefix = match (&c.input.file, show_file) {
        (Some(file), true) => format!("{file}: "),
        _ => String::new(),
    };
    let subject = format!("{prefix}{} {}", c.kind(), c.name());
    if !c.is_ours() {
        return Entry::skipped(subject, c.verdict.skipped.as_deref().unwrap_or("not checked"));
    }
    let messages = c.messages();
    let (mark, summary) = match messages.len() {
        0 => (Mark::Passed, "valid".to_owned()),
        n => (Mark::Failed, count(n, "error", "errors")),
    };
    let mut details: Vec<String> = messages.iter().map(|m| format!("- {m}")).collect();
    details.extend(c.warnings().iter().map(|w| format!("Warning: {w}")));
    Entry {
        mark,
        subject,
        summary,
        details,
    }
}

/// The admission report for people: a line per object (named with its file when `show_file`),
/// its errors and warnings under it, then a line per input that could not be read.
pub fn checked_text(checked: &[&Checked], unreadable: &[Unreadable], show_file: bool) -> String {
    entries_text(
        checked
            .iter()
            .map(|c| checked_entry(c, show_file))
            .chain(unreadable.iter().map(Entry::unreadable)),
    )
}

/// `Warning: KIND NAME: …` for each warning on an admitted object, as kubectl spells warnings.
pub fn warnings_text(checked: &[Checked]) -> String {
    let mut out = String::new();
    for c in checked.iter().filter(|c| c.allowed()) {
        for w in c.warnings() {
            let _ = writeln!(out, "Warning: {} {}: {w}", c.kind(), c.name());
        }
    }
    out
}

/// What the command ends with when objects are invalid or inputs unreadable.
pub fn checked_summary(checked: &[Checked], unreadable: usize) -> Option<String> {
    let invalid = checked.iter().filter(|c| !c.allowed()).count();
    let total = checked.len();
    let objects = if total == 1 { "object is" } else { "objects are" };
    let inputs = if unreadable == 1 { "input" } else { "inputs" };
    match (invalid, unreadable) {
        (0, 0) => None,
        (0, n) => Some(format!("{n} {inputs} could not be read")),
        (i, 0) => Some(format!("{i} of {total} {objects} invalid")),
        (i, n) => Some(format!(
            "{i} of {total} {objects} invalid and {n} {inputs} could not be read"
        )),
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonResult {
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    document: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    item: Option<usize>,
    api_version: Option<String>,
    kind: Option<String>,
    name: Option<String>,
    namespace: Option<String>,
    allowed: bool,
    skipped: Option<String>,
    errors: Vec<JsonError>,
    warnings: Vec<String>,
}

#[derive(Serialize)]
struct JsonError {
    field: String,
    #[serde(rename = "type")]
    kind: String,
    message: String,
}

impl JsonResult {
    fn of(c: &Checked) -> Self {
        let mut errors: Vec<JsonError> = c
            .verdict
            .errors
            .iter()
            .map(|e| JsonError {
                field: e.field.to_string(),
                kind: serde_json::to_value(&e.error_type)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                message: e.to_string(),
            })
            .collect();
        errors.extend(
            c.verdict
                .violations
                .iter()
                .filter(|v| v.enforcement == Enforcement::Deny)
                .map(|v| JsonError {
                    field: String::new(),
                    kind: "policy".to_owned(),
                    message: v.to_string(),
                }),
        );
        JsonResult {
            file: c.input.file.clone(),
            document: c.input.place.map(|p| p.number),
            item: c.input.place.and_then(|p| p.item.map(|i| i + 1)),
            api_version: c.input.api_version().map(str::to_owned),
            kind: Some(c.kind()),
            name: Some(c.verdict.name.clone()).filter(|n| !n.is_empty()),
            namespace: c.verdict.namespace.clone(),
            allowed: c.allowed(),
            skipped: if c.is_ours() { None } else { c.verdict.skipped.clone() },
            errors: if c.is_ours() { errors } else { Vec::new() },
            warnings: c.warnings(),
        }
    }

    fn unreadable(u: &Unreadable) -> Self {
        JsonResult {
            file: Some(u.file.clone()),
            document: None,
            item: None,
            api_version: None,
            kind: None,
            name: None,
            namespace: None,
            allowed: false,
            skipped: None,
            errors: vec![JsonError {
                field: String::new(),
                kind: "parse".to_owned(),
                message: u.message.clone(),
            }],
            warnings: Vec::new(),
        }
    }
}

/// The admission report for programs: one result per object, then one per unreadable input.
pub fn checked_json(checked: &[Checked], unreadable: &[Unreadable]) -> Value {
    let results: Vec<JsonResult> = checked
        .iter()
        .map(JsonResult::of)
        .chain(unreadable.iter().map(JsonResult::unreadable))
        .collect();
    serde_json::json!(results)
}

/// A policy from the files and whether it compiled.
#[derive(Debug, Serialize)]
pub struct PolicyReport {
    pub name: String,
    pub file: String,
    pub enforcement: Enforcement,
    pub compiled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One object's result under the policies.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyResult {
    file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    document: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    item: Option<usize>,
    api_version: Option<String>,
    kind: String,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    namespace: Option<String>,
    /// False when a Deny rule is broken.
    pub allowed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    skipped: Option<String>,
    matched: Vec<String>,
    violations: Vec<Violation>,
    #[serde(skip)]
    subject: String,
}

impl PolicyResult {
    pub fn of(input: &Input, verdict: Verdict) -> Self {
        let allowed = verdict.denials().next().is_none();
        PolicyResult {
            file: input.file.clone(),
            document: input.place.map(|p| p.number),
            item: input.place.and_then(|p| p.item.map(|i| i + 1)),
            api_version: input.api_version().map(str::to_owned),
            subject: subject(&verdict),
            allowed,
            kind: verdict.kind.to_string(),
            name: verdict.name,
            namespace: verdict.namespace,
            skipped: verdict.skipped,
            matched: verdict.matched_policies,
            violations: verdict.violations,
        }
    }

    fn entry(&self) -> Entry {
        if let Some(why) = &self.skipped {
            return Entry::skipped(self.subject.clone(), why);
        }
        let deny = self
            .violations
            .iter()
            .filter(|v| v.enforcement == Enforcement::Deny)
            .count();
        let (mark, summary) = match (deny, self.violations.len()) {
            (0, 0) => (
                Mark::Passed,
                format!("no violations ({} of the policies apply)", self.matched.len()),
            ),
            (0, n) => (
                Mark::Flagged,
                format!("admitted with {}", count(n, "violation", "violations")),
            ),
            (d, _) => (Mark::Failed, format!("denied: {}", count(d, "Deny rule", "Deny rules"))),
        };
        Entry {
            mark,
            subject: self.subject.clone(),
            summary,
            details: self
                .violations
                .iter()
                .map(|v| {
                    format!(
                        "- {:<5}  {}/{}: {}",
                        v.enforcement.to_string(),
                        v.policy,
                        v.rule,
                        v.message
                    )
                })
                .collect(),
        }
    }
}

/// `policy test`'s report: the policies, how each object fared, what could not be read.
#[derive(Debug, Serialize)]
pub struct PolicyTest {
    pub policies: Vec<PolicyReport>,
    pub results: Vec<PolicyResult>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unreadable: Vec<Unreadable>,
}

/// In JSON an unreadable input is its message: `FILE: what went wrong`.
impl Serialize for Unreadable {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// `policy test`'s report for people: the policies (those that do not compile with why), then a
/// line per object with its violations under it.
pub fn policy_test_text(report: &PolicyTest) -> String {
    let mut out = String::from("Policies:\n");
    for p in &report.policies {
        let _ = match &p.error {
            None => writeln!(out, "  {} {} ({})", Mark::Passed.symbol(), p.name, p.enforcement),
            Some(e) => writeln!(
                out,
                "  {} {} ({}): not enforced: {}",
                Mark::Failed.symbol(),
                p.name,
                p.file,
                e.replace('\n', "\n      ")
            ),
        };
    }
    out.push('\n');
    out + &entries_text(
        report
            .results
            .iter()
            .map(PolicyResult::entry)
            .chain(report.unreadable.iter().map(Entry::unreadable)),
    )
}

/// `policy test`'s report for programs.
pub fn policy_test_json(report: &PolicyTest) -> Value {
    serde_json::json!(report)
}

/// What `policy test` ends with when an object is denied, a policy does not compile or an input
/// could not be read.
pub fn policy_test_summary(report: &PolicyTest) -> Option<String> {
    let denied = report.results.iter().filter(|r| !r.allowed).count();
    let broken = report.policies.iter().filter(|p| !p.compiled).count();
    let unreadable = report.unreadable.len();
    let mut problems = Vec::new();
    if denied > 0 {
        problems.push(format!(
            "{denied} of {} denied by policy",
            count(report.results.len(), "object would be", "objects would be")
        ));
    }
    if broken > 0 {
        problems.push(format!("{} not compile", count(broken, "policy does", "policies do")));
    }
    if unreadable > 0 {
        problems.push(format!("{} could not be read", count(unreadable, "input", "inputs")));
    }
    (!problems.is_empty()).then(|| problems.join("; "))
}

/// The violations found before objects are sent, a line each: `error:` for a rule that denies,
/// `Warning:` for one that warns or that may not apply to the user (a policy with exemptions,
/// when who the user is could not be told), `Audit:` for one that records. Returns the text and
/// the number of denials.
pub fn violations_text(found: &[(String, Violation)], identity_known: bool, set: &PolicySet) -> (String, usize) {
    let mut out = String::new();
    let mut denials = 0;
    for (subject, v) in found {
        let uncertain = !identity_known && has_exemptions(set, &v.policy);
        let _ = match v.enforcement {
            Enforcement::Deny if uncertain => writeln!(
                out,
                "Warning: {subject}: {v} (denied unless the policy exempts you; who you are could not be determined)"
            ),
            Enforcement::Deny => {
                denials += 1;
                writeln!(out, "error: {subject}: {v}")
            }
            Enforcement::Warn => writeln!(out, "Warning: {subject}: {v}"),
            Enforcement::Audit => writeln!(out, "Audit: {subject}: {v} (admitted and recorded)"),
        };
    }
    (out, denials)
}

#[cfg(test)]
mod tests {
    use kkp_crds::policy::AdmissionPolicy;
    use serde_json::{Value, json};

    use super::*;
    use crate::commands::verdicts::admit::{CheckOptions, Input, check};

    fn md(kubelet: &str) -> Value {
        json!({
            "apiVersion": "cluster.k8s.io/v1alpha1", "kind": "MachineDeployment",
            "metadata": {"name": "w", "namespace": "kube-system"},
            "spec": {
                "selector": {"matchLabels": {"m": "w"}},
                "template": {"metadata": {"labels": {"m": "w"}}, "spec": {
                    "providerSpec": {"value": {"cloudProvider": "hetzner",
                        "cloudProviderSpec": {"serverType": "cx22", "location": "fsn1"},
                        "operatingSystem": "ubuntu", "operatingSystemSpec": {}}},
                    "versions": {"kubelet": kubelet}}}
            }
        })
    }

    #[test]
    fn foreign_kinds_are_skipped_not_errors() {
        let kind = json!({"apiVersion": "kind.x-k8s.io/v1alpha4", "kind": "Cluster", "nodes": []});
        let checked = check(vec![Input::generated(kind)], &CheckOptions::default());
        assert!(!checked[0].is_ours());
        assert!(checked[0].allowed());
        let text = checked_text(&[&checked[0]], &[], false);
        assert!(text.starts_with("○ Cluster (unnamed): skipped: "), "{text}");
    }

    #[test]
    fn kubelet_skew_uses_the_lone_cluster_version() {
        let cluster = json!({"apiVersion": "kubermatic.k8c.io/v1", "kind": "Cluster",
                             "metadata": {"name": "c"}, "spec": {"version": "1.35.2"}});
        let inputs = vec![Input::generated(cluster), Input::generated(md("1.32.1"))];
        let values: Vec<&Value> = inputs.iter().map(|i| &i.value).collect();
        assert_eq!(
            kkp_crds::admission::lone_cluster_version(&values),
            Some(semver::Version::new(1, 35, 2))
        );
        let checked = check(inputs, &CheckOptions::default());
        let messages = checked[1].messages();
        assert!(
            messages
                .iter()
                .any(|m| m.starts_with("spec.template.spec.versions.kubelet: Invalid value")),
            "{messages:?}"
        );
    }

    #[test]
    fn reports_count_errors_per_object() {
        let checked = check(vec![Input::generated(md(""))], &CheckOptions::default());
        assert!(!checked[0].allowed());
        let text = checked_text(&[&checked[0]], &[], false);
        assert!(text.starts_with("✗ MachineDeployment w: "), "{text}");
        assert!(
            text.contains("\n  - spec.template.spec.versions.kubelet: Required value"),
            "{text}"
        );
    }

    #[test]
    fn unreadable_inputs_follow_the_objects_and_count_in_the_summary() {
        let checked = check(vec![Input::generated(md(""))], &CheckOptions::default());
        let unreadable = [Unreadable {
            file: "broken.yaml".into(),
            message: "document 2: invalid YAML: oops".into(),
        }];
        let refs: Vec<&Checked> = checked.iter().collect();
        let text = checked_text(&refs, &unreadable, false);
        assert!(
            text.ends_with("\n✗ broken.yaml: document 2: invalid YAML: oops\n"),
            "{text}"
        );
        assert_eq!(
            checked_summary(&checked, 1).as_deref(),
            Some("1 of 1 object is invalid and 1 input could not be read")
        );
        assert_eq!(checked_summary(&[], 2).as_deref(), Some("2 inputs could not be read"));
        assert_eq!(checked_summary(&checked[..0], 0), None);
        let json = checked_json(&checked, &unreadable);
        assert_eq!(json[0]["allowed"], false);
        assert_eq!(json[1]["file"], "broken.yaml");
        assert_eq!(json[1]["errors"][0]["type"], "parse");
        assert_eq!(
            in_format(ReportFormat::Json, String::new, || json.clone()),
            output::to_json(&json) + "\n"
        );
        assert_eq!(in_format(ReportFormat::Text, || "text".into(), || json.clone()), "text");
        let report = PolicyTest {
            policies: Vec::new(),
            results: Vec::new(),
            unreadable: unreadable.to_vec(),
        };
        assert_eq!(
            policy_test_json(&report)["unreadable"],
            json!(["broken.yaml: document 2: invalid YAML: oops"])
        );
        assert_eq!(
            policy_test_summary(&report).as_deref(),
            Some("1 input could not be read")
        );
        assert!(
            policy_test_text(&report).ends_with("\n✗ broken.yaml: document 2: invalid YAML: oops\n"),
            "{}",
            policy_test_text(&report)
        );
    }

    #[test]
    fn warnings_are_spelled_as_kubectl_does_and_only_for_admitted_objects() {
        let deprecated = json!({"apiVersion": "kubermatic.k8c.io/v1", "kind": "Cluster",
            "metadata": {"name": "c", "labels": {"project-id": "p"}},
            "spec": {"humanReadableName": "c", "version": "1.35.7",
                     "cloud": {"dc": "nowhere", "hetzner": {"token": "x"}}}});
        let checked = check(
            vec![Input::generated(deprecated), Input::generated(md(""))],
            &CheckOptions::default(),
        );
        assert!(checked[0].allowed() && !checked[0].warnings().is_empty());
        let text = warnings_text(&checked);
        assert!(text.starts_with("Warning: Cluster c: "), "{text}");
        assert!(!text.contains("MachineDeployment"), "{text}");
    }

    fn set(policies: &[AdmissionPolicy]) -> PolicySet {
        let (set, failed) = PolicySet::compile(policies);
        assert!(failed.is_empty(), "{failed:?}");
        set
    }

    fn policy(name: &str, spec: Value) -> AdmissionPolicy {
        serde_json::from_value(json!({
            "apiVersion": "policy.kubectl-kkp.io/v1alpha1", "kind": "AdmissionPolicy",
            "metadata": {"name": name}, "spec": spec
        }))
        .expect("a policy")
    }

    #[test]
    fn denials_are_errors_and_warnings_are_not() {
        let s = set(&[
            policy("only-aws", json!({"rules": {"providers": ["aws"]}})),
            policy(
                "exempting",
                json!({"exemptions": {"users": ["root"]}, "rules": {"providers": ["aws"]}}),
            ),
        ]);
        let violation = |policy: &str, enforcement| Violation {
            policy: policy.into(),
            rule: "providers".into(),
            message: "provider \"hetzner\" is not allowed; allowed: aws".into(),
            enforcement,
        };
        let warned = [("Cluster a".to_owned(), violation("only-aws", Enforcement::Warn))];
        let (text, denials) = violations_text(&warned, true, &s);
        assert_eq!(denials, 0);
        assert_eq!(
            text,
            "Warning: Cluster a: policy \"only-aws\" rule providers: provider \"hetzner\" is not allowed; allowed: aws\n"
        );
        let denied = [
            ("Cluster a".to_owned(), violation("only-aws", Enforcement::Deny)),
            ("Cluster a".to_owned(), violation("exempting", Enforcement::Deny)),
            ("Cluster a".to_owned(), violation("only-aws", Enforcement::Audit)),
        ];
        let (text, denials) = violations_text(&denied, false, &s);
        assert_eq!(denials, 1, "the exempting policy may not apply to the user");
        assert!(
            text.starts_with("error: Cluster a: policy \"only-aws\" rule providers: "),
            "{text}"
        );
        assert!(
            text.contains("Warning: Cluster a: policy \"exempting\" rule providers: provider \"hetzner\" is not allowed; allowed: aws (denied unless the policy exempts you"),
            "{text}"
        );
        assert!(text.ends_with("(admitted and recorded)\n"), "{text}");
        let (_, denials) = violations_text(&denied, true, &s);
        assert_eq!(denials, 2, "who the user is is known: the exemption does not apply");
    }
}
