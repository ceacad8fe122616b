//! machine-controller's rules for a MachineDeployment (its admission webhook), plus KKP's kubelet skew.
//!
//! machine-controller decodes the provider configuration into Go structs, so a Go zero value
//! (`null`, `""`, `0`, an empty list) means "not set" everywhere here, and unknown keys are refused.

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::Value;

use super::findings::Findings;
use super::{names, selector, ssh};
use crate::defaulting;
use crate::field::{FieldError, Path};
use crate::label_selector::selector_matches;
use crate::machine::{MachineDeployment, MachineSpec, ProviderConfig};
use crate::providers::{MACHINE_CONTROLLER_PROVIDERS, OperatingSystem, Provider};
use crate::schema;
use crate::semver_coerce;
use crate::versions;

/// The keys of machine-controller's `providerconfig.Config`, which it decodes strictly.
const PROVIDER_CONFIG_KEYS: [&str; 8] = [
    "sshPublicKeys",
    "caPublicKey",
    "cloudProvider",
    "cloudProviderSpec",
    "operatingSystem",
    "operatingSystemSpec",
    "network",
    "overwriteCloudConfig",
];

/// The keys of its `NetworkConfig` and `DNSConfig`.
const NETWORK_KEYS: [&str; 4] = ["cidr", "gateway", "dns", "ipFamily"];
const DNS_KEYS: [&str; 1] = ["servers"];

/// machine-controller's IP families; empty means IPv4.
const IP_FAMILIES: [&str; 5] = ["", "IPv4", "IPv6", "IPv4+IPv6", "IPv6+IPv4"];

const UNKNOWN_FIELD: &str = "unknown field; machine-controller rejects it";

/// What the machine template is checked against.
struct TemplateContext<'a> {
    cluster_version: Option<&'a semver::Version>,
    /// The kubelet of the stored object on UPDATE; `None` on CREATE.
    old_kubelet: Option<Option<&'a str>>,
}

/// Validates a MachineDeployment. The machine template is checked on create, and on update only
/// when `template.spec` changed, as machine-controller does. `cluster_version`, when known, enables
/// KKP's kubelet skew rule.
pub fn validate_machine_deployment(
    md: &MachineDeployment,
    old: Option<&MachineDeployment>,
    cluster_version: Option<&semver::Version>,
) -> Findings {
    let mut f = Findings::default();
    let spec_path = Path::root("spec");
    if let Some(name) = md.metadata.name.as_deref()
        && !names::is_dns1123_subdomain(name)
    {
        f.error(FieldError::invalid(
            Path::root("metadata").child("name"),
            name,
            "must be a DNS-1123 subdomain: lower case letters, digits, '-' and '.'",
        ));
    }
    let spec = &md.spec;
    if let Some(r) = spec.replicas.filter(|r| *r < 0) {
        f.error(FieldError::invalid(
            spec_path.child("replicas"),
            r,
            "must be greater than or equal to 0",
        ));
    }
    validate_selector(md, &spec_path, &mut f);
    validate_strategy(md, &spec_path, &mut f);

    let template_spec = spec.template.as_ref().and_then(|t| t.spec.as_ref());
    let old_template_spec = old.and_then(|o| o.spec.template.as_ref()).and_then(|t| t.spec.as_ref());
    let template_changed = old.is_none() || template_spec != old_template_spec;
    let machine_path = spec_path.child("template").child("spec");
    match template_spec {
        None => f.error(FieldError::required(machine_path, "")),
        Some(machine) if template_changed => {
            let ctx = TemplateContext {
                cluster_version,
                old_kubelet: old.map(|_| {
                    old_template_spec
                        .and_then(|m| m.versions.as_ref())
                        .and_then(|v| v.kubelet.as_deref())
                }),
            };
            validate_machine_spec(machine, &ctx, &machine_path, &mut f)
        }
        // machine-controller decodes the provider configuration strictly on every request.
        Some(machine) => {
            provider_config(machine, &machine_path, &mut f);
        }
    }
    f
}

fn validate_selector(md: &MachineDeployment, p: &Path, f: &mut Findings) {
    let path = p.child("selector");
    let Some(sel) = &md.spec.selector else {
        f.error(FieldError::required(path, ""));
        return;
    };
    let empty = sel.match_labels.as_ref().is_none_or(|m| m.is_empty())
        && sel.match_expressions.as_ref().is_none_or(|m| m.is_empty());
    if empty {
        f.error(FieldError::invalid(
            path,
            "{}",
            "empty selector is invalid for deployment",
        ));
        return;
    }
    for (key, value) in sel.match_labels.iter().flatten() {
        if let Some(why) = selector::label_key_problem(key) {
            f.error(FieldError::invalid(path.child("matchLabels"), key.as_str(), why));
        }
        if let Some(why) = selector::label_value_problem(value) {
            f.error(FieldError::invalid(path.child("matchLabels"), value.as_str(), why));
        }
    }
    for (i, expr) in sel.match_expressions.iter().flatten().enumerate() {
        let ep = path.child("matchExpressions").index(i);
        if let Some(why) = selector::label_key_problem(&expr.key) {
            f.error(FieldError::invalid(ep.child("key"), expr.key.as_str(), why));
        }
        for (j, value) in expr.values.iter().flatten().enumerate() {
            if let Some(why) = selector::label_value_problem(value) {
                f.error(FieldError::invalid(ep.child("values").index(j), value.as_str(), why));
            }
        }
        let ops = ["In", "NotIn", "Exists", "DoesNotExist"];
        if !ops.contains(&expr.operator.as_str()) {
            f.error(FieldError::not_supported(
                ep.child("operator"),
                expr.operator.as_str(),
                &ops,
            ));
        }
        let has_values = expr.values.as_ref().is_some_and(|v| !v.is_empty());
        match expr.operator.as_str() {
            "In" | "NotIn" if !has_values => f.error(FieldError::required(
                ep.child("values"),
                "must be specified for In and NotIn",
            )),
            "Exists" | "DoesNotExist" if has_values => f.error(FieldError::forbidden(
                ep.child("values"),
                "may not be specified for Exists and DoesNotExist",
            )),
            _ => {}
        }
    }
    let labels = md
        .spec
        .template
        .as_ref()
        .and_then(|t| t.metadata.as_ref())
        .and_then(|m| m.labels.clone());
    if !selector_matches(sel, &labels.unwrap_or_default()) {
        f.error(FieldError::invalid(
            p.child("template").child("metadata").child("labels"),
            serde_json::to_value(
                md.spec
                    .template
                    .as_ref()
                    .and_then(|t| t.metadata.as_ref())
                    .and_then(|m| m.labels.as_ref()),
            )
            .unwrap_or_default(),
            "`selector` does not match template `labels`",
        ));
    }
}

/// An IntOrString as a count or percentage; `None` when malformed.
fn int_or_percent(v: &IntOrString) -> Option<(i64, bool)> {
    match v {
        IntOrString::Int(i) => Some((i64::from(*i), false)),
        IntOrString::String(s) => s.strip_suffix('%').and_then(|n| n.parse().ok()).map(|n| (n, true)),
    }
}

fn validate_strategy(md: &MachineDeployment, p: &Path, f: &mut Findings) {
    let Some(strategy) = &md.spec.strategy else { return };
    let path = p.child("strategy");
    // machine-controller defaults an empty type before it validates.
    if let Some(t) = strategy.type_.as_deref()
        && !t.is_empty()
        && t != defaulting::ROLLING_UPDATE
    {
        f.error(FieldError::not_supported(
            path.child("type"),
            t,
            &[defaulting::ROLLING_UPDATE],
        ));
    }
    let Some(rolling) = &strategy.rolling_update else {
        return;
    };
    let rp = path.child("rollingUpdate");
    let mut parsed = |v: &Option<IntOrString>, key: &str| -> Option<(i64, bool)> {
        let v = v.as_ref()?;
        match int_or_percent(v) {
            None => {
                f.error(FieldError::invalid(
                    rp.child(key),
                    serde_json::to_value(v).unwrap_or_default(),
                    "must be an integer or a percentage such as 25%",
                ));
                None
            }
            Some((n, _)) if n < 0 => {
                f.error(FieldError::invalid(
                    rp.child(key),
                    serde_json::to_value(v).unwrap_or_default(),
                    "must be greater than or equal to 0",
                ));
                None
            }
            ok => ok,
        }
    };
    let unavailable = parsed(&rolling.max_unavailable, "maxUnavailable");
    let surge = parsed(&rolling.max_surge, "maxSurge");
    if let Some((n, true)) = unavailable
        && n > 100
    {
        f.error(FieldError::invalid(
            rp.child("maxUnavailable"),
            format!("{n}%"),
            "must not be greater than 100%",
        ));
    }
    if matches!(unavailable, Some((0, _))) && matches!(surge, Some((0, _))) {
        f.error(FieldError::invalid(
            rp.child("maxUnavailable"),
            0,
            "may not be 0 when maxSurge is 0",
        ));
    }
}

fn validate_machine_spec(machine: &MachineSpec, ctx: &TemplateContext<'_>, p: &Path, f: &mut Findings) {
    if machine.config_source.is_some() {
        f.error(FieldError::forbidden(
            p.child("configSource"),
            "dynamic kubelet configuration is not supported",
        ));
    }
    validate_kubelet(machine, ctx, &p.child("versions").child("kubelet"), f);
    if let Some(config) = provider_config(machine, p, f) {
        validate_provider_config(config, &p.child("providerSpec").child("value"), f);
    }
}

/// The provider configuration as machine-controller decodes it: `providerSpec.value` (never
/// `valueFrom`) with only the keys of its `Config` and `NetworkConfig`. Reports what does not
/// decode and returns the configuration when it is there.
fn provider_config<'a>(machine: &'a MachineSpec, p: &Path, f: &mut Findings) -> Option<&'a ProviderConfig> {
    let ps = p.child("providerSpec");
    let Some(provider_spec) = &machine.provider_spec else {
        f.error(FieldError::required(ps, ""));
        return None;
    };
    let vp = ps.child("value");
    let Some(config) = &provider_spec.value else {
        let detail = if provider_spec.value_from.is_some() {
            "machine-controller reads the provider configuration from value only, not valueFrom"
        } else {
            ""
        };
        f.error(FieldError::required(vp, detail));
        return None;
    };
    for key in config.other.keys() {
        if !PROVIDER_CONFIG_KEYS.contains(&key.as_str()) {
            f.error(FieldError::forbidden(vp.child(key), UNKNOWN_FIELD));
        }
    }
    if let Some(network) = config.network.as_ref().and_then(Value::as_object) {
        let np = vp.child("network");
        for key in network.keys() {
            if !NETWORK_KEYS.contains(&key.as_str()) {
                f.error(FieldError::forbidden(np.child(key), UNKNOWN_FIELD));
            }
        }
        for key in network
            .get("dns")
            .and_then(Value::as_object)
            .into_iter()
            .flat_map(|d| d.keys())
        {
            if !DNS_KEYS.contains(&key.as_str()) {
                f.error(FieldError::forbidden(np.child("dns").child(key), UNKNOWN_FIELD));
            }
        }
    }
    Some(config)
}

/// The kubelet version: required, a version as Masterminds semver reads it (`1.35` is `1.35.0`),
/// not a pre-release (machine-controller's default constraint `>=0.0.0` excludes them), and, when
/// the cluster's version is known, within KKP's skew. The skew is this project's own rule: it
/// refuses a new or changed kubelet and only warns about one an update leaves alone.
fn validate_kubelet(machine: &MachineSpec, ctx: &TemplateContext<'_>, path: &Path, f: &mut Findings) {
    let kubelet = machine
        .versions
        .as_ref()
        .and_then(|v| v.kubelet.as_deref())
        .filter(|k| !k.is_empty());
    let Some(k) = kubelet else {
        f.error(FieldError::required(
            path.clone(),
            "the kubelet version of the machines",
        ));
        return;
    };
    let kv = match semver_coerce::coerce(k) {
        Err(e) => {
            f.error(FieldError::invalid(
                path.clone(),
                k,
                format!("not a semantic version: {e}"),
            ));
            return;
        }
        Ok(kv) if !kv.pre.is_empty() => {
            f.error(FieldError::invalid(
                path.clone(),
                k,
                "pre-release versions are not allowed: machine-controller's version constraint >=0.0.0 excludes them",
            ));
            return;
        }
        Ok(kv) => kv,
    };
    let Some(why) = ctx
        .cluster_version
        .and_then(|cp| versions::kubelet_skew_refusal(cp, &kv))
    else {
        return;
    };
    let changed = ctx.old_kubelet.is_none_or(|old| old != Some(k));
    if changed {
        f.error(FieldError::invalid(path.clone(), k, why));
    } else {
        f.warn(format!("{path}: {why}"));
    }
}

fn validate_provider_config(config: &ProviderConfig, vp: &Path, f: &mut Findings) {
    for (i, key) in config.ssh_public_keys.iter().flatten().enumerate() {
        if let Err(why) = ssh::parse_authorized_key(key) {
            f.error(FieldError::invalid(
                vp.child("sshPublicKeys").index(i),
                key.as_str(),
                why,
            ));
        }
    }
    let provider = validate_cloud_provider(config, vp, f);
    validate_network(config, provider, &vp.child("network"), f);
    let spec = config.cloud_provider_spec.as_ref().filter(|s| !s.is_null());
    let os = match config.operating_system.as_deref() {
        None | Some("") => {
            f.error(FieldError::required(vp.child("operatingSystem"), ""));
            None
        }
        Some(name) => {
            let os = OperatingSystem::from_name(name);
            let allowed = provider.map_or(&OperatingSystem::ALL[..], |p| {
                p.operating_systems_for(spec.unwrap_or(&Value::Null))
                    .operating_systems()
            });
            if os.is_none_or(|os| !allowed.contains(&os)) {
                let names: Vec<&str> = allowed.iter().map(|o| o.name()).collect();
                f.error(FieldError::not_supported(vp.child("operatingSystem"), name, &names));
            }
            os
        }
    };
    if let Some(provider) = provider {
        let sp = vp.child("cloudProviderSpec");
        match spec {
            None => f.error(FieldError::required(sp, "")),
            Some(spec) => {
                let checked = schema::without_nulls(spec);
                f.errors
                    .extend(schema::check(schema::machine_cloud_schema(provider), &checked, &sp));
                if checked.is_object() {
                    f.errors.extend((provider.descriptor().machine_rules)(&checked, &sp));
                }
            }
        }
    }
    if let Some(os) = os
        && let Some(spec) = config.operating_system_spec.as_ref().filter(|s| !s.is_null())
    {
        // machine-controller does not check the OS settings at admission: say what is odd, refuse nothing.
        let checked = schema::without_nulls(spec);
        let osp = vp.child("operatingSystemSpec");
        for e in schema::check(schema::os_schema(os), &checked, &osp) {
            f.warn(format!("{e} (machine-controller ignores it)"));
        }
    }
}

/// The modelled provider of `cloudProvider`, when it is one. machine-controller's other providers
/// are admitted with a warning that only the generic rules applied; anything else is refused.
fn validate_cloud_provider(config: &ProviderConfig, vp: &Path, f: &mut Findings) -> Option<Provider> {
    let path = vp.child("cloudProvider");
    match config.cloud_provider.as_deref() {
        None | Some("") => {
            f.error(FieldError::required(path, ""));
            None
        }
        Some(name) => {
            if let Some(p) = Provider::from_machine_name(name) {
                return Some(p);
            }
            if MACHINE_CONTROLLER_PROVIDERS.contains(&name) {
                f.warn(format!(
                    "{path}: {name:?} is a machine-controller provider this webhook does not model; only the generic \
                     MachineDeployment rules were applied"
                ));
            } else {
                let mut names = MACHINE_CONTROLLER_PROVIDERS.to_vec();
                names.sort_unstable();
                f.error(FieldError::not_supported(path, name, &names));
            }
            None
        }
    }
}

/// `network.ipFamily`: one machine-controller knows, IPv6-only where the provider supports it.
fn validate_network(config: &ProviderConfig, provider: Option<Provider>, np: &Path, f: &mut Findings) {
    let Some(network) = config.network.as_ref().and_then(Value::as_object) else {
        return;
    };
    let Some(family) = network.get("ipFamily").and_then(Value::as_str) else {
        return;
    };
    if !IP_FAMILIES.contains(&family) {
        f.error(FieldError::not_supported(
            np.child("ipFamily"),
            family,
            &IP_FAMILIES[1..],
        ));
    } else if family == "IPv6" && provider.is_some_and(|p| !p.descriptor().ipv6_only) {
        f.error(FieldError::invalid(
            np.child("ipFamily"),
            family,
            "IPv6-only network family not supported yet",
        ));
    }
}
