//! The CNI plugins and versions a cluster may run (KKP 2.31).

pub const CANAL: &str = "canal";
pub const CILIUM: &str = "cilium";
pub const NONE: &str = "none";
pub const TYPES: [&str; 3] = [CANAL, CILIUM, NONE];

/// The default CNI for new clusters.
pub const DEFAULT_TYPE: &str = CILIUM;

pub fn supported_versions(cni: &str) -> &'static [&'static str] {
    match cni {
        CANAL => &["v3.29", "v3.30", "v3.31"],
        CILIUM => &["1.17.16", "1.18.10", "1.19.4"],
        NONE => &[""],
        _ => &[],
    }
}

/// Versions still accepted on existing clusters, with a warning.
pub fn deprecated_versions(cni: &str) -> &'static [&'static str] {
    match cni {
        CANAL => &["v3.27", "v3.28"],
        CILIUM => &["1.15.16", "1.16.9"],
        _ => &[],
    }
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
