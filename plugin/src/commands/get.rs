//! `kubectl kkp get`: clusters as a table (or YAML/JSON/names), a cluster's kubeconfig, admission
//! policies and a summary of their reports.

mod kubeconfig;
pub mod table;

use serde_json::Value;

use crate::cli::get::{GetClustersArgs, GetCommand, GetWhat};
use crate::exit::{ExitStatus, Outcome};
use crate::k8s::client::Connection;
use crate::k8s::{external, kkp};
use crate::printer::Printer;
use crate::settings::GlobalSettings;

pub async fn run(cmd: GetCommand, g: &GlobalSettings, printer: &Printer) -> Outcome {
    match cmd.what {
        GetWhat::Clusters(args) => clusters(args, g, printer).await?,
        GetWhat::Kubeconfig(args) => kubeconfig::run(args, g, printer).await?,
        GetWhat::Policies(args) => super::get_policies::run(args, g, printer).await?,
        GetWhat::PolicyReports(args) => super::get_policy_reports::run(args, g, printer).await?,
    }
    Ok(ExitStatus::Success)
}

/// The table's headers.
pub const HEADERS: [&str; 8] = [
    "NAME",
    "HUMAN NAME",
    "PROVIDER",
    "DATACENTER",
    "VERSION",
    "PHASE",
    "AGE",
    "TYPE",
];

/// One table row for a cluster.
pub fn row(cluster: &Value, now: k8s_openapi::jiff::Timestamp) -> Vec<String> {
    let cell = |pointer: &str| kkp::text(cluster, pointer).unwrap_or("<none>").to_owned();
    // An imported cluster (ExternalCluster) keeps its provider and phase elsewhere.
    let imported = kkp::text(cluster, "/kind") == Some("ExternalCluster");
    vec![
        cell("/metadata/name"),
        cell("/spec/humanReadableName"),
        if imported {
            cell("/spec/cloudSpec/providerName")
        } else {
            kkp::provider(cluster).unwrap_or_else(|| "<none>".to_owned())
        },
        cell("/spec/cloud/dc"),
        cell("/spec/version"),
        if imported {
            external::phase(cluster).unwrap_or("<none>").to_owned()
        } else {
            cell("/status/phase")
        },
        table::age_since(kkp::text(cluster, "/metadata/creationTimestamp"), now),
        if imported { "external" } else { "kkp" }.to_owned(),
    ]
}

async fn clusters(args: GetClustersArgs, g: &GlobalSettings, printer: &Printer) -> anyhow::Result<()> {
    if let Some(client) = super::api::client(g)? {
        let selector = args.selector.as_deref();
        return super::api::clusters::get(&client, &args.names, args.output, selector, !args.no_headers, printer).await;
    }
    let conn = Connection::from_settings(&g.connection).await?;
    let listing = args.names.is_empty();
    let mut found = Vec::new();
    let mut missing = Vec::new();
    if listing {
        found = kkp::list_clusters(&conn, args.selector.as_deref()).await?;
        found.extend(external::list(&conn, args.selector.as_deref()).await?);
        found.sort_by(|a, b| kkp::text(a, "/metadata/name").cmp(&kkp::text(b, "/metadata/name")));
    } else {
        for name in &args.names {
            match kkp::get_cluster_opt(&conn, name).await? {
                Some(c) => found.push(c),
                None => match external::get_opt(&conn, name).await? {
                    Some(c) => found.push(c),
                    None => missing.push(name.clone()),
                },
            }
        }
    }
    let found: Vec<Value> = found.into_iter().map(table::tidy).collect();
    table::Listing {
        headers: &HEADERS,
        row,
        none_found: format!("No clusters found on the management cluster ({}).", conn.describe()),
        listing,
        with_headers: !args.no_headers,
    }
    .print(&found, args.output, printer);
    match missing.as_slice() {
        [] => Ok(()),
        [one] => Err(kkp::not_found(one, &conn)),
        many => Err(anyhow::anyhow!(
            "clusters {} not found on the management cluster ({}); {}",
            many.iter().map(|n| format!("{n:?}")).collect::<Vec<_>>().join(", "),
            conn.describe(),
            kkp::LIST_HINT
        )),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_row_shows_the_cluster_with_placeholders_for_what_is_unknown() {
        let now: k8s_openapi::jiff::Timestamp = "2026-01-01T01:00:00Z".parse().expect("now");
        let c = json!({"metadata": {"name": "abc", "creationTimestamp": "2026-01-01T00:55:00Z"},
            "spec": {"humanReadableName": "demo", "version": "1.35.7", "cloud": {"dc": "fsn1", "providerName": "hetzner"}},
            "status": {"phase": "Running"}});
        assert_eq!(
            row(&c, now),
            ["abc", "demo", "hetzner", "fsn1", "1.35.7", "Running", "5m", "kkp"]
        );
        let bare = json!({"metadata": {"name": "x"}});
        assert_eq!(
            row(&bare, now),
            [
                "x",
                "<none>",
                "<none>",
                "<none>",
                "<none>",
                "<none>",
                "<unknown>",
                "kkp"
            ]
        );
        let imported = json!({"kind": "ExternalCluster", "metadata": {"name": "prod"},
            "spec": {"humanReadableName": "Prod", "version": "1.36.3", "cloudSpec": {"providerName": "bringyourown"}},
            "status": {"condition": {"phase": "Running"}}});
        assert_eq!(
            row(&imported, now),
            [
                "prod",
                "Prod",
                "bringyourown",
                "<none>",
                "1.36.3",
                "Running",
                "<unknown>",
                "external"
            ]
        );
    }

    #[test]
    fn managed_fields_are_hidden() {
        let c = table::tidy(json!({"metadata": {"name": "x", "managedFields": [{}]}}));
        assert!(c.pointer("/metadata/managedFields").is_none());
    }
}
