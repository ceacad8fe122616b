//! Which Kubernetes versions the platform offers, how a cluster may move between them, and how far
//! a kubelet may lag behind its control plane.

use semver::Version;

/// The versions clusters may be created with and updated to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionCatalog {
    pub versions: Vec<Version>,
    pub default: Version,
}

fn v(major: u64, minor: u64, patch: u64) -> Version {
    Version::new(major, minor, patch)
}

impl Default for VersionCatalog {
    /// KKP 2.31's offer: 1.33.0–1.33.13, 1.34.1–1.34.10, 1.35.0–1.35.7 and 1.36.3; default 1.35.7.
    fn default() -> Self {
        let mut versions = Vec::new();
        versions.extend((0..=13).map(|p| v(1, 33, p)));
        versions.extend((1..=10).map(|p| v(1, 34, p)));
        versions.extend((0..=7).map(|p| v(1, 35, p)));
        versions.push(v(1, 36, 3));
        VersionCatalog {
            versions,
            default: v(1, 35, 7),
        }
    }
}

/// Parses a Kubernetes version, with or without a leading `v`.
pub fn parse(s: &str) -> Result<Version, semver::Error> {
    Version::parse(s.trim().strip_prefix('v').unwrap_or(s.trim()))
}

impl VersionCatalog {
    /// A catalog of exactly these versions; the default is the newest.
    pub fn from_versions(mut versions: Vec<Version>) -> Option<Self> {
        versions.sort();
        versions.dedup();
        let default = versions.last()?.clone();
        Some(VersionCatalog { versions, default })
    }

    pub fn offers(&self, version: &Version) -> bool {
        self.versions.iter().any(|o| o == version)
    }

    /// The minors on offer, as `1.33`, `1.34`, … for messages.
    pub fn minors(&self) -> Vec<String> {
        let mut m: Vec<String> = self
            .versions
            .iter()
            .map(|v| format!("{}.{}", v.major, v.minor))
            .collect();
        m.dedup();
        m
    }

    /// The newest offered patch of a minor.
    pub fn latest_patch(&self, major: u64, minor: u64) -> Option<&Version> {
        self.versions
            .iter()
            .filter(|v| v.major == major && v.minor == minor)
            .max()
    }
}

/// Why an update from one version to another is refused, if it is.
pub fn update_refusal(old: &Version, new: &Version) -> Option<String> {
    if new < old {
        return Some(format!("downgrades are not supported (from {old} to {new})"));
    }
    if new.major != old.major {
        return Some(format!("cannot change the major version (from {old} to {new})"));
    }
    if new.minor > old.minor + 1 {
        return Some(format!(
            "can only update one minor version at a time: from {old} the next is {}.{}",
            old.major,
            old.minor + 1
        ));
    }
    None
}

/// KKP's node skew rule: same major, and the kubelet at most two minors behind the control plane
/// and never ahead of it.
pub fn kubelet_skew_refusal(control_plane: &Version, kubelet: &Version) -> Option<String> {
    let too_old = kubelet.minor + 2 < control_plane.minor;
    if kubelet.major != control_plane.major || kubelet.minor > control_plane.minor || too_old {
        return Some(format!(
            "kubelet {kubelet} is not compatible with control plane {control_plane}: it must be {}.{} to {}.{}",
            control_plane.major,
            control_plane.minor.saturating_sub(2),
            control_plane.major,
            control_plane.minor
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_catalog_is_kkp_2_31() {
        let c = VersionCatalog::default();
        assert!(c.offers(&v(1, 33, 13)));
        assert!(!c.offers(&v(1, 34, 0)));
        assert!(c.offers(&v(1, 36, 3)));
        assert!(!c.offers(&v(1, 32, 9)));
        assert_eq!(c.default, v(1, 35, 7));
        assert_eq!(c.minors(), ["1.33", "1.34", "1.35", "1.36"]);
    }

    #[test]
    fn parse_accepts_optional_v() {
        assert_eq!(parse("v1.35.2").unwrap(), v(1, 35, 2));
        assert_eq!(parse("1.35.2").unwrap(), v(1, 35, 2));
        assert!(parse("1.35").is_err());
    }

    #[test]
    fn updates_move_one_minor_and_never_down() {
        assert_eq!(update_refusal(&v(1, 34, 1), &v(1, 34, 9)), None);
        assert_eq!(update_refusal(&v(1, 34, 1), &v(1, 35, 0)), None);
        assert_eq!(
            update_refusal(&v(1, 34, 1), &v(1, 36, 3)).unwrap(),
            "can only update one minor version at a time: from 1.34.1 the next is 1.35"
        );
        assert_eq!(
            update_refusal(&v(1, 35, 1), &v(1, 34, 9)).unwrap(),
            "downgrades are not supported (from 1.35.1 to 1.34.9)"
        );
    }

    #[test]
    fn kubelet_skew() {
        assert_eq!(kubelet_skew_refusal(&v(1, 35, 0), &v(1, 33, 4)), None);
        assert_eq!(kubelet_skew_refusal(&v(1, 35, 0), &v(1, 35, 4)), None);
        assert!(kubelet_skew_refusal(&v(1, 35, 0), &v(1, 32, 4)).is_some());
        assert_eq!(
            kubelet_skew_refusal(&v(1, 35, 0), &v(1, 36, 0)).unwrap(),
            "kubelet 1.36.0 is not compatible with control plane 1.35.0: it must be 1.33 to 1.35"
        );
    }
}
