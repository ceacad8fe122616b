//! Server-side apply with the field manager `kubectl-kkp`, in dependency order, reporting what
//! changed the way kubectl does (`created`, `configured`, `unchanged`).

use kube::Api;
use kube::api::{DynamicObject, Patch, PatchParams};
use serde_json::Value;

use super::FIELD_MANAGER;
use super::client::Connection;
use super::errors;
use super::resources::{ResolveError, Resolver, gvk_of, kubectl_name, meta_str};

/// What an apply did to the live object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Created,
    Configured,
    Unchanged,
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Outcome::Created => "created",
            Outcome::Configured => "configured",
            Outcome::Unchanged => "unchanged",
        })
    }
}

/// One applied object: the object as the server returned it.
#[derive(Clone, Debug)]
pub struct Applied {
    pub object: Value,
    pub outcome: Outcome,
    pub dry_run: bool,
}

impl Applied {
    /// `cluster.kubermatic.k8c.io/abc created (server dry run)`.
    pub fn summary(&self) -> String {
        let suffix = if self.dry_run { " (server dry run)" } else { "" };
        format!("{} {}{suffix}", kubectl_name(&self.object), self.outcome)
    }
}

/// `--dry-run`, as kubectl spells it: `none` sends for real, `client` prints what would be sent
/// without contacting the cluster, `server` asks the server to run admission without persisting.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum DryRun {
    #[default]
    None,
    Client,
    Server,
}

/// How to apply.
#[derive(Clone, Copy, Debug, Default)]
pub struct ApplyOptions {
    /// Ask the server to run admission and return the result without persisting it.
    pub dry_run: bool,
    /// Take over fields another field manager owns.
    pub force_conflicts: bool,
}

/// Why an object was not applied.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("{0}")]
    Invalid(String),
    #[error("applying {name}: {source}")]
    Resolve {
        name: String,
        #[source]
        source: ResolveError,
    },
    #[error(
        "applying {name}: {message}\nThose fields are owned by another field manager. Set them to the live values \
         (see kubectl get -o yaml --show-managed-fields), or take them over with --force-conflicts."
    )]
    Conflict { name: String, message: String },
    #[error("the server rejected {name}: {message}")]
    Rejected { name: String, message: String },
    #[error("{0}")]
    Request(String),
}

/// Applies objects to one cluster.
pub struct Applier<'a> {
    conn: &'a Connection,
    resolver: Resolver,
    options: ApplyOptions,
}

impl<'a> Applier<'a> {
    pub fn new(conn: &'a Connection, options: ApplyOptions) -> Self {
        Applier {
            conn,
            resolver: Resolver::new(conn.client.clone()),
            options,
        }
    }

    /// Applies one object. Namespaced objects without a namespace go to the connection's namespace.
    pub async fn apply(&mut self, object: &Value) -> Result<Applied, ApplyError> {
        let name = kubectl_name(object);
        let gvk = gvk_of(object).map_err(ApplyError::Invalid)?;
        let object_name = meta_str(object, "name")
            .filter(|n| !n.is_empty())
            .ok_or_else(|| ApplyError::Invalid(format!("{name} has no metadata.name; server-side apply needs one")))?
            .to_owned();
        let found = self
            .resolver
            .resolve(&gvk)
            .await
            .map_err(|source| ApplyError::Resolve {
                name: name.clone(),
                source,
            })?;
        let api: Api<DynamicObject> = if found.namespaced {
            let ns = meta_str(object, "namespace")
                .filter(|n| !n.is_empty())
                .unwrap_or(&self.conn.namespace);
            Api::namespaced_with(self.conn.client.clone(), ns, &found.resource)
        } else {
            Api::all_with(self.conn.client.clone(), &found.resource)
        };
        let before = api
            .get_opt(&object_name)
            .await
            .map_err(|e| ApplyError::Request(errors::explain(&e, self.conn, &format!("reading {name}"))))?;
        let mut params = PatchParams::apply(FIELD_MANAGER);
        if self.options.force_conflicts {
            params = params.force();
        }
        if self.options.dry_run {
            params = params.dry_run();
        }
        let returned =
            api.patch(&object_name, &params, &Patch::Apply(object))
                .await
                .map_err(|e| match errors::status(&e) {
                    Some(s) if s.code == 409 => ApplyError::Conflict {
                        name: name.clone(),
                        message: s.message.clone(),
                    },
                    Some(s) if matches!(s.code, 400 | 403 | 422) => ApplyError::Rejected {
                        name: name.clone(),
                        message: s.message.clone(),
                    },
                    _ => ApplyError::Request(errors::explain(&e, self.conn, &format!("applying {name}"))),
                })?;
        let returned = serde_json::to_value(&returned)
            .map_err(|e| ApplyError::Request(format!("reading the server's answer for {name}: {e}")))?;
        let outcome = match before {
            None => Outcome::Created,
            Some(b) => {
                let b = serde_json::to_value(&b).unwrap_or(Value::Null);
                if same_as_applied(&b, &returned) {
                    Outcome::Unchanged
                } else {
                    Outcome::Configured
                }
            }
        };
        Ok(Applied {
            object: returned,
            outcome,
            dry_run: self.options.dry_run,
        })
    }
}

/// Whether `after` (the server's answer to an apply) holds what `before` held, as far as an apply
/// sets it: the same resourceVersion, or the same object apart from its status and the server's
/// bookkeeping in metadata. A controller that updates the status between the read and the apply
/// (KKP's do, constantly) bumps the resourceVersion without the apply having changed anything.
fn same_as_applied(before: &Value, after: &Value) -> bool {
    const BOOKKEEPING: [&str; 4] = ["resourceVersion", "managedFields", "generation", "creationTimestamp"];
    let rv = |o: &Value| meta_str(o, "resourceVersion").map(str::to_owned);
    if rv(before) == rv(after) {
        return true;
    }
    let applied_part = |o: &Value| -> Value {
        let mut o = o.clone();
        if let Some(map) = o.as_object_mut() {
            map.remove("status");
            if let Some(meta) = map.get_mut("metadata").and_then(Value::as_object_mut) {
                for key in BOOKKEEPING {
                    meta.remove(key);
                }
            }
        }
        o
    };
    applied_part(before) == applied_part(after)
}

/// The objects in a multi-document YAML text; empty documents are skipped.
pub fn parse_documents(text: &str, origin: &str) -> Result<Vec<Value>, ApplyError> {
    use serde::Deserialize as _;
    let mut objects = Vec::new();
    for (i, document) in serde_yaml::Deserializer::from_str(text).enumerate() {
        let value = Value::deserialize(document)
            .map_err(|e| ApplyError::Invalid(format!("{origin}: document {} is not valid YAML: {e}", i + 1)))?;
        if !value.is_null() {
            objects.push(value);
        }
    }
    Ok(objects)
}

/// Where a kind goes in the apply order: namespaces and CRDs first, then what workloads need,
/// then workloads, and webhook configurations last (once the service behind them exists).
fn rank(object: &Value) -> u8 {
    match object.get("kind").and_then(Value::as_str).unwrap_or("") {
        "Namespace" => 0,
        "CustomResourceDefinition" => 1,
        "ServiceAccount" | "Secret" | "ConfigMap" => 2,
        "ClusterRole" | "Role" => 3,
        "ClusterRoleBinding" | "RoleBinding" => 4,
        "Issuer" | "ClusterIssuer" | "Certificate" => 5,
        "Service" => 7,
        "Deployment" | "StatefulSet" | "DaemonSet" => 8,
        "MutatingWebhookConfiguration" | "ValidatingWebhookConfiguration" => 10,
        _ => 9,
    }
}

/// Sorts objects into apply order, keeping the given order among objects of the same rank.
pub fn sort_for_apply(objects: &mut [Value]) {
    objects.sort_by_key(rank);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(kind: &str, name: &str) -> Value {
        json!({"apiVersion": "v1", "kind": kind, "metadata": {"name": name}})
    }

    #[test]
    fn namespaces_and_crds_go_first_and_webhooks_last() {
        let mut objects = vec![
            obj("ValidatingWebhookConfiguration", "v"),
            obj("Deployment", "d"),
            obj("Service", "s"),
            obj("Secret", "tls"),
            obj("CustomResourceDefinition", "crd"),
            obj("Namespace", "ns"),
            obj("Cluster", "c1"),
            obj("Cluster", "c2"),
        ];
        sort_for_apply(&mut objects);
        let names: Vec<&str> = objects.iter().filter_map(|o| meta_str(o, "name")).collect();
        assert_eq!(names, ["ns", "crd", "tls", "s", "d", "c1", "c2", "v"]);
    }

    #[test]
    fn multi_document_yaml_parses_without_empty_documents() {
        let objects = parse_documents("# note\n---\na: 1\n---\n---\nb: 2\n", "test").expect("parses");
        assert_eq!(objects, vec![json!({"a": 1}), json!({"b": 2})]);
        assert!(
            parse_documents("a: [", "x.yaml")
                .expect_err("bad")
                .to_string()
                .starts_with("x.yaml: document 1")
        );
    }

    #[test]
    fn an_apply_that_only_raced_a_status_update_changed_nothing() {
        let before = json!({
            "metadata": {"name": "abc", "resourceVersion": "7", "generation": 2, "labels": {"a": "b"}},
            "spec": {"version": "1.35.7"},
            "status": {"phase": "Creating"}
        });
        let mut status_moved = before.clone();
        status_moved["metadata"]["resourceVersion"] = json!("9");
        status_moved["status"]["phase"] = json!("Running");
        assert!(same_as_applied(&before, &before));
        assert!(same_as_applied(&before, &status_moved));
        let mut spec_changed = status_moved.clone();
        spec_changed["spec"]["version"] = json!("1.35.8");
        spec_changed["metadata"]["generation"] = json!(3);
        assert!(!same_as_applied(&before, &spec_changed));
        let mut label_changed = status_moved.clone();
        label_changed["metadata"]["labels"]["a"] = json!("c");
        assert!(!same_as_applied(&before, &label_changed));
    }

    #[test]
    fn summaries_read_like_kubectl() {
        let applied = Applied {
            object: json!({"apiVersion": "kubermatic.k8c.io/v1", "kind": "Cluster", "metadata": {"name": "abc"}}),
            outcome: Outcome::Unchanged,
            dry_run: false,
        };
        assert_eq!(applied.summary(), "cluster.kubermatic.k8c.io/abc unchanged");
        let dry = Applied {
            dry_run: true,
            outcome: Outcome::Created,
            ..applied
        };
        assert_eq!(dry.summary(), "cluster.kubermatic.k8c.io/abc created (server dry run)");
    }
}
