//! The checks `generate` and `create` run on the objects they made, before printing or sending
//! them: the admission engine locally ([`check_generated`], both commands), and the CRDs
//! ([`check_against_served_crds`]) and admission policies ([`check_before_apply`]) of the cluster
//! the objects go to (`create`). A refusal is
//! reported in full through the printer and comes back as the exit status.

use kkp_crds::policy::Violation;
use semver::Version;
use serde_json::Value;

use super::admit::{self, CheckOptions, Checked, Input, admit_with_policies, subject};
use super::render;
use crate::exit::ExitStatus;
use crate::k8s::client::Connection;
use crate::k8s::policies::{fetch_policies, whoami};
use crate::platform::Platform;
use crate::printer::Printer;

/// What a refusal of invalid objects says: which objects, and what the user can do.
#[derive(Clone, Copy, Debug)]
pub struct Refusal {
    pub objects: &'static str,
    pub advice: &'static str,
}

impl Refusal {
    /// `generate`: the objects would be printed.
    pub const GENERATE: Refusal = Refusal {
        objects: "the generated objects",
        advice: "set the variables they come from, or pass --skip-validation to print them as they are",
    };
    /// `create`: the objects would be sent.
    pub const CREATE: Refusal = Refusal {
        objects: "the cluster's objects",
        advice: "nothing was sent. Fix the flags or variables they come from (see kubectl kkp generate cluster \
                 --list-variables) and run the command again",
    };

    fn message(self, errors: usize) -> String {
        format!(
            "{} are not valid ({}); {}",
            self.objects,
            render::count(errors, "error", "errors"),
            self.advice
        )
    }
}

/// Defaults and validates the objects as admission would. Returns them as admission would store
/// them (objects of kinds the engine does not judge unchanged, in the same order), with each
/// warning on stderr; or, when any is invalid, reports every error per object and field and what
/// to do on stderr and returns the exit status.
pub fn check_generated(
    objects: Vec<Value>,
    platform: &Platform,
    cluster_version: Option<Version>,
    refusal: Refusal,
    printer: &Printer,
) -> Result<Vec<Value>, ExitStatus> {
    let opts = CheckOptions {
        platform: platform.clone(),
        cluster_version,
    };
    let checked = admit::check(objects.into_iter().map(Input::generated).collect(), &opts);
    printer.message_text(render::warnings_text(&checked));
    let invalid: Vec<&Checked> = checked.iter().filter(|c| !c.allowed()).collect();
    if invalid.is_empty() {
        return Ok(checked.into_iter().map(Checked::into_object).collect());
    }
    printer.message_text(render::checked_text(&invalid, &[], false));
    let errors = invalid.iter().map(|c| c.error_count()).sum();
    printer.error(refusal.message(errors));
    Err(ExitStatus::Failure)
}

/// Before `create cluster` applies anything: checks the objects of kinds the engine has no rules
/// for (a Cluster API provider's resources, say) against the CRDs the cluster serves for them, as
/// the apiserver's schema validation would, and reports every error per object and field.
pub async fn check_against_served_crds(
    conn: &Connection,
    objects: &[Value],
    platform: &Platform,
    refusal: Refusal,
    printer: &Printer,
) -> anyhow::Result<ExitStatus> {
    let crds = crate::k8s::crds::served_for(conn, objects).await?;
    if crds.is_empty() {
        return Ok(ExitStatus::Success);
    }
    let opts = CheckOptions {
        platform: platform.clone(),
        cluster_version: None,
    };
    let mut checked = admit::check(objects.iter().cloned().map(Input::generated).collect(), &opts);
    admit::check_against_crds(&mut checked, &crds);
    let invalid: Vec<&Checked> = checked.iter().filter(|c| c.against_crd && !c.allowed()).collect();
    if invalid.is_empty() {
        return Ok(ExitStatus::Success);
    }
    printer.message_text(render::checked_text(&invalid, &[], false));
    let errors = invalid.iter().map(|c| c.error_count()).sum();
    printer.error(refusal.message(errors));
    Ok(ExitStatus::Failure)
}

/// Before `create cluster` applies anything: reads the policies of the cluster it applies to (when
/// the user may), evaluates them on the objects and reports every violation on stderr. Deny
/// violations stop the command, as the webhook would refuse the objects.
pub async fn check_before_apply(
    conn: &Connection,
    objects: &[Value],
    platform: &Platform,
    printer: &Printer,
) -> anyhow::Result<ExitStatus> {
    let Some(set) = fetch_policies(&conn.client).await? else {
        return Ok(ExitStatus::Success);
    };
    if set.is_empty() {
        return Ok(ExitStatus::Success);
    }
    let user = whoami(&conn.client).await;
    let refs: Vec<&Value> = objects.iter().collect();
    let found: Vec<(String, Violation)> = admit_with_policies(&refs, &set, user.as_ref(), platform)
        .into_iter()
        .flat_map(|verdict| {
            let subject = subject(&verdict);
            verdict.violations.into_iter().map(move |v| (subject.clone(), v))
        })
        .collect();
    let (text, denials) = render::violations_text(&found, user.is_some(), &set);
    printer.message_text(text);
    if denials == 0 {
        return Ok(ExitStatus::Success);
    }
    printer.error(denied(denials, conn));
    Ok(ExitStatus::Failure)
}

/// The last line when policies deny the objects.
fn denied(denials: usize, conn: &Connection) -> String {
    format!(
        "the cluster's objects break {} of {}; nothing was sent. List the policies with: kubectl kkp get policies",
        render::count(denials, "admission policy rule", "admission policy rules"),
        conn.describe()
    )
}

#[cfg(test)]
mod tests {
    use kube::Client;
    use serde_json::json;

    use super::*;

    #[test]
    fn generated_objects_come_back_defaulted_and_foreign_kinds_as_they_are() {
        let cluster = json!({"apiVersion": "kubermatic.k8c.io/v1", "kind": "Cluster",
            "metadata": {"name": "k7x2mvq9tn", "labels": {"project-id": "p8kfs2x9jw"}},
            "spec": {"humanReadableName": "demo", "version": "1.35.7", "cloud": {"dc": "hetzner-fsn1",
                "hetzner": {"credentialsReference": {"name": "credential-hetzner-k7x2mvq9tn", "namespace": "kubermatic"}}}}});
        let capi = json!({"apiVersion": "cluster.x-k8s.io/v1beta2", "kind": "Cluster",
            "metadata": {"name": "capi", "namespace": "clusters"}, "spec": {"paused": false}});
        let checked = check_generated(
            vec![cluster.clone(), capi.clone()],
            &Platform::builtin(),
            None,
            Refusal::CREATE,
            &Printer,
        )
        .expect("valid");
        assert_eq!(checked.len(), 2);
        assert_eq!(checked[0].pointer("/spec/humanReadableName"), Some(&json!("demo")));
        assert_eq!(checked[0].pointer("/spec/exposeStrategy"), Some(&json!("NodePort")));
        assert_eq!(checked[0].pointer("/spec/containerRuntime"), Some(&json!("containerd")));
        assert!(checked[0].pointer("/spec/clusterNetwork").is_some());
        assert_eq!(cluster.pointer("/spec/exposeStrategy"), None);
        assert_eq!(checked[1], capi);
    }

    #[test]
    fn invalid_objects_are_refused_with_exit_status_1() {
        let bad = json!({"apiVersion": "kubermatic.k8c.io/v1", "kind": "Cluster", "metadata": {"name": "x"},
            "spec": {"version": "not-a-version"}});
        for refusal in [Refusal::GENERATE, Refusal::CREATE] {
            let status =
                check_generated(vec![bad.clone()], &Platform::builtin(), None, refusal, &Printer).expect_err("invalid");
            assert_eq!(status, ExitStatus::Failure);
        }
        assert_eq!(
            Refusal::GENERATE.message(2),
            "the generated objects are not valid (2 errors); set the variables they come from, or pass \
             --skip-validation to print them as they are"
        );
        assert_eq!(
            Refusal::CREATE.message(1),
            "the cluster's objects are not valid (1 error); nothing was sent. Fix the flags or variables they come \
             from (see kubectl kkp generate cluster --list-variables) and run the command again"
        );
    }

    #[tokio::test]
    async fn the_last_line_of_a_denial_names_the_cluster() {
        let config = kube::Config::new("https://127.0.0.1:1".parse().expect("a url"));
        let conn = Connection {
            client: Client::try_from(config).expect("a client"),
            context: "seed".into(),
            server: "https://127.0.0.1:1".into(),
            namespace: "default".into(),
            namespace_from_flag: false,
        };
        assert_eq!(
            denied(1, &conn),
            "the cluster's objects break 1 admission policy rule of context \"seed\"; nothing was sent. List the \
             policies with: kubectl kkp get policies"
        );
    }
}
