//! clusterctl's providers: their types and folder labels, the infrastructure providers clusterctl
//! knows without a config file, the `providers:` entries of its config file (checked as clusterctl
//! checks them), and the `NAME[:VERSION]` of `--infrastructure`.

use serde_json::Value;

use super::error::Error;

/// The kinds of provider clusterctl knows, as its config file spells them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProviderType {
    Core,
    Bootstrap,
    ControlPlane,
    Infrastructure,
    Ipam,
    RuntimeExtension,
    Addon,
}

impl ProviderType {
    pub const ALL: [ProviderType; 7] = [
        ProviderType::Core,
        ProviderType::Bootstrap,
        ProviderType::ControlPlane,
        ProviderType::Infrastructure,
        ProviderType::Ipam,
        ProviderType::RuntimeExtension,
        ProviderType::Addon,
    ];

    /// The name in the config file's `type:` field.
    pub fn name(self) -> &'static str {
        match self {
            ProviderType::Core => "CoreProvider",
            ProviderType::Bootstrap => "BootstrapProvider",
            ProviderType::ControlPlane => "ControlPlaneProvider",
            ProviderType::Infrastructure => "InfrastructureProvider",
            ProviderType::Ipam => "IPAMProvider",
            ProviderType::RuntimeExtension => "RuntimeExtensionProvider",
            ProviderType::Addon => "AddonProvider",
        }
    }

    pub fn from_name(name: &str) -> Option<ProviderType> {
        ProviderType::ALL.into_iter().find(|t| t.name() == name)
    }

    /// The folder a provider's releases sit in (`infrastructure-aws`), which is also the value of
    /// its `cluster.x-k8s.io/provider` label.
    pub fn label(self, name: &str) -> String {
        let prefix = match self {
            ProviderType::Core => return name.to_owned(),
            ProviderType::Bootstrap => "bootstrap",
            ProviderType::ControlPlane => "control-plane",
            ProviderType::Infrastructure => "infrastructure",
            ProviderType::Ipam => "ipam",
            ProviderType::RuntimeExtension => "runtime-extension",
            ProviderType::Addon => "addon",
        };
        format!("{prefix}-{name}")
    }
}

/// A provider and the URL of its components file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Provider {
    pub name: String,
    pub url: String,
    pub kind: ProviderType,
}

impl Provider {
    pub fn label(&self) -> String {
        self.kind.label(&self.name)
    }
}

/// The infrastructure providers clusterctl knows without a config file, each with the GitHub
/// release asset clusterctl reads (all remote, so each must be made local to be used here).
const BUILT_IN_INFRASTRUCTURE: [(&str, &str); 33] = [
    ("aws", "kubernetes-sigs/cluster-api-provider-aws"),
    ("azure", "kubernetes-sigs/cluster-api-provider-azure"),
    ("byoh", "vmware-tanzu/cluster-api-provider-bringyourownhost"),
    ("cloudstack", "kubernetes-sigs/cluster-api-provider-cloudstack"),
    ("coxedge", "coxedge/cluster-api-provider-coxedge"),
    ("digitalocean", "kubernetes-sigs/cluster-api-provider-digitalocean"),
    ("docker", "kubernetes-sigs/cluster-api"),
    ("gcp", "kubernetes-sigs/cluster-api-provider-gcp"),
    ("hetzner", "syself/cluster-api-provider-hetzner"),
    ("hivelocity-hivelocity", "hivelocity/cluster-api-provider-hivelocity"),
    ("ibmcloud", "kubernetes-sigs/cluster-api-provider-ibmcloud"),
    ("in-memory", "kubernetes-sigs/cluster-api"),
    ("ionoscloud-ionoscloud", "ionos-cloud/cluster-api-provider-ionoscloud"),
    ("k0sproject-k0smotron", "k0sproject/k0smotron"),
    ("kubekey", "kubesphere/kubekey"),
    ("kubevirt", "kubernetes-sigs/cluster-api-provider-kubevirt"),
    ("linode-linode", "linode/cluster-api-provider-linode"),
    ("maas", "spectrocloud/cluster-api-provider-maas"),
    ("metal3", "metal3-io/cluster-api-provider-metal3"),
    ("nested", "kubernetes-sigs/cluster-api-provider-nested"),
    ("nutanix", "nutanix-cloud-native/cluster-api-provider-nutanix"),
    ("oci", "oracle/cluster-api-provider-oci"),
    ("openstack", "kubernetes-sigs/cluster-api-provider-openstack"),
    ("outscale", "outscale/cluster-api-provider-outscale"),
    ("packet", "kubernetes-sigs/cluster-api-provider-packet"),
    ("proxmox", "ionos-cloud/cluster-api-provider-proxmox"),
    ("sidero", "siderolabs/sidero"),
    ("tinkerbell-tinkerbell", "tinkerbell/cluster-api-provider-tinkerbell"),
    ("vcd", "vmware/cluster-api-provider-cloud-director"),
    ("vcluster", "loft-sh/cluster-api-provider-vcluster"),
    ("virtink", "smartxworks/cluster-api-provider-virtink"),
    ("vsphere", "kubernetes-sigs/cluster-api-provider-vsphere"),
    ("vultr-vultr", "vultr/cluster-api-provider-vultr"),
];

/// The infrastructure providers clusterctl knows without a config file.
pub fn built_in_infrastructure() -> Vec<Provider> {
    BUILT_IN_INFRASTRUCTURE
        .iter()
        .map(|(name, repo)| {
            let file = match *name {
                "docker" => "infrastructure-components-development.yaml",
                "in-memory" => "infrastructure-components-in-memory-development.yaml",
                _ => "infrastructure-components.yaml",
            };
            Provider {
                name: (*name).to_owned(),
                url: format!("https://github.com/{repo}/releases/latest/{file}"),
                kind: ProviderType::Infrastructure,
            }
        })
        .collect()
}

/// The entries of a config file's `providers:` list, each checked as clusterctl checks them;
/// `origin` names the file in messages.
pub fn parse_entries(list: Option<&Value>, origin: &str) -> Result<Vec<Provider>, Error> {
    let items = match list {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => {
            return Err(Error::new(format!(
                "{origin}: providers must be a list of entries with name, url and type"
            )));
        }
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| parse_entry(item, &format!("{origin}: providers[{i}]")))
        .collect()
}

fn parse_entry(item: &Value, at: &str) -> Result<Provider, Error> {
    let Value::Object(fields) = item else {
        return Err(Error::new(format!("{at} must be a map with name, url and type")));
    };
    let text = |field: &str| -> Result<String, Error> {
        match fields.get(field) {
            Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.trim().to_owned()),
            None | Some(Value::Null) => Err(Error::new(format!("{at}.{field} is missing"))),
            Some(Value::String(_)) => Err(Error::new(format!("{at}.{field} is empty"))),
            Some(other) => Err(Error::new(format!("{at}.{field} must be a string, not {other}"))),
        }
    };
    let name = text("name")?;
    let url = text("url")?;
    let type_name = text("type")?;
    let Some(kind) = ProviderType::from_name(&type_name) else {
        let known: Vec<&str> = ProviderType::ALL.iter().map(|t| t.name()).collect();
        return Err(Error::new(format!(
            "{at}.type {type_name:?} is not a provider type; use one of: {}",
            known.join(", ")
        )));
    };
    if (name == "cluster-api") != (kind == ProviderType::Core) {
        return Err(Error::new(format!(
            "{at}: the name \"cluster-api\" goes with the type CoreProvider and no other (name {name:?}, type {type_name})"
        )));
    }
    if !is_dns1123_subdomain(&name) {
        return Err(Error::new(format!(
            "{at}.name {name:?} is not a valid provider name: use lower-case letters, digits, '-' and '.', \
             starting and ending with a letter or digit"
        )));
    }
    Ok(Provider { name, url, kind })
}

/// The provider list clusterctl would use: its built-in infrastructure providers, with the config
/// file's entries replacing those of the same name and type and adding the others.
pub fn merged(entries: Vec<Provider>) -> Vec<Provider> {
    let mut all = built_in_infrastructure();
    for entry in entries {
        match all.iter_mut().find(|p| p.name == entry.name && p.kind == entry.kind) {
            Some(existing) => *existing = entry,
            None => all.push(entry),
        }
    }
    all
}

/// `--infrastructure NAME[:VERSION]`, read as clusterctl reads it (lower-cased).
pub fn parse_spec(spec: &str) -> Result<(String, Option<String>), Error> {
    let lower = spec.trim().to_ascii_lowercase();
    let parts: Vec<&str> = lower.split(':').collect();
    let form = "use NAME or NAME:VERSION, such as kubernetes or kubernetes:v0.3.0";
    if parts.len() > 2 {
        return Err(Error::new(format!(
            "--infrastructure {spec:?} has more than one ':'; {form}"
        )));
    }
    let name = parts[0];
    if name.is_empty() {
        return Err(Error::new(format!(
            "--infrastructure {spec:?} has no provider name; {form}"
        )));
    }
    if !is_dns1123_label(name) {
        return Err(Error::new(format!(
            "--infrastructure {spec:?}: {name:?} is not a provider name (lower-case letters, digits and '-'); {form}"
        )));
    }
    let version = match parts.get(1) {
        None => None,
        Some(&"") => {
            return Err(Error::new(format!(
                "--infrastructure {spec:?} has an empty version; {form}"
            )));
        }
        Some(v) => Some((*v).to_owned()),
    };
    Ok((name.to_owned(), version))
}

fn is_dns1123_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && s.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
        && s.bytes().last().is_some_and(|b| b.is_ascii_alphanumeric())
}

fn is_dns1123_subdomain(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(is_dns1123_label)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_follow_the_provider_type() {
        assert_eq!(ProviderType::Infrastructure.label("aws"), "infrastructure-aws");
        assert_eq!(ProviderType::ControlPlane.label("kubeadm"), "control-plane-kubeadm");
        assert_eq!(ProviderType::Core.label("cluster-api"), "cluster-api");
        assert_eq!(ProviderType::from_name("IPAMProvider"), Some(ProviderType::Ipam));
        assert_eq!(ProviderType::from_name("Infrastructure"), None);
    }

    #[test]
    fn specs_are_name_and_optional_version() {
        assert_eq!(parse_spec("Kubernetes").unwrap(), ("kubernetes".into(), None));
        assert_eq!(
            parse_spec("kubernetes:v0.3.0").unwrap(),
            ("kubernetes".into(), Some("v0.3.0".into()))
        );
        for (bad, says) in [
            ("a:b:c", "more than one ':'"),
            (":v1.0.0", "no provider name"),
            ("aws:", "empty version"),
            ("my_provider", "is not a provider name"),
        ] {
            let err = parse_spec(bad).unwrap_err().to_string();
            assert!(
                err.starts_with("--infrastructure") && err.contains(says),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn config_entries_replace_built_ins_and_add_others() {
        let list: Value = serde_yaml::from_str(
            "- {name: aws, url: 'file:///r/infrastructure-aws/v1.0.0/c.yaml', type: InfrastructureProvider}\n\
             - {name: kubernetes, url: 'file:///r/infrastructure-kubernetes/latest/c.yaml', type: InfrastructureProvider}\n\
             - {name: aws, url: 'file:///r/bootstrap-aws/v1.0.0/c.yaml', type: BootstrapProvider}\n",
        )
        .unwrap();
        let all = merged(parse_entries(Some(&list), "f").unwrap());
        let aws: Vec<&Provider> = all.iter().filter(|p| p.name == "aws").collect();
        assert_eq!(aws.len(), 2);
        assert_eq!(aws[0].url, "file:///r/infrastructure-aws/v1.0.0/c.yaml");
        assert!(all.iter().any(|p| p.name == "kubernetes"));
        assert_eq!(all.len(), BUILT_IN_INFRASTRUCTURE.len() + 2);
    }

    #[test]
    fn bad_entries_name_the_field() {
        let cases = [
            ("{}", "providers is not a list", "providers must be a list"),
            ("[x]", "entry not a map", "providers[0] must be a map"),
            (
                "[{url: u, type: InfrastructureProvider}]",
                "no name",
                "providers[0].name is missing",
            ),
            (
                "[{name: a, type: InfrastructureProvider}]",
                "no url",
                "providers[0].url is missing",
            ),
            (
                "[{name: a, url: u, type: Infra}]",
                "bad type",
                "providers[0].type \"Infra\" is not a provider type",
            ),
            (
                "[{name: A_B, url: u, type: InfrastructureProvider}]",
                "bad name",
                "providers[0].name \"A_B\"",
            ),
            (
                "[{name: cluster-api, url: u, type: InfrastructureProvider}]",
                "core name",
                "CoreProvider",
            ),
            (
                "[{name: a, url: 3, type: InfrastructureProvider}]",
                "url a number",
                "providers[0].url must be a string",
            ),
        ];
        for (yaml, case, says) in cases {
            let list: Value = serde_yaml::from_str(yaml).unwrap();
            let err = parse_entries(Some(&list), "clusterctl.yaml").unwrap_err().to_string();
            assert!(err.starts_with("clusterctl.yaml: providers"), "{case}: {err}");
            assert!(err.contains(says), "{case}: {err}");
        }
    }
}
