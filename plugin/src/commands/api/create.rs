//! Create-or-patch through the KKP REST API, shared by `create cluster` and `apply -f`: a cluster
//! of the same human-readable name in the project is patched, not duplicated (what the seed's
//! `cluster-apply.sh` does), and machine deployments are created or patched by name once the
//! cluster is healthy. Whatever fails, the output says what exists and that re-running finishes.

use std::time::Duration;

use serde_json::{Map, Value, json};

use super::health;
use crate::k8s::wait::Deadline;
use crate::kkp_api::client::{ApiError, KkpClient};
use crate::kkp_api::models::{ApiCluster, CreateClusterSpec, NodeDeployment};
use crate::printer::Printer;

/// `Cluster.spec` fields the API's PATCH applies (besides `version`); the rest is set at create.
const PATCHABLE: [&str; 17] = [
    "machineNetworks",
    "oidc",
    "admissionPlugins",
    "auditLogging",
    "updateWindow",
    "opaIntegration",
    "mla",
    "containerRuntime",
    "cniPlugin",
    "exposeStrategy",
    "backupConfig",
    "kubernetesDashboard",
    "apiServerAllowedIPRanges",
    "kubelb",
    "disableCsiDriver",
    "kyverno",
    "encryptionConfiguration",
];

/// The merge patch that brings `existing` to `desired`, `None` when nothing differs. Only what
/// the desired cluster sets is compared, and only fields the API's PATCH applies; the cloud spec
/// is left alone (the API never shows its credentials back).
pub fn cluster_patch(existing: &ApiCluster, desired: &ApiCluster) -> Option<Value> {
    let mut patch = Map::new();
    let labels: Map<String, Value> = desired
        .labels
        .iter()
        .filter(|(k, v)| existing.labels.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    if !labels.is_empty() {
        patch.insert("labels".into(), Value::Object(labels));
    }
    let annotations: Map<String, Value> = desired
        .annotations
        .iter()
        .filter(|(k, v)| existing.annotations.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    if !annotations.is_empty() {
        patch.insert("annotations".into(), Value::Object(annotations));
    }
    let mut spec = Map::new();
    if let Some(version) = &desired.spec.version {
        let same = match (
            kkp_crds::versions::parse(version),
            existing.spec.version.as_deref().map(kkp_crds::versions::parse),
        ) {
            (Ok(a), Some(Ok(b))) => a == b,
            _ => existing.spec.version.as_deref() == Some(version),
        };
        if !same {
            spec.insert("version".into(), Value::String(version.clone()));
        }
    }
    for key in PATCHABLE {
        if let Some(want) = desired.spec.rest.get(key)
            && !contains(existing.spec.rest.get(key).unwrap_or(&Value::Null), want)
        {
            spec.insert(key.into(), want.clone());
        }
    }
    if !spec.is_empty() {
        patch.insert("spec".into(), Value::Object(spec));
    }
    (!patch.is_empty()).then_some(Value::Object(patch))
}

/// Whether `have` already holds everything `want` sets.
fn contains(have: &Value, want: &Value) -> bool {
    match (have, want) {
        (Value::Object(h), Value::Object(w)) => w.iter().all(|(k, v)| contains(h.get(k).unwrap_or(&Value::Null), v)),
        _ => have == want,
    }
}

/// The patch that brings a machine deployment to the desired one, `None` when nothing differs.
pub fn machine_deployment_patch(existing: &NodeDeployment, desired: &NodeDeployment) -> Option<Value> {
    let have = serde_json::to_value(&existing.spec).unwrap_or_default();
    let want = serde_json::to_value(&desired.spec).unwrap_or_default();
    let mut spec = Map::new();
    for key in ["replicas", "minReplicas", "maxReplicas", "paused", "template"] {
        if let Some(w) = want.get(key)
            && !contains(have.get(key).unwrap_or(&Value::Null), w)
        {
            spec.insert(key.into(), w.clone());
        }
    }
    (!spec.is_empty()).then(|| json!({"spec": spec}))
}

/// What applying a cluster did.
#[derive(Debug)]
pub struct Converged {
    pub cluster: ApiCluster,
}

/// Creates the cluster, or patches the one of the same name. The initial machine deployment
/// goes with a create; on a patch it is returned among those to ensure.
pub async fn converge_cluster(
    client: &KkpClient,
    spec: &CreateClusterSpec,
    printer: &Printer,
) -> anyhow::Result<(Converged, Vec<NodeDeployment>)> {
    let name = spec.cluster.name.clone();
    if let Some(existing) = client.find_by_name(&name).await? {
        let id = existing.id.clone().unwrap_or_default();
        if existing.deletion_timestamp.is_some() {
            anyhow::bail!(
                "cluster {} is being deleted; wait until it is gone (kubectl kkp delete cluster {id} --yes) and run this again",
                super::shown(&existing)
            );
        }
        let cluster = match cluster_patch(&existing, &spec.cluster) {
            Some(patch) => {
                tracing::info!(%id, "patching the cluster");
                let patched = client.patch_cluster(&id, &patch).await?;
                printer.data(format_args!("cluster {} configured", super::shown(&patched)));
                patched
            }
            None => {
                printer.data(format_args!("cluster {} unchanged", super::shown(&existing)));
                existing
            }
        };
        let mds = spec.node_deployment.iter().cloned().collect();
        return Ok((Converged { cluster }, mds));
    }
    match client.create_cluster(spec).await {
        Ok(cluster) => {
            printer.data(format_args!("cluster {} created", super::shown(&cluster)));
            Ok((Converged { cluster }, Vec::new()))
        }
        // KKP answers 500 when its wait for RBAC times out although the cluster exists.
        Err(e) if e.status().is_some_and(|s| s >= 500) => match client.find_by_name(&name).await {
            Ok(Some(cluster)) => {
                printer.message(format_args!(
                    "Warning: the KKP API answered with an error, but cluster {} exists: {e}",
                    super::shown(&cluster)
                ));
                printer.data(format_args!("cluster {} created", super::shown(&cluster)));
                Ok((Converged { cluster }, Vec::new()))
            }
            _ => Err(e.into()),
        },
        Err(e) => Err(e.into()),
    }
}

/// Creates or patches each machine deployment of a healthy cluster, by name.
pub async fn ensure_machine_deployments(
    client: &KkpClient,
    cluster: &ApiCluster,
    desired: &[NodeDeployment],
    printer: &Printer,
) -> anyhow::Result<()> {
    let id = cluster.id.clone().unwrap_or_default();
    let existing = client.list_machine_deployments(&id).await?;
    for (done, md) in desired.iter().enumerate() {
        let name = md.name.clone().unwrap_or_default();
        let result = match existing
            .iter()
            .find(|e| !name.is_empty() && (e.id.as_deref() == Some(&name) || e.name.as_deref() == Some(&name)))
        {
            Some(current) => match machine_deployment_patch(current, md) {
                Some(patch) => client
                    .patch_machine_deployment(&id, current.id.as_deref().unwrap_or(&name), &patch)
                    .await
                    .map(|_| "configured"),
                None => Ok("unchanged"),
            },
            None => client.create_machine_deployment(&id, md).await.map(|_| "created"),
        };
        match result {
            Ok(verb) => printer.data(format_args!(
                "machine deployment {name:?} of cluster {} {verb}",
                super::shown(cluster)
            )),
            Err(e) => return Err(half_done(cluster, desired, done, e)),
        }
    }
    Ok(())
}

fn half_done(cluster: &ApiCluster, desired: &[NodeDeployment], done: usize, e: ApiError) -> anyhow::Error {
    let names = |mds: &[NodeDeployment]| {
        mds.iter()
            .map(|m| format!("{:?}", m.name.clone().unwrap_or_default()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let exists = if done == 0 {
        String::new()
    } else {
        format!(" and its machine deployments {}", names(&desired[..done]))
    };
    anyhow::anyhow!(
        "{e}\ncluster {}{exists} exist; machine deployment(s) {} are not applied. Fix the cause and run the same command again to finish.",
        super::shown(cluster),
        names(&desired[done..])
    )
}

/// Waits for health (when asked) and applies the machine deployments; without waiting, says how
/// to finish.
pub async fn finish(
    client: &KkpClient,
    converged: &Converged,
    machine_deployments: &[NodeDeployment],
    wait: bool,
    timeout: Duration,
    printer: &Printer,
) -> anyhow::Result<()> {
    let id = converged.cluster.id.clone().unwrap_or_default();
    if !wait {
        if !machine_deployments.is_empty() {
            printer.message(format_args!(
                "{} machine deployment(s) are applied once the cluster is healthy: run the same command again with --wait.",
                machine_deployments.len()
            ));
        }
        return Ok(());
    }
    let deadline = Deadline::new(timeout);
    health::until_healthy(
        client,
        &id,
        &format!("waiting for cluster {}", super::shown(&converged.cluster)),
        deadline,
        printer,
    )
    .await?;
    ensure_machine_deployments(client, &converged.cluster, machine_deployments, printer).await?;
    printer.message(format_args!(
        "Cluster {} is healthy. Get its kubeconfig with: kubectl kkp get kubeconfig {id} --merge --set-current",
        super::shown(&converged.cluster)
    ));
    Ok(())
}

/// `create cluster` through the API: the locally checked (defaulted) Cluster and
/// MachineDeployments become a `CreateClusterSpec`; the first MachineDeployment is the initial
/// node deployment, the others are created once the cluster is healthy.
pub async fn create_from_objects(
    client: &KkpClient,
    objects: Vec<Value>,
    credential: Option<&str>,
    dry_run: bool,
    wait: bool,
    timeout: Duration,
    printer: &Printer,
) -> anyhow::Result<()> {
    use kkp_crds::request::ResourceKind;
    let mut cluster = None;
    let mut mds = Vec::new();
    for object in objects {
        match ResourceKind::of(&object) {
            ResourceKind::Cluster => cluster = Some(object),
            ResourceKind::MachineDeployment => mds.push(object),
            ResourceKind::Other { .. } => anyhow::bail!(
                "the template makes a {} object: through the KKP API only a KKP Cluster and its MachineDeployments can be created",
                object.get("kind").and_then(Value::as_str).unwrap_or("foreign")
            ),
        }
    }
    let cluster = cluster.ok_or_else(|| anyhow::anyhow!("the template makes no KKP Cluster"))?;
    let (spec, later) = crate::kkp_api::convert::create_spec(&cluster, &mds, credential);
    if dry_run {
        let mut out = vec![serde_json::to_value(&spec)?];
        out.extend(later.iter().map(serde_json::to_value).collect::<Result<Vec<_>, _>>()?);
        printer.objects(&out, crate::output::OutputFormat::Json);
        printer.message(format_args!("(dry run: nothing was sent)"));
        return Ok(());
    }
    let (converged, mut pending) = converge_cluster(client, &spec, printer).await?;
    pending.extend(later);
    finish(client, &converged, &pending, wait, timeout, printer).await
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn cluster(v: Value) -> ApiCluster {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn a_patch_carries_only_what_differs_and_the_api_applies() {
        let existing = cluster(json!({"id": "a", "name": "demo", "labels": {"x": "1"},
            "spec": {"cloud": {"dc": "d", "kubevirt": {}}, "version": "1.35.8", "exposeStrategy": "NodePort",
                "cniPlugin": {"type": "cilium", "version": "1.19.4"}}}));
        let mut desired = existing.clone();
        desired.id = None;
        desired
            .spec
            .cloud
            .providers
            .insert("kubevirt".into(), json!({"credentialsReference": {"name": "c"}}));
        desired
            .spec
            .rest
            .insert("clusterNetwork".into(), json!({"proxyMode": "ipvs"}));
        desired.spec.version = Some("v1.35.8".into());
        assert_eq!(
            cluster_patch(&existing, &desired),
            None,
            "nothing the API patches differs"
        );
        desired.labels = BTreeMap::from([("x".into(), "1".into()), ("team".into(), "a".into())]);
        desired.spec.version = Some("1.36.4".into());
        desired.spec.rest.insert("cniPlugin".into(), json!({"type": "cilium"}));
        assert_eq!(
            cluster_patch(&existing, &desired),
            Some(json!({"labels": {"team": "a"}, "spec": {"version": "1.36.4"}}))
        );
    }

    #[test]
    fn a_machine_deployment_patch_carries_replicas_and_template_changes() {
        let md = |replicas: i32, image: &str| -> NodeDeployment {
            serde_json::from_value(json!({"name": "w", "spec": {"replicas": replicas, "template": {
                "cloud": {"kubevirt": {"primaryDiskOSImage": image}}, "operatingSystem": {"ubuntu": {}},
                "versions": {"kubelet": "1.35.8"}}}}))
            .unwrap()
        };
        assert_eq!(machine_deployment_patch(&md(1, "a"), &md(1, "a")), None);
        assert_eq!(
            machine_deployment_patch(&md(1, "a"), &md(3, "a")),
            Some(json!({"spec": {"replicas": 3}}))
        );
        let p = machine_deployment_patch(&md(1, "a"), &md(1, "b")).unwrap();
        assert_eq!(p["spec"]["template"]["cloud"]["kubevirt"]["primaryDiskOSImage"], "b");
    }

    #[test]
    fn a_half_applied_run_says_what_exists_and_how_to_finish() {
        let c = cluster(json!({"id": "abc1234567", "name": "demo"}));
        let md = |n: &str| -> NodeDeployment { serde_json::from_value(json!({"name": n})).unwrap() };
        let error = ApiError::Status {
            status: 500,
            method: "POST".into(),
            url: "https://kkp/x".into(),
            message: "unknown operating system".into(),
        };
        let text = half_done(&c, &[md("a"), md("b")], 1, error).to_string();
        assert!(text.contains("unknown operating system"), "{text}");
        assert!(
            text.contains("cluster \"demo\" (ID abc1234567) and its machine deployments \"a\" exist"),
            "{text}"
        );
        assert!(text.contains("machine deployment(s) \"b\" are not applied"), "{text}");
        assert!(text.contains("run the same command again to finish"), "{text}");
    }
}
