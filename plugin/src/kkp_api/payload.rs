//! Local checks of the KKP API's own payload files (`CreateClusterSpec`, `NodeDeployment` and
//! `Addon` JSON) before anything is sent: what today's KKP no longer accepts (old Kubernetes versions,
//! CentOS and SLES, moved fields) is named with the fix, and `null`s, which mean "not set", are
//! dropped so they cannot delete fields when a file is sent as a merge patch.

use kkp_crds::versions::{self, VersionCatalog};
use serde_json::{Map, Value};

use super::models::{Addon, CreateClusterSpec, NodeDeployment};

/// What a payload file holds.
#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    /// A `CreateClusterSpec`: a cluster and, optionally, its initial machine deployment.
    Cluster(Box<CreateClusterSpec>),
    /// A `NodeDeployment` for an existing cluster.
    MachineDeployment(Box<NodeDeployment>),
    /// An `Addon` for an existing cluster.
    Addon(Box<Addon>),
}

/// One thing the file must change before KKP accepts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Where, as a JSON path (`cluster.spec.version`).
    pub field: String,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// The verdict on one file.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    /// The payload as it would be sent (nulls dropped); `None` when it cannot be read as one.
    pub payload: Option<Payload>,
    pub problems: Vec<Problem>,
    /// The fields whose `null` was dropped.
    pub dropped_nulls: Vec<String>,
}

impl Checked {
    #[cfg(test)]
    pub fn ok(&self) -> bool {
        self.problems.is_empty() && self.payload.is_some()
    }
}

/// The operating systems `OperatingSystemSpec` has today.
const OPERATING_SYSTEMS: [&str; 5] = ["amzn2", "flatcar", "rhel", "rockylinux", "ubuntu"];

/// Checks a payload file's JSON. `catalog` is the versions KKP offers.
pub fn check(value: &Value, catalog: &VersionCatalog) -> Checked {
    let mut value = value.clone();
    let mut dropped_nulls = Vec::new();
    drop_nulls(&mut value, "", &mut dropped_nulls);
    let mut problems = Vec::new();
    let Some(object) = value.as_object() else {
        problems.push(problem("(file)", "a KKP API payload is a JSON object"));
        return Checked {
            payload: None,
            problems,
            dropped_nulls,
        };
    };
    let payload = if object.contains_key("cluster") {
        check_cluster(object, catalog, &mut problems);
        serde_json::from_value::<CreateClusterSpec>(value.clone())
            .map(|c| Payload::Cluster(Box::new(c)))
            .map_err(|e| problems.push(problem("cluster", &format!("not a CreateClusterSpec: {e}"))))
            .ok()
    } else if object.get("spec").and_then(|s| s.get("template")).is_some() {
        let control_plane = None;
        check_node_deployment(object, "", control_plane, catalog, &mut problems);
        serde_json::from_value::<NodeDeployment>(value.clone())
            .map(|m| Payload::MachineDeployment(Box::new(m)))
            .map_err(|e| problems.push(problem("spec", &format!("not a NodeDeployment: {e}"))))
            .ok()
    } else if is_addon(object) {
        check_addon(object, &mut problems);
        if problems.is_empty() {
            serde_json::from_value::<Addon>(value.clone())
                .map(|a| Payload::Addon(Box::new(a)))
                .map_err(|e| problems.push(problem("spec", &format!("not an Addon: {e}"))))
                .ok()
        } else {
            None
        }
    } else if object.contains_key("apiVersion") && object.contains_key("kind") {
        problems.push(problem(
            "kind",
            "this is a Kubernetes object, not a KKP API payload: MachineDeployment objects go to the user cluster (kubectl kkp apply -f FILE without --api, with the cluster's kubeconfig)",
        ));
        None
    } else {
        problems.push(problem(
            "(file)",
            "neither a CreateClusterSpec (with \"cluster\"), a NodeDeployment (with \"spec.template\") nor an Addon (with \"name\" and \"spec.variables\" or \"spec.continuouslyReconcile\")",
        ));
        None
    };
    Checked {
        payload,
        problems,
        dropped_nulls,
    }
}

/// An `Addon` payload: a `name` and a `spec` of addon settings, no Kubernetes object.
fn is_addon(object: &Map<String, Value>) -> bool {
    let spec = object.get("spec").and_then(Value::as_object);
    !object.contains_key("kind")
        && object.contains_key("name")
        && spec.is_some_and(|s| {
            s.contains_key("variables") || s.contains_key("continuouslyReconcile") || s.contains_key("isDefault")
        })
}

/// What KKP would refuse in an addon: a name that is not a DNS label, variables that are not an
/// object, `isDefault` (set by KKP only), an `id` (read-only).
fn check_addon(object: &Map<String, Value>, problems: &mut Vec<Problem>) {
    let name = object.get("name").and_then(Value::as_str).unwrap_or_default();
    let label = name.len() <= 63
        && !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    if !label {
        problems.push(problem(
            "name",
            &format!("{name:?} is not an addon name: lowercase letters, digits and '-', at most 63 characters"),
        ));
    }
    if object.contains_key("id") {
        problems.push(problem(
            "id",
            "read-only: the server sets the addon's ID (its name); leave it out",
        ));
    }
    let spec = object.get("spec").and_then(Value::as_object);
    if let Some(v) = spec.and_then(|s| s.get("variables"))
        && !v.is_object()
    {
        problems.push(problem("spec.variables", "must be an object of template variables"));
    }
    if spec.is_some_and(|s| s.contains_key("isDefault")) {
        problems.push(problem(
            "spec.isDefault",
            "set by KKP for the addons it installs itself; leave it out",
        ));
    }
}

fn problem(field: &str, message: &str) -> Problem {
    Problem {
        field: field.to_owned(),
        message: message.to_owned(),
    }
}

fn drop_nulls(value: &mut Value, path: &str, dropped: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            let nulls: Vec<String> = map
                .iter()
                .filter(|(_, v)| v.is_null())
                .map(|(k, _)| k.clone())
                .collect();
            for key in nulls {
                map.remove(&key);
                dropped.push(join(path, &key));
            }
            for (key, child) in map.iter_mut() {
                drop_nulls(child, &join(path, key), dropped);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter_mut().enumerate() {
                drop_nulls(child, &format!("{path}[{i}]"), dropped);
            }
        }
        _ => {}
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

fn check_cluster(object: &Map<String, Value>, catalog: &VersionCatalog, problems: &mut Vec<Problem>) {
    let Some(cluster) = object.get("cluster").and_then(Value::as_object) else {
        problems.push(problem("cluster", "must be an object (the cluster to create)"));
        return;
    };
    if cluster.get("name").and_then(Value::as_str).is_none_or(str::is_empty) {
        problems.push(problem(
            "cluster.name",
            "is required: the cluster's human-readable name",
        ));
    }
    if cluster.contains_key("id") {
        problems.push(problem(
            "cluster.id",
            "is read-only: KKP generates the cluster ID; remove the field",
        ));
    }
    if let Some(kind) = cluster.get("type").and_then(Value::as_str)
        && !kind.is_empty()
        && kind != "kubernetes"
    {
        problems.push(problem(
            "cluster.type",
            &format!("{kind:?} is not accepted: only \"kubernetes\" (or no type)"),
        ));
    }
    let spec = cluster.get("spec").and_then(Value::as_object);
    if spec.is_some_and(|s| s.contains_key("openshift")) {
        problems.push(problem(
            "cluster.spec.openshift",
            "KKP no longer has OpenShift clusters and its API has no such field: remove it",
        ));
    }
    let cloud = spec.and_then(|s| s.get("cloud")).and_then(Value::as_object);
    if cloud
        .and_then(|c| c.get("dc"))
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        problems.push(problem(
            "cluster.spec.cloud.dc",
            "is required: the datacenter (of a Seed) to create the cluster in",
        ));
    }
    let providers = cloud
        .map(|c| c.keys().filter(|k| *k != "dc" && *k != "providerName").count())
        .unwrap_or(0);
    if providers != 1 {
        problems.push(problem(
            "cluster.spec.cloud",
            &format!("must hold exactly one provider object (like \"kubevirt\": {{}}), found {providers}"),
        ));
    }
    let version = spec.and_then(|s| s.get("version")).and_then(Value::as_str);
    let control_plane = match version {
        None => {
            problems.push(problem(
                "cluster.spec.version",
                &format!(
                    "is required: one of the versions KKP offers, like {:?}",
                    catalog.default.to_string()
                ),
            ));
            None
        }
        Some(v) => check_version("cluster.spec.version", v, catalog, problems),
    };
    if let Some(md) = object.get("nodeDeployment").and_then(Value::as_object) {
        check_node_deployment(md, "nodeDeployment.", control_plane.as_ref(), catalog, problems);
    }
}

fn check_version(
    field: &str,
    text: &str,
    catalog: &VersionCatalog,
    problems: &mut Vec<Problem>,
) -> Option<semver::Version> {
    let Ok(version) = versions::parse(text) else {
        problems.push(problem(field, &format!("{text:?} is not a Kubernetes version")));
        return None;
    };
    if !catalog.offers(&version) {
        let offered = catalog.minors().join(", ");
        problems.push(problem(
            field,
            &format!(
                "Kubernetes {version} is no longer offered by KKP (it offers {offered}): set it to a version KKP offers, like \"{}\"",
                catalog.default
            ),
        ));
    }
    Some(version)
}

fn check_node_deployment(
    md: &Map<String, Value>,
    prefix: &str,
    control_plane: Option<&semver::Version>,
    catalog: &VersionCatalog,
    problems: &mut Vec<Problem>,
) {
    let at = |f: &str| format!("{prefix}{f}");
    let Some(spec) = md.get("spec").and_then(Value::as_object) else {
        problems.push(problem(&at("spec"), "is required: replicas and template"));
        return;
    };
    if spec.contains_key("versions") {
        problems.push(problem(
            &at("spec.versions"),
            "has moved: the kubelet version is spec.template.versions.kubelet; move \"versions\" into \"template\"",
        ));
    }
    if spec.get("dynamicConfig").and_then(Value::as_bool) == Some(true) {
        problems.push(problem(
            &at("spec.dynamicConfig"),
            "dynamic kubelet configuration is gone since Kubernetes 1.24: remove it or set it to false",
        ));
    }
    if !spec.get("replicas").is_some_and(Value::is_i64) {
        problems.push(problem(&at("spec.replicas"), "is required: the number of machines"));
    }
    if let (Some(min), Some(max)) = (
        spec.get("minReplicas").and_then(Value::as_i64),
        spec.get("maxReplicas").and_then(Value::as_i64),
    ) {
        let replicas = spec.get("replicas").and_then(Value::as_i64).unwrap_or(min);
        if min > max || replicas < min || replicas > max {
            problems.push(problem(
                &at("spec.replicas"),
                &format!("{replicas} must lie between minReplicas {min} and maxReplicas {max}"),
            ));
        }
    }
    let Some(template) = spec.get("template").and_then(Value::as_object) else {
        problems.push(problem(
            &at("spec.template"),
            "is required: cloud, operatingSystem and versions",
        ));
        return;
    };
    check_operating_system(
        template.get("operatingSystem"),
        &at("spec.template.operatingSystem"),
        problems,
    );
    check_node_cloud(template.get("cloud"), &at("spec.template.cloud"), problems);
    match template
        .get("versions")
        .and_then(|v| v.get("kubelet"))
        .and_then(Value::as_str)
    {
        Some(kubelet) => {
            let field = at("spec.template.versions.kubelet");
            if let Some(kubelet) = check_version(&field, kubelet, catalog, problems)
                && let Some(cp) = control_plane
                && let Some(refusal) = versions::kubelet_skew_refusal(cp, &kubelet)
            {
                problems.push(problem(&field, &refusal));
            }
        }
        None if !spec.contains_key("versions") => problems.push(problem(
            &at("spec.template.versions.kubelet"),
            "is required: the kubelet version of the machines",
        )),
        None => {}
    }
    if let Some(taints) = template.get("taints").and_then(Value::as_array) {
        for (i, taint) in taints.iter().enumerate() {
            let effect = taint.get("effect").and_then(Value::as_str).unwrap_or_default();
            if !["NoSchedule", "PreferNoSchedule", "NoExecute"].contains(&effect) {
                problems.push(problem(
                    &at(&format!("spec.template.taints[{i}].effect")),
                    "must be NoSchedule, PreferNoSchedule or NoExecute",
                ));
            }
        }
    }
}

fn check_operating_system(os: Option<&Value>, field: &str, problems: &mut Vec<Problem>) {
    let Some(os) = os.and_then(Value::as_object) else {
        problems.push(problem(
            field,
            "is required: one of amzn2, flatcar, rhel, rockylinux, ubuntu",
        ));
        return;
    };
    for (name, spec) in os {
        match name.as_str() {
            "centos" => problems.push(problem(
                &format!("{field}.centos"),
                "CentOS is no longer supported by KKP: use rockylinux (its successor) or ubuntu, with a matching VM template or image",
            )),
            "sles" => problems.push(problem(
                &format!("{field}.sles"),
                "SLES is no longer supported by KKP: use ubuntu, flatcar, rhel or rockylinux",
            )),
            name if !OPERATING_SYSTEMS.contains(&name) => problems.push(problem(
                &format!("{field}.{name}"),
                "is not an operating system KKP knows: use one of amzn2, flatcar, rhel, rockylinux, ubuntu",
            )),
            _ => {}
        }
        if name == "ubuntu" && spec.get("distUpgrade").is_some() {
            problems.push(problem(
                &format!("{field}.ubuntu.distUpgrade"),
                "was renamed: use \"distUpgradeOnBoot\"",
            ));
        }
    }
    let known = os.keys().filter(|k| OPERATING_SYSTEMS.contains(&k.as_str())).count();
    let any_old = os.keys().any(|k| k == "centos" || k == "sles");
    if known != 1 && !any_old {
        problems.push(problem(
            field,
            &format!("must name exactly one operating system, found {known}"),
        ));
    }
}

/// The kubevirt fields of 2021 and the fields that replaced them.
const KUBEVIRT_MOVED: [(&str, &str); 4] = [
    ("sourceURL", "primaryDiskOSImage"),
    ("storageClassName", "primaryDiskStorageClassName"),
    ("pvcSize", "primaryDiskSize"),
    (
        "namespace",
        "(nothing: the VMs live in the namespace KKP gives the cluster)",
    ),
];

fn check_node_cloud(cloud: Option<&Value>, field: &str, problems: &mut Vec<Problem>) {
    let Some(cloud) = cloud.and_then(Value::as_object) else {
        problems.push(problem(field, "is required: one provider's machine settings"));
        return;
    };
    if cloud.len() != 1 {
        problems.push(problem(
            field,
            &format!("must hold exactly one provider object, found {}", cloud.len()),
        ));
    }
    if let Some(kubevirt) = cloud.get("kubevirt").and_then(Value::as_object) {
        for (old, new) in KUBEVIRT_MOVED {
            if kubevirt.contains_key(old) {
                problems.push(problem(
                    &format!("{field}.kubevirt.{old}"),
                    &format!("has moved: use {new}"),
                ));
            }
        }
        for required in [
            "cpus",
            "memory",
            "primaryDiskOSImage",
            "primaryDiskStorageClassName",
            "primaryDiskSize",
        ] {
            if !kubevirt.contains_key(required) && !KUBEVIRT_MOVED.iter().any(|(_, n)| *n == required) {
                problems.push(problem(&format!("{field}.kubevirt.{required}"), "is required"));
            }
        }
        for numeric in ["cpus", "memory"] {
            if kubevirt.get(numeric).is_some_and(|v| !v.is_string()) {
                problems.push(problem(
                    &format!("{field}.kubevirt.{numeric}"),
                    "must be a string, like \"2\" or \"4Gi\"",
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn fields(checked: &Checked) -> Vec<&str> {
        checked.problems.iter().map(|p| p.field.as_str()).collect()
    }

    #[test]
    fn an_addon_passes_and_what_kkp_refuses_in_one_is_named() {
        let file =
            json!({"name": "ingress-nginx", "spec": {"variables": {"replicas": "3"}, "continuouslyReconcile": true}});
        let checked = check(&file, &VersionCatalog::default());
        assert!(checked.ok(), "{:?}", checked.problems);
        let Some(Payload::Addon(addon)) = checked.payload else {
            panic!("an addon: {:?}", checked.payload)
        };
        assert_eq!(addon.name, "ingress-nginx");
        assert_eq!(addon.spec.continuously_reconcile, Some(true));

        let file = json!({"name": "Ingress_Nginx", "id": "x", "spec": {"variables": ["3"], "isDefault": true}});
        let checked = check(&file, &VersionCatalog::default());
        assert_eq!(fields(&checked), ["name", "id", "spec.variables", "spec.isDefault"]);
        assert!(checked.payload.is_none(), "a refused addon is not sent");
    }

    #[test]
    fn a_current_cluster_with_its_node_deployment_passes_and_loses_its_nulls() {
        let file = json!({
            "cluster": {"name": "demo", "type": "kubernetes", "credential": "preset",
                "spec": {"cloud": {"dc": "kv", "kubevirt": {}}, "version": "1.35.8", "oidc": null}},
            "nodeDeployment": {"name": "w", "spec": {"replicas": 1, "template": {
                "cloud": {"kubevirt": {"cpus": "2", "memory": "4Gi", "primaryDiskOSImage": "i",
                    "primaryDiskStorageClassName": "s", "primaryDiskSize": "10Gi"}},
                "operatingSystem": {"ubuntu": {"distUpgradeOnBoot": false}, "centos": null},
                "versions": {"kubelet": "1.35.8"}}}}
        });
        let checked = check(&file, &VersionCatalog::default());
        assert!(checked.ok(), "{:?}", checked.problems);
        assert_eq!(
            checked.dropped_nulls,
            [
                "cluster.spec.oidc",
                "nodeDeployment.spec.template.operatingSystem.centos"
            ]
        );
    }

    #[test]
    fn what_kkp_no_longer_accepts_is_named_with_the_fix() {
        let file = json!({
            "cluster": {"name": "old", "id": "x", "spec": {"cloud": {"dc": "d", "vsphere": {}}, "version": "1.20.11", "openshift": {}}},
            "nodeDeployment": {"spec": {"replicas": 1, "dynamicConfig": true, "versions": {"kubelet": "1.20.11"}, "template": {
                "cloud": {"vsphere": {"cpus": 2}},
                "operatingSystem": {"centos": {"distUpgradeOnBoot": true}}}}}
        });
        let checked = check(&file, &VersionCatalog::default());
        assert_eq!(
            fields(&checked),
            [
                "cluster.id",
                "cluster.spec.openshift",
                "cluster.spec.version",
                "nodeDeployment.spec.versions",
                "nodeDeployment.spec.dynamicConfig",
                "nodeDeployment.spec.template.operatingSystem.centos"
            ]
        );
        let text = checked
            .problems
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n");
        assert!(
            text.contains("Kubernetes 1.20.11 is no longer offered") && text.contains("\"1.35.8\""),
            "{text}"
        );
        assert!(text.contains("rockylinux"), "{text}");
    }

    #[test]
    fn a_kubelet_ahead_of_the_control_plane_is_refused() {
        let file = json!({
            "cluster": {"name": "c", "spec": {"cloud": {"dc": "d", "vsphere": {}}, "version": "1.34.1"}},
            "nodeDeployment": {"spec": {"replicas": 1, "template": {
                "cloud": {"vsphere": {}}, "operatingSystem": {"ubuntu": {}}, "versions": {"kubelet": "1.35.8"}}}}
        });
        let checked = check(&file, &VersionCatalog::default());
        assert_eq!(fields(&checked), ["nodeDeployment.spec.template.versions.kubelet"]);
    }

    #[test]
    fn moved_kubevirt_and_ubuntu_fields_are_named() {
        let file = json!({"name": "u", "spec": {"replicas": 2, "minReplicas": 3, "maxReplicas": 5, "template": {
            "cloud": {"kubevirt": {"cpus": "2", "memory": "4Gi", "sourceURL": "u", "pvcSize": "1Gi", "storageClassName": "s", "namespace": "n"}},
            "operatingSystem": {"ubuntu": {"distUpgrade": false}}, "versions": {"kubelet": "1.35.8"}}}});
        let checked = check(&file, &VersionCatalog::default());
        assert_eq!(
            fields(&checked),
            [
                "spec.replicas",
                "spec.template.operatingSystem.ubuntu.distUpgrade",
                "spec.template.cloud.kubevirt.sourceURL",
                "spec.template.cloud.kubevirt.storageClassName",
                "spec.template.cloud.kubevirt.pvcSize",
                "spec.template.cloud.kubevirt.namespace"
            ]
        );
        assert!(matches!(checked.payload, Some(Payload::MachineDeployment(_))));
    }

    #[test]
    fn a_kubernetes_object_is_sent_elsewhere() {
        let file = json!({"apiVersion": "cluster.k8s.io/v1alpha1", "kind": "MachineDeployment"});
        let checked = check(&file, &VersionCatalog::default());
        assert!(checked.payload.is_none());
        assert!(
            checked.problems[0].message.contains("user cluster"),
            "{:?}",
            checked.problems
        );
    }
}
