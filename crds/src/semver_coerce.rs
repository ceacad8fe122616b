//! Versions read the way machine-controller and KKP read them (Masterminds semver v3
//! `NewVersion`): a leading `v` is allowed and a missing minor or patch counts as 0, so `1.35`
//! and `v1.35` are `1.35.0`. Pre-release and build parts follow semver's syntax.

use semver::{BuildMetadata, Prerelease, Version};

/// Why a string is not a version.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CoerceError {
    #[error("empty version")]
    Empty,
    #[error("expected up to three dot-separated numbers such as 1.35.2, found {0:?}")]
    Core(String),
    #[error("the number {0:?} is too large")]
    TooLarge(String),
    #[error("invalid pre-release {0:?}")]
    Prerelease(String),
    #[error("invalid build metadata {0:?}")]
    Build(String),
}

/// Parses `s` as Masterminds semver v3 does, filling a missing minor or patch with 0.
pub fn coerce(s: &str) -> Result<Version, CoerceError> {
    let body = s.strip_prefix('v').unwrap_or(s);
    if body.is_empty() {
        return Err(CoerceError::Empty);
    }
    let (rest, build) = match body.split_once('+') {
        Some((rest, build)) => (rest, Some(build)),
        None => (body, None),
    };
    let (core, pre) = match rest.split_once('-') {
        Some((core, pre)) => (core, Some(pre)),
        None => (rest, None),
    };
    let parts: Vec<&str> = core.split('.').collect();
    if parts.len() > 3
        || parts
            .iter()
            .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(CoerceError::Core(core.to_owned()));
    }
    let number = |i: usize| -> Result<u64, CoerceError> {
        parts
            .get(i)
            .map_or(Ok(0), |p| p.parse().map_err(|_| CoerceError::TooLarge((*p).to_owned())))
    };
    let mut version = Version::new(number(0)?, number(1)?, number(2)?);
    if let Some(pre) = pre {
        version.pre = Prerelease::new(pre).map_err(|_| CoerceError::Prerelease(pre.to_owned()))?;
        if version.pre.is_empty() {
            return Err(CoerceError::Prerelease(pre.to_owned()));
        }
    }
    if let Some(build) = build {
        version.build = BuildMetadata::new(build).map_err(|_| CoerceError::Build(build.to_owned()))?;
        if version.build.is_empty() {
            return Err(CoerceError::Build(build.to_owned()));
        }
    }
    Ok(version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_versions_are_filled_with_zeros() {
        assert_eq!(coerce("1.35"), Ok(Version::new(1, 35, 0)));
        assert_eq!(coerce("v1.35"), Ok(Version::new(1, 35, 0)));
        assert_eq!(coerce("1"), Ok(Version::new(1, 0, 0)));
        assert_eq!(coerce("v1.35.7"), Ok(Version::new(1, 35, 7)));
    }

    #[test]
    fn pre_releases_and_build_metadata_are_kept() {
        let v = coerce("1.35.0-rc.1+build.5").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(v.pre.as_str(), "rc.1");
        assert_eq!(v.build.as_str(), "build.5");
        assert_eq!(
            coerce("1.35-alpha").map(|v| v.to_string()),
            Ok("1.35.0-alpha".to_owned())
        );
    }

    #[test]
    fn everything_else_is_refused() {
        for bad in [
            "",
            "v",
            "latest",
            "1.2.3.4",
            "1..2",
            "1.2.x",
            " 1.2.3",
            "1.2.3-",
            "1.2.3+",
            "1.2.3-a..b",
        ] {
            assert!(coerce(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            coerce("99999999999999999999"),
            Err(CoerceError::TooLarge("99999999999999999999".into()))
        );
    }
}
