//! The compiled policies in force, in the order they are evaluated.

use super::compile::{CompiledPolicy, PolicyError, compile};
use super::resource::AdmissionPolicy;

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
    pub(super) fn sorted(mut policies: Vec<CompiledPolicy>) -> Self {
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
