//! Rules for `spec.cloud`: the datacenter, the provider block and its schema, the datacenter's
//! provider, and the provider rules KKP checks before it calls the cloud.

use serde_json::Value;

use super::cluster_facts::{Site, external_ccm};
use super::findings::Findings;
use crate::cluster::ClusterSpec;
use crate::field::{FieldError, Path};
use crate::providers::Provider;
use crate::schema;

/// How KKP shows a provider block in its errors: never the block, which may hold credentials.
const REDACTED: &str = "<redacted>";
const DUAL_STACK: &str = "IPv4+IPv6";

/// The rules KKP runs on create and on the new object of every update.
pub(crate) fn validate(spec: &ClusterSpec, site: &Site<'_>, creating: bool, path: &Path, f: &mut Findings) {
    let Some(cloud) = &spec.cloud else {
        f.error(FieldError::required(path.clone(), ""));
        return;
    };
    if cloud.dc.as_deref().unwrap_or("").is_empty() {
        f.error(FieldError::required(path.child("dc"), "no node datacenter specified"));
    }
    let blocks = cloud.block_names();
    let provider_name = cloud.provider_name.as_deref().unwrap_or("");
    let only = match blocks.as_slice() {
        [] => {
            f.error(FieldError::required(
                path.clone(),
                format!(
                    "exactly one provider block is needed, one of: {}",
                    Provider::ALL.map(|p| p.name()).join(", ")
                ),
            ));
            return;
        }
        [only] => *only,
        many => {
            f.error(FieldError::forbidden(
                path.clone(),
                format!("exactly one provider block may be set, found {}", many.join(", ")),
            ));
            return;
        }
    };
    if !provider_name.is_empty() && provider_name != only {
        f.error(FieldError::invalid(
            path.child("providerName"),
            provider_name,
            format!("expected providerName to be {only:?}"),
        ));
    }
    if provider_name.is_empty() && creating {
        f.error(FieldError::required(path.child("providerName"), ""));
    }
    if let Some(dc) = site.datacenter
        && let Some(dc_provider) = dc.provider()
    {
        if dc_provider != only {
            f.error(FieldError::invalid(
                path.clone(),
                Value::Null,
                format!("expected datacenter provider to be {only:?}, but got {dc_provider:?}"),
            ));
        } else if provider_name != dc_provider && !provider_name.is_empty() {
            f.error(FieldError::invalid(
                path.clone(),
                Value::Null,
                format!("expected providerName to be {dc_provider:?}, but got {provider_name:?}"),
            ));
        }
    }
    let Some(provider) = Provider::from_name(only) else {
        return;
    };
    let Some(block) = cloud.block_value(provider) else {
        return;
    };
    for e in schema::check(schema::cluster_cloud_schema(provider), &block, &path.child(only)) {
        match project_only_schema_rule(provider, &e, creating) {
            Some(warning) => f.warn(warning),
            None => f.error(e),
        }
    }
    match provider {
        Provider::Gcp => validate_gcp(spec, &block, site, path, f),
        Provider::Openstack => validate_openstack(spec, &block, site, path, f),
        _ => {}
    }
}

/// Schema rules KKP's admission does not have: reported as warnings. The GCP service account
/// is not decoded at admission (X9); vSphere's datastore exclusivity is checked on create only
/// (X10).
fn project_only_schema_rule(provider: Provider, e: &FieldError, creating: bool) -> Option<String> {
    let gcp_base64 = provider == Provider::Gcp && e.field.as_str().ends_with(".serviceAccount");
    let vsphere_datastores =
        provider == Provider::Vsphere && !creating && e.detail.contains("datastore and datastoreCluster");
    (gcp_base64 || vsphere_datastores).then(|| format!("{e} (KKP admits this; it is checked here only)"))
}

fn str_field<'a>(block: &'a Value, key: &str) -> &'a str {
    block.get(key).and_then(Value::as_str).unwrap_or("")
}

fn is_set(block: &Value, key: &str) -> bool {
    block.get(key).is_some_and(|v| !v.is_null())
}

/// GCP dual-stack clusters name their network and a subnetwork
/// (`projects/<p>/regions/<r>/subnetworks/<s>`) in the datacenter's region.
fn validate_gcp(spec: &ClusterSpec, block: &Value, site: &Site<'_>, path: &Path, f: &mut Findings) {
    let family = spec.cluster_network.as_ref().and_then(|n| n.ip_family.as_deref());
    if family != Some(DUAL_STACK) {
        return;
    }
    let (network, subnetwork) = (str_field(block, "network"), str_field(block, "subnetwork"));
    let why = if network.is_empty() || subnetwork.is_empty() {
        Some("network and subnetwork should be defined for GCP dual-stack (IPv4 + IPv6) cluster")
    } else {
        let parts: Vec<&str> = subnetwork.split('/').collect();
        let dc_region = site.datacenter.and_then(|dc| dc.provider_setting("gcp", "region"));
        if parts.len() != 6 {
            Some("invalid GCP subnetwork path")
        } else if dc_region.is_some_and(|r| r != parts[3]) {
            Some("GCP subnetwork should belong to same cluster region")
        } else {
            None
        }
    };
    if let Some(why) = why {
        f.error(FieldError::invalid(path.clone(), REDACTED, why));
    }
}

/// OpenStack: with application credentials nothing else is checked; otherwise a datacenter that
/// enforces floating IPs needs a pool, and the ingress hostname needs the external CCM.
fn validate_openstack(spec: &ClusterSpec, block: &Value, site: &Site<'_>, path: &Path, f: &mut Findings) {
    let app_credentials = !str_field(block, "applicationCredentialID").is_empty()
        && !str_field(block, "applicationCredentialSecret").is_empty();
    if app_credentials {
        return;
    }
    let enforces_floating_ip = site
        .datacenter
        .and_then(|dc| dc.provider_spec("openstack"))
        .and_then(|o| o.get("enforceFloatingIP"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if enforces_floating_ip && str_field(block, "floatingIPPool").is_empty() {
        f.error(FieldError::invalid(
            path.clone(),
            REDACTED,
            "no floating ip pool specified",
        ));
    }
    if !external_ccm(spec) && (is_set(block, "enableIngressHostname") || is_set(block, "ingressHostnameSuffix")) {
        f.error(FieldError::invalid(
            path.clone(),
            REDACTED,
            "cannot enable ingress hostname feature without external CCM",
        ));
    }
}

/// The provider checks KKP runs on create only, before it asks the cloud (`ValidateCloudSpec`).
pub(crate) fn validate_new(spec: &ClusterSpec, path: &Path, f: &mut Findings) {
    let Some(aws) = spec.cloud.as_ref().and_then(|c| c.block_value(Provider::Aws)) else {
        return;
    };
    if !str_field(&aws, "securityGroupID").is_empty() && str_field(&aws, "vpcID").is_empty() {
        f.error(FieldError::invalid(
            path.clone(),
            REDACTED,
            "a security group ID can only be given together with a VPC ID",
        ));
    }
}
