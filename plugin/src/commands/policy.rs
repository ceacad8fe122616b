//! `kubectl kkp policy`: admission policies offline. `policy test` evaluates policies on objects
//! with the same engine as the webhook, without contacting any cluster.

use anyhow::bail;
use kkp_crds::policy::{self, PolicySet};
use kkp_crds::request::UserInfo;
use serde_json::Value;

use super::verdicts;
use super::verdicts::admit::{Input, admit_with_policies};
use super::verdicts::render::{self, PolicyReport, PolicyResult, PolicyTest};
use crate::cli::policy::{PolicyCommand, PolicyTestArgs, PolicyWhat};
use crate::exit::Outcome;
use crate::platform::Platform;
use crate::printer::Printer;
use crate::settings::GlobalSettings;

pub async fn run(cmd: PolicyCommand, _g: &GlobalSettings, printer: &Printer) -> Outcome {
    match cmd.what {
        PolicyWhat::Test(args) => test(args, printer),
    }
}

/// Where an input was: `FILE, document N`.
fn where_in(input: &Input) -> String {
    let file = input.file.as_deref().unwrap_or("(generated)");
    match input.place {
        Some(p) => format!("{file}, {p}"),
        None => file.to_owned(),
    }
}

/// Compiles the policies found, one report each (also for those that do not parse or compile).
fn compile_policies(found: &[Input]) -> (PolicySet, Vec<PolicyReport>) {
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
            file: where_in(f),
            enforcement: l.enforcement,
            compiled: l.error.is_none(),
            error: l.error.map(|e| e.to_string()),
        })
        .collect();
    (set, reports)
}

/// The objects admitted together under the policies, a result each.
fn results(objects: &[Input], set: &PolicySet, user: Option<&UserInfo>, platform: &Platform) -> Vec<PolicyResult> {
    let values: Vec<&Value> = objects.iter().map(|o| &o.value).collect();
    admit_with_policies(&values, set, user, platform)
        .into_iter()
        .zip(objects)
        .map(|(verdict, input)| PolicyResult::of(input, verdict))
        .collect()
}

fn test(args: PolicyTestArgs, printer: &Printer) -> Outcome {
    let platform = Platform::from_files(&args.platform)?;
    let files = super::files::expand(&args.files, false)?;
    let mut policies = Vec::new();
    let mut objects = Vec::new();
    let mut unreadable = Vec::new();
    for file in &files {
        let (found, failed) = super::files::read_objects(file);
        unreadable.extend(failed);
        for item in found {
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
    let report = PolicyTest {
        policies: policy_reports,
        results: results(&objects, &set, user.as_ref(), &platform),
        unreadable,
    };
    let text = render::in_format(
        args.output,
        || render::policy_test_text(&report),
        || render::policy_test_json(&report),
    );
    verdicts::conclude(&text, render::policy_test_summary(&report), printer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::documents::Place;
    use serde_json::json;

    fn found(value: Value, number: usize) -> Input {
        Input {
            file: Some("in.yaml".into()),
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
        let report = PolicyTest {
            policies: policy_reports,
            results: results(&objects, &set, None, &Platform::builtin()),
            unreadable: Vec::new(),
        };
        let text = render::policy_test_text(&report);
        assert_eq!(
            text,
            "Policies:\n  ✓ only-aws (Deny)\n  ✓ team-label (Warn)\n\n✗ Cluster abcd123456: denied: 1 Deny rule\n  \
             - Deny   only-aws/providers: provider \"hetzner\" is not allowed; allowed: aws\n  \
             - Warn   team-label/requiredLabels: the label team is required\n"
        );
        assert_eq!(
            render::policy_test_summary(&report).as_deref(),
            Some("1 of 1 object would be denied by policy")
        );
        let json = render::policy_test_json(&report);
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
