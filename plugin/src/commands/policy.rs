//! `kubectl kkp policy`: admission policies offline. `policy test` evaluates policies on objects
//! with the same engine as the webhook, without contacting any cluster.

use std::io::{self, Write};

use anyhow::{Context as _, bail};
use kkp_crds::admission::Verdict;
use kkp_crds::policy::{self, Enforcement, PolicySet, Violation};
use kkp_crds::request::UserInfo;
use serde::Serialize;
use serde_json::Value;

use super::verdicts::{admit_with_policies, subject};
use crate::cli::policy::{PolicyCommand, PolicyTestArgs, PolicyWhat, TestFormat};
use crate::output;
use crate::platform::Platform;
use crate::printer::Printer;
use crate::settings::GlobalSettings;
use crate::template::documents::{self, Place};

pub async fn run(cmd: PolicyCommand, _g: &GlobalSettings, printer: &Printer) -> anyhow::Result<()> {
    match cmd.what {
        PolicyWhat::Test(args) => test(args, printer),
    }
}

/// Something read from the files.
#[derive(Debug)]
struct Found {
    file: String,
    place: Option<Place>,
    value: Value,
}

/// A policy from the files and whether it compiled.
#[derive(Debug, Serialize)]
struct PolicyReport {
    name: String,
    file: String,
    enforcement: Enforcement,
    compiled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// One object's result.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ObjectReport {
    file: String,
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
    allowed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    skipped: Option<String>,
    matched: Vec<String>,
    violations: Vec<Violation>,
    #[serde(skip)]
    subject: String,
}

#[derive(Debug, Serialize)]
struct Report {
    policies: Vec<PolicyReport>,
    results: Vec<ObjectReport>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    unreadable: Vec<String>,
}

fn where_in(file: &str, place: Option<Place>) -> String {
    match place {
        Some(p) => format!("{file}, {p}"),
        None => file.to_owned(),
    }
}

/// Compiles the policies found, one report each (also for those that do not parse or compile).
fn compile_policies(found: &[Found]) -> (PolicySet, Vec<PolicyReport>) {
    let (set, loaded) = PolicySet::from_documents(found.iter().map(|f| &f.value));
    let reports = found
        .iter()
        .zip(loaded)
        .map(|(f, l)| PolicyReport {
            name: if l.name.is_empty() {
                "(unnamed)".to_owned()
            } else {
                l.name
            },
            file: where_in(&f.file, f.place),
            enforcement: l.enforcement,
            compiled: l.error.is_none(),
            error: l.error.map(|e| e.to_string()),
        })
        .collect();
    (set, reports)
}

fn object_report(f: &Found, verdict: Verdict) -> ObjectReport {
    let allowed = verdict.denials().next().is_none();
    ObjectReport {
        file: f.file.clone(),
        document: f.place.map(|p| p.number),
        item: f.place.and_then(|p| p.item.map(|i| i + 1)),
        api_version: f.value.get("apiVersion").and_then(Value::as_str).map(str::to_owned),
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

fn test(args: PolicyTestArgs, printer: &Printer) -> anyhow::Result<()> {
    let platform = Platform::from_files(&args.platform)?;
    let files = super::files::expand(&args.files, false)?;
    let mut policies = Vec::new();
    let mut objects = Vec::new();
    let mut unreadable = Vec::new();
    for file in &files {
        for item in read_file(file, &mut unreadable) {
            if policy::is_policy_document(&item.value) {
                policies.push(item);
            } else {
                objects.push(item);
            }
        }
    }
    if policies.is_empty() && unreadable.is_empty() {
        bail!(
            "no AdmissionPolicy (policy.kubectl-kkp.io/v1alpha1) in {}; give the policies with -f too",
            files.join(", ")
        );
    }
    if objects.is_empty() && unreadable.is_empty() {
        bail!("no objects to test in {}", files.join(", "));
    }
    let (set, policy_reports) = compile_policies(&policies);
    let user = args.as_user.as_ref().map(|name| UserInfo {
        username: name.clone(),
        groups: args.as_groups.clone(),
    });
    let user = user.or_else(|| {
        (!args.as_groups.is_empty()).then(|| UserInfo {
            username: String::new(),
            groups: args.as_groups.clone(),
        })
    });
    let values: Vec<&Value> = objects.iter().map(|o| &o.value).collect();
    let results: Vec<ObjectReport> = admit_with_policies(&values, &set, user.as_ref(), &platform)
        .into_iter()
        .zip(&objects)
        .map(|(e, f)| object_report(f, e))
        .collect();
    let report = Report {
        policies: policy_reports,
        results,
        unreadable,
    };

    let mut out = printer.stdout();
    let written = match args.output {
        TestFormat::Text => write_text(&mut out, &report),
        TestFormat::Json => serde_json::to_value(&report)
            .map_err(io::Error::other)
            .and_then(|v| writeln!(out, "{}", output::to_json(&v))),
    };
    match written.and_then(|()| out.flush()) {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => return Err(e).context("cannot write to stdout"),
        _ => {}
    }
    outcome(&report)
}

/// The exit: an error naming what failed, or Ok.
fn outcome(report: &Report) -> anyhow::Result<()> {
    let denied = report.results.iter().filter(|r| !r.allowed).count();
    let broken = report.policies.iter().filter(|p| !p.compiled).count();
    let unreadable = report.unreadable.len();
    let mut problems = Vec::new();
    if denied > 0 {
        problems.push(format!(
            "{denied} of {} {} denied by policy",
            report.results.len(),
            if report.results.len() == 1 {
                "object would be"
            } else {
                "objects would be"
            }
        ));
    }
    if broken > 0 {
        problems.push(format!(
            "{broken} {} not compile",
            if broken == 1 { "policy does" } else { "policies do" }
        ));
    }
    if unreadable > 0 {
        problems.push(format!(
            "{unreadable} {} could not be read",
            if unreadable == 1 { "input" } else { "inputs" }
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        bail!("{}", problems.join("; "))
    }
}

fn write_text(w: &mut dyn Write, report: &Report) -> io::Result<()> {
    writeln!(w, "Policies:")?;
    for p in &report.policies {
        match &p.error {
            None => writeln!(w, "  ✓ {} ({})", p.name, p.enforcement)?,
            Some(e) => writeln!(
                w,
                "  ✗ {} ({}): not enforced: {}",
                p.name,
                p.file,
                e.replace('\n', "\n      ")
            )?,
        }
    }
    writeln!(w)?;
    for r in &report.results {
        if let Some(why) = &r.skipped {
            writeln!(w, "○ {}: skipped: {why}", r.subject)?;
            continue;
        }
        let deny = r
            .violations
            .iter()
            .filter(|v| v.enforcement == Enforcement::Deny)
            .count();
        let (mark, what) = match (deny, r.violations.len()) {
            (0, 0) => (
                "✓",
                format!("no violations ({} of the policies apply)", r.matched.len()),
            ),
            (0, n) => (
                "!",
                format!("admitted with {n} {}", if n == 1 { "violation" } else { "violations" }),
            ),
            (d, _) => (
                "✗",
                format!("denied: {d} Deny {}", if d == 1 { "rule" } else { "rules" }),
            ),
        };
        writeln!(w, "{mark} {}: {what}", r.subject)?;
        for v in &r.violations {
            writeln!(
                w,
                "  - {:<5}  {}/{}: {}",
                v.enforcement.to_string(),
                v.policy,
                v.rule,
                v.message
            )?;
        }
    }
    for u in &report.unreadable {
        writeln!(w, "✗ {u}")?;
    }
    Ok(())
}

fn read_file(file: &str, unreadable: &mut Vec<String>) -> Vec<Found> {
    let shown = super::files::shown(file);
    let text = match super::files::read_text(file) {
        Ok(t) => t,
        Err(e) => {
            unreadable.push(format!("{shown}: cannot read: {e}"));
            return Vec::new();
        }
    };
    let (docs, errors) = documents::parse_stream(&text);
    unreadable.extend(errors.into_iter().map(|e| format!("{shown}: {e}")));
    docs.into_iter()
        .map(|d| Found {
            file: shown.clone(),
            place: Some(d.place()),
            value: d.value,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn found(value: Value, number: usize) -> Found {
        Found {
            file: "in.yaml".into(),
            place: Some(Place { number, item: None }),
            value,
        }
    }

    fn policy(name: &str, spec: Value) -> Value {
        json!({"apiVersion": "policy.kubectl-kkp.io/v1alpha1", "kind": "AdmissionPolicy",
               "metadata": {"name": name}, "spec": spec})
    }

    fn cluster() -> Value {
        json!({"apiVersion": "kubermatic.k8c.io/v1", "kind": "Cluster",
               "metadata": {"name": "abcd123456"},
               "spec": {"humanReadableName": "demo", "version": "1.35.7",
                        "cloud": {"dc": "hetzner-fsn1", "hetzner": {"token": "x"}}}})
    }

    #[test]
    fn policies_are_told_apart_from_objects() {
        assert!(policy::is_policy_document(&policy("p", json!({}))));
        assert!(!policy::is_policy_document(&cluster()));
        assert!(!policy::is_policy_document(
            &json!({"apiVersion": "other.io/v1", "kind": "AdmissionPolicy"})
        ));
    }

    #[test]
    fn broken_policies_are_reported_and_the_others_enforced() {
        let found = [
            found(policy("only-aws", json!({"rules": {"providers": ["aws"]}})), 1),
            found(policy("bad", json!({"rules": {"kubernetesVersions": "latest"}})), 2),
            found(policy("unparsable", json!({"rules": {"maxReplicas": "many"}})), 3),
        ];
        let (set, reports) = compile_policies(&found);
        assert_eq!(set.len(), 1);
        assert!(reports[0].compiled);
        assert!(!reports[1].compiled);
        assert!(
            reports[1]
                .error
                .as_deref()
                .is_some_and(|e| e.starts_with("rules.kubernetesVersions")),
            "{reports:?}"
        );
        assert!(
            reports[2]
                .error
                .as_deref()
                .is_some_and(|e| e.starts_with("the policy does not parse")),
            "{reports:?}"
        );
        assert_eq!(reports[2].file, "in.yaml, document 3");
    }

    #[test]
    fn the_text_report_names_policy_rule_and_enforcement() {
        let policies = [
            found(policy("only-aws", json!({"rules": {"providers": ["aws"]}})), 1),
            found(
                policy(
                    "team-label",
                    json!({"enforcement": "Warn", "rules": {"requiredLabels": ["team"]}}),
                ),
                2,
            ),
        ];
        let (set, policy_reports) = compile_policies(&policies);
        let objects = [found(cluster(), 3)];
        let values: Vec<&Value> = objects.iter().map(|o| &o.value).collect();
        let results: Vec<ObjectReport> = admit_with_policies(&values, &set, None, &Platform::builtin())
            .into_iter()
            .zip(&objects)
            .map(|(e, f)| object_report(f, e))
            .collect();
        let report = Report {
            policies: policy_reports,
            results,
            unreadable: Vec::new(),
        };
        let mut text = Vec::new();
        write_text(&mut text, &report).expect("written");
        let text = String::from_utf8(text).expect("utf-8");
        assert_eq!(
            text,
            "Policies:\n  ✓ only-aws (Deny)\n  ✓ team-label (Warn)\n\n✗ Cluster abcd123456: denied: 1 Deny rule\n  \
             - Deny   only-aws/providers: provider \"hetzner\" is not allowed; allowed: aws\n  \
             - Warn   team-label/requiredLabels: the label team is required\n"
        );
        assert_eq!(
            outcome(&report).unwrap_err().to_string(),
            "1 of 1 object would be denied by policy"
        );
        let json = serde_json::to_value(&report).expect("json");
        assert_eq!(json["results"][0]["allowed"], false);
        assert_eq!(json["results"][0]["document"], 3);
        assert_eq!(json["results"][0]["matched"], json!(["only-aws", "team-label"]));
        assert_eq!(
            json["results"][0]["violations"][1],
            json!({"policy": "team-label", "rule": "requiredLabels",
                   "message": "the label team is required", "enforcement": "Warn"})
        );
    }
}
