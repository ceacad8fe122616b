//! The platform's own configuration: the versions of a `KubermaticConfiguration` and the
//! datacenters of the `Seed`s, read from the objects as KKP stores them.
//!
//! Both readers are pure: they take the object as JSON and return what the engine needs, or an
//! error that names the field that is wrong. The webhook feeds them from watches, the plugin from
//! the cluster it talks to or from files.

use std::collections::BTreeMap;

use kube::core::{ApiResource, DynamicObject, GroupVersionKind};
use semver::Version;
use serde_json::Value;

use crate::versions::{
    self, Constraint, IncompatibilityCondition, IncompatibilityOperation, ProviderIncompatibility, VersionCatalog,
    VersionUpdate,
};

/// KKP's `KubermaticConfiguration` resource, for dynamic API calls.
pub fn configuration_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("kubermatic.k8c.io", "v1", "KubermaticConfiguration"),
        "kubermaticconfigurations",
    )
}

/// KKP's `Seed` resource, for dynamic API calls.
pub fn seed_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk("kubermatic.k8c.io", "v1", "Seed"), "seeds")
}

/// A KubermaticConfiguration or Seed read from the API as JSON, with the `apiVersion` and `kind`
/// (`"KubermaticConfiguration"` or `"Seed"`) that list items may leave out, ready for
/// [`configuration`] or [`seed_datacenters`].
pub fn listed_object(object: &DynamicObject, kind: &str) -> Value {
    let mut value = serde_json::to_value(object).unwrap_or(Value::Null);
    if let Some(map) = value.as_object_mut() {
        map.insert("apiVersion".into(), Value::from("kubermatic.k8c.io/v1"));
        map.insert("kind".into(), Value::from(kind));
    }
    value
}

/// The keys of a datacenter's `spec` that name its provider (KKP's `DatacenterSpec`).
pub const DATACENTER_PROVIDERS: [&str; 16] = [
    "alibaba",
    "anexia",
    "aws",
    "azure",
    "baremetal",
    "bringyourown",
    "digitalocean",
    "edge",
    "fake",
    "gcp",
    "hetzner",
    "kubevirt",
    "nutanix",
    "openstack",
    "vmwareclouddirector",
    "vsphere",
];

/// Why a configuration object cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PlatformError {
    #[error("{kind} {name:?}: {field}: {reason}")]
    Field {
        kind: &'static str,
        name: String,
        field: String,
        reason: String,
    },
    #[error("expected a {expected}, got {found}")]
    WrongKind { expected: &'static str, found: String },
}

/// One datacenter of a Seed.
#[derive(Clone, Debug, PartialEq)]
pub struct Datacenter {
    pub name: String,
    /// The Seed it belongs to.
    pub seed: String,
    /// The datacenter's `spec`, as stored.
    pub spec: Value,
    /// The Seed's `spec.exposeStrategy`, the default for its clusters; `None` when unset.
    pub seed_expose_strategy: Option<String>,
}

impl Datacenter {
    /// The providers the datacenter configures (KKP allows exactly one).
    pub fn providers(&self) -> Vec<&'static str> {
        DATACENTER_PROVIDERS
            .into_iter()
            .filter(|p| self.spec.get(*p).is_some_and(|v| !v.is_null()))
            .collect()
    }

    /// The datacenter's provider, when it configures exactly one.
    pub fn provider(&self) -> Option<&'static str> {
        match self.providers().as_slice() {
            [one] => Some(one),
            _ => None,
        }
    }

    /// The datacenter's `spec.<provider>` block.
    pub fn provider_spec(&self, provider: &str) -> Option<&Value> {
        self.spec.get(provider).filter(|v| !v.is_null())
    }

    /// A string setting of the provider block; Go's zero value `""` counts as unset.
    pub fn provider_setting(&self, provider: &str, key: &str) -> Option<&str> {
        self.provider_spec(provider)?
            .get(key)?
            .as_str()
            .filter(|s| !s.is_empty())
    }

    /// A boolean setting of the datacenter's `spec` (`enforcePodSecurityPolicy`, …); absent is false.
    pub fn flag(&self, key: &str) -> bool {
        self.spec.get(key).and_then(Value::as_bool).unwrap_or(false)
    }
}

/// The datacenters of every Seed the engine knows, by name.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Datacenters {
    by_name: BTreeMap<String, Datacenter>,
    seeds: Vec<String>,
}

impl Datacenters {
    pub fn get(&self, name: &str) -> Option<&Datacenter> {
        self.by_name.get(name)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.by_name.keys().map(String::as_str)
    }

    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }

    /// The Seeds the datacenters come from.
    pub fn seeds(&self) -> &[String] {
        &self.seeds
    }

    /// The datacenters of these Seeds. A datacenter name held by two Seeds keeps the first.
    pub fn from_seeds<'a>(seeds: impl IntoIterator<Item = &'a Value>) -> Result<Datacenters, PlatformError> {
        let mut out = Datacenters::default();
        for seed in seeds {
            let (name, dcs) = seed_datacenters(seed)?;
            out.seeds.push(name);
            for dc in dcs {
                out.by_name.entry(dc.name.clone()).or_insert(dc);
            }
        }
        Ok(out)
    }
}

fn object_name(object: &Value) -> String {
    object
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned()
}

fn check_kind(object: &Value, expected: &'static str) -> Result<(), PlatformError> {
    let kind = object.get("kind").and_then(Value::as_str).unwrap_or("");
    let api_version = object.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    if kind == expected && api_version == "kubermatic.k8c.io/v1" {
        Ok(())
    } else {
        Err(PlatformError::WrongKind {
            expected,
            found: format!("{api_version} {kind}").trim().to_owned(),
        })
    }
}

/// The datacenters of one Seed.
pub fn seed_datacenters(seed: &Value) -> Result<(String, Vec<Datacenter>), PlatformError> {
    check_kind(seed, "Seed")?;
    let name = object_name(seed);
    let field_error = |field: &str, reason: &str| PlatformError::Field {
        kind: "Seed",
        name: name.clone(),
        field: field.to_owned(),
        reason: reason.to_owned(),
    };
    let seed_expose_strategy = seed
        .pointer("/spec/exposeStrategy")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    let mut out = Vec::new();
    match seed.pointer("/spec/datacenters") {
        None | Some(Value::Null) => {}
        Some(Value::Object(dcs)) => {
            for (dc_name, dc) in dcs {
                let spec = match dc.get("spec") {
                    None | Some(Value::Null) => Value::Object(Default::default()),
                    Some(spec @ Value::Object(_)) => spec.clone(),
                    Some(_) => {
                        return Err(field_error(
                            &format!("spec.datacenters[{dc_name}].spec"),
                            "must be an object",
                        ));
                    }
                };
                out.push(Datacenter {
                    name: dc_name.clone(),
                    seed: name.clone(),
                    spec,
                    seed_expose_strategy: seed_expose_strategy.clone(),
                });
            }
        }
        Some(_) => return Err(field_error("spec.datacenters", "must be an object")),
    }
    Ok((name, out))
}

/// What the engine takes from a `KubermaticConfiguration`.
#[derive(Clone, Debug, PartialEq)]
pub struct Configuration {
    pub name: String,
    pub versions: VersionCatalog,
    /// `spec.exposeStrategy`, the default for new clusters.
    pub expose_strategy: Option<String>,
}

/// Reads a `KubermaticConfiguration`. Lists it leaves empty take the built-in catalog's, as KKP's
/// own defaulting of the configuration does.
pub fn configuration(object: &Value) -> Result<Configuration, PlatformError> {
    check_kind(object, "KubermaticConfiguration")?;
    let name = object_name(object);
    let field_error = |field: String, reason: String| PlatformError::Field {
        kind: "KubermaticConfiguration",
        name: name.clone(),
        field,
        reason,
    };
    let builtin = VersionCatalog::default();
    let spec = object.pointer("/spec/versions").cloned().unwrap_or(Value::Null);
    let list = |key: &str| -> Result<Vec<Value>, PlatformError> {
        match spec.get(key) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => Ok(items.clone()),
            Some(_) => Err(field_error(format!("spec.versions.{key}"), "must be a list".into())),
        }
    };
    let text = |v: &Value, field: String| -> Result<String, PlatformError> {
        v.as_str()
            .map(str::to_owned)
            .ok_or_else(|| field_error(field, "must be a string".into()))
    };

    let mut offered = Vec::new();
    for (i, item) in list("versions")?.iter().enumerate() {
        let field = format!("spec.versions.versions[{i}]");
        let raw = text(item, field.clone())?;
        offered.push(versions::parse(&raw).map_err(|e| field_error(field, format!("{raw:?}: {e}")))?);
    }
    let default = match spec.get("default").and_then(Value::as_str).filter(|s| !s.is_empty()) {
        Some(raw) => Some(
            versions::parse(raw).map_err(|e| field_error("spec.versions.default".into(), format!("{raw:?}: {e}")))?,
        ),
        None => None,
    };

    let mut updates = Vec::new();
    for (i, item) in list("updates")?.iter().enumerate() {
        let constraint = |key: &str| -> Result<Constraint, PlatformError> {
            let field = format!("spec.versions.updates[{i}].{key}");
            let raw = text(item.get(key).unwrap_or(&Value::Null), field.clone())?;
            Constraint::parse(&raw).map_err(|e| field_error(field, e.to_string()))
        };
        let flag = |key: &str| item.get(key).and_then(Value::as_bool).unwrap_or(false);
        updates.push(VersionUpdate {
            from: constraint("from")?,
            to: constraint("to")?,
            automatic: flag("automatic") || flag("automaticNodeUpdate"),
        });
    }

    let mut incompatibilities = Vec::new();
    for (i, item) in list("providerIncompatibilities")?.iter().enumerate() {
        let field = |key: &str| format!("spec.versions.providerIncompatibilities[{i}].{key}");
        let get = |key: &str| item.get(key).and_then(Value::as_str).unwrap_or("");
        let condition = match get("condition") {
            "always" => IncompatibilityCondition::Always,
            "externalCloudProvider" => IncompatibilityCondition::ExternalCloudProvider,
            "inTreeProvider" => IncompatibilityCondition::InTreeProvider,
            other => {
                return Err(field_error(
                    field("condition"),
                    format!("{other:?} is not one of always, externalCloudProvider, inTreeProvider"),
                ));
            }
        };
        let operation = match get("operation") {
            "CREATE" => IncompatibilityOperation::Create,
            "UPGRADE" => IncompatibilityOperation::Upgrade,
            "SUPPORT" => IncompatibilityOperation::Support,
            other => {
                return Err(field_error(
                    field("operation"),
                    format!("{other:?} is not one of CREATE, UPGRADE, SUPPORT"),
                ));
            }
        };
        let version = Constraint::parse(get("version")).map_err(|e| field_error(field("version"), e.to_string()))?;
        incompatibilities.push(ProviderIncompatibility {
            provider: get("provider").to_owned(),
            version,
            condition,
            operation,
        });
    }

    let versions = VersionCatalog {
        default: default
            .or_else(|| offered.is_empty().then(|| builtin.default.clone()))
            .or_else(|| offered.iter().max().cloned())
            .unwrap_or_else(|| builtin.default.clone()),
        versions: if offered.is_empty() {
            builtin.versions.clone()
        } else {
            sorted(offered)
        },
        updates: if updates.is_empty() {
            builtin.updates.clone()
        } else {
            updates
        },
        incompatibilities: if incompatibilities.is_empty() {
            builtin.incompatibilities.clone()
        } else {
            incompatibilities
        },
    };
    if !versions.offers(&versions.default) {
        return Err(field_error(
            "spec.versions.default".into(),
            format!("{} is not among spec.versions.versions", versions.default),
        ));
    }
    let expose_strategy = object
        .pointer("/spec/exposeStrategy")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    Ok(Configuration {
        name,
        versions,
        expose_strategy,
    })
}

fn sorted(mut versions: Vec<Version>) -> Vec<Version> {
    versions.sort();
    versions.dedup();
    versions
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn config(versions: Value) -> Value {
        json!({
            "apiVersion": "kubermatic.k8c.io/v1",
            "kind": "KubermaticConfiguration",
            "metadata": {"name": "kubermatic", "namespace": "kubermatic"},
            "spec": {"versions": versions}
        })
    }

    #[test]
    fn versions_come_from_the_configuration() {
        let c = configuration(&config(json!({
            "default": "v1.36.4",
            "versions": ["v1.35.8", "v1.36.4"],
            "updates": [{"from": "1.35.*", "to": "1.36.*"}],
            "providerIncompatibilities": [
                {"provider": "hetzner", "version": "1.36.*", "condition": "always", "operation": "CREATE"}
            ]
        })))
        .unwrap();
        assert_eq!(c.versions.versions, [Version::new(1, 35, 8), Version::new(1, 36, 4)]);
        assert_eq!(c.versions.default, Version::new(1, 36, 4));
        assert_eq!(c.versions.updates.len(), 1);
        let blocked = c.versions.incompatibility(
            "hetzner",
            true,
            IncompatibilityOperation::Create,
            &Version::new(1, 36, 4),
        );
        assert!(blocked.is_some());
    }

    #[test]
    fn empty_lists_take_the_builtin_catalog() {
        let c = configuration(&config(json!({"versions": null, "updates": []}))).unwrap();
        assert_eq!(c.versions, VersionCatalog::default());
    }

    #[test]
    fn bad_fields_are_named() {
        let e = configuration(&config(json!({"versions": ["v1.35.8", "one"]}))).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("KubermaticConfiguration \"kubermatic\": spec.versions.versions[1]: \"one\""),
            "{e}"
        );
        let e = configuration(&config(json!({"versions": ["v1.35.8"], "default": "v1.36.0"}))).unwrap_err();
        assert_eq!(
            e.to_string(),
            "KubermaticConfiguration \"kubermatic\": spec.versions.default: 1.36.0 is not among spec.versions.versions"
        );
        let e = configuration(&config(json!({"updates": [{"from": ">=", "to": "1.2"}]}))).unwrap_err();
        assert!(e.to_string().contains("spec.versions.updates[0].from"), "{e}");
        let e = configuration(&json!({"apiVersion": "v1", "kind": "ConfigMap"})).unwrap_err();
        assert_eq!(e.to_string(), "expected a KubermaticConfiguration, got v1 ConfigMap");
    }

    #[test]
    fn datacenters_come_from_seeds() {
        let seed = json!({
            "apiVersion": "kubermatic.k8c.io/v1", "kind": "Seed",
            "metadata": {"name": "europe", "namespace": "kubermatic"},
            "spec": {"exposeStrategy": "Tunneling", "datacenters": {
                "hetzner-fsn1": {"spec": {"hetzner": {"datacenter": "fsn1-dc14", "network": ""}}},
                "aws-eu": {"spec": {"aws": {"region": "eu-central-1"}, "enforcePodSecurityPolicy": true}}
            }}
        });
        let dcs = Datacenters::from_seeds([&seed]).unwrap();
        assert_eq!(dcs.names().collect::<Vec<_>>(), ["aws-eu", "hetzner-fsn1"]);
        let hetzner = dcs.get("hetzner-fsn1").unwrap();
        assert_eq!(hetzner.provider(), Some("hetzner"));
        assert_eq!(hetzner.provider_setting("hetzner", "network"), None, "\"\" is unset");
        assert!(dcs.get("aws-eu").unwrap().flag("enforcePodSecurityPolicy"));
        assert_eq!(dcs.seeds(), ["europe"]);
        assert_eq!(hetzner.seed_expose_strategy.as_deref(), Some("Tunneling"));
    }
}
