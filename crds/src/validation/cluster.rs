//! KKP's static rules for a Cluster, on create and on update (KKP `ValidateClusterSpec`).

use std::net::IpAddr;

use base64::Engine;
use ipnet::IpNet;
use serde_json::Value;

use super::{Findings, cluster_network, names};
use crate::cluster::{Cluster, ClusterSpec, MAX_CLUSTER_NAME_LENGTH, PROJECT_ID_LABEL};
use crate::field::{FieldError, Path};
use crate::providers::Provider;
use crate::versions::{self, VersionCatalog};
use crate::{cni, schema};

pub const EXPOSE_STRATEGIES: [&str; 3] = ["NodePort", "LoadBalancer", "Tunneling"];

/// Validates a Cluster. `creating` selects the create-only rules (name, project label, offered
/// version); updates add [`super::validate_cluster_update`].
pub fn validate_cluster(cluster: &Cluster, catalog: &VersionCatalog, creating: bool) -> Findings {
    let mut f = Findings::default();
    if creating {
        validate_metadata(cluster, &mut f);
    }
    validate_spec(&cluster.spec, catalog, creating, &Path::root("spec"), &mut f);
    f
}

fn validate_metadata(cluster: &Cluster, f: &mut Findings) {
    let meta = Path::root("metadata");
    let name = cluster.metadata.name.as_deref().unwrap_or("");
    if name.is_empty() {
        f.error(FieldError::required(meta.child("name"), ""));
    } else if name.len() > MAX_CLUSTER_NAME_LENGTH {
        f.error(FieldError::invalid(
            meta.child("name"),
            name,
            format!("must be no more than {MAX_CLUSTER_NAME_LENGTH} characters"),
        ));
    } else if !names::is_dns1035_label(name) {
        f.error(FieldError::invalid(
            meta.child("name"),
            name,
            "a cluster name must be a DNS-1035 label: lower case letters, digits and '-', starting with a letter",
        ));
    }
    let project = cluster.metadata.labels.as_ref().and_then(|l| l.get(PROJECT_ID_LABEL));
    if project.is_none_or(|p| p.is_empty()) {
        f.error(FieldError::required(
            meta.child("labels").key(PROJECT_ID_LABEL),
            "every cluster belongs to a KKP project",
        ));
    }
}

fn validate_spec(spec: &ClusterSpec, catalog: &VersionCatalog, creating: bool, p: &Path, f: &mut Findings) {
    if spec.human_readable_name.as_deref().unwrap_or("").trim().is_empty() {
        f.error(FieldError::required(p.child("humanReadableName"), ""));
    }
    validate_version(spec, catalog, creating, p, f);

    if spec.use_pod_security_policy_admission_plugin == Some(true) {
        f.error(FieldError::forbidden(
            p.child("usePodSecurityPolicyAdmissionPlugin"),
            "PodSecurityPolicy was removed in Kubernetes 1.25",
        ));
    }
    for (i, plugin) in spec.admission_plugins.iter().flatten().enumerate() {
        if plugin == "PodSecurityPolicy" {
            f.error(FieldError::forbidden(
                p.child("admissionPlugins").index(i),
                "PodSecurityPolicy was removed in Kubernetes 1.25",
            ));
        }
    }
    match spec.container_runtime.as_deref() {
        None | Some("containerd") => {}
        Some(other) => f.error(FieldError::not_supported(
            p.child("containerRuntime"),
            other,
            &["containerd"],
        )),
    }
    validate_expose_strategy(spec, p, f);
    validate_cni(spec, p, f);
    validate_cloud(spec, creating, p, f);
    validate_machine_networks(spec, p, f);
    cluster_network::validate(spec, &p.child("clusterNetwork"), f);
    validate_components_override(spec, p, f);
    validate_encryption(spec, p, f);
    validate_event_rate_limit(spec, p, f);
    validate_auth(spec, p, f);
    validate_update_window(spec, p, f);
    deprecations(spec, p, f);
}

fn validate_version(spec: &ClusterSpec, catalog: &VersionCatalog, creating: bool, p: &Path, f: &mut Findings) {
    let path = p.child("version");
    let Some(raw) = spec.version.as_deref().filter(|v| !v.is_empty()) else {
        f.error(FieldError::required(path, ""));
        return;
    };
    match versions::parse(raw) {
        Err(e) => f.error(FieldError::invalid(path, raw, format!("not a semantic version: {e}"))),
        Ok(v) if creating && !catalog.offers(&v) => f.error(FieldError::invalid(
            path,
            raw,
            format!(
                "version is not offered; offered minors are {}",
                catalog.minors().join(", ")
            ),
        )),
        Ok(_) => {}
    }
}

fn validate_expose_strategy(spec: &ClusterSpec, p: &Path, f: &mut Findings) {
    let strategy = spec.expose_strategy.as_deref();
    if let Some(s) = strategy
        && !EXPOSE_STRATEGIES.contains(&s)
    {
        f.error(FieldError::not_supported(
            p.child("exposeStrategy"),
            s,
            &EXPOSE_STRATEGIES,
        ));
    }
    if let Some(ranges) = &spec.api_server_allowed_ip_ranges {
        let blocks = ranges.cidr_blocks.as_deref().unwrap_or_default();
        if !blocks.is_empty() && strategy != Some("LoadBalancer") {
            f.error(FieldError::forbidden(
                p.child("apiServerAllowedIPRanges"),
                "only allowed with exposeStrategy LoadBalancer",
            ));
        }
        for (i, cidr) in blocks.iter().enumerate() {
            if cidr.parse::<IpNet>().is_err() {
                f.error(FieldError::invalid(
                    p.child("apiServerAllowedIPRanges").child("cidrBlocks").index(i),
                    cidr.as_str(),
                    "not a valid CIDR",
                ));
            }
        }
    }
    let tunneling_ip = spec
        .cluster_network
        .as_ref()
        .and_then(|n| n.tunneling_agent_ip.as_deref());
    if let Some(ip) = tunneling_ip {
        let path = p.child("clusterNetwork").child("tunnelingAgentIP");
        if strategy != Some("Tunneling") {
            f.error(FieldError::forbidden(
                path,
                "only allowed with exposeStrategy Tunneling",
            ));
        } else if ip.parse::<IpAddr>().is_err() {
            f.error(FieldError::invalid(path, ip, "not a valid IP address"));
        }
    }
}

fn validate_cni(spec: &ClusterSpec, p: &Path, f: &mut Findings) {
    let Some(cni) = &spec.cni_plugin else { return };
    let path = p.child("cniPlugin");
    let Some(kind) = cni.type_.as_deref() else {
        f.error(FieldError::required(path.child("type"), ""));
        return;
    };
    if !cni::TYPES.contains(&kind) {
        f.error(FieldError::not_supported(path.child("type"), kind, &cni::TYPES));
        return;
    }
    let version = cni.version.as_deref().unwrap_or("");
    let supported = cni::supported_versions(kind);
    if cni::deprecated_versions(kind).contains(&version) {
        f.warn(format!(
            "{}: {kind} {version} is deprecated; update to {}",
            path.child("version"),
            supported.join(" or ")
        ));
    } else if !supported.contains(&version) {
        f.error(FieldError::not_supported(path.child("version"), version, supported));
    }
    let dual_stack = spec.cluster_network.as_ref().and_then(|n| n.ip_family.as_deref()) == Some("IPv4+IPv6");
    if dual_stack && kind == cni::CANAL && cni::minor_of(version).is_some_and(|v| v < (3, 22)) {
        f.error(FieldError::forbidden(
            path.child("version"),
            "dual-stack needs canal v3.22 or newer",
        ));
    }
}

fn validate_cloud(spec: &ClusterSpec, creating: bool, p: &Path, f: &mut Findings) {
    let path = p.child("cloud");
    let Some(cloud) = &spec.cloud else {
        f.error(FieldError::required(path, ""));
        return;
    };
    if cloud.dc.as_deref().unwrap_or("").is_empty() {
        f.error(FieldError::required(
            path.child("dc"),
            "the datacenter to run the cluster in",
        ));
    }
    let blocks = cloud.block_names();
    let provider_name = cloud.provider_name.as_deref().unwrap_or("");
    match blocks.as_slice() {
        [] => f.error(FieldError::required(
            path.clone(),
            format!(
                "exactly one provider block is needed, one of: {}",
                Provider::ALL.map(|p| p.name()).join(", ")
            ),
        )),
        [only] => {
            if !provider_name.is_empty() && provider_name != *only {
                f.error(FieldError::invalid(
                    path.child("providerName"),
                    provider_name,
                    format!("does not match the provider block {only:?}"),
                ));
            }
            if provider_name.is_empty() && creating {
                f.error(FieldError::required(path.child("providerName"), ""));
            }
            if let Some(provider) = Provider::from_name(only)
                && let Some(block) = cloud.block_value(provider)
            {
                f.errors.extend(schema::check(
                    schema::cluster_cloud_schema(provider),
                    &block,
                    &path.child(only),
                ));
            }
        }
        many => f.error(FieldError::forbidden(
            path.clone(),
            format!("exactly one provider block may be set, found {}", many.join(", ")),
        )),
    }
}

fn validate_machine_networks(spec: &ClusterSpec, p: &Path, f: &mut Findings) {
    let Some(networks) = spec.machine_networks.as_ref().filter(|n| !n.is_empty()) else {
        return;
    };
    let path = p.child("machineNetworks");
    let on_vsphere = spec.cloud.as_ref().is_some_and(|c| c.vsphere.is_some());
    if !on_vsphere {
        f.error(FieldError::forbidden(
            path.clone(),
            "machine networks are only supported on vsphere",
        ));
    }
    for (i, n) in networks.iter().enumerate() {
        let item = path.index(i);
        match n.cidr.as_deref() {
            None | Some("") => f.error(FieldError::required(item.child("cidr"), "")),
            Some(c) if c.parse::<IpNet>().is_err() => {
                f.error(FieldError::invalid(item.child("cidr"), c, "not a valid CIDR"))
            }
            _ => {}
        }
        match n.gateway.as_deref() {
            None | Some("") => f.error(FieldError::required(item.child("gateway"), "")),
            Some(g) if g.parse::<IpAddr>().is_err() => {
                f.error(FieldError::invalid(item.child("gateway"), g, "not a valid IP address"))
            }
            _ => {}
        }
        for (j, dns) in n.dns_servers.iter().flatten().enumerate() {
            if dns.parse::<IpAddr>().is_err() {
                f.error(FieldError::invalid(
                    item.child("dnsServers").index(j),
                    dns.as_str(),
                    "not a valid IP address",
                ));
            }
        }
    }
}

fn validate_components_override(spec: &ClusterSpec, p: &Path, f: &mut Findings) {
    let Some(overrides) = &spec.components_override else {
        return;
    };
    let path = p.child("componentsOverride");
    if let Some(range) = overrides.pointer("/apiserver/nodePortRange") {
        let text = range.as_str().unwrap_or("");
        if parse_port_range(text).is_none() {
            f.error(FieldError::invalid(
                path.child("apiserver").child("nodePortRange"),
                range.clone(),
                "must be a port range such as 30000-32767",
            ));
        }
    }
    let core_dns_here = overrides.pointer("/coreDNS/replicas").is_some();
    let core_dns_there = spec
        .cluster_network
        .as_ref()
        .and_then(|n| n.core_dns_replicas)
        .is_some();
    if core_dns_here && core_dns_there {
        f.error(FieldError::forbidden(
            path.child("coreDNS").child("replicas"),
            "set CoreDNS replicas here or in spec.clusterNetwork.coreDNSReplicas, not both",
        ));
    }
    if let Some(components) = overrides.as_object() {
        for (name, settings) in components {
            let le = path.child(name).child("leaderElection");
            let n = |k: &str| {
                settings
                    .pointer(&format!("/leaderElection/{k}"))
                    .and_then(Value::as_i64)
            };
            for key in ["leaseDurationSeconds", "renewDeadlineSeconds", "retryPeriodSeconds"] {
                if let Some(v) = n(key)
                    && v < 0
                {
                    f.error(FieldError::invalid(le.child(key), v, "must not be negative"));
                }
            }
            match (n("leaseDurationSeconds"), n("renewDeadlineSeconds")) {
                (Some(_), None) | (None, Some(_)) => f.error(FieldError::forbidden(
                    le.clone(),
                    "leaseDurationSeconds and renewDeadlineSeconds must be set together",
                )),
                (Some(lease), Some(renew)) if lease < renew => f.error(FieldError::invalid(
                    le.child("leaseDurationSeconds"),
                    lease,
                    "must not be shorter than renewDeadlineSeconds",
                )),
                _ => {}
            }
        }
    }
}

/// `30000-32767` into its bounds.
pub(crate) fn parse_port_range(s: &str) -> Option<(u16, u16)> {
    let (a, b) = s.split_once('-')?;
    let (a, b): (u16, u16) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
    (a > 0 && a <= b).then_some((a, b))
}

fn validate_encryption(spec: &ClusterSpec, p: &Path, f: &mut Findings) {
    let Some(enc) = spec
        .encryption_configuration
        .as_ref()
        .filter(|e| e.enabled == Some(true))
    else {
        return;
    };
    let path = p.child("encryptionConfiguration");
    let gate = spec.features.as_ref().and_then(|m| m.get("encryptionAtRest")) == Some(&true);
    if !gate {
        f.error(FieldError::forbidden(
            path.clone(),
            "needs the feature gate spec.features.encryptionAtRest",
        ));
    }
    if enc.resources.as_ref().is_none_or(|r| r.is_empty()) {
        f.error(FieldError::required(
            path.child("resources"),
            "at least one resource to encrypt",
        ));
    }
    if !enc.other.is_empty() {
        f.error(FieldError::forbidden(
            path.clone(),
            "only the secretbox provider is supported",
        ));
    }
    let Some(secretbox) = &enc.secretbox else {
        f.error(FieldError::required(
            path.child("secretbox"),
            "exactly one provider, secretbox, is needed",
        ));
        return;
    };
    let keys = secretbox.keys.as_deref().unwrap_or_default();
    if keys.is_empty() {
        f.error(FieldError::required(path.child("secretbox").child("keys"), ""));
    }
    for (i, key) in keys.iter().enumerate() {
        let kp = path.child("secretbox").child("keys").index(i);
        if key.name.as_deref().unwrap_or("").is_empty() {
            f.error(FieldError::required(kp.child("name"), ""));
        }
        match (key.value.as_deref(), key.secret_ref.is_some()) {
            (Some(_), true) => f.error(FieldError::forbidden(
                kp.clone(),
                "value and secretRef are mutually exclusive",
            )),
            (None, false) => f.error(FieldError::required(kp.clone(), "either value or secretRef")),
            (Some(v), false) => {
                let decoded = base64::engine::general_purpose::STANDARD.decode(v);
                if decoded.as_ref().map(Vec::len) != Ok(32) {
                    f.error(FieldError::invalid(
                        kp.child("value"),
                        "(redacted)",
                        "must be 32 bytes, base64 encoded",
                    ));
                }
            }
            (None, true) => {}
        }
    }
}

fn validate_event_rate_limit(spec: &ClusterSpec, p: &Path, f: &mut Findings) {
    let enabled = spec.use_event_rate_limit_admission_plugin == Some(true)
        || spec.admission_plugins.iter().flatten().any(|a| a == "EventRateLimit");
    let path = p.child("eventRateLimitConfig");
    let config = spec.event_rate_limit_config.as_ref();
    let buckets = config.map(|c| {
        [
            ("server", &c.server),
            ("namespace", &c.namespace),
            ("user", &c.user),
            ("sourceAndObject", &c.source_and_object),
        ]
    });
    if enabled && buckets.as_ref().is_none_or(|b| b.iter().all(|(_, v)| v.is_none())) {
        f.error(FieldError::required(
            path.clone(),
            "the EventRateLimit plugin needs at least one limit",
        ));
    }
    for (name, item) in buckets.into_iter().flatten() {
        let Some(item) = item else { continue };
        for (key, value, min) in [
            ("qps", item.qps, 1),
            ("burst", item.burst, 1),
            ("cacheSize", item.cache_size, 0),
        ] {
            if let Some(v) = value.filter(|v| *v < min) {
                f.error(FieldError::invalid(
                    path.child(name).child(key),
                    v,
                    format!("must be at least {min}"),
                ));
            }
        }
    }
}

fn validate_auth(spec: &ClusterSpec, p: &Path, f: &mut Findings) {
    let issuer = spec.oidc.as_ref().and_then(|o| o.issuer_url.as_deref()).unwrap_or("");
    if spec.authentication_configuration.is_some() && !issuer.is_empty() {
        f.error(FieldError::forbidden(
            p.child("authenticationConfiguration"),
            "cannot be used together with spec.oidc.issuerURL",
        ));
    }
    if let Some(authz) = &spec.authorization_config
        && authz.get("authorizationWebhookConfiguration").is_some()
        && authz.get("authorizationConfigurationFile").is_some()
    {
        f.error(FieldError::forbidden(
            p.child("authorizationConfig"),
            "authorizationWebhookConfiguration and authorizationConfigurationFile are mutually exclusive",
        ));
    }
}

fn validate_update_window(spec: &ClusterSpec, p: &Path, f: &mut Findings) {
    let Some(window) = &spec.update_window else { return };
    let path = p.child("updateWindow");
    if let Some(start) = window.start.as_deref().filter(|s| !s.is_empty())
        && !is_window_start(start)
    {
        f.error(FieldError::invalid(
            path.child("start"),
            start,
            "must be a time such as 22:30 or Mon 21:00",
        ));
    }
    if let Some(length) = window.length.as_deref().filter(|s| !s.is_empty())
        && !is_go_duration(length)
    {
        f.error(FieldError::invalid(
            path.child("length"),
            length,
            "must be a duration such as 1h30m",
        ));
    }
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
    matches!((h.parse::<u8>(), m.parse::<u8>()), (Ok(h), Ok(m)) if h < 24 && m < 60 && m_len(time))
}

fn m_len(time: &str) -> bool {
    time.split(':').nth(1).is_some_and(|m| m.len() == 2)
}

/// A Go `time.Duration` string such as `1h30m` or `90s`.
pub(crate) fn is_go_duration(s: &str) -> bool {
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

fn deprecations(spec: &ClusterSpec, p: &Path, f: &mut Findings) {
    if spec.oidc.as_ref().is_some_and(|o| o.issuer_url.is_some()) {
        f.warn(format!(
            "{}: deprecated; use spec.authenticationConfiguration",
            p.child("oidc")
        ));
    }
    if spec.enable_operating_system_manager.is_some() {
        f.warn(format!(
            "{}: deprecated and has no effect",
            p.child("enableOperatingSystemManager")
        ));
    }
    if spec
        .cluster_network
        .as_ref()
        .and_then(|n| n.core_dns_replicas)
        .is_some()
    {
        f.warn(format!(
            "{}: deprecated; use spec.componentsOverride.coreDNS.replicas",
            p.child("clusterNetwork").child("coreDNSReplicas")
        ));
    }
    let cloud = p.child("cloud");
    if let Some(c) = &spec.cloud {
        if c.vsphere.as_ref().is_some_and(|v| v.vm_net_name.is_some()) {
            f.warn(format!(
                "{}: deprecated; use networks",
                cloud.child("vsphere").child("vmNetName")
            ));
        }
        if c.kubevirt.as_ref().is_some_and(|k| k.infra_storage_classes.is_some()) {
            f.warn(format!(
                "{}: deprecated; use storageClasses",
                cloud.child("kubevirt").child("infraStorageClasses")
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_ranges() {
        assert_eq!(parse_port_range("30000-32767"), Some((30000, 32767)));
        assert_eq!(parse_port_range("32767-30000"), None);
        assert_eq!(parse_port_range("abc"), None);
    }

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
