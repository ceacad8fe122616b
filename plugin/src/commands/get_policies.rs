//! `kubectl kkp get policies`: the cluster's admission policies as a table (or YAML/JSON/names),
//! with what the webhook reports about each: whether it compiled, and how many objects it
//! matched and denied.

use kube::ResourceExt;
use kube::api::ListParams;
use serde_json::Value;

use super::get::table;
use crate::cli::get::GetPoliciesArgs;
use crate::k8s::client::Connection;
use crate::k8s::errors;
use crate::k8s::policies::policies_api;
use crate::settings::GlobalSettings;

/// The table's headers.
pub const HEADERS: [&str; 6] = ["NAME", "ENFORCEMENT", "COMPILED", "MATCHED", "DENIED", "AGE"];

/// One table row for a policy.
pub fn row(policy: &Value, now: k8s_openapi::jiff::Timestamp) -> Vec<String> {
    let text = |pointer: &str| policy.pointer(pointer).and_then(Value::as_str);
    let number = |pointer: &str| {
        policy
            .pointer(pointer)
            .and_then(Value::as_i64)
            .map_or_else(|| "<none>".to_owned(), |n| n.to_string())
    };
    vec![
        text("/metadata/name").unwrap_or("<none>").to_owned(),
        text("/spec/enforcement").unwrap_or("Deny").to_owned(),
        policy
            .pointer("/status/compiled")
            .and_then(Value::as_bool)
            .map_or_else(|| "<none>".to_owned(), |b| b.to_string()),
        number("/status/matched"),
        number("/status/denied"),
        table::age_since(text("/metadata/creationTimestamp"), now),
    ]
}

fn explain(err: &kube::Error, conn: &Connection, doing: &str) -> anyhow::Error {
    if errors::is_not_found(err) {
        return anyhow::anyhow!(
            "{doing}: the cluster ({}, {}) does not serve admissionpolicies.policy.kubectl-kkp.io; install the CRD \
             with: kubectl kkp install",
            conn.describe(),
            conn.server
        );
    }
    anyhow::anyhow!(errors::explain(err, conn, doing))
}

pub async fn run(args: GetPoliciesArgs, g: &GlobalSettings) -> anyhow::Result<()> {
    let conn = Connection::from_settings(&g.connection).await?;
    let api = policies_api(&conn.client);
    let listing = args.names.is_empty();
    let mut found = Vec::new();
    let mut missing = Vec::new();
    if listing {
        let mut params = ListParams::default();
        if let Some(s) = args.selector.as_deref().filter(|s| !s.is_empty()) {
            params = params.labels(s);
        }
        let mut list = api
            .list(&params)
            .await
            .map_err(|e| explain(&e, &conn, "listing admission policies"))?
            .items;
        list.sort_by_key(|p| p.name_any());
        found = list;
    } else {
        for name in &args.names {
            match api.get_opt(name).await {
                Ok(Some(p)) => found.push(p),
                Ok(None) => missing.push(name.clone()),
                Err(e) => return Err(explain(&e, &conn, &format!("reading admission policy {name:?}"))),
            }
        }
    }
    let found: Vec<Value> = found
        .into_iter()
        .map(|p| table::tidy(serde_json::to_value(p).unwrap_or(Value::Null)))
        .collect();
    table::Listing {
        headers: &HEADERS,
        row,
        none_found: format!("No admission policies found ({}).", conn.describe()),
        listing,
        with_headers: !args.no_headers,
    }
    .print(&found, args.output);
    match missing.as_slice() {
        [] => Ok(()),
        names => Err(anyhow::anyhow!(
            "admission {} {} not found ({}); list them with: kubectl kkp get policies",
            if names.len() == 1 { "policy" } else { "policies" },
            names.iter().map(|n| format!("{n:?}")).collect::<Vec<_>>().join(", "),
            conn.describe()
        )),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_row_shows_what_the_webhook_reported() {
        let now: k8s_openapi::jiff::Timestamp = "2026-01-01T01:00:00Z".parse().expect("now");
        let p = json!({"metadata": {"name": "only-aws", "creationTimestamp": "2026-01-01T00:58:00Z"},
            "spec": {"enforcement": "Warn"}, "status": {"compiled": true, "matched": 12, "denied": 0}});
        assert_eq!(row(&p, now), ["only-aws", "Warn", "true", "12", "0", "2m"]);
        let fresh = json!({"metadata": {"name": "new"}, "spec": {}});
        assert_eq!(
            row(&fresh, now),
            ["new", "Deny", "<none>", "<none>", "<none>", "<unknown>"]
        );
    }

    #[test]
    fn the_table_has_the_documented_columns() {
        let now: k8s_openapi::jiff::Timestamp = "2026-01-01T01:00:00Z".parse().expect("now");
        let p = json!({"metadata": {"name": "a", "creationTimestamp": "2026-01-01T00:00:00Z"},
            "spec": {}, "status": {"compiled": false, "error": "x"}});
        let text = table::render(&HEADERS, &[row(&p, now)], true);
        assert_eq!(
            text,
            "NAME   ENFORCEMENT   COMPILED   MATCHED   DENIED   AGE\na      Deny          false      <none>    <none>   60m\n"
        );
    }
}
