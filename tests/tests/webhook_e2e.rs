//! End to end: kkp-webhook behind a real kube-apiserver. The webhook runs in this process (TLS on
//! 127.0.0.1, a serving certificate for that IP), the shipped Mutating and ValidatingWebhookConfigurations
//! point at it by `url` and `caBundle`, and the generated CRDs are installed as shipped. Everything below goes
//! through the apiserver, mostly with the real kubectl: a minimal Cluster and MachineDeployment come
//! back defaulted exactly as the engine defaults them, broken ones are denied with every field error
//! in the message kubectl prints, changes of immutable fields are refused, `--dry-run=server` gives
//! the same verdicts and stores nothing, and DELETE passes.

use std::sync::{OnceLock, mpsc};
use std::time::{Duration, Instant};

use kkp_crds::admission::{Verdict, admit};
use kkp_crds::context::Context;
use kkp_crds::request::Request;
use kkp_e2e::apis::{self, clusters, dry_run, machine_deployments};
use kkp_e2e::crds::{CLUSTERS, MACHINE_DEPLOYMENTS};
use kkp_e2e::examples::{hetzner_cluster, object};
use kkp_e2e::plugin_support::{self, Ran};
use kkp_e2e::webhook_support::{self, Registered, ServingCert};
use kkp_e2e::{ControlPlane, install_shipped_crds, shared_control_plane_blocking, unique_name};
use kkp_webhook::{Config, Server};
use kube::api::{DynamicObject, Patch, PatchParams, PostParams};
use kube::{Api, Client};
use pretty_assertions::assert_eq;
use serde_json::{Value, json};

/// The names of the two webhooks in the shipped configurations, as the apiserver quotes them.
const MUTATING: &str = "defaulting.kkp-webhook.kubectl-kkp.io";
const VALIDATING: &str = "validation.kkp-webhook.kubectl-kkp.io";

const SSH_KEY: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl demo@example";

const COMMAND_TIMEOUT: Duration = Duration::from_secs(120);
const WAIT: Duration = Duration::from_secs(60);
/// Starting the control plane (the first test binary on a cold machine) plus the webhook.
const SETUP_TIMEOUT: Duration = Duration::from_secs(300);

// ---- the webhook behind the shared control plane -------------------------------------------------

/// The webhook, serving on its own runtime for as long as the test binary runs, registered with
/// the shared control plane, and answering.
struct Webhook {
    plane: &'static ControlPlane,
    base_url: String,
    registered: Registered,
    /// From the first test asking until the control plane ran (started, or already running).
    plane_ready_after: Duration,
    /// From then until the apiserver called both webhooks.
    webhook_ready_after: Duration,
    _cert: ServingCert,
}

static WEBHOOK: OnceLock<Result<Webhook, String>> = OnceLock::new();

/// The shared webhook, set up on first use.
async fn webhook() -> &'static Webhook {
    let started = tokio::task::spawn_blocking(|| WEBHOOK.get_or_init(start_webhook))
        .await
        .expect("the setup task");
    match started {
        Ok(webhook) => webhook,
        Err(e) => panic!("the webhook could not be set up: {e}"),
    }
}

fn start_webhook() -> Result<Webhook, String> {
    let began = Instant::now();
    let plane = shared_control_plane_blocking().map_err(|e| e.to_string())?;
    let plane_ready_after = began.elapsed();
    let cert = ServingCert::generate("kkp-webhook").map_err(|e| e.to_string())?;
    let config = Config::for_loopback(&cert.cert_path, &cert.key_path);
    let ca_pem = cert.ca_pem.clone();
    let (ready_tx, ready_rx) = mpsc::channel::<Result<(String, Registered), String>>();
    // Each #[tokio::test] has its own runtime, which ends with the test; the webhook needs one that
    // lives as long as the test binary, on its own thread.
    std::thread::Builder::new()
        .name("kkp-webhook".into())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime,
                Err(e) => {
                    let _ = ready_tx.send(Err(format!("the webhook's runtime: {e}")));
                    return;
                }
            };
            runtime.block_on(async move {
                let server = match Server::bind(config).await {
                    Ok(server) => server,
                    Err(e) => {
                        let _ = ready_tx.send(Err(format!("the webhook does not serve: {e}")));
                        return;
                    }
                };
                let base_url = format!("https://127.0.0.1:{}", server.tls_addr().port());
                let registered = register(plane, &base_url, &ca_pem).await;
                let ok = registered.is_ok();
                let _ = ready_tx.send(registered.map(|r| (base_url, r)));
                if ok {
                    // Serve until the test binary exits.
                    std::future::pending::<()>().await;
                }
                drop(server);
            });
        })
        .map_err(|e| format!("the webhook's thread: {e}"))?;
    let (base_url, registered) = ready_rx
        .recv_timeout(SETUP_TIMEOUT)
        .map_err(|e| format!("the webhook did not get ready: {e}"))??;
    Ok(Webhook {
        plane,
        base_url,
        registered,
        plane_ready_after,
        webhook_ready_after: began.elapsed() - plane_ready_after,
        _cert: cert,
    })
}

/// Installs the CRDs, registers the shipped webhook configurations pointed at `base_url`, and
/// waits until the apiserver calls both webhooks.
async fn register(plane: &'static ControlPlane, base_url: &str, ca_pem: &str) -> Result<Registered, String> {
    let admin = plane.client().await.map_err(|e| e.to_string())?;
    install_shipped_crds(&admin, &[CLUSTERS, MACHINE_DEPLOYMENTS])
        .await
        .map_err(|e| e.to_string())?;
    let registered = webhook_support::register_shipped(&admin, base_url, ca_pem, WAIT)
        .await
        .map_err(|e| e.to_string())?;
    wait_until_answering(&admin).await?;
    Ok(registered)
}

/// The marker: a minimal Cluster, dry-run created until it comes back defaulted (the mutating
/// webhook is called), then one with an unoffered version until it is denied (the validating one).
async fn wait_until_answering(admin: &Client) -> Result<(), String> {
    let api = clusters(admin);
    let dry = dry_run();
    let marker = object(&cluster("marker"));
    webhook_support::wait_until("the mutating webhook to default clusters", WAIT, || async {
        match api.create(&dry, &marker).await {
            Ok(c) if c.data.pointer("/spec/cloud/providerName") == Some(&json!("hetzner")) => Ok(()),
            Ok(c) => Err(format!("not defaulted: {}", c.data["spec"])),
            Err(kube::Error::Api(s)) => Err(s.message),
            Err(e) => Err(e.to_string()),
        }
    })
    .await
    .map_err(|e| e.to_string())?;
    let mut unoffered = cluster("marker");
    unoffered["spec"]["version"] = json!("1.20.0");
    let unoffered = object(&unoffered);
    webhook_support::wait_until("the validating webhook to check clusters", WAIT, || async {
        match api.create(&dry, &unoffered).await {
            Err(kube::Error::Api(s)) if s.message.contains(VALIDATING) => Ok(()),
            Err(kube::Error::Api(s)) => Err(s.message),
            other => Err(format!("{other:?}")),
        }
    })
    .await
    .map_err(|e| e.to_string())
}

// ---- objects --------------------------------------------------------------------------------------

/// A minimal Hetzner Cluster of the examples in `hetzner-fsn1`: nothing defaulted.
fn cluster(name: &str) -> Value {
    hetzner_cluster(name, "1.35.7", "hetzner-fsn1")
}

/// A Cluster with five distinct errors no CRD schema can see, and what the engine says of each.
fn invalid_cluster(name: &str) -> (Value, [&'static str; 5]) {
    let mut c = cluster(name);
    c["metadata"]["labels"] = json!({"team": "e2e"});
    c["spec"]["containerRuntime"] = json!("docker");
    c["spec"]["exposeStrategy"] = json!("Ingress");
    c["spec"]["usePodSecurityPolicyAdmissionPlugin"] = json!(true);
    c["spec"]["clusterNetwork"] = json!({"dnsDomain": "example.local"});
    let errors = [
        "metadata.labels[project-id]: Required value: every cluster belongs to a KKP project",
        r#"spec.containerRuntime: Unsupported value: "docker": supported values: "containerd""#,
        r#"spec.exposeStrategy: Unsupported value: "Ingress": supported values: "NodePort", "LoadBalancer", "Tunneling""#,
        "spec.version: Forbidden: admission plugin \"PodSecurityPolicy\" is not supported in Kubernetes v1.25 and later",
        r#"spec.clusterNetwork.dnsDomain: Invalid value: "example.local": must be cluster.local"#,
    ];
    (c, errors)
}

/// A minimal machine-controller MachineDeployment on Hetzner, as a user writes it.
fn machine_deployment(name: &str, namespace: &str) -> Value {
    json!({
        "apiVersion": "cluster.k8s.io/v1alpha1",
        "kind": "MachineDeployment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "selector": {"matchLabels": {"machine": format!("md-{name}")}},
            "template": {
                "metadata": {"labels": {"machine": format!("md-{name}")}},
                "spec": {
                    "providerSpec": {"value": {
                        "sshPublicKeys": [SSH_KEY],
                        "cloudProvider": "hetzner",
                        "cloudProviderSpec": {
                            "token": "hz", "serverType": "cx22", "location": "fsn1", "image": "ubuntu-24.04"
                        },
                        "operatingSystem": "ubuntu",
                        "operatingSystemSpec": {"distUpgradeOnBoot": false}
                    }},
                    "versions": {"kubelet": "1.35.7"}
                }
            }
        }
    })
}

/// A MachineDeployment with four distinct errors, and what the engine says of each. (Negative
/// replicas would not reach the webhook: with the scale subresource, the apiserver itself refuses
/// them before the validating webhooks run.)
fn broken_machine_deployment(name: &str, namespace: &str) -> (Value, Vec<String>) {
    let mut md = machine_deployment(name, namespace);
    md["spec"]["strategy"] = json!({"type": "Recreate"});
    md["spec"]["selector"]["matchLabels"]["machine"] = json!("other");
    let value = &mut md["spec"]["template"]["spec"]["providerSpec"]["value"];
    value["sshPublicKeys"] = json!(["<< YOUR_PUBLIC_KEY >>"]);
    value["operatingSystem"] = json!("centos");
    let errors = vec![
        r#"spec.strategy.type: Unsupported value: "Recreate": supported values: "RollingUpdate""#.to_owned(),
        format!(
            "spec.template.metadata.labels: Invalid value: {{\"machine\":\"md-{name}\"}}: `selector` does not match template `labels`"
        ),
        "spec.template.spec.providerSpec.value.sshPublicKeys[0]: Invalid value: \"<< YOUR_PUBLIC_KEY >>\": not an SSH public key: no known key type (such as ssh-ed25519 or ssh-rsa)".to_owned(),
        "spec.template.spec.providerSpec.value.operatingSystem: Unsupported value: \"centos\": supported values: \"ubuntu\", \"flatcar\", \"rhel\", \"rockylinux\", \"amzn2\"".to_owned(),
    ];
    (md, errors)
}

/// The engine's whole admission chain on CREATE, as the apiserver runs the two webhooks.
fn engine(object: &Value) -> Verdict {
    admit(&Request::create(object), &Context::default())
}

/// The object as the engine defaults it; the object must be valid.
fn engine_defaulted(object: &Value) -> Value {
    let verdict = engine(object);
    assert!(
        verdict.errors.is_empty(),
        "the engine finds errors: {:?}",
        verdict.errors
    );
    verdict.object.expect("the engine defaults the object")
}

/// What kubectl prints after `error:`/`Error from server`: the apiserver's text for a denial by the
/// validating webhook with the engine's message.
fn denial(message: &str) -> String {
    format!("admission webhook \"{VALIDATING}\" denied the request: {message}")
}

/// The denial in kubectl's stderr: from `admission webhook` to the end of that line.
fn denial_in(stderr: &str) -> Option<&str> {
    stderr
        .lines()
        .find_map(|line| line.find("admission webhook \"").map(|at| &line[at..]))
}

fn yaml(value: &Value) -> String {
    serde_yaml::to_string(value).expect("YAML")
}

/// Asserts that `name` is not stored, through the API and through kubectl.
async fn assert_not_stored(plane: &'static ControlPlane, api: &Api<DynamicObject>, kind: &str, name: &str) {
    let got = api.get_opt(name).await.expect("the apiserver answers");
    assert!(got.is_none(), "{kind} {name} was stored: {got:?}");
    let mut args = vec!["get", kind, name];
    if let Some(ns) = api.namespace() {
        args.extend(["-n", ns]);
    }
    let ran = kubectl(plane, &args, None).await;
    ran.expect_code(1);
    ran.expect_stderr("(NotFound)");
}

/// Runs the real kubectl as the admin, off the async runtime, with `stdin` as its standard input.
async fn kubectl(plane: &'static ControlPlane, args: &[&str], stdin: Option<String>) -> Ran {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let home = tempfile::tempdir().expect("a home dir for kubectl");
        let mut command =
            plugin_support::kubectl(plane.bin_dir(), plane.bin_dir(), plane.kubeconfig_path(), home.path());
        command.args(&args);
        if let Some(text) = stdin {
            let input = home.path().join("stdin.yaml");
            std::fs::write(&input, text).expect("kubectl's input");
            command.stdin(std::fs::File::open(&input).expect("kubectl's input"));
        }
        plugin_support::run(command, COMMAND_TIMEOUT).expect("kubectl ran")
    })
    .await
    .expect("the kubectl task")
}

/// Prints how long a test took (run with `--nocapture` to see it).
fn report(test: &str, webhook: &Webhook, began: Instant) {
    eprintln!(
        "{test}: {:?} (control plane ready after {:?}, webhook answering {:?} later)",
        began.elapsed(),
        webhook.plane_ready_after,
        webhook.webhook_ready_after
    );
}

// ---- the tests ------------------------------------------------------------------------------------

#[tokio::test]
async fn the_webhook_configurations_point_at_the_in_process_server() {
    let began = Instant::now();
    let webhook = webhook().await;
    assert_eq!(webhook.registered.mutating, ["kkp-webhook"]);
    assert_eq!(webhook.registered.validating, ["kkp-webhook"]);
    for (resource, name, path) in [
        ("mutatingwebhookconfiguration", MUTATING, "/mutate"),
        ("validatingwebhookconfiguration", VALIDATING, "/validate"),
    ] {
        let ran = kubectl(webhook.plane, &["get", resource, "kkp-webhook", "-o", "json"], None).await;
        ran.expect_code(0);
        let config: Value = serde_json::from_str(&ran.stdout).expect("JSON");
        let hook = &config["webhooks"][0];
        assert_eq!(hook["name"], name, "{resource}");
        assert_eq!(
            hook["clientConfig"]["url"],
            format!("{}{path}", webhook.base_url),
            "{resource}"
        );
        assert!(hook["clientConfig"]["caBundle"].is_string(), "{resource}");
    }
    report(
        "the_webhook_configurations_point_at_the_in_process_server",
        webhook,
        began,
    );
}

#[tokio::test]
async fn a_minimal_cluster_comes_back_defaulted_and_can_be_deleted() {
    let began = Instant::now();
    let webhook = webhook().await;
    let plane = webhook.plane;
    let admin = plane.client().await.expect("an admin client");
    let name = unique_name("defaulted");
    let manifest = cluster(&name);

    let applied = kubectl(plane, &["apply", "--server-side", "-f", "-"], Some(yaml(&manifest))).await;
    applied.expect_code(0);
    applied.expect_stdout(&format!("cluster.kubermatic.k8c.io/{name} serverside-applied"));

    let stored = clusters(&admin).get(&name).await.expect("the cluster is stored");
    let spec = &stored.data["spec"];
    assert_eq!(spec["cloud"]["providerName"], "hetzner");
    assert_eq!(spec["exposeStrategy"], "NodePort");
    assert_eq!(spec["containerRuntime"], "containerd");
    assert_eq!(spec["cniPlugin"], json!({"type": "cilium", "version": "1.19.4"}));
    assert_eq!(
        spec["features"],
        json!({"apiserverNetworkPolicy": true, "externalCloudProvider": true})
    );
    assert_eq!(
        spec["clusterNetwork"],
        json!({
            "ipFamily": "IPv4",
            "pods": {"cidrBlocks": ["172.25.0.0/16"]},
            "services": {"cidrBlocks": ["10.240.16.0/20"]},
            "nodeCidrMaskSizeIPv4": 24,
            "dnsDomain": "cluster.local",
            "proxyMode": "iptables",
            "nodeLocalDNSCacheEnabled": true,
            "konnectivityEnabled": true
        })
    );
    assert_eq!(spec["componentsOverride"]["apiserver"]["nodePortRange"], "30000-32767");
    // What the user wrote is kept.
    assert_eq!(spec["cloud"]["dc"], "hetzner-fsn1");
    assert_eq!(spec["cloud"]["hetzner"], manifest["spec"]["cloud"]["hetzner"]);
    // The apiserver's structural defaulting and pruning keep exactly what the webhook defaulted.
    assert_eq!(spec, &engine_defaulted(&manifest)["spec"]);

    // Defaults belong to no field manager, so applying the same manifest again keeps them.
    let again = kubectl(plane, &["apply", "--server-side", "-f", "-"], Some(yaml(&manifest))).await;
    again.expect_code(0);
    let reapplied = clusters(&admin).get(&name).await.expect("the cluster is stored");
    assert_eq!(&reapplied.data["spec"], spec);

    // DELETE passes (the shipped configurations do not send DELETE to the webhook at all).
    let deleted = kubectl(plane, &["delete", "cluster", &name, "--wait=true"], None).await;
    deleted.expect_code(0);
    deleted.expect_stdout(&format!("cluster.kubermatic.k8c.io \"{name}\" deleted"));
    assert_not_stored(plane, &clusters(&admin), "cluster", &name).await;
    report(
        "a_minimal_cluster_comes_back_defaulted_and_can_be_deleted",
        webhook,
        began,
    );
}

#[tokio::test]
async fn an_invalid_cluster_is_denied_with_every_field_error() {
    let began = Instant::now();
    let webhook = webhook().await;
    let plane = webhook.plane;
    let admin = plane.client().await.expect("an admin client");
    let name = unique_name("invalid");
    let (invalid, errors) = invalid_cluster(&name);

    let created = kubectl(plane, &["create", "-f", "-"], Some(yaml(&invalid))).await;
    created.expect_code(1);
    created.expect_stderr("Error from server (BadRequest)");
    let printed = denial_in(&created.stderr).unwrap_or_else(|| panic!("no denial: {}", created.both()));
    assert!(
        printed.starts_with(&denial(&format!("Cluster.kubermatic.k8c.io {name:?} is invalid: ["))),
        "{printed}"
    );
    for error in errors {
        assert!(printed.contains(error), "missing {error:?} in\n{printed}");
    }
    // Exactly the engine's message: every error, nothing else.
    let verdict = engine(&invalid);
    assert_eq!(verdict.errors.len(), errors.len(), "{:?}", verdict.errors);
    assert_eq!(printed, denial(&verdict.message()));

    // The same through the API: a 400 with the same message.
    match clusters(&admin).create(&PostParams::default(), &object(&invalid)).await {
        Err(kube::Error::Api(status)) => {
            assert_eq!(status.code, 400, "{status:?}");
            assert_eq!(status.message, denial(&verdict.message()));
        }
        other => panic!("the invalid cluster was not denied: {other:?}"),
    }
    assert_not_stored(plane, &clusters(&admin), "cluster", &name).await;
    report("an_invalid_cluster_is_denied_with_every_field_error", webhook, began);
}

#[tokio::test]
async fn changing_an_immutable_field_is_denied() {
    let began = Instant::now();
    let webhook = webhook().await;
    let plane = webhook.plane;
    let admin = plane.client().await.expect("an admin client");
    let api = clusters(&admin);
    let name = unique_name("immutable");
    let manifest = cluster(&name);
    let applied = kubectl(plane, &["apply", "--server-side", "-f", "-"], Some(yaml(&manifest))).await;
    applied.expect_code(0);
    let before = api.get(&name).await.expect("the cluster is stored");

    // kubectl patch: an UPDATE that moves the cluster to another datacenter.
    let patched = kubectl(
        plane,
        &[
            "patch",
            "cluster",
            &name,
            "--type=merge",
            "-p",
            r#"{"spec":{"cloud":{"dc":"hetzner-nbg1"}}}"#,
        ],
        None,
    )
    .await;
    patched.expect_code(1);
    let dc_error = format!(
        "Cluster.kubermatic.k8c.io {name:?} is invalid: [spec.cloud.dc: Invalid value: \"hetzner-nbg1\": field is immutable]"
    );
    assert_eq!(
        denial_in(&patched.stderr),
        Some(denial(&dc_error).as_str()),
        "{}",
        patched.both()
    );

    // The same change by server-side apply of the edited manifest.
    let mut moved = manifest.clone();
    moved["spec"]["cloud"]["dc"] = json!("hetzner-nbg1");
    let reapplied = kubectl(plane, &["apply", "--server-side", "-f", "-"], Some(yaml(&moved))).await;
    reapplied.expect_code(1);
    assert_eq!(
        denial_in(&reapplied.stderr),
        Some(denial(&dc_error).as_str()),
        "{}",
        reapplied.both()
    );

    // Through the API: other pod CIDRs.
    let pods = json!({"spec": {"clusterNetwork": {"pods": {"cidrBlocks": ["172.26.0.0/16"]}}}});
    match api.patch(&name, &PatchParams::default(), &Patch::Merge(&pods)).await {
        Err(kube::Error::Api(status)) => {
            assert_eq!(status.code, 400, "{status:?}");
            assert_eq!(
                status.message,
                denial(&format!(
                    "Cluster.kubermatic.k8c.io {name:?} is invalid: [spec.clusterNetwork.pods.cidrBlocks: Invalid value: [\"172.26.0.0/16\"]: field is immutable]"
                ))
            );
        }
        other => panic!("changing the pod CIDRs was not denied: {other:?}"),
    }

    // A mutable field may change; the immutable ones are still as they were.
    let renamed = kubectl(
        plane,
        &[
            "patch",
            "cluster",
            &name,
            "--type=merge",
            "-p",
            r#"{"spec":{"humanReadableName":"renamed"}}"#,
        ],
        None,
    )
    .await;
    renamed.expect_code(0);
    let after = api.get(&name).await.expect("the cluster is stored");
    assert_eq!(after.data["spec"]["humanReadableName"], "renamed");
    assert_eq!(after.data["spec"]["cloud"], before.data["spec"]["cloud"]);
    assert_eq!(
        after.data["spec"]["clusterNetwork"],
        before.data["spec"]["clusterNetwork"]
    );

    let deleted = kubectl(plane, &["delete", "cluster", &name], None).await;
    deleted.expect_code(0);
    report("changing_an_immutable_field_is_denied", webhook, began);
}

#[tokio::test]
async fn machine_deployments_are_defaulted_and_broken_ones_denied() {
    let began = Instant::now();
    let webhook = webhook().await;
    let plane = webhook.plane;
    let admin = plane.client().await.expect("an admin client");
    let namespace = apis::fresh_namespace(&admin, "webhook-e2e")
        .await
        .expect("the namespace");
    let api = machine_deployments(&admin, &namespace);
    let name = unique_name("workers");
    let manifest = machine_deployment(&name, &namespace);

    let applied = kubectl(plane, &["apply", "--server-side", "-f", "-"], Some(yaml(&manifest))).await;
    applied.expect_code(0);
    applied.expect_stdout(&format!("machinedeployment.cluster.k8s.io/{name} serverside-applied"));
    let stored = api.get(&name).await.expect("the MachineDeployment is stored");
    let spec = &stored.data["spec"];
    assert_eq!(spec["replicas"], 1);
    assert_eq!(spec["minReadySeconds"], 0);
    assert_eq!(spec["revisionHistoryLimit"], 1);
    assert_eq!(spec["progressDeadlineSeconds"], 600);
    assert_eq!(
        spec["strategy"],
        json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}})
    );
    assert_eq!(
        spec["template"]["spec"]["providerSpec"]["value"]["cloudProviderSpec"],
        manifest["spec"]["template"]["spec"]["providerSpec"]["value"]["cloudProviderSpec"]
    );
    assert_eq!(spec, &engine_defaulted(&manifest)["spec"]);

    let broken_name = unique_name("broken");
    let (broken, errors) = broken_machine_deployment(&broken_name, &namespace);
    let created = kubectl(plane, &["create", "-f", "-"], Some(yaml(&broken))).await;
    created.expect_code(1);
    let printed = denial_in(&created.stderr).unwrap_or_else(|| panic!("no denial: {}", created.both()));
    assert!(
        printed.starts_with(&denial(&format!(
            "MachineDeployment.cluster.k8s.io {broken_name:?} is invalid: ["
        ))),
        "{printed}"
    );
    for error in &errors {
        assert!(printed.contains(error.as_str()), "missing {error:?} in\n{printed}");
    }
    let verdict = engine(&broken);
    assert_eq!(verdict.errors.len(), errors.len(), "{:?}", verdict.errors);
    assert_eq!(printed, denial(&verdict.message()));
    assert_not_stored(plane, &api, "machinedeployment", &broken_name).await;

    // DELETE passes.
    let deleted = kubectl(plane, &["delete", "machinedeployment", &name, "-n", &namespace], None).await;
    deleted.expect_code(0);
    assert_not_stored(plane, &api, "machinedeployment", &name).await;
    report(
        "machine_deployments_are_defaulted_and_broken_ones_denied",
        webhook,
        began,
    );
}

#[tokio::test]
async fn server_side_dry_run_gives_the_same_verdict_and_stores_nothing() {
    let began = Instant::now();
    let webhook = webhook().await;
    let plane = webhook.plane;
    let admin = plane.client().await.expect("an admin client");

    // A valid Cluster: printed defaulted, not stored.
    let name = unique_name("dry");
    let manifest = cluster(&name);
    let dry = kubectl(
        plane,
        &["create", "--dry-run=server", "-o", "yaml", "-f", "-"],
        Some(yaml(&manifest)),
    )
    .await;
    dry.expect_code(0);
    let printed: Value = serde_yaml::from_str(&dry.stdout).expect("kubectl prints YAML");
    assert_eq!(printed["metadata"]["name"], name.as_str());
    assert_eq!(printed["spec"]["cloud"]["providerName"], "hetzner");
    assert_eq!(printed["spec"], engine_defaulted(&manifest)["spec"]);
    assert_not_stored(plane, &clusters(&admin), "cluster", &name).await;

    // The same by server-side apply.
    let applied = kubectl(
        plane,
        &["apply", "--server-side", "--dry-run=server", "-o", "yaml", "-f", "-"],
        Some(yaml(&manifest)),
    )
    .await;
    applied.expect_code(0);
    let printed: Value = serde_yaml::from_str(&applied.stdout).expect("kubectl prints YAML");
    assert_eq!(printed["spec"], engine_defaulted(&manifest)["spec"]);
    assert_not_stored(plane, &clusters(&admin), "cluster", &name).await;

    // An invalid Cluster: the same denial with and without --dry-run=server.
    let bad_name = unique_name("dry-invalid");
    let (invalid, _) = invalid_cluster(&bad_name);
    let for_real = kubectl(plane, &["create", "-f", "-"], Some(yaml(&invalid))).await;
    let dry_denied = kubectl(plane, &["create", "--dry-run=server", "-f", "-"], Some(yaml(&invalid))).await;
    for_real.expect_code(1);
    dry_denied.expect_code(1);
    let expected = denial(&engine(&invalid).message());
    assert_eq!(
        denial_in(&for_real.stderr),
        Some(expected.as_str()),
        "{}",
        for_real.both()
    );
    assert_eq!(
        denial_in(&dry_denied.stderr),
        Some(expected.as_str()),
        "{}",
        dry_denied.both()
    );
    assert_not_stored(plane, &clusters(&admin), "cluster", &bad_name).await;

    // MachineDeployments likewise.
    let namespace = apis::fresh_namespace(&admin, "webhook-e2e")
        .await
        .expect("the namespace");
    let md_api = machine_deployments(&admin, &namespace);
    let md_name = unique_name("dry-workers");
    let md = machine_deployment(&md_name, &namespace);
    let dry_md = kubectl(
        plane,
        &["apply", "--server-side", "--dry-run=server", "-o", "yaml", "-f", "-"],
        Some(yaml(&md)),
    )
    .await;
    dry_md.expect_code(0);
    let printed: Value = serde_yaml::from_str(&dry_md.stdout).expect("kubectl prints YAML");
    assert_eq!(printed["spec"], engine_defaulted(&md)["spec"]);
    assert_not_stored(plane, &md_api, "machinedeployment", &md_name).await;
    let (broken, _) = broken_machine_deployment(&md_name, &namespace);
    let dry_broken = kubectl(
        plane,
        &["apply", "--server-side", "--dry-run=server", "-f", "-"],
        Some(yaml(&broken)),
    )
    .await;
    dry_broken.expect_code(1);
    assert_eq!(
        denial_in(&dry_broken.stderr),
        Some(denial(&engine(&broken).message()).as_str()),
        "{}",
        dry_broken.both()
    );
    assert_not_stored(plane, &md_api, "machinedeployment", &md_name).await;
    report(
        "server_side_dry_run_gives_the_same_verdict_and_stores_nothing",
        webhook,
        began,
    );
}

#[tokio::test]
async fn unknown_fields_survive_and_warnings_reach_kubectl() {
    let began = Instant::now();
    let webhook = webhook().await;
    let plane = webhook.plane;
    let admin = plane.client().await.expect("an admin client");

    // Fields the types do not know, where the CRD preserves them: the webhook's patch and the
    // apiserver's pruning leave them alone.
    let mut future = cluster(&unique_name("future"));
    future["spec"]["someFutureField"] = json!({"a": [1, 2]});
    future["spec"]["cloud"]["hetzner"]["futureHetznerField"] = json!("x");
    future["spec"]["clusterNetwork"] = json!({"futureNetworkField": true});
    let created = clusters(&admin)
        .create(&dry_run(), &object(&future))
        .await
        .expect("the cluster is admitted");
    assert_eq!(created.data["spec"]["someFutureField"], json!({"a": [1, 2]}));
    assert_eq!(created.data["spec"]["cloud"]["hetzner"]["futureHetznerField"], "x");
    assert_eq!(created.data["spec"]["clusterNetwork"]["futureNetworkField"], true);
    assert_eq!(created.data["spec"], engine_defaulted(&future)["spec"]);

    // The engine's warnings come back through the apiserver as kubectl warnings.
    let mut deprecated = cluster(&unique_name("oidc"));
    deprecated["spec"]["oidc"] = json!({"issuerURL": "https://dex.example"});
    let verdict = engine(&deprecated);
    assert_eq!(
        verdict.warnings,
        ["spec.oidc: deprecated; use spec.authenticationConfiguration"]
    );
    let ran = kubectl(
        plane,
        &["create", "--dry-run=server", "-f", "-"],
        Some(yaml(&deprecated)),
    )
    .await;
    ran.expect_code(0);
    ran.expect_stderr("Warning: spec.oidc: deprecated; use spec.authenticationConfiguration");
    report("unknown_fields_survive_and_warnings_reach_kubectl", webhook, began);
}
