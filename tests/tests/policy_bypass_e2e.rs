//! End to end: the ways around an admission policy are closed, on a real control plane behind the
//! shipped webhook configurations. `kubectl scale` (the `scale` subresource) meets the replica
//! rules; a restricted field given by reference, a provider spec from `valueFrom` and `cpus: "NaN"`
//! are denied; and an update of an object that broke a policy before the policy existed passes
//! unless it changes the violating field (ratcheting).

use std::time::Duration;

use kkp_e2e::crds::{ADMISSION_POLICIES, CLUSTERS, MACHINE_DEPLOYMENTS};
use kkp_e2e::examples::{hetzner_provider_spec, machine_deployment_of, object, vsphere_provider_spec};
use kkp_e2e::webhook_support::{self, InProcessWebhook};
use kkp_e2e::{apis, install_shipped_crds, shared_control_plane};
use kkp_webhook::policies::WatchOptions;
use kube::Api;
use kube::api::{DynamicObject, Patch, PatchParams, PostParams};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(60);

/// A MachineDeployment of the examples with kubelet 1.35.7, as sent.
fn machine_deployment(name: &str, namespace: &str, replicas: i64, provider_spec: Value) -> DynamicObject {
    object(&machine_deployment_of(
        name,
        namespace,
        replicas,
        provider_spec,
        "1.35.7",
    ))
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
    install_shipped_crds(&admin, &[CLUSTERS, MACHINE_DEPLOYMENTS, ADMISSION_POLICIES])
        .await
        .expect("the shipped CRDs install");
    let namespace = apis::fresh_namespace(&admin, "policy-bypass")
        .await
        .expect("the namespace");
    let mds = &apis::machine_deployments(&admin, &namespace);
    let create = PostParams::default();

    // Stored before the webhook and its policy: too big a server and too many replicas.
    mds.create(
        &create,
        &machine_deployment("legacy", &namespace, 7, hetzner_provider_spec(json!("cx52"))),
    )
    .await
    .expect("an object from before the policy");

    let webhook = InProcessWebhook::start(admin.clone(), WatchOptions::default(), WAIT)
        .await
        .expect("the webhook serves and lists the policies");
    let state = webhook.state.clone();
    let registered = webhook
        .register(&admin, WAIT)
        .await
        .expect("the apiserver calls the webhook through the shipped configurations");

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
        &machine_deployment("workers", &namespace, 2, hetzner_provider_spec(json!("cx22"))),
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
            &machine_deployment("referenced", &namespace, 1, hetzner_provider_spec(by_reference)),
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
            &machine_deployment("nan", &namespace, 1, vsphere_provider_spec(json!("NaN"))),
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

    webhook.stop(&admin, &registered).await.expect("the webhook stops");
}
