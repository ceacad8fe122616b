//! The built-in templates: one YAML file per provider and flavor under `plugin/templates/`,
//! compiled into the binary, laid out as a clusterctl provider repository is
//! (`<provider>/cluster-template.yaml`, `<provider>/cluster-template-<flavor>.yaml`).

use kkp_crds::providers::Provider;

/// One built-in template.
#[derive(Debug)]
pub struct Builtin {
    pub provider: Provider,
    pub flavor: &'static str,
    pub text: &'static str,
}

impl Builtin {
    /// `hetzner/default`, as messages name the template.
    pub fn label(&self) -> String {
        format!("{}/{}", self.provider.name(), self.flavor)
    }
}

/// The flavors there are, and what each changes.
pub const FLAVORS: [(&str, &str); 4] = [
    (
        "default",
        "one MachineDeployment of workers; the API server exposed as KKP defaults it (NodePort)",
    ),
    (
        "dual-stack",
        "an IPv4+IPv6 cluster network; the workers get IPv6 addresses too",
    ),
    (
        "loadbalancer",
        "the API server behind a cloud load balancer, open to API_SERVER_ALLOWED_IP_RANGES",
    ),
    (
        "ha",
        "workers in three availability zones; the API server behind a cloud load balancer",
    ),
];

macro_rules! builtin {
    ($provider:ident, $flavor:literal, $file:literal) => {
        Builtin {
            provider: Provider::$provider,
            flavor: $flavor,
            text: include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/templates/", $file)),
        }
    };
}

pub static BUILTINS: &[Builtin] = &[
    builtin!(Aws, "default", "aws/cluster-template.yaml"),
    builtin!(Aws, "dual-stack", "aws/cluster-template-dual-stack.yaml"),
    builtin!(Aws, "loadbalancer", "aws/cluster-template-loadbalancer.yaml"),
    builtin!(Aws, "ha", "aws/cluster-template-ha.yaml"),
    builtin!(Azure, "default", "azure/cluster-template.yaml"),
    builtin!(Azure, "loadbalancer", "azure/cluster-template-loadbalancer.yaml"),
    builtin!(Azure, "ha", "azure/cluster-template-ha.yaml"),
    builtin!(Digitalocean, "default", "digitalocean/cluster-template.yaml"),
    builtin!(
        Digitalocean,
        "loadbalancer",
        "digitalocean/cluster-template-loadbalancer.yaml"
    ),
    builtin!(Gcp, "default", "gcp/cluster-template.yaml"),
    builtin!(Gcp, "dual-stack", "gcp/cluster-template-dual-stack.yaml"),
    builtin!(Gcp, "loadbalancer", "gcp/cluster-template-loadbalancer.yaml"),
    builtin!(Gcp, "ha", "gcp/cluster-template-ha.yaml"),
    builtin!(Hetzner, "default", "hetzner/cluster-template.yaml"),
    builtin!(Hetzner, "dual-stack", "hetzner/cluster-template-dual-stack.yaml"),
    builtin!(Hetzner, "loadbalancer", "hetzner/cluster-template-loadbalancer.yaml"),
    builtin!(Kubevirt, "default", "kubevirt/cluster-template.yaml"),
    builtin!(Openstack, "default", "openstack/cluster-template.yaml"),
    builtin!(Openstack, "dual-stack", "openstack/cluster-template-dual-stack.yaml"),
    builtin!(
        Openstack,
        "loadbalancer",
        "openstack/cluster-template-loadbalancer.yaml"
    ),
    builtin!(Vsphere, "default", "vsphere/cluster-template.yaml"),
];

/// Every flavor name, for completion and help.
pub fn flavor_names() -> Vec<&'static str> {
    FLAVORS.iter().map(|(name, _)| *name).collect()
}

/// The flavors a provider has, `default` first.
pub fn flavors_of(provider: Provider) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for (name, _) in FLAVORS {
        if BUILTINS.iter().any(|b| b.provider == provider && b.flavor == name) {
            out.push(name);
        }
    }
    out
}

/// The template of a provider and flavor.
pub fn find(provider: Provider, flavor: &str) -> Option<&'static Builtin> {
    BUILTINS.iter().find(|b| b.provider == provider && b.flavor == flavor)
}

/// The providers and their flavors, for `--help`.
pub fn catalog() -> String {
    let mut out = String::from("Built-in templates (--provider, --flavor):\n");
    for provider in Provider::ALL {
        out.push_str(&format!(
            "  {:<14}{}\n",
            provider.name(),
            flavors_of(provider).join(", ")
        ));
    }
    out.push_str("\nFlavors:\n");
    for (name, what) in FLAVORS {
        out.push_str(&format!("  {name:<14}{what}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_provider_has_a_default_and_flavors_are_known() {
        for provider in Provider::ALL {
            assert_eq!(flavors_of(provider).first(), Some(&"default"), "{provider}");
        }
        for b in BUILTINS {
            assert!(flavor_names().contains(&b.flavor), "{}", b.label());
            assert!(b.text.contains("kind: Cluster\n"), "{}", b.label());
        }
        assert_eq!(flavors_of(Provider::Hetzner), ["default", "dual-stack", "loadbalancer"]);
        assert!(find(Provider::Vsphere, "ha").is_none());
    }
}
