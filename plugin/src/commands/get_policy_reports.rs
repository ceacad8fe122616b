//! `kubectl kkp get policy-reports`: a summary of the policy reports kkp-webhook writes
//! (`wgpolicyk8s.io/v1alpha2` ClusterPolicyReports about Clusters, PolicyReports about
//! MachineDeployments): one row per object with its counts and the rules it breaks.

use kkp_crds::policy::report::{
    MANAGED_BY_LABEL, ObjectRef, REPORT_GROUP, REPORT_VERSION, ReportResult, ResultKind, SOURCE, Summary,
};
use kube::Api;
use kube::api::{ApiResource, DynamicObject, GroupVersionKind, ListParams};
use serde::Serialize;
use serde_json::Value;

use super::get::table;
use crate::cli::get::{GetPolicyReportsArgs, SummaryFormat};
use crate::k8s::client::Connection;
use crate::k8s::errors;
use crate::output::{self, OutputFormat};
use crate::settings::GlobalSettings;

/// The table's headers.
pub const HEADERS: [&str; 9] = [
    "KIND",
    "NAMESPACE",
    "NAME",
    "PASS",
    "FAIL",
    "WARN",
    "ERROR",
    "SKIP",
    "FAILING RULES",
];

/// The longest list of failing rules a table cell shows.
const MAX_FAILING_CELL: usize = 80;

/// A result that is not a pass, in the summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub policy: String,
    pub rule: String,
    pub result: ResultKind,
    pub message: String,
}

/// What the reports say about one object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ObjectSummary {
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
    pub summary: Summary,
    pub findings: Vec<Finding>,
}

/// The whole summary (what `-o json|yaml` prints).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportsSummary {
    pub objects: usize,
    pub summary: Summary,
    pub items: Vec<ObjectSummary>,
}

/// What one report says, limited to `policy` when given. The report's own summary is used when
/// all its results are counted (it also counts those cut from a long report).
pub fn summarise(report: &Value, policy: Option<&str>) -> Result<ObjectSummary, String> {
    let scope: ObjectRef = serde_json::from_value(report.get("scope").cloned().unwrap_or(Value::Null))
        .map_err(|e| format!("scope: {e}"))?;
    let results: Vec<ReportResult> =
        serde_json::from_value(report.get("results").cloned().unwrap_or(Value::Array(Vec::new())))
            .map_err(|e| format!("results: {e}"))?;
    let results: Vec<ReportResult> = results
        .into_iter()
        .filter(|r| policy.is_none_or(|p| r.policy == p))
        .collect();
    let summary = match (policy, report.get("summary")) {
        (None, Some(s)) => serde_json::from_value(s.clone()).map_err(|e| format!("summary: {e}"))?,
        _ => Summary::of(&results),
    };
    let findings = results
        .into_iter()
        .filter(|r| r.result != ResultKind::Pass)
        .map(|r| Finding {
            policy: r.policy,
            rule: r.rule,
            result: r.result,
            message: r.message,
        })
        .collect();
    Ok(ObjectSummary {
        kind: scope.kind,
        namespace: scope.namespace,
        name: scope.name,
        summary,
        findings,
    })
}

/// One table row.
pub fn row(o: &ObjectSummary) -> Vec<String> {
    let mut failing: Vec<String> = o.findings.iter().map(|f| format!("{}/{}", f.policy, f.rule)).collect();
    failing.dedup();
    let mut cell = failing.join(",");
    if cell.len() > MAX_FAILING_CELL {
        let cut = kkp_crds::field::truncated(&cell, MAX_FAILING_CELL - 3).into_owned();
        cell = format!("{cut}...");
    }
    let s = &o.summary;
    vec![
        o.kind.clone(),
        o.namespace.clone().unwrap_or_else(|| "-".to_owned()),
        o.name.clone(),
        s.pass.to_string(),
        s.fail.to_string(),
        s.warn.to_string(),
        s.error.to_string(),
        s.skip.to_string(),
        if cell.is_empty() { "<none>".to_owned() } else { cell },
    ]
}

/// The summary of the reports, sorted by kind, namespace and name.
pub fn summary_of(reports: &[Value], policy: Option<&str>, failing: bool) -> (ReportsSummary, Vec<String>) {
    let mut items = Vec::new();
    let mut unreadable = Vec::new();
    for report in reports {
        match summarise(report, policy) {
            Ok(o) if o.summary.total() == 0 => {}
            Ok(o) if failing && o.findings.is_empty() && o.summary.fail + o.summary.warn + o.summary.error == 0 => {}
            Ok(o) => items.push(o),
            Err(e) => {
                let name = report.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("?");
                unreadable.push(format!("report {name}: {e}"));
            }
        }
    }
    items.sort_by(|a, b| (&a.kind, &a.namespace, &a.name).cmp(&(&b.kind, &b.namespace, &b.name)));
    let mut summary = Summary::default();
    for o in &items {
        summary.pass += o.summary.pass;
        summary.fail += o.summary.fail;
        summary.warn += o.summary.warn;
        summary.error += o.summary.error;
        summary.skip += o.summary.skip;
    }
    (
        ReportsSummary {
            objects: items.len(),
            summary,
            items,
        },
        unreadable,
    )
}

fn resource(kind: &str, plural: &str) -> ApiResource {
    ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(REPORT_GROUP, REPORT_VERSION, kind), plural)
}

fn explain(err: &kube::Error, conn: &Connection, what: &str) -> anyhow::Error {
    if errors::is_not_found(err) {
        return anyhow::anyhow!(
            "listing {what}: the cluster ({}, {}) does not serve {what}.{REPORT_GROUP}/{REPORT_VERSION}; install the \
             PolicyReport CRDs from the project's manifests/crds",
            conn.describe(),
            conn.server
        );
    }
    anyhow::anyhow!(errors::explain(err, conn, &format!("listing {what}")))
}

/// Every report of `api` that kkp-webhook wrote, page by page.
async fn list_all(api: &Api<DynamicObject>) -> Result<Vec<Value>, kube::Error> {
    let mut params = ListParams::default()
        .labels(&format!("{MANAGED_BY_LABEL}={SOURCE}"))
        .limit(500);
    let mut out = Vec::new();
    loop {
        let page = api.list(&params).await?;
        out.extend(
            page.items
                .into_iter()
                .map(|o| serde_json::to_value(o).unwrap_or(Value::Null)),
        );
        match page.metadata.continue_ {
            Some(token) if !token.is_empty() => params = params.continue_token(&token),
            _ => return Ok(out),
        }
    }
}

pub async fn run(args: GetPolicyReportsArgs, g: &GlobalSettings) -> anyhow::Result<()> {
    if let Some(ns) = args.namespace.as_deref()
        && ns.trim().is_empty()
    {
        anyhow::bail!("--namespace: empty; name a namespace, or leave the flag out for every namespace");
    }
    let conn = Connection::from_settings(&g.connection).await?;
    let mut reports = Vec::new();
    let policy_reports = resource("PolicyReport", "policyreports");
    match &args.namespace {
        Some(ns) => {
            let api = Api::namespaced_with(conn.client.clone(), ns, &policy_reports);
            reports.extend(list_all(&api).await.map_err(|e| explain(&e, &conn, "policyreports"))?);
        }
        None => {
            let cluster_api = Api::all_with(
                conn.client.clone(),
                &resource("ClusterPolicyReport", "clusterpolicyreports"),
            );
            reports.extend(
                list_all(&cluster_api)
                    .await
                    .map_err(|e| explain(&e, &conn, "clusterpolicyreports"))?,
            );
            let api = Api::all_with(conn.client.clone(), &policy_reports);
            reports.extend(list_all(&api).await.map_err(|e| explain(&e, &conn, "policyreports"))?);
        }
    }
    let (summary, unreadable) = summary_of(&reports, args.policy.as_deref(), args.failing);
    for problem in &unreadable {
        eprintln!("warning: {problem}: not in the PolicyReport format; left out");
    }
    match args.output {
        Some(format) => {
            let value = serde_json::to_value(&summary)?;
            let format = match format {
                SummaryFormat::Yaml => OutputFormat::Yaml,
                SummaryFormat::Json => OutputFormat::Json,
            };
            output::print_objects(&[value], format);
        }
        None if summary.items.is_empty() => {
            eprintln!("No policy reports found ({}).", conn.describe());
        }
        None => {
            let rows: Vec<Vec<String>> = summary.items.iter().map(row).collect();
            print!("{}", table::render(&HEADERS, &rows, !args.no_headers));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn report(kind: &str, ns: Option<&str>, name: &str, results: Value, summary: Value) -> Value {
        let mut scope = json!({"apiVersion": "v1", "kind": kind, "name": name, "uid": format!("u-{name}")});
        if let Some(ns) = ns {
            scope["namespace"] = json!(ns);
        }
        json!({"apiVersion": "wgpolicyk8s.io/v1alpha2", "kind": "PolicyReport",
               "metadata": {"name": format!("u-{name}")}, "scope": scope, "summary": summary, "results": results})
    }

    fn result(policy: &str, rule: &str, result: &str) -> Value {
        json!({"policy": policy, "rule": rule, "result": result, "message": format!("{rule} says {result}"),
               "source": "kkp-webhook"})
    }

    #[test]
    fn rows_count_and_name_the_failing_rules() {
        let reports = [
            report(
                "MachineDeployment",
                Some("ns1"),
                "big",
                json!([
                    result("a", "maxReplicas", "fail"),
                    result("b", "requiredLabels", "warn"),
                    result("a", "datacenters", "pass")
                ]),
                json!({"pass": 1, "fail": 1, "warn": 1}),
            ),
            report(
                "Cluster",
                None,
                "good",
                json!([result("a", "datacenters", "pass")]),
                json!({"pass": 1}),
            ),
        ];
        let (summary, unreadable) = summary_of(&reports, None, false);
        assert!(unreadable.is_empty());
        assert_eq!(summary.objects, 2);
        assert_eq!(summary.summary.pass, 2);
        let rows: Vec<Vec<String>> = summary.items.iter().map(row).collect();
        assert_eq!(rows[0], ["Cluster", "-", "good", "1", "0", "0", "0", "0", "<none>"]);
        assert_eq!(
            rows[1],
            [
                "MachineDeployment",
                "ns1",
                "big",
                "1",
                "1",
                "1",
                "0",
                "0",
                "a/maxReplicas,b/requiredLabels"
            ]
        );
        assert_eq!(
            table::render(&HEADERS, &rows[..1], true),
            "KIND      NAMESPACE   NAME   PASS   FAIL   WARN   ERROR   SKIP   FAILING RULES\n\
             Cluster   -           good   1      0      0      0       0      <none>\n"
        );

        let (failing, _) = summary_of(&reports, None, true);
        assert_eq!(failing.items.len(), 1);
        assert_eq!(failing.items[0].name, "big");
        assert_eq!(failing.items[0].findings[0].message, "maxReplicas says fail");

        let (only_b, _) = summary_of(&reports, Some("b"), false);
        assert_eq!(only_b.items.len(), 1, "objects policy b has no result for are left out");
        assert_eq!(
            only_b.items[0].summary,
            Summary {
                warn: 1,
                ..Summary::default()
            }
        );
    }

    #[test]
    fn a_report_in_another_shape_is_named_not_fatal() {
        let broken = json!({"metadata": {"name": "odd"}, "scope": {"kind": "Cluster", "name": "x"},
                            "results": [{"policy": "p", "result": "maybe"}]});
        let (summary, unreadable) = summary_of(&[broken], None, false);
        assert!(summary.items.is_empty());
        assert_eq!(unreadable.len(), 1);
        assert!(unreadable[0].starts_with("report odd: results: "), "{unreadable:?}");
    }
}
