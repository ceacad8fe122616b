//! Example objects for the engine's tests: one minimal, valid Cluster and MachineDeployment per
//! provider, written from the model reference after upstream's examples.
#![allow(dead_code)]

use kkp_crds::admission::{admit, validate};
use kkp_crds::context::Context;
use kkp_crds::providers::Provider;
use kkp_crds::request::Request;
use serde_json::{Value, json};

pub const SSH_KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl demo@example";

fn creds_ref(provider: &str, name: &str) -> Value {
    json!({ "name": format!("credential-{provider}-{name}"), "namespace": "kubermatic" })
}

/// The `spec.cloud.<provider>` block of a valid Cluster.
pub fn cluster_block(p: Provider) -> Value {
    let r = creds_ref(p.name(), "xyz");
    match p {
        Provider::Aws => json!({
            "credentialsReference": r, "instanceProfileName": "", "roleARN": "", "routeTableID": "",
            "securityGroupID": "", "vpcID": "vpc-0123456789"
        }),
        Provider::Azure => json!({
            "credentialsReference": r, "availabilitySet": "", "loadBalancerSKU": "standard", "resourceGroup": "",
            "routeTable": "", "securityGroup": "", "subnet": "", "vnet": "", "vnetResourceGroup": ""
        }),
        Provider::Gcp => json!({ "credentialsReference": r, "network": "global/networks/default", "subnetwork": "" }),
        Provider::Hetzner => json!({ "credentialsReference": r, "network": "kkp" }),
        Provider::Vsphere => json!({
            "credentialsReference": r, "infraManagementUser": {}, "storagePolicy": "", "datastore": "ds1",
            "folder": "/dc/vm/kkp"
        }),
        Provider::Openstack => json!({
            "credentialsReference": r, "floatingIPPool": "ext-net", "network": "", "routerID": "",
            "securityGroups": "", "subnetID": ""
        }),
        Provider::Digitalocean => json!({ "credentialsReference": r }),
        Provider::Kubevirt => json!({ "credentialsReference": r }),
    }
}

pub fn datacenter(p: Provider) -> String {
    format!("{}-dc1", p.name())
}

/// A minimal Cluster as a user writes it: no defaults filled in.
pub fn cluster(p: Provider) -> Value {
    json!({
        "apiVersion": "kubermatic.k8c.io/v1",
        "kind": "Cluster",
        "metadata": { "name": "k7bxrtzfwl", "labels": { "project-id": "xw2k9fgh4t" } },
        "spec": {
            "humanReadableName": "demo",
            "version": "1.35.7",
            "cloud": { "dc": datacenter(p), p.name(): cluster_block(p) }
        }
    })
}

/// The `cloudProviderSpec` of a valid MachineDeployment.
pub fn machine_block(p: Provider) -> Value {
    match p {
        Provider::Aws => json!({
            "region": "eu-central-1", "availabilityZone": "eu-central-1a", "vpcId": "vpc-0123456789",
            "subnetId": "subnet-0123", "instanceType": "t3.medium", "instanceProfile": "kkp-workers",
            "securityGroupIDs": ["sg-0123"], "diskSize": 50, "diskType": "gp3", "tags": { "KubernetesCluster": "k7bxrtzfwl" }
        }),
        Provider::Azure => json!({
            "location": "westeurope", "resourceGroup": "kkp", "vmSize": "Standard_D2s_v3", "vnetName": "kkp",
            "subnetName": "kkp", "routeTableName": "kkp", "securityGroupName": "kkp",
            "tenantID": { "secretKeyRef": { "namespace": "kube-system", "name": "azure", "key": "tenantID" } },
            "subscriptionID": "sub", "clientID": "client", "clientSecret": "secret"
        }),
        Provider::Gcp => json!({
            "serviceAccount": "e30=", "zone": "europe-west3-a", "machineType": "n1-standard-2",
            "diskSize": 50, "diskType": "pd-ssd"
        }),
        Provider::Hetzner => {
            json!({ "token": "hz", "serverType": "cx22", "location": "fsn1", "image": "ubuntu-24.04" })
        }
        Provider::Vsphere => json!({
            "templateVMName": "ubuntu-template", "username": "u", "password": "p", "vsphereURL": "https://vc.example",
            "datacenter": "dc1", "folder": "/dc1/vm/kkp", "datastore": "ds1", "cpus": 2, "memoryMB": 4096,
            "diskSizeGB": 20, "allowInsecure": false
        }),
        Provider::Openstack => json!({
            "identityEndpoint": "https://keystone.example:5000/v3", "username": "u", "password": "p",
            "domainName": "default", "projectName": "kkp", "image": "ubuntu-24.04", "flavor": "m1.medium",
            "region": "RegionOne", "network": "kkp", "securityGroups": ["kkp"], "floatingIpPool": "ext-net"
        }),
        Provider::Digitalocean => json!({ "token": "do", "region": "fra1", "size": "s-2vcpu-4gb" }),
        Provider::Kubevirt => json!({
            "auth": { "kubeconfig": { "value": "YXBpVmVyc2lvbjogdjE=" } },
            "virtualMachine": {
                "template": {
                    "cpus": "2", "memory": "4Gi",
                    "primaryDisk": { "osImage": "http://images.example/ubuntu.img", "size": "20Gi", "storageClassName": "standard" }
                }
            }
        }),
    }
}

/// A minimal MachineDeployment as a user writes it.
pub fn machine_deployment(p: Provider) -> Value {
    json!({
        "apiVersion": "cluster.k8s.io/v1alpha1",
        "kind": "MachineDeployment",
        "metadata": { "name": "k7bxrtzfwl-worker", "namespace": "kube-system" },
        "spec": {
            "selector": { "matchLabels": { "machine": "md-k7bxrtzfwl-worker" } },
            "template": {
                "metadata": { "labels": { "machine": "md-k7bxrtzfwl-worker" } },
                "spec": {
                    "providerSpec": { "value": {
                        "sshPublicKeys": [SSH_KEY],
                        "cloudProvider": p.machine_name(),
                        "cloudProviderSpec": machine_block(p),
                        "operatingSystem": "ubuntu",
                        "operatingSystemSpec": { "distUpgradeOnBoot": false }
                    } },
                    "versions": { "kubelet": "1.35.7" }
                }
            }
        }
    })
}

/// The defaulted form of an object, as the mutating webhook leaves it.
pub fn defaulted(object: &Value) -> Value {
    let v = admit(&Request::create(object), &Context::default());
    v.object.unwrap_or_else(|| panic!("defaulting failed: {:?}", v.errors))
}

/// The messages of every error `validate` finds on CREATE.
pub fn create_errors(object: &Value) -> Vec<String> {
    validate(&Request::create(object), &Context::default())
        .errors
        .iter()
        .map(ToString::to_string)
        .collect()
}

/// The messages of every error `validate` finds on UPDATE.
pub fn update_errors(old: &Value, new: &Value) -> Vec<String> {
    validate(&Request::update(new, old), &Context::default())
        .errors
        .iter()
        .map(ToString::to_string)
        .collect()
}

/// Sets a JSON pointer in a clone of the object, creating objects on the way.
pub fn with(object: &Value, pointer: &str, value: Value) -> Value {
    let mut out = object.clone();
    let mut cur = &mut out;
    let parts: Vec<String> = pointer.split('/').skip(1).map(|s| s.replace("~1", "/")).collect();
    for (i, part) in parts.iter().enumerate() {
        if i == parts.len() - 1 {
            match cur {
                Value::Array(a) => a[part.parse::<usize>().expect("index")] = value.clone(),
                other => {
                    other[part.as_str()] = value.clone();
                }
            }
            break;
        }
        cur = match cur {
            Value::Array(a) => &mut a[part.parse::<usize>().expect("index")],
            other => {
                if other.get(part.as_str()).is_none() {
                    other[part.as_str()] = json!({});
                }
                other.get_mut(part.as_str()).expect("just inserted")
            }
        };
    }
    out
}

/// Removes a JSON pointer from a clone of the object.
pub fn without(object: &Value, pointer: &str) -> Value {
    let mut out = object.clone();
    let (parent, key) = pointer.rsplit_once('/').expect("a pointer");
    if let Some(p) = out.pointer_mut(parent).and_then(Value::as_object_mut) {
        p.remove(key);
    }
    out
}
