//! Rules for `spec.clusterNetwork`.

use ipnet::IpNet;

use super::findings::Findings;
use crate::cluster::ClusterSpec;
use crate::field::{FieldError, Path};
use crate::shared_fields::NetworkRanges;

pub const PROXY_MODES: [&str; 4] = ["ipvs", "iptables", "ebpf", "nftables"];
pub const IP_FAMILIES: [&str; 2] = ["IPv4", "IPv4+IPv6"];

fn parse_blocks(ranges: Option<&NetworkRanges>, p: &Path, f: &mut Findings) -> Vec<Option<IpNet>> {
    let blocks = ranges.and_then(|r| r.cidr_blocks.as_deref()).unwrap_or_default();
    let path = p.child("cidrBlocks");
    if blocks.is_empty() {
        f.error(FieldError::required(path.clone(), "at least one CIDR"));
    }
    if blocks.len() > 2 {
        f.error(FieldError::too_many(path.clone(), blocks.len(), 2));
    }
    let parsed: Vec<Option<IpNet>> = blocks
        .iter()
        .enumerate()
        .map(|(i, b)| match b.parse::<IpNet>() {
            Ok(n) => Some(n),
            Err(_) => {
                f.error(FieldError::invalid(path.index(i), b.as_str(), "not a valid CIDR"));
                None
            }
        })
        .collect();
    if let Some(Some(first)) = parsed.first()
        && !matches!(first, IpNet::V4(_))
    {
        f.error(FieldError::invalid(
            path.index(0),
            blocks[0].as_str(),
            "the first CIDR must be IPv4",
        ));
    }
    if let Some(Some(second)) = parsed.get(1)
        && !matches!(second, IpNet::V6(_))
    {
        f.error(FieldError::invalid(
            path.index(1),
            blocks[1].as_str(),
            "the second CIDR must be IPv6",
        ));
    }
    parsed
}

pub fn validate(spec: &ClusterSpec, p: &Path, f: &mut Findings) {
    let Some(net) = &spec.cluster_network else {
        f.error(FieldError::required(p.clone(), ""));
        return;
    };
    let pods = parse_blocks(net.pods.as_ref(), &p.child("pods"), f);
    let services = parse_blocks(net.services.as_ref(), &p.child("services"), f);
    if !pods.is_empty() && !services.is_empty() && pods.len() != services.len() {
        f.error(FieldError::invalid(
            p.child("services").child("cidrBlocks"),
            services.len(),
            format!("must have as many CIDRs as pods.cidrBlocks ({})", pods.len()),
        ));
    }
    match net.ip_family.as_deref() {
        None | Some("") => {}
        Some(fam) if !IP_FAMILIES.contains(&fam) => {
            f.error(FieldError::not_supported(p.child("ipFamily"), fam, &IP_FAMILIES))
        }
        Some(fam) => {
            let want = if fam == "IPv4" { 1 } else { 2 };
            if !pods.is_empty() && pods.len() != want {
                f.error(FieldError::invalid(
                    p.child("ipFamily"),
                    fam,
                    format!("needs {want} pod and service CIDR(s), found {}", pods.len()),
                ));
            }
        }
    }
    if let (Some(Some(IpNet::V4(pod))), Some(mask)) = (pods.first(), net.node_cidr_mask_size_ipv4)
        && mask <= i32::from(pod.prefix_len())
    {
        f.error(FieldError::invalid(
            p.child("nodeCidrMaskSizeIPv4"),
            mask,
            format!(
                "node CIDR mask size ({mask}) must be longer than the mask size of the pod CIDR ({:?})",
                pod.to_string()
            ),
        ));
    }
    if let (Some(Some(IpNet::V6(pod))), Some(mask)) = (pods.get(1), net.node_cidr_mask_size_ipv6)
        && mask <= i32::from(pod.prefix_len())
    {
        f.error(FieldError::invalid(
            p.child("nodeCidrMaskSizeIPv6"),
            mask,
            format!(
                "node CIDR mask size ({mask}) must be longer than the mask size of the pod CIDR ({:?})",
                pod.to_string()
            ),
        ));
    }
    match net.dns_domain.as_deref() {
        None | Some("") => f.error(FieldError::required(p.child("dnsDomain"), "")),
        Some("cluster.local") => {}
        Some(other) => f.error(FieldError::invalid(
            p.child("dnsDomain"),
            other,
            "must be cluster.local",
        )),
    }
    match net.proxy_mode.as_deref() {
        None | Some("") => f.error(FieldError::required(p.child("proxyMode"), "")),
        Some(mode) if !PROXY_MODES.contains(&mode) => {
            f.error(FieldError::not_supported(p.child("proxyMode"), mode, &PROXY_MODES))
        }
        Some("ebpf") => {
            let cni = spec.cni_plugin.as_ref().and_then(|c| c.type_.as_deref());
            if cni == Some("canal") {
                f.error(FieldError::forbidden(
                    p.child("proxyMode"),
                    "ebpf proxy mode needs a CNI other than canal",
                ));
            }
            if net.konnectivity_enabled != Some(true) {
                f.error(FieldError::forbidden(
                    p.child("proxyMode"),
                    "ebpf proxy mode needs Konnectivity",
                ));
            }
        }
        Some(_) => {}
    }
    if net.konnectivity_enabled == Some(false) {
        f.error(FieldError::forbidden(
            p.child("konnectivityEnabled"),
            "Konnectivity cannot be disabled; it is the only supported control plane to node connection",
        ));
    }
}
