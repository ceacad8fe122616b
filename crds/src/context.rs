//! What the engine knows beyond the object it judges: the platform's versions, datacenters and
//! expose strategy, the cluster version of MachineDeployments, and the policies in force.

use std::sync::Arc;

use crate::platform::{Datacenter, Datacenters};
use crate::policy::PolicySet;
use crate::versions::VersionCatalog;

/// The expose strategy of a new cluster when neither its datacenter's Seed nor the
/// `KubermaticConfiguration` names one.
pub const DEFAULT_EXPOSE_STRATEGY: &str = "NodePort";

/// What the engine knows beyond the object.
#[derive(Clone, Debug, Default)]
pub struct Context {
    /// The versions the platform offers (its `KubermaticConfiguration`, or the built-in catalog).
    pub versions: VersionCatalog,
    /// The datacenters of the platform's Seeds, when known. Rules that need a datacenter apply
    /// when it is known and are skipped with a warning when it is not.
    pub datacenters: Option<Arc<Datacenters>>,
    /// The `KubermaticConfiguration`'s `spec.exposeStrategy`: the default for new clusters unless
    /// their datacenter's Seed names its own; `NodePort` when neither does.
    pub expose_strategy: Option<String>,
    /// The control plane version of the cluster MachineDeployments belong to, when known: it
    /// enables the kubelet skew rule and the kubelet default.
    pub cluster_version: Option<semver::Version>,
    /// The admission policies in force.
    pub policies: PolicySet,
}

impl Context {
    /// The datacenter `name`, or `None` when no Seed names it or no Seed is known at all.
    pub fn datacenter(&self, name: &str) -> Option<&Datacenter> {
        self.datacenters.as_deref()?.get(name)
    }

    /// The expose strategy a new cluster in datacenter `dc` gets when it names none, as KKP
    /// chooses it: the datacenter's Seed, then the configuration, then `NodePort`.
    pub fn default_expose_strategy(&self, dc: &str) -> &str {
        self.datacenter(dc)
            .and_then(|d| d.seed_expose_strategy.as_deref())
            .or(self.expose_strategy.as_deref())
            .unwrap_or(DEFAULT_EXPOSE_STRATEGY)
    }
}
