//! Admission policies that cluster admins write: which providers, datacenters, versions, sizes and
//! labels their users may use. The webhook enforces them; the plugin evaluates them offline.

use std::fmt;

use serde::Serialize;

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

pub use compile::{CompiledCel, CompiledPolicy, PolicyError, compile};
pub use evaluate::{Evaluation, evaluate, evaluate_all};
pub use facts::{INITIAL_MACHINE_DEPLOYMENT_ANNOTATION, PROJECT_LABEL, selector_labels};
pub use load::{Loaded, POLICY_GROUP, is_policy_document};
pub use ratchet::{RATCHETED, evaluate_request, ratchet};
pub use resource::{AdmissionPolicy, AdmissionPolicySpec, AdmissionPolicyStatus, CelRule, PolicyRules};
pub use scale::{evaluate_scale, scale_replicas};

/// What happens when a policy's rule is broken.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub enum Enforcement {
    /// The object is rejected.
    #[default]
    Deny,
    /// The object is admitted with a warning.
    Warn,
    /// The object is admitted; the violation is recorded.
    Audit,
}

impl fmt::Display for Enforcement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Enforcement::Deny => "Deny",
            Enforcement::Warn => "Warn",
            Enforcement::Audit => "Audit",
        })
    }
}

/// One broken rule of one policy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Violation {
    pub policy: String,
    pub rule: String,
    pub message: String,
    pub enforcement: Enforcement,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "policy {:?} rule {}: {}", self.policy, self.rule, self.message)
    }
}

/// The compiled policies in force.
#[derive(Clone, Debug, Default)]
pub struct PolicySet {
    policies: Vec<CompiledPolicy>,
}

impl PolicySet {
    pub fn new(policies: Vec<CompiledPolicy>) -> Self {
        PolicySet { policies }
    }

    /// Compiles every policy; the ones that do not compile come back apart, with the reason, and
    /// do not stop the others.
    pub fn compile<'a>(
        policies: impl IntoIterator<Item = &'a AdmissionPolicy>,
    ) -> (PolicySet, Vec<(String, PolicyError)>) {
        let mut ok = Vec::new();
        let mut failed = Vec::new();
        for p in policies {
            match compile(p) {
                Ok(c) => ok.push(c),
                Err(e) => failed.push((kube::ResourceExt::name_any(p), e)),
            }
        }
        (PolicySet::sorted(ok), failed)
    }

    /// The set of `policies`, in the order they are evaluated: by name.
    fn sorted(mut policies: Vec<CompiledPolicy>) -> Self {
        policies.sort_by(|a, b| a.name.cmp(&b.name));
        PolicySet { policies }
    }

    pub fn is_empty(&self) -> bool {
        self.policies.is_empty()
    }

    pub fn len(&self) -> usize {
        self.policies.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = &CompiledPolicy> {
        self.policies.iter()
    }
}
