//! `kubectl kkp describe cluster NAME`: the cluster as a tree of its state, component health,
//! conditions and machine deployments (read from the user cluster when it can be reached).

mod style;
mod tree;

use std::time::Duration;

use kube::Api;
use kube::api::{DynamicObject, ListParams};
use serde_json::Value;

use self::style::Style;
use self::tree::Node;
use super::get::table::age_since;
use crate::cli::describe::{DescribeClusterArgs, DescribeCommand, DescribeWhat};
use crate::exit::{ExitStatus, Outcome};
use crate::k8s::client::Connection;
use crate::k8s::resources;
use crate::k8s::secret::{self, Convention, LookupError};
use crate::k8s::trust::{self, AllowArgs};
use crate::k8s::{errors, external, kkp};
use crate::printer::Printer;
use crate::settings::GlobalSettings;

/// How long describe waits for the user cluster before saying it is unreachable.
const USER_CLUSTER_TIMEOUT: Duration = Duration::from_secs(15);

pub async fn run(cmd: DescribeCommand, g: &GlobalSettings, printer: &Printer) -> Outcome {
    let DescribeWhat::Cluster(args) = cmd.what;
    match super::api::client(g)? {
        Some(client) => super::api::clusters::describe(&client, &args.name, printer).await?,
        None => cluster(args, g, printer).await?,
    }
    Ok(ExitStatus::Success)
}

/// An imported cluster (ExternalCluster): what KKP's external-cluster controller reports of it.
fn describe_imported(cluster: &Value) -> String {
    let text = |pointer: &str| kkp::text(cluster, pointer).unwrap_or("<none>");
    let kubeconfig = external::kubeconfig_reference(cluster)
        .map_or_else(|| "<none>".to_owned(), |(name, ns)| format!("Secret {ns}/{name}"));
    let rows = [
        ("Name", text("/metadata/name").to_owned()),
        (
            "Type",
            format!("external (imported, provider {})", text("/spec/cloudSpec/providerName")),
        ),
        ("Human name", text("/spec/humanReadableName").to_owned()),
        ("Phase", external::phase(cluster).unwrap_or("<none>").to_owned()),
        ("Message", text("/status/condition/message").to_owned()),
        ("Version", text("/spec/version").to_owned()),
        ("Kubeconfig", kubeconfig),
        ("Created", text("/metadata/creationTimestamp").to_owned()),
    ];
    rows.iter()
        .map(|(k, v)| format!("{:<12}{v}\n", format!("{k}:")))
        .collect()
}

/// The machine deployments of a cluster, or why they could not be read.
#[derive(Clone, Debug)]
pub enum MachineDeployments {
    Listed(Vec<Value>),
    Unavailable(String),
}

async fn cluster(args: DescribeClusterArgs, g: &GlobalSettings, printer: &Printer) -> anyhow::Result<()> {
    let conn = Connection::from_settings(&g.connection).await?;
    let Some(cluster) = kkp::get_cluster_opt(&conn, &args.name).await? else {
        return match external::get_opt(&conn, &args.name).await? {
            Some(imported) => {
                printer.data_text(&describe_imported(&imported));
                Ok(())
            }
            None => Err(kkp::not_found(&args.name, &conn)),
        };
    };
    let mds = match tokio::time::timeout(USER_CLUSTER_TIMEOUT, machine_deployments(&conn, &args.name, args.allow)).await
    {
        Ok(found) => found,
        Err(_) => MachineDeployments::Unavailable(format!(
            "the user cluster did not answer within {}",
            crate::k8s::duration::format(USER_CLUSTER_TIMEOUT)
        )),
    };
    let style = Style {
        color: printer.colours_stdout(args.color.forced()),
    };
    let now = k8s_openapi::jiff::Timestamp::now();
    printer.data_text(&tree::render(&cluster_tree(&cluster, &mds, style, now), style));
    Ok(())
}

/// Reads the MachineDeployments in the user cluster's `kube-system`, through the cluster's own
/// kubeconfig.
async fn machine_deployments(conn: &Connection, name: &str, allow: AllowArgs) -> MachineDeployments {
    let found = match secret::find(conn, name, &conn.namespace, Some(Convention::Kkp)).await {
        Ok(found) => found,
        Err(LookupError::NotReady { secret, state, .. }) => {
            return MachineDeployments::Unavailable(format!(
                "the user cluster's kubeconfig ({secret}) does not exist yet ({state})"
            ));
        }
        Err(e) => return MachineDeployments::Unavailable(e.to_string()),
    };
    if let Err(refused) = trust::check(&found.text, &found.secret, allow) {
        return MachineDeployments::Unavailable(refused.to_string());
    }
    let user = match Connection::from_kubeconfig_text(&found.text, &found.secret.to_string()).await {
        Ok(user) => user,
        Err(e) => return MachineDeployments::Unavailable(format!("{e:#}")),
    };
    let api: Api<DynamicObject> = Api::namespaced_with(
        user.client.clone(),
        kkp_crds::machine::MACHINE_DEPLOYMENT_NAMESPACE,
        &resources::machine_deployment(),
    );
    match api.list(&ListParams::default()).await {
        Ok(list) => MachineDeployments::Listed(
            list.items
                .into_iter()
                .map(|o| serde_json::to_value(o).unwrap_or(Value::Null))
                .collect(),
        ),
        Err(e) if errors::is_not_found(&e) => MachineDeployments::Unavailable(
            "the user cluster does not serve machinedeployments.cluster.k8s.io (yet)".to_owned(),
        ),
        Err(e) => MachineDeployments::Unavailable(errors::explain(&e, &user, "listing machine deployments")),
    }
}

fn mark(style: Style, good: Option<bool>) -> String {
    match good {
        Some(true) => style.green("✓"),
        Some(false) => style.red("✗"),
        None => style.yellow("…"),
    }
}

fn pad(text: &str, width: usize) -> String {
    format!("{text}{}", " ".repeat(width.saturating_sub(text.chars().count())))
}

/// The whole tree for a cluster.
pub fn cluster_tree(
    cluster: &Value,
    mds: &MachineDeployments,
    style: Style,
    now: k8s_openapi::jiff::Timestamp,
) -> Node {
    let text = |p: &str| kkp::text(cluster, p);
    let name = text("/metadata/name").unwrap_or("?");
    let mut title = format!("{} {}", style.dim("Cluster"), style.bold(name));
    if let Some(human) = text("/spec/humanReadableName").filter(|h| *h != name) {
        title.push_str(&format!(" ({human})"));
    }
    let mut root = Node::new(title);

    let field = |label: &str, value: String| Node::new(format!("{} {value}", pad(&format!("{label}:"), 10)));
    let provider = kkp::provider(cluster).unwrap_or_else(|| "<none>".into());
    let dc = text("/spec/cloud/dc").unwrap_or("<none>");
    root.push(field("Provider", format!("{provider} / {dc}")));
    root.push(field("Version", text("/spec/version").unwrap_or("<none>").to_owned()));
    let phase = text("/status/phase").unwrap_or("no status yet");
    let phase = match phase {
        "Running" if kkp::is_running_and_healthy(cluster) => style.green(phase),
        "Running" => style.yellow(&format!("{phase} (not every component is up)")),
        "Terminating" => style.red(phase),
        other => style.yellow(other),
    };
    root.push(field("Phase", phase));
    let address = text("/status/address/url")
        .map(str::to_owned)
        .or_else(|| {
            let host = text("/status/address/externalName")?;
            let port = cluster.pointer("/status/address/port").and_then(Value::as_i64);
            Some(port.map_or_else(|| host.to_owned(), |p| format!("{host}:{p}")))
        })
        .unwrap_or_else(|| "<none>".to_owned());
    root.push(field("Address", address));
    if let Some(ns) = text("/status/namespaceName") {
        root.push(field("Namespace", ns.to_owned()));
    }
    if let Some(project) = text("/metadata/labels/project-id") {
        root.push(field("Project", project.to_owned()));
    }
    root.push(field("Age", age_since(text("/metadata/creationTimestamp"), now)));
    if let Some(reason) = text("/status/errorReason") {
        let message = text("/status/errorMessage").unwrap_or("");
        root.push(field("Error", style.red(&format!("{reason}: {message}"))));
    }
    if let Some(deleted) = text("/metadata/deletionTimestamp") {
        let finalizers: Vec<&str> = cluster
            .pointer("/metadata/finalizers")
            .and_then(Value::as_array)
            .map(|f| f.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        root.push(field(
            "Deleting",
            style.red(&format!(
                "for {} (waiting for finalizers: {})",
                age_since(Some(deleted), now),
                if finalizers.is_empty() {
                    "none".to_owned()
                } else {
                    finalizers.join(", ")
                }
            )),
        ));
    }

    root.push(health_node(cluster, style));
    root.push(conditions_node(cluster, style, now));
    root.push(machine_deployments_node(mds, style, now));
    root
}

fn health_node(cluster: &Value, style: Style) -> Node {
    let health = kkp::health(cluster);
    let mut node = Node::new(style.bold("Health"));
    if health.is_empty() {
        node.push(Node::new(style.dim("not reported yet")));
        return node;
    }
    let width = health.keys().map(|k| k.chars().count()).max().unwrap_or(0);
    for (component, value) in &health {
        let good = match value.as_str() {
            "HealthStatusUp" => Some(true),
            "HealthStatusDown" => Some(false),
            _ => None,
        };
        node.push(Node::new(format!(
            "{} {}   {}",
            mark(style, good),
            pad(component, width),
            kkp::short_health(value)
        )));
    }
    node
}

fn conditions_node(cluster: &Value, style: Style, now: k8s_openapi::jiff::Timestamp) -> Node {
    let mut node = Node::new(style.bold("Conditions"));
    let conditions = cluster.pointer("/status/conditions").and_then(Value::as_object);
    let Some(conditions) = conditions.filter(|c| !c.is_empty()) else {
        node.push(Node::new(style.dim("none")));
        return node;
    };
    let width = conditions.keys().map(|k| k.chars().count()).max().unwrap_or(0);
    for (kind, condition) in conditions {
        node.push(condition_line(kind, condition, width, style, now));
    }
    node
}

fn condition_line(
    kind: &str,
    condition: &Value,
    width: usize,
    style: Style,
    now: k8s_openapi::jiff::Timestamp,
) -> Node {
    let get = |k: &str| condition.get(k).and_then(Value::as_str).filter(|s| !s.is_empty());
    let status = get("status").unwrap_or("Unknown");
    let good = match status {
        "True" => Some(true),
        "False" => Some(false),
        _ => None,
    };
    let mut line = format!("{} {}   {status}", mark(style, good), pad(kind, width));
    if let Some(reason) = get("reason") {
        line.push_str(&format!("   {reason}"));
    }
    if let Some(since) = get("lastTransitionTime") {
        line.push_str(&format!("   {}", age_since(Some(since), now)));
    }
    if let Some(message) = get("message") {
        line.push_str(&format!("   {message}"));
    }
    Node::new(line)
}

fn machine_deployments_node(mds: &MachineDeployments, style: Style, now: k8s_openapi::jiff::Timestamp) -> Node {
    let title = format!(
        "{} {}",
        style.bold("MachineDeployments"),
        style.dim("(kube-system in the user cluster)")
    );
    let mut node = Node::new(title);
    match mds {
        MachineDeployments::Unavailable(why) => node.push(Node::new(style.yellow(&format!("not available: {why}")))),
        MachineDeployments::Listed(list) if list.is_empty() => node.push(Node::new(style.dim("none"))),
        MachineDeployments::Listed(list) => {
            let width = list
                .iter()
                .filter_map(|md| kkp::text(md, "/metadata/name"))
                .map(|n| n.chars().count())
                .max();
            for md in list {
                node.push(machine_deployment_node(md, width.unwrap_or(0), style, now));
            }
        }
    }
    node
}

fn machine_deployment_node(md: &Value, name_width: usize, style: Style, now: k8s_openapi::jiff::Timestamp) -> Node {
    let int = |p: &str| md.pointer(p).and_then(Value::as_i64).unwrap_or(0);
    let desired = md.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(1);
    let ready = int("/status/readyReplicas");
    let available = int("/status/availableReplicas");
    let updated = int("/status/updatedReplicas");
    let name = kkp::text(md, "/metadata/name").unwrap_or("?");
    let counts = format!("replicas {desired}, ready {ready}, available {available}, up to date {updated}");
    let counts = if available >= desired {
        style.green(&counts)
    } else {
        style.yellow(&counts)
    };
    let mut line = format!(
        "{}{}   {counts}",
        style.bold(name),
        pad("", name_width.saturating_sub(name.chars().count()))
    );
    let value = |p: &str| kkp::text(md, &format!("/spec/template/spec/providerSpec/value{p}"));
    let details: Vec<String> = [
        value("/cloudProvider").map(|p| format!("provider {p}")),
        value("/operatingSystem").map(|o| format!("os {o}")),
        kkp::text(md, "/spec/template/spec/versions/kubelet").map(|k| format!("kubelet {k}")),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !details.is_empty() {
        line.push_str(&style.dim(&format!("   {}", details.join(", "))));
    }
    let mut node = Node::new(line);
    if let Some(conditions) = md.pointer("/status/conditions").and_then(Value::as_array) {
        let kind = |c: &Value| c.get("type").and_then(Value::as_str).unwrap_or("?").to_owned();
        let width = conditions.iter().map(|c| kind(c).chars().count()).max().unwrap_or(0);
        for c in conditions {
            node.push(condition_line(&kind(c), c, width, style, now));
        }
    }
    node
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> k8s_openapi::jiff::Timestamp {
        "2026-01-01T01:00:00Z".parse().expect("now")
    }

    fn running() -> Value {
        json!({
            "apiVersion": "kubermatic.k8c.io/v1", "kind": "Cluster",
            "metadata": {"name": "abc", "creationTimestamp": "2026-01-01T00:30:00Z", "labels": {"project-id": "p1"}},
            "spec": {"humanReadableName": "demo", "version": "1.35.7", "cloud": {"dc": "fsn1", "providerName": "hetzner", "hetzner": {}}},
            "status": {
                "phase": "Running", "namespaceName": "cluster-abc",
                "address": {"url": "https://abc.example:6443"},
                "extendedHealth": {"apiserver": "HealthStatusUp", "etcd": "HealthStatusProvisioning", "scheduler": "HealthStatusDown"},
                "conditions": {"ClusterControllerReconciledSuccessfully": {"status": "True", "lastTransitionTime": "2026-01-01T00:55:00Z"}}
            }
        })
    }

    #[test]
    fn the_tree_shows_state_health_conditions_and_workers() {
        let md = json!({"metadata": {"name": "abc-worker"}, "spec": {"replicas": 3, "template": {"spec": {
            "versions": {"kubelet": "1.35.7"}, "providerSpec": {"value": {"cloudProvider": "hetzner", "operatingSystem": "ubuntu"}}}}},
            "status": {"readyReplicas": 1, "availableReplicas": 1}});
        let tree = cluster_tree(
            &running(),
            &MachineDeployments::Listed(vec![md]),
            Style { color: false },
            now(),
        );
        let text = tree::render(&tree, Style { color: false });
        assert!(text.starts_with("Cluster abc (demo)\n"), "{text}");
        assert!(text.contains("├─ Provider:  hetzner / fsn1\n"), "{text}");
        assert!(
            text.contains("├─ Phase:     Running (not every component is up)\n"),
            "{text}"
        );
        assert!(text.contains("├─ Address:   https://abc.example:6443\n"), "{text}");
        assert!(text.contains("├─ Age:       30m\n"), "{text}");
        assert!(text.contains("│  ├─ ✓ apiserver   up\n"), "{text}");
        assert!(text.contains("│  ├─ … etcd        provisioning\n"), "{text}");
        assert!(text.contains("│  └─ ✗ scheduler   down\n"), "{text}");
        assert!(
            text.contains("│  └─ ✓ ClusterControllerReconciledSuccessfully   True   5m\n"),
            "{text}"
        );
        assert!(
            text.contains("   └─ abc-worker   replicas 3, ready 1, available 1, up to date 0   provider hetzner, os ubuntu, kubelet 1.35.7\n"),
            "{text}"
        );
        assert!(!text.contains('\x1b'), "plain text has no escapes: {text}");
    }

    #[test]
    fn unreachable_workers_say_why_and_colour_is_optional() {
        let mds = MachineDeployments::Unavailable("the user cluster did not answer".into());
        let style = Style { color: true };
        let text = tree::render(&cluster_tree(&running(), &mds, style, now()), style);
        assert!(
            text.contains("not available: the user cluster did not answer"),
            "{text}"
        );
        assert!(text.contains("\x1b[32m✓\x1b[0m"), "{text}");
        assert!(text.contains("\x1b[31m✗\x1b[0m"), "{text}");
    }

    #[test]
    fn a_new_cluster_without_status_is_described_too() {
        let fresh = json!({"metadata": {"name": "x"}, "spec": {}});
        let text = tree::render(
            &cluster_tree(
                &fresh,
                &MachineDeployments::Listed(vec![]),
                Style { color: false },
                now(),
            ),
            Style { color: false },
        );
        assert!(text.contains("Phase:     no status yet"), "{text}");
        assert!(text.contains("Health\n│  └─ not reported yet"), "{text}");
        assert!(text.contains("Conditions\n│  └─ none"), "{text}");
        assert!(
            text.contains("MachineDeployments (kube-system in the user cluster)\n   └─ none"),
            "{text}"
        );
    }
}
