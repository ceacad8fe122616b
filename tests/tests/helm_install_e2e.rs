//! End to end: `helm install` of charts/kkp-webhook into a control plane of its own (its webhooks
//! would otherwise judge the other tests' objects), with a real helm built from its Go module.
//! The chart's objects land as rendered: the CRDs established, the Deployment with the values
//! given, the Secret with a CA and serving certificate for the Service, the caBundles that CA.
//!
//! No pods run here, so nothing serves behind the Service: the test runs the webhook itself, as
//! the other end-to-end tests do, and points the installed webhook configurations (their rules and
//! selectors exactly as the chart installed them) at it by `url` with the test's serving CA. Then,
//! through the apiserver: a Cluster comes back defaulted, an invalid one is denied, and a broken
//! MachineDeployment is denied except in a namespace the chart's `exemptions.namespaces` names.

use std::time::Duration;

use k8s_openapi::api::admissionregistration::v1::{
    MutatingWebhookConfiguration, ValidatingWebhookConfiguration, WebhookClientConfig,
};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kkp_e2e::apis::{self, clusters, machine_deployments};
use kkp_e2e::examples::{self, hetzner_cluster, object};
use kkp_e2e::plugin_support;
use kkp_e2e::webhook_support::{self, ServingCert};
use kkp_e2e::{ControlPlane, ControlPlaneOptions, tools, unique_name};
use kkp_webhook::{Config, Server};
use kube::Api;
use kube::api::PostParams;
use serde_json::json;

const HELM_TIMEOUT: Duration = Duration::from_secs(300);
const WAIT: Duration = Duration::from_secs(60);
/// The namespace the chart is told to exempt.
const EXEMPT: &str = "legacy-workers";

fn helm_install(plane: &ControlPlane) -> plugin_support::Ran {
    let helm = tools::helm().unwrap_or_else(|e| panic!("helm is needed for this test: {e}"));
    let chart = plugin_support::workspace_root().join("charts").join("kkp-webhook");
    let home = tempfile::tempdir().expect("a home for helm");
    let mut command = std::process::Command::new(helm);
    command
        .args(["install", "kkp-webhook"])
        .arg(&chart)
        .args(["--namespace", "default", "--kubeconfig"])
        .arg(plane.kubeconfig_path())
        .args([
            "--set",
            "replicas=3",
            "--set",
            &format!("exemptions.namespaces={{{EXEMPT}}}"),
        ])
        .args(["--timeout", "2m"])
        .env("HELM_CACHE_HOME", home.path().join("cache"))
        .env("HELM_CONFIG_HOME", home.path().join("config"))
        .env("HELM_DATA_HOME", home.path().join("data"))
        .env_remove("KUBECONFIG");
    plugin_support::run(command, HELM_TIMEOUT).expect("helm runs")
}

/// A webhook's `clientConfig` calling `base_url` and the path its Service reference named,
/// trusting `ca_bundle`, instead of the Service.
fn point_at(config: &mut WebhookClientConfig, base_url: &str, ca_bundle: &k8s_openapi::ByteString) {
    let service = config.service.take().expect("the chart calls the Service");
    config.url = Some(format!("{base_url}{}", service.path.unwrap_or_default()));
    config.ca_bundle = Some(ca_bundle.clone());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn helm_install_brings_up_webhook_configurations_that_default_deny_and_exempt() {
    let plane = tokio::task::spawn_blocking(|| ControlPlane::start_blocking(ControlPlaneOptions::named("helm")))
        .await
        .expect("the start task")
        .expect("a control plane");
    let client = plane.client().await.expect("an admin client");

    let installed = {
        let plane = &plane;
        tokio::task::block_in_place(|| helm_install(plane))
    };
    assert_eq!(installed.code, Some(0), "helm install failed: {}", installed.both());
    assert!(installed.stdout.contains("STATUS: deployed"), "{}", installed.both());

    // The chart's CRDs, the policy report CRDs among them, are established.
    let crds = Api::<CustomResourceDefinition>::all(client.clone());
    for name in [
        "clusters.kubermatic.k8c.io",
        "admissionpolicies.policy.kubectl-kkp.io",
        "policyreports.wgpolicyk8s.io",
        "clusterpolicyreports.wgpolicyk8s.io",
    ] {
        let crd = crds.get(name).await.unwrap_or_else(|e| panic!("the CRD {name}: {e}"));
        let conditions = crd.status.and_then(|s| s.conditions).unwrap_or_default();
        assert!(
            conditions
                .iter()
                .any(|c| c.type_ == "Established" && c.status == "True"),
            "{name} is established: {conditions:?}"
        );
    }

    // What the chart installed, with the values given.
    let deployment = Api::<Deployment>::namespaced(client.clone(), kkp_manifests::NAMESPACE)
        .get(kkp_manifests::NAME)
        .await
        .expect("the Deployment");
    let spec = deployment.spec.expect("a spec");
    assert_eq!(spec.replicas, Some(3));
    let container = &spec.template.spec.expect("a pod spec").containers[0];
    assert_eq!(container.image.as_deref(), Some(kkp_manifests::DEFAULT_IMAGE));
    let secret = Api::<Secret>::namespaced(client.clone(), kkp_manifests::NAMESPACE)
        .get(kkp_manifests::TLS_SECRET_NAME)
        .await
        .expect("the TLS Secret");
    let data = secret.data.expect("the Secret's data");
    let ca = data.get(kkp_manifests::CA_CERT_KEY).expect("ca.crt").0.clone();
    assert!(
        data.contains_key(kkp_manifests::CA_KEY_KEY),
        "the CA's key, for renewal"
    );
    let mutating = Api::<MutatingWebhookConfiguration>::all(client.clone())
        .get(kkp_manifests::NAME)
        .await
        .expect("the MutatingWebhookConfiguration");
    let validating = Api::<ValidatingWebhookConfiguration>::all(client.clone())
        .get(kkp_manifests::NAME)
        .await
        .expect("the ValidatingWebhookConfiguration");
    let mutating_hooks = mutating.webhooks.clone().unwrap_or_default();
    let validating_hooks = validating.webhooks.clone().unwrap_or_default();
    assert_eq!(mutating_hooks.len(), 1);
    assert_eq!(validating_hooks.len(), 4);
    let bundles = mutating_hooks
        .iter()
        .map(|h| &h.client_config)
        .chain(validating_hooks.iter().map(|h| &h.client_config));
    for config in bundles {
        assert_eq!(
            config.ca_bundle.as_ref().map(|b| &b.0),
            Some(&ca),
            "a caBundle is not the Secret's CA"
        );
        let service = config.service.as_ref().expect("the chart calls the Service");
        assert_eq!(
            (service.name.as_str(), service.namespace.as_str()),
            (kkp_manifests::NAME, kkp_manifests::NAMESPACE)
        );
    }

    // The webhook, run here, behind the installed configurations.
    let cert = ServingCert::generate("kkp-webhook").expect("a serving certificate");
    let server = Server::bind(Config::for_loopback(&cert.cert_path, &cert.key_path))
        .await
        .expect("the webhook serves");
    let base_url = format!("https://127.0.0.1:{}", server.tls_addr().port());
    // Replaced (not applied: helm's field manager owns `service`, which must go for `url`).
    let ca_bundle = k8s_openapi::ByteString(cert.ca_pem.clone().into_bytes());
    let mut mutating = mutating;
    for hook in mutating.webhooks.iter_mut().flatten() {
        point_at(&mut hook.client_config, &base_url, &ca_bundle);
    }
    Api::<MutatingWebhookConfiguration>::all(client.clone())
        .replace(kkp_manifests::NAME, &PostParams::default(), &mutating)
        .await
        .expect("the installed mutating configuration points at the webhook");
    let mut validating = validating;
    for hook in validating.webhooks.iter_mut().flatten() {
        point_at(&mut hook.client_config, &base_url, &ca_bundle);
    }
    Api::<ValidatingWebhookConfiguration>::all(client.clone())
        .replace(kkp_manifests::NAME, &PostParams::default(), &validating)
        .await
        .expect("the installed validating configuration points at the webhook");
    webhook_support::wait_until_called(&client, WAIT)
        .await
        .expect("the apiserver calls the webhook");

    // Defaulting.
    let name = unique_name("helm");
    let created = clusters(&client)
        .create(
            &PostParams::default(),
            &object(&hetzner_cluster(&name, "1.35.7", "hetzner-fsn1")),
        )
        .await
        .expect("a minimal Cluster is admitted");
    assert_eq!(created.data["spec"]["exposeStrategy"], "NodePort", "{:?}", created.data);
    assert_eq!(created.data["spec"]["containerRuntime"], "containerd");

    // Denial.
    let mut invalid = hetzner_cluster(&unique_name("helm-invalid"), "1.35.7", "hetzner-fsn1");
    invalid["spec"]["containerRuntime"] = json!("docker");
    match clusters(&client)
        .create(&PostParams::default(), &object(&invalid))
        .await
    {
        Err(kube::Error::Api(status)) => {
            assert_eq!(status.code, 400, "{status:?}");
            assert!(
                status
                    .message
                    .contains(r#"spec.containerRuntime: Unsupported value: "docker""#),
                "{}",
                status.message
            );
        }
        other => panic!("the invalid Cluster was not denied: {other:?}"),
    }

    // The exempt namespace of the values, and one that is not.
    apis::create_namespace(&client, EXEMPT)
        .await
        .expect("the exempt namespace");
    let checked = apis::fresh_namespace(&client, "helm-checked")
        .await
        .expect("a namespace");
    let broken = |namespace: &str| {
        let mut md = examples::machine_deployment(&unique_name("md"), namespace, "1.35.7");
        md["spec"]["template"]["spec"]["providerSpec"]["value"]["sshPublicKeys"] = json!(["<< YOUR_PUBLIC_KEY >>"]);
        md
    };
    match machine_deployments(&client, &checked)
        .create(&PostParams::default(), &object(&broken(&checked)))
        .await
    {
        Err(kube::Error::Api(status)) => {
            assert!(
                status.message.contains("sshPublicKeys[0]: Invalid value"),
                "{}",
                status.message
            );
        }
        other => panic!("the broken MachineDeployment was not denied: {other:?}"),
    }
    machine_deployments(&client, EXEMPT)
        .create(&PostParams::default(), &object(&broken(EXEMPT)))
        .await
        .expect("the exempt namespace's MachineDeployment is not sent to the webhook");

    drop(server);
    plane.stop();
}
