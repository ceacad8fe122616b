//! The platform's configuration from the cluster the plugin talks to: the KubermaticConfiguration
//! and the Seeds KKP keeps in its namespace (`kubermatic`), read with one list call each.
//!
//! A resource the cluster does not serve (404) or the user may not list (403) is
//! [`Lookup::Unavailable`], for the caller to fall back on; any other failure is an error, and so
//! is an object that cannot be read, naming the object and field.

use kkp_crds::platform::{self, Configuration, Datacenters};
use kube::Client;
use kube::ResourceExt;
use kube::api::{Api, ApiResource, DynamicObject, ListParams};
use serde_json::Value;

use crate::k8s::client::Connection;
use crate::k8s::errors;

pub use kkp_crds::platform::{configuration_resource, seed_resource};

/// What a read found.
#[derive(Clone, Debug, PartialEq)]
pub enum Lookup<T> {
    Found(T),
    /// Nothing to use, and why ("the cluster does not serve …", "forbidden: …", "none in the
    /// namespace").
    Unavailable(String),
}

/// The configuration found, with the names of others that were ignored.
#[derive(Clone, Debug, PartialEq)]
pub struct FoundConfiguration {
    pub configuration: Configuration,
    /// Further KubermaticConfigurations in the namespace (KKP uses exactly one; the first by name
    /// counts, as in the webhook).
    pub ignored: Vec<String>,
}

/// The objects of one resource in the namespace, or why there are none to use.
async fn list(
    client: &Client,
    resource: &ApiResource,
    namespace: &str,
) -> Result<Lookup<Vec<DynamicObject>>, kube::Error> {
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), namespace, resource);
    match api.list(&ListParams::default()).await {
        Ok(list) if list.items.is_empty() => Ok(Lookup::Unavailable("none in the namespace".to_owned())),
        Ok(list) => {
            let mut items = list.items;
            items.sort_by_key(|o| o.name_any());
            Ok(Lookup::Found(items))
        }
        Err(e) => match unavailable(&e, resource) {
            Some(why) => Ok(Lookup::Unavailable(why)),
            None => Err(e),
        },
    }
}

/// Why a failed list means "nothing to use" rather than an error, if it does.
fn unavailable(err: &kube::Error, resource: &ApiResource) -> Option<String> {
    let status = errors::status(err)?;
    let qualified = format!("{}.{}", resource.plural, resource.group);
    match status.code {
        404 => Some(format!("the cluster does not serve {qualified}")),
        403 if status.message.is_empty() => Some(format!("listing {qualified} is forbidden")),
        403 => Some(format!("forbidden: {}", status.message)),
        _ => None,
    }
}

/// Where an object was read, for messages.
fn place(conn: &Connection, namespace: &str) -> String {
    format!("in namespace {namespace} of {}", conn.describe())
}

/// The KubermaticConfiguration of the namespace.
pub async fn read_configuration(conn: &Connection, namespace: &str) -> anyhow::Result<Lookup<FoundConfiguration>> {
    let resource = configuration_resource();
    let items = match list(&conn.client, &resource, namespace).await {
        Ok(Lookup::Found(items)) => items,
        Ok(Lookup::Unavailable(why)) => return Ok(Lookup::Unavailable(why)),
        Err(e) => {
            let doing = format!("reading the KubermaticConfiguration in namespace {namespace}");
            return Err(anyhow::anyhow!(errors::explain(&e, conn, &doing)));
        }
    };
    let first = &items[0];
    let configuration =
        platform::configuration(&platform::listed_object(first, "KubermaticConfiguration")).map_err(|e| {
            anyhow::anyhow!(
                "{e} ({}); KKP's configuration cannot be used, so nothing was checked or sent. Check against a \
             configuration file instead with --kubermatic-configuration FILE",
                place(conn, namespace)
            )
        })?;
    Ok(Lookup::Found(FoundConfiguration {
        configuration,
        ignored: items[1..].iter().map(|o| o.name_any()).collect(),
    }))
}

/// The datacenters of the namespace's Seeds.
pub async fn read_seeds(conn: &Connection, namespace: &str) -> anyhow::Result<Lookup<Datacenters>> {
    let resource = seed_resource();
    let items = match list(&conn.client, &resource, namespace).await {
        Ok(Lookup::Found(items)) => items,
        Ok(Lookup::Unavailable(why)) => return Ok(Lookup::Unavailable(why)),
        Err(e) => {
            let doing = format!("reading the Seeds in namespace {namespace}");
            return Err(anyhow::anyhow!(errors::explain(&e, conn, &doing)));
        }
    };
    let seeds: Vec<Value> = items.iter().map(|s| platform::listed_object(s, "Seed")).collect();
    let datacenters = Datacenters::from_seeds(seeds.iter()).map_err(|e| {
        anyhow::anyhow!(
            "{e} ({}); check against Seed files instead with --seed FILE",
            place(conn, namespace)
        )
    })?;
    Ok(Lookup::Found(datacenters))
}

#[cfg(test)]
pub(crate) mod tests {
    //! A tiny HTTP server that answers every request with one fixed response stands in for the
    //! API server.

    use std::sync::{Arc, Mutex};

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;

    /// Answers each request by path: the first route whose key the path contains, else 404.
    pub(crate) async fn serve(routes: Vec<(&'static str, u16, Value)>) -> (Connection, Arc<Mutex<Vec<String>>>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut socket, _)) = listener.accept().await else {
                    return;
                };
                let mut buf = vec![0u8; 16 * 1024];
                let n = socket.read(&mut buf).await.unwrap_or(0);
                let request = String::from_utf8_lossy(&buf[..n]).into_owned();
                let path = request.split_whitespace().nth(1).unwrap_or("").to_owned();
                log.lock().unwrap().push(path.clone());
                let (code, body) = routes
                    .iter()
                    .find(|(key, _, _)| path.contains(key))
                    .map(|(_, code, body)| (*code, body.to_string()))
                    .unwrap_or((
                        404,
                        status_body(404, "NotFound", "the server could not find the requested resource"),
                    ));
                let response = format!(
                    "HTTP/1.1 {code} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(response.as_bytes()).await;
                let _ = socket.shutdown().await;
            }
        });
        let url = format!("http://{addr}");
        let config = kube::Config::new(url.parse().unwrap());
        let conn = Connection {
            client: Client::try_from(config).unwrap(),
            context: "seed".into(),
            server: url,
            namespace: "default".into(),
            namespace_from_flag: false,
        };
        (conn, seen)
    }

    pub(crate) fn status_body(code: u16, reason: &str, message: &str) -> String {
        serde_json::json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                           "message": message, "reason": reason, "code": code})
        .to_string()
    }

    pub(crate) fn status(code: u16, reason: &str, message: &str) -> Value {
        serde_json::from_str(&status_body(code, reason, message)).unwrap()
    }

    pub(crate) fn list_of(items: Vec<Value>) -> Value {
        serde_json::json!({"apiVersion": "kubermatic.k8c.io/v1", "kind": "List", "metadata": {}, "items": items})
    }

    pub(crate) fn configuration(name: &str, versions: Value) -> Value {
        serde_json::json!({"apiVersion": "kubermatic.k8c.io/v1", "kind": "KubermaticConfiguration",
                           "metadata": {"name": name, "namespace": "kubermatic"},
                           "spec": {"versions": versions}})
    }

    #[tokio::test]
    async fn the_configuration_is_listed_in_the_namespace() {
        let (conn, seen) = serve(vec![(
            "kubermaticconfigurations",
            200,
            list_of(vec![
                configuration("b", serde_json::json!({"versions": ["v1.36.4"]})),
                configuration("a", serde_json::json!({"versions": ["v1.35.8"]})),
            ]),
        )])
        .await;
        let Lookup::Found(found) = read_configuration(&conn, "kkp").await.unwrap() else {
            panic!("not found")
        };
        assert_eq!(found.configuration.name, "a", "the first by name counts");
        assert_eq!(found.ignored, ["b"]);
        assert_eq!(
            seen.lock().unwrap()[0],
            "/apis/kubermatic.k8c.io/v1/namespaces/kkp/kubermaticconfigurations?"
        );
    }

    #[tokio::test]
    async fn not_served_forbidden_and_empty_are_unavailable_and_other_failures_errors() {
        let (conn, _) = serve(vec![]).await;
        assert_eq!(
            read_configuration(&conn, "kubermatic").await.unwrap(),
            Lookup::Unavailable("the cluster does not serve kubermaticconfigurations.kubermatic.k8c.io".into())
        );
        let (conn, _) = serve(vec![(
            "seeds",
            403,
            status(
                403,
                "Forbidden",
                "seeds.kubermatic.k8c.io is forbidden: User \"alice\" cannot list",
            ),
        )])
        .await;
        assert_eq!(
            read_seeds(&conn, "kubermatic").await.unwrap(),
            Lookup::Unavailable("forbidden: seeds.kubermatic.k8c.io is forbidden: User \"alice\" cannot list".into())
        );
        let (conn, _) = serve(vec![("seeds", 200, list_of(vec![]))]).await;
        assert_eq!(
            read_seeds(&conn, "kubermatic").await.unwrap(),
            Lookup::Unavailable("none in the namespace".into())
        );
        let (conn, _) = serve(vec![(
            "kubermaticconfigurations",
            500,
            status(500, "InternalError", "etcd is down"),
        )])
        .await;
        let err = read_configuration(&conn, "kubermatic").await.unwrap_err().to_string();
        assert_eq!(
            err,
            "reading the KubermaticConfiguration in namespace kubermatic: etcd is down"
        );
    }

    #[tokio::test]
    async fn an_unreadable_configuration_is_an_error_naming_the_field_and_the_way_out() {
        let (conn, _) = serve(vec![(
            "kubermaticconfigurations",
            200,
            list_of(vec![configuration(
                "kubermatic",
                serde_json::json!({"versions": ["one"]}),
            )]),
        )])
        .await;
        let err = read_configuration(&conn, "kubermatic").await.unwrap_err().to_string();
        assert!(
            err.starts_with("KubermaticConfiguration \"kubermatic\": spec.versions.versions[0]: \"one\""),
            "{err}"
        );
        assert!(
            err.contains("(in namespace kubermatic of context \"seed\")")
                && err.contains("--kubermatic-configuration FILE"),
            "{err}"
        );
    }
}
