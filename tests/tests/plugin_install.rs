//! End to end: `kubectl kkp install` through the real kubectl into a real control plane of its
//! own (the webhook it registers would otherwise answer for the other tests' objects).

use std::path::Path;
use std::time::Duration;

use k8s_openapi::api::admissionregistration::v1::{MutatingWebhookConfiguration, ValidatingWebhookConfiguration};
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kkp_e2e::plugin_support::{self, Ran};
use kkp_e2e::{ControlPlane, ControlPlaneOptions};
use kube::Api;
use serde_json::Value;

const RUN_TIMEOUT: Duration = Duration::from_secs(180);

fn kkp(plane: &ControlPlane, plugin_dir: &Path, home: &Path, args: &[&str]) -> Ran {
    let mut command = plugin_support::kubectl(plane.bin_dir(), plugin_dir, plane.kubeconfig_path(), home);
    command.arg("kkp").args(args);
    plugin_support::run(command, RUN_TIMEOUT).expect("kubectl kkp runs")
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// The webhook's serving certificate and CA as installed, and the caBundles of both webhook
/// configurations.
struct Installed {
    ca: Vec<u8>,
    ca_key_len: usize,
    cert: Vec<u8>,
    bundles: Vec<Vec<u8>>,
}

async fn installed(client: &kube::Client) -> Installed {
    let secrets: Api<Secret> = Api::namespaced(client.clone(), kkp_manifests::NAMESPACE);
    let secret = secrets
        .get(kkp_manifests::TLS_SECRET_NAME)
        .await
        .expect("the TLS Secret");
    let data = secret.data.expect("data");
    let mutating: Api<MutatingWebhookConfiguration> = Api::all(client.clone());
    let validating: Api<ValidatingWebhookConfiguration> = Api::all(client.clone());
    let mut bundles = Vec::new();
    for hook in mutating
        .get(kkp_manifests::NAME)
        .await
        .expect("mutating")
        .webhooks
        .unwrap_or_default()
    {
        bundles.extend(hook.client_config.ca_bundle.map(|b| b.0));
    }
    for hook in validating
        .get(kkp_manifests::NAME)
        .await
        .expect("validating")
        .webhooks
        .unwrap_or_default()
    {
        bundles.extend(hook.client_config.ca_bundle.map(|b| b.0));
    }
    Installed {
        ca: data["ca.crt"].0.clone(),
        ca_key_len: data.get("ca.key").map_or(0, |k| k.0.len()),
        cert: data["tls.crt"].0.clone(),
        bundles,
    }
}

fn documents(text: &str) -> Vec<Value> {
    text.split("\n---\n")
        .map(|d| serde_yaml::from_str(d).expect("YAML documents"))
        .collect()
}

#[test]
fn install_puts_the_crds_and_the_webhook_in_and_running_it_again_changes_nothing() {
    let plane = ControlPlane::start_blocking(ControlPlaneOptions::named("install")).expect("a control plane");
    let plugin_dir = plugin_support::plugin_dir().expect("the plugin builds");
    let home = tempfile::tempdir().expect("tempdir");
    let run = |args: &[&str]| kkp(&plane, plugin_dir, home.path(), args);
    // One runtime for every request: a client belongs to the runtime it was made on.
    let rt = rt();
    let client = rt.block_on(plane.client()).expect("a client");

    // A client dry run prints everything and sends nothing.
    let printed = run(&["install", "--dry-run=client"]);
    printed.expect_code(0);
    let docs = documents(&printed.stdout);
    let kinds: Vec<&str> = docs.iter().filter_map(|d| d["kind"].as_str()).collect();
    let names: Vec<&str> = docs.iter().filter_map(|d| d["metadata"]["name"].as_str()).collect();
    for name in ["policyreports.wgpolicyk8s.io", "clusterpolicyreports.wgpolicyk8s.io"] {
        assert!(names.contains(&name), "the report CRD {name} in {names:?}");
    }
    for kind in [
        "CustomResourceDefinition",
        "Namespace",
        "Secret",
        "Deployment",
        "MutatingWebhookConfiguration",
    ] {
        assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
    }
    assert_eq!(kinds.first(), Some(&"Namespace"), "namespaces go first: {kinds:?}");
    assert_eq!(
        kinds.last(),
        Some(&"ValidatingWebhookConfiguration"),
        "webhooks go last: {kinds:?}"
    );
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    assert!(
        rt.block_on(crds.get_opt("clusters.kubermatic.k8c.io"))
            .expect("get")
            .is_none()
    );

    // Another policy engine installed the ClusterPolicyReport CRD already: install keeps its copy.
    let (_, yaml) = kkp_manifests::POLICY_REPORT_CRDS[1];
    let mut theirs: CustomResourceDefinition = serde_yaml::from_str(yaml).expect("the report CRD");
    assert_eq!(
        theirs.metadata.name.as_deref(),
        Some("clusterpolicyreports.wgpolicyk8s.io")
    );
    theirs.metadata.labels = Some([("installed-by".to_owned(), "another-engine".to_owned())].into());
    rt.block_on(crds.create(&Default::default(), &theirs))
        .expect("the other engine's CRD");

    // A server dry run checks what it can: the namespace does not exist yet.
    let dry = run(&["install", "--dry-run=server"]);
    dry.expect_code(0);
    dry.expect_stdout(
        "customresourcedefinition.apiextensions.k8s.io/clusters.kubermatic.k8c.io created (server dry run)",
    );
    dry.expect_stderr("namespace kkp-system not checked");

    let first = run(&["install"]);
    first.expect_code(0);
    for line in [
        "customresourcedefinition.apiextensions.k8s.io/clusters.kubermatic.k8c.io created",
        "customresourcedefinition.apiextensions.k8s.io/machinedeployments.cluster.k8s.io created",
        "customresourcedefinition.apiextensions.k8s.io/policyreports.wgpolicyk8s.io created",
        "namespace/kkp-system created",
        "secret/kkp-webhook-tls created",
        "deployment.apps/kkp-webhook created",
        "validatingwebhookconfiguration.admissionregistration.k8s.io/kkp-webhook created",
    ] {
        assert!(first.stdout.lines().any(|l| l == line), "{line}: {}", first.both());
    }
    first.expect_stderr("rollout status deployment/kkp-webhook");
    first.expect_stderr(
        "customresourcedefinition.apiextensions.k8s.io/clusterpolicyreports.wgpolicyk8s.io is already installed; kept as it is",
    );
    let kept = rt
        .block_on(crds.get("clusterpolicyreports.wgpolicyk8s.io"))
        .expect("the other engine's CRD");
    assert_eq!(
        kept.metadata
            .labels
            .unwrap_or_default()
            .get("installed-by")
            .map(String::as_str),
        Some("another-engine"),
        "install left the other engine's CRD as it was"
    );
    assert!(
        !kept
            .metadata
            .managed_fields
            .unwrap_or_default()
            .iter()
            .any(|m| m.manager.as_deref() == Some("kubectl-kkp")),
        "install did not apply to the other engine's CRD"
    );

    let crd = rt.block_on(crds.get("clusters.kubermatic.k8c.io")).expect("the CRD");
    let established = crd.status.and_then(|s| s.conditions).unwrap_or_default();
    assert!(
        established
            .iter()
            .any(|c| c.type_ == "Established" && c.status == "True")
    );

    let before = rt.block_on(installed(&client));
    assert_eq!(
        before.bundles.len(),
        5,
        "every webhook: defaulting, validation, policies, scale, exemptions"
    );
    assert!(
        before.bundles.iter().all(|b| *b == before.ca),
        "the caBundle is the CA of the Secret"
    );
    let (_, ca) = x509_parser::pem::parse_x509_pem(&before.ca).expect("CA PEM");
    let ca = ca.parse_x509().expect("CA");
    let (_, cert) = x509_parser::pem::parse_x509_pem(&before.cert).expect("cert PEM");
    let cert = cert.parse_x509().expect("cert");
    cert.verify_signature(Some(ca.public_key()))
        .expect("the serving certificate is signed by the CA");
    let names: Vec<String> = cert
        .subject_alternative_name()
        .expect("SAN")
        .expect("SAN present")
        .value
        .general_names
        .iter()
        .map(|n| n.to_string())
        .collect();
    for dns in kkp_manifests::SERVICE_DNS_NAMES {
        assert!(names.iter().any(|n| n.contains(dns)), "{dns} in {names:?}");
    }

    // Again: the certificate is kept and nothing changes.
    let second = run(&["install"]);
    second.expect_code(0);
    let lines: Vec<&str> = second.stdout.lines().collect();
    assert!(
        !lines.is_empty() && lines.iter().all(|l| l.ends_with(" unchanged")),
        "{}",
        second.both()
    );
    let after = rt.block_on(installed(&client));
    assert_eq!(after.ca, before.ca);

    // A new certificate on request, trusted through the updated caBundles.
    let renewed = run(&["install", "--crds=false", "--renew-certificate"]);
    renewed.expect_code(0);
    renewed.expect_stdout("secret/kkp-webhook-tls configured");
    // --crds=false leaves the resource CRDs alone but keeps the policy CRD the webhook watches.
    renewed.expect_stdout(
        "customresourcedefinition.apiextensions.k8s.io/admissionpolicies.policy.kubectl-kkp.io unchanged",
    );
    assert!(
        !renewed.stdout.contains("clusters.kubermatic.k8c.io"),
        "{}",
        renewed.both()
    );
    let renewed_state = rt.block_on(installed(&client));
    assert_ne!(renewed_state.ca, before.ca);
    assert!(renewed_state.bundles.iter().all(|b| *b == renewed_state.ca));
    // The CA is rotated with an overlap, step by step; no pods run here to wait for.
    for step in [
        "Step 1/5: the webhook configurations trust the old and the new CA.",
        "Step 2/5: waiting until the apiserver trusts both CAs.",
        "Step 3/5: the new serving certificate and CA in secret kkp-system/kkp-webhook-tls.",
        "no webhook pods are running",
        "Step 5/5: the webhook configurations trust the new CA only.",
    ] {
        renewed.expect_stderr(step);
    }
    assert!(
        renewed_state.ca_key_len > 0,
        "the Secret keeps the CA's key for renewals"
    );

    // cert-manager is not installed here, and the error says what to do.
    let cert_manager = run(&["install", "--cert-manager"]);
    cert_manager.expect_code(1);
    cert_manager.expect_stderr("install cert-manager first");

    // -o name lists what was applied.
    let names = run(&["install", "-o", "name"]);
    names.expect_code(0);
    assert!(
        names.stdout.lines().any(|l| l == "namespace/kkp-system"),
        "{}",
        names.both()
    );
}

#[test]
fn install_wait_follows_the_rollout_and_times_out_with_the_last_state() {
    use k8s_openapi::api::apps::v1::Deployment;
    use kube::api::{Patch, PatchParams};

    let plane = ControlPlane::start_blocking(ControlPlaneOptions::named("install-wait")).expect("a control plane");
    let plugin_dir = plugin_support::plugin_dir().expect("the plugin builds");
    let home = tempfile::tempdir().expect("tempdir");
    let rt = rt();
    let client = rt.block_on(plane.client()).expect("a client");

    // This control plane runs no deployment controller: nothing ever reports the rollout.
    let ran = kkp(
        &plane,
        plugin_dir,
        home.path(),
        &["install", "--wait", "--timeout", "3s"],
    );
    ran.expect_code(124);
    ran.expect_stderr("deployment kkp-system/kkp-webhook to roll out");
    ran.expect_stderr("last seen: waiting for the deployment controller to see it");

    // The test plays the deployment controller: one replica available, then both.
    let waiting = std::thread::scope(|scope| {
        let install = scope.spawn(|| {
            kkp(
                &plane,
                plugin_dir,
                home.path(),
                &["install", "--wait", "--timeout", "2m"],
            )
        });
        let deployments: Api<Deployment> = Api::namespaced(client.clone(), kkp_manifests::NAMESPACE);
        let report = |available: i32| {
            rt.block_on(async {
                let current = deployments.get(kkp_manifests::NAME).await.expect("the deployment");
                let status = serde_json::json!({"status": {
                    "observedGeneration": current.metadata.generation, "replicas": 2, "updatedReplicas": 2,
                    "readyReplicas": available, "availableReplicas": available}});
                deployments
                    .patch_status(kkp_manifests::NAME, &PatchParams::default(), &Patch::Merge(&status))
                    .await
                    .expect("the status");
            })
        };
        std::thread::sleep(Duration::from_secs(2));
        report(1);
        std::thread::sleep(Duration::from_secs(2));
        report(2);
        install.join().expect("the install run")
    });
    waiting.expect_code(0);
    for line in [
        "deployment kkp-system/kkp-webhook: 1 of 2 updated replicas available",
        "Installed the webhook into context \"install-wait\"",
    ] {
        assert!(
            waiting.stderr.contains(line),
            "missing {line:?} in:\n{}",
            waiting.both()
        );
    }
    waiting.expect_stderr("deployment kkp-system/kkp-webhook has rolled out (2 replicas available)");
}
