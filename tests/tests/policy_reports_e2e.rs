//! End to end: policy reports on a real control plane. kkp-webhook runs in this process (TLS on
//! 127.0.0.1, behind the shipped webhook configurations) with the access the shipped RBAC gives
//! it; the shipped PolicyReport CRDs are installed. Objects created before an Audit policy get
//! reports from the background audit once the policy arrives; an object fixed through the webhook
//! gets its result turned to pass from its admission, with no periodic audit in between.

use std::time::Duration;

use kkp_crds::policy::report::{ReportResult, ResultKind, SOURCE};
use kkp_e2e::crds::{ADMISSION_POLICIES, CLUSTERS, MACHINE_DEPLOYMENTS, install_crds};
use kkp_e2e::examples::{hetzner_cluster, hetzner_provider_spec, machine_deployment_of, object};
use kkp_e2e::plugin_support::{self, Ran};
use kkp_e2e::webhook_support::{self, InProcessWebhook};
use kkp_e2e::{ControlPlane, apis, install_shipped_crds, shared_control_plane};
use kkp_webhook::policies::WatchOptions;
use kkp_webhook::reports::{ReportOptions, Reporter, cluster_policy_report_resource, policy_report_resource};
use kube::Api;
use kube::api::{DynamicObject, Patch, PatchParams, PostParams};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(60);

const AUDIT_POLICY: &str = r#"
apiVersion: policy.kubectl-kkp.io/v1alpha1
kind: AdmissionPolicy
metadata:
  name: audit-placement
spec:
  enforcement: Audit
  rules:
    datacenters: [hetzner-fsn1]
    requiredLabels: [team]
    maxReplicas: 3
"#;

const WARN_POLICY: &str = r#"
apiVersion: policy.kubectl-kkp.io/v1alpha1
kind: AdmissionPolicy
metadata:
  name: warn-owner
spec:
  enforcement: Warn
  rules:
    requiredAnnotations: [owner]
"#;

/// Runs the real kubectl, with the plugin on PATH, as the cluster's admin (off the async runtime).
async fn kubectl(plane: &'static ControlPlane, args: &[&str]) -> Ran {
    let kubeconfig = plane.admin().kubeconfig_path.clone();
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let plugin_dir = plugin_support::plugin_dir().expect("the plugin builds");
        let home = tempfile::tempdir().expect("a home dir");
        let mut command = plugin_support::kubectl(plane.bin_dir(), plugin_dir, &kubeconfig, home.path());
        command.args(&args);
        plugin_support::run(command, Duration::from_secs(120)).expect("kubectl ran")
    })
    .await
    .expect("the kubectl task")
}

/// `(policy, rule) → result` of a report, after checking what every result must carry.
fn results_of(report: &DynamicObject, name: &str) -> Vec<(String, String, ResultKind)> {
    let results: Vec<ReportResult> =
        serde_json::from_value(report.data["results"].clone()).expect("results in the report's format");
    for r in &results {
        assert_eq!(r.source, SOURCE);
        assert_eq!(r.resources[0].name, name, "{r:?}");
        assert!(!r.message.is_empty(), "{r:?}");
    }
    let mut brief: Vec<_> = results.into_iter().map(|r| (r.policy, r.rule, r.result)).collect();
    brief.sort();
    brief
}

fn brief(rows: &[(&str, ResultKind)]) -> Vec<(String, String, ResultKind)> {
    let mut out: Vec<_> = rows
        .iter()
        .map(|(rule, result)| ("audit-placement".to_owned(), (*rule).to_owned(), *result))
        .collect();
    out.sort();
    out
}

/// Waits until the report `name` of `api` has the `expected` results of the object `subject`.
async fn wait_for_report(
    api: &Api<DynamicObject>,
    name: &str,
    subject: &str,
    expected: Vec<(String, String, ResultKind)>,
) -> DynamicObject {
    let expected = &expected;
    webhook_support::wait_until(&format!("the report about {subject}"), WAIT, || async move {
        let report = api.get(name).await.map_err(|e| e.to_string())?;
        let got = results_of(&report, subject);
        if &got == expected {
            Ok(report)
        } else {
            Err(format!("{got:?}"))
        }
    })
    .await
    .expect("the report")
}

fn uid(object: &DynamicObject) -> String {
    object.metadata.uid.clone().expect("a stored object has a uid")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_policies_are_reported_as_policy_reports_and_fixes_turn_to_pass() {
    let plane = shared_control_plane().await.expect("the control plane starts");
    let admin = plane.client().await.expect("an admin client");
    install_shipped_crds(&admin, &[CLUSTERS, MACHINE_DEPLOYMENTS, ADMISSION_POLICIES])
        .await
        .expect("the shipped CRDs install");
    for (_, yaml) in kkp_manifests::POLICY_REPORT_CRDS {
        install_crds(&admin, yaml)
            .await
            .expect("the shipped report CRDs install");
    }
    let namespace = apis::fresh_namespace(&admin, "reports-e2e")
        .await
        .expect("the namespace");

    // The webhook, with the identity and access the manifests give it.
    let webhook_user = plane.mint_user("kkp-webhook", &[]).expect("the webhook's identity");
    webhook_support::grant_webhook_cluster_roles(&admin, "kkp-webhook", "policy-reports-e2e").await;
    let client = webhook_user.client().await.expect("the webhook's client");
    let webhook = InProcessWebhook::start(client.clone(), WatchOptions::default(), WAIT)
        .await
        .expect("the webhook serves and lists the policies");
    let state = webhook.state.clone();
    // No periodic audit during the test: reports come from policy changes and admissions.
    let reporter = Reporter::spawn(
        client,
        state.clone(),
        ReportOptions {
            interval: Duration::from_secs(3600),
            page_size: 2,
            settle: Duration::from_millis(300),
            policies_synced: Some(webhook.watch.synced()),
        },
    );
    let registered = webhook
        .register(&admin, WAIT)
        .await
        .expect("the apiserver calls the webhook");

    // Objects stored before the policy: two Clusters and two MachineDeployments.
    let clusters = apis::clusters(&admin);
    let post = PostParams::default();
    let misplaced = clusters
        .create(&post, &object(&hetzner_cluster("misplaced", "1.35.7", "hetzner-hel1")))
        .await
        .expect("a Cluster outside the allowed datacenters");
    let mut good = hetzner_cluster("wellplaced", "1.35.7", "hetzner-fsn1");
    good["metadata"]["labels"]["team"] = json!("platform");
    let wellplaced = clusters
        .create(&post, &object(&good))
        .await
        .expect("a compliant Cluster");
    let mds = apis::machine_deployments(&admin, &namespace);
    let big = mds
        .create(
            &post,
            &object(&machine_deployment_of(
                "big",
                &namespace,
                5,
                hetzner_provider_spec("cx22"),
                "1.35.7",
            )),
        )
        .await
        .expect("a MachineDeployment over the replica limit");
    let mut small_md = machine_deployment_of("small", &namespace, 1, hetzner_provider_spec("cx22"), "1.35.7");
    small_md["metadata"]["labels"] = json!({"team": "platform"});
    let small = mds
        .create(&post, &object(&small_md))
        .await
        .expect("a small MachineDeployment");

    // Before any policy, the audit writes nothing about them.
    let mut audits = reporter.audits();
    audits.wait_for(|n| *n >= 1).await.expect("the first audit completes");
    let cluster_reports: Api<DynamicObject> = Api::all_with(admin.clone(), &cluster_policy_report_resource());
    let md_reports: Api<DynamicObject> = Api::namespaced_with(admin.clone(), &namespace, &policy_report_resource());
    assert!(
        cluster_reports
            .get_opt(&uid(&misplaced))
            .await
            .expect("a lookup")
            .is_none()
    );

    // The admin adds an Audit policy: the background audit reports on what is already stored.
    let policy: DynamicObject = serde_yaml::from_str(AUDIT_POLICY).expect("the policy");
    Api::<DynamicObject>::all_with(admin.clone(), &kkp_webhook::policies::policy_resource())
        .create(&post, &policy)
        .await
        .expect("the Audit policy");
    let report = wait_for_report(
        &cluster_reports,
        &uid(&misplaced),
        "misplaced",
        brief(&[("datacenters", ResultKind::Fail), ("requiredLabels", ResultKind::Fail)]),
    )
    .await;
    assert_eq!(
        report.types.as_ref().map(|t| t.kind.as_str()),
        Some("ClusterPolicyReport")
    );
    assert_eq!(report.data["scope"]["name"], "misplaced");
    assert_eq!(report.data["summary"]["fail"], 2);
    assert_eq!(report.data["summary"]["pass"], 0);
    let messages: Vec<&str> = report.data["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter_map(|r| r["message"].as_str())
        .collect();
    assert!(
        messages.contains(&r#"datacenter "hetzner-hel1" is not allowed; allowed: hetzner-fsn1"#),
        "{messages:?}"
    );
    wait_for_report(
        &cluster_reports,
        &uid(&wellplaced),
        "wellplaced",
        brief(&[("datacenters", ResultKind::Pass), ("requiredLabels", ResultKind::Pass)]),
    )
    .await;
    let md_report = wait_for_report(
        &md_reports,
        &uid(&big),
        "big",
        brief(&[
            ("datacenters", ResultKind::Pass),
            ("maxReplicas", ResultKind::Fail),
            ("requiredLabels", ResultKind::Fail),
        ]),
    )
    .await;
    assert_eq!(md_report.types.as_ref().map(|t| t.kind.as_str()), Some("PolicyReport"));
    assert_eq!(md_report.metadata.namespace.as_deref(), Some(namespace.as_str()));
    wait_for_report(
        &md_reports,
        &uid(&small),
        "small",
        brief(&[
            ("datacenters", ResultKind::Pass),
            ("maxReplicas", ResultKind::Pass),
            ("requiredLabels", ResultKind::Pass),
        ]),
    )
    .await;

    // The plugin summarises them: the objects that break a rule, and one namespace as JSON.
    let failing = kubectl(plane, &["kkp", "get", "policy-reports", "--failing"]).await;
    failing.expect_code(0);
    let lines: Vec<Vec<&str>> = failing.stdout.lines().map(|l| l.split_whitespace().collect()).collect();
    assert_eq!(
        lines[0],
        [
            "KIND",
            "NAMESPACE",
            "NAME",
            "PASS",
            "FAIL",
            "WARN",
            "ERROR",
            "SKIP",
            "FAILING",
            "RULES"
        ],
        "{}",
        failing.both()
    );
    let row = |name: &str| lines.iter().find(|l| l.get(2) == Some(&name)).cloned();
    assert_eq!(
        row("misplaced"),
        Some(vec![
            "Cluster",
            "-",
            "misplaced",
            "0",
            "2",
            "0",
            "0",
            "0",
            "audit-placement/datacenters,audit-placement/requiredLabels"
        ]),
        "{}",
        failing.both()
    );
    assert_eq!(
        row("big").map(|r| r[..5].to_vec()),
        Some(vec!["MachineDeployment", namespace.as_str(), "big", "1", "2"]),
        "{}",
        failing.both()
    );
    assert_eq!(row("wellplaced"), None, "{}", failing.both());
    assert_eq!(row("small"), None, "{}", failing.both());
    let json_out = kubectl(plane, &["kkp", "get", "policy-reports", "-n", &namespace, "-o", "json"]).await;
    json_out.expect_code(0);
    let summary: Value = serde_json::from_str(&json_out.stdout).expect("JSON");
    assert_eq!(summary["objects"], 2, "{summary}");
    assert_eq!(summary["summary"]["fail"], 2, "{summary}");
    assert_eq!(summary["summary"]["pass"], 4, "{summary}");
    let big_findings = &summary["items"][0]["findings"];
    assert_eq!(summary["items"][0]["name"], "big", "{summary}");
    assert_eq!(big_findings[0]["rule"], "maxReplicas", "{summary}");
    assert_eq!(
        big_findings[0]["message"], "5 replicas exceed the maximum of 3",
        "{summary}"
    );

    // Fixes through the webhook turn the results to pass, with no periodic audit in between.
    let audits_before = *audits.borrow();
    let params = PatchParams::default();
    mds.patch(
        "big",
        &params,
        &Patch::Merge(json!({"metadata": {"labels": {"team": "platform"}}, "spec": {"replicas": 2}})),
    )
    .await
    .expect("the MachineDeployment is scaled down and labelled");
    clusters
        .patch(
            "misplaced",
            &params,
            &Patch::Merge(json!({"metadata": {"labels": {"team": "platform"}}})),
        )
        .await
        .expect("the Cluster is labelled");
    wait_for_report(
        &md_reports,
        &uid(&big),
        "big",
        brief(&[
            ("datacenters", ResultKind::Pass),
            ("maxReplicas", ResultKind::Pass),
            ("requiredLabels", ResultKind::Pass),
        ]),
    )
    .await;
    wait_for_report(
        &cluster_reports,
        &uid(&misplaced),
        "misplaced",
        brief(&[("datacenters", ResultKind::Fail), ("requiredLabels", ResultKind::Pass)]),
    )
    .await;
    assert_eq!(
        *audits.borrow(),
        audits_before,
        "the fixes were reported from their admission, not by a full audit"
    );
    let metrics = state.metrics().render();
    let written = metrics
        .lines()
        .find_map(|l| l.strip_prefix("kkp_webhook_policy_reports_written_total "))
        .and_then(|n| n.trim().parse::<u64>().ok())
        .expect("the written reports are counted");
    // Four reports from the audit, two rewritten from the admissions of the fixes.
    assert!(written >= 6, "{metrics}");
    assert!(
        metrics.contains(r#"kkp_webhook_policy_report_audits_total{result="done"}"#),
        "{metrics}"
    );

    // A Warn policy's violations are `warn` results.
    let policies = Api::<DynamicObject>::all_with(admin.clone(), &kkp_webhook::policies::policy_resource());
    let warn_policy: DynamicObject = serde_yaml::from_str(WARN_POLICY).expect("the Warn policy");
    policies.create(&post, &warn_policy).await.expect("the Warn policy");
    let (small_uid, md_reports_ref) = (uid(&small), &md_reports);
    let small_uid = &small_uid;
    webhook_support::wait_until("a warn result", WAIT, || async move {
        let report = md_reports_ref.get(small_uid).await.map_err(|e| e.to_string())?;
        let got = results_of(&report, "small");
        let warned = (
            "warn-owner".to_owned(),
            "requiredAnnotations".to_owned(),
            ResultKind::Warn,
        );
        if got.contains(&warned) && report.data["summary"]["warn"] == 1 {
            Ok(())
        } else {
            Err(format!("{got:?}"))
        }
    })
    .await
    .expect("the Warn policy's violation is reported as warn");

    // The policies go: the next audit removes the reports they no longer back.
    for name in ["audit-placement", "warn-owner"] {
        policies
            .delete(name, &Default::default())
            .await
            .expect("the policy is deleted");
    }
    let (misplaced_uid, cluster_reports) = (uid(&misplaced), &cluster_reports);
    let misplaced_uid = &misplaced_uid;
    webhook_support::wait_until("the reports to go with the policy", WAIT, || async move {
        match cluster_reports.get_opt(misplaced_uid).await {
            Ok(None) => Ok(()),
            Ok(Some(_)) => Err("still there".to_owned()),
            Err(e) => Err(e.to_string()),
        }
    })
    .await
    .expect("the report is deleted");

    reporter.stop().await;
    webhook.stop(&admin, &registered).await.expect("the webhook stops");
}
