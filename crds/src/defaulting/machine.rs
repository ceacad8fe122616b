use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::machine::{MachineDeployment, MachineDeploymentStrategy, RollingUpdate};
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
    strategy.type_.get_or_insert_with(|| ROLLING_UPDATE.to_owned());
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
    if let (Some(provider), Some(spec)) = (
        config.cloud_provider.as_deref().and_then(Provider::from_machine_name),
        config.cloud_provider_spec.as_mut(),
    ) {
        schema::apply_defaults(schema::machine_cloud_schema_json(provider), spec);
    }
    if let Some(os) = config.operating_system.as_deref().and_then(OperatingSystem::from_name) {
        let spec = config
            .operating_system_spec
            .get_or_insert_with(|| serde_json::json!({}));
        schema::apply_defaults(schema::os_schema_json(os), spec);
    }
}
