//! Example objects as a user writes them (nothing defaulted), shared by the end-to-end tests:
//! KKP Clusters and machine-controller MachineDeployments. Tests change the fields they are about
//! on the returned JSON.

use kube::api::DynamicObject;
use serde_json::{Value, json};

/// The KKP project every example Cluster belongs to.
pub const PROJECT_ID: &str = "xw2k9fgh4t";

/// A Hetzner Cluster in datacenter `dc`, its credentials by reference.
pub fn hetzner_cluster(name: &str, version: &str, dc: &str) -> Value {
    cluster(
        name,
        version,
        dc,
        "hetzner",
        json!({
            "credentialsReference": {"name": "credential-hetzner", "namespace": "kubermatic"},
            "network": "kkp"
        }),
    )
}

/// A Hetzner Cluster in datacenter `dc` with its API token written into the object (what a
/// `forbidInlineCredentials` policy catches).
pub fn hetzner_cluster_with_token(name: &str, version: &str, dc: &str) -> Value {
    cluster(name, version, dc, "hetzner", json!({"token": "inline-token"}))
}

/// An AWS Cluster in KKP's example datacenter `aws-eu-central-1a`, its credentials by reference.
pub fn aws_cluster(name: &str, version: &str) -> Value {
    cluster(
        name,
        version,
        "aws-eu-central-1a",
        "aws",
        json!({
            "credentialsReference": {"name": "credential-aws", "namespace": "kubermatic"},
            "vpcID": "vpc-0123456789"
        }),
    )
}

fn cluster(name: &str, version: &str, dc: &str, provider: &str, provider_spec: Value) -> Value {
    json!({
        "apiVersion": "kubermatic.k8c.io/v1",
        "kind": "Cluster",
        "metadata": {"name": name, "labels": {"project-id": PROJECT_ID}},
        "spec": {
            "humanReadableName": "e2e",
            "version": version,
            "cloud": {"dc": dc, provider: provider_spec}
        }
    })
}

/// One Hetzner `cx22` worker in `fsn1` with kubelet `kubelet`, selected by the label `pool: <name>`.
pub fn machine_deployment(name: &str, namespace: &str, kubelet: &str) -> Value {
    machine_deployment_of(name, namespace, 1, hetzner_provider_spec("cx22"), kubelet)
}

/// A MachineDeployment of `replicas` workers with `provider_spec` (`{"value": …}`) and kubelet
/// `kubelet`, selected by the label `pool: <name>`.
pub fn machine_deployment_of(name: &str, namespace: &str, replicas: i64, provider_spec: Value, kubelet: &str) -> Value {
    json!({
        "apiVersion": "cluster.k8s.io/v1alpha1",
        "kind": "MachineDeployment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"pool": name}},
            "template": {
                "metadata": {"labels": {"pool": name}},
                "spec": {"providerSpec": provider_spec, "versions": {"kubelet": kubelet}}
            }
        }
    })
}

/// The provider spec of Ubuntu workers on Hetzner in `fsn1`, of `server_type` (any JSON, to send
/// wrong types too), with an inline API token.
pub fn hetzner_provider_spec(server_type: impl Into<Value>) -> Value {
    json!({"value": {
        "cloudProvider": "hetzner",
        "cloudProviderSpec": {"token": "inline-token", "serverType": server_type.into(), "location": "fsn1"},
        "operatingSystem": "ubuntu",
        "operatingSystemSpec": {}
    }})
}

/// The provider spec of Ubuntu workers on vSphere with `cpus` (any JSON, to send wrong values too).
pub fn vsphere_provider_spec(cpus: impl Into<Value>) -> Value {
    json!({"value": {
        "cloudProvider": "vsphere",
        "cloudProviderSpec": {
            "templateVMName": "ubuntu-24.04", "datacenter": "dc1", "folder": "/dc1/vm/kkp",
            "datastore": "ds1", "cpus": cpus.into(), "memoryMB": 4096, "diskSizeGB": 20
        },
        "operatingSystem": "ubuntu",
        "operatingSystemSpec": {}
    }})
}

/// `value` as an object to send with a kube client.
pub fn object(value: &Value) -> DynamicObject {
    serde_json::from_value(value.clone()).expect("a Kubernetes object")
}

#[cfg(test)]
mod tests {
    use kkp_crds::admission::admit;
    use kkp_crds::context::Context;
    use kkp_crds::request::Request;

    use super::*;

    #[test]
    fn the_examples_are_admitted_offline() {
        for example in [
            hetzner_cluster("h", "1.35.7", "hetzner-fsn1"),
            hetzner_cluster_with_token("t", "1.35.7", "hetzner-fsn1"),
            aws_cluster("a", "1.35.7"),
            machine_deployment("workers", "kube-system", "1.35.7"),
            machine_deployment_of("big", "kube-system", 3, vsphere_provider_spec(2), "1.35.7"),
        ] {
            let verdict = admit(&Request::create(&example), &Context::default());
            assert!(verdict.allowed(), "{example}: {:?}", verdict.errors);
        }
    }
}
