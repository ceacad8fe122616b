//! The facts policies look at, read once from a Cluster or a MachineDeployment.

use std::collections::BTreeMap;

use serde_json::Value;

use super::quantity;
use crate::admission::ResourceKind;
use crate::providers::Provider;

/// machine-controller's annotation-free way for KKP to ask for a first MachineDeployment.
pub const INITIAL_MACHINE_DEPLOYMENT_ANNOTATION: &str = "kubermatic.io/initial-machinedeployment-request";

#[derive(Debug, Default)]
pub struct Facts<'a> {
    pub labels: BTreeMap<String, String>,
    /// The labels a policy's selector is matched against: see [`selector_labels`].
    pub selector_labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    /// KKP's provider name, or the raw name when unknown.
    pub provider: Option<String>,
    pub datacenter: Option<&'a str>,
    pub version: Option<&'a str>,
    pub cni_type: Option<&'a str>,
    pub expose_strategy: Option<&'a str>,
    /// The instance size and the field it came from (`instanceType`, `vmSize`, …).
    pub instance_size: Option<(String, &'static str)>,
    pub cpus: Option<f64>,
    pub memory_mb: Option<i64>,
    pub memory_bytes: Option<u128>,
    pub replicas: Option<i64>,
    /// Credential fields set inline rather than by reference, as paths under the object.
    pub inline_credentials: Vec<String>,
}

fn string_map(v: Option<&Value>) -> BTreeMap<String, String> {
    v.and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

/// A machine-controller value-or-reference: a plain value, or `{value: …}`. References give `None`.
fn plain(v: Option<&Value>) -> Option<&Value> {
    match v? {
        Value::Object(m) => m.get("value").filter(|v| !v.is_null()),
        other => Some(other),
    }
}

fn plain_str(v: Option<&Value>) -> Option<String> {
    match plain(v)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn plain_f64(v: Option<&Value>) -> Option<f64> {
    match plain(v)? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => quantity::parse_cpus(s),
        _ => None,
    }
}

/// The instance size field of a machine's `cloudProviderSpec`, per provider.
fn size_field(p: Provider) -> Option<&'static str> {
    match p {
        Provider::Aws => Some("instanceType"),
        Provider::Azure => Some("vmSize"),
        Provider::Gcp => Some("machineType"),
        Provider::Hetzner => Some("serverType"),
        Provider::Openstack => Some("flavor"),
        Provider::Digitalocean => Some("size"),
        Provider::Vsphere | Provider::Kubevirt => None,
    }
}

/// Credential fields of a machine's `cloudProviderSpec` (JSON pointers), per provider.
fn machine_credentials(p: Provider) -> &'static [&'static str] {
    match p {
        Provider::Aws => &["/accessKeyId", "/secretAccessKey"],
        Provider::Azure => &["/tenantID", "/subscriptionID", "/clientID", "/clientSecret"],
        Provider::Gcp => &["/serviceAccount"],
        Provider::Hetzner | Provider::Digitalocean => &["/token"],
        Provider::Vsphere => &["/username", "/password"],
        Provider::Openstack => &["/username", "/password", "/applicationCredentialSecret", "/tokenId"],
        Provider::Kubevirt => &["/auth/kubeconfig"],
    }
}

/// The label a policy usually selects a project by.
pub const PROJECT_LABEL: &str = "project-id";
/// The label machine-controller's machines carry their KKP project in.
const MACHINE_PROJECT_LABEL: &str = "system/project";

/// The labels a policy's selector is matched against: the object's own labels, and for a
/// MachineDeployment without a `project-id` label, `project-id` taken from the `system/project`
/// label KKP puts on its machines (`spec.template.spec.metadata.labels`), so one selector picks
/// a project's Clusters and their MachineDeployments alike.
pub fn selector_labels(kind: &ResourceKind, object: &Value) -> BTreeMap<String, String> {
    let mut labels = string_map(object.pointer("/metadata/labels"));
    if *kind == ResourceKind::MachineDeployment && !labels.contains_key(PROJECT_LABEL) {
        let project = object
            .pointer("/spec/template/spec/metadata/labels")
            .and_then(|l| l.get(MACHINE_PROJECT_LABEL))
            .and_then(Value::as_str)
            .filter(|p| !p.is_empty());
        if let Some(project) = project {
            labels.insert(PROJECT_LABEL.to_owned(), project.to_owned());
        }
    }
    labels
}

impl<'a> Facts<'a> {
    pub fn of(kind: &ResourceKind, object: &'a Value) -> Facts<'a> {
        let mut f = Facts {
            selector_labels: selector_labels(kind, object),
            labels: string_map(object.pointer("/metadata/labels")),
            annotations: string_map(object.pointer("/metadata/annotations")),
            ..Facts::default()
        };
        match kind {
            ResourceKind::Cluster => f.read_cluster(object),
            ResourceKind::MachineDeployment => f.read_machine_deployment(object),
            ResourceKind::Other { .. } => {}
        }
        f
    }

    fn read_cluster(&mut self, object: &'a Value) {
        let spec = &object["spec"];
        let cloud = &spec["cloud"];
        self.datacenter = cloud["dc"].as_str();
        self.version = spec["version"].as_str();
        self.cni_type = spec.pointer("/cniPlugin/type").and_then(Value::as_str);
        self.expose_strategy = spec["exposeStrategy"].as_str();
        let block = Provider::ALL.into_iter().find(|p| cloud.get(p.name()).is_some());
        self.provider = cloud["providerName"]
            .as_str()
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .or_else(|| block.map(|p| p.name().to_owned()));
        if let Some(p) = block {
            self.inline_credentials = p
                .inline_credentials(&cloud[p.name()])
                .into_iter()
                .map(|field| format!("spec.cloud.{}.{field}", p.name()))
                .collect();
        }
        if let Some(request) = self.annotations.get(INITIAL_MACHINE_DEPLOYMENT_ANNOTATION)
            && let Ok(md) = serde_json::from_str::<Value>(request)
        {
            self.replicas = md.pointer("/spec/replicas").and_then(Value::as_i64);
        }
    }

    fn read_machine_deployment(&mut self, object: &'a Value) {
        self.replicas = Some(object.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(1));
        let machine = object.pointer("/spec/template/spec");
        self.version = machine
            .and_then(|m| m.pointer("/versions/kubelet"))
            .and_then(Value::as_str);
        let Some(config) = machine.and_then(|m| m.pointer("/providerSpec/value")) else {
            return;
        };
        let name = config["cloudProvider"].as_str().unwrap_or("");
        let provider = Provider::from_machine_name(name);
        self.provider = provider
            .map(|p| p.name().to_owned())
            .or_else(|| (!name.is_empty()).then(|| name.to_owned()));
        let Some(p) = provider else { return };
        let spec = &config["cloudProviderSpec"];
        if let Some(field) = size_field(p) {
            self.instance_size = plain_str(spec.get(field)).map(|s| (s, field));
        }
        match p {
            Provider::Vsphere => {
                self.cpus = plain_f64(spec.get("cpus"));
                self.memory_mb =
                    plain(spec.get("memoryMB")).and_then(|v| v.as_i64().or_else(|| v.as_str()?.parse().ok()));
            }
            Provider::Kubevirt => {
                let template = spec.pointer("/virtualMachine/template");
                self.cpus =
                    template.and_then(|t| plain_f64(t.get("cpus")).or_else(|| plain_f64(t.pointer("/vcpus/cores"))));
                self.memory_bytes = template
                    .and_then(|t| plain_str(t.get("memory")))
                    .and_then(|m| quantity::parse_bytes(&m));
            }
            _ => {}
        }
        for pointer in machine_credentials(p) {
            let value = spec.pointer(pointer);
            let inline = match value {
                Some(Value::String(s)) => !s.is_empty(),
                Some(Value::Object(m)) => m.get("value").and_then(Value::as_str).is_some_and(|s| !s.is_empty()),
                _ => false,
            };
            if inline {
                self.inline_credentials.push(format!(
                    "spec.template.spec.providerSpec.value.cloudProviderSpec{}",
                    pointer.replace('/', ".")
                ));
            }
        }
    }
}
