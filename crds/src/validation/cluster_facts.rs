//! What several of a Cluster's rules ask about it: its datacenter as the platform knows it, and
//! its feature flags (whether it runs the external cloud controller manager).

use std::collections::BTreeMap;

use crate::cloud_controller::EXTERNAL_CLOUD_PROVIDER;
use crate::cluster::ClusterSpec;
use crate::context::Context;
use crate::platform::Datacenter;

/// What the rules know about the cluster's datacenter.
pub(crate) struct Site<'a> {
    pub name: &'a str,
    /// The datacenter, when a known Seed names it.
    pub datacenter: Option<&'a Datacenter>,
}

impl<'a> Site<'a> {
    pub fn of(spec: &'a ClusterSpec, ctx: &'a Context) -> Self {
        let name = spec.cloud.as_ref().and_then(|c| c.dc.as_deref()).unwrap_or("");
        Site {
            name,
            datacenter: ctx.datacenter(name),
        }
    }
}

/// Whether the cluster runs the external cloud controller manager.
pub(crate) fn external_ccm(spec: &ClusterSpec) -> bool {
    feature(spec.features.as_ref(), EXTERNAL_CLOUD_PROVIDER)
}

pub(crate) fn feature(features: Option<&BTreeMap<String, bool>>, name: &str) -> bool {
    features.and_then(|m| m.get(name)).copied().unwrap_or(false)
}
