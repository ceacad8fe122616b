//! Validation: pure functions that collect every error of an object, each with its field path,
//! and return warnings (deprecated fields and the like) apart from errors.

mod cluster;
mod cluster_cloud;
mod cluster_network;
mod cluster_project_rules;
mod cluster_update;
mod machine;
mod names;
mod selector;
mod ssh;

pub use cluster::{PortRangeError, validate_cluster};
pub use cluster_update::validate_cluster_update;
pub use machine::validate_machine_deployment;
pub use names::{is_dns1035_label, is_dns1123_subdomain};
pub use selector::selector_matches;
pub use ssh::parse_authorized_key;

use crate::field::FieldError;

/// Errors and warnings found in one object.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Findings {
    pub errors: Vec<FieldError>,
    pub warnings: Vec<String>,
}

impl Findings {
    pub fn error(&mut self, e: FieldError) {
        self.errors.push(e);
    }
    pub fn warn(&mut self, w: impl Into<String>) {
        self.warnings.push(w.into());
    }
    pub fn extend(&mut self, other: Findings) {
        self.errors.extend(other.errors);
        self.warnings.extend(other.warnings);
    }
}
