//! The real upstream objects the end-to-end tests install, read in place from the shared
//! `upstream-examples` folder: KKP's own CRDs, machine-controller's CRDs, a complete
//! `KubermaticConfiguration` and KKP's example `Seed`s.
//!
//! The folder is `KKP_UPSTREAM_EXAMPLES` (which `scripts/test.sh` exports), else a
//! `shared/upstream-examples` beside the checkout or one of its parents. A test that needs it and
//! cannot find it fails with that reason; nothing is skipped.

use std::path::{Path, PathBuf};

use serde::Deserialize as _;
use serde_json::Value;

use crate::error::HarnessError;

/// The namespace KKP keeps its configuration and Seeds in.
pub const KUBERMATIC_NAMESPACE: &str = "kubermatic";

/// The folder of upstream examples.
pub fn examples_dir() -> Result<PathBuf, HarnessError> {
    if let Some(dir) = std::env::var_os("KKP_UPSTREAM_EXAMPLES") {
        let dir = PathBuf::from(dir);
        return if dir.is_dir() {
            Ok(dir)
        } else {
            Err(HarnessError::InvalidInput(format!(
                "KKP_UPSTREAM_EXAMPLES={} is not a folder",
                dir.display()
            )))
        };
    }
    let start = Path::new(env!("CARGO_MANIFEST_DIR"));
    start
        .ancestors()
        .map(|a| a.join("shared").join("upstream-examples"))
        .find(|d| d.is_dir())
        .ok_or_else(|| {
            HarnessError::InvalidInput(
                "the upstream examples folder (shared/upstream-examples) is not beside this checkout or its \
                 parents; set KKP_UPSTREAM_EXAMPLES to its path"
                    .into(),
            )
        })
}

/// A file of the examples folder, as text.
pub fn read(relative: &str) -> Result<String, HarnessError> {
    let path = examples_dir()?.join(relative);
    std::fs::read_to_string(&path).map_err(|e| HarnessError::io(format!("reading {}", path.display()), e))
}

/// The YAML documents of an examples file that are objects.
pub fn documents(relative: &str) -> Result<Vec<Value>, HarnessError> {
    let text = read(relative)?;
    let mut out = Vec::new();
    for (index, document) in serde_yaml::Deserializer::from_str(&text).enumerate() {
        let value = Value::deserialize(document)
            .map_err(|e| HarnessError::InvalidInput(format!("{relative}: document {index}: {e}")))?;
        if value.is_object() {
            out.push(value);
        }
    }
    Ok(out)
}

/// KKP's real CRD manifests for Clusters, KubermaticConfigurations and Seeds, and
/// machine-controller's for Machines, MachineSets and MachineDeployments, as YAML texts.
pub fn real_crds() -> Result<Vec<String>, HarnessError> {
    [
        "kkp-config/crds/kubermatic.k8c.io_clusters.yaml",
        "kkp-config/crds/kubermatic.k8c.io_kubermaticconfigurations.yaml",
        "kkp-config/crds/kubermatic.k8c.io_seeds.yaml",
        "kkp-config/crds/machine-controller-crds.yaml",
    ]
    .into_iter()
    .map(read)
    .collect()
}

/// Drops `null` values: the example files write every unset field out as `null` for documentation,
/// where KKP's own Go clients leave `omitempty` fields out, and the CRDs' schemas refuse `null`.
fn without_nulls(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(without_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(without_nulls),
        _ => {}
    }
}

/// Replaces KKP's documentation placeholders (`<<mykubermatic>>`) in names with real names.
fn named(mut object: Value, name: &str) -> Value {
    without_nulls(&mut object);
    if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.insert("name".into(), Value::from(name));
        meta.insert("namespace".into(), Value::from(KUBERMATIC_NAMESPACE));
    }
    object
}

/// KKP's complete example `KubermaticConfiguration` (every default written out; versions
/// 1.33–1.36, default v1.35.8), named `kubermatic`.
pub fn kubermatic_configuration() -> Result<Value, HarnessError> {
    let doc = documents("kkp-config/kubermaticconfiguration.ce.yaml")?
        .into_iter()
        .find(|d| d.get("kind").and_then(Value::as_str) == Some("KubermaticConfiguration"))
        .ok_or_else(|| {
            HarnessError::InvalidInput("no KubermaticConfiguration in kubermaticconfiguration.ce.yaml".into())
        })?;
    Ok(named(doc, "kubermatic"))
}

/// KKP's two example Seeds:
/// - `complete`, from the complete example (one datacenter with every provider's settings), its
///   datacenter split into one per provider (`example-<provider>`, each with the datacenter's other
///   settings), as a real Seed has one provider per datacenter;
/// - `kubermatic`, the installers' small example (datacenter `aws-eu-central-1a`).
pub fn seeds() -> Result<Vec<Value>, HarnessError> {
    let complete = documents("kkp-config/seed.ce.yaml")?
        .into_iter()
        .find(|d| d.get("kind").and_then(Value::as_str) == Some("Seed"))
        .ok_or_else(|| HarnessError::InvalidInput("no Seed in seed.ce.yaml".into()))?;
    let mut complete = named(complete, "complete");
    if let Some(dcs) = complete.pointer_mut("/spec/datacenters").and_then(Value::as_object_mut) {
        let mut split = serde_json::Map::new();
        for (_, dc) in std::mem::take(dcs) {
            let spec = dc.get("spec").and_then(Value::as_object).cloned().unwrap_or_default();
            let (providers, common): (Vec<_>, Vec<_>) = spec
                .into_iter()
                .partition(|(k, _)| kkp_crds::platform::DATACENTER_PROVIDERS.contains(&k.as_str()));
            for (provider, block) in providers {
                let mut one = dc.clone();
                let mut spec: serde_json::Map<String, Value> = common.iter().cloned().collect();
                spec.insert(provider.clone(), block);
                one["spec"] = Value::Object(spec);
                split.insert(format!("example-{provider}"), one);
            }
        }
        *dcs = split;
    }
    let small = documents("kkp-config/seed.example.yaml")?
        .into_iter()
        .find(|d| d.get("kind").and_then(Value::as_str) == Some("Seed"))
        .ok_or_else(|| HarnessError::InvalidInput("no Seed in seed.example.yaml".into()))?;
    Ok(vec![complete, named(small, "kubermatic")])
}

/// Server-side applies an example object. The complete examples write some fields out with Go zero
/// values that their own CRDs refuse (an empty enum, a 0 under a minimum); such fields, exactly
/// those the apiserver names and only when they hold `""` or `0`, are left out and the object is
/// applied again, as KKP's Go clients would leave them out.
pub async fn apply_example(
    api: &kube::Api<kube::api::DynamicObject>,
    name: &str,
    object: &Value,
) -> Result<(), HarnessError> {
    use kube::api::{Patch, PatchParams};
    let params = PatchParams::apply(crate::crds::FIELD_MANAGER).force();
    let mut object = object.clone();
    for _ in 0..2 {
        match api.patch(name, &params, &Patch::Apply(&object)).await {
            Ok(_) => return Ok(()),
            Err(kube::Error::Api(status)) if status.code == 422 => {
                let causes = status.details.as_ref().map(|d| d.causes.clone()).unwrap_or_default();
                let mut dropped = 0;
                for cause in &causes {
                    let pointer = format!("/{}", cause.field.replace('.', "/"));
                    let (parent, key) = pointer.rsplit_once('/').unwrap_or(("", ""));
                    let zero = object
                        .pointer(&pointer)
                        .is_some_and(|v| v.as_str() == Some("") || v.as_f64() == Some(0.0));
                    if zero && let Some(map) = object.pointer_mut(parent).and_then(Value::as_object_mut) {
                        map.remove(key);
                        dropped += 1;
                    }
                }
                if dropped == 0 {
                    return Err(HarnessError::InvalidInput(format!(
                        "applying {name}: {}",
                        status.message
                    )));
                }
            }
            Err(e) => return Err(HarnessError::InvalidInput(format!("applying {name}: {e}"))),
        }
    }
    Err(HarnessError::InvalidInput(format!(
        "applying {name}: still refused after leaving out zero values"
    )))
}
