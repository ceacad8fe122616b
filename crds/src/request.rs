//! One admission question: the operation, the object (and the stored one), who asks, and which
//! of the engine's resources the object is.

use std::fmt;

use serde::Serialize;
use serde_json::Value;

/// The admission operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Operation {
    Create,
    Update,
    Delete,
    Connect,
}

impl Operation {
    pub fn parse(s: &str) -> Option<Operation> {
        match s {
            "CREATE" => Some(Operation::Create),
            "UPDATE" => Some(Operation::Update),
            "DELETE" => Some(Operation::Delete),
            "CONNECT" => Some(Operation::Connect),
            _ => None,
        }
    }
}

/// Who is asking, for policy exemptions.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserInfo {
    pub username: String,
    pub groups: Vec<String>,
}

/// One admission question.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    pub operation: Operation,
    /// The object as sent; absent on DELETE.
    pub object: Option<&'a Value>,
    /// The stored object on UPDATE and DELETE.
    pub old_object: Option<&'a Value>,
    pub user: Option<&'a UserInfo>,
}

impl<'a> Request<'a> {
    pub fn create(object: &'a Value) -> Self {
        Request {
            operation: Operation::Create,
            object: Some(object),
            old_object: None,
            user: None,
        }
    }
    pub fn update(object: &'a Value, old: &'a Value) -> Self {
        Request {
            operation: Operation::Update,
            object: Some(object),
            old_object: Some(old),
            user: None,
        }
    }
}

/// Which of our resources an object is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind")]
pub enum ResourceKind {
    Cluster,
    MachineDeployment,
    /// Not ours: another group's object, or a kind this engine has no rules for.
    Other {
        #[serde(rename = "apiVersion")]
        api_version: String,
        #[serde(rename = "objectKind")]
        kind: String,
    },
}

impl ResourceKind {
    pub fn of(object: &Value) -> ResourceKind {
        let api_version = object.get("apiVersion").and_then(Value::as_str).unwrap_or("");
        let kind = object.get("kind").and_then(Value::as_str).unwrap_or("");
        match (api_version, kind) {
            ("kubermatic.k8c.io/v1", "Cluster") => ResourceKind::Cluster,
            ("cluster.k8s.io/v1alpha1", "MachineDeployment") => ResourceKind::MachineDeployment,
            _ => ResourceKind::Other {
                api_version: api_version.to_owned(),
                kind: kind.to_owned(),
            },
        }
    }

    /// `Cluster.kubermatic.k8c.io`, as kubectl names resources in messages.
    pub fn qualified(&self) -> String {
        match self {
            ResourceKind::Cluster => "Cluster.kubermatic.k8c.io".into(),
            ResourceKind::MachineDeployment => "MachineDeployment.cluster.k8s.io".into(),
            ResourceKind::Other { api_version, kind } => {
                let group = api_version.rsplit_once('/').map(|(g, _)| g).unwrap_or("");
                if group.is_empty() {
                    kind.clone()
                } else {
                    format!("{kind}.{group}")
                }
            }
        }
    }

    pub fn is_ours(&self) -> bool {
        !matches!(self, ResourceKind::Other { .. })
    }
}

impl fmt::Display for ResourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResourceKind::Cluster => f.write_str("Cluster"),
            ResourceKind::MachineDeployment => f.write_str("MachineDeployment"),
            ResourceKind::Other { kind, .. } => f.write_str(kind),
        }
    }
}
