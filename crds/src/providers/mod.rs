//! The provider registry: one entry per cloud provider, each with its typed Cluster block, its
//! JSON Schemas and the operating systems its machines may run.
//!
//! Adding a provider means one module here, two schema files under `crds/schemas/` and one entry in
//! [`Provider::ALL`]; nothing else changes.

mod aws;
mod azure;
mod digitalocean;
mod gcp;
mod hetzner;
mod kubevirt;
mod openstack;
mod os;
mod vsphere;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_with::skip_serializing_none;

use crate::cluster::Other;

pub use aws::AwsCloudSpec;
pub use azure::AzureCloudSpec;
pub use digitalocean::DigitaloceanCloudSpec;
pub use gcp::GcpCloudSpec;
pub use hetzner::HetznerCloudSpec;
pub use kubevirt::{
    KubeVirtCsiDriverOperator, KubeVirtInfraStorageClass, KubeVirtInfraVolumeSnapshotClass, KubevirtCloudSpec,
    PreAllocatedDataVolume,
};
pub use openstack::{LoadBalancerClass, LoadBalancerClassConfig, OpenstackCloudSpec};
pub use os::OperatingSystem;
pub use vsphere::{VsphereCloudSpec, VsphereCredentials, VsphereTag};

/// A reference to a Secret (and optionally a key in it) holding credentials.
#[skip_serializing_none]
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct GlobalSecretKeySelector {
    pub name: Option<String>,
    pub namespace: Option<String>,
    pub key: Option<String>,
    #[serde(flatten)]
    pub other: Other,
}

impl GlobalSecretKeySelector {
    /// Whether the reference names a Secret, which is what KKP asks of a `credentialsReference`: a
    /// non-empty name and namespace.
    pub fn is_complete(&self) -> bool {
        !self.name.as_deref().unwrap_or("").is_empty() && !self.namespace.as_deref().unwrap_or("").is_empty()
    }
}

/// A cloud provider this project has schemas for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Provider {
    Aws,
    Azure,
    Gcp,
    Hetzner,
    Vsphere,
    Openstack,
    Digitalocean,
    Kubevirt,
}

impl Provider {
    pub const ALL: [Provider; 8] = [
        Provider::Aws,
        Provider::Azure,
        Provider::Digitalocean,
        Provider::Gcp,
        Provider::Hetzner,
        Provider::Kubevirt,
        Provider::Openstack,
        Provider::Vsphere,
    ];

    /// KKP's name: the `spec.cloud` block key and `providerName`.
    pub fn name(self) -> &'static str {
        match self {
            Provider::Aws => "aws",
            Provider::Azure => "azure",
            Provider::Gcp => "gcp",
            Provider::Hetzner => "hetzner",
            Provider::Vsphere => "vsphere",
            Provider::Openstack => "openstack",
            Provider::Digitalocean => "digitalocean",
            Provider::Kubevirt => "kubevirt",
        }
    }

    /// machine-controller's name, the `cloudProvider` of a MachineDeployment (`gce` for gcp).
    pub fn machine_name(self) -> &'static str {
        match self {
            Provider::Gcp => "gce",
            other => other.name(),
        }
    }

    pub fn from_name(name: &str) -> Option<Provider> {
        Provider::ALL.into_iter().find(|p| p.name() == name)
    }

    pub fn from_machine_name(name: &str) -> Option<Provider> {
        Provider::ALL.into_iter().find(|p| p.machine_name() == name)
    }

    /// The operating systems machine-controller can run on this provider's machines.
    ///
    /// Sources: machine-controller's per-provider image tables and supported-OS sets
    /// (`pkg/cloudprovider/provider/<provider>/`, `sdk/cloudprovider/kubevirt/types.go`) and the
    /// `supportedCloudProviders` of operating-system-manager's default profiles:
    /// - aws: all five (AMI filters exist for each, Amazon Linux 2 only here);
    /// - azure: ubuntu, flatcar, rhel, rockylinux (marketplace images);
    /// - digitalocean: ubuntu, rockylinux (droplet image slugs);
    /// - gcp: ubuntu (the only image family machine-controller knows; other systems need a
    ///   `customImage`, which machine-controller accepts without an OS check);
    /// - hetzner: ubuntu, rockylinux (hcloud image names);
    /// - kubevirt: ubuntu, rhel, flatcar, rockylinux (machine-controller's `SupportedOS`);
    /// - openstack and vsphere: ubuntu, flatcar, rhel, rockylinux (images and templates are named by
    ///   the user; these are the systems with operating-system-manager profiles for them).
    pub fn supported_operating_systems(self) -> &'static [OperatingSystem] {
        use OperatingSystem::*;
        match self {
            Provider::Aws => &[Ubuntu, Flatcar, Rhel, Rockylinux, Amzn2],
            Provider::Azure => &[Ubuntu, Flatcar, Rhel, Rockylinux],
            Provider::Digitalocean => &[Ubuntu, Rockylinux],
            Provider::Gcp => &[Ubuntu],
            Provider::Hetzner => &[Ubuntu, Rockylinux],
            Provider::Kubevirt => &[Ubuntu, Rhel, Flatcar, Rockylinux],
            Provider::Openstack => &[Ubuntu, Flatcar, Rhel, Rockylinux],
            Provider::Vsphere => &[Ubuntu, Flatcar, Rhel, Rockylinux],
        }
    }

    /// Whether machines of this provider may run `os`.
    pub fn supports(self, os: OperatingSystem) -> bool {
        self.supported_operating_systems().contains(&os)
    }

    /// The credential fields of this provider's Cluster block: the values KKP's
    /// cluster-credentials-controller moves into the `credential-<provider>-<cluster>` Secret.
    ///
    /// Nested fields are written as dotted paths (`infraManagementUser.password`);
    /// [`Provider::inline_credentials`] reads them from a block.
    pub fn credential_fields(self) -> &'static [&'static str] {
        match self {
            Provider::Aws => &[
                "accessKeyID",
                "secretAccessKey",
                "assumeRoleARN",
                "assumeRoleExternalID",
            ],
            Provider::Azure => &["tenantID", "subscriptionID", "clientID", "clientSecret"],
            Provider::Digitalocean => &["token"],
            Provider::Gcp => &["serviceAccount"],
            Provider::Hetzner => &["token"],
            Provider::Kubevirt => &["kubeconfig", "csiKubeconfig"],
            Provider::Openstack => &[
                "username",
                "password",
                "project",
                "projectID",
                "domain",
                "applicationCredentialID",
                "applicationCredentialSecret",
                "token",
            ],
            Provider::Vsphere => &[
                "username",
                "password",
                "infraManagementUser.username",
                "infraManagementUser.password",
            ],
        }
    }

    /// The credential fields that `block` (this provider's `spec.cloud.<provider>` as JSON) sets
    /// inline, that is to a non-empty string.
    pub fn inline_credentials(self, block: &Value) -> Vec<&'static str> {
        self.credential_fields()
            .iter()
            .copied()
            .filter(|field| {
                let pointer = format!("/{}", field.replace('.', "/"));
                block
                    .pointer(&pointer)
                    .and_then(Value::as_str)
                    .is_some_and(|v| !v.is_empty())
            })
            .collect()
    }
}

impl std::fmt::Display for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn names_round_trip() {
        for p in Provider::ALL {
            assert_eq!(Provider::from_name(p.name()), Some(p));
            assert_eq!(Provider::from_machine_name(p.machine_name()), Some(p));
        }
        assert_eq!(Provider::Gcp.machine_name(), "gce");
        assert_eq!(Provider::from_name("gce"), None);
        assert_eq!(Provider::from_machine_name("gcp"), None);
        assert_eq!(Provider::from_name("nutanix"), None);
    }

    #[test]
    fn operating_systems_follow_machine_controller() {
        assert_eq!(Provider::Aws.supported_operating_systems(), &OperatingSystem::ALL);
        assert!(Provider::Kubevirt.supports(OperatingSystem::Flatcar));
        assert!(!Provider::Kubevirt.supports(OperatingSystem::Amzn2));
        assert!(!Provider::Azure.supports(OperatingSystem::Amzn2));
        for p in Provider::ALL {
            assert!(p.supports(OperatingSystem::Ubuntu), "{p} runs ubuntu");
        }
    }

    #[test]
    fn inline_credentials_are_found_by_field() {
        let block = json!({
            "accessKeyID": "AKIA",
            "secretAccessKey": "",
            "vpcID": "vpc-1",
            "credentialsReference": {"name": "c", "namespace": "kubermatic"}
        });
        assert_eq!(Provider::Aws.inline_credentials(&block), vec!["accessKeyID"]);
        let vsphere = json!({"username": "", "infraManagementUser": {"password": "s3cret"}});
        assert_eq!(
            Provider::Vsphere.inline_credentials(&vsphere),
            vec!["infraManagementUser.password"]
        );
        assert!(Provider::Hetzner.inline_credentials(&json!({"token": ""})).is_empty());
    }

    #[test]
    fn a_credentials_reference_needs_name_and_namespace() {
        let complete = GlobalSecretKeySelector {
            name: Some("credential-aws-x".into()),
            namespace: Some("kubermatic".into()),
            ..Default::default()
        };
        assert!(complete.is_complete());
        let partial = GlobalSecretKeySelector {
            name: Some("x".into()),
            ..Default::default()
        };
        assert!(!partial.is_complete());
    }
}
