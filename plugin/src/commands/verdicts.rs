//! Objects admitted locally under a cluster's admission policies, and how their verdicts are
//! reported: shared by `generate`, `create cluster` (before it applies) and `policy test`.

use kkp_crds::admission::{self, Verdict};
use kkp_crds::policy::{Enforcement, PolicySet, Violation};
use kkp_crds::request::UserInfo;
use serde_json::Value;

use std::io::Write as _;

use semver::Version;

use super::validate;
use crate::exit::Reported;
use crate::k8s::client::Connection;
use crate::k8s::policies::{fetch_policies, whoami};
use crate::platform::Platform;
use crate::printer::Printer;

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
fn has_exemptions(set: &PolicySet, name: &str) -> bool {
    set.iter()
        .find(|p| p.name == name)
        .is_some_and(|p| !p.exempt_users.is_empty() || !p.exempt_groups.is_empty())
}

/// Before `create cluster` applies anything: reads the policies of the cluster it applies to (when
/// the user may), evaluates them on the objects and reports every violation on stderr. Deny
/// violations stop the command, as the webhook would refuse the objects.
pub async fn check_before_apply(
    conn: &Connection,
    objects: &[Value],
    platform: &Platform,
    printer: &Printer,
) -> anyhow::Result<()> {
    let Some(set) = fetch_policies(&conn.client).await? else {
        return Ok(());
    };
    if set.is_empty() {
        return Ok(());
    }
    let user = whoami(&conn.client).await;
    let refs: Vec<&Value> = objects.iter().collect();
    let found: Vec<(String, Violation)> = admit_with_policies(&refs, &set, user.as_ref(), platform)
        .into_iter()
        .flat_map(|verdict| {
            let subject = subject(&verdict);
            verdict.violations.into_iter().map(move |v| (subject.clone(), v))
        })
        .collect();
    report(&mut printer.stderr(), &found, user.is_some(), &set, conn)
}

fn report(
    w: &mut dyn std::io::Write,
    found: &[(String, Violation)],
    identity_known: bool,
    set: &PolicySet,
    conn: &Connection,
) -> anyhow::Result<()> {
    let mut denials = 0;
    for (subject, v) in found {
        let uncertain = !identity_known && has_exemptions(set, &v.policy);
        match v.enforcement {
            Enforcement::Deny if uncertain => writeln!(
                w,
                "Warning: {subject}: {v} (denied unless the policy exempts you; who you are could not be determined)"
            )?,
            Enforcement::Deny => {
                denials += 1;
                writeln!(w, "error: {subject}: {v}")?;
            }
            Enforcement::Warn => writeln!(w, "Warning: {subject}: {v}")?,
            Enforcement::Audit => writeln!(w, "Audit: {subject}: {v} (admitted and recorded)")?,
        }
    }
    if denials == 0 {
        return Ok(());
    }
    let message = format!(
        "the cluster's objects break {denials} admission policy {} of {}; nothing was sent. List the policies with: \
         kubectl kkp get policies",
        if denials == 1 { "rule" } else { "rules" },
        conn.describe()
    );
    writeln!(w, "error: {message}")?;
    Err(Reported(message).into())
}

/// Defaults and validates the objects as admission would, reporting problems on stderr.
pub fn admit_generated(
    objects: Vec<Value>,
    platform: &Platform,
    cluster_version: Option<Version>,
    printer: &Printer,
) -> anyhow::Result<Vec<Value>> {
    let inputs: Vec<validate::Input> = objects.into_iter().map(validate::Input::generated).collect();
    let opts = validate::CheckOptions {
        platform: platform.clone(),
        cluster_version,
    };
    let checked = validate::check(inputs, &opts);
    let mut stderr = printer.stderr();
    let invalid: Vec<&validate::Checked> = checked.iter().filter(|c| !c.allowed()).collect();
    for c in &checked {
        if c.allowed() {
            for w in c.warnings() {
                let _ = writeln!(stderr, "Warning: {} {}: {w}", c.kind(), c.name());
            }
        }
    }
    if !invalid.is_empty() {
        let mut report = Vec::new();
        validate::write_text_report(&mut report, &invalid, false)?;
        let _ = stderr.write_all(&report);
        let errors: usize = invalid.iter().map(|c| c.error_count()).sum();
        anyhow::bail!(
            "the generated objects are not valid ({errors} {}); set the variables they come from, or pass \
             --skip-validation to print them as they are",
            if errors == 1 { "error" } else { "errors" }
        );
    }
    Ok(checked.into_iter().map(validate::Checked::into_object).collect())
}

#[cfg(test)]
mod tests {
    use kkp_crds::policy::AdmissionPolicy;
    use kube::Client;

    use super::*;
    use serde_json::json;

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

    fn conn() -> Connection {
        let config = kube::Config::new("https://127.0.0.1:1".parse().expect("a url"));
        Connection {
            client: Client::try_from(config).expect("a client"),
            context: "seed".into(),
            server: "https://127.0.0.1:1".into(),
            namespace: "default".into(),
            namespace_from_flag: false,
        }
    }

    #[tokio::test]
    async fn denials_stop_the_command_and_warnings_do_not() {
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
        let c = conn();
        let mut out = Vec::new();
        let warned = [("Cluster a".to_owned(), violation("only-aws", Enforcement::Warn))];
        assert!(report(&mut out, &warned, true, &s, &c).is_ok());
        assert_eq!(
            String::from_utf8_lossy(&out),
            "Warning: Cluster a: policy \"only-aws\" rule providers: provider \"hetzner\" is not allowed; allowed: aws\n"
        );
        let mut out = Vec::new();
        let denied = [
            ("Cluster a".to_owned(), violation("only-aws", Enforcement::Deny)),
            ("Cluster a".to_owned(), violation("exempting", Enforcement::Deny)),
        ];
        let err = report(&mut out, &denied, false, &s, &c).unwrap_err();
        assert!(err.downcast_ref::<Reported>().is_some());
        let text = String::from_utf8_lossy(&out);
        assert!(
            text.starts_with("error: Cluster a: policy \"only-aws\" rule providers: "),
            "{text}"
        );
        assert!(
            text.contains("Warning: Cluster a: policy \"exempting\" rule providers: provider \"hetzner\" is not allowed; allowed: aws (denied unless the policy exempts you"),
            "{text}"
        );
        assert!(
            text.contains(
                "error: the cluster's objects break 1 admission policy rule of context \"seed\"; nothing was sent"
            ),
            "{text}"
        );
    }
}
