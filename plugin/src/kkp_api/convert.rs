//! Between the engine's objects and the API's bodies: a KKP `Cluster` and its machine-controller
//! `MachineDeployment`s become a `CreateClusterSpec`, and a `NodeDeployment` becomes a
//! `MachineDeployment` again so the admission engine can check it locally.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::models::{ApiCluster, ApiClusterSpec, CloudSpec, CreateClusterSpec, NodeDeployment, NodeSpec};

/// Labels KKP sets itself and filters out of the API's answers.
const SYSTEM_LABELS: [&str; 3] = ["project-id", "worker-name", "is-credential-preset"];

/// `Cluster.spec` fields the API does not have (KKP sets or keeps them itself).
const NOT_IN_API: [&str; 10] = [
    "humanReadableName",
    "imagePullSecret",
    "authenticationConfiguration",
    "applicationSettings",
    "pause",
    "pauseReason",
    "debugLog",
    "enableOperatingSystemManager",
    "authorizationConfig",
    "containerRuntimeOpts",
];

const AUTOSCALER_MIN: &str = "cluster.k8s.io/cluster-api-autoscaler-node-group-min-size";
const AUTOSCALER_MAX: &str = "cluster.k8s.io/cluster-api-autoscaler-node-group-max-size";

/// A machine deployment's provider fields: the API's `template.cloud.<provider>` key and the
/// path of the same value in machine-controller's `cloudProviderSpec`.
fn provider_fields(provider: &str) -> Option<&'static [(&'static str, &'static str)]> {
    Some(match provider {
        "kubevirt" => &[
            ("cpus", "virtualMachine.template.cpus"),
            ("memory", "virtualMachine.template.memory"),
            ("primaryDiskOSImage", "virtualMachine.template.primaryDisk.osImage"),
            ("primaryDiskSize", "virtualMachine.template.primaryDisk.size"),
            (
                "primaryDiskStorageClassName",
                "virtualMachine.template.primaryDisk.storageClassName",
            ),
        ],
        "vsphere" => &[
            ("template", "templateVMName"),
            ("cpus", "cpus"),
            ("memory", "memoryMB"),
            ("diskSizeGB", "diskSizeGB"),
            ("vmAntiAffinity", "vmAntiAffinity"),
            ("vmGroup", "vmGroup"),
        ],
        "hetzner" => &[("type", "serverType")],
        "aws" => &[
            ("instanceType", "instanceType"),
            ("diskSize", "diskSize"),
            ("volumeType", "diskType"),
            ("ami", "ami"),
            ("availabilityZone", "availabilityZone"),
            ("subnetID", "subnetId"),
            ("assignPublicIP", "assignPublicIP"),
        ],
        _ => return None,
    })
}

fn get_path<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(value, |v, key| v.get(key))
}

fn set_path(value: &mut Value, path: &str, new: Value) {
    let mut at = value;
    let keys: Vec<&str> = path.split('.').collect();
    for key in &keys[..keys.len() - 1] {
        if !at.get(*key).is_some_and(Value::is_object) {
            at[*key] = json!({});
        }
        at = &mut at[*key];
    }
    at[keys[keys.len() - 1]] = new;
}

fn string_map(value: Option<&Value>) -> BTreeMap<String, String> {
    value
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

/// The API's `Cluster` for a KKP `Cluster` object. With `credential` (a KKP preset), the
/// provider's credentials reference and empty fields are left out: the preset fills them.
pub fn cluster_to_api(cluster: &Value, credential: Option<&str>) -> ApiCluster {
    let metadata = cluster.get("metadata").cloned().unwrap_or_default();
    let spec = cluster
        .get("spec")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let name = spec
        .get("humanReadableName")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
        .or_else(|| metadata.get("name").and_then(Value::as_str))
        .unwrap_or_default()
        .to_owned();
    let mut labels = string_map(metadata.get("labels"));
    labels.retain(|k, _| !SYSTEM_LABELS.contains(&k.as_str()));
    let mut rest: Map<String, Value> = spec
        .into_iter()
        .filter(|(k, _)| !NOT_IN_API.contains(&k.as_str()))
        .collect();
    // The API exposes only the OSM proxy of the component overrides.
    if let Some(proxy) = rest
        .get("componentsOverride")
        .and_then(|c| c.get("operatingSystemManager"))
        .and_then(|o| o.get("proxy"))
        .cloned()
    {
        rest.insert(
            "componentsOverride".into(),
            json!({"operatingSystemManager": {"proxy": proxy}}),
        );
    } else {
        rest.remove("componentsOverride");
    }
    let cloud_value = rest.remove("cloud").unwrap_or_default();
    let version = rest.remove("version").and_then(|v| v.as_str().map(str::to_owned));
    let mut cloud: CloudSpec = serde_json::from_value(cloud_value).unwrap_or_default();
    if credential.is_some() {
        for provider in cloud.providers.values_mut() {
            if let Some(p) = provider.as_object_mut() {
                p.retain(|k, v| k != "credentialsReference" && v != "" && !v.is_null());
            }
        }
    }
    ApiCluster {
        name,
        labels,
        annotations: string_map(metadata.get("annotations")),
        credential: credential.map(str::to_owned),
        kind: Some("kubernetes".into()),
        spec: ApiClusterSpec { cloud, version, rest },
        ..ApiCluster::default()
    }
}

/// The API's `NodeDeployment` for a machine-controller `MachineDeployment` object.
pub fn machine_deployment_to_api(md: &Value) -> NodeDeployment {
    let name = md
        .get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let mut annotations = string_map(md.get("metadata").and_then(|m| m.get("annotations")));
    let min = annotations.remove(AUTOSCALER_MIN).and_then(|v| v.parse().ok());
    let max = annotations.remove(AUTOSCALER_MAX).and_then(|v| v.parse().ok());
    let spec = md.get("spec").cloned().unwrap_or_default();
    let machine = get_path(&spec, "template.spec").cloned().unwrap_or_default();
    let value = get_path(&machine, "providerSpec.value").cloned().unwrap_or_default();
    let provider = value.get("cloudProvider").and_then(Value::as_str).unwrap_or_default();
    let provider_spec = value.get("cloudProviderSpec").cloned().unwrap_or_else(|| json!({}));
    let node_cloud = match provider_fields(provider) {
        Some(fields) => {
            let mut out = Map::new();
            for (api, mc) in fields {
                if let Some(v) = get_path(&provider_spec, mc).filter(|v| !v.is_null()) {
                    out.insert((*api).to_owned(), v.clone());
                }
            }
            Value::Object(out)
        }
        None => provider_spec,
    };
    let os = value.get("operatingSystem").and_then(Value::as_str).unwrap_or_default();
    let os_spec = value.get("operatingSystemSpec").cloned().unwrap_or_else(|| json!({}));
    let mut cloud = Map::new();
    if !provider.is_empty() {
        cloud.insert(provider.to_owned(), node_cloud);
    }
    let mut operating_system = Map::new();
    if !os.is_empty() {
        operating_system.insert(os.to_owned(), os_spec);
    }
    NodeDeployment {
        name,
        annotations,
        spec: super::models::NodeDeploymentSpec {
            replicas: spec.get("replicas").and_then(Value::as_i64).unwrap_or(1) as i32,
            min_replicas: min,
            max_replicas: max,
            paused: spec.get("paused").and_then(Value::as_bool),
            dynamic_config: None,
            template: NodeSpec {
                cloud,
                operating_system,
                versions: super::models::NodeVersionInfo {
                    kubelet: get_path(&machine, "versions.kubelet")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                },
                labels: string_map(get_path(&machine, "metadata.labels")),
                taints: machine
                    .get("taints")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default(),
                ..NodeSpec::default()
            },
        },
        ..NodeDeployment::default()
    }
}

/// The `CreateClusterSpec` for a Cluster object and its MachineDeployments: the first becomes
/// the initial `nodeDeployment`; the others are returned to be created once the cluster is up.
pub fn create_spec(
    cluster: &Value,
    machine_deployments: &[Value],
    credential: Option<&str>,
) -> (CreateClusterSpec, Vec<NodeDeployment>) {
    let mut mds = machine_deployments.iter().map(machine_deployment_to_api);
    let first = mds.next();
    (
        CreateClusterSpec {
            cluster: cluster_to_api(cluster, credential),
            node_deployment: first,
            applications: None,
            encryption_at_rest: None,
        },
        mds.collect(),
    )
}

/// The machine-controller `MachineDeployment` a `NodeDeployment` stands for, in the user
/// cluster's `kube-system`, for the engine's local checks.
pub fn machine_deployment_from_api(nd: &NodeDeployment, cluster_id: &str) -> Value {
    let name = nd.name.clone().or_else(|| nd.id.clone()).unwrap_or_default();
    let (provider, node_cloud) = nd
        .spec
        .template
        .cloud
        .iter()
        .next()
        .map(|(k, v)| (k.clone(), v.clone()))
        .unwrap_or_default();
    let cloud_provider_spec = match provider_fields(&provider) {
        Some(fields) => {
            let mut out = json!({});
            for (api, mc) in fields {
                if let Some(v) = node_cloud.get(*api) {
                    set_path(&mut out, mc, v.clone());
                }
            }
            out
        }
        None => node_cloud,
    };
    let (os, os_spec) = nd
        .spec
        .template
        .operating_system
        .iter()
        .next()
        .map(|(k, v)| (k.clone(), v.clone()))
        .unwrap_or_default();
    let mut annotations: Map<String, Value> = nd
        .annotations
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    if let Some(min) = nd.spec.min_replicas {
        annotations.insert(AUTOSCALER_MIN.into(), min.to_string().into());
    }
    if let Some(max) = nd.spec.max_replicas {
        annotations.insert(AUTOSCALER_MAX.into(), max.to_string().into());
    }
    let selector = format!("md-{cluster_id}-{name}");
    json!({
        "apiVersion": "cluster.k8s.io/v1alpha1",
        "kind": "MachineDeployment",
        "metadata": {"name": name, "namespace": "kube-system", "annotations": annotations},
        "spec": {
            "replicas": nd.spec.replicas,
            "selector": {"matchLabels": {"machine": selector}},
            "template": {
                "metadata": {"labels": {"machine": selector}},
                "spec": {
                    "metadata": {"labels": nd.spec.template.labels},
                    "taints": nd.spec.template.taints,
                    "providerSpec": {"value": {
                        "cloudProvider": provider,
                        "cloudProviderSpec": cloud_provider_spec,
                        "operatingSystem": os,
                        "operatingSystemSpec": os_spec,
                    }},
                    "versions": {"kubelet": nd.spec.template.versions.kubelet.clone().unwrap_or_default()}
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kubevirt_cluster() -> Value {
        json!({
            "apiVersion": "kubermatic.k8c.io/v1", "kind": "Cluster",
            "metadata": {"name": "abc123", "labels": {"project-id": "p", "team": "a"}},
            "spec": {"humanReadableName": "demo", "version": "1.35.8", "pause": false,
                "cloud": {"dc": "kv", "providerName": "kubevirt",
                    "kubevirt": {"credentialsReference": {"name": "c", "namespace": "kubermatic"}, "kubeconfig": ""}},
                "exposeStrategy": "NodePort",
                "componentsOverride": {"apiserver": {"replicas": 2}}}
        })
    }

    fn kubevirt_md() -> Value {
        json!({
            "apiVersion": "cluster.k8s.io/v1alpha1", "kind": "MachineDeployment",
            "metadata": {"name": "w", "namespace": "kube-system", "annotations": {AUTOSCALER_MIN: "1", AUTOSCALER_MAX: "5"}},
            "spec": {"replicas": 2, "template": {"spec": {
                "metadata": {"labels": {"pool": "w"}},
                "providerSpec": {"value": {"cloudProvider": "kubevirt", "cloudProviderSpec": {"virtualMachine": {"template": {
                    "cpus": "2", "memory": "4Gi", "primaryDisk": {"osImage": "img", "size": "25Gi", "storageClassName": "local"}}}},
                    "operatingSystem": "ubuntu", "operatingSystemSpec": {"distUpgradeOnBoot": false}}},
                "versions": {"kubelet": "1.35.8"}}}}
        })
    }

    #[test]
    fn a_cluster_object_becomes_the_apis_cluster() {
        let api = cluster_to_api(&kubevirt_cluster(), Some("preset"));
        assert_eq!(api.name, "demo");
        assert_eq!(api.labels, BTreeMap::from([("team".to_owned(), "a".to_owned())]));
        assert_eq!(api.credential.as_deref(), Some("preset"));
        assert_eq!(api.spec.version.as_deref(), Some("1.35.8"));
        assert_eq!(api.spec.cloud.dc, "kv");
        assert_eq!(api.spec.cloud.providers["kubevirt"], json!({}));
        assert!(!api.spec.rest.contains_key("pause") && !api.spec.rest.contains_key("componentsOverride"));
        assert_eq!(api.spec.rest["exposeStrategy"], "NodePort");
        let kept = cluster_to_api(&kubevirt_cluster(), None);
        assert_eq!(
            kept.spec.cloud.providers["kubevirt"]["credentialsReference"]["name"],
            "c"
        );
    }

    #[test]
    fn a_machine_deployment_goes_there_and_back() {
        let nd = machine_deployment_to_api(&kubevirt_md());
        assert_eq!(nd.name.as_deref(), Some("w"));
        assert_eq!(
            (nd.spec.replicas, nd.spec.min_replicas, nd.spec.max_replicas),
            (2, Some(1), Some(5))
        );
        assert_eq!(
            Value::Object(nd.spec.template.cloud.clone()),
            json!({"kubevirt": {"cpus": "2", "memory": "4Gi", "primaryDiskOSImage": "img",
                "primaryDiskSize": "25Gi", "primaryDiskStorageClassName": "local"}})
        );
        assert_eq!(
            Value::Object(nd.spec.template.operating_system.clone()),
            json!({"ubuntu": {"distUpgradeOnBoot": false}})
        );
        let back = machine_deployment_from_api(&nd, "abc123");
        let original = kubevirt_md();
        for path in [
            "/spec/replicas",
            "/spec/template/spec/providerSpec/value/cloudProviderSpec",
            "/spec/template/spec/providerSpec/value/operatingSystemSpec",
            "/spec/template/spec/versions/kubelet",
            "/metadata/annotations",
        ] {
            assert_eq!(back.pointer(path), original.pointer(path), "{path}");
        }
        assert_eq!(machine_deployment_to_api(&back).spec, nd.spec);
    }

    #[test]
    fn the_first_machine_deployment_is_the_initial_one() {
        let mut second = kubevirt_md();
        second["metadata"]["name"] = json!("w2");
        let (spec, later) = create_spec(&kubevirt_cluster(), &[kubevirt_md(), second], None);
        assert_eq!(spec.node_deployment.unwrap().name.as_deref(), Some("w"));
        assert_eq!(later.len(), 1);
        assert_eq!(later[0].name.as_deref(), Some("w2"));
    }
}
