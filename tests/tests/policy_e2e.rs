//! End to end: admission policies on a real control plane. kkp-webhook runs in this process (TLS
//! on 127.0.0.1, its policies followed with a reflector under the RBAC of the shipped manifests)
//! behind the shipped webhook configurations; an admin installs policies with kubectl; a user with
//! a client certificate bound by RBAC to create Clusters and MachineDeployments (and nothing about
//! policies) is denied, warned and refused what the policies and RBAC say, while a member of an
//! exempted group passes. The webhook reports compile errors and counts in the policies' status,
//! and `kubectl kkp get policies` shows them.

use std::time::Duration;

use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding};
use kkp_e2e::crds::{ADMISSION_POLICIES, CLUSTERS, MACHINE_DEPLOYMENTS};
use kkp_e2e::examples::{hetzner_cluster_with_token, hetzner_provider_spec, machine_deployment_of, object};
use kkp_e2e::plugin_support::{self, Ran};
use kkp_e2e::users::UserCredentials;
use kkp_e2e::webhook_support::{self, InProcessWebhook};
use kkp_e2e::{ControlPlane, apis, install_shipped_crds, shared_control_plane};
use kkp_webhook::policies::WatchOptions;
use kube::api::{DynamicObject, Patch, PatchParams, PostParams};
use kube::{Api, Client};
use serde_json::{Value, json};

const COMMAND_TIMEOUT: Duration = Duration::from_secs(120);
const WAIT: Duration = Duration::from_secs(60);

/// What the admin installs: a Deny policy (the exempted group passes), a Warn and an Audit
/// policy.
const POLICIES: &str = r#"
apiVersion: policy.kubectl-kkp.io/v1alpha1
kind: AdmissionPolicy
metadata:
  name: platform-rules
spec:
  enforcement: Deny
  exemptions:
    groups: [platform-admins]
  rules:
    providers: [aws, hetzner]
    datacenters: [hetzner-fsn1, hetzner-nbg1]
    instanceSizes:
      hetzner: [cx22, cx32]
    maxReplicas: 5
---
apiVersion: policy.kubectl-kkp.io/v1alpha1
kind: AdmissionPolicy
metadata:
  name: team-label
spec:
  enforcement: Warn
  rules:
    requiredLabels: [team]
---
apiVersion: policy.kubectl-kkp.io/v1alpha1
kind: AdmissionPolicy
metadata:
  name: audit-inline-credentials
spec:
  enforcement: Audit
  rules:
    forbidInlineCredentials: true
"#;

/// A policy that does not compile, stored before the webhook configurations (the admission of
/// policies) were registered: the webhook leaves it out and says why in its status.
const BROKEN: &str = r#"
apiVersion: policy.kubectl-kkp.io/v1alpha1
kind: AdmissionPolicy
metadata:
  name: broken
spec:
  rules:
    providers: [aws]
    cel:
      - name: unfinished
        expression: "object.spec.("
"#;

/// A policy over a CEL limit, which the webhook refuses at admission.
const TOO_DEEP: &str = r#"
apiVersion: policy.kubectl-kkp.io/v1alpha1
kind: AdmissionPolicy
metadata:
  name: too-deep
spec:
  rules:
    cel:
      - name: deep
        expression: "((((((((((((((((((((((((((((((((((((((((true))))))))))))))))))))))))))))))))))))))))"
"#;

/// A Hetzner Cluster of the examples in datacenter `dc`, its token inline (for the Audit policy).
fn cluster(name: &str, dc: &str) -> Value {
    hetzner_cluster_with_token(name, "1.35.7", dc)
}

fn policies_api(client: &Client) -> Api<DynamicObject> {
    Api::all_with(client.clone(), &kkp_webhook::policies::policy_resource())
}

/// Runs the real kubectl (with the plugin on PATH) as `user`, off the async runtime. With
/// `input`, an argument `-` names a file holding it.
async fn kubectl_as(plane: &'static ControlPlane, user: &UserCredentials, args: &[&str], input: Option<String>) -> Ran {
    let kubeconfig = user.kubeconfig_path.clone();
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let plugin_dir = plugin_support::plugin_dir().expect("the plugin builds");
        let home = tempfile::tempdir().expect("a home dir");
        let file = home.path().join("input.yaml");
        if let Some(text) = &input {
            std::fs::write(&file, text).expect("the input file");
        }
        let mut command = plugin_support::kubectl(plane.bin_dir(), plugin_dir, &kubeconfig, home.path());
        for a in &args {
            if a == "-" && input.is_some() {
                command.arg(&file);
            } else {
                command.arg(a);
            }
        }
        plugin_support::run(command, COMMAND_TIMEOUT).expect("kubectl ran")
    })
    .await
    .expect("the kubectl task")
}

fn yaml(value: &Value) -> String {
    serde_yaml::to_string(value).expect("YAML")
}

/// Members of `developers` may create Clusters and MachineDeployments, and nothing else.
async fn grant_developers(admin: &Client) {
    let params = PatchParams::apply("policy-e2e").force();
    let verbs = json!(["create", "get", "list", "watch", "update", "patch", "delete"]);
    let role: ClusterRole = serde_json::from_value(json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
        "metadata": {"name": "kkp-cluster-creator"},
        "rules": [
            {"apiGroups": ["kubermatic.k8c.io"], "resources": ["clusters"], "verbs": verbs},
            {"apiGroups": ["cluster.k8s.io"], "resources": ["machinedeployments"], "verbs": verbs}
        ]
    }))
    .expect("a ClusterRole");
    Api::<ClusterRole>::all(admin.clone())
        .patch("kkp-cluster-creator", &params, &Patch::Apply(&role))
        .await
        .expect("the developers' ClusterRole");
    let binding: ClusterRoleBinding = serde_json::from_value(json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
        "metadata": {"name": "kkp-cluster-creators"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "kkp-cluster-creator"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "developers"}]
    }))
    .expect("a binding");
    Api::<ClusterRoleBinding>::all(admin.clone())
        .patch("kkp-cluster-creators", &params, &Patch::Apply(&binding))
        .await
        .expect("the developers' ClusterRoleBinding");
}

/// Waits until the apiserver calls both webhooks: a dry-run Cluster comes back defaulted (the
/// mutating one), and one with an unknown version is refused (the validating one).
async fn wait_until_webhooks_answer(admin: &Client) {
    let api = &apis::clusters(admin);
    let dry = &apis::dry_run();
    webhook_support::wait_until("the mutating webhook to default clusters", WAIT, || async move {
        match api.create(dry, &object(&cluster("marker", "hetzner-fsn1"))).await {
            Ok(c) if c.data.pointer("/spec/cloud/providerName") == Some(&json!("hetzner")) => Ok(()),
            Ok(c) => Err(format!("not defaulted: {:?}", c.data.pointer("/spec/cloud"))),
            Err(e) => Err(e.to_string()),
        }
    })
    .await
    .expect("the mutating webhook is called");
    let mut old = cluster("marker", "hetzner-fsn1");
    old["spec"]["version"] = json!("1.20.0");
    let old = &old;
    webhook_support::wait_until("the validating webhook to check clusters", WAIT, || async move {
        match api.create(dry, &object(old)).await {
            Err(kube::Error::Api(s)) if s.message.contains("validation.kkp-webhook.kubectl-kkp.io") => Ok(()),
            other => Err(format!("{other:?}")),
        }
    })
    .await
    .expect("the validating webhook is called");
}

fn status_of(policy: &DynamicObject) -> Value {
    policy.data.get("status").cloned().unwrap_or(Value::Null)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admission_policies_are_enforced_by_the_webhook_on_a_real_control_plane() {
    let plane = shared_control_plane().await.expect("the control plane starts");
    let admin = plane.client().await.expect("an admin client");
    install_shipped_crds(&admin, &[CLUSTERS, MACHINE_DEPLOYMENTS, ADMISSION_POLICIES])
        .await
        .expect("the shipped CRDs install");
    let namespace = apis::fresh_namespace(&admin, "policy-e2e")
        .await
        .expect("the namespace");

    // The webhook, in this process, watching policies as the identity the manifests give it.
    let webhook_user = plane.mint_user("kkp-webhook", &[]).expect("the webhook's identity");
    webhook_support::grant_webhook_cluster_roles(&admin, "kkp-webhook", "policy-e2e").await;
    let webhook = InProcessWebhook::start(
        webhook_user.client().await.expect("the webhook's client"),
        WatchOptions {
            status_interval: Duration::from_millis(500),
            ..WatchOptions::default()
        },
        WAIT,
    )
    .await
    .expect("the webhook serves and lists the policies");
    let state = webhook.state.clone();
    let broken: DynamicObject = serde_yaml::from_str(BROKEN).expect("the broken policy");
    policies_api(&admin)
        .create(&PostParams::default(), &broken)
        .await
        .expect("a policy stored before the webhook");
    let registered = webhook
        .register(&admin, WAIT)
        .await
        .expect("the apiserver calls the webhook through the shipped configurations");
    wait_until_webhooks_answer(&admin).await;

    // An admin installs the policies with kubectl.
    let admin_user = plane.admin().clone();
    let applied = kubectl_as(plane, &admin_user, &["apply", "-f", "-"], Some(POLICIES.to_owned())).await;
    applied.expect_code(0);
    // A policy over a CEL limit never reaches the webhook's policy watch.
    let refused = kubectl_as(plane, &admin_user, &["apply", "-f", "-"], Some(TOO_DEEP.to_owned())).await;
    refused.expect_code(1);
    refused
        .expect_stderr(r#"admission webhook "policies.kkp-webhook.kubectl-kkp.io" denied the request"#)
        .expect_stderr("rules.cel[0] (deep): the expression nests brackets 40 deep; the limit is 32");
    let also_broken = BROKEN.replace("name: broken", "name: broken-again");
    let refused = kubectl_as(plane, &admin_user, &["apply", "-f", "-"], Some(also_broken)).await;
    refused.expect_code(1);
    refused.expect_stderr("rules.cel[0] (unfinished): the expression does not compile");
    let policies = &policies_api(&admin);
    webhook_support::wait_until("the policies' compiled status", WAIT, || async move {
        let rules = policies.get("platform-rules").await.map_err(|e| e.to_string())?;
        let broken = policies.get("broken").await.map_err(|e| e.to_string())?;
        let (rules, broken) = (status_of(&rules), status_of(&broken));
        if rules["compiled"] == json!(true) && broken["compiled"] == json!(false) {
            Ok(broken["error"].as_str().unwrap_or("").to_owned())
        } else {
            Err(format!("platform-rules: {rules}, broken: {broken}"))
        }
    })
    .await
    .map(|error| {
        assert!(
            error.starts_with("rules.cel[0] (unfinished): the expression does not compile"),
            "{error}"
        )
    })
    .expect("the webhook reports whether each policy compiled");
    assert_eq!(
        state.context().policies.len(),
        3,
        "the policy that does not compile is left out, the others are in force"
    );

    // A user who may create Clusters and MachineDeployments, and nothing about policies.
    grant_developers(&admin).await;
    let dev = plane.mint_user("dev", &["developers"]).expect("a user");
    let ops = plane
        .mint_user("ops", &["developers", "platform-admins"])
        .expect("an exempted user");

    let denied = kubectl_as(
        plane,
        &dev,
        &["create", "-f", "-"],
        Some(yaml(&cluster("deniedcluster", "hetzner-hel1"))),
    )
    .await;
    denied.expect_code(1);
    denied.expect_stderr(r#"admission webhook "validation.kkp-webhook.kubectl-kkp.io" denied the request"#).expect_stderr(
                r#"policy "platform-rules" rule datacenters: datacenter "hetzner-hel1" is not allowed; allowed: hetzner-fsn1, hetzner-nbg1"#);

    let md = machine_deployment_of("big-workers", &namespace, 2, hetzner_provider_spec("cx52"), "1.35.7");
    let denied_md = kubectl_as(plane, &dev, &["create", "-f", "-"], Some(yaml(&md))).await;
    denied_md.expect_code(1);
    denied_md.expect_stderr(
        r#"policy "platform-rules" rule instanceSizes.hetzner: serverType "cx52" is not allowed; allowed: cx22, cx32"#,
    );

    let warned = kubectl_as(
        plane,
        &dev,
        &["create", "-f", "-"],
        Some(yaml(&cluster("warnedcluster", "hetzner-fsn1"))),
    )
    .await;
    warned.expect_code(0);
    warned.expect_stderr(r#"Warning: policy "team-label" rule requiredLabels: the label team is required"#);
    let metrics = state.metrics().render();
    assert!(
        metrics.contains(
            r#"kkp_webhook_policy_audit_violations_total{policy="audit-inline-credentials",rule="forbidInlineCredentials"}"#
        ),
        "the Audit violation is recorded in the metrics:\n{metrics}"
    );

    for args in [
        vec![
            "patch",
            "admissionpolicy",
            "platform-rules",
            "--type=merge",
            "-p",
            r#"{"spec":{"enforcement":"Audit"}}"#,
        ],
        vec!["delete", "admissionpolicy", "platform-rules"],
    ] {
        let refused = kubectl_as(plane, &dev, &args, None).await;
        refused.expect_code(1);
        refused
            .expect_stderr("Error from server (Forbidden)")
            .expect_stderr("cannot")
            .expect_stderr("admissionpolicies");
    }
    let forbidden = policies_api(&dev.client().await.expect("dev's client"))
        .delete("platform-rules", &Default::default())
        .await;
    assert!(
        matches!(&forbidden, Err(kube::Error::Api(s)) if s.code == 403),
        "{forbidden:?}"
    );

    let exempted = kubectl_as(
        plane,
        &ops,
        &["create", "-f", "-"],
        Some(yaml(&cluster("opscluster", "hetzner-hel1"))),
    )
    .await;
    exempted.expect_code(0);
    let exempted_md = kubectl_as(plane, &ops, &["create", "-f", "-"], Some(yaml(&md))).await;
    exempted_md.expect_code(0);

    // The counts reach the status: dev's two denied objects and one admitted one; ops is exempt.
    let counted = webhook_support::wait_until("the counts in platform-rules' status", WAIT, || async move {
        let status = status_of(&policies.get("platform-rules").await.map_err(|e| e.to_string())?);
        if status["matched"] == json!(3) && status["denied"] == json!(2) {
            Ok(status)
        } else {
            Err(status.to_string())
        }
    })
    .await;
    assert!(counted.is_ok(), "{counted:?}");

    let table = kubectl_as(plane, &admin_user, &["kkp", "get", "policies"], None).await;
    table.expect_code(0);
    let lines: Vec<Vec<&str>> = table.stdout.lines().map(|l| l.split_whitespace().collect()).collect();
    assert_eq!(
        lines[0],
        ["NAME", "ENFORCEMENT", "COMPILED", "MATCHED", "DENIED", "AGE"],
        "{}",
        table.both()
    );
    let row = |name: &str| lines.iter().find(|l| l.first() == Some(&name)).map(|l| l[..5].to_vec());
    assert_eq!(
        row("platform-rules"),
        Some(vec!["platform-rules", "Deny", "true", "3", "2"]),
        "{}",
        table.both()
    );
    assert_eq!(row("broken").map(|r| r[2]), Some("false"), "{}", table.both());
    let names = kubectl_as(plane, &admin_user, &["kkp", "get", "policies", "-o", "name"], None).await;
    names.expect_stdout("admissionpolicy.policy.kubectl-kkp.io/platform-rules\n");
    let not_allowed = kubectl_as(plane, &dev, &["kkp", "get", "policies"], None).await;
    not_allowed.expect_code(1);
    not_allowed.expect_stderr("forbidden");

    // `kubectl kkp create cluster` reads the policies first when the user may, and refuses to
    // send what they deny; a user who may not read them is told so at -v and goes on.
    let create = |name: &str, dc: &str| -> Vec<String> {
        [
            "kkp",
            "create",
            "cluster",
            name,
            "--provider",
            "hetzner",
            "--datacenter",
            dc,
            "--project",
            "p8kfs2x9jw",
            "--set",
            "HETZNER_LOCATION=fsn1",
            "--set",
            "HETZNER_NETWORK=net1",
            "--dry-run=server",
            "-v",
        ]
        .map(String::from)
        .to_vec()
    };
    let args = create("polcreate1", "hetzner-hel1");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let refused = kubectl_as(plane, &admin_user, &args, None).await;
    refused.expect_code(1);
    refused.expect_stderr(r#"error: Cluster polcreate1: policy "platform-rules" rule datacenters: datacenter "hetzner-hel1" is not allowed"#
        ).expect_stderr("nothing was sent");
    let args = create("polcreate2", "hetzner-fsn1");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let unread = kubectl_as(plane, &dev, &args, None).await;
    unread.expect_code(0);
    unread.expect_stderr("not allowed to list admissionpolicies.policy.kubectl-kkp.io (403)");

    // A changed policy is compiled and in force without a restart.
    let allow_hel1 = json!({"spec": {"rules": {"datacenters": ["hetzner-fsn1", "hetzner-nbg1", "hetzner-hel1"]}}});
    policies
        .patch("platform-rules", &PatchParams::default(), &Patch::Merge(&allow_hel1))
        .await
        .expect("the admin changes the policy");
    let dev_clusters = &apis::clusters(&dev.client().await.expect("dev's client"));
    webhook_support::wait_until("the changed policy to admit hetzner-hel1", WAIT, || async move {
        dev_clusters
            .create(
                &PostParams::default(),
                &object(&cluster("deniedcluster", "hetzner-hel1")),
            )
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    })
    .await
    .expect("the changed policy is in force");

    webhook.stop(&admin, &registered).await.expect("the webhook stops");
}
