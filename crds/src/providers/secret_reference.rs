//! A provider block's reference to the Secret that holds its credentials.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_with::skip_serializing_none;

use crate::shared_fields::Other;

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
