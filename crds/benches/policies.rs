//! Validation of a Cluster and a MachineDeployment with 50 varied admission policies installed
//! (allow-lists, limits, selectors, exemptions and a few CEL rules), next to the same validation
//! without policies, and compiling the 50 policies. The policies' share of a review is the
//! difference between the two.

#[path = "fixtures/policies.rs"]
mod fixtures;
#[path = "fixtures/objects.rs"]
mod objects;

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use kkp_crds::admission::{mutate, validate};
use kkp_crds::context::Context;
use kkp_crds::policy::{AdmissionPolicy, Enforcement, PolicySet};
use kkp_crds::request::{Request, UserInfo};
use kube_cel::KubeCelExt;
use objects::{cluster, machine_deployment};
use serde_json::Value;

/// The object as the validating webhook sees it: defaulted by the mutating one.
fn defaulted(object: &Value) -> Value {
    mutate(&Request::create(object), &Context::default())
        .object
        .expect("the benchmark objects default cleanly")
}

fn fifty() -> Vec<AdmissionPolicy> {
    fixtures::policies(fixtures::COUNT)
        .into_iter()
        .map(|p| serde_json::from_value(p).expect("a policy"))
        .collect()
}

fn bench(c: &mut Criterion) {
    let policies = fifty();
    let (set, failed) = PolicySet::compile(&policies);
    assert!(failed.is_empty(), "every benchmark policy compiles: {failed:?}");
    assert_eq!(set.len(), fixtures::COUNT);
    let with = Context {
        policies: set,
        ..Context::default()
    };
    let without = Context::default();
    let user = UserInfo {
        username: "alice".into(),
        groups: vec!["developers".into()],
    };
    let (cluster, md) = (defaulted(&cluster()), defaulted(&machine_deployment()));
    for object in [&cluster, &md] {
        let request = Request {
            user: Some(&user),
            ..Request::create(object)
        };
        let verdict = validate(&request, &with);
        assert!(verdict.allowed(), "{}", verdict.message());
        assert!(
            verdict.violations.iter().all(|v| v.enforcement != Enforcement::Deny),
            "{:?}",
            verdict.violations
        );
    }

    // The same set without the five policies that hold CEL rules: the CEL rules' share.
    let plain: Vec<AdmissionPolicy> = policies
        .iter()
        .filter(|p| p.spec.rules.cel.is_none())
        .cloned()
        .collect();
    let without_cel = Context {
        policies: PolicySet::compile(&plain).0,
        ..Context::default()
    };

    let mut group = c.benchmark_group("policies");
    for (name, object) in [("cluster", &cluster), ("machinedeployment", &md)] {
        let request = Request {
            user: Some(&user),
            ..Request::create(object)
        };
        group.bench_function(format!("validate_{name}_no_policies"), |b| {
            b.iter(|| validate(black_box(&request), black_box(&without)))
        });
        group.bench_function(format!("validate_{name}_50_policies"), |b| {
            b.iter(|| validate(black_box(&request), black_box(&with)))
        });
        group.bench_function(format!("validate_{name}_45_policies_without_cel"), |b| {
            b.iter(|| validate(black_box(&request), black_box(&without_cel)))
        });
    }
    // What one policy with CEL rules pays before its first rule runs: a CEL context with the
    // Kubernetes functions, and the object handed to it.
    group.bench_function("cel_context_with_object", |b| {
        b.iter(|| {
            let mut ctx = kube_cel::cel::Context::default().with_all();
            ctx.add_variable("object", black_box(&cluster).clone())
                .expect("the object converts");
            ctx
        })
    });
    group.bench_function("compile_50_policies", |b| {
        b.iter(|| PolicySet::compile(black_box(&policies)))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
