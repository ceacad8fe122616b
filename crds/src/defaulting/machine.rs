//! machine-controller's MachineDeployment defaulting, with the provider's and operating system's
//! schema defaults and the kubelet version of the cluster it belongs to.

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use serde_json::Value;

use crate::machine::{MachineDeployment, MachineDeploymentStrategy, RollingUpdate, TemplateMeta};
use crate::providers::{OperatingSystem, Provider};
use crate::schema;

pub const DEFAULT_REPLICAS: i32 = 1;
pub const DEFAULT_MIN_READY_SECONDS: i32 = 0;
pub const DEFAULT_REVISION_HISTORY_LIMIT: i32 = 1;
pub const DEFAULT_PROGRESS_DEADLINE_SECONDS: i32 = 600;
pub const ROLLING_UPDATE: &str = "RollingUpdate";

/// Applies machine-controller's MachineDeployment defaults, the provider and OS schema defaults, and,
/// when the cluster's version is known, the kubelet version.
pub fn default_machine_deployment(md: &mut MachineDeployment, cluster_version: Option<&semver::Version>) {
    if md.metadata.namespace.as_deref().unwrap_or("").is_empty() {
        md.metadata.namespace = Some("default".to_owned());
    }
    let spec = &mut md.spec;
    spec.replicas.get_or_insert(DEFAULT_REPLICAS);
    spec.min_ready_seconds.get_or_insert(DEFAULT_MIN_READY_SECONDS);
    spec.revision_history_limit
        .get_or_insert(DEFAULT_REVISION_HISTORY_LIMIT);
    spec.progress_deadline_seconds
        .get_or_insert(DEFAULT_PROGRESS_DEADLINE_SECONDS);
    let strategy = spec.strategy.get_or_insert_with(MachineDeploymentStrategy::default);
    if strategy.type_.as_deref().unwrap_or("").is_empty() {
        strategy.type_ = Some(ROLLING_UPDATE.to_owned());
    }
    if strategy.type_.as_deref() == Some(ROLLING_UPDATE) {
        let rolling = strategy.rolling_update.get_or_insert_with(RollingUpdate::default);
        rolling.max_surge.get_or_insert(IntOrString::Int(1));
        rolling.max_unavailable.get_or_insert(IntOrString::Int(0));
    }

    let Some(machine) = spec.template.as_mut().and_then(|t| t.spec.as_mut()) else {
        return;
    };
    if let Some(cp) = cluster_version {
        let versions = machine.versions.get_or_insert_with(Default::default);
        if versions.kubelet.as_deref().unwrap_or("").is_empty() {
            versions.kubelet = Some(cp.to_string());
        }
    }
    let Some(config) = machine.provider_spec.as_mut().and_then(|p| p.value.as_mut()) else {
        return;
    };
    let provider = config.cloud_provider.as_deref().and_then(Provider::from_machine_name);
    if let (Some(provider), Some(spec)) = (provider, config.cloud_provider_spec.as_mut())
        && spec.is_object()
    {
        schema::apply_defaults_over_zero_values(schema::machine_cloud_schema_json(provider), spec);
        let mut labels = machine
            .metadata
            .as_ref()
            .and_then(|m| m.labels.clone())
            .unwrap_or_default();
        let before = labels.clone();
        (provider.descriptor().machine_defaults)(spec, &mut labels);
        if labels != before {
            machine.metadata.get_or_insert_with(TemplateMeta::default).labels = Some(labels);
        }
    }
    if let Some(os) = config.operating_system.as_deref().and_then(OperatingSystem::from_name) {
        default_operating_system_spec(os, &mut config.operating_system_spec);
    }
}

/// machine-controller's OS defaulting: an absent spec becomes the OS's whole settings struct with
/// zero values; a flatcar spec is always rewritten that way, with `provisioningUtility` ignition
/// when empty. Other present specs stay as they are.
fn default_operating_system_spec(os: OperatingSystem, spec: &mut Option<Value>) {
    let absent = spec.as_ref().is_none_or(Value::is_null);
    if absent {
        let mut full = Value::Object(Default::default());
        schema::apply_defaults(schema::os_schema_json(os), &mut full);
        *spec = Some(full);
    } else if os == OperatingSystem::Flatcar
        && let Some(present) = spec.as_mut().filter(|s| s.is_object())
    {
        schema::apply_defaults_over_zero_values(schema::os_schema_json(os), present);
    }
}
