//! `kubectl kkp get`: clusters as a table (or YAML/JSON/names), a cluster's kubeconfig, admission
//! policies and a summary of their reports.

mod kubeconfig;
pub mod table;

use clap::{Args, Subcommand};
use serde_json::Value;

use super::GlobalArgs;
use crate::kube::client::Connection;
use crate::kube::{external, kkp};
use crate::output::OutputFormat;

const GET_CLUSTERS_EXAMPLES: &str = "\
Examples:
  # Every KKP cluster on the management cluster of the current context
  kubectl kkp get clusters

  # Two clusters by ID, as YAML
  kubectl kkp get cluster p8kfs2x9jw zq4mhb7t6x -o yaml

  # The clusters of one project, IDs only, for scripts
  kubectl kkp get clusters -l project-id=p8kfs2x9jw -o name

  # The table without its header, on another seed
  kubectl kkp get clusters --no-headers --context prod-seed";

const GET_KUBECONFIG_EXAMPLES: &str = "\
Examples:
  # Print the kubeconfig of cluster p8kfs2x9jw
  kubectl kkp get kubeconfig p8kfs2x9jw

  # Merge it into your kubeconfig and switch to it
  kubectl kkp get kubeconfig p8kfs2x9jw --merge --set-current

  # Write it to a file of its own (mode 0600)
  kubectl kkp get kubeconfig p8kfs2x9jw --output-file p8kfs2x9jw.kubeconfig

  # A Cluster API cluster's kubeconfig, from namespace clusters
  kubectl kkp get kubeconfig capi-demo -n clusters --convention cluster-api

  # A cluster you trust whose kubeconfig logs in through a program (exec) and reads a local CA file
  kubectl kkp get kubeconfig p8kfs2x9jw --merge --allow-exec --allow-file-references";

const GET_POLICIES_EXAMPLES: &str = "\
Examples:
  # Every admission policy, with what the webhook reports about it
  kubectl kkp get policies

  # One policy as YAML
  kubectl kkp get policy only-aws -o yaml

  # The policies of one team, names only
  kubectl kkp get policies -l team=platform -o name";

#[derive(Debug, Args)]
pub struct GetCommand {
    #[command(subcommand)]
    pub what: GetWhat,
}

#[derive(Debug, Subcommand)]
pub enum GetWhat {
    /// List the KKP clusters on the management cluster, or show the named ones.
    #[command(visible_alias = "cluster", after_help = GET_CLUSTERS_EXAMPLES)]
    Clusters(GetClustersArgs),
    /// Print a cluster's kubeconfig, write it to a file, or merge it into your kubeconfig.
    #[command(after_help = GET_KUBECONFIG_EXAMPLES)]
    Kubeconfig(kubeconfig::GetKubeconfigArgs),
    /// List the admission policies (NAME, ENFORCEMENT, COMPILED, MATCHED, DENIED, AGE), or show the named ones.
    #[command(visible_alias = "policy", after_help = GET_POLICIES_EXAMPLES)]
    Policies(super::get_policies::GetPoliciesArgs),
    /// Summarise the policy reports kkp-webhook writes: per Cluster and MachineDeployment, its
    /// PASS, FAIL, WARN, ERROR and SKIP counts and the rules it breaks.
    #[command(visible_alias = "policy-report", after_help = super::get_policy_reports::EXAMPLES)]
    PolicyReports(super::get_policy_reports::GetPolicyReportsArgs),
}

/// Flags of `get clusters`.
#[derive(Debug, Args)]
pub struct GetClustersArgs {
    /// Cluster names (IDs); all clusters when none is given.
    #[arg(value_name = "NAME")]
    pub names: Vec<String>,
    /// Output format instead of the table: yaml, json or name.
    #[arg(short = 'o', long = "output", value_enum)]
    pub output: Option<OutputFormat>,
    /// Accepted for kubectl habit: clusters are cluster-scoped, so every cluster is listed anyway.
    #[arg(short = 'A', long = "all-namespaces")]
    pub all_namespaces: bool,
    /// Only clusters with these labels (kubectl syntax: `project-id=abc,env!=prod`).
    #[arg(short = 'l', long = "selector", value_name = "SELECTOR")]
    pub selector: Option<String>,
    /// Print the table without its header line.
    #[arg(long)]
    pub no_headers: bool,
}

pub async fn run(cmd: GetCommand, g: &GlobalArgs) -> anyhow::Result<()> {
    match cmd.what {
        GetWhat::Clusters(args) => clusters(args, g).await,
        GetWhat::Kubeconfig(args) => kubeconfig::run(args, g).await,
        GetWhat::Policies(args) => super::get_policies::run(args, g).await,
        GetWhat::PolicyReports(args) => super::get_policy_reports::run(args, g).await,
    }
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

async fn clusters(args: GetClustersArgs, g: &GlobalArgs) -> anyhow::Result<()> {
    if let Some(client) = super::api::client(g)? {
        let selector = args.selector.as_deref();
        return super::api::clusters::get(&client, &args.names, args.output, selector, !args.no_headers).await;
    }
    let conn = Connection::from_global(g).await?;
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
    .print(&found, args.output);
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
