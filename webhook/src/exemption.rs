//! Who may exempt an object from the webhook.
//!
//! The webhook configurations skip objects labelled `kkp-webhook.kubectl-kkp.io/exempt: "true"`, so
//! without a guard anyone who may create a Cluster or MachineDeployment could label it and step
//! around every rule and AdmissionPolicy. A third validating webhook (`POST /validate-exemption`)
//! is sent exactly the requests that carry the label (its objectSelector is the opposite of the
//! others') and admits them only when:
//! - the object already carried the label before the request (an exemption an admin granted
//!   earlier stays usable, by KKP's controllers too), or
//! - the requester is an exemption admin: a member of one of `--exemption-groups` (default
//!   `system:masters`) or one of `--exemption-users`.
//!
//! The rule is here; the endpoint that applies it is [`crate::exemption_route`].

use clap::Args;
use kkp_crds::request::{Operation, UserInfo};
use kkp_manifests::EXEMPT_LABEL;
use serde_json::Value;

use crate::review::ParsedRequest;

/// Who may exempt objects, on the command line.
#[derive(Clone, Debug, Args, PartialEq, Eq)]
pub struct ExemptionAdmins {
    /// Groups whose members may label objects kkp-webhook.kubectl-kkp.io/exempt=true
    /// (comma-separated).
    #[arg(
        long = "exemption-groups",
        env = "KKP_WEBHOOK_EXEMPTION_GROUPS",
        value_delimiter = ',',
        default_value = "system:masters"
    )]
    pub groups: Vec<String>,

    /// Users who may label objects kkp-webhook.kubectl-kkp.io/exempt=true (comma-separated).
    #[arg(long = "exemption-users", env = "KKP_WEBHOOK_EXEMPTION_USERS", value_delimiter = ',')]
    pub users: Vec<String>,
}

impl Default for ExemptionAdmins {
    fn default() -> Self {
        ExemptionAdmins {
            groups: vec!["system:masters".into()],
            users: Vec::new(),
        }
    }
}

impl ExemptionAdmins {
    pub fn admits(&self, user: &UserInfo) -> bool {
        self.users.iter().any(|u| !u.is_empty() && *u == user.username)
            || user
                .groups
                .iter()
                .any(|g| self.groups.iter().any(|a| !a.is_empty() && a == g))
    }
}

fn exempt(object: Option<&Value>) -> bool {
    object
        .and_then(|o| o.pointer("/metadata/labels"))
        .and_then(|l| l.get(EXEMPT_LABEL))
        .and_then(Value::as_str)
        == Some("true")
}

/// Why the request may not carry the exemption label, or `None` when it may.
pub fn refusal(parsed: &ParsedRequest, admins: &ExemptionAdmins) -> Option<String> {
    if !matches!(parsed.operation, Operation::Create | Operation::Update) {
        return None;
    }
    let request = &parsed.request;
    if !exempt(request.object.as_ref()) || exempt(request.old_object.as_ref()) {
        return None;
    }
    if admins.admits(&parsed.user) {
        return None;
    }
    let mut who: Vec<String> = admins.groups.iter().map(|g| format!("group {g}")).collect();
    who.extend(admins.users.iter().map(|u| format!("user {u}")));
    Some(format!(
        "only {} may exempt an object from kkp-webhook with the label {EXEMPT_LABEL}=true; remove the label, \
         or ask a cluster admin to set it",
        if who.is_empty() {
            "nobody (no exemption admins are configured)".to_owned()
        } else {
            who.join(", ")
        }
    ))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::review;

    fn parsed(object: Value, old: Option<Value>, user: &str, groups: &[&str]) -> ParsedRequest {
        let body = json!({
            "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
            "request": {
                "uid": "u1",
                "kind": {"group": "kubermatic.k8c.io", "version": "v1", "kind": "Cluster"},
                "resource": {"group": "kubermatic.k8c.io", "version": "v1", "resource": "clusters"},
                "name": "c1",
                "operation": if old.is_some() { "UPDATE" } else { "CREATE" },
                "userInfo": {"username": user, "groups": groups},
                "object": object,
                "oldObject": old,
            }
        });
        review::parse(body.to_string().as_bytes()).expect("a review")
    }

    fn labelled(value: Option<&str>) -> Value {
        match value {
            Some(v) => json!({"metadata": {"name": "c1", "labels": {EXEMPT_LABEL: v}}}),
            None => json!({"metadata": {"name": "c1"}}),
        }
    }

    #[test]
    fn only_admins_may_exempt_an_object() {
        let admins = ExemptionAdmins::default();
        let by = |user, groups: &[&str], old| refusal(&parsed(labelled(Some("true")), old, user, groups), &admins);
        let refused = by("alice", &["system:authenticated"], None).expect("a user may not exempt");
        assert!(
            refused.starts_with("only group system:masters may exempt an object from kkp-webhook"),
            "{refused}"
        );
        assert_eq!(by("admin", &["system:masters"], None), None);
        assert!(
            by("alice", &[], Some(labelled(None))).is_some(),
            "adding the label on update"
        );
        assert_eq!(
            by("kkp-controller", &[], Some(labelled(Some("true")))),
            None,
            "an exemption granted before stays usable"
        );
    }

    #[test]
    fn other_values_and_removals_are_not_exemptions() {
        let admins = ExemptionAdmins::default();
        assert_eq!(
            refusal(&parsed(labelled(Some("false")), None, "alice", &[]), &admins),
            None
        );
        assert_eq!(
            refusal(
                &parsed(labelled(None), Some(labelled(Some("true"))), "alice", &[]),
                &admins
            ),
            None
        );
    }

    #[test]
    fn users_and_groups_can_be_named() {
        let admins = ExemptionAdmins {
            groups: vec!["platform-admins".into()],
            users: vec!["bob".into()],
        };
        assert!(admins.admits(&UserInfo {
            username: "bob".into(),
            groups: vec![]
        }));
        assert!(admins.admits(&UserInfo {
            username: "x".into(),
            groups: vec!["platform-admins".into()]
        }));
        assert!(!admins.admits(&UserInfo {
            username: "x".into(),
            groups: vec!["system:masters".into()]
        }));
        let none = ExemptionAdmins {
            groups: vec![],
            users: vec![],
        };
        let refused = refusal(
            &parsed(labelled(Some("true")), None, "root", &["system:masters"]),
            &none,
        )
        .unwrap();
        assert!(
            refused.contains("nobody (no exemption admins are configured)"),
            "{refused}"
        );
    }
}
