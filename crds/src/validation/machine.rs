//! machine-controller's rules for a MachineDeployment (its admission webhook), plus KKP's kubelet skew.

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::Value;

use super::{Findings, names, selector, ssh};
use crate::defaulting;
use crate::field::{FieldError, Path};
use crate::machine::{MachineDeployment, MachineSpec};
use crate::providers::{OperatingSystem, Provider};
use crate::schema;
use crate::versions;

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
        Some(machine) if template_changed => validate_machine_spec(machine, cluster_version, &machine_path, &mut f),
        Some(_) => {}
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
    for (i, expr) in sel.match_expressions.iter().flatten().enumerate() {
        let ep = path.child("matchExpressions").index(i);
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
    if !selector::selector_matches(sel, &labels.unwrap_or_default()) {
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
    if let Some(t) = strategy.type_.as_deref()
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

fn validate_machine_spec(machine: &MachineSpec, cluster_version: Option<&semver::Version>, p: &Path, f: &mut Findings) {
    if machine.config_source.is_some() {
        f.error(FieldError::forbidden(
            p.child("configSource"),
            "dynamic kubelet configuration is not supported",
        ));
    }
    let kubelet_path = p.child("versions").child("kubelet");
    match machine
        .versions
        .as_ref()
        .and_then(|v| v.kubelet.as_deref())
        .filter(|k| !k.is_empty())
    {
        None => f.error(FieldError::required(
            kubelet_path,
            "the kubelet version of the machines",
        )),
        Some(k) => match versions::parse(k) {
            Err(e) => f.error(FieldError::invalid(
                kubelet_path,
                k,
                format!("not a semantic version: {e}"),
            )),
            Ok(kv) => {
                if let Some(why) = cluster_version.and_then(|cp| versions::kubelet_skew_refusal(cp, &kv)) {
                    f.error(FieldError::invalid(kubelet_path, k, why));
                }
            }
        },
    }
    let ps = p.child("providerSpec");
    let Some(provider_spec) = &machine.provider_spec else {
        f.error(FieldError::required(ps, ""));
        return;
    };
    let vp = ps.child("value");
    let Some(config) = &provider_spec.value else {
        if provider_spec.value_from.is_none() {
            f.error(FieldError::required(vp, ""));
        }
        return;
    };
    for (i, key) in config.ssh_public_keys.iter().flatten().enumerate() {
        if let Err(why) = ssh::parse_authorized_key(key) {
            f.error(FieldError::invalid(
                vp.child("sshPublicKeys").index(i),
                key.as_str(),
                why,
            ));
        }
    }
    let provider = match config.cloud_provider.as_deref() {
        None | Some("") => {
            f.error(FieldError::required(vp.child("cloudProvider"), ""));
            None
        }
        Some(name) => {
            let p = Provider::from_machine_name(name);
            if p.is_none() {
                let names: Vec<&str> = Provider::ALL.iter().map(|p| p.machine_name()).collect();
                f.error(FieldError::not_supported(vp.child("cloudProvider"), name, &names));
            }
            p
        }
    };
    let os = match config.operating_system.as_deref() {
        None | Some("") => {
            f.error(FieldError::required(vp.child("operatingSystem"), ""));
            None
        }
        Some(name) => {
            let os = OperatingSystem::from_name(name);
            let allowed: Vec<&str> = match provider {
                Some(p) => p.supported_operating_systems().iter().map(|o| o.name()).collect(),
                None => OperatingSystem::ALL.iter().map(|o| o.name()).collect(),
            };
            if os.is_none() || !allowed.contains(&name) {
                f.error(FieldError::not_supported(vp.child("operatingSystem"), name, &allowed));
            }
            os
        }
    };
    if let Some(provider) = provider {
        match &config.cloud_provider_spec {
            None => f.error(FieldError::required(vp.child("cloudProviderSpec"), "")),
            Some(spec) => f.errors.extend(schema::check(
                schema::machine_cloud_schema(provider),
                spec,
                &vp.child("cloudProviderSpec"),
            )),
        }
    }
    if let Some(os) = os {
        let empty = Value::Object(Default::default());
        let spec = config.operating_system_spec.as_ref().unwrap_or(&empty);
        f.errors.extend(schema::check(
            schema::os_schema(os),
            spec,
            &vp.child("operatingSystemSpec"),
        ));
    }
}
