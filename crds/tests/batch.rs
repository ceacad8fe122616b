//! Admitting objects together: the lone Cluster's version for the MachineDeployments, and
//! `maxWorkers` over the MachineDeployments of the set, while each object alone gets what the
//! webhook gives it.

mod common;

use common::{cluster, machine_deployment, with};
use kkp_crds::admission::{Verdict, admit, admit_all, lone_cluster_version};
use kkp_crds::context::Context;
use kkp_crds::policy::{Enforcement, PolicySet};
use kkp_crds::providers::Provider;
use kkp_crds::request::{Request, UserInfo};
use pretty_assertions::assert_eq;
use serde_json::{Value, json};

fn context(spec: Value) -> Context {
    let policy = json!({
        "apiVersion": "policy.kubectl-kkp.io/v1alpha1", "kind": "AdmissionPolicy",
        "metadata": { "name": "few-workers" }, "spec": spec
    });
    let (policies, loaded) = PolicySet::from_documents([&policy]);
    assert!(loaded.iter().all(|l| l.in_force()), "{loaded:?}");
    Context {
        policies,
        ..Context::default()
    }
}

fn md(name: &str, replicas: i64) -> Value {
    let md = with(&machine_deployment(Provider::Hetzner), "/metadata/name", json!(name));
    with(&md, "/spec/replicas", json!(replicas))
}

fn denials(verdict: &Verdict) -> Vec<String> {
    verdict.denials().map(ToString::to_string).collect()
}

#[test]
fn workers_are_totalled_over_the_set_and_each_machine_deployment_alone_is_admitted() {
    let ctx = context(json!({ "rules": { "maxWorkers": 4 } }));
    let objects = [cluster(Provider::Hetzner), md("a", 3), md("b", 3)];
    for alone in &objects {
        let verdict = admit(&Request::create(alone), &ctx);
        assert!(
            verdict.allowed(),
            "{}: {:?} {:?}",
            verdict.name,
            verdict.errors,
            verdict.violations
        );
    }
    let verdicts = admit_all(&objects, &ctx, None);
    assert!(verdicts[0].allowed(), "the Cluster is not the one over the limit");
    let total = "policy \"few-workers\" rule maxWorkers: 6 workers across 2 MachineDeployments exceed the maximum \
                 of 4 per cluster";
    assert_eq!(denials(&verdicts[1]), [total]);
    assert_eq!(denials(&verdicts[2]), [total]);
    assert_eq!(verdicts[1].code(), 403);
}

#[test]
fn a_total_within_the_limit_is_admitted() {
    let ctx = context(json!({ "rules": { "maxWorkers": 6 } }));
    let objects = [cluster(Provider::Hetzner), md("a", 3), md("b", 3)];
    assert!(admit_all(&objects, &ctx, None).iter().all(Verdict::allowed));
}

#[test]
fn a_machine_deployment_over_the_limit_alone_gets_one_violation_not_two() {
    let ctx = context(json!({ "rules": { "maxWorkers": 4 } }));
    let objects = [md("a", 5), md("b", 1)];
    let verdicts = admit_all(&objects, &ctx, None);
    assert_eq!(
        denials(&verdicts[0]),
        ["policy \"few-workers\" rule maxWorkers: 5 workers exceed the maximum of 4 per cluster"]
    );
    assert_eq!(
        denials(&verdicts[1]),
        [
            "policy \"few-workers\" rule maxWorkers: 6 workers across 2 MachineDeployments exceed the maximum of 4 \
          per cluster"
        ]
    );
}

#[test]
fn only_the_machine_deployments_a_policy_selects_count_under_its_enforcement() {
    let ctx = context(json!({
        "enforcement": "Warn",
        "selector": { "matchLabels": { "pool": "big" } },
        "rules": { "maxWorkers": 4 }
    }));
    let big = |name: &str| with(&md(name, 3), "/metadata/labels", json!({ "pool": "big" }));
    let objects = [big("a"), md("small", 3), big("b")];
    let verdicts = admit_all(&objects, &ctx, None);
    assert!(verdicts.iter().all(Verdict::allowed), "a Warn policy warns");
    let warned = |v: &Verdict| {
        v.violations
            .iter()
            .filter(|x| x.enforcement == Enforcement::Warn)
            .count()
    };
    assert_eq!(verdicts.iter().map(warned).collect::<Vec<_>>(), [1, 0, 1]);
    assert!(verdicts[0].violations[0].message.starts_with("6 workers across 2"));
}

#[test]
fn exempt_users_are_not_counted() {
    let ctx = context(json!({ "exemptions": { "groups": ["admins"] }, "rules": { "maxWorkers": 4 } }));
    let admin = UserInfo {
        username: "carol".into(),
        groups: vec!["admins".into()],
    };
    let objects = [md("a", 3), md("b", 3)];
    assert!(admit_all(&objects, &ctx, Some(&admin)).iter().all(Verdict::allowed));
    assert!(!admit_all(&objects, &ctx, None).iter().any(Verdict::allowed));
}

#[test]
fn machine_deployments_beside_several_clusters_are_judged_alone() {
    let ctx = context(json!({ "rules": { "maxWorkers": 4 } }));
    let other = with(&cluster(Provider::Hetzner), "/metadata/name", json!("other12345"));
    let objects = [cluster(Provider::Hetzner), other, md("a", 3), md("b", 3)];
    assert!(admit_all(&objects, &ctx, None).iter().all(Verdict::allowed));
}

#[test]
fn the_lone_cluster_gives_the_machine_deployments_their_version() {
    let c = with(&cluster(Provider::Hetzner), "/spec/version", json!("1.35.2"));
    let old_kubelet = with(&md("a", 1), "/spec/template/spec/versions/kubelet", json!("1.32.1"));
    let objects = [c.clone(), old_kubelet.clone()];
    assert_eq!(lone_cluster_version(&objects), Some(semver::Version::new(1, 35, 2)));
    let verdicts = admit_all(&objects, &Context::default(), None);
    assert!(
        verdicts[1].errors.iter().any(|e| e
            .to_string()
            .starts_with("spec.template.spec.versions.kubelet: Invalid value")),
        "{:?}",
        verdicts[1].errors
    );
    assert!(admit(&Request::create(&old_kubelet), &Context::default()).allowed());
    assert_eq!(lone_cluster_version(&[c.clone(), c]), None, "two Clusters: no lone one");
}
