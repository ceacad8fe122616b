//! `kubectl kkp apply -f FILE...`: the KKP API's own payload files (a `CreateClusterSpec` like the
//! seed's `cluster.json`, `NodeDeployment`s like its `machine_deployment_*.json` and `Addon`s like
//! its `addon-*.json` with `--cluster`) checked locally and applied with create-or-patch semantics; plain machine-controller
//! `MachineDeployment` objects (`md.yaml`) go into the user cluster's `kube-system` through the
//! kubeconfig the API hands out, as `create` sends workers; without the API, through the
//! management cluster (`commands::apply_workers`).

use std::path::PathBuf;
use std::time::Duration;

use kkp_crds::machine::MACHINE_DEPLOYMENT_NAMESPACE;
use kkp_crds::versions::VersionCatalog;
use serde::Deserialize as _;
use serde_json::Value;

use super::create;
use crate::cli::apply::ApplyArgs;
use crate::commands::verdicts::admit::{self, CheckOptions, Input};
use crate::exit::{ExitStatus, Outcome};
use crate::k8s::apply::{Applier, ApplyOptions};
use crate::k8s::client::Connection;
use crate::k8s::wait::Deadline;
use crate::kkp_api::client::{ApiError, KkpClient};
use crate::kkp_api::convert;
use crate::kkp_api::models::{Addon, ApiCluster, CreateClusterSpec, NodeDeployment};
use crate::kkp_api::payload::{self, Payload};
use crate::platform::Platform;
use crate::printer::Printer;
use crate::settings::GlobalSettings;

/// One document of the files, checked.
#[derive(Debug)]
enum Item {
    Cluster(Box<CreateClusterSpec>),
    NodeDeployment(Box<NodeDeployment>),
    Addon(Box<Addon>),
    MachineDeployment(Value),
}

fn read_documents(path: &PathBuf) -> anyhow::Result<Vec<Value>> {
    let shown = path.display();
    let text = std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("-f {shown}: {e}"))?;
    let mut out = Vec::new();
    for (i, doc) in serde_yaml::Deserializer::from_str(&text).enumerate() {
        let value = Value::deserialize(doc).map_err(|e| anyhow::anyhow!("-f {shown}: document {}: {e}", i + 1))?;
        match list_items(&value) {
            // A List (what `generate -o json` prints for several objects) stands for its items.
            Some(items) => out.extend(items.iter().filter(|v| !v.is_null()).cloned()),
            None if !value.is_null() => out.push(value),
            None => {}
        }
    }
    if out.is_empty() {
        anyhow::bail!("-f {shown}: the file holds nothing to apply");
    }
    Ok(out)
}

/// The items of a `v1` `List` (or any `...List` kind with `items`), as kubectl apply reads them.
fn list_items(value: &Value) -> Option<&Vec<Value>> {
    let kind = value.get("kind")?.as_str()?;
    if !kind.ends_with("List") {
        return None;
    }
    value.get("items")?.as_array()
}

/// What the admission engine refuses in a MachineDeployment, as `MachineDeployment NAME: ...`.
fn engine_refusals(object: Value) -> Vec<String> {
    let opts = CheckOptions {
        platform: Platform::builtin(),
        cluster_version: None,
    };
    admit::check(vec![Input::generated(object)], &opts)
        .iter()
        .flat_map(|c| {
            let name = c.name();
            c.messages()
                .into_iter()
                .map(move |m| format!("MachineDeployment {name}: {m}"))
        })
        .collect()
}

/// The documents of the files, checked: what is to be sent, and what stops it.
#[derive(Debug, Default)]
struct Checked {
    items: Vec<(String, Item)>,
    /// `FILE: what is wrong`, one per problem.
    refusals: Vec<String>,
}

/// Checks every document of every file (warnings go to stderr as they are found).
fn check_files(args: &ApplyArgs, printer: &Printer) -> anyhow::Result<Checked> {
    let catalog = VersionCatalog::default();
    let mut items = Vec::new();
    let mut refusals = Vec::new();
    for path in &args.files {
        let file = path.display().to_string();
        for doc in read_documents(path)? {
            if doc.get("kind").and_then(Value::as_str) == Some("MachineDeployment")
                && doc.get("apiVersion").and_then(Value::as_str) == Some("cluster.k8s.io/v1alpha1")
            {
                for message in engine_refusals(doc.clone()) {
                    refusals.push(format!("{file}: {message}"));
                }
                items.push((file.clone(), Item::MachineDeployment(doc)));
                continue;
            }
            let verdict = payload::check(&doc, &catalog);
            for p in &verdict.problems {
                refusals.push(format!("{file}: {p}"));
            }
            if !verdict.dropped_nulls.is_empty() {
                tracing::info!(file, fields = ?verdict.dropped_nulls, "null fields dropped");
            }
            match verdict.payload {
                Some(Payload::Cluster(c)) => items.push((file.clone(), Item::Cluster(c))),
                Some(Payload::MachineDeployment(m)) => {
                    // The engine checks the MachineDeployment the NodeDeployment stands for. KKP
                    // completes the provider's machine settings from the cluster and its
                    // datacenter, so what the engine misses there is a warning, not a refusal.
                    if verdict.problems.is_empty() {
                        let object = convert::machine_deployment_from_api(&m, "cluster");
                        for message in engine_refusals(object) {
                            if message.contains("providerSpec.value.cloudProviderSpec") {
                                printer.message(format_args!(
                                    "Warning: {file}: {message} (KKP fills it from the datacenter if it can)"
                                ));
                            } else {
                                refusals.push(format!("{file}: {message}"));
                            }
                        }
                    }
                    items.push((file.clone(), Item::NodeDeployment(m)));
                }
                Some(Payload::Addon(a)) => items.push((file.clone(), Item::Addon(a))),
                None => {}
            }
        }
    }
    Ok(Checked { items, refusals })
}

/// Reports every refusal and what to do on stderr: nothing is sent.
fn refuse(refusals: &[String], printer: &Printer) -> ExitStatus {
    for r in refusals {
        printer.message(r);
    }
    printer.error(format_args!(
        "{} problem(s) in the files; nothing was sent. Today's KKP (2.31) refuses them; fix each field as said and run the command again",
        refusals.len()
    ));
    ExitStatus::Failure
}

pub async fn run(args: ApplyArgs, g: &GlobalSettings, printer: &Printer) -> Outcome {
    let Checked { items, refusals } = check_files(&args, printer)?;
    if !refusals.is_empty() {
        return Ok(refuse(&refusals, printer));
    }
    if args.dry_run {
        for (file, item) in &items {
            match item {
                Item::Cluster(c) => printer.data(format_args!(
                    "{file}: cluster {:?} would be created, or patched if the project has it",
                    c.cluster.name
                )),
                Item::NodeDeployment(m) => printer.data(format_args!(
                    "{file}: machine deployment {:?} would be created or patched in cluster {}",
                    m.name.clone().unwrap_or_default(),
                    args.cluster.as_deref().unwrap_or("(the cluster applied with it)")
                )),
                Item::Addon(a) => printer.data(format_args!(
                    "{file}: addon {:?} would be created or patched in cluster {}",
                    a.name,
                    args.cluster.as_deref().unwrap_or("(the cluster applied with it)")
                )),
                Item::MachineDeployment(m) => printer.data(format_args!(
                    "{file}: MachineDeployment {:?} would be applied into the user cluster's kube-system",
                    m.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default()
                )),
            }
        }
        printer.message(format_args!("(dry run: the files are valid; nothing was sent)"));
        return Ok(ExitStatus::Success);
    }
    let Some(client) = super::client(g)? else {
        // Without the KKP API only MachineDeployment objects can be applied: through the
        // management cluster into the user cluster.
        let mut objects = Vec::new();
        for (file, item) in items {
            match item {
                Item::MachineDeployment(m) => objects.push(m),
                _ => {
                    super::required_client(g, &format!("apply -f {file} (a KKP API payload file)"))?;
                }
            }
        }
        return crate::commands::apply_workers::run(
            args.cluster.as_deref(),
            objects,
            args.wait,
            args.timeout,
            g,
            printer,
        )
        .await;
    };
    let deadline = Deadline::new(args.timeout);
    let mut target = None;
    for (_, item) in &items {
        if let Item::Cluster(spec) = item {
            let (converged, mds) = create::converge_cluster(&client, spec, printer).await?;
            let remaining = deadline_left(deadline, args.timeout);
            create::finish(&client, &converged, &mds, args.wait, remaining, printer).await?;
            target = Some(converged.cluster);
        }
    }
    let node_deployments: Vec<NodeDeployment> = items
        .iter()
        .filter_map(|(_, i)| match i {
            Item::NodeDeployment(m) => Some((**m).clone()),
            _ => None,
        })
        .collect();
    let objects: Vec<Value> = items
        .iter()
        .filter_map(|(_, i)| match i {
            Item::MachineDeployment(m) => Some(m.clone()),
            _ => None,
        })
        .collect();
    let addons: Vec<Addon> = items
        .iter()
        .filter_map(|(_, i)| match i {
            Item::Addon(a) => Some((**a).clone()),
            _ => None,
        })
        .collect();
    if node_deployments.is_empty() && objects.is_empty() && addons.is_empty() {
        return Ok(ExitStatus::Success);
    }
    let cluster = match (&args.cluster, target) {
        (Some(name), _) => client.find_cluster(name).await?,
        (None, Some(c)) => c,
        (None, None) => {
            anyhow::bail!(
                "--cluster NAME|ID is required: machine deployments and addons are applied to an existing cluster"
            )
        }
    };
    let id = cluster.id.clone().unwrap_or_default();
    if args.wait {
        super::health::until_healthy(
            &client,
            &id,
            &format!("waiting for cluster {}", super::shown(&cluster)),
            deadline,
            printer,
        )
        .await?;
    }
    if !node_deployments.is_empty() {
        create::ensure_machine_deployments(&client, &cluster, &node_deployments, printer).await?;
    }
    if !objects.is_empty() {
        apply_into_user_cluster(&client, &id, &objects, printer).await?;
    }
    if !addons.is_empty() {
        ensure_addons(&client, &cluster, &addons, printer).await?;
    }
    Ok(ExitStatus::Success)
}

/// Creates each addon the cluster lacks and patches each one whose settings differ (the seed's
/// `addon-deploy.sh`: look up by name, which is the addon's ID, then PATCH or POST).
async fn ensure_addons(
    client: &KkpClient,
    cluster: &ApiCluster,
    desired: &[Addon],
    printer: &Printer,
) -> anyhow::Result<()> {
    let id = cluster.id.clone().unwrap_or_default();
    let existing = client.list_addons(&id).await?;
    refuse_uninstallable(client, cluster, &existing, desired).await?;
    for (done, addon) in desired.iter().enumerate() {
        let current = existing
            .iter()
            .find(|e| e.name == addon.name || e.id.as_deref() == Some(addon.name.as_str()));
        let result = match current {
            Some(current) if same_settings(current, addon) => Ok("unchanged"),
            Some(current) => client
                .patch_addon(&id, current.id.as_deref().unwrap_or(&addon.name), addon)
                .await
                .map(|_| "configured"),
            None => client.create_addon(&id, addon).await.map(|_| "created"),
        };
        match result {
            Ok(verb) => printer.data(format_args!(
                "addon {:?} of cluster {} {verb}",
                addon.name,
                super::shown(cluster)
            )),
            Err(e) => {
                let names = |addons: &[Addon]| {
                    addons
                        .iter()
                        .map(|a| format!("{:?}", a.name))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                let applied = if done == 0 {
                    String::new()
                } else {
                    format!(" (addons {} are applied)", names(&desired[..done]))
                };
                anyhow::bail!(
                    "{e}\ncluster {} exists{applied}; addon(s) {} are not applied. Fix the cause and run the same command again to finish.",
                    super::shown(cluster),
                    names(&desired[done..])
                );
            }
        }
    }
    Ok(())
}

/// Refuses, before anything is sent, addons the cluster does not have and KKP does not offer
/// (a misspelt name would otherwise be accepted by the API and never installed). Where the
/// installation does not answer `installableaddons` (403, 404), the API's own answer decides.
async fn refuse_uninstallable(
    client: &KkpClient,
    cluster: &ApiCluster,
    existing: &[Addon],
    desired: &[Addon],
) -> anyhow::Result<()> {
    let new: Vec<&Addon> = desired
        .iter()
        .filter(|a| {
            !existing
                .iter()
                .any(|e| e.name == a.name || e.id.as_deref() == Some(a.name.as_str()))
        })
        .collect();
    if new.is_empty() {
        return Ok(());
    }
    let id = cluster.id.clone().unwrap_or_default();
    let offered = match client.installable_addons(&id).await {
        Ok(offered) => offered,
        Err(e @ (ApiError::Forbidden { .. } | ApiError::NotFound { .. })) => {
            tracing::debug!("not checking the addons against the installable ones: {e}");
            return Ok(());
        }
        Err(e) => return Err(e.into()),
    };
    let unknown: Vec<String> = new
        .iter()
        .filter(|a| !offered.contains(&a.name))
        .map(|a| format!("{:?}", a.name))
        .collect();
    if unknown.is_empty() {
        return Ok(());
    }
    let mut offered = offered;
    offered.sort();
    anyhow::bail!(
        "addon(s) {} cannot be installed in cluster {}: KKP offers {}; nothing was sent",
        unknown.join(", "),
        super::shown(cluster),
        if offered.is_empty() {
            "no further addons".to_owned()
        } else {
            offered.join(", ")
        }
    )
}

/// Whether an installed addon already has the settings a file asks for (what the file leaves out
/// is not compared).
fn same_settings(current: &Addon, desired: &Addon) -> bool {
    let spec = &desired.spec;
    spec.variables
        .as_ref()
        .is_none_or(|v| current.spec.variables.as_ref() == Some(v))
        && spec
            .continuously_reconcile
            .is_none_or(|c| current.spec.continuously_reconcile.unwrap_or(false) == c)
        && desired.labels.iter().all(|(k, v)| current.labels.get(k) == Some(v))
        && desired
            .annotations
            .iter()
            .all(|(k, v)| current.annotations.get(k) == Some(v))
}

fn deadline_left(deadline: Deadline, timeout: Duration) -> Duration {
    if deadline.expired() { Duration::ZERO } else { timeout }
}

async fn apply_into_user_cluster(
    client: &KkpClient,
    id: &str,
    objects: &[Value],
    printer: &Printer,
) -> anyhow::Result<()> {
    let text = client.kubeconfig(id).await?;
    super::clusters::check_kubeconfig(&text, id, crate::k8s::trust::AllowArgs::default())?;
    let user = Connection::from_kubeconfig_text(&text, &format!("the kubeconfig of cluster {id}")).await?;
    let mut applier = Applier::new(
        &user,
        ApplyOptions {
            dry_run: false,
            force_conflicts: false,
        },
    );
    for object in objects {
        let mut object = object.clone();
        object["metadata"]["namespace"] = MACHINE_DEPLOYMENT_NAMESPACE.into();
        let done = applier
            .apply(&object)
            .await
            .map_err(|e| anyhow::anyhow!("cluster {id} exists, but {e}; run the same command again to finish"))?;
        printer.data(format_args!("{}", done.summary()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_stands_for_its_items_and_other_documents_for_themselves() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("mds.yaml");
        std::fs::write(
            &file,
            "apiVersion: v1\nkind: List\nitems:\n- {kind: MachineDeployment, metadata: {name: a}}\n\
             - {kind: MachineDeployment, metadata: {name: b}}\n---\n\
             kind: MachineDeployment\nmetadata: {name: c}\n---\n",
        )
        .unwrap();
        let names: Vec<String> = read_documents(&file)
            .unwrap()
            .iter()
            .map(|d| d["metadata"]["name"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(names, ["a", "b", "c"]);
        std::fs::write(&file, "apiVersion: v1\nkind: List\nitems: []\n").unwrap();
        let e = read_documents(&file).unwrap_err().to_string();
        assert!(e.contains("holds nothing to apply"), "{e}");
    }
}
