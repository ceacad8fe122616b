//! The CNI plugins and versions a cluster may run (KKP 2.31), and how a cluster's CNI version may
//! move on update.

use semver::Version;

use crate::versions;

pub const CANAL: &str = "canal";
pub const CILIUM: &str = "cilium";
pub const NONE: &str = "none";
pub const TYPES: [&str; 3] = [CANAL, CILIUM, NONE];

/// The default CNI for new clusters.
pub const DEFAULT_TYPE: &str = CILIUM;

/// The versions new clusters are offered.
pub fn supported_versions(cni: &str) -> &'static [&'static str] {
    match cni {
        CANAL => &["v3.29", "v3.30", "v3.31"],
        CILIUM => &["1.17.16", "1.18.10", "1.19.4"],
        NONE => &[""],
        _ => &[],
    }
}

/// Versions no longer offered but still admitted, on create and on update, for backward
/// compatibility (KKP's deprecated CNI versions).
pub fn deprecated_versions(cni: &str) -> &'static [&'static str] {
    match cni {
        CANAL => &["v3.21", "v3.22", "v3.23", "v3.24", "v3.25", "v3.26", "v3.27", "v3.28"],
        CILIUM => &[
            "v1.11", "v1.12", "1.13.0", "1.13.3", "1.13.4", "1.13.6", "1.13.7", "1.13.8", "1.13.14", "1.14.1",
            "1.14.2", "1.14.3", "1.14.9", "1.14.16", "1.15.3", "1.15.10", "1.15.16", "1.16.6", "1.16.9", "1.17.7",
            "1.17.12", "1.17.14", "1.18.2", "1.18.6", "1.18.8",
        ],
        _ => &[],
    }
}

/// Every version a cluster of this CNI may name (supported and deprecated), sorted as KKP lists
/// them in its messages.
pub fn allowed_versions(cni: &str) -> Vec<&'static str> {
    let mut all: Vec<&'static str> = supported_versions(cni)
        .iter()
        .chain(deprecated_versions(cni))
        .copied()
        .collect();
    all.sort_unstable();
    all.dedup();
    all
}

pub fn is_allowed(cni: &str, version: &str) -> bool {
    supported_versions(cni).contains(&version) || deprecated_versions(cni).contains(&version)
}

pub fn default_version(cni: &str) -> Option<&'static str> {
    match cni {
        CANAL => Some("v3.31"),
        CILIUM => Some("1.19.4"),
        NONE => Some(""),
        _ => None,
    }
}

/// `(major, minor)` of a CNI version such as `v3.31` or `1.19.4`.
pub fn minor_of(version: &str) -> Option<(u64, u64)> {
    let mut parts = version.trim_start_matches('v').split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

/// A CNI version parsed the way KKP parses it (an optional `v`, missing parts completed).
pub fn parse_version(version: &str) -> Result<Version, crate::semver_coerce::CoerceError> {
    versions::parse(version)
}

/// Whether a version change that is more than one minor step is one KKP allows anyway: canal
/// below v3.22 may move straight to v3.22 on Kubernetes 1.23 or later.
pub fn allowed_transition(cni: &str, kubernetes: Option<&Version>, old: &Version, new: &Version) -> bool {
    cni == CANAL
        && kubernetes.is_some_and(|k| (k.major, k.minor) >= (1, 23))
        && (old.major, old.minor) < (3, 22)
        && old.pre.is_empty()
        && (new.major, new.minor, new.patch) == (3, 22, 0)
        && new.pre.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deprecated_versions_are_allowed() {
        assert!(is_allowed(CANAL, "v3.21"));
        assert!(is_allowed(CILIUM, "1.18.8"));
        assert!(is_allowed(NONE, ""));
        assert!(!is_allowed(CILIUM, "1.18.9"));
        assert_eq!(allowed_versions(CANAL).len(), 11);
    }

    #[test]
    fn canal_may_jump_to_3_22() {
        let k = Version::new(1, 30, 0);
        let v = |s| parse_version(s).unwrap();
        assert!(allowed_transition(CANAL, Some(&k), &v("v3.19"), &v("v3.22")));
        assert!(!allowed_transition(CANAL, Some(&k), &v("v3.19"), &v("v3.23")));
        assert!(!allowed_transition(
            CANAL,
            Some(&Version::new(1, 22, 0)),
            &v("v3.19"),
            &v("v3.22")
        ));
        assert!(!allowed_transition(CILIUM, Some(&k), &v("1.11"), &v("1.13.0")));
    }
}
