//! Rules this project applies to Clusters that KKP's admission does not have.
//!
//! A rule kept deliberately (see `FIDELITY-CLUSTER.md`) refuses a new cluster and an update that
//! changes the field it checks; an update that leaves the field as stored gets a warning, so an
//! existing cluster KKP admitted can still be updated. The other rules only warn.

use std::net::IpAddr;

use ipnet::IpNet;

use super::findings::Findings;
use crate::cluster::{Cluster, ClusterSpec};
use crate::field::{FieldError, Path};

/// The project's rules for `new`; `old` is the stored object of an update.
pub(crate) fn validate(new: &Cluster, old: Option<&Cluster>) -> Findings {
    let mut f = Findings::default();
    let p = Path::root("spec");
    let (n, o) = (&new.spec, old.map(|c| &c.spec));
    let changed = |get: fn(&ClusterSpec) -> String| o.is_none_or(|o| get(o) != get(n));

    let kept = [
        (
            api_server_ranges(n, &p),
            changed(|s| format!("{:?}", s.api_server_allowed_ip_ranges)),
        ),
        (
            tunneling_agent_ip(n, &p),
            changed(|s| format!("{:?}", network_field(s, |n| n.tunneling_agent_ip.clone()))),
        ),
        (
            node_mask_bounds(n, &p),
            changed(|s| {
                format!(
                    "{:?}",
                    network_field(s, |n| (n.node_cidr_mask_size_ipv4, n.node_cidr_mask_size_ipv6))
                )
            }),
        ),
    ];
    for (errors, refuse) in kept {
        for e in errors {
            if refuse {
                f.error(e);
            } else {
                f.warn(format!(
                    "{e} (kept as stored; fix it with the next change of the field)"
                ));
            }
        }
    }
    let warned = [
        update_window(n, &p),
        human_readable_name(n, &p),
        encryption_providers(n, &p),
    ];
    for e in warned.into_iter().flatten() {
        f.warn(e.to_string());
    }
    f
}

fn network_field<T>(spec: &ClusterSpec, get: impl Fn(&crate::cluster::ClusterNetworkingConfig) -> T) -> Option<T> {
    spec.cluster_network.as_ref().map(get)
}

/// X3: the apiserver's allowed source ranges must be CIDRs, or its load balancer cannot be made.
fn api_server_ranges(spec: &ClusterSpec, p: &Path) -> Vec<FieldError> {
    let blocks = spec
        .api_server_allowed_ip_ranges
        .as_ref()
        .and_then(|r| r.cidr_blocks.as_deref())
        .unwrap_or_default();
    blocks
        .iter()
        .enumerate()
        .filter(|(_, cidr)| cidr.parse::<IpNet>().is_err())
        .map(|(i, cidr)| {
            FieldError::invalid(
                p.child("apiServerAllowedIPRanges").child("cidrBlocks").index(i),
                cidr.as_str(),
                "not a valid CIDR",
            )
        })
        .collect()
}

/// X4: the tunneling agent's address must be an IP address.
fn tunneling_agent_ip(spec: &ClusterSpec, p: &Path) -> Vec<FieldError> {
    let ip = spec
        .cluster_network
        .as_ref()
        .and_then(|n| n.tunneling_agent_ip.as_deref())
        .filter(|ip| !ip.is_empty());
    match ip {
        Some(ip) if ip.parse::<IpAddr>().is_err() => vec![FieldError::invalid(
            p.child("clusterNetwork").child("tunnelingAgentIP"),
            ip,
            "not a valid IP address",
        )],
        _ => vec![],
    }
}

/// X6: a node CIDR mask cannot be longer than the address.
fn node_mask_bounds(spec: &ClusterSpec, p: &Path) -> Vec<FieldError> {
    let Some(net) = &spec.cluster_network else {
        return vec![];
    };
    let path = p.child("clusterNetwork");
    let mut out = Vec::new();
    for (key, mask, max) in [
        ("nodeCidrMaskSizeIPv4", net.node_cidr_mask_size_ipv4, 32),
        ("nodeCidrMaskSizeIPv6", net.node_cidr_mask_size_ipv6, 128),
    ] {
        if let Some(mask) = mask.filter(|m| *m > max) {
            out.push(FieldError::invalid(
                path.child(key),
                mask,
                format!("must be at most {max}"),
            ));
        }
    }
    out
}

/// X5: KKP never parses the update window at admission.
fn update_window(spec: &ClusterSpec, p: &Path) -> Vec<FieldError> {
    let Some(window) = &spec.update_window else {
        return vec![];
    };
    let path = p.child("updateWindow");
    let mut out = Vec::new();
    if let Some(start) = window.start.as_deref().filter(|s| !s.is_empty())
        && !is_window_start(start)
    {
        out.push(FieldError::invalid(
            path.child("start"),
            start,
            "must be a time such as 22:30 or Mon 21:00",
        ));
    }
    if let Some(length) = window.length.as_deref().filter(|s| !s.is_empty())
        && !is_go_duration(length)
    {
        out.push(FieldError::invalid(
            path.child("length"),
            length,
            "must be a duration such as 1h30m",
        ));
    }
    out
}

/// X7: KKP only refuses an empty name; one of blanks shows as nothing.
fn human_readable_name(spec: &ClusterSpec, p: &Path) -> Vec<FieldError> {
    match spec.human_readable_name.as_deref() {
        Some(name) if !name.is_empty() && name.trim().is_empty() => vec![FieldError::invalid(
            p.child("humanReadableName"),
            name,
            "consists of blanks only",
        )],
        _ => vec![],
    }
}

/// X8: encryption providers other than secretbox; KKP's CRD drops them.
fn encryption_providers(spec: &ClusterSpec, p: &Path) -> Vec<FieldError> {
    let Some(enc) = &spec.encryption_configuration else {
        return vec![];
    };
    enc.other
        .keys()
        .map(|k| {
            FieldError::forbidden(
                p.child("encryptionConfiguration").child(k),
                "only the secretbox provider is supported; KKP drops this field",
            )
        })
        .collect()
}

fn is_window_start(s: &str) -> bool {
    let time = match s.split_once(' ') {
        Some((day, time)) => {
            if !["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"].contains(&day) {
                return false;
            }
            time
        }
        None => s,
    };
    let Some((h, m)) = time.split_once(':') else {
        return false;
    };
    m.len() == 2 && matches!((h.parse::<u8>(), m.parse::<u8>()), (Ok(h), Ok(m)) if h < 24 && m < 60)
}

/// A Go `time.Duration` string such as `1h30m` or `90s`.
fn is_go_duration(s: &str) -> bool {
    let mut rest = s.strip_prefix('-').unwrap_or(s);
    if rest == "0" {
        return true;
    }
    if rest.is_empty() {
        return false;
    }
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if num_len == 0 {
            return false;
        }
        rest = &rest[num_len..];
        let unit = ["ns", "us", "µs", "ms", "s", "m", "h"]
            .into_iter()
            .find(|u| rest.starts_with(u));
        match unit {
            Some(u) => rest = &rest[u.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_windows() {
        assert!(is_go_duration("1h30m"));
        assert!(is_go_duration("90s"));
        assert!(is_go_duration("1.5h"));
        assert!(!is_go_duration("1 hour"));
        assert!(!is_go_duration("h"));
        assert!(is_window_start("22:30"));
        assert!(is_window_start("Mon 21:00"));
        assert!(!is_window_start("Monday 21:00"));
        assert!(!is_window_start("25:00"));
        assert!(!is_window_start("2:3"));
    }
}
