//! The provider registry: one entry per cloud provider, each with its typed Cluster block, its
//! JSON Schemas and the operating systems its machines may run.
//!
//! Adding a provider means one module here (its typed Cluster block and its [`Descriptor`]), its
//! schema files under `crds/schemas/`, and naming it in [`Provider`], [`Provider::ALL`] and
//! [`Provider::descriptor`]; nothing outside this folder changes. machine-controller's other
//! providers are known by name only ([`MACHINE_CONTROLLER_PROVIDERS`]).

mod aws;
mod azure;
mod digitalocean;
mod gcp;
mod hetzner;
mod kubevirt;
mod openstack;
mod os;
pub mod registry;
mod secret_reference;
mod vsphere;

use serde_json::Value;

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
pub use registry::{Descriptor, MACHINE_CONTROLLER_PROVIDERS, OsSupport};
pub use secret_reference::GlobalSecretKeySelector;
pub use vsphere::{VsphereCloudSpec, VsphereCredentials, VsphereTag};

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

    /// The provider's registry entry.
    pub fn descriptor(self) -> &'static Descriptor {
        match self {
            Provider::Aws => &aws::DESCRIPTOR,
            Provider::Azure => &azure::DESCRIPTOR,
            Provider::Gcp => &gcp::DESCRIPTOR,
            Provider::Hetzner => &hetzner::DESCRIPTOR,
            Provider::Vsphere => &vsphere::DESCRIPTOR,
            Provider::Openstack => &openstack::DESCRIPTOR,
            Provider::Digitalocean => &digitalocean::DESCRIPTOR,
            Provider::Kubevirt => &kubevirt::DESCRIPTOR,
        }
    }

    /// KKP's name: the `spec.cloud` block key and `providerName`.
    pub fn name(self) -> &'static str {
        self.descriptor().name
    }

    /// machine-controller's name, the `cloudProvider` of a MachineDeployment (`gce` for gcp).
    pub fn machine_name(self) -> &'static str {
        self.descriptor().machine_name
    }

    pub fn from_name(name: &str) -> Option<Provider> {
        Provider::ALL.into_iter().find(|p| p.name() == name)
    }

    pub fn from_machine_name(name: &str) -> Option<Provider> {
        Provider::ALL.into_iter().find(|p| p.machine_name() == name)
    }

    /// The operating systems machine-controller lets a machine with this `cloudProviderSpec` run:
    /// its image tables (aws AMI filters, azure marketplace images, gce image families, hetzner
    /// and digitalocean image names, kubevirt's `SupportedOS`), or any system where the machine
    /// names its own image (azure `imageID`/`imageReference`, gce `customImage`, hetzner `image`)
    /// or the provider has no table at all (openstack, vsphere).
    pub fn operating_systems_for(self, cloud_provider_spec: &Value) -> OsSupport {
        (self.descriptor().operating_systems)(cloud_provider_spec)
    }

    /// The operating systems of a machine that does not name its own image.
    pub fn supported_operating_systems(self) -> &'static [OperatingSystem] {
        self.operating_systems_for(&Value::Null).operating_systems()
    }

    /// Whether machines of this provider may run `os` without naming their own image.
    pub fn supports(self, os: OperatingSystem) -> bool {
        self.supported_operating_systems().contains(&os)
    }

    /// The credential fields of this provider's Cluster block: the values KKP's
    /// cluster-credentials-controller moves into the `credential-<provider>-<cluster>` Secret.
    ///
    /// Nested fields are written as dotted paths (`infraManagementUser.password`);
    /// [`Provider::inline_credentials`] reads them from a block.
    pub fn credential_fields(self) -> &'static [&'static str] {
        self.descriptor().credential_fields
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
        for p in Provider::ALL {
            assert!(MACHINE_CONTROLLER_PROVIDERS.contains(&p.machine_name()), "{p}");
        }
    }

    #[test]
    fn operating_systems_follow_machine_controller() {
        assert_eq!(Provider::Aws.supported_operating_systems(), &OperatingSystem::ALL);
        assert!(Provider::Kubevirt.supports(OperatingSystem::Flatcar));
        assert!(!Provider::Kubevirt.supports(OperatingSystem::Amzn2));
        assert!(!Provider::Azure.supports(OperatingSystem::Amzn2));
        assert!(Provider::Vsphere.supports(OperatingSystem::Amzn2));
        assert!(Provider::Gcp.supports(OperatingSystem::Flatcar));
        let custom = json!({"customImage": "my-rhel"});
        assert!(
            Provider::Gcp
                .operating_systems_for(&custom)
                .allows(OperatingSystem::Rhel)
        );
        let image = json!({"image": "rhel-9"});
        assert!(
            Provider::Hetzner
                .operating_systems_for(&image)
                .allows(OperatingSystem::Rhel)
        );
        assert!(
            !Provider::Hetzner
                .operating_systems_for(&json!({"image": ""}))
                .allows(OperatingSystem::Rhel)
        );
        let azure = json!({"imageReference": {"publisher": "p"}});
        assert!(
            Provider::Azure
                .operating_systems_for(&azure)
                .allows(OperatingSystem::Amzn2)
        );
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
