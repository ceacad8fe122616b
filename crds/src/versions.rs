//! Which Kubernetes versions the platform offers, how a cluster may move between them, and how far
//! a kubelet may lag behind its control plane.
//!
//! The catalog has the shape of a `KubermaticConfiguration`'s `spec.versions`: the offered
//! versions, the default, the allowed updates (`from`/`to` constraints) and the provider
//! incompatibilities. [`VersionCatalog::default`] is the built-in catalog of the KKP release named
//! by [`BUILTIN_KKP_RELEASE`]; a webhook or plugin that can read the platform's own configuration
//! uses that instead (see [`crate::platform`]).

use semver::Version;

use crate::semver_coerce::{self, CoerceError};

mod constraint;

pub use constraint::{Constraint, ConstraintError};

/// The KKP release whose offer the built-in catalog equals.
pub const BUILTIN_KKP_RELEASE: &str = "KKP v2.31 (kubermatic/kubermatic@2974df5, 2026-08-21)";

/// One allowed update: from a version matching `from` to an offered version matching `to`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionUpdate {
    pub from: Constraint,
    pub to: Constraint,
    /// KKP updates matching control planes on its own; such a `from` version is not offered for
    /// new clusters.
    pub automatic: bool,
}

/// When a provider incompatibility applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IncompatibilityOperation {
    Create,
    Upgrade,
    Support,
}

/// The cluster property an incompatibility depends on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IncompatibilityCondition {
    Always,
    ExternalCloudProvider,
    InTreeProvider,
}

/// A version that clusters of a provider may not use under a condition (KKP's
/// `providerIncompatibilities`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderIncompatibility {
    /// KKP's provider name; empty matches every provider.
    pub provider: String,
    pub version: Constraint,
    pub condition: IncompatibilityCondition,
    pub operation: IncompatibilityOperation,
}

/// The versions clusters may be created with and updated to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionCatalog {
    pub versions: Vec<Version>,
    pub default: Version,
    pub updates: Vec<VersionUpdate>,
    pub incompatibilities: Vec<ProviderIncompatibility>,
}

fn v(major: u64, minor: u64, patch: u64) -> Version {
    Version::new(major, minor, patch)
}

impl Default for VersionCatalog {
    /// The built-in catalog, [`BUILTIN_KKP_RELEASE`]'s offer: 1.33.{0,2,3,5–13}, 1.34.1–1.34.11,
    /// 1.35.0–1.35.8 and 1.36.{3,4}; default 1.35.8; updates within a minor and to the next one;
    /// clusters with the in-tree cloud provider cannot be upgraded to 1.29 or later.
    fn default() -> Self {
        let mut versions = Vec::new();
        versions.extend([0, 2, 3].into_iter().chain(5..=13).map(|p| v(1, 33, p)));
        versions.extend((1..=11).map(|p| v(1, 34, p)));
        versions.extend((0..=8).map(|p| v(1, 35, p)));
        versions.extend([3, 4].map(|p| v(1, 36, p)));
        let mut catalog = VersionCatalog::with_standard_updates(versions, v(1, 35, 8));
        // KKP's default configuration also allows 1.32 clusters to move to 1.33.
        catalog.updates.insert(0, VersionUpdate::wildcard(1, 32, 1, 33));
        catalog.incompatibilities.push(ProviderIncompatibility {
            provider: String::new(),
            version: Constraint::parse(">= 1.29.0").expect("a valid constraint"),
            condition: IncompatibilityCondition::InTreeProvider,
            operation: IncompatibilityOperation::Upgrade,
        });
        catalog
    }
}

/// Parses a Kubernetes version as KKP and machine-controller do (Masterminds semver v3): an
/// optional leading `v`, and `1.35` or `1` completed with zeros (see [`crate::semver_coerce`]).
pub fn parse(s: &str) -> Result<Version, CoerceError> {
    semver_coerce::coerce(s.trim())
}

impl VersionUpdate {
    /// `major.from_minor.*` to `major.to_minor.*`.
    pub fn wildcard(major: u64, from_minor: u64, to_major: u64, to_minor: u64) -> Self {
        VersionUpdate {
            from: Constraint::parse(&format!("{major}.{from_minor}.*")).expect("a valid wildcard"),
            to: Constraint::parse(&format!("{to_major}.{to_minor}.*")).expect("a valid wildcard"),
            automatic: false,
        }
    }
}

impl VersionCatalog {
    /// A catalog of exactly these versions with KKP's usual updates (any patch of the same minor,
    /// or the next minor) and no incompatibilities. `default` falls back to the newest version.
    pub fn with_standard_updates(mut versions: Vec<Version>, default: Version) -> Self {
        versions.sort();
        versions.dedup();
        let mut minors: Vec<(u64, u64)> = versions.iter().map(|v| (v.major, v.minor)).collect();
        minors.dedup();
        let mut updates = Vec::new();
        for &(major, minor) in &minors {
            updates.push(VersionUpdate::wildcard(major, minor, major, minor));
            if minors.contains(&(major, minor + 1)) {
                updates.push(VersionUpdate::wildcard(major, minor, major, minor + 1));
            }
        }
        VersionCatalog {
            versions,
            default,
            updates,
            incompatibilities: Vec::new(),
        }
    }

    /// A catalog of exactly these versions; the default is the newest.
    pub fn from_versions(mut versions: Vec<Version>) -> Option<Self> {
        versions.sort();
        versions.dedup();
        let default = versions.last()?.clone();
        Some(VersionCatalog::with_standard_updates(versions, default))
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

    /// The incompatibility that keeps a cluster of `provider` (with the given `external_ccm`
    /// setting) from `version` for `operation`, if any.
    pub fn incompatibility(
        &self,
        provider: &str,
        external_ccm: bool,
        operation: IncompatibilityOperation,
        version: &Version,
    ) -> Option<&ProviderIncompatibility> {
        self.incompatibilities.iter().find(|i| {
            i.operation == operation
                && (i.provider.is_empty() || i.provider == provider)
                && match i.condition {
                    IncompatibilityCondition::Always => true,
                    IncompatibilityCondition::ExternalCloudProvider => external_ccm,
                    IncompatibilityCondition::InTreeProvider => !external_ccm,
                }
                && i.version.matches(version)
        })
    }

    /// The versions a cluster at `from` may be updated to (KKP's `GetPossibleUpdates`): offered
    /// versions other than `from` that an update rule matching `from` leads to, minus those the
    /// provider incompatibilities block for upgrades.
    pub fn possible_updates(&self, from: &Version, provider: &str, external_ccm: bool) -> Vec<&Version> {
        let targets: Vec<&Constraint> = self
            .updates
            .iter()
            .filter(|u| u.from.matches(from))
            .map(|u| &u.to)
            .collect();
        self.versions
            .iter()
            .filter(|v| *v != from && targets.iter().any(|t| t.matches(v)))
            .filter(|v| {
                self.incompatibility(provider, external_ccm, IncompatibilityOperation::Upgrade, v)
                    .is_none()
            })
            .collect()
    }

    /// Why updating a cluster from `old` to `new` is refused, if it is. An unchanged version is
    /// never refused.
    pub fn update_refusal(&self, old: &Version, new: &Version, provider: &str, external_ccm: bool) -> Option<String> {
        if old == new {
            return None;
        }
        if self.possible_updates(old, provider, external_ccm).contains(&new) {
            return None;
        }
        if let Some(i) = self.incompatibility(provider, external_ccm, IncompatibilityOperation::Upgrade, new) {
            return Some(match i.condition {
                IncompatibilityCondition::InTreeProvider => format!(
                    "clusters with the in-tree cloud provider cannot be updated to {new} ({}); enable \
                     spec.features.externalCloudProvider first",
                    i.version
                ),
                _ => format!(
                    "the platform does not allow updates to {new} for this cluster ({})",
                    i.version
                ),
            });
        }
        let mut allowed: Vec<String> = self
            .possible_updates(old, provider, external_ccm)
            .into_iter()
            .map(ToString::to_string)
            .collect();
        allowed.dedup();
        Some(if allowed.is_empty() {
            format!("no update from {old} is configured")
        } else {
            format!(
                "no update from {old} to {new} is configured; allowed: {}",
                allowed.join(", ")
            )
        })
    }
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
    fn default_catalog_is_the_builtin_kkp_release() {
        let c = VersionCatalog::default();
        assert!(c.offers(&v(1, 33, 13)));
        assert!(!c.offers(&v(1, 33, 1)), "KKP never offered 1.33.1");
        assert!(!c.offers(&v(1, 33, 4)), "KKP never offered 1.33.4");
        assert!(!c.offers(&v(1, 34, 0)));
        assert!(c.offers(&v(1, 34, 11)));
        assert!(c.offers(&v(1, 35, 8)));
        assert!(c.offers(&v(1, 36, 4)));
        assert!(!c.offers(&v(1, 32, 9)));
        assert_eq!(c.default, v(1, 35, 8));
        assert_eq!(c.minors(), ["1.33", "1.34", "1.35", "1.36"]);
    }

    #[test]
    fn parse_coerces_like_masterminds() {
        assert_eq!(parse("v1.35.2").unwrap(), v(1, 35, 2));
        assert_eq!(parse("1.35.2").unwrap(), v(1, 35, 2));
        assert_eq!(parse("1.35").unwrap(), v(1, 35, 0));
        assert_eq!(parse("v1.35").unwrap(), v(1, 35, 0));
        assert_eq!(parse("1").unwrap(), v(1, 0, 0));
        assert_eq!(parse("1.35-rc.1").unwrap().pre.as_str(), "rc.1");
        assert!(parse("1.x").is_err());
        assert!(parse("").is_err());
        assert!(parse("latest").is_err());
        assert!(parse("1..2").is_err());
    }

    #[test]
    fn updates_follow_the_configured_rules() {
        let c = VersionCatalog::default();
        let none = |o, n| c.update_refusal(&o, &n, "aws", true);
        assert_eq!(none(v(1, 34, 1), v(1, 34, 9)), None);
        assert_eq!(none(v(1, 34, 1), v(1, 35, 0)), None);
        assert_eq!(
            none(v(1, 35, 7), v(1, 35, 5)),
            None,
            "patch downgrades within a minor are allowed"
        );
        assert_eq!(none(v(1, 35, 7), v(1, 35, 7)), None);
        assert!(
            none(v(1, 34, 1), v(1, 36, 3))
                .unwrap()
                .starts_with("no update from 1.34.1 to 1.36.3 is configured; allowed: 1.34.2,")
        );
        assert!(
            none(v(1, 35, 1), v(1, 34, 9)).is_some(),
            "minor downgrades are not configured"
        );
    }

    #[test]
    fn in_tree_clusters_cannot_be_upgraded() {
        let c = VersionCatalog::default();
        let why = c.update_refusal(&v(1, 34, 1), &v(1, 34, 9), "aws", false).unwrap();
        assert!(
            why.starts_with("clusters with the in-tree cloud provider cannot be updated to 1.34.9"),
            "{why}"
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
