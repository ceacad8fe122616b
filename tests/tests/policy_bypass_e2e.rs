//! End to end: the ways around an admission policy are closed, on a real control plane behind the
//! shipped webhook configurations. `kubectl scale` (the `scale` subresource) meets the replica
//! rules; a restricted field given by reference, a provider spec from `valueFrom` and `cpus: "NaN"`
//! are denied; and an update of an object that broke a policy before the policy existed passes
//! unless it changes the violating field (ratcheting).

use std::time::Duration;

use k8s_openapi::api::core::v1::Namespace;
use kkp_e2e::webhook_support::{self, ServingCert};
use kkp_e2e::{install_crds, shared_control_plane, unique_name};
use kkp_webhook::policies::{PolicyWatch, WatchOptions};
use kkp_webhook::{AppState, Config, Server};
use kube::api::{ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams, PostParams};
use kube::{Api, Client};
use serde_json::{Value, json};

const CRDS: [&str; 3] = [
    include_str!("../../crds/kubermatic.k8c.io_clusters.yaml"),
    include_str!("../../crds/cluster.k8s.io_machinedeployments.yaml"),
    include_str!("../../crds/policy.kubectl-kkp.io_admissionpolicies.yaml"),
];

const WAIT: Duration = Duration::from_secs(60);

fn machine_deployment(name: &str, namespace: &str, replicas: i64, provider_spec: Value) -> DynamicObject {
    serde_json::from_value(json!({
        "apiVersion": "cluster.k8s.io/v1alpha1",
        "kind": "MachineDeployment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"pool": name}},
            "template": {
                "metadata": {"labels": {"pool": name}},
                "spec": {"providerSpec": provider_spec, "versions": {"kubelet": "1.35.7"}}
            }
        }
    }))
    .expect("a MachineDeployment")
}

fn hetzner(server_type: Value) -> Value {
    json!({"value": {
        "cloudProvider": "hetzner",
        "cloudProviderSpec": {"token": "inline-token", "serverType": server_type, "location": "fsn1"},
        "operatingSystem": "ubuntu",
        "operatingSystemSpec": {}
    }})
}

fn vsphere(cpus: Value) -> Value {
    json!({"value": {
        "cloudProvider": "vsphere",
        "cloudProviderSpec": {
            "templateVMName": "ubuntu-24.04", "datacenter": "dc1", "folder": "/dc1/vm/kkp",
            "datastore": "ds1", "cpus": cpus, "memoryMB": 4096, "diskSizeGB": 20
        },
        "operatingSystem": "ubuntu",
        "operatingSystemSpec": {}
    }})
}

fn machine_deployments(client: &Client, namespace: &str) -> Api<DynamicObject> {
    let gvk = GroupVersionKind::gvk("cluster.k8s.io", "v1alpha1", "MachineDeployment");
    Api::namespaced_with(
        client.clone(),
        namespace,
        &ApiResource::from_gvk_with_plural(&gvk, "machinedeployments"),
    )
}

/// The message of an API error, or a panic naming what was expected.
fn denial<T: std::fmt::Debug>(result: Result<T, kube::Error>, what: &str) -> String {
    match result {
        Err(kube::Error::Api(status)) => status.message,
        other => panic!("{what}: expected a denial, got {other:?}"),
    }
}

fn assert_contains(message: &str, parts: &[&str]) {
    for part in parts {
        assert!(message.contains(part), "{part:?} not in {message:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policies_cannot_be_bypassed_and_updates_ratchet() {
    let plane = shared_control_plane().await.expect("the control plane starts");
    let admin = plane.client().await.expect("an admin client");
    for crd in CRDS {
        install_crds(&admin, crd).await.expect("the shipped CRDs install");
    }
    let namespace = unique_name("policy-bypass");
    let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": namespace}})).expect("a namespace");
    Api::<Namespace>::all(admin.clone())
        .create(&PostParams::default(), &ns)
        .await
        .expect("the namespace");
    let mds = &machine_deployments(&admin, &namespace);
    let create = PostParams::default();

    // Stored before the webhook and its policy: too big a server and too many replicas.
    mds.create(
        &create,
        &machine_deployment("legacy", &namespace, 7, hetzner(json!("cx52"))),
    )
    .await
    .expect("an object from before the policy");

    let cert = ServingCert::generate("kkp-webhook").expect("a serving certificate");
    let config = Config::for_loopback(&cert.cert_path, &cert.key_path);
    let state = AppState::new(config.context(), config.limits());
    let server = Server::bind_with_state(config, state.clone())
        .await
        .expect("the webhook serves");
    let watch = PolicyWatch::spawn(admin.clone(), state.clone(), WatchOptions::default());
    assert!(watch.wait_synced(WAIT).await, "the webhook lists the policies");
    let webhooks = kkp_manifests::webhook_manifests(kkp_manifests::Variant::GeneratedCerts)
        .into_iter()
        .find(|(file, _)| *file == "webhook-configurations.yaml")
        .expect("the shipped webhook configurations")
        .1;
    let base_url = format!("https://127.0.0.1:{}", server.tls_addr().port());
    let registered = webhook_support::register_webhooks(&admin, webhooks, &base_url, &cert.ca_pem)
        .await
        .expect("the webhook configurations");
    webhook_support::wait_until_called(&admin, WAIT)
        .await
        .expect("the apiserver calls the webhook");

    let policy: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "policy.kubectl-kkp.io/v1alpha1", "kind": "AdmissionPolicy",
        "metadata": {"name": "limits"},
        "spec": {"enforcement": "Deny", "rules": {
            "maxReplicas": 5,
            "instanceSizes": {"hetzner": ["cx22", "cx32"]},
            "vsphere": {"maxCPUs": 4}
        }}
    }))
    .expect("a policy");
    Api::<DynamicObject>::all_with(admin.clone(), &kkp_webhook::policies::policy_resource())
        .create(&create, &policy)
        .await
        .expect("the admin installs the policy");
    let in_force = state.clone();
    webhook_support::wait_until("the policy to be in force", WAIT, || {
        let state = in_force.clone();
        async move {
            let names: Vec<String> = state.context().policies.iter().map(|p| p.name.clone()).collect();
            if names == ["limits"] {
                Ok(())
            } else {
                Err(format!("{names:?}"))
            }
        }
    })
    .await
    .expect("the webhook compiles the policy");

    // `kubectl scale` goes through the scale subresource: the replica rules apply to it.
    mds.create(
        &create,
        &machine_deployment("workers", &namespace, 2, hetzner(json!("cx22"))),
    )
    .await
    .expect("a MachineDeployment within the policy");
    let scale_to = |replicas: i64| json!({"spec": {"replicas": replicas}});
    let params = PatchParams::default();
    let message = denial(
        mds.patch_scale("workers", &params, &Patch::Merge(&scale_to(100))).await,
        "scaling to 100",
    );
    assert_contains(
        &message,
        &[
            r#"admission webhook "scale.kkp-webhook.kubectl-kkp.io" denied the request"#,
            r#"policy "limits" rule maxReplicas: 100 replicas exceed the maximum of 5"#,
        ],
    );
    mds.patch_scale("workers", &params, &Patch::Merge(&scale_to(4)))
        .await
        .expect("scaling within the limit");

    // A restricted field given by reference is denied, with what to do about it.
    let by_reference = json!({"configMapKeyRef": {"name": "sizes", "namespace": &namespace, "key": "big"}});
    let message = denial(
        mds.create(
            &create,
            &machine_deployment("referenced", &namespace, 1, hetzner(by_reference)),
        )
        .await,
        "a server type by reference",
    );
    assert_contains(
        &message,
        &[
            r#"policy "limits" rule instanceSizes.hetzner: serverType is given by reference (configMapKeyRef), but this rule restricts it: write the value inline"#,
        ],
    );

    // A provider spec from elsewhere hides everything the policy reads.
    let value_from = json!({"valueFrom": {"machineDeploymentProviderSpecRef": {"name": "elsewhere"}}});
    let message = denial(
        mds.create(&create, &machine_deployment("hidden", &namespace, 1, value_from))
            .await,
        "providerSpec.valueFrom",
    );
    assert_contains(
        &message,
        &[r#"policy "limits" rule providerSpec: the machines' provider spec comes from providerSpec.valueFrom"#],
    );

    // A CPU count that is not a number does not pass maxCPUs.
    let message = denial(
        mds.create(
            &create,
            &machine_deployment("nan", &namespace, 1, vsphere(json!("NaN"))),
        )
        .await,
        "cpus: NaN",
    );
    assert_contains(
        &message,
        &[r#"policy "limits" rule vsphere.maxCPUs: cpus "NaN" is not a valid value for this rule"#],
    );

    // Ratcheting: the object from before the policy keeps being updatable...
    let relabel = json!({"metadata": {"labels": {"touched-by": "controller"}}});
    mds.patch("legacy", &params, &Patch::Merge(&relabel))
        .await
        .expect("an update that leaves the violations as they were is admitted");
    // ...but changing a violating field is checked in full, on the object and through scale.
    let bigger = json!({"spec": {"template": {"spec": {"providerSpec": {"value": {"cloudProviderSpec": {"serverType": "cx62"}}}}}}});
    let message = denial(
        mds.patch("legacy", &params, &Patch::Merge(&bigger)).await,
        "a bigger server",
    );
    assert_contains(
        &message,
        &[r#"policy "limits" rule instanceSizes.hetzner: serverType "cx62" is not allowed"#],
    );
    let message = denial(
        mds.patch_scale("legacy", &params, &Patch::Merge(&scale_to(8))).await,
        "scaling further over the limit",
    );
    assert_contains(&message, &["8 replicas exceed the maximum of 5"]);
    mds.patch_scale("legacy", &params, &Patch::Merge(&scale_to(3)))
        .await
        .expect("scaling back within the limit");

    webhook_support::unregister_webhooks(&admin, &registered)
        .await
        .expect("the webhook configurations are removed");
    watch.stop().await;
    server.shutdown().await.expect("the webhook stops");
}
