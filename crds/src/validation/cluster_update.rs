//! Rules that compare a Cluster with its previous version (KKP `ValidateClusterUpdate`).

use serde_json::Value;

use super::cluster::{catalog_incompatible, validate_pod_security_policy};
use super::cluster_facts::{external_ccm, feature};
use super::findings::Findings;
use crate::cloud_controller::{self, EXTERNAL_CLOUD_PROVIDER};
use crate::cluster::{
    Cluster, ClusterSpec, PROJECT_ID_LABEL, UNSAFE_CNI_MIGRATION_LABEL, UNSAFE_CNI_UPGRADE_LABEL,
    UNSAFE_EXPOSE_STRATEGY_MIGRATION_LABEL,
};
use crate::context::Context;
use crate::field::{FieldError, Path};
use crate::versions::{self, IncompatibilityOperation, VersionCatalog};
use crate::{cni, defaulting};

const ENCRYPTION_AT_REST: &str = "encryptionAtRest";
const ETCD_LAUNCHER: &str = "etcdLauncher";
const CSI_ADDON_IN_USE: &str = "CSIAddonInUse";
const ENCRYPTION_INITIALIZED: &str = "EncryptionInitialized";

/// KKP's escape labels count when present, whatever their value.
fn has_label(c: &Cluster, label: &str) -> bool {
    c.metadata.labels.as_ref().is_some_and(|l| l.contains_key(label))
}

fn immutable<T: PartialEq + serde::Serialize>(old: &T, new: &T, path: Path, f: &mut Findings) {
    if old != new {
        f.error(FieldError::invalid(
            path,
            serde_json::to_value(new).unwrap_or_default(),
            "field is immutable",
        ));
    }
}

fn non_empty(s: &Option<String>) -> bool {
    s.as_deref().is_some_and(|s| !s.is_empty())
}

pub fn validate_cluster_update(old: &Cluster, new: &Cluster, ctx: &Context) -> Findings {
    let mut f = Findings::default();
    let spec = Path::root("spec");
    let (o, n) = (&old.spec, &new.spec);

    let label = |c: &Cluster| {
        c.metadata
            .labels
            .as_ref()
            .and_then(|l| l.get(PROJECT_ID_LABEL))
            .cloned()
    };
    immutable(
        &label(old),
        &label(new),
        Path::root("metadata").child("labels").key(PROJECT_ID_LABEL),
        &mut f,
    );

    let cloud = spec.child("cloud");
    let dc = |c: &Cluster| c.spec.cloud.as_ref().and_then(|c| c.dc.clone());
    immutable(&dc(old), &dc(new), cloud.child("dc"), &mut f);
    let provider = |c: &Cluster| c.spec.cloud.as_ref().and_then(|c| c.provider_name.clone());
    if non_empty(&provider(old)) {
        immutable(&provider(old), &provider(new), cloud.child("providerName"), &mut f);
    }

    validate_version_update(o, n, &ctx.versions, &spec, &mut f);

    if non_empty(&o.expose_strategy)
        && o.expose_strategy != n.expose_strategy
        && !has_label(new, UNSAFE_EXPOSE_STRATEGY_MIGRATION_LABEL)
    {
        f.error(FieldError::invalid(
            spec.child("exposeStrategy"),
            n.expose_strategy.clone().unwrap_or_default(),
            format!("field is immutable unless the cluster has the label {UNSAFE_EXPOSE_STRATEGY_MIGRATION_LABEL}"),
        ));
    }
    let range = |c: &Cluster| {
        c.spec
            .components_override
            .as_ref()
            .and_then(|v| v.pointer("/apiserver/nodePortRange").cloned())
            .filter(|v| !v.is_null() && v.as_str() != Some(""))
    };
    if range(old).is_some() {
        immutable(
            &range(old),
            &range(new),
            spec.child("componentsOverride")
                .child("apiserver")
                .child("nodePortRange"),
            &mut f,
        );
    }
    if o.enable_user_ssh_key_agent.is_some() {
        immutable(
            &o.enable_user_ssh_key_agent,
            &n.enable_user_ssh_key_agent,
            spec.child("enableUserSSHKeyAgent"),
            &mut f,
        );
    } else if n.enable_user_ssh_key_agent == Some(false) {
        f.error(FieldError::invalid(
            Path::root("cluster").child("spec").child("enableUserSSHKeyAgent"),
            false,
            "UserSSHKey agent is enabled by default for user clusters created prior KKP 2.16 version",
        ));
    }
    for name in [EXTERNAL_CLOUD_PROVIDER, ETCD_LAUNCHER] {
        if feature(o.features.as_ref(), name) && !feature(n.features.as_ref(), name) {
            f.error(FieldError::forbidden(
                spec.child("features").key(name),
                "cannot be disabled once enabled",
            ));
        }
    }
    validate_csi_driver_update(old, new, ctx, &spec, &mut f);
    validate_network_update(old, new, &spec, &mut f);
    validate_cni_update(old, new, &spec, &mut f);
    validate_encryption_update(old, new, &mut f);
    validate_admin_token(new, &mut f);
    f.extend(super::cluster_project_rules::validate(new, Some(old)));
    f
}

/// The network fields KKP freezes once they are set.
fn validate_network_update(old: &Cluster, new: &Cluster, spec: &Path, f: &mut Findings) {
    let (Some(on), nn) = (
        &old.spec.cluster_network,
        new.spec.cluster_network.clone().unwrap_or_default(),
    ) else {
        return;
    };
    let net = spec.child("clusterNetwork");
    if non_empty(&on.ip_family) {
        immutable(&on.ip_family, &nn.ip_family, net.child("ipFamily"), f);
    }
    let blocks = |r: &Option<crate::shared_fields::NetworkRanges>| {
        r.as_ref().and_then(|r| r.cidr_blocks.clone()).unwrap_or_default()
    };
    for (key, (was, is)) in [
        ("pods", (blocks(&on.pods), blocks(&nn.pods))),
        ("services", (blocks(&on.services), blocks(&nn.services))),
    ] {
        if !was.is_empty() {
            immutable(&was, &is, net.child(key).child("cidrBlocks"), f);
        }
    }
    if non_empty(&on.proxy_mode) && on.proxy_mode != nn.proxy_mode && !has_label(new, UNSAFE_CNI_MIGRATION_LABEL) {
        f.error(FieldError::invalid(
            net.child("proxyMode"),
            nn.proxy_mode.clone().unwrap_or_default(),
            format!("field is immutable unless the cluster has the label {UNSAFE_CNI_MIGRATION_LABEL}"),
        ));
    }
    if non_empty(&on.dns_domain) {
        immutable(&on.dns_domain, &nn.dns_domain, net.child("dnsDomain"), f);
    }
    if on.node_local_dns_cache_enabled.is_some() {
        immutable(
            &on.node_local_dns_cache_enabled,
            &nn.node_local_dns_cache_enabled,
            net.child("nodeLocalDNSCacheEnabled"),
            f,
        );
    }
}

/// The CSI driver stays installed while the datacenter says so, and while its addon is in use.
fn validate_csi_driver_update(old: &Cluster, new: &Cluster, ctx: &Context, spec: &Path, f: &mut Findings) {
    let path = spec.child("DisableCSIDriver");
    let disabled = |c: &Cluster| c.spec.disable_csi_driver == Some(true);
    let dc_name = new.spec.cloud.as_ref().and_then(|c| c.dc.as_deref()).unwrap_or("");
    if ctx.datacenter(dc_name).is_some_and(|dc| dc.flag("disableCsiDriver")) && !disabled(new) {
        f.error(FieldError::forbidden(
            path.clone(),
            "CSI driver installation is disabled on the datacenter, can't be enabled on cluster",
        ));
    }
    if !disabled(old) && disabled(new) {
        let condition = old
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .and_then(|c| c.get(CSI_ADDON_IN_USE));
        if let Some(condition) = condition
            && condition.status.as_deref() != Some("False")
        {
            f.error(FieldError::forbidden(
                path,
                format!(
                    "CSI addon is in use or unknown state {}",
                    condition.reason.as_deref().unwrap_or("")
                ),
            ));
        }
    }
}

/// A version change must be one of the platform's updates from the stored version, for the
/// cluster's provider and cloud controller manager (KKP's `GetPossibleUpdates`); a changed version
/// is checked for PodSecurityPolicy like a new one. An unchanged version is not judged again.
fn validate_version_update(o: &ClusterSpec, n: &ClusterSpec, catalog: &VersionCatalog, spec: &Path, f: &mut Findings) {
    let (Some(ov), Some(nv)) = (
        o.version.as_deref().and_then(|v| versions::parse(v).ok()),
        n.version.as_deref().and_then(|v| versions::parse(v).ok()),
    ) else {
        return;
    };
    if ov == nv {
        return;
    }
    let provider = cloud_controller::cluster_provider(n).unwrap_or_default();
    let ccm = defaulting::provider_has_ccm(n).then(|| external_ccm(n));
    let targets: Vec<String> = catalog
        .updates
        .iter()
        .filter(|u| u.from.matches(&ov))
        .map(|u| &u.to)
        .collect::<Vec<_>>()
        .into_iter()
        .flat_map(|to| catalog.versions.iter().filter(|v| to.matches(v)))
        .filter(|v| **v != ov)
        .filter(|v| catalog_incompatible(catalog, &provider, ccm, IncompatibilityOperation::Upgrade, v).is_none())
        .map(ToString::to_string)
        .fold(Vec::new(), |mut acc, v| {
            if !acc.contains(&v) {
                acc.push(v);
            }
            acc
        });
    if !targets.contains(&nv.to_string()) {
        let mut e = FieldError::not_supported(spec.child("version"), nv.to_string(), &targets);
        if targets.is_empty() {
            e.detail = match ccm.and_then(|external| catalog.update_refusal(&ov, &nv, &provider, external)) {
                Some(why) => why,
                None => format!("no update from {ov} is configured"),
            };
        }
        f.error(e);
        return;
    }
    validate_pod_security_policy(n, spec, f);
}

fn cni_path() -> Path {
    Path::root("spec").child("cniPlugin")
}

/// KKP's `validateCNIUpdate`: the CNI stays, changes type only with the migration label, and
/// moves one minor at a time unless an allowed transition or the upgrade label says otherwise.
fn validate_cni_update(old: &Cluster, new: &Cluster, _spec: &Path, f: &mut Findings) {
    let path = cni_path();
    let (oc, nc) = match (&old.spec.cni_plugin, &new.spec.cni_plugin) {
        (None, _) => return,
        (Some(_), None) => {
            f.error(FieldError::required(path, "CNI plugin settings cannot be removed"));
            return;
        }
        (Some(o), Some(n)) => (o, n),
    };
    if oc.type_ != nc.type_ {
        if !has_label(new, UNSAFE_CNI_MIGRATION_LABEL) {
            f.error(FieldError::forbidden(
                path.child("type"),
                format!("cannot change CNI plugin type, unless {UNSAFE_CNI_MIGRATION_LABEL} label is present"),
            ));
        }
        return;
    }
    let (ov_raw, nv_raw) = (
        oc.version.clone().unwrap_or_default(),
        nc.version.clone().unwrap_or_default(),
    );
    if ov_raw == nv_raw {
        return;
    }
    let parse = |raw: &str| {
        cni::parse_version(raw).map_err(|e| {
            FieldError::invalid(
                path.child("version"),
                raw,
                format!("couldn't parse CNI version `{raw}`: {e}"),
            )
        })
    };
    let (nv, ov) = match (parse(&nv_raw), parse(&ov_raw)) {
        (Err(e), _) | (_, Err(e)) => {
            f.error(e);
            return;
        }
        (Ok(n), Ok(o)) => (n, o),
    };
    let one_minor = ov.major == nv.major && ov.minor.abs_diff(nv.minor) <= 1;
    if one_minor {
        return;
    }
    let kind = nc.type_.as_deref().unwrap_or("");
    let kubernetes = new.spec.version.as_deref().and_then(|v| versions::parse(v).ok());
    if cni::allowed_transition(kind, kubernetes.as_ref(), &ov, &nv) || has_label(new, UNSAFE_CNI_UPGRADE_LABEL) {
        return;
    }
    f.error(FieldError::forbidden(
        path.child("version"),
        format!(
            "cannot upgrade CNI from {ov_raw} to {nv_raw}, only one minor version difference is allowed unless \
             {UNSAFE_CNI_UPGRADE_LABEL} label is present"
        ),
    ));
}

fn encryption_status(c: &Cluster) -> Option<&Value> {
    c.status
        .as_ref()
        .and_then(|s| s.other.get("encryption"))
        .filter(|e| !e.is_null())
}

fn encryption_enabled(c: &Cluster) -> bool {
    c.spec
        .encryption_configuration
        .as_ref()
        .is_some_and(|e| e.enabled == Some(true))
}

/// KKP's `validateEncryptionUpdate`.
fn validate_encryption_update(old: &Cluster, new: &Cluster, f: &mut Findings) {
    let configuration = |c: &Cluster| {
        c.spec.encryption_configuration.clone().map(|mut e| {
            e.enabled = Some(e.enabled == Some(true));
            e
        })
    };
    if feature(old.spec.features.as_ref(), ENCRYPTION_AT_REST)
        && let Some(status) = encryption_status(old)
    {
        let phase = status.get("phase").and_then(Value::as_str).unwrap_or("");
        if !phase.is_empty() && phase != "Active" && configuration(old) != configuration(new) {
            f.error(FieldError::forbidden(
                Path::root("spec").child("encryptionConfiguration"),
                format!("no changes to encryption configuration are allowed while encryption phase is '{phase}'"),
            ));
        }
        if encryption_enabled(old) && encryption_enabled(new) {
            let resources = |c: &Cluster| {
                c.spec
                    .encryption_configuration
                    .as_ref()
                    .and_then(|e| e.resources.clone())
                    .unwrap_or_default()
            };
            if resources(old) != resources(new) {
                f.error(FieldError::forbidden(
                    Path::root("spec").child("encryptionConfiguration").child("resources"),
                    "list of encrypted resources cannot be changed. Please disable encryption and re-configure",
                ));
            }
        }
    }
    let initialized = new
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|c| c.get(ENCRYPTION_INITIALIZED))
        .is_some_and(|c| c.status.as_deref() == Some("True"));
    if !feature(new.spec.features.as_ref(), ENCRYPTION_AT_REST) && (encryption_enabled(new) || initialized) {
        f.error(FieldError::forbidden(
            Path::root("features"),
            format!(
                "cannot disable {ENCRYPTION_AT_REST:?} feature flag while encryption is still configured or active"
            ),
        ));
    }
}

/// `status.address.adminToken` has the form of a Kubernetes bootstrap token.
fn validate_admin_token(new: &Cluster, f: &mut Findings) {
    let Some(token) = new
        .status
        .as_ref()
        .and_then(|s| s.address.as_ref())
        .and_then(|a| a.admin_token.as_deref())
        .filter(|t| !t.is_empty())
    else {
        return;
    };
    let valid = token.split_once('.').is_some_and(|(id, secret)| {
        let ok =
            |s: &str, len: usize| s.len() == len && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
        ok(id, 6) && ok(secret, 16)
    });
    if !valid {
        f.error(FieldError::invalid(
            Path::root("address").child("adminToken"),
            "(redacted)",
            "must be a token of the form [a-z0-9]{6}.[a-z0-9]{16}",
        ));
    }
}
