//! Rules that compare a Cluster with its previous version (KKP `ValidateClusterUpdate`).

use super::Findings;
use crate::cluster::{
    Cluster, PROJECT_ID_LABEL, UNSAFE_CNI_MIGRATION_LABEL, UNSAFE_CNI_UPGRADE_LABEL,
    UNSAFE_EXPOSE_STRATEGY_MIGRATION_LABEL,
};
use crate::cni;
use crate::field::{FieldError, Path};
use crate::versions::{self, VersionCatalog};

fn has_label(c: &Cluster, label: &str) -> bool {
    c.metadata
        .labels
        .as_ref()
        .is_some_and(|l| l.get(label).is_some_and(|v| v == "true"))
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

pub fn validate_cluster_update(old: &Cluster, new: &Cluster, catalog: &VersionCatalog) -> Findings {
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
    if provider(old).is_some() {
        immutable(&provider(old), &provider(new), cloud.child("providerName"), &mut f);
    }

    validate_version_update(old, new, catalog, &spec, &mut f);

    if !has_label(new, UNSAFE_EXPOSE_STRATEGY_MIGRATION_LABEL)
        && o.expose_strategy.is_some()
        && o.expose_strategy != n.expose_strategy
    {
        f.error(FieldError::invalid(
            spec.child("exposeStrategy"),
            n.expose_strategy.clone().unwrap_or_default(),
            format!(
                "field is immutable unless the cluster has the label {UNSAFE_EXPOSE_STRATEGY_MIGRATION_LABEL}=true"
            ),
        ));
    }
    let range = |c: &Cluster| {
        c.spec
            .components_override
            .as_ref()
            .and_then(|v| v.pointer("/apiserver/nodePortRange").cloned())
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
    }
    for feature in ["externalCloudProvider", "etcdLauncher"] {
        let was = o.features.as_ref().and_then(|m| m.get(feature)) == Some(&true);
        let is = n.features.as_ref().and_then(|m| m.get(feature)) == Some(&true);
        if was && !is {
            f.error(FieldError::forbidden(
                spec.child("features").key(feature),
                "cannot be disabled once enabled",
            ));
        }
    }

    if let (Some(on), Some(nn)) = (&o.cluster_network, &n.cluster_network) {
        let net = spec.child("clusterNetwork");
        if on.ip_family.is_some() {
            immutable(&on.ip_family, &nn.ip_family, net.child("ipFamily"), &mut f);
        }
        immutable(&on.pods, &nn.pods, net.child("pods"), &mut f);
        immutable(&on.services, &nn.services, net.child("services"), &mut f);
        immutable(&on.dns_domain, &nn.dns_domain, net.child("dnsDomain"), &mut f);
        if on.node_local_dns_cache_enabled.is_some() {
            immutable(
                &on.node_local_dns_cache_enabled,
                &nn.node_local_dns_cache_enabled,
                net.child("nodeLocalDNSCacheEnabled"),
                &mut f,
            );
        }
        if on.proxy_mode.is_some() && on.proxy_mode != nn.proxy_mode && !has_label(new, UNSAFE_CNI_MIGRATION_LABEL) {
            f.error(FieldError::invalid(
                net.child("proxyMode"),
                nn.proxy_mode.clone().unwrap_or_default(),
                format!("field is immutable unless the cluster has the label {UNSAFE_CNI_MIGRATION_LABEL}=true"),
            ));
        }
    }
    validate_cni_update(old, new, &spec, &mut f);
    validate_encryption_update(old, new, &spec, &mut f);
    f
}

/// The encryption-at-rest phase KKP reports in `status.encryption.phase`, if any.
fn encryption_phase(c: &Cluster) -> Option<&str> {
    c.status
        .as_ref()
        .and_then(|s| s.other.get("encryption"))
        .and_then(|e| e.get("phase"))
        .and_then(serde_json::Value::as_str)
        .filter(|p| !p.is_empty())
}

/// While KKP is still encrypting or decrypting (any phase but `Active`), neither the
/// `encryptionAtRest` feature nor the encryption configuration may change.
fn validate_encryption_update(old: &Cluster, new: &Cluster, spec: &Path, f: &mut Findings) {
    const FEATURE: &str = "encryptionAtRest";
    let Some(phase) = encryption_phase(old).filter(|p| *p != "Active") else {
        return;
    };
    // As in KKP, an absent flag and `false` are the same.
    let feature = |c: &Cluster| c.spec.features.as_ref().and_then(|m| m.get(FEATURE)).copied() == Some(true);
    if feature(old) != feature(new) {
        f.error(FieldError::forbidden(
            spec.child("features").key(FEATURE),
            format!("cannot be changed while the encryption phase is {phase}; wait until it is Active"),
        ));
    }
    let configuration = |c: &Cluster| {
        c.spec.encryption_configuration.clone().map(|mut e| {
            e.enabled = Some(e.enabled == Some(true));
            e
        })
    };
    if configuration(old) != configuration(new) {
        f.error(FieldError::forbidden(
            spec.child("encryptionConfiguration"),
            format!("cannot be changed while the encryption phase is {phase}; wait until it is Active"),
        ));
    }
}

fn validate_version_update(old: &Cluster, new: &Cluster, catalog: &VersionCatalog, spec: &Path, f: &mut Findings) {
    let (Some(o), Some(n)) = (old.spec.version.as_deref(), new.spec.version.as_deref()) else {
        return;
    };
    let (Ok(ov), Ok(nv)) = (versions::parse(o), versions::parse(n)) else {
        return;
    };
    if ov == nv {
        return;
    }
    let provider = new.provider_block_names().into_iter().next().unwrap_or_default();
    let external_ccm = old
        .spec
        .features
        .as_ref()
        .and_then(|f| f.get("externalCloudProvider"))
        .copied()
        .unwrap_or(false);
    if let Some(why) = catalog.update_refusal(&ov, &nv, &provider, external_ccm) {
        f.error(FieldError::forbidden(spec.child("version"), why));
    } else if !catalog.offers(&nv) {
        f.error(FieldError::invalid(
            spec.child("version"),
            n,
            format!(
                "version is not offered; offered minors are {}",
                catalog.minors().join(", ")
            ),
        ));
    }
}

fn validate_cni_update(old: &Cluster, new: &Cluster, spec: &Path, f: &mut Findings) {
    let Some(oc) = &old.spec.cni_plugin else { return };
    let path = spec.child("cniPlugin");
    let Some(nc) = &new.spec.cni_plugin else {
        f.error(FieldError::forbidden(path, "the CNI plugin cannot be removed"));
        return;
    };
    if oc.type_ != nc.type_ {
        if !has_label(new, UNSAFE_CNI_MIGRATION_LABEL) {
            f.error(FieldError::forbidden(
                path.child("type"),
                format!("changing the CNI type needs the label {UNSAFE_CNI_MIGRATION_LABEL}=true"),
            ));
        }
        return;
    }
    let (Some(ov), Some(nv)) = (
        oc.version.as_deref().and_then(cni::minor_of),
        nc.version.as_deref().and_then(cni::minor_of),
    ) else {
        return;
    };
    let step_ok = ov.0 == nv.0 && ov.1.abs_diff(nv.1) <= 1;
    if !step_ok && !has_label(new, UNSAFE_CNI_UPGRADE_LABEL) {
        f.error(FieldError::forbidden(
            path.child("version"),
            format!(
                "the CNI version may move one minor at a time (from {}); more needs the label {UNSAFE_CNI_UPGRADE_LABEL}=true",
                oc.version.as_deref().unwrap_or("")
            ),
        ));
    }
}
