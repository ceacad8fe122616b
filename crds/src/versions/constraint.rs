//! Version constraints as KKP writes them in its configuration (Masterminds semver v3 syntax):
//! `1.33.*`, `>= 1.29.0`, `1.33`, `>=1.30, <1.32`, `~1.2`, `^1.2`, alternatives with `||`.

use std::fmt;

use semver::{Version, VersionReq};

/// A parsed constraint that remembers how it was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Constraint {
    text: String,
    alternatives: Vec<VersionReq>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{text:?} is not a version constraint: {reason}")]
pub struct ConstraintError {
    pub text: String,
    pub reason: String,
}

/// At most this many bytes of constraint text are parsed; a configuration never needs more.
const MAX_LEN: usize = 1024;

impl Constraint {
    pub fn parse(text: &str) -> Result<Constraint, ConstraintError> {
        let err = |reason: String| ConstraintError {
            text: text.chars().take(80).collect(),
            reason,
        };
        if text.len() > MAX_LEN {
            return Err(err(format!("longer than {MAX_LEN} bytes")));
        }
        let mut alternatives = Vec::new();
        for alternative in text.split("||") {
            let terms = terms(alternative);
            if terms.is_empty() {
                return Err(err("empty constraint".into()));
            }
            let req = VersionReq::parse(&terms.join(", ")).map_err(|e| err(e.to_string()))?;
            alternatives.push(req);
        }
        Ok(Constraint {
            text: text.trim().to_owned(),
            alternatives,
        })
    }

    pub fn matches(&self, version: &Version) -> bool {
        self.alternatives.iter().any(|r| r.matches(version))
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl fmt::Display for Constraint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// The comparators of one alternative, each as the `semver` crate spells it: an operator glued to
/// its version, a bare version meaning `=` (as in Masterminds, where `1.33` means any 1.33.x),
/// and no leading `v`.
fn terms(alternative: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut pending_op = String::new();
    for token in alternative.split([',', ' ', '\t']).filter(|t| !t.is_empty()) {
        let op_len = token
            .find(|c: char| !matches!(c, '<' | '>' | '=' | '!' | '~' | '^'))
            .unwrap_or(token.len());
        let (op, version) = token.split_at(op_len);
        let op = format!("{pending_op}{op}");
        if version.is_empty() {
            pending_op = op;
            continue;
        }
        pending_op.clear();
        let version = version.strip_prefix('v').unwrap_or(version).replace(['x', 'X'], "*");
        let op = match op.as_str() {
            "" => "=",
            "~>" => "~",
            other => other,
        };
        out.push(format!("{op}{version}"));
    }
    if !pending_op.is_empty() {
        // An operator without a version: let the parser name the problem.
        out.push(pending_op);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(c: &str, v: &str) -> bool {
        Constraint::parse(c).unwrap().matches(&Version::parse(v).unwrap())
    }

    #[test]
    fn kkp_forms() {
        assert!(m("1.33.*", "1.33.7"));
        assert!(!m("1.33.*", "1.34.0"));
        assert!(m(">= 1.29.0", "1.35.8"));
        assert!(!m(">= 1.29.0", "1.28.9"));
        assert!(m("1.33", "1.33.4"), "a bare minor means any patch of it");
        assert!(m("v1.35.8", "1.35.8"));
        assert!(!m("v1.35.8", "1.35.7"));
        assert!(m(">=1.30, <1.32", "1.31.2"));
        assert!(m(">=1.30 <1.32", "1.31.2"));
        assert!(!m(">=1.30 <1.32", "1.32.0"));
        assert!(m("1.30.* || 1.32.*", "1.32.1"));
        assert!(m("1.x", "1.9.0"));
        assert!(
            !m(">= 1.29.0", "1.30.0-rc.1"),
            "pre-releases only match constraints that name one"
        );
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(Constraint::parse("").is_err());
        assert!(Constraint::parse(">=").is_err());
        assert!(Constraint::parse("banana").is_err());
        assert!(Constraint::parse(&"1.".repeat(2000)).is_err());
    }
}
