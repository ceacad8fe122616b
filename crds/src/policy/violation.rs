//! What a broken policy rule does (deny, warn or audit), and the record of one broken rule.

use std::fmt;

use serde::Serialize;

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
