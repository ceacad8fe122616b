//! Admission policies that cluster admins write: which providers, datacenters, versions, sizes and
//! labels their users may use. The webhook enforces them; the plugin evaluates them offline.

mod compile;
mod evaluate;
mod facts;
mod load;
mod quantity;
mod ratchet;
pub mod report;
pub mod resource;
pub mod sandbox;
mod scale;
mod set;
mod violation;

pub use compile::{CompiledCel, CompiledPolicy, PolicyError, compile};
pub use evaluate::{Evaluation, evaluate, evaluate_all};
pub use facts::{INITIAL_MACHINE_DEPLOYMENT_ANNOTATION, PROJECT_LABEL, selector_labels};
pub use load::{Loaded, POLICY_GROUP, is_policy_document};
pub use ratchet::{RATCHETED, evaluate_request, ratchet};
pub use resource::{AdmissionPolicy, AdmissionPolicySpec, AdmissionPolicyStatus, CelRule, PolicyRules};
pub use scale::{evaluate_scale, scale_replicas};
pub use set::PolicySet;
pub use violation::{Enforcement, Violation};
