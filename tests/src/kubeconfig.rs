//! Rendering kubeconfig files with inline certificate data, so a file works on its own
//! (kubectl, the plugin, kube-rs) without the PEM files next to it.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Serialize;

use crate::error::HarnessError;

/// What goes into a single-cluster, single-user kubeconfig.
#[derive(Debug, Clone, Copy)]
pub struct KubeconfigSpec<'a> {
    pub cluster: &'a str,
    pub context: &'a str,
    pub user: &'a str,
    /// `https://127.0.0.1:<port>`
    pub server: &'a str,
    /// PEM of the CA that signed the server's certificate.
    pub ca_pem: &'a str,
    /// PEM of the client certificate.
    pub cert_pem: &'a str,
    /// PEM of the client key.
    pub key_pem: &'a str,
    /// Namespace of the context, if any.
    pub namespace: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct File<'a> {
    #[serde(rename = "apiVersion")]
    api_version: &'static str,
    kind: &'static str,
    clusters: [Named<'a, Cluster<'a>>; 1],
    users: [Named<'a, User>; 1],
    contexts: [NamedContext<'a>; 1],
    current_context: &'a str,
    preferences: Preferences,
}

#[derive(Serialize)]
struct Preferences {}

#[derive(Serialize)]
struct Named<'a, T> {
    name: &'a str,
    #[serde(flatten)]
    value: T,
}

#[derive(Serialize)]
struct Cluster<'a> {
    cluster: ClusterData<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct ClusterData<'a> {
    server: &'a str,
    certificate_authority_data: String,
}

#[derive(Serialize)]
struct User {
    user: UserData,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct UserData {
    client_certificate_data: String,
    client_key_data: String,
}

#[derive(Serialize)]
struct NamedContext<'a> {
    name: &'a str,
    context: ContextData<'a>,
}

#[derive(Serialize)]
struct ContextData<'a> {
    cluster: &'a str,
    user: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    namespace: Option<&'a str>,
}

/// The kubeconfig YAML for `spec`.
pub fn render(spec: &KubeconfigSpec<'_>) -> Result<String, HarnessError> {
    for (field, value) in [
        ("cluster", spec.cluster),
        ("context", spec.context),
        ("user", spec.user),
        ("server", spec.server),
    ] {
        if value.trim().is_empty() {
            return Err(HarnessError::Kubeconfig(format!("the {field} name must not be empty")));
        }
    }
    let file = File {
        api_version: "v1",
        kind: "Config",
        clusters: [Named {
            name: spec.cluster,
            value: Cluster {
                cluster: ClusterData {
                    server: spec.server,
                    certificate_authority_data: STANDARD.encode(spec.ca_pem),
                },
            },
        }],
        users: [Named {
            name: spec.user,
            value: User {
                user: UserData {
                    client_certificate_data: STANDARD.encode(spec.cert_pem),
                    client_key_data: STANDARD.encode(spec.key_pem),
                },
            },
        }],
        contexts: [NamedContext {
            name: spec.context,
            context: ContextData {
                cluster: spec.cluster,
                user: spec.user,
                namespace: spec.namespace,
            },
        }],
        current_context: spec.context,
        preferences: Preferences {},
    };
    serde_yaml::to_string(&file).map_err(|e| HarnessError::Kubeconfig(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::config::Kubeconfig;

    fn spec() -> KubeconfigSpec<'static> {
        KubeconfigSpec {
            cluster: "seed",
            context: "seed",
            user: "seed-admin",
            server: "https://127.0.0.1:6443",
            ca_pem: "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n",
            cert_pem: "-----BEGIN CERTIFICATE-----\nCERT\n-----END CERTIFICATE-----\n",
            key_pem: "-----BEGIN PRIVATE KEY-----\nKEY\n-----END PRIVATE KEY-----\n",
            namespace: None,
        }
    }

    #[test]
    fn renders_a_kubeconfig_that_kube_rs_reads() {
        let yaml = render(&spec()).expect("render");
        let parsed = Kubeconfig::from_yaml(&yaml).expect("kube-rs parses it");
        assert_eq!(parsed.current_context.as_deref(), Some("seed"));
        assert_eq!(parsed.clusters.len(), 1);
        assert_eq!(parsed.clusters[0].name, "seed");
        let cluster = parsed.clusters[0].cluster.as_ref().expect("cluster");
        assert_eq!(cluster.server.as_deref(), Some("https://127.0.0.1:6443"));
        let ca = cluster.certificate_authority_data.as_deref().expect("CA data");
        assert_eq!(STANDARD.decode(ca).expect("base64"), spec().ca_pem.as_bytes());
        assert_eq!(parsed.auth_infos[0].name, "seed-admin");
        let auth = parsed.auth_infos[0].auth_info.as_ref().expect("user");
        let cert = auth.client_certificate_data.as_deref().expect("cert data");
        assert_eq!(STANDARD.decode(cert).expect("base64"), spec().cert_pem.as_bytes());
        assert!(auth.client_key_data.is_some());
        let context = parsed.contexts[0].context.as_ref().expect("context");
        assert_eq!(context.cluster, "seed");
        assert_eq!(context.user.as_deref(), Some("seed-admin"));
        assert_eq!(context.namespace, None);
    }

    #[test]
    fn renders_the_namespace_and_the_kubectl_field_names() {
        let yaml = render(&KubeconfigSpec {
            namespace: Some("kkp"),
            ..spec()
        })
        .expect("render");
        assert!(yaml.contains("current-context: seed"), "{yaml}");
        assert!(yaml.contains("certificate-authority-data:"), "{yaml}");
        assert!(yaml.contains("client-key-data:"), "{yaml}");
        assert!(yaml.contains("namespace: kkp"), "{yaml}");
        assert!(yaml.starts_with("apiVersion: v1\nkind: Config\n"), "{yaml}");
    }

    #[test]
    fn names_that_need_quoting_survive() {
        let yaml = render(&KubeconfigSpec {
            cluster: "a: b",
            context: "#ctx",
            ..spec()
        })
        .expect("render");
        let parsed = Kubeconfig::from_yaml(&yaml).expect("parses");
        assert_eq!(parsed.clusters[0].name, "a: b");
        assert_eq!(parsed.current_context.as_deref(), Some("#ctx"));
    }

    #[test]
    fn empty_names_are_rejected() {
        assert!(render(&KubeconfigSpec { user: "", ..spec() }).is_err());
        assert!(render(&KubeconfigSpec { server: " ", ..spec() }).is_err());
    }
}
