//! `get clusters`, `describe cluster`, `get kubeconfig` and `delete cluster(s)` through the KKP
//! REST API. Clusters are named by their human-readable name or their ID. `get clusters` and `get
//! kubeconfig` include the project's imported clusters (TYPE `external`).

use std::time::Duration;

use serde_json::Value;

use super::health;
use crate::commands::confirm;
use crate::commands::get::table;
use crate::k8s::trust::{self, AllowArgs};
use crate::k8s::wait::Deadline;
use crate::kkp_api::client::ApiError;
use crate::kkp_api::client::KkpClient;
use crate::kkp_api::clusters::FindError;
use crate::kkp_api::external::named;
use crate::kkp_api::models::{ApiCluster, ExternalCluster, NodeDeployment};
use crate::output::OutputFormat;
use crate::printer::Printer;

const HEADERS: [&str; 9] = [
    "NAME",
    "ID",
    "PROVIDER",
    "DATACENTER",
    "VERSION",
    "MACHINE DEPLOYMENTS",
    "STATE",
    "AGE",
    "TYPE",
];

/// A cluster of the project: one KKP runs, or one imported into it.
#[derive(Clone, Debug)]
enum Listed {
    Kkp(ApiCluster),
    External(ExternalCluster),
}

impl Listed {
    fn name(&self) -> &str {
        match self {
            Listed::Kkp(c) => &c.name,
            Listed::External(c) => &c.name,
        }
    }

    fn id(&self) -> Option<&str> {
        match self {
            Listed::Kkp(c) => c.id.as_deref(),
            Listed::External(c) => c.id.as_deref(),
        }
    }

    fn to_value(&self) -> serde_json::Result<Value> {
        match self {
            Listed::Kkp(c) => serde_json::to_value(c),
            Listed::External(c) => serde_json::to_value(c),
        }
    }

    fn row(&self, now: k8s_openapi::jiff::Timestamp) -> Vec<String> {
        match self {
            Listed::Kkp(c) => row(c, now),
            Listed::External(c) => external_row(c, now),
        }
    }
}

/// An imported cluster's row: the API's `status.state` as its STATE.
fn external_row(c: &ExternalCluster, now: k8s_openapi::jiff::Timestamp) -> Vec<String> {
    vec![
        c.name.clone(),
        c.id.clone().unwrap_or_default(),
        c.provider().unwrap_or("<none>").to_owned(),
        "<none>".into(),
        c.version().unwrap_or("<none>").to_owned(),
        "<none>".into(),
        if c.deletion_timestamp.is_some() {
            "Deleting".into()
        } else {
            c.state().unwrap_or("<unknown>").to_owned()
        },
        table::age_since(c.creation_timestamp.as_deref(), now),
        "external".into(),
    ]
}

/// The project's imported clusters; none where the installation has importing switched off (the
/// API answers 403 or 404 for these routes then).
async fn external_clusters(client: &KkpClient) -> anyhow::Result<Vec<ExternalCluster>> {
    match client.list_external_clusters().await {
        Ok(list) => Ok(list),
        Err(e @ (ApiError::Forbidden { .. } | ApiError::NotFound { .. })) => {
            tracing::debug!("not listing imported clusters: {e}");
            Ok(Vec::new())
        }
        Err(e) => Err(e.into()),
    }
}

fn row(c: &ApiCluster, now: k8s_openapi::jiff::Timestamp) -> Vec<String> {
    vec![
        c.name.clone(),
        c.id.clone().unwrap_or_default(),
        c.spec.cloud.provider().unwrap_or("<none>").to_owned(),
        c.spec.cloud.dc.clone(),
        c.status
            .as_ref()
            .and_then(|s| s.version.clone())
            .or_else(|| c.spec.version.clone())
            .unwrap_or_else(|| "<none>".into()),
        c.machine_deployment_count
            .map(|n| n.to_string())
            .unwrap_or_else(|| "<unknown>".into()),
        if c.deletion_timestamp.is_some() {
            "Deleting".into()
        } else {
            "Active".into()
        },
        table::age_since(c.creation_timestamp.as_deref(), now),
        "kkp".into(),
    ]
}

/// Whether `labels` match a `k=v,k2!=v2,k3` selector.
fn selected(labels: &std::collections::BTreeMap<String, String>, selector: Option<&str>) -> anyhow::Result<bool> {
    let Some(selector) = selector else { return Ok(true) };
    for term in selector.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        let ok = if let Some((k, v)) = term.split_once("!=") {
            labels.get(k.trim()).map(String::as_str) != Some(v.trim())
        } else if let Some((k, v)) = term.split_once("==").or_else(|| term.split_once('=')) {
            labels.get(k.trim()).map(String::as_str) == Some(v.trim())
        } else if let Some(k) = term.strip_prefix('!') {
            !labels.contains_key(k)
        } else if term.chars().all(|ch| ch.is_ascii_alphanumeric() || "-_./".contains(ch)) {
            labels.contains_key(term)
        } else {
            anyhow::bail!(
                "-l/--selector {selector:?}: {term:?} is not a label selector (key=value, key!=value, key, !key)"
            );
        };
        if !ok {
            return Ok(false);
        }
    }
    Ok(true)
}

/// `get clusters [NAME...]`.
pub async fn get(
    client: &KkpClient,
    names: &[String],
    format: Option<OutputFormat>,
    selector: Option<&str>,
    with_headers: bool,
    printer: &Printer,
) -> anyhow::Result<()> {
    let all = client.list_clusters().await?;
    let imported = external_clusters(client).await?;
    let mut found = Vec::new();
    if names.is_empty() {
        for c in all {
            if selected(&c.labels, selector)? {
                found.push(Listed::Kkp(c));
            }
        }
        for c in imported {
            if selected(&c.labels, selector)? {
                found.push(Listed::External(c));
            }
        }
        found.sort_by(|a, b| a.name().cmp(b.name()).then(a.id().cmp(&b.id())));
    } else {
        for name in names {
            found.push(pick_any(all.clone(), &imported, name, client.project())?);
        }
    }
    match format {
        None if found.is_empty() => {
            printer.message(format_args!("No clusters found in KKP project {}.", client.project()))
        }
        None => {
            let now = k8s_openapi::jiff::Timestamp::now();
            let rows: Vec<Vec<String>> = found.iter().map(|c| c.row(now)).collect();
            printer.data_text(&table::render(&HEADERS, &rows, with_headers));
        }
        Some(OutputFormat::Name) => {
            for c in &found {
                printer.data(format_args!("{}", c.id().unwrap_or(c.name())));
            }
        }
        Some(format) => {
            let values: Vec<Value> = found.iter().map(Listed::to_value).collect::<Result<_, _>>()?;
            let value = if names.len() == 1 {
                values.into_iter().next().unwrap_or_default()
            } else {
                serde_json::json!({"clusters": values})
            };
            printer.objects(&[value], format);
        }
    }
    Ok(())
}

/// The KKP cluster `name` names, else the one imported cluster it names.
fn pick_any(
    clusters: Vec<ApiCluster>,
    imported: &[ExternalCluster],
    name: &str,
    project: &str,
) -> Result<Listed, FindError> {
    match crate::kkp_api::clusters::pick(clusters, name, project) {
        Ok(c) => Ok(Listed::Kkp(c)),
        Err(FindError::NotFound { .. }) => match named(imported, name).as_slice() {
            [one] => Ok(Listed::External((*one).clone())),
            [] => Err(FindError::NotFound {
                name: name.to_owned(),
                project: project.to_owned(),
            }),
            many => Err(FindError::Ambiguous {
                name: name.to_owned(),
                project: project.to_owned(),
                count: many.len(),
                ids: many.iter().filter_map(|c| c.id.clone()).collect(),
            }),
        },
        Err(e) => Err(e),
    }
}

/// `describe cluster NAME`: a KKP cluster with each component's health and its machine
/// deployments, or an imported cluster with its state and version.
pub async fn describe(client: &KkpClient, name: &str, printer: &Printer) -> anyhow::Result<()> {
    let all = client.list_clusters().await?;
    let imported = external_clusters(client).await?;
    let cluster = match pick_any(all, &imported, name, client.project())? {
        Listed::Kkp(cluster) => cluster,
        Listed::External(cluster) => {
            printer.data_text(&describe_external_text(&cluster, client.project()));
            return Ok(());
        }
    };
    let id = cluster.id.clone().unwrap_or_default();
    let health = client.cluster_health(&id).await?;
    let mds = client.list_machine_deployments(&id).await?;
    printer.data_text(&describe_text(&cluster, client.project(), &health, &mds));
    Ok(())
}

/// An imported cluster: what KKP found when it connected (`status.state`, `statusMessage`) and the
/// version it reported.
fn describe_external_text(cluster: &ExternalCluster, project: &str) -> String {
    let mut out = String::new();
    let mut line = |k: &str, v: &str| out.push_str(&format!("{:<13}{v}\n", format!("{k}:")));
    line("Name", &cluster.name);
    line("ID", cluster.id.as_deref().unwrap_or("<none>"));
    line("Project", project);
    line("Type", "external (imported into KKP)");
    line("Provider", cluster.provider().unwrap_or("<none>"));
    line("Version", cluster.version().unwrap_or("<unknown>"));
    line("State", cluster.state().unwrap_or("<unknown>"));
    if let Some(message) = cluster
        .status
        .get("statusMessage")
        .and_then(Value::as_str)
        .filter(|m| !m.is_empty())
    {
        line("Message", message);
    }
    line("Created", cluster.creation_timestamp.as_deref().unwrap_or("<unknown>"));
    if let Some(at) = &cluster.deletion_timestamp {
        line("Deleting", &format!("since {at}"));
    }
    out
}

fn describe_text(
    cluster: &ApiCluster,
    project: &str,
    health: &crate::kkp_api::models::ClusterHealth,
    mds: &[NodeDeployment],
) -> String {
    let mut out = String::new();
    let mut line = |k: &str, v: &str| out.push_str(&format!("{:<13}{v}\n", format!("{k}:")));
    line("Name", &cluster.name);
    line("ID", cluster.id.as_deref().unwrap_or("<none>"));
    line("Project", project);
    line(
        "Version",
        cluster
            .status
            .as_ref()
            .and_then(|s| s.version.as_deref())
            .or(cluster.spec.version.as_deref())
            .unwrap_or("<none>"),
    );
    line("Provider", cluster.spec.cloud.provider().unwrap_or("<none>"));
    line("Datacenter", &cluster.spec.cloud.dc);
    line(
        "URL",
        cluster
            .status
            .as_ref()
            .and_then(|s| s.url.as_deref())
            .unwrap_or("<none>"),
    );
    line("Created", cluster.creation_timestamp.as_deref().unwrap_or("<unknown>"));
    if let Some(at) = &cluster.deletion_timestamp {
        line("Deleting", &format!("since {at}"));
    }
    let missing = health.not_up();
    out.push_str(&format!(
        "Health:      {}\n",
        if missing.is_empty() {
            "every required component is up".to_owned()
        } else {
            format!("waiting for {}", missing.join(", "))
        }
    ));
    for (component, status) in &health.0 {
        let status = status.strip_prefix("HealthStatus").unwrap_or(status);
        out.push_str(&format!(
            "  {component:<30} {}\n",
            if status.is_empty() { "Unknown" } else { status }
        ));
    }
    if mds.is_empty() {
        out.push_str("Machine deployments: none\n");
    } else {
        out.push_str("Machine deployments:\n");
        let rows: Vec<Vec<String>> = mds
            .iter()
            .map(|m| {
                let status = m.status.clone().unwrap_or_default();
                let count = |k: &str| status.get(k).and_then(Value::as_i64).unwrap_or(0).to_string();
                vec![
                    format!("  {}", m.name.clone().or(m.id.clone()).unwrap_or_default()),
                    m.spec.replicas.to_string(),
                    count("readyReplicas"),
                    count("availableReplicas"),
                    m.spec.template.versions.kubelet.clone().unwrap_or_default(),
                    m.spec
                        .template
                        .operating_system
                        .keys()
                        .next()
                        .cloned()
                        .unwrap_or_default(),
                    m.spec.template.cloud.keys().next().cloned().unwrap_or_default(),
                ]
            })
            .collect();
        out.push_str(&table::render(
            &["  NAME", "REPLICAS", "READY", "AVAILABLE", "KUBELET", "OS", "PROVIDER"],
            &rows,
            true,
        ));
    }
    out
}

/// `get kubeconfig NAME`: the cluster's admin kubeconfig as text, and the cluster's ID. A
/// kubeconfig that runs a program or reads local files is refused unless `allow` accepts it, as
/// one read from a Secret is.
pub async fn kubeconfig(client: &KkpClient, name: &str, allow: AllowArgs) -> anyhow::Result<(String, String)> {
    let all = client.list_clusters().await?;
    let imported = external_clusters(client).await?;
    let (text, id) = match pick_any(all, &imported, name, client.project())? {
        Listed::Kkp(cluster) => {
            let id = cluster.id.clone().unwrap_or_default();
            (client.kubeconfig(&id).await?, id)
        }
        Listed::External(cluster) => {
            let id = cluster.id.clone().unwrap_or_default();
            (client.external_kubeconfig(&id).await?, id)
        }
    };
    check_kubeconfig(&text, &id, allow)?;
    Ok((text, id))
}

/// Refuses a kubeconfig from the API that would run a program or read local files here.
pub fn check_kubeconfig(text: &str, id: &str, allow: AllowArgs) -> anyhow::Result<()> {
    let findings: Vec<String> = trust::inspect(text)
        .map_err(|e| anyhow::anyhow!("the kubeconfig the KKP API returned for cluster {id} is not YAML: {e}"))?
        .into_iter()
        .filter(|f| match f.risk {
            trust::Risk::RunsProgram => !allow.allow_exec,
            trust::Risk::ReadsFile => !allow.allow_file_references,
        })
        .map(|f| f.to_string())
        .collect();
    if findings.is_empty() {
        return Ok(());
    }
    anyhow::bail!(
        "the kubeconfig the KKP API returned for cluster {id} would run a program or read local files on this machine ({}); if you trust it, pass --allow-exec or --allow-file-references",
        findings.join("; ")
    )
}

/// What `delete cluster(s)` was asked.
#[derive(Clone, Debug)]
pub struct DeleteOptions {
    pub yes: bool,
    pub wait: bool,
    pub timeout: Duration,
    pub ignore_not_found: bool,
}

/// `delete cluster NAME`.
pub async fn delete_one(client: &KkpClient, name: &str, opts: &DeleteOptions, printer: &Printer) -> anyhow::Result<()> {
    let cluster = match client.find_cluster(name).await {
        Ok(c) => c,
        Err(crate::kkp_api::clusters::FindError::NotFound { .. }) if opts.ignore_not_found => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    let shown = super::shown(&cluster);
    if !opts.yes
        && !confirm::ask(
            printer,
            format_args!("Delete cluster {shown} of KKP project {}? [y/N] ", client.project()),
            "delete",
            format_args!("cluster {shown}"),
        )?
    {
        anyhow::bail!("aborted; cluster {shown} was not deleted");
    }
    delete_clusters(client, &[cluster], opts, printer).await
}

/// `delete clusters --all`: every cluster of the project (the seed's delete-all).
pub async fn delete_all(client: &KkpClient, opts: &DeleteOptions, printer: &Printer) -> anyhow::Result<()> {
    let clusters = client.list_clusters().await?;
    if clusters.is_empty() {
        printer.message(format_args!("No clusters in KKP project {}.", client.project()));
        return Ok(());
    }
    let names: Vec<String> = clusters.iter().map(super::shown).collect();
    if !opts.yes
        && !confirm::ask(
            printer,
            format_args!(
                "Delete all {} clusters of KKP project {} ({})? [y/N] ",
                clusters.len(),
                client.project(),
                names.join(", ")
            ),
            "delete",
            format_args!("every cluster of KKP project {}", client.project()),
        )?
    {
        anyhow::bail!("aborted; no cluster was deleted");
    }
    delete_clusters(client, &clusters, opts, printer).await
}

async fn delete_clusters(
    client: &KkpClient,
    clusters: &[ApiCluster],
    opts: &DeleteOptions,
    printer: &Printer,
) -> anyhow::Result<()> {
    for cluster in clusters {
        let id = cluster.id.clone().unwrap_or_default();
        match client.delete_cluster(&id, true, true).await {
            Ok(()) => printer.data(format_args!("cluster {} deleted", super::shown(cluster))),
            Err(crate::kkp_api::client::ApiError::NotFound { .. }) => {
                printer.data(format_args!("cluster {} is already gone", super::shown(cluster)))
            }
            Err(e) => return Err(e.into()),
        }
    }
    if !opts.wait {
        return Ok(());
    }
    let deadline = Deadline::new(opts.timeout);
    for cluster in clusters {
        let id = cluster.id.clone().unwrap_or_default();
        health::until_gone(
            client,
            &id,
            &format!("deleting cluster {}", super::shown(cluster)),
            deadline,
            printer,
        )
        .await?;
        printer.message(format_args!("Cluster {} is gone.", super::shown(cluster)));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::kkp_api::models::ClusterHealth;

    #[test]
    fn a_kubeconfig_that_runs_a_program_is_refused_unless_allowed() {
        let text = "apiVersion: v1\nkind: Config\nusers:\n- name: u\n  user:\n    exec:\n      command: /bin/sh\n";
        let e = check_kubeconfig(text, "abc", AllowArgs::default())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("cluster abc") && e.contains("exec") && e.contains("--allow-exec"),
            "{e}"
        );
        let allow = AllowArgs {
            allow_exec: true,
            ..AllowArgs::default()
        };
        check_kubeconfig(text, "abc", allow).unwrap();
        check_kubeconfig("apiVersion: v1\nkind: Config\n", "abc", AllowArgs::default()).unwrap();
    }

    #[test]
    fn imported_clusters_are_listed_and_found_with_type_external() {
        let now: k8s_openapi::jiff::Timestamp = "2026-01-01T01:00:00Z".parse().unwrap();
        let imported: ExternalCluster = serde_json::from_value(serde_json::json!({
            "id": "x7k2m9q4wz", "name": "prod", "creationTimestamp": "2026-01-01T00:00:00Z",
            "cloud": {"bringYourOwn": {}}, "spec": {"version": "1.36.3"}, "status": {"state": "Running"}
        }))
        .unwrap();
        assert_eq!(
            external_row(&imported, now),
            [
                "prod",
                "x7k2m9q4wz",
                "bringYourOwn",
                "<none>",
                "1.36.3",
                "<none>",
                "Running",
                "60m",
                "external"
            ]
        );
        let kkp = ApiCluster {
            id: Some("a1".into()),
            name: "demo".into(),
            ..ApiCluster::default()
        };
        assert_eq!(row(&kkp, now).last().map(String::as_str), Some("kkp"));
        let found = pick_any(vec![kkp.clone()], std::slice::from_ref(&imported), "prod", "p").unwrap();
        assert!(matches!(found, Listed::External(ref c) if c.id.as_deref() == Some("x7k2m9q4wz")));
        assert!(matches!(
            pick_any(vec![kkp.clone()], &[], "demo", "p").unwrap(),
            Listed::Kkp(_)
        ));
        let e = pick_any(vec![kkp], &[imported.clone(), imported], "prod", "p")
            .unwrap_err()
            .to_string();
        assert!(e.contains("2 clusters") && e.contains("x7k2m9q4wz"), "{e}");
    }

    #[test]
    fn describe_shows_an_imported_cluster_s_state_message_and_version() {
        let imported: ExternalCluster = serde_json::from_value(serde_json::json!({
            "id": "x7k2m9q4wz", "name": "prod", "creationTimestamp": "2026-01-01T00:00:00Z",
            "cloud": {"bringYourOwn": {}}, "spec": {"version": "1.36.3"},
            "status": {"state": "Error", "statusMessage": "cannot reach the cluster"}
        }))
        .unwrap();
        let text = describe_external_text(&imported, "p1");
        for line in [
            "Name:        prod",
            "ID:          x7k2m9q4wz",
            "Project:     p1",
            "Type:        external (imported into KKP)",
            "Provider:    bringYourOwn",
            "Version:     1.36.3",
            "State:       Error",
            "Message:     cannot reach the cluster",
        ] {
            assert!(text.lines().any(|l| l == line), "{line:?} in\n{text}");
        }
        let fresh: ExternalCluster = serde_json::from_value(serde_json::json!({"name": "new"})).unwrap();
        let text = describe_external_text(&fresh, "p1");
        assert!(
            text.contains("State:       <unknown>") && !text.contains("Message:"),
            "{text}"
        );
    }

    #[test]
    fn label_selectors_match_like_kubectls() {
        let c = ApiCluster {
            labels: BTreeMap::from([("team".into(), "a".into()), ("env".into(), "prod".into())]),
            ..ApiCluster::default()
        };
        for (selector, expected) in [
            ("team=a", true),
            ("team=b", false),
            ("team!=b,env", true),
            ("!env", false),
            ("team==a", true),
        ] {
            assert_eq!(selected(&c.labels, Some(selector)).unwrap(), expected, "{selector}");
        }
        assert!(
            selected(&c.labels, Some("a in (b)"))
                .unwrap_err()
                .to_string()
                .contains("--selector")
        );
    }

    #[test]
    fn describe_shows_health_per_component_and_machine_deployments() {
        let cluster: ApiCluster = serde_json::from_value(serde_json::json!({
            "id": "abc", "name": "demo", "spec": {"cloud": {"dc": "kv", "kubevirt": {}}, "version": "1.35.8"},
            "status": {"version": "1.35.8", "url": "https://abc.example:6443"}
        }))
        .unwrap();
        let health = ClusterHealth(BTreeMap::from([
            ("apiserver".into(), "HealthStatusUp".into()),
            ("etcd".into(), "HealthStatusDown".into()),
        ]));
        let md: NodeDeployment = serde_json::from_value(serde_json::json!({
            "id": "pool", "name": "pool", "status": {"readyReplicas": 1, "availableReplicas": 1},
            "spec": {"replicas": 2, "template": {"cloud": {"kubevirt": {}}, "operatingSystem": {"ubuntu": {}}, "versions": {"kubelet": "1.35.8"}}}
        }))
        .unwrap();
        let text = describe_text(&cluster, "p1", &health, &[md]);
        for expected in [
            "Name:        demo",
            "ID:          abc",
            "Provider:    kubevirt",
            "Datacenter:  kv",
            "etcd",
            "Down",
            "pool",
            "ubuntu",
        ] {
            assert!(text.contains(expected), "{expected:?} in\n{text}");
        }
        assert!(text.contains("waiting for "), "{text}");
    }
}
