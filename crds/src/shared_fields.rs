//! Field types that the Cluster, its provider blocks and machine-controller's objects share: the
//! fields this crate does not model, kept as they came, and lists of CIDR blocks.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_with::skip_serializing_none;

/// Extra fields kept as they came.
pub type Other = BTreeMap<String, Value>;

// A list of CIDR blocks, such as `spec.clusterNetwork.pods` or a provider's
// `nodePortsAllowedIPRanges`. (No doc comment: it would become the CRD schema's description.)
#[skip_serializing_none]
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct NetworkRanges {
    pub cidr_blocks: Option<Vec<String>>,
    #[serde(flatten)]
    pub other: Other,
}
