//! `--generate-name` and re-runs: finding the cluster an earlier run of `create cluster` made, so
//! that running the same command again converges instead of making a second cluster.

use serde_json::Value;

use crate::cli::generate::TemplateArgs;
use crate::k8s::client::Connection;
use crate::k8s::kkp;

/// With a generated ID: the cluster an earlier run made for the same project and human-readable
/// name, so that running the command again converges instead of making a second cluster. Only
/// clusters this plugin applied count (field manager kubectl-kkp), so one made in the dashboard or
/// by another tool is never taken over; clusters being deleted do not count; two or more candidates
/// are an error that lists them.
pub(super) async fn find(seed: &Connection, template: &TemplateArgs) -> anyhow::Result<Option<String>> {
    let (Some(project), Some(human)) = (template.project.as_deref(), template.human_readable_name.as_deref()) else {
        return Ok(None);
    };
    let selector = format!("{}={project}", kkp_crds::policy::PROJECT_LABEL);
    let mut ids: Vec<String> = kkp::list_clusters(seed, Some(&selector))
        .await?
        .iter()
        .filter(|c| kkp::text(c, "/spec/humanReadableName") == Some(human))
        .filter(|c| c.pointer("/metadata/deletionTimestamp").is_none_or(Value::is_null))
        .filter(|c| applied_by_this_plugin(c))
        .filter_map(|c| kkp::text(c, "/metadata/name").map(str::to_owned))
        .collect();
    ids.sort();
    match ids.len() {
        0 => Ok(None),
        1 => Ok(ids.pop()),
        n => Err(anyhow::anyhow!(
            "{n} clusters of project {project} are named {human:?} ({}); pass the one to continue with as NAME, \
             without --generate-name",
            ids.join(", ")
        )),
    }
}

/// Whether the plugin's field manager applied (part of) the object.
fn applied_by_this_plugin(object: &Value) -> bool {
    object
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array)
        .is_some_and(|fields| {
            fields.iter().any(|f| {
                f.get("manager").and_then(Value::as_str) == Some(crate::k8s::FIELD_MANAGER)
                    && f.get("operation").and_then(Value::as_str) == Some("Apply")
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_clusters_this_plugin_applied_are_continued() {
        let managed = |manager: &str, operation: &str| json!({"metadata": {"managedFields": [{"manager": manager, "operation": operation}]}});
        assert!(applied_by_this_plugin(&managed("kubectl-kkp", "Apply")));
        assert!(!applied_by_this_plugin(&managed("kubermatic-dashboard", "Update")));
        assert!(!applied_by_this_plugin(&managed("kubectl-kkp", "Update")));
        assert!(!applied_by_this_plugin(&json!({"metadata": {}})));
    }
}
