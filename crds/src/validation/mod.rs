//! Validation: pure functions that collect every error of an object, each with its field path,
//! and return warnings (deprecated fields and the like) apart from errors.

mod cluster;
mod cluster_cloud;
mod cluster_facts;
mod cluster_network;
mod cluster_project_rules;
mod cluster_update;
mod findings;
mod machine;
mod names;
mod selector;
mod ssh;

pub use cluster::{PortRangeError, validate_cluster};
pub use cluster_update::validate_cluster_update;
pub use findings::Findings;
pub use machine::validate_machine_deployment;
pub use names::{is_dns1035_label, is_dns1123_subdomain};
pub use ssh::parse_authorized_key;
