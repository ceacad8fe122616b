//! What is per provider, in one place: each provider module declares one [`Descriptor`], and
//! [`super::Provider::descriptor`] finds it. Everything else (names, schemas, the operating systems
//! a machine may run, credential fields, machine rules beyond the schema) is read from there.

use serde_json::Value;

use super::os::OperatingSystem;
use crate::field::{FieldError, Path};

/// An embedded schema file: its path under `crds/schemas/` and its text.
pub type SchemaSource = (&'static str, &'static str);

/// Which operating systems machine-controller lets a provider's machines run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OsSupport {
    /// Every operating system machine-controller knows: the provider has no OS table, or the
    /// machine names its own image.
    Any,
    /// Only these.
    Only(&'static [OperatingSystem]),
}

impl OsSupport {
    pub fn allows(self, os: OperatingSystem) -> bool {
        match self {
            OsSupport::Any => true,
            OsSupport::Only(list) => list.contains(&os),
        }
    }

    pub fn operating_systems(self) -> &'static [OperatingSystem] {
        match self {
            OsSupport::Any => &OperatingSystem::ALL,
            OsSupport::Only(list) => list,
        }
    }
}

/// One provider's entry in the registry.
pub struct Descriptor {
    /// KKP's name: the `spec.cloud` block key and `providerName`.
    pub name: &'static str,
    /// machine-controller's `cloudProvider`.
    pub machine_name: &'static str,
    /// The Cluster block's credential fields, dotted for nested ones.
    pub credential_fields: &'static [&'static str],
    pub cluster_schema: SchemaSource,
    pub machine_schema: SchemaSource,
    /// The operating systems a machine with this `cloudProviderSpec` may run (image overrides
    /// count). The spec may be anything the user sent.
    pub operating_systems: fn(&Value) -> OsSupport,
    /// Whether machine-controller accepts `network.ipFamily: IPv6` for this provider.
    pub ipv6_only: bool,
    /// Provider defaulting beyond the schema defaults, on the `cloudProviderSpec` and the
    /// machine's labels.
    pub machine_defaults: fn(&mut Value, &mut MachineLabels),
    /// Rules on the `cloudProviderSpec` the schema cannot say, reported under `base`.
    pub machine_rules: fn(&Value, &Path) -> Vec<FieldError>,
}

/// The labels of the machines a deployment creates (`spec.template.spec.metadata.labels`).
pub type MachineLabels = std::collections::BTreeMap<String, String>;

/// For providers without defaulting of their own.
pub fn no_defaults(_: &mut Value, _: &mut MachineLabels) {}

/// For providers without rules beyond the schema.
pub fn no_rules(_: &Value, _: &Path) -> Vec<FieldError> {
    Vec::new()
}

/// Every `cloudProvider` machine-controller knows (`sdk/providerconfig` `AllCloudProviders`),
/// the modelled ones included.
pub const MACHINE_CONTROLLER_PROVIDERS: [&str; 22] = [
    "aws",
    "azure",
    "digitalocean",
    "equinixmetal",
    "packet",
    "gce",
    "hetzner",
    "kubevirt",
    "linode",
    "nutanix",
    "openstack",
    "vsphere",
    "vmware-cloud-director",
    "fake",
    "edge",
    "alibaba",
    "anexia",
    "scaleway",
    "baremetal",
    "vultr",
    "opennebula",
    "external",
];

/// The plain value of a machine-controller `ConfigVarString` or `ConfigVarBool`: the value
/// itself, or the `value` of the object form when it reads nothing from a Secret or ConfigMap.
pub fn plain_value(v: &Value) -> Option<&Value> {
    match v {
        Value::Object(map) => {
            if reads_a_reference(v) {
                None
            } else {
                map.get("value")
            }
        }
        other => Some(other),
    }
}

fn reads_a_reference(v: &Value) -> bool {
    ["secretKeyRef", "configMapKeyRef"].iter().any(|r| {
        v.get(r)
            .and_then(|sel| sel.get("name"))
            .and_then(Value::as_str)
            .is_some_and(|n| !n.is_empty())
    })
}

/// Whether a value counts as given the way machine-controller reads it: not a Go zero value
/// (`null`, `""`, `0`, an empty list or object), or read from a Secret or ConfigMap.
pub fn is_set(v: Option<&Value>) -> bool {
    let Some(v) = v else { return false };
    if reads_a_reference(v) {
        return true;
    }
    match v {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Number(n) => n.as_f64() != Some(0.0),
        Value::Bool(_) => true,
        Value::Array(a) => !a.is_empty(),
        Value::Object(map) => match map.get("value") {
            Some(inner) => is_set(Some(inner)),
            None => !map.is_empty(),
        },
    }
}

/// The plain string of a `ConfigVarString` at `pointer` in `spec`, when given inline.
pub fn plain_str<'a>(spec: &'a Value, pointer: &str) -> Option<&'a str> {
    spec.pointer(pointer).and_then(plain_value).and_then(Value::as_str)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn zero_values_are_unset() {
        for unset in [
            json!(null),
            json!(""),
            json!(0),
            json!([]),
            json!({}),
            json!({"value": ""}),
        ] {
            assert!(!is_set(Some(&unset)), "{unset}");
        }
        assert!(!is_set(None));
        for set in [
            json!("x"),
            json!(1),
            json!(false),
            json!(["a"]),
            json!({"value": "x"}),
            json!({"secretKeyRef": {"name": "s", "namespace": "n", "key": "k"}}),
        ] {
            assert!(is_set(Some(&set)), "{set}");
        }
    }

    #[test]
    fn plain_values_skip_references() {
        let spec = json!({"a": "x", "b": {"value": "y"}, "c": {"secretKeyRef": {"name": "s"}, "value": "z"}});
        assert_eq!(plain_str(&spec, "/a"), Some("x"));
        assert_eq!(plain_str(&spec, "/b"), Some("y"));
        assert_eq!(plain_str(&spec, "/c"), None);
        assert_eq!(plain_str(&spec, "/d"), None);
    }

    #[test]
    fn the_known_providers_are_unique() {
        let mut names = MACHINE_CONTROLLER_PROVIDERS.to_vec();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), MACHINE_CONTROLLER_PROVIDERS.len());
    }
}
