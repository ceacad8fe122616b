//! Where KKP runs a cluster's cloud controller manager outside the control plane (the
//! `externalCloudProvider` feature), and the features that go with it.
//!
//! KKP decides this from the provider, the datacenter and the version's provider
//! incompatibilities. A datacenter the engine does not know leaves some answers open; they are
//! reported as [`Support::depends_on_datacenter`] so callers can skip what they cannot decide.

use semver::Version;

use crate::cluster::ClusterSpec;
use crate::platform::Datacenter;
use crate::versions::{IncompatibilityOperation, VersionCatalog};

/// The cluster feature that moves the cloud controller manager out of the control plane.
pub const EXTERNAL_CLOUD_PROVIDER: &str = "externalCloudProvider";
/// Passes the cluster name to the external cloud controller manager.
pub const CCM_CLUSTER_NAME: &str = "ccmClusterName";
/// Identifies the user cluster (not the vSphere compute cluster) in the vSphere CSI config.
pub const VSPHERE_CSI_CLUSTER_ID: &str = "vsphereCSIClusterID";
/// Open Telekom Cloud's identity endpoint: OpenStack datacenters there keep the in-tree provider.
const OTC_AUTH_HOST: &str = "iam.eu-de.otc.t-systems.com";

/// Whether the external cloud controller manager is supported for a cluster.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Support {
    /// The answer, or the likely one when it depends on an unknown datacenter.
    pub supported: bool,
    /// The answer depends on a datacenter the engine does not know.
    pub depends_on_datacenter: bool,
}

impl Support {
    fn known(supported: bool) -> Self {
        Support {
            supported,
            depends_on_datacenter: false,
        }
    }
}

/// The provider of a cluster as KKP names it: the one populated block, else `providerName`.
pub fn cluster_provider(spec: &ClusterSpec) -> Option<String> {
    let cloud = spec.cloud.as_ref()?;
    match cloud.block_names().as_slice() {
        [one] => Some((*one).to_owned()),
        _ => cloud.provider_name.clone().filter(|p| !p.is_empty()),
    }
}

/// Whether the providers' cloud controller manager runs as its own deployment in KKP (KKP's
/// `HasCCM`); only then does a version depend on the in-tree / external condition.
pub fn has_ccm(provider: &str) -> bool {
    matches!(
        provider,
        "aws" | "azure" | "openstack" | "hetzner" | "gcp" | "anexia" | "vsphere" | "kubevirt" | "digitalocean"
    )
}

/// KKP's `ExternalCloudControllerFeatureSupported` for a cluster in `datacenter` (`None`: not
/// known here).
pub fn support(spec: &ClusterSpec, datacenter: Option<&Datacenter>, catalog: &VersionCatalog) -> Support {
    let Some(provider) = cluster_provider(spec) else {
        return Support::known(false);
    };
    let version_allows = || {
        spec.version
            .as_deref()
            .and_then(|v| crate::versions::parse(v).ok())
            .is_none_or(|v: Version| {
                catalog
                    .incompatibility(&provider, true, IncompatibilityOperation::Support, &v)
                    .is_none()
            })
    };
    match provider.as_str() {
        "openstack" => match datacenter {
            Some(dc) => Support::known(!is_otc(dc.provider_setting("openstack", "authURL").unwrap_or(""))),
            None => Support {
                supported: true,
                depends_on_datacenter: true,
            },
        },
        "hetzner" => {
            let own_network = spec
                .cloud
                .as_ref()
                .and_then(|c| c.hetzner.as_ref())
                .and_then(|h| h.network.as_deref())
                .is_some_and(|n| !n.is_empty());
            if own_network {
                return Support::known(version_allows());
            }
            match datacenter {
                Some(dc) => Support::known(dc.provider_setting("hetzner", "network").is_some() && version_allows()),
                None => Support {
                    supported: false,
                    depends_on_datacenter: true,
                },
            }
        }
        "aws" | "anexia" | "azure" | "gcp" | "digitalocean" | "kubevirt" | "vsphere" => {
            Support::known(version_allows())
        }
        _ => Support::known(false),
    }
}

/// Providers whose external cloud controller manager gets the cluster name (KKP's
/// `ExternalCloudControllerClusterName`).
pub fn takes_cluster_name(provider: &str) -> bool {
    matches!(provider, "openstack" | "azure" | "aws" | "gcp" | "kubevirt")
}

/// Whether an OpenStack identity endpoint is Open Telekom Cloud's: the host of the URL, port
/// included, as Go's `url.URL.Host` gives it.
fn is_otc(auth_url: &str) -> bool {
    let Some((_, rest)) = auth_url.split_once("://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    host == OTC_AUTH_HOST
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn otc_is_recognised_by_host() {
        assert!(is_otc("https://iam.eu-de.otc.t-systems.com/v3"));
        assert!(!is_otc("https://iam.eu-de.otc.t-systems.com:443/v3"));
        assert!(!is_otc("https://keystone.example/v3"));
        assert!(!is_otc(""));
    }
}
