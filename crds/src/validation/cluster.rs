//! KKP's static rules for a Cluster, on create and on update (KKP `ValidateClusterSpec`).

use std::net::IpAddr;

use base64::Engine;
use ipnet::IpNet;
use serde_json::Value;

use super::cluster_facts::{Site, external_ccm};
use super::findings::Findings;
use super::{cluster_cloud, cluster_network, cluster_project_rules, names};
use crate::cloud_controller::{self, EXTERNAL_CLOUD_PROVIDER};
use crate::cluster::{Cluster, ClusterSpec, MAX_CLUSTER_NAME_LENGTH, PROJECT_ID_LABEL};
use crate::cni;
use crate::context::Context;
use crate::field::{FieldError, Path};
use crate::versions::{self, IncompatibilityCondition, IncompatibilityOperation, VersionCatalog};

pub const EXPOSE_STRATEGIES: [&str; 3] = ["NodePort", "LoadBalancer", "Tunneling"];
const POD_SECURITY_POLICY: &str = "PodSecurityPolicy";

/// Validates a Cluster. `creating` selects the create-only rules (name, project label, offered
/// version, PodSecurityPolicy) and the project's own rules; updates add
/// [`super::validate_cluster_update`], which judges the version change and the project's rules
/// against the stored object.
pub fn validate_cluster(cluster: &Cluster, ctx: &Context, creating: bool) -> Findings {
    let mut f = Findings::default();
    if creating {
        validate_metadata(cluster, &mut f);
    }
    let p = Path::root("spec");
    validate_spec(&cluster.spec, ctx, creating, &p, &mut f);
    if creating {
        validate_new_version(&cluster.spec, &ctx.versions, &p, &mut f);
        cluster_cloud::validate_new(&cluster.spec, &p.child("cloud"), &mut f);
        f.extend(cluster_project_rules::validate(cluster, None));
    }
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

/// The rules KKP runs on the spec on create and again on the new object of every update.
fn validate_spec(spec: &ClusterSpec, ctx: &Context, creating: bool, p: &Path, f: &mut Findings) {
    let site = Site::of(spec, ctx);
    if spec.human_readable_name.as_deref().unwrap_or("").is_empty() {
        f.error(FieldError::required(p.child("humanReadableName"), "no name specified"));
    }
    validate_version_syntax(spec, p, f);
    match spec.container_runtime.as_deref() {
        None | Some("containerd") => {}
        Some(other) => f.error(FieldError::not_supported(
            p.child("containerRuntime"),
            other,
            &["containerd"],
        )),
    }
    validate_expose_strategy(spec, p, f);
    validate_external_ccm(spec, &site, &ctx.versions, p, f);
    validate_cni(spec, p, f);
    cluster_cloud::validate(spec, &site, creating, &p.child("cloud"), f);
    validate_machine_networks(spec, p, f);
    cluster_network::validate(spec, &p.child("clusterNetwork"), f);
    validate_components_override(spec, p, f);
    validate_encryption(spec, p, f);
    validate_event_rate_limit(spec, p, f);
    validate_auth(spec, p, f);
    deprecations(spec, p, f);
    datacenter_warning(spec, &site, ctx, f);
}

/// A datacenter the engine does not know: the rules that need it were skipped. Said when the
/// platform's datacenters are known and this one is not among them, or when a skipped rule
/// decides something about this cluster.
fn datacenter_warning(spec: &ClusterSpec, site: &Site<'_>, ctx: &Context, f: &mut Findings) {
    if site.datacenter.is_some() || site.name.is_empty() {
        return;
    }
    let relevant =
        ctx.datacenters.is_some() || cloud_controller::support(spec, None, &ctx.versions).depends_on_datacenter;
    if relevant {
        f.warn(format!(
            "kkp: datacenter {:?} is not known here; rules that depend on it were skipped",
            site.name
        ));
    }
}

fn validate_version_syntax(spec: &ClusterSpec, p: &Path, f: &mut Findings) {
    let path = p.child("version");
    match spec.version.as_deref().filter(|v| !v.is_empty()) {
        None => f.error(FieldError::required(path, "version is required but was not specified")),
        Some(raw) => {
            if let Err(e) = versions::parse(raw) {
                f.error(FieldError::invalid(path, raw, format!("not a semantic version: {e}")));
            }
        }
    }
}

/// On create, the version must be one the platform offers for the provider (KKP's
/// `GetVersionsForProvider`), and PodSecurityPolicy may not be asked for.
fn validate_new_version(spec: &ClusterSpec, catalog: &VersionCatalog, p: &Path, f: &mut Findings) {
    let Some(version) = spec.version.as_deref().and_then(|v| versions::parse(v).ok()) else {
        return;
    };
    let provider = cloud_controller::cluster_provider(spec).unwrap_or_default();
    let ccm = crate::defaulting::provider_has_ccm(spec).then(|| external_ccm(spec));
    let offered: Vec<String> = catalog
        .versions
        .iter()
        .filter(|v| catalog_incompatible(catalog, &provider, ccm, IncompatibilityOperation::Create, v).is_none())
        .map(ToString::to_string)
        .collect();
    if !offered.contains(&version.to_string()) {
        f.error(FieldError::not_supported(
            p.child("version"),
            version.to_string(),
            &offered,
        ));
        return;
    }
    validate_pod_security_policy(spec, p, f);
}

/// The incompatibility that blocks `version` for `operation`; `ccm` is `None` for providers
/// without a cloud controller manager, for which only unconditional incompatibilities apply.
pub(crate) fn catalog_incompatible<'c>(
    catalog: &'c VersionCatalog,
    provider: &str,
    ccm: Option<bool>,
    operation: IncompatibilityOperation,
    version: &semver::Version,
) -> Option<&'c versions::ProviderIncompatibility> {
    match ccm {
        Some(external) => catalog.incompatibility(provider, external, operation, version),
        None => catalog.incompatibilities.iter().find(|i| {
            i.operation == operation
                && i.condition == IncompatibilityCondition::Always
                && (i.provider.is_empty() || i.provider == provider)
                && i.version.matches(version)
        }),
    }
}

/// KKP checks PodSecurityPolicy with the version: on create and when the version changes.
pub(crate) fn validate_pod_security_policy(spec: &ClusterSpec, p: &Path, f: &mut Findings) {
    let asked = spec.use_pod_security_policy_admission_plugin == Some(true)
        || spec
            .admission_plugins
            .iter()
            .flatten()
            .any(|a| a == POD_SECURITY_POLICY);
    if asked {
        f.error(FieldError::forbidden(
            p.child("version"),
            "admission plugin \"PodSecurityPolicy\" is not supported in Kubernetes v1.25 and later",
        ));
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
    let ranges = spec
        .api_server_allowed_ip_ranges
        .as_ref()
        .and_then(|r| r.cidr_blocks.as_deref())
        .unwrap_or_default();
    if !ranges.is_empty() && strategy != Some("LoadBalancer") {
        f.error(FieldError::forbidden(
            p.child("apiServerAllowedIPRanges"),
            "only allowed with exposeStrategy LoadBalancer",
        ));
    }
    let tunneling_ip = spec
        .cluster_network
        .as_ref()
        .and_then(|n| n.tunneling_agent_ip.as_deref())
        .filter(|ip| !ip.is_empty());
    if tunneling_ip.is_some() && strategy != Some("Tunneling") {
        f.error(FieldError::forbidden(
            p.child("clusterNetwork").child("tunnelingAgentIP"),
            "only allowed with exposeStrategy Tunneling",
        ));
    }
}

/// An explicit `externalCloudProvider: true` must be supported for the provider, datacenter and
/// version. Where the answer depends on a datacenter that is not known, the rule is skipped.
fn validate_external_ccm(spec: &ClusterSpec, site: &Site<'_>, catalog: &VersionCatalog, p: &Path, f: &mut Findings) {
    if !external_ccm(spec) {
        return;
    }
    let support = cloud_controller::support(spec, site.datacenter, catalog);
    if !support.supported && !support.depends_on_datacenter {
        f.error(FieldError::invalid(
            p.child("features").key(EXTERNAL_CLOUD_PROVIDER),
            true,
            "external cloud-controller-manager is not supported for this cluster / provider combination",
        ));
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
    if !cni::is_allowed(kind, version) {
        f.error(FieldError::not_supported(
            path.child("version"),
            version,
            &cni::allowed_versions(kind),
        ));
    }
    let dual_stack = spec.cluster_network.as_ref().and_then(|n| n.ip_family.as_deref()) == Some("IPv4+IPv6");
    let old_canal = cni::parse_version(version).is_ok_and(|v| (v.major, v.minor) < (3, 22));
    if dual_stack && kind == cni::CANAL && old_canal {
        f.error(FieldError::forbidden(
            path,
            "dual-stack not allowed on Canal CNI version lower than 3.22",
        ));
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
    if let Some(range) = overrides.pointer("/apiserver/nodePortRange").filter(|r| !r.is_null()) {
        let range_path = path.child("apiserver").child("nodePortRange");
        match range.as_str().map(parse_port_range) {
            Some(Ok((base, size))) if base > 0 && size > 0 => {}
            Some(Ok(_)) => f.error(FieldError::invalid(range_path, range.clone(), "invalid nodeport range")),
            Some(Err(e)) => f.error(FieldError::invalid(range_path, range.clone(), e.to_string())),
            None => f.error(FieldError::invalid(range_path, range.clone(), "must be a string")),
        }
    }
    let here = overrides.pointer("/coreDNS/replicas").and_then(Value::as_i64);
    let there = spec.cluster_network.as_ref().and_then(|n| n.core_dns_replicas);
    if let (Some(here), Some(there)) = (here, there)
        && here != i64::from(there)
    {
        f.error(FieldError::invalid(
            path.child("coreDNS").child("replicas"),
            here,
            "both the new spec.componentsOverride.coreDNS.replicas and deprecated spec.clusterNetwork.coreDNSReplicas fields are set",
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

/// Why a port range does not parse, in the words of Kubernetes' `ParsePortRange`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PortRangeError {
    #[error("unable to parse port range: {0}")]
    Syntax(String),
    #[error("the port range cannot be greater than 65535: {0}")]
    TooHigh(String),
    #[error("end port cannot be less than start port: {0}")]
    Reversed(String),
}

/// Kubernetes' `ParsePortRange`: `N`, `N-M` or `N+K` into base and size; `""` is base 0, size 0.
pub(crate) fn parse_port_range(value: &str) -> Result<(i64, i64), PortRangeError> {
    let value = value.trim();
    if value.is_empty() {
        return Ok((0, 0));
    }
    let syntax = || PortRangeError::Syntax(value.to_owned());
    let number = |s: &str| s.parse::<i64>().map_err(|_| syntax());
    let (low, high) = match (value.find('-'), value.find('+')) {
        (None, None) => {
            let port = number(value)?;
            (port, port)
        }
        (Some(i), None) => (number(&value[..i])?, number(&value[i + 1..])?),
        (None, Some(i)) => {
            let low = number(&value[..i])?;
            (low, low.checked_add(number(&value[i + 1..])?).ok_or_else(syntax)?)
        }
        (Some(_), Some(_)) => return Err(syntax()),
    };
    if low > 65535 || high > 65535 {
        return Err(PortRangeError::TooHigh(value.to_owned()));
    }
    if high < low {
        return Err(PortRangeError::Reversed(value.to_owned()));
    }
    Ok((low, 1 + high - low))
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
    if let Some(authn) = &spec.authentication_configuration {
        let path = p.child("authenticationConfiguration");
        if !issuer.is_empty() {
            f.error(FieldError::forbidden(
                path.clone(),
                "cannot be used together with spec.oidc.issuerURL",
            ));
        }
        for (key, value) in [("secretName", &authn.secret_name), ("secretKey", &authn.secret_key)] {
            if value.as_deref().unwrap_or("").is_empty() {
                f.error(FieldError::required(
                    path.child(key),
                    "the Secret that holds the AuthenticationConfiguration",
                ));
            }
        }
    }
    if let Some(authz) = &spec.authorization_config
        && authorization_webhook_enabled(authz)
        && authorization_file_enabled(authz)
    {
        f.error(FieldError::forbidden(
            p.child("authorizationConfig"),
            "AuthorizationWebhookConfiguration and AuthorizationConfigurationFile cannot be used together",
        ));
    }
}

fn names_a_secret_key(config: Option<&Value>) -> bool {
    let set = |k: &str| {
        config
            .and_then(|c| c.get(k))
            .and_then(Value::as_str)
            .is_some_and(|s| !s.is_empty())
    };
    set("secretName") && set("secretKey")
}

/// KKP's `IsWebhookAuthorizationEnabled`: the Webhook mode is on and its Secret is named.
fn authorization_webhook_enabled(authz: &Value) -> bool {
    let webhook_mode = authz
        .get("enabledModes")
        .and_then(Value::as_array)
        .is_some_and(|modes| modes.iter().any(|m| m == "Webhook"));
    webhook_mode && names_a_secret_key(authz.get("authorizationWebhookConfiguration"))
}

/// KKP's `IsAuthorizationConfigurationFileEnabled`: the file's Secret is named.
fn authorization_file_enabled(authz: &Value) -> bool {
    names_a_secret_key(authz.get("authorizationConfigurationFile"))
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
    fn port_ranges_parse_like_kubernetes() {
        assert_eq!(parse_port_range("30000-32767"), Ok((30000, 2768)));
        assert_eq!(parse_port_range("0"), Ok((0, 1)));
        assert_eq!(parse_port_range("30000"), Ok((30000, 1)));
        assert_eq!(parse_port_range("30000+100"), Ok((30000, 101)));
        assert!(parse_port_range("32767-30000").is_err());
        assert!(parse_port_range("30000 - 32767").is_err());
        assert!(parse_port_range("abc").is_err());
        assert!(parse_port_range("70000").is_err());
        assert_eq!(parse_port_range(""), Ok((0, 0)));
    }
}
