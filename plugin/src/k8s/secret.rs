//! Finding a cluster's kubeconfig in the secret its controller wrote, by whichever convention
//! applies:
//!
//! - KKP: Secret `admin-kubeconfig` in the cluster's control-plane namespace on the seed
//!   (`status.namespaceName`, else `cluster-<name>`), key `kubeconfig`;
//! - a cluster imported into KKP (`ExternalCluster`): the Secret its `spec.kubeconfigReference`
//!   names (`kubeconfig-external-cluster-<name>` in `kubermatic`, key `kubeconfig`);
//! - Cluster API: Secret `<name>-kubeconfig` in the cluster's namespace, key `value`;
//! - the kind provider: Secret `<clusterName>-config` in the `KINDCluster`'s namespace, key
//!   `config` (`clusterName` is the `KINDCluster`'s `spec.clusterName`, else the name given).

use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use kube::api::DynamicObject;
use serde_json::Value;

use super::client::Connection;
use super::errors;
use super::external;
use super::resources;

/// KKP's names.
pub const KKP_SECRET: &str = "admin-kubeconfig";
pub const KKP_KEY: &str = "kubeconfig";
pub const KKP_NAMESPACE_PREFIX: &str = "cluster-";
/// Cluster API's names.
pub const CAPI_SUFFIX: &str = "-kubeconfig";
pub const CAPI_KEY: &str = "value";
/// The kind provider's names.
pub const KIND_SUFFIX: &str = "-config";
pub const KIND_KEY: &str = "config";

/// The conventions, in the order they are tried.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Convention {
    /// KKP: admin-kubeconfig in the cluster's namespace on the seed.
    Kkp,
    /// A cluster imported into KKP: the Secret its ExternalCluster references.
    External,
    /// Cluster API: <name>-kubeconfig, key value.
    ClusterApi,
    /// The kind provider: <clusterName>-config, key config.
    Kind,
}

impl std::fmt::Display for Convention {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Convention::Kkp => "KKP",
            Convention::External => "KKP imported cluster",
            Convention::ClusterApi => "Cluster API",
            Convention::Kind => "kind provider",
        })
    }
}

/// Where a kubeconfig was (or would be) read from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecretRef {
    pub namespace: String,
    pub name: String,
    pub key: String,
}

impl std::fmt::Display for SecretRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "secret {}/{} (key {:?})", self.namespace, self.name, self.key)
    }
}

/// A kubeconfig found in a secret.
#[derive(Clone, Debug)]
pub struct Found {
    pub text: String,
    pub convention: Convention,
    pub secret: SecretRef,
}

/// Why no kubeconfig was returned.
#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    #[error(
        "cluster {name:?} not found on the management cluster ({context}); looked for: {tried}; \
         list clusters with: kubectl kkp get clusters"
    )]
    NotFound {
        name: String,
        context: String,
        tried: String,
    },
    #[error(
        "cluster {name:?} exists ({state}) but its kubeconfig is not there yet: {secret} does not exist; \
         wait until the cluster is running (kubectl kkp describe cluster {name}) and try again"
    )]
    NotReady {
        name: String,
        state: String,
        secret: SecretRef,
    },
    #[error(
        "imported cluster {name:?} references no kubeconfig (its spec.kubeconfigReference names no Secret); \
         register it again: kubectl kkp register cluster {name} --kubeconfig-file FILE"
    )]
    NoReference { name: String },
    #[error(
        "imported cluster {name:?} references {secret}, which does not exist; register it again: \
         kubectl kkp register cluster {name} --kubeconfig-file FILE"
    )]
    ReferenceMissing { name: String, secret: SecretRef },
    #[error("{secret} has no key {key:?} (keys: {keys})", key = secret.key)]
    MissingKey { secret: SecretRef, keys: String },
    #[error("{0} does not hold UTF-8 text")]
    NotText(SecretRef),
    #[error("{0}")]
    Request(String),
}

/// The secret of a KKP cluster object, from its status (or the naming rule when the status does
/// not say yet).
pub fn kkp_secret_ref(cluster: &Value, name: &str) -> SecretRef {
    let namespace = cluster
        .pointer("/status/namespaceName")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
        .unwrap_or_else(|| format!("{KKP_NAMESPACE_PREFIX}{name}"));
    SecretRef {
        namespace,
        name: KKP_SECRET.to_owned(),
        key: KKP_KEY.to_owned(),
    }
}

/// The Secret an imported cluster's `spec.kubeconfigReference` names (key `kubeconfig` unless it
/// says otherwise); `None` when the reference names no Secret.
pub fn external_secret_ref(cluster: &Value) -> Option<SecretRef> {
    let (name, namespace) = external::kubeconfig_reference(cluster)?;
    let key = cluster
        .pointer("/spec/kubeconfigReference/key")
        .and_then(Value::as_str)
        .filter(|k| !k.is_empty())
        .unwrap_or(external::SECRET_KEY);
    Some(SecretRef {
        namespace,
        name,
        key: key.to_owned(),
    })
}

pub fn capi_secret_ref(name: &str, namespace: &str) -> SecretRef {
    SecretRef {
        namespace: namespace.to_owned(),
        name: format!("{name}{CAPI_SUFFIX}"),
        key: CAPI_KEY.to_owned(),
    }
}

pub fn kind_secret_ref(cluster_name: &str, namespace: &str) -> SecretRef {
    SecretRef {
        namespace: namespace.to_owned(),
        name: format!("{cluster_name}{KIND_SUFFIX}"),
        key: KIND_KEY.to_owned(),
    }
}

/// Reads one key of a secret; `Ok(None)` when the secret does not exist.
pub async fn read_secret(conn: &Connection, secret: &SecretRef) -> Result<Option<String>, LookupError> {
    let api: Api<Secret> = Api::namespaced(conn.client.clone(), &secret.namespace);
    let found = api
        .get_opt(&secret.name)
        .await
        .map_err(|e| LookupError::Request(errors::explain(&e, conn, &format!("reading {secret}"))))?;
    let Some(found) = found else { return Ok(None) };
    let data = found.data.unwrap_or_default();
    match data.get(&secret.key) {
        Some(bytes) => String::from_utf8(bytes.0.clone())
            .map(Some)
            .map_err(|_| LookupError::NotText(secret.clone())),
        None => Err(LookupError::MissingKey {
            secret: secret.clone(),
            keys: if data.is_empty() {
                "none".to_owned()
            } else {
                data.keys().cloned().collect::<Vec<_>>().join(", ")
            },
        }),
    }
}

/// Reads an object, treating "no such object" and "no such resource type" alike as absent.
async fn get_optional(api: &Api<DynamicObject>, name: &str) -> Result<Option<Value>, kube::Error> {
    match api.get_opt(name).await {
        Ok(found) => Ok(found.map(|o| serde_json::to_value(o).unwrap_or(Value::Null))),
        Err(e) if errors::is_not_found(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

/// A short description of a KKP cluster's state for messages (`phase Creating`).
pub fn kkp_state(cluster: &Value) -> String {
    match cluster
        .pointer("/status/phase")
        .and_then(Value::as_str)
        .filter(|p| !p.is_empty())
    {
        Some(phase) => format!("phase {phase}"),
        None => "no status yet".to_owned(),
    }
}

/// Finds the kubeconfig of cluster `name`, trying the conventions in turn (or only `only`).
/// `namespace` is where Cluster API and kind objects live.
pub async fn find(
    conn: &Connection,
    name: &str,
    namespace: &str,
    only: Option<Convention>,
) -> Result<Found, LookupError> {
    let wants = |c: Convention| only.is_none_or(|o| o == c);
    let mut tried = Vec::new();
    let request = |e: kube::Error, what: &str| LookupError::Request(errors::explain(&e, conn, what));

    if wants(Convention::Kkp) {
        let clusters = resources::clusters(&conn.client);
        let cluster = get_optional(&clusters, name)
            .await
            .map_err(|e| request(e, &format!("reading cluster {name:?}")))?;
        match cluster {
            Some(cluster) => {
                let secret = kkp_secret_ref(&cluster, name);
                return match read_secret(conn, &secret).await? {
                    Some(text) => Ok(Found {
                        text,
                        convention: Convention::Kkp,
                        secret,
                    }),
                    None => Err(LookupError::NotReady {
                        name: name.to_owned(),
                        state: kkp_state(&cluster),
                        secret,
                    }),
                };
            }
            None => tried.push(format!("KKP Cluster {name:?}")),
        }
    }
    if wants(Convention::External) {
        let imported = external::get_opt(conn, name)
            .await
            .map_err(|e| LookupError::Request(e.to_string()))?;
        match imported {
            Some(cluster) => {
                let Some(secret) = external_secret_ref(&cluster) else {
                    return Err(LookupError::NoReference { name: name.to_owned() });
                };
                return match read_secret(conn, &secret).await? {
                    Some(text) => Ok(Found {
                        text,
                        convention: Convention::External,
                        secret,
                    }),
                    None => Err(LookupError::ReferenceMissing {
                        name: name.to_owned(),
                        secret,
                    }),
                };
            }
            None => tried.push(format!("imported cluster (ExternalCluster) {name:?}")),
        }
    }
    if wants(Convention::ClusterApi) {
        let secret = capi_secret_ref(name, namespace);
        if let Some(text) = read_secret(conn, &secret).await? {
            return Ok(Found {
                text,
                convention: Convention::ClusterApi,
                secret,
            });
        }
        tried.push(format!("Cluster API {secret}"));
    }
    if wants(Convention::Kind) {
        let kind_clusters: Api<DynamicObject> =
            Api::namespaced_with(conn.client.clone(), namespace, &resources::kind_cluster());
        let kind_cluster = get_optional(&kind_clusters, name)
            .await
            .map_err(|e| request(e, &format!("reading KINDCluster {namespace}/{name}")))?;
        let cluster_name = kind_cluster
            .as_ref()
            .and_then(|k| k.pointer("/spec/clusterName"))
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty())
            .unwrap_or(name)
            .to_owned();
        let secret = kind_secret_ref(&cluster_name, namespace);
        if let Some(text) = read_secret(conn, &secret).await? {
            return Ok(Found {
                text,
                convention: Convention::Kind,
                secret,
            });
        }
        tried.push(format!("kind provider {secret}"));
    }
    Err(LookupError::NotFound {
        name: name.to_owned(),
        context: conn.describe(),
        tried: tried.join(", "),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_kkp_secret_follows_the_status_namespace_then_the_naming_rule() {
        let running = json!({"status": {"namespaceName": "cluster-abc-custom", "phase": "Running"}});
        assert_eq!(kkp_secret_ref(&running, "abc").namespace, "cluster-abc-custom");
        assert_eq!(kkp_secret_ref(&running, "abc").name, "admin-kubeconfig");
        assert_eq!(kkp_secret_ref(&running, "abc").key, "kubeconfig");
        let fresh = json!({"metadata": {"name": "abc"}});
        assert_eq!(kkp_secret_ref(&fresh, "abc").namespace, "cluster-abc");
        assert_eq!(kkp_state(&fresh), "no status yet");
        assert_eq!(kkp_state(&running), "phase Running");
    }

    #[test]
    fn an_imported_cluster_s_secret_is_the_one_it_references() {
        let ec = json!({"kind": "ExternalCluster", "spec": {"kubeconfigReference":
            {"name": "kubeconfig-external-cluster-prod", "namespace": "kubermatic", "key": "value"}}});
        let secret = external_secret_ref(&ec).unwrap();
        assert_eq!(
            secret.to_string(),
            "secret kubermatic/kubeconfig-external-cluster-prod (key \"value\")"
        );
        let no_key = json!({"spec": {"kubeconfigReference": {"name": "s"}}});
        let secret = external_secret_ref(&no_key).unwrap();
        assert_eq!(
            (secret.namespace.as_str(), secret.key.as_str()),
            ("kubermatic", "kubeconfig")
        );
        assert!(external_secret_ref(&json!({"spec": {}})).is_none());
        let missing = LookupError::ReferenceMissing {
            name: "prod".into(),
            secret: external_secret_ref(&ec).unwrap(),
        };
        assert!(
            missing
                .to_string()
                .ends_with("register it again: kubectl kkp register cluster prod --kubeconfig-file FILE"),
            "{missing}"
        );
    }

    #[test]
    fn capi_and_kind_names_follow_their_providers() {
        let capi = capi_secret_ref("c1", "ns");
        assert_eq!((capi.name.as_str(), capi.key.as_str()), ("c1-kubeconfig", "value"));
        let kind = kind_secret_ref("test", "default");
        assert_eq!((kind.name.as_str(), kind.key.as_str()), ("test-config", "config"));
        assert_eq!(kind.to_string(), "secret default/test-config (key \"config\")");
    }

    #[test]
    fn not_found_lists_what_was_tried_and_what_to_do() {
        let err = LookupError::NotFound {
            name: "x".into(),
            context: "context \"seed\"".into(),
            tried: "KKP Cluster \"x\"".into(),
        };
        let text = err.to_string();
        assert!(
            text.starts_with("cluster \"x\" not found on the management cluster (context \"seed\")"),
            "{text}"
        );
        assert!(text.ends_with("list clusters with: kubectl kkp get clusters"), "{text}");
    }
}
