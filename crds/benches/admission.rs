//! Default + validate of a typical Cluster and a typical MachineDeployment, as admission does it.
//! Target: under 50 µs each.

use criterion::{Criterion, criterion_group, criterion_main};
use kkp_crds::admission::{Context, Request, admit, mutate, validate};
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
            "exposeStrategy": "LoadBalancer",
            "apiServerAllowedIPRanges": { "cidrBlocks": ["10.0.0.0/8", "192.168.0.0/16"] }
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
                        "sshPublicKeys": ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl demo"],
                        "cloudProvider": "aws",
                        "cloudProviderSpec": {
                            "region": "eu-central-1", "availabilityZone": "eu-central-1a", "vpcId": "vpc-0123456789",
                            "subnetId": "subnet-0123", "instanceType": "t3.medium", "instanceProfile": "kkp-workers",
                            "securityGroupIDs": ["sg-0123"], "diskSize": 50, "diskType": "gp3", "tags": { "team": "a" }
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

fn bench(c: &mut Criterion) {
    let ctx = Context::default();
    for (name, object) in [("cluster", cluster()), ("machinedeployment", machine_deployment())] {
        let verdict = admit(&Request::create(&object), &ctx);
        assert!(verdict.allowed(), "{name}: {:?}", verdict.errors);
        let defaulted = verdict.object.expect("defaulted");
        c.bench_function(&format!("{name}/default+validate"), |b| {
            b.iter(|| admit(&Request::create(&object), &ctx))
        });
        c.bench_function(&format!("{name}/default"), |b| {
            b.iter(|| mutate(&Request::create(&object), &ctx))
        });
        c.bench_function(&format!("{name}/validate"), |b| {
            b.iter(|| validate(&Request::create(&defaulted), &ctx))
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
