//! The feature flags KKP's mutating webhook sets beyond the spec defaults: on create
//! (`MutateCreate`) and when an update turns the external cloud controller manager on
//! (`MutateUpdate`).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::cloud_controller::{self, CCM_CLUSTER_NAME, EXTERNAL_CLOUD_PROVIDER, VSPHERE_CSI_CLUSTER_ID};
use crate::cluster::Cluster;
use crate::platform::Datacenter;
use crate::providers::Provider;
use crate::versions::VersionCatalog;

/// Network policies for the apiserver, on by default for new clusters.
pub const APISERVER_NETWORK_POLICY: &str = "apiserverNetworkPolicy";
/// Annotations that mark a cluster whose cloud controller manager and CSI drivers must move out
/// of the control plane.
pub const CCM_MIGRATION_NEEDED_ANNOTATION: &str = "ccm-migration.k8c.io/migration-needed";
pub const CSI_MIGRATION_NEEDED_ANNOTATION: &str = "csi-migration.k8c.io/migration-needed";

fn flag(features: Option<&BTreeMap<String, bool>>, name: &str) -> bool {
    features.and_then(|f| f.get(name)).copied().unwrap_or(false)
}

/// `MutateCreate`: the features of a new cluster.
pub fn on_create(cluster: &mut Cluster, datacenter: Option<&Datacenter>, catalog: &VersionCatalog) {
    let support = cloud_controller::support(&cluster.spec, datacenter, catalog);
    let provider = cloud_controller::cluster_provider(&cluster.spec).unwrap_or_default();
    let on_vsphere = cluster.spec.cloud.as_ref().is_some_and(|c| c.vsphere.is_some());
    if datacenter.is_some_and(|dc| dc.flag("disableCsiDriver")) {
        cluster.spec.disable_csi_driver = Some(true);
    }
    let features = cluster.spec.features.get_or_insert_with(BTreeMap::new);
    features.entry(APISERVER_NETWORK_POLICY.into()).or_insert(true);
    let configured = features.get(EXTERNAL_CLOUD_PROVIDER).copied();
    if support.supported && configured != Some(false) {
        features.insert(EXTERNAL_CLOUD_PROVIDER.into(), true);
        if cloud_controller::takes_cluster_name(&provider) {
            features.insert(CCM_CLUSTER_NAME.into(), true);
        }
        if on_vsphere {
            features.insert(VSPHERE_CSI_CLUSTER_ID.into(), true);
        }
    }
}

/// `MutateUpdate`: a cluster that turns the external cloud controller manager on is marked for
/// the migration; KubeVirt clusters always pass the cluster name to theirs.
pub fn on_update(old: &Cluster, cluster: &mut Cluster) {
    let was = flag(old.spec.features.as_ref(), EXTERNAL_CLOUD_PROVIDER);
    let is = flag(cluster.spec.features.as_ref(), EXTERNAL_CLOUD_PROVIDER);
    let provider = cloud_controller::cluster_provider(&cluster.spec).unwrap_or_default();
    if is && !was {
        let migrates = matches!(provider.as_str(), "openstack" | "vsphere" | "azure" | "aws" | "gcp");
        if migrates {
            let annotations = cluster.metadata.annotations.get_or_insert_with(BTreeMap::new);
            annotations.insert(CCM_MIGRATION_NEEDED_ANNOTATION.into(), String::new());
            annotations.insert(CSI_MIGRATION_NEEDED_ANNOTATION.into(), String::new());
        }
        if provider == "openstack" {
            use_octavia(cluster);
        }
        if cloud_controller::takes_cluster_name(&provider) {
            cluster
                .spec
                .features
                .get_or_insert_with(BTreeMap::new)
                .insert(CCM_CLUSTER_NAME.into(), true);
        }
    }
    if cluster.spec.cloud.as_ref().is_some_and(|c| c.kubevirt.is_some()) {
        cluster
            .spec
            .features
            .get_or_insert_with(BTreeMap::new)
            .insert(CCM_CLUSTER_NAME.into(), true);
    }
}

fn use_octavia(cluster: &mut Cluster) {
    let Some(cloud) = cluster.spec.cloud.as_mut() else {
        return;
    };
    let Some(mut block) = cloud.block_value(Provider::Openstack) else {
        return;
    };
    if let Some(obj) = block.as_object_mut() {
        obj.insert("useOctavia".into(), Value::Bool(true));
    }
    // A block that no longer parses is left for validation to report.
    let _ = cloud.set_block_value(Provider::Openstack, block);
}
