//! End to end: exempting namespaces and objects from the webhook for a safe rollout, on a real
//! control plane behind the shipped webhook configurations (pointed at an in-process webhook).
//! A namespace labelled `kkp-webhook.kubectl-kkp.io/exempt: "true"` is never sent to the webhook:
//! an invalid MachineDeployment in it is stored as sent (neither denied nor defaulted), while the
//! same object in an unlabelled namespace is denied. Clusters are cluster-scoped, so the namespace
//! selector cannot exempt them; the label on the Cluster itself does, and taking it off again
//! (or adding it together with a change) is checked, as the apiserver matches the object selector
//! against the old object too.

use std::time::Duration;

use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding};
use kkp_crds::admission::mutate;
use kkp_crds::context::Context;
use kkp_crds::request::Request;
use kkp_e2e::webhook_support::{self, ServingCert};
use kkp_e2e::{install_crds, shared_control_plane, unique_name};
use kkp_manifests::EXEMPT_LABEL;
use kkp_webhook::{Config, Server};
use kube::api::{ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams, PostParams};
use kube::{Api, Client};
use serde_json::{Value, json};

const CRDS: [&str; 2] = [
    include_str!("../../crds/kubermatic.k8c.io_clusters.yaml"),
    include_str!("../../crds/cluster.k8s.io_machinedeployments.yaml"),
];

/// The webhooks of the shipped configurations, as the apiserver names them in denials.
const VALIDATING: &str = "validation.kkp-webhook.kubectl-kkp.io";
const EXEMPTIONS: &str = "exemptions.kkp-webhook.kubectl-kkp.io";

const SSH_KEY: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl demo@example";

const WAIT: Duration = Duration::from_secs(60);

/// A valid Hetzner MachineDeployment, as a user writes it (the webhook defaults it).
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

/// A MachineDeployment the CRD's schema accepts and the webhook denies: its selector does not
/// match its template's labels.
fn invalid_machine_deployment(name: &str, namespace: &str) -> Value {
    let mut md = machine_deployment(name, namespace);
    md["spec"]["selector"]["matchLabels"]["machine"] = json!("other");
    md
}

/// A Cluster the CRD's schema accepts and the webhook denies: a version no platform offers.
fn invalid_cluster(name: &str, labels: Value) -> Value {
    json!({
        "apiVersion": "kubermatic.k8c.io/v1",
        "kind": "Cluster",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "humanReadableName": "rollout e2e",
            "version": "1.0.0",
            "cloud": {
                "dc": "hetzner-fsn1",
                "hetzner": {
                    "credentialsReference": {"name": "credential-hetzner-xyz", "namespace": "kubermatic"},
                    "network": "kkp"
                }
            }
        }
    })
}

fn object(value: &Value) -> DynamicObject {
    serde_json::from_value(value.clone()).expect("a Kubernetes object")
}

fn clusters(client: &Client) -> Api<DynamicObject> {
    let gvk = GroupVersionKind::gvk("kubermatic.k8c.io", "v1", "Cluster");
    Api::all_with(client.clone(), &ApiResource::from_gvk_with_plural(&gvk, "clusters"))
}

fn machine_deployments(client: &Client, namespace: &str) -> Api<DynamicObject> {
    let gvk = GroupVersionKind::gvk("cluster.k8s.io", "v1alpha1", "MachineDeployment");
    Api::namespaced_with(
        client.clone(),
        namespace,
        &ApiResource::from_gvk_with_plural(&gvk, "machinedeployments"),
    )
}

async fn create_namespace(client: &Client, prefix: &str, labels: Value) -> String {
    let name = unique_name(prefix);
    let ns: Namespace =
        serde_json::from_value(json!({"metadata": {"name": name, "labels": labels}})).expect("a namespace");
    Api::<Namespace>::all(client.clone())
        .create(&PostParams::default(), &ns)
        .await
        .expect("the namespace");
    name
}

/// The message of a denial by the validating webhook, or a panic naming what was expected.
fn denied_by_webhook<T: std::fmt::Debug>(result: Result<T, kube::Error>, what: &str) -> String {
    match result {
        Err(kube::Error::Api(status)) if status.message.contains(VALIDATING) => status.message,
        other => panic!("{what}: expected a denial by {VALIDATING}, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exempt_namespaces_and_objects_are_not_sent_to_the_webhook() {
    let plane = shared_control_plane().await.expect("the control plane starts");
    let admin = plane.client().await.expect("an admin client");
    for crd in CRDS {
        install_crds(&admin, crd).await.expect("the shipped CRDs install");
    }
    let cert = ServingCert::generate("kkp-webhook").expect("a serving certificate");
    let server = Server::bind(Config::for_loopback(&cert.cert_path, &cert.key_path))
        .await
        .expect("the webhook serves");
    let shipped = kkp_manifests::webhook_manifests(kkp_manifests::Variant::GeneratedCerts)
        .into_iter()
        .find(|(file, _)| *file == "webhook-configurations.yaml")
        .expect("the shipped webhook configurations")
        .1;
    let base_url = format!("https://127.0.0.1:{}", server.tls_addr().port());
    webhook_support::register_webhooks(&admin, shipped, &base_url, &cert.ca_pem)
        .await
        .expect("the webhook configurations");
    webhook_support::wait_until_called(&admin, WAIT)
        .await
        .expect("the apiserver calls the webhook");

    let create = PostParams::default();
    let exempt = create_namespace(&admin, "rollout-exempt", json!({EXEMPT_LABEL: "true"})).await;
    let checked = create_namespace(&admin, "rollout-checked", json!({})).await;
    let not_exempt = create_namespace(&admin, "rollout-false", json!({EXEMPT_LABEL: "false"})).await;

    // An invalid MachineDeployment: stored in the exempt namespace, denied elsewhere.
    let stored = machine_deployments(&admin, &exempt)
        .create(&create, &object(&invalid_machine_deployment("broken", &exempt)))
        .await
        .expect("an invalid MachineDeployment in an exempt namespace is admitted");
    assert_eq!(
        stored.data["spec"]["selector"]["matchLabels"]["machine"], "other",
        "stored as sent"
    );
    for namespace in [&checked, &not_exempt] {
        let message = denied_by_webhook(
            machine_deployments(&admin, namespace)
                .create(&create, &object(&invalid_machine_deployment("broken", namespace)))
                .await,
            &format!("an invalid MachineDeployment in namespace {namespace}"),
        );
        assert!(
            message.contains("`selector` does not match template `labels`"),
            "{message}"
        );
    }

    // The mutating webhook skips the exempt namespace too: what it would add is missing there.
    let valid = |namespace: &str| machine_deployment("workers", namespace);
    let patch = mutate(&Request::create(&valid(&checked)), &Context::default()).patch;
    let additions: Vec<String> = serde_json::to_value(&patch)
        .expect("a JSON patch")
        .as_array()
        .into_iter()
        .flatten()
        .filter(|op| op["op"] == "add")
        .filter_map(|op| op["path"].as_str().map(str::to_owned))
        .collect();
    assert!(!additions.is_empty(), "the webhook defaults a MachineDeployment");
    let defaulted = machine_deployments(&admin, &checked)
        .create(&create, &object(&valid(&checked)))
        .await
        .expect("a valid MachineDeployment is admitted");
    let untouched = machine_deployments(&admin, &exempt)
        .create(&create, &object(&valid(&exempt)))
        .await
        .expect("a valid MachineDeployment in an exempt namespace is admitted");
    let defaulted = serde_json::to_value(&defaulted).expect("JSON");
    let untouched = serde_json::to_value(&untouched).expect("JSON");
    let skipped: Vec<&String> = additions
        .iter()
        .filter(|p| defaulted.pointer(p).is_some() && untouched.pointer(p).is_none())
        .collect();
    assert!(
        !skipped.is_empty(),
        "defaults {additions:?} are in {defaulted} and should be missing from {untouched}"
    );

    // Clusters are cluster-scoped: their own label exempts them.
    let api = clusters(&admin);
    let exempt_name = unique_name("rollout-exempt");
    let stored = api
        .create(
            &create,
            &object(&invalid_cluster(&exempt_name, json!({EXEMPT_LABEL: "true"}))),
        )
        .await
        .expect("an invalid Cluster labelled exempt is admitted");
    assert_eq!(
        stored.data.pointer("/spec/cloud/providerName"),
        None,
        "not defaulted: {}",
        stored.data
    );
    for labels in [
        json!({}),
        json!({EXEMPT_LABEL: "false"}),
        json!({"project-id": "xw2k9fgh4t"}),
    ] {
        let name = unique_name("rollout-checked");
        let message = denied_by_webhook(
            api.create(&create, &object(&invalid_cluster(&name, labels.clone())))
                .await,
            &format!("an invalid Cluster labelled {labels}"),
        );
        assert!(message.contains("spec.version"), "{message}");
    }

    // Taking the label off sends the update to the webhook: the new object is not exempt. (KKP
    // does not judge a version an update leaves unchanged, so it is defaulted and admitted.)
    let params = PatchParams::default();
    let unlabel = json!({"metadata": {"labels": {EXEMPT_LABEL: null}}});
    let unlabelled = api
        .patch(&exempt_name, &params, &Patch::Merge(&unlabel))
        .await
        .expect("taking the label off an unchanged Cluster");
    assert_eq!(
        unlabelled.data.pointer("/spec/cloud/providerName"),
        Some(&json!("hetzner")),
        "defaulted by the webhook: {}",
        unlabelled.data
    );

    // So is putting it on together with a change: the old object was not exempt.
    let name = unique_name("rollout-valid");
    let mut valid_cluster = invalid_cluster(&name, json!({"project-id": "xw2k9fgh4t"}));
    valid_cluster["spec"]["version"] = json!("1.35.7");
    api.create(&create, &object(&valid_cluster))
        .await
        .expect("a valid Cluster is admitted");
    let exempt_and_break = json!({
        "metadata": {"labels": {EXEMPT_LABEL: "true"}},
        "spec": {"version": "1.0.0"}
    });
    let message = denied_by_webhook(
        api.patch(&name, &params, &Patch::Merge(&exempt_and_break)).await,
        "labelling a Cluster exempt while breaking it",
    );
    assert!(message.contains("spec.version"), "{message}");

    // Only exemption admins (system:masters by default) may put the label on: a user who may
    // create Clusters and MachineDeployments is refused, so a policy cannot be stepped around.
    let user = plane
        .mint_user(&unique_name("alice"), &["kkp-e2e:writers"])
        .expect("a user");
    let writers: ClusterRole = serde_json::from_value(json!({
        "metadata": {"name": "kkp-e2e-writers"},
        "rules": [
            {"apiGroups": ["kubermatic.k8c.io"], "resources": ["clusters"], "verbs": ["create", "update", "patch"]},
            {"apiGroups": ["cluster.k8s.io"], "resources": ["machinedeployments"], "verbs": ["create"]}
        ]
    }))
    .expect("a ClusterRole");
    let binding: ClusterRoleBinding = serde_json::from_value(json!({
        "metadata": {"name": "kkp-e2e-writers"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "kkp-e2e-writers"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "kkp-e2e:writers"}]
    }))
    .expect("a ClusterRoleBinding");
    let apply = PatchParams::apply("kkp-e2e").force();
    Api::<ClusterRole>::all(admin.clone())
        .patch("kkp-e2e-writers", &apply, &Patch::Apply(&writers))
        .await
        .expect("the ClusterRole");
    Api::<ClusterRoleBinding>::all(admin.clone())
        .patch("kkp-e2e-writers", &apply, &Patch::Apply(&binding))
        .await
        .expect("the ClusterRoleBinding");
    let as_user = user.client().await.expect("the user's client");
    let dry = PostParams {
        dry_run: true,
        ..PostParams::default()
    };
    let exempt_by_user = invalid_cluster(&unique_name("rollout-user"), json!({EXEMPT_LABEL: "true"}));
    let refused = clusters(&as_user).create(&dry, &object(&exempt_by_user)).await;
    match refused {
        Err(kube::Error::Api(status)) => {
            assert_eq!(status.code, 403, "{status:?}");
            assert!(
                status.message.contains(EXEMPTIONS)
                    && status
                        .message
                        .contains("only group system:masters may exempt an object from kkp-webhook"),
                "{}",
                status.message
            );
        }
        other => panic!("a user labelling a Cluster exempt: expected a denial by {EXEMPTIONS}, got {other:?}"),
    }
    let refused = machine_deployments(&as_user, &checked)
        .create(
            &dry,
            &object(&{
                let mut md = invalid_machine_deployment("by-user", &checked);
                md["metadata"]["labels"] = json!({EXEMPT_LABEL: "true"});
                md
            }),
        )
        .await;
    assert!(
        matches!(&refused, Err(kube::Error::Api(s)) if s.code == 403 && s.message.contains(EXEMPTIONS)),
        "a user labelling a MachineDeployment exempt: {refused:?}"
    );
    // The same object unlabelled goes through the checks as usual.
    let unlabelled = invalid_cluster(&unique_name("rollout-user"), json!({}));
    denied_by_webhook(
        clusters(&as_user).create(&dry, &object(&unlabelled)).await,
        "the user's unlabelled invalid Cluster",
    );

    drop(server);
}
