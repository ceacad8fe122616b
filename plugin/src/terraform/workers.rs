//! KubeOne's `kubeone_workers` Terraform output as machine-controller MachineDeployments, in the
//! shape KubeOne gives them: one per pool, named for it, selected by a `workerset` label.

use serde_json::{Map, Value, json};

use kkp_crds::machine::MACHINE_DEPLOYMENT_NAMESPACE;
use kkp_crds::providers::Provider;

use super::output::TerraformOutput;

/// The output that holds the worker pools.
pub const WORKERS_OUTPUT: &str = "kubeone_workers";
/// The label that ties a pool's machines to its MachineDeployment.
pub const WORKERSET_LABEL: &str = "workerset";

/// The fields of a pool's `providerSpec` that become metadata instead of staying in the
/// machine's `providerSpec.value`.
const METADATA_FIELDS: [&str; 6] = [
    "annotations",
    "machineAnnotations",
    "nodeAnnotations",
    "machineObjectAnnotations",
    "labels",
    "taints",
];
/// Every field KubeOne reads from a pool's `providerSpec`.
const PROVIDER_SPEC_FIELDS: [&str; 12] = [
    "cloudProviderSpec",
    "annotations",
    "machineAnnotations",
    "nodeAnnotations",
    "machineObjectAnnotations",
    "labels",
    "taints",
    "sshPublicKeys",
    "operatingSystem",
    "operatingSystemSpec",
    "network",
    "overwriteCloudConfig",
];
const POOL_FIELDS: [&str; 2] = ["replicas", "providerSpec"];

/// What the conversion needs besides the Terraform output.
#[derive(Clone, Debug)]
pub struct Options {
    /// The cluster the workers join: AWS machines get its `kubernetes.io/cluster/NAME` tag.
    pub cluster_name: String,
    /// machine-controller's or KubeOne's provider name; when absent, the output's
    /// `kubeone_hosts.control_plane.cloud_provider`.
    pub provider: Option<String>,
    /// The kubelet version of the machines.
    pub kubelet_version: String,
}

/// One problem with one field of one pool.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("pool {pool:?}: {field}: {message}")]
pub struct PoolError {
    pub pool: String,
    pub field: String,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum WorkersError {
    #[error(
        "the Terraform output has no {WORKERS_OUTPUT} output (KubeOne's output.tf defines it), so there are no worker pools"
    )]
    NoWorkers,
    #[error("{WORKERS_OUTPUT} must be a map of worker pools by name")]
    NotAMap,
    #[error(
        "the cloud provider is not known: kubeone_hosts.control_plane.cloud_provider is not in the Terraform output; pass --provider"
    )]
    NoProvider,
    #[error("cloud provider {name:?} ({origin}) is not supported here; use one of: {}", supported().join(", "))]
    UnknownProvider { name: String, origin: &'static str },
    #[error("{} invalid in {WORKERS_OUTPUT}:\n{}", if .0.len() == 1 { "1 field is".to_owned() } else { format!("{} fields are", .0.len()) }, .0.iter().map(|e| format!("  {e}")).collect::<Vec<_>>().join("\n"))]
    Pools(Vec<PoolError>),
}

fn supported() -> Vec<&'static str> {
    Provider::ALL.iter().map(|p| p.machine_name()).collect()
}

/// The provider named by the options or the output.
pub fn provider(out: &TerraformOutput, opts: &Options) -> Result<Provider, WorkersError> {
    let (name, origin) = match &opts.provider {
        Some(name) => (name.clone(), "--provider"),
        None => {
            let name = out
                .value("kubeone_hosts")
                .and_then(|h| h.pointer("/control_plane/cloud_provider"))
                .and_then(Value::as_str)
                .ok_or(WorkersError::NoProvider)?;
            (name.to_owned(), "kubeone_hosts.control_plane.cloud_provider")
        }
    };
    Provider::from_machine_name(&name)
        .or_else(|| Provider::from_name(&name))
        .ok_or(WorkersError::UnknownProvider { name, origin })
}

/// The MachineDeployments of every pool, sorted by pool name; every problem of every pool is
/// reported at once.
pub fn machine_deployments(out: &TerraformOutput, opts: &Options) -> Result<Vec<Value>, WorkersError> {
    let pools = match out.value(WORKERS_OUTPUT) {
        None => return Err(WorkersError::NoWorkers),
        Some(Value::Object(pools)) => pools,
        Some(_) => return Err(WorkersError::NotAMap),
    };
    let provider = provider(out, opts)?;
    let mut errors = Vec::new();
    let mut objects = Vec::new();
    for (name, pool) in pools {
        let mut problems = Problems {
            pool: name,
            errors: &mut errors,
        };
        if let Some(md) = machine_deployment(name, pool, provider, opts, &mut problems) {
            objects.push(md);
        }
    }
    if errors.is_empty() {
        Ok(objects)
    } else {
        Err(WorkersError::Pools(errors))
    }
}

struct Problems<'a> {
    pool: &'a str,
    errors: &'a mut Vec<PoolError>,
}

impl Problems<'_> {
    fn add(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push(PoolError {
            pool: self.pool.to_owned(),
            field: field.to_owned(),
            message: message.into(),
        });
    }
}

fn machine_deployment(
    name: &str,
    pool: &Value,
    provider: Provider,
    opts: &Options,
    problems: &mut Problems<'_>,
) -> Option<Value> {
    let before = problems.errors.len();
    if let Err(why) = check_name(name) {
        problems.add("name", why);
    }
    let Some(pool) = pool.as_object() else {
        problems.add("(pool)", "must be an object with replicas and providerSpec");
        return None;
    };
    unknown_fields(pool, &POOL_FIELDS, "", problems);
    let replicas = match pool.get("replicas") {
        None | Some(Value::Null) => {
            problems.add("replicas", "required: how many machines the pool has");
            None
        }
        Some(v) => match v.as_u64().and_then(|n| i32::try_from(n).ok()) {
            Some(n) => Some(n),
            None => {
                problems.add("replicas", format!("must be a whole number from 0 up, not {v}"));
                None
            }
        },
    };
    let spec = match pool.get("providerSpec") {
        Some(Value::Object(spec)) => spec,
        None | Some(Value::Null) => {
            problems.add(
                "providerSpec",
                "required: the machines' providerSpec with cloudProviderSpec",
            );
            return None;
        }
        Some(_) => {
            problems.add("providerSpec", "must be an object");
            return None;
        }
    };
    unknown_fields(spec, &PROVIDER_SPEC_FIELDS, "providerSpec.", problems);
    let mut cloud = match spec.get("cloudProviderSpec") {
        Some(Value::Object(c)) => c.clone(),
        None | Some(Value::Null) => {
            problems.add(
                "providerSpec.cloudProviderSpec",
                format!("required: the {} machine's settings", provider.machine_name()),
            );
            Map::new()
        }
        Some(_) => {
            problems.add("providerSpec.cloudProviderSpec", "must be an object");
            Map::new()
        }
    };
    let annotations = string_map(spec, "annotations", problems);
    let labels = string_map(spec, "labels", problems);
    let mut node_annotations = string_map(spec, "machineAnnotations", problems);
    node_annotations.extend(string_map(spec, "nodeAnnotations", problems));
    let machine_annotations = string_map(spec, "machineObjectAnnotations", problems);
    let taints = taints(spec, problems);
    if let Some(keys) = spec.get("sshPublicKeys")
        && !keys.is_null()
        && !keys.as_array().is_some_and(|a| a.iter().all(Value::is_string))
    {
        problems.add("providerSpec.sshPublicKeys", "must be a list of public keys (strings)");
    }
    if problems.errors.len() > before {
        return None;
    }

    if provider == Provider::Aws {
        // As KubeOne does: AWS machines carry the tag the AWS cloud provider looks for.
        let tags = cloud.entry("tags").or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(tags) = tags {
            tags.insert(
                format!("kubernetes.io/cluster/{}", opts.cluster_name),
                Value::from("shared"),
            );
        } else {
            problems.add("providerSpec.cloudProviderSpec.tags", "must be a map of tags");
            return None;
        }
    }
    let mut value: Map<String, Value> = spec
        .iter()
        .filter(|(k, _)| !METADATA_FIELDS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    value.insert("cloudProviderSpec".to_owned(), Value::Object(cloud));
    value.insert("cloudProvider".to_owned(), Value::from(provider.machine_name()));

    let mut machine_labels = labels;
    machine_labels.insert(WORKERSET_LABEL.to_owned(), Value::from(name));
    // A static network configuration cannot be doubled, so such pools replace machines one by one.
    let (max_surge, max_unavailable) = if spec.get("network").is_some_and(|n| !n.is_null()) {
        (0, 1)
    } else {
        (1, 0)
    };
    let mut md = json!({
        "apiVersion": "cluster.k8s.io/v1alpha1",
        "kind": "MachineDeployment",
        "metadata": {"name": name, "namespace": MACHINE_DEPLOYMENT_NAMESPACE},
        "spec": {
            "paused": false,
            "replicas": replicas,
            "selector": {"matchLabels": {WORKERSET_LABEL: name}},
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": max_surge, "maxUnavailable": max_unavailable},
            },
            "minReadySeconds": 0,
            "template": {
                "metadata": {"namespace": MACHINE_DEPLOYMENT_NAMESPACE, "labels": machine_labels.clone()},
                "spec": {
                    "metadata": {"labels": machine_labels},
                    "versions": {"kubelet": opts.kubelet_version},
                    "providerSpec": {"value": value},
                },
            },
        },
    });
    if !annotations.is_empty() {
        md["metadata"]["annotations"] = Value::Object(annotations);
    }
    if !machine_annotations.is_empty() {
        md["spec"]["template"]["metadata"]["annotations"] = Value::Object(machine_annotations);
    }
    if !node_annotations.is_empty() {
        md["spec"]["template"]["spec"]["metadata"]["annotations"] = Value::Object(node_annotations);
    }
    if let Some(taints) = taints {
        md["spec"]["template"]["spec"]["taints"] = taints;
    }
    Some(md)
}

fn unknown_fields(map: &Map<String, Value>, known: &[&str], prefix: &str, problems: &mut Problems<'_>) {
    for key in map.keys().filter(|k| !known.contains(&k.as_str())) {
        problems.add(
            &format!("{prefix}{key}"),
            format!("unknown field; KubeOne knows: {}", known.join(", ")),
        );
    }
}

/// A map of strings (labels, annotations); absent or null is empty.
fn string_map(spec: &Map<String, Value>, field: &str, problems: &mut Problems<'_>) -> Map<String, Value> {
    match spec.get(field) {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(map)) => {
            let mut ok = Map::new();
            for (k, v) in map {
                match v {
                    Value::String(_) => {
                        ok.insert(k.clone(), v.clone());
                    }
                    other => problems.add(
                        &format!("providerSpec.{field}.{k}"),
                        format!("must be a string, not {other} (use tostring() in Terraform)"),
                    ),
                }
            }
            ok
        }
        Some(_) => {
            problems.add(&format!("providerSpec.{field}"), "must be a map of strings");
            Map::new()
        }
    }
}

fn taints(spec: &Map<String, Value>, problems: &mut Problems<'_>) -> Option<Value> {
    let list = match spec.get("taints") {
        None | Some(Value::Null) => return None,
        Some(Value::Array(list)) => list,
        Some(_) => {
            problems.add("providerSpec.taints", "must be a list of taints (key, value, effect)");
            return None;
        }
    };
    for (i, taint) in list.iter().enumerate() {
        let field = format!("providerSpec.taints[{i}]");
        let Some(t) = taint.as_object() else {
            problems.add(&field, "must be an object with key, value and effect");
            continue;
        };
        if t.get("key").and_then(Value::as_str).is_none_or(str::is_empty) {
            problems.add(&format!("{field}.key"), "required");
        }
        match t.get("effect").and_then(Value::as_str) {
            Some("NoSchedule" | "PreferNoSchedule" | "NoExecute") => {}
            other => problems.add(
                &format!("{field}.effect"),
                format!(
                    "must be NoSchedule, PreferNoSchedule or NoExecute, not {}",
                    other.map_or_else(|| "nothing".to_owned(), |e| format!("{e:?}"))
                ),
            ),
        }
    }
    Some(Value::Array(list.clone()))
}

/// A MachineDeployment's name: a DNS-1123 subdomain.
fn check_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !part.starts_with('-')
                && !part.ends_with('-')
        });
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{name:?} cannot name a MachineDeployment: use lower-case letters, digits, '-' and '.', starting and ending \
             with a letter or digit"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn output(text: &str) -> TerraformOutput {
        TerraformOutput::parse(text, "tf.json").unwrap()
    }

    fn opts() -> Options {
        Options {
            cluster_name: "demo".into(),
            provider: None,
            kubelet_version: "1.35.7".into(),
        }
    }

    const AWS: &str = r#"{
      "kubeone_hosts": {"value": {"control_plane": {"cloud_provider": "aws", "cluster_name": "demo"}}},
      "kubeone_workers": {"value": {"demo-eu-central-1a": {"replicas": 2, "providerSpec": {
        "annotations": {"k8c.io/operating-system-profile": "osp-ubuntu"},
        "labels": {"isSpotInstance": "false"},
        "nodeAnnotations": {"n": "1"},
        "machineObjectAnnotations": {"m": "2"},
        "taints": [{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}],
        "sshPublicKeys": ["ssh-ed25519 AAAA a@b"],
        "operatingSystem": "ubuntu",
        "operatingSystemSpec": {"distUpgradeOnBoot": false},
        "cloudProviderSpec": {"region": "eu-central-1", "tags": {"demo-workers": ""}}
      }}}}
    }"#;

    #[test]
    fn a_pool_becomes_a_machine_deployment_as_kubeone_makes_it() {
        let mds = machine_deployments(&output(AWS), &opts()).unwrap();
        assert_eq!(mds.len(), 1);
        let md = &mds[0];
        assert_eq!(md["metadata"]["name"], "demo-eu-central-1a");
        assert_eq!(md["metadata"]["namespace"], "kube-system");
        assert_eq!(
            md["metadata"]["annotations"]["k8c.io/operating-system-profile"],
            "osp-ubuntu"
        );
        assert_eq!(md["spec"]["replicas"], 2);
        assert_eq!(
            md["spec"]["selector"]["matchLabels"],
            json!({"workerset": "demo-eu-central-1a"})
        );
        assert_eq!(
            md["spec"]["strategy"]["rollingUpdate"],
            json!({"maxSurge": 1, "maxUnavailable": 0})
        );
        let template = &md["spec"]["template"];
        assert_eq!(
            template["metadata"]["labels"],
            json!({"workerset": "demo-eu-central-1a", "isSpotInstance": "false"})
        );
        assert_eq!(template["metadata"]["annotations"], json!({"m": "2"}));
        assert_eq!(template["spec"]["metadata"]["annotations"], json!({"n": "1"}));
        assert_eq!(template["spec"]["taints"][0]["key"], "dedicated");
        assert_eq!(template["spec"]["versions"]["kubelet"], "1.35.7");
        let value = &template["spec"]["providerSpec"]["value"];
        assert_eq!(value["cloudProvider"], "aws");
        assert_eq!(value["operatingSystem"], "ubuntu");
        assert_eq!(value["sshPublicKeys"], json!(["ssh-ed25519 AAAA a@b"]));
        assert_eq!(
            value["cloudProviderSpec"]["tags"],
            json!({"demo-workers": "", "kubernetes.io/cluster/demo": "shared"})
        );
        for gone in METADATA_FIELDS {
            assert!(value.get(gone).is_none(), "{gone} stays out of providerSpec.value");
        }
    }

    #[test]
    fn static_network_pools_replace_machines_one_by_one() {
        let text = r#"{"kubeone_workers": {"value": {"p": {"replicas": 1, "providerSpec": {
            "operatingSystem": "ubuntu", "network": {"cidr": "10.0.0.0/24"}, "cloudProviderSpec": {}}}}}}"#;
        let mut o = opts();
        o.provider = Some("vsphere".into());
        let mds = machine_deployments(&output(text), &o).unwrap();
        assert_eq!(
            mds[0]["spec"]["strategy"]["rollingUpdate"],
            json!({"maxSurge": 0, "maxUnavailable": 1})
        );
        assert_eq!(
            mds[0]["spec"]["template"]["spec"]["providerSpec"]["value"]["cloudProvider"],
            "vsphere"
        );
    }

    #[test]
    fn every_bad_field_of_every_pool_is_reported() {
        let text = r#"{"kubeone_hosts": {"value": {"control_plane": {"cloud_provider": "hetzner"}}},
          "kubeone_workers": {"value": {
            "Bad_Name": {"replicas": 1, "providerSpec": {"cloudProviderSpec": {}}},
            "no-spec": {"replicas": -1},
            "typed": {"replicas": "3", "extra": 1, "providerSpec": {"cloudProviderSpec": [],
               "labels": {"n": 1}, "taints": [{"effect": "Sometimes"}], "sshPublicKeys": "k", "sshKeys": []}}
          }}}"#;
        let err = machine_deployments(&output(text), &opts()).unwrap_err();
        let WorkersError::Pools(errors) = &err else {
            panic!("{err}")
        };
        let got: Vec<(String, String)> = errors.iter().map(|e| (e.pool.clone(), e.field.clone())).collect();
        let want = [
            ("Bad_Name", "name"),
            ("no-spec", "replicas"),
            ("no-spec", "providerSpec"),
            ("typed", "extra"),
            ("typed", "replicas"),
            ("typed", "providerSpec.sshKeys"),
            ("typed", "providerSpec.cloudProviderSpec"),
            ("typed", "providerSpec.labels.n"),
            ("typed", "providerSpec.taints[0].key"),
            ("typed", "providerSpec.taints[0].effect"),
            ("typed", "providerSpec.sshPublicKeys"),
        ];
        let want: Vec<(String, String)> = want.iter().map(|(p, f)| (p.to_string(), f.to_string())).collect();
        assert_eq!(got, want);
        let text = err.to_string();
        assert!(
            text.starts_with("11 fields are invalid in kubeone_workers:\n  pool \"Bad_Name\": name: "),
            "{text}"
        );
        assert!(
            text.contains("pool \"no-spec\": replicas: must be a whole number from 0 up, not -1"),
            "{text}"
        );
    }

    #[test]
    fn the_provider_comes_from_the_flag_or_the_output() {
        let text = r#"{"kubeone_workers": {"value": {}}}"#;
        assert!(matches!(
            machine_deployments(&output(text), &opts()),
            Err(WorkersError::NoProvider)
        ));
        let mut o = opts();
        o.provider = Some("equinixmetal".into());
        let err = machine_deployments(&output(text), &o).unwrap_err().to_string();
        assert!(
            err.starts_with("cloud provider \"equinixmetal\" (--provider) is not supported here; use one of: aws"),
            "{err}"
        );
        o.provider = Some("gcp".into());
        assert_eq!(provider(&output(text), &o).unwrap(), Provider::Gcp);
        o.provider = Some("gce".into());
        assert_eq!(provider(&output(text), &o).unwrap(), Provider::Gcp);
        assert!(matches!(
            machine_deployments(&output("{}"), &opts()),
            Err(WorkersError::NoWorkers)
        ));
    }
}
