//! Installing CustomResourceDefinitions the way a cluster admin would (server-side apply)
//! and waiting until they can be used: Established, and served in discovery.

use std::time::{Duration, Instant};

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::Api;
use kube::api::{Patch, PatchParams};
use serde::Deserialize as _;

use crate::error::HarnessError;

/// The field manager of everything the harness applies.
pub const FIELD_MANAGER: &str = "kkp-e2e";

/// How long a CRD may take to become usable.
const CRD_TIMEOUT: Duration = Duration::from_secs(30);

/// A CRD manifest the project ships (`crds/<file>`), exactly as the engine generates it.
pub fn shipped_crd(file: &str) -> Result<String, HarnessError> {
    kkp_crds::crdgen::all()
        .into_iter()
        .find(|(name, _)| *name == file)
        .map(|(_, yaml)| yaml)
        .ok_or_else(|| HarnessError::Crd(format!("the project ships no CRD file {file}")))
}

/// The shipped CRD file of KKP's Clusters.
pub const CLUSTERS: &str = "kubermatic.k8c.io_clusters.yaml";
/// The shipped CRD file of machine-controller's MachineDeployments.
pub const MACHINE_DEPLOYMENTS: &str = "cluster.k8s.io_machinedeployments.yaml";
/// The shipped CRD file of the admission policies.
pub const ADMISSION_POLICIES: &str = "policy.kubectl-kkp.io_admissionpolicies.yaml";

/// Installs the shipped CRDs of `files` (see [`shipped_crd`]) and waits until they are served.
pub async fn install_shipped_crds(client: &kube::Client, files: &[&str]) -> Result<(), HarnessError> {
    for file in files {
        install_crds(client, &shipped_crd(file)?).await?;
    }
    Ok(())
}

/// Parses one or more YAML documents (separated by `---`) into CRDs; empty documents are skipped.
pub fn parse_crds(yaml: &str) -> Result<Vec<CustomResourceDefinition>, HarnessError> {
    let mut crds = Vec::new();
    for (index, document) in serde_yaml::Deserializer::from_str(yaml).enumerate() {
        let value = serde_yaml::Value::deserialize(document)
            .map_err(|e| HarnessError::Crd(format!("document {index} is not YAML: {e}")))?;
        if value.is_null() {
            continue;
        }
        let crd: CustomResourceDefinition = serde_yaml::from_value(value)
            .map_err(|e| HarnessError::Crd(format!("document {index} is not a CustomResourceDefinition: {e}")))?;
        if crd.metadata.name.as_deref().is_none_or(str::is_empty) {
            return Err(HarnessError::Crd(format!("document {index} has no metadata.name")));
        }
        crds.push(crd);
    }
    if crds.is_empty() {
        return Err(HarnessError::Crd("no CustomResourceDefinition in the YAML".into()));
    }
    Ok(crds)
}

/// Server-side applies the CRDs in `yaml` and waits until every one is Established and
/// each served version lists it in discovery. Returns the CRDs as the server has them.
pub async fn install_crds(client: &kube::Client, yaml: &str) -> Result<Vec<CustomResourceDefinition>, HarnessError> {
    let crds = parse_crds(yaml)?;
    let api: Api<CustomResourceDefinition> = Api::all(client.clone());
    let params = PatchParams::apply(FIELD_MANAGER).force();
    for crd in &crds {
        let name = crd.metadata.name.as_deref().unwrap_or_default();
        let mut body = crd.clone();
        body.status = None;
        body.metadata.managed_fields = None;
        body.metadata.resource_version = None;
        api.patch(name, &params, &Patch::Apply(&body))
            .await
            .map_err(|e| HarnessError::Crd(format!("applying {name}: {e}")))?;
    }
    let mut installed = Vec::with_capacity(crds.len());
    for crd in &crds {
        installed.push(wait_for_crd(client, crd.metadata.name.as_deref().unwrap_or_default()).await?);
    }
    Ok(installed)
}

/// Waits until CRD `name` is Established and all its served versions are in discovery.
pub async fn wait_for_crd(client: &kube::Client, name: &str) -> Result<CustomResourceDefinition, HarnessError> {
    let api: Api<CustomResourceDefinition> = Api::all(client.clone());
    let started = Instant::now();
    loop {
        let last = match api.get(name).await {
            Ok(crd) if is_established(&crd) => match missing_from_discovery(client, &crd).await {
                None => return Ok(crd),
                Some(why) => why,
            },
            Ok(crd) => format!("conditions {:?}", conditions(&crd)),
            Err(e) => e.to_string(),
        };
        if started.elapsed() >= CRD_TIMEOUT {
            return Err(HarnessError::Crd(format!(
                "{name} was not usable after {CRD_TIMEOUT:?}: {last}"
            )));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn conditions(crd: &CustomResourceDefinition) -> Vec<(String, String)> {
    crd.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .map(|cs| cs.iter().map(|c| (c.type_.clone(), c.status.clone())).collect())
        .unwrap_or_default()
}

/// Whether the CRD's `Established` and `NamesAccepted` conditions are `True`.
pub fn is_established(crd: &CustomResourceDefinition) -> bool {
    let conditions = conditions(crd);
    ["Established", "NamesAccepted"]
        .iter()
        .all(|want| conditions.iter().any(|(t, s)| t == want && s == "True"))
}

/// Why the CRD is not (yet) in discovery, or `None` when every served version lists it.
async fn missing_from_discovery(client: &kube::Client, crd: &CustomResourceDefinition) -> Option<String> {
    let group = &crd.spec.group;
    let plural = &crd.spec.names.plural;
    for version in crd.spec.versions.iter().filter(|v| v.served) {
        let group_version = format!("{group}/{}", version.name);
        match client.list_api_group_resources(&group_version).await {
            Ok(list) if list.resources.iter().any(|r| &r.name == plural) => {}
            Ok(_) => return Some(format!("{plural} not yet listed in {group_version}")),
            Err(e) => return Some(format!("discovery of {group_version}: {e}")),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const CRD: &str = r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.kkp.test
spec:
  group: example.kkp.test
  names: {kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
"#;

    #[test]
    fn parses_several_documents_and_skips_empty_ones() {
        let yaml = format!("---\n{CRD}\n---\n---\n{}", CRD.replace("widgets", "gadgets"));
        let crds = parse_crds(&yaml).expect("parse");
        let names: Vec<_> = crds.iter().filter_map(|c| c.metadata.name.clone()).collect();
        assert_eq!(names, ["widgets.example.kkp.test", "gadgets.example.kkp.test"]);
        assert_eq!(crds[0].spec.names.plural, "widgets");
    }

    #[test]
    fn rejects_other_kinds_and_empty_input() {
        assert!(parse_crds("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n").is_err());
        assert!(parse_crds("---\n").is_err());
        assert!(parse_crds(": : :").is_err());
    }

    #[test]
    fn established_needs_both_conditions_true() {
        let mut crd = parse_crds(CRD).expect("parse").remove(0);
        assert!(!is_established(&crd));
        let status: k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinitionStatus =
            serde_json::from_value(serde_json::json!({
                "conditions": [
                    {"type": "Established", "status": "True"},
                    {"type": "NamesAccepted", "status": "False"}
                ]
            }))
            .expect("status");
        crd.status = Some(status.clone());
        assert!(!is_established(&crd));
        let mut accepted = status;
        if let Some(c) = accepted.conditions.as_mut() {
            c[1].status = "True".into();
        }
        crd.status = Some(accepted);
        assert!(is_established(&crd));
    }
}
