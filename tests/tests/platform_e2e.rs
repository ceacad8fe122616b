//! End to end with KKP's real parts: a control plane with KKP's own `Cluster`,
//! `KubermaticConfiguration` and `Seed` CRDs and machine-controller's CRDs (read in place from the
//! upstream examples), KKP's complete example `KubermaticConfiguration` and its example `Seed`s
//! applied, and the `kkp-webhook` binary following them as it would on a seed.
//!
//! The apiserver applies the real CRDs' structural defaults before the webhook sees an object, as
//! in production; the webhook answers from the live configuration and follows it when an admin
//! changes the offered versions.

use std::time::Duration;

use kkp_crds::admission::admit;
use kkp_crds::context::Context;
use kkp_crds::request::Request;
use kkp_e2e::crds::ADMISSION_POLICIES;
use kkp_e2e::examples::{aws_cluster, hetzner_cluster, machine_deployment, object};
use kkp_e2e::upstream::{self, KUBERMATIC_NAMESPACE};
use kkp_e2e::webhook_process::WebhookProcess;
use kkp_e2e::webhook_support::{self, ServingCert, wait_until};
use kkp_e2e::{
    ControlPlane, ControlPlaneOptions, apis, install_crds, install_shipped_crds, plugin_support, unique_name,
};
use kube::api::{DynamicObject, Patch, PatchParams, PostParams};
use kube::{Api, Client};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(60);

fn configurations(client: &Client) -> Api<DynamicObject> {
    apis::configurations(client, KUBERMATIC_NAMESPACE)
}

async fn denial(api: &Api<DynamicObject>, value: Value) -> String {
    match api.create(&apis::dry_run(), &object(&value)).await {
        Ok(_) => "admitted".to_owned(),
        Err(kube::Error::Api(status)) => status.message,
        Err(other) => panic!("the apiserver did not answer: {other}"),
    }
}

/// A control plane with KKP's real CRDs, its example configuration and Seeds, and `kkp-webhook`
/// following them, registered with the shipped webhook configurations.
struct Seed {
    plane: ControlPlane,
    client: Client,
    webhook: WebhookProcess,
    _cert: ServingCert,
}

async fn seed() -> Seed {
    let binary = plugin_support::webhook_binary().expect("kkp-webhook builds");
    let plane = ControlPlane::start_with(ControlPlaneOptions::named("kkp-real-crds"))
        .await
        .expect("a control plane");
    let client = plane.client().await.expect("an admin client");
    for yaml in upstream::real_crds().expect("KKP's and machine-controller's CRDs") {
        install_crds(&client, &yaml).await.expect("a real CRD installs");
    }
    install_shipped_crds(&client, &[ADMISSION_POLICIES])
        .await
        .expect("the policy CRD installs");
    apis::create_namespace(&client, KUBERMATIC_NAMESPACE)
        .await
        .expect("the kubermatic namespace");
    let configuration = upstream::kubermatic_configuration().expect("KKP's example configuration");
    upstream::apply_example(&configurations(&client), "kubermatic", &configuration)
        .await
        .expect("KKP's complete example KubermaticConfiguration is accepted by its real CRD");
    for seed in upstream::seeds().expect("KKP's example Seeds") {
        let name = seed
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap()
            .to_owned();
        upstream::apply_example(&apis::seeds(&client, KUBERMATIC_NAMESPACE), &name, &seed)
            .await
            .unwrap_or_else(|e| panic!("KKP's example Seed {name} is accepted by its real CRD: {e}"));
    }

    let cert = ServingCert::generate("kkp-webhook").expect("a serving certificate");
    let mut webhook =
        WebhookProcess::spawn(&binary, &cert, plane.kubeconfig_path(), &["--log-format=json"]).expect("kkp-webhook");
    let ready = webhook
        .wait_ready(WAIT, |body| body.contains("KubermaticConfiguration \"kubermatic\""))
        .await
        .expect("kkp-webhook follows the KubermaticConfiguration");
    assert!(ready.contains("datacenters from 2 Seeds"), "{ready}");
    let base_url = format!("https://127.0.0.1:{}", webhook.tls_port);
    webhook_support::register_shipped(&client, &base_url, &cert.ca_pem, WAIT)
        .await
        .expect("the apiserver calls the webhook through the shipped configurations");
    Seed {
        plane,
        client,
        webhook,
        _cert: cert,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_webhook_judges_with_the_live_kkp_configuration_behind_the_real_crds() {
    let Seed {
        plane,
        client,
        webhook,
        _cert,
    } = seed().await;
    let api = apis::clusters(&client);

    // KKP's own default version is offered, and an object goes through KKP's CRD defaults, then
    // the webhook, and is stored.
    let name = unique_name("c");
    let mut sent = aws_cluster(&name, "1.35.8");
    sent["spec"]["clusterNetwork"] = json!({"pods": {"cidrBlocks": ["172.25.0.0/16"]}});
    let stored = api
        .create(&PostParams::default(), &object(&sent))
        .await
        .unwrap_or_else(|e| {
            panic!(
                "a Cluster on KKP's default version 1.35.8 is admitted: {e}\n{}",
                webhook.log()
            )
        });
    let stored = serde_json::to_value(&stored).unwrap();
    assert_eq!(
        stored.pointer("/spec/clusterNetwork/proxyMode"),
        Some(&json!("ipvs")),
        "the real CRD defaults proxyMode before any webhook when a clusterNetwork block is sent"
    );
    // Offline, the engine gives the same spec the apiserver stored.
    let offline = admit(&Request::create(&sent), &Context::default());
    assert!(offline.allowed(), "{:?}", offline.errors);
    assert_eq!(
        offline.object.as_ref().and_then(|o| o.pointer("/spec/clusterNetwork")),
        stored.pointer("/spec/clusterNetwork"),
        "offline defaulting agrees with the real chain"
    );

    // A Cluster as KKP's Go clients write it: unset fields as zero values.
    let zero = unique_name("z");
    let mut go = aws_cluster(&zero, "1.35.8");
    go["spec"]["exposeStrategy"] = json!("");
    go["spec"]["clusterNetwork"] = json!({
        "pods": {"cidrBlocks": null}, "services": {"cidrBlocks": null}, "dnsDomain": "", "proxyMode": "",
        "ipFamily": "", "nodeLocalDNSCacheEnabled": null
    });
    go["spec"]["cniPlugin"] = json!(null);
    assert_eq!(denial(&api, go).await, "admitted", "Go zero values are unset");

    // The datacenters of the Seeds count: a Hetzner cluster in an AWS datacenter is refused there.
    let message = denial(&api, hetzner_cluster(&unique_name("h"), "1.35.8", "aws-eu-central-1a")).await;
    assert!(
        message.contains(
            "spec.cloud: Invalid value: null: expected datacenter provider to be \"hetzner\", but got \"aws\""
        ),
        "{message}"
    );

    // An admin changes the offered versions: the next admissions follow.
    let patch = json!({"spec": {"versions": {"versions": ["v1.36.4"], "default": "v1.36.4"}}});
    configurations(&client)
        .patch("kubermatic", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect("the configuration changes");
    wait_until("1.35.8 to be refused after the change", WAIT, || {
        let api = api.clone();
        async move {
            let message = denial(&api, aws_cluster(&unique_name("n"), "1.35.8")).await;
            if message.contains("spec.version") {
                Ok(())
            } else {
                Err(message)
            }
        }
    })
    .await
    .unwrap_or_else(|e| panic!("{e}\n{}", webhook.log()));
    assert_eq!(denial(&api, aws_cluster(&unique_name("n"), "1.36.4")).await, "admitted");

    // A controller writing the metadata of the existing 1.35.8 cluster is not stopped by the
    // version it no longer could be created with.
    let finalizer = json!({"metadata": {"finalizers": ["kubermatic.k8c.io/cleanup"], "labels": {"seen": "yes"}}});
    api.patch(&name, &PatchParams::default(), &Patch::Merge(&finalizer))
        .await
        .unwrap_or_else(|e| panic!("a metadata update of an existing cluster is admitted: {e}"));
    let cleared = json!({"metadata": {"finalizers": null}});
    api.patch(&name, &PatchParams::default(), &Patch::Merge(&cleared))
        .await
        .expect("finalizers can be removed");
    drop(plane);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn machine_deployments_go_through_machine_controllers_real_crd() {
    let Seed {
        plane: _plane,
        client,
        webhook,
        _cert,
    } = seed().await;
    let api = apis::machine_deployments(&client, "kube-system");
    let name = unique_name("workers");
    // As a user writes it: no replicas, for machine-controller's CRD to default.
    let mut md = machine_deployment(&name, "kube-system", "1.35.8");
    md["spec"].as_object_mut().expect("a spec").remove("replicas");
    let stored = api
        .create(&PostParams::default(), &object(&md))
        .await
        .unwrap_or_else(|e| panic!("a MachineDeployment is admitted: {e}\n{}", webhook.log()));
    let stored = serde_json::to_value(&stored).unwrap();
    assert_eq!(
        stored.pointer("/spec/replicas"),
        Some(&json!(1)),
        "machine-controller's default"
    );
    assert_eq!(
        stored.pointer("/spec/strategy/type"),
        Some(&json!("RollingUpdate")),
        "{stored}"
    );
    // A controller adding a finalizer to it is admitted.
    let finalizer = json!({"metadata": {"finalizers": ["foregroundDeletion"]}});
    api.patch(&name, &PatchParams::default(), &Patch::Merge(&finalizer))
        .await
        .expect("a finalizer update is admitted");
}
