//! Validation of a Cluster and a MachineDeployment with 50 varied admission policies installed
//! (allow-lists, limits, selectors, exemptions and a few CEL rules), next to the same validation
//! without policies, and compiling the 50 policies. The policies' share of a review is the
//! difference between the two.

#[path = "fixtures/policies.rs"]
mod fixtures;

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use kkp_crds::admission::{Context, Request, UserInfo, mutate, validate};
use kkp_crds::policy::{AdmissionPolicy, Enforcement, PolicySet};
use kube_cel::KubeCelExt;
use serde_json::{Value, json};

fn cluster() -> Value {
    json!({
        "apiVersion": "kubermatic.k8c.io/v1",
        "kind": "Cluster",
        "metadata": { "name": "k7bxrtzfwl", "labels": { "project-id": "xw2k9fgh4t" } },
        "spec": {
            "humanReadableName": "production eu",
            "version": "1.35.7",
            "cloud": {
                "dc": "aws-eu-central-1a",
                "aws": {
                    "credentialsReference": { "name": "credential-aws-k7bxrtzfwl", "namespace": "kubermatic" },
                    "instanceProfileName": "", "roleARN": "", "routeTableID": "", "securityGroupID": "",
                    "vpcID": "vpc-0123456789"
                }
            },
            "exposeStrategy": "LoadBalancer"
        }
    })
}

fn machine_deployment() -> Value {
    json!({
        "apiVersion": "cluster.k8s.io/v1alpha1",
        "kind": "MachineDeployment",
        "metadata": { "name": "k7bxrtzfwl-worker", "namespace": "kube-system" },
        "spec": {
            "replicas": 3,
            "selector": { "matchLabels": { "machine": "md-k7bxrtzfwl-worker" } },
            "template": {
                "metadata": { "labels": { "machine": "md-k7bxrtzfwl-worker" } },
                "spec": {
                    "providerSpec": { "value": {
                        "cloudProvider": "aws",
                        "cloudProviderSpec": {
                            "region": "eu-central-1", "availabilityZone": "eu-central-1a", "vpcId": "vpc-0123456789",
                            "subnetId": "subnet-0123", "instanceType": "t3.medium", "instanceProfile": "kkp-workers",
                            "securityGroupIDs": ["sg-0123"], "diskSize": 50, "diskType": "gp3"
                        },
                        "operatingSystem": "ubuntu",
                        "operatingSystemSpec": { "distUpgradeOnBoot": false }
                    } },
                    "versions": { "kubelet": "1.35.7" }
                }
            }
        }
    })
}

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
