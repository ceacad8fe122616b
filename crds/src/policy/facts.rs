//! The facts policies look at, read once from a Cluster or a MachineDeployment.

use std::collections::BTreeMap;

use serde_json::Value;

use super::quantity;
use crate::providers::Provider;
use crate::request::ResourceKind;

/// machine-controller's annotation-free way for KKP to ask for a first MachineDeployment.
pub const INITIAL_MACHINE_DEPLOYMENT_ANNOTATION: &str = "kubermatic.io/initial-machinedeployment-request";

/// A field a rule may restrict, as the object gives it.
#[derive(Clone, Debug, PartialEq)]
pub enum Given<T> {
    Value(T),
    /// By reference: the value is elsewhere (`secretKeyRef`, `configMapKeyRef`, …, the key named).
    Reference(String),
    /// Not a value the rule can read (`cpus: "NaN"`, a negative count): the raw text.
    Invalid(String),
}

impl<T> Given<T> {
    fn map<U>(self, f: impl FnOnce(T) -> Option<U>) -> Given<U> {
        match self {
            Given::Value(v) => match f(v) {
                Some(u) => Given::Value(u),
                None => Given::Invalid(String::new()),
            },
            Given::Reference(r) => Given::Reference(r),
            Given::Invalid(raw) => Given::Invalid(raw),
        }
    }
}

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
    pub instance_size: Option<(Given<String>, &'static str)>,
    pub cpus: Option<Given<f64>>,
    pub memory_mb: Option<Given<i64>>,
    pub memory_bytes: Option<Given<u128>>,
    pub replicas: Option<i64>,
    /// Credential fields set inline rather than by reference, as paths under the object.
    pub inline_credentials: Vec<String>,
    /// The machines' provider spec comes from `providerSpec.valueFrom`: nothing in it is known.
    pub provider_spec_referenced: bool,
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

/// A machine-controller value-or-reference: a plain value, `{value: …}`, or a reference such as
/// `{secretKeyRef: …}`. Absent, null and empty objects give `None`.
fn given(v: Option<&Value>) -> Option<Given<&Value>> {
    match v? {
        Value::Null => None,
        Value::Object(m) => match m.get("value").filter(|v| !v.is_null()) {
            Some(v) => Some(Given::Value(v)),
            None => m
                .iter()
                .find(|(k, v)| k.as_str() != "value" && !v.is_null())
                .map(|(k, _)| Given::Reference(k.clone())),
        },
        other => Some(Given::Value(other)),
    }
}

fn raw(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn given_str(v: Option<&Value>) -> Option<Given<String>> {
    Some(match given(v)? {
        Given::Value(Value::String(s)) if s.is_empty() => return None,
        Given::Value(Value::String(s)) => Given::Value(s.clone()),
        Given::Value(Value::Number(n)) => Given::Value(n.to_string()),
        Given::Value(other) => Given::Invalid(raw(other)),
        Given::Reference(r) => Given::Reference(r),
        Given::Invalid(r) => Given::Invalid(r),
    })
}

/// A CPU count: a finite, non-negative number, as a number or a string (`4`, `"4"`, `"4000m"`).
fn given_cpus(v: Option<&Value>) -> Option<Given<f64>> {
    Some(match given(v)? {
        Given::Value(value) => {
            let parsed = match value {
                Value::Number(n) => n.as_f64(),
                Value::String(s) => quantity::parse_cpus(s),
                _ => None,
            };
            match parsed.filter(|c| c.is_finite() && *c >= 0.0) {
                Some(c) => Given::Value(c),
                None => Given::Invalid(raw(value)),
            }
        }
        Given::Reference(r) => Given::Reference(r),
        Given::Invalid(r) => Given::Invalid(r),
    })
}

/// Whole megabytes, as a number or a string.
fn given_mb(v: Option<&Value>) -> Option<Given<i64>> {
    Some(match given(v)? {
        Given::Value(value) => {
            let parsed = value.as_i64().or_else(|| value.as_str()?.trim().parse().ok());
            match parsed.filter(|m| *m >= 0) {
                Some(m) => Given::Value(m),
                None => Given::Invalid(raw(value)),
            }
        }
        Given::Reference(r) => Given::Reference(r),
        Given::Invalid(r) => Given::Invalid(r),
    })
}

/// A memory quantity (`16Gi`) in bytes.
fn given_bytes(v: Option<&Value>) -> Option<Given<u128>> {
    let text = given_str(v)?;
    let raw_text = match &text {
        Given::Value(s) => s.clone(),
        _ => String::new(),
    };
    Some(match text.map(|s| quantity::parse_bytes(&s)) {
        Given::Invalid(r) if r.is_empty() => Given::Invalid(raw_text),
        other => other,
    })
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

/// The inline credential values of an object, to keep out of messages.
pub fn credential_values(kind: &ResourceKind, object: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let mut push = |v: Option<&Value>| {
        let text: Option<&String> = match v {
            Some(Value::String(s)) => Some(s),
            Some(Value::Object(m)) => match m.get("value") {
                Some(Value::String(s)) => Some(s),
                _ => None,
            },
            _ => None,
        };
        if let Some(t) = text.filter(|t| t.chars().count() >= 4) {
            out.push(t.clone());
        }
    };
    match kind {
        ResourceKind::Cluster => {
            let cloud = &object["spec"]["cloud"];
            for p in Provider::ALL {
                for field in p.credential_fields() {
                    push(cloud[p.name()].pointer(&format!("/{}", field.replace('.', "/"))));
                }
            }
        }
        ResourceKind::MachineDeployment => {
            let config = object.pointer("/spec/template/spec/providerSpec/value");
            let name = config.and_then(|c| c["cloudProvider"].as_str()).unwrap_or("");
            if let (Some(config), Some(p)) = (config, Provider::from_machine_name(name)) {
                for pointer in machine_credentials(p) {
                    push(config["cloudProviderSpec"].pointer(pointer));
                }
            }
        }
        ResourceKind::Other { .. } => {}
    }
    out
}

/// Replaces every credential value in `message` with `<redacted>`.
pub fn redact(message: String, credentials: &[String]) -> String {
    credentials.iter().fold(message, |m, secret| {
        if m.contains(secret.as_str()) {
            m.replace(secret.as_str(), "<redacted>")
        } else {
            m
        }
    })
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
        let Some(config) = machine
            .and_then(|m| m.pointer("/providerSpec/value"))
            .filter(|v| !v.is_null())
        else {
            self.provider_spec_referenced = machine
                .and_then(|m| m.pointer("/providerSpec/valueFrom"))
                .is_some_and(|v| !v.is_null());
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
            self.instance_size = given_str(spec.get(field)).map(|s| (s, field));
        }
        match p {
            Provider::Vsphere => {
                self.cpus = given_cpus(spec.get("cpus"));
                self.memory_mb = given_mb(spec.get("memoryMB"));
            }
            Provider::Kubevirt => {
                let template = spec.pointer("/virtualMachine/template");
                self.cpus =
                    template.and_then(|t| given_cpus(t.get("cpus")).or_else(|| given_cpus(t.pointer("/vcpus/cores"))));
                self.memory_bytes = template.and_then(|t| given_bytes(t.get("memory")));
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
