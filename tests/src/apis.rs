//! The APIs the end-to-end tests talk to, by resource: Clusters, MachineDeployments, KKP's
//! KubermaticConfigurations and Seeds, and namespaces made for one test.

use k8s_openapi::api::core::v1::Namespace;
use kube::api::{ApiResource, DynamicObject, GroupVersionKind, ObjectMeta, PostParams};
use kube::{Api, Client};

use crate::error::HarnessError;
use crate::names::unique_name;

/// KKP's Clusters (cluster-scoped).
pub fn clusters(client: &Client) -> Api<DynamicObject> {
    let gvk = GroupVersionKind::gvk("kubermatic.k8c.io", "v1", "Cluster");
    Api::all_with(client.clone(), &ApiResource::from_gvk_with_plural(&gvk, "clusters"))
}

/// machine-controller's MachineDeployments in `namespace`.
pub fn machine_deployments(client: &Client, namespace: &str) -> Api<DynamicObject> {
    let gvk = GroupVersionKind::gvk("cluster.k8s.io", "v1alpha1", "MachineDeployment");
    Api::namespaced_with(
        client.clone(),
        namespace,
        &ApiResource::from_gvk_with_plural(&gvk, "machinedeployments"),
    )
}

/// KKP's KubermaticConfigurations in `namespace`.
pub fn configurations(client: &Client, namespace: &str) -> Api<DynamicObject> {
    Api::namespaced_with(client.clone(), namespace, &kkp_crds::platform::configuration_resource())
}

/// KKP's Seeds in `namespace`.
pub fn seeds(client: &Client, namespace: &str) -> Api<DynamicObject> {
    Api::namespaced_with(client.clone(), namespace, &kkp_crds::platform::seed_resource())
}

/// Parameters of a server-side dry run: admitted (webhooks included) but not stored.
pub fn dry_run() -> PostParams {
    PostParams {
        dry_run: true,
        ..PostParams::default()
    }
}

/// Creates the namespace `name`.
pub async fn create_namespace(client: &Client, name: &str) -> Result<(), HarnessError> {
    let namespace = Namespace {
        metadata: ObjectMeta {
            name: Some(name.to_owned()),
            ..ObjectMeta::default()
        },
        ..Namespace::default()
    };
    Api::<Namespace>::all(client.clone())
        .create(&PostParams::default(), &namespace)
        .await?;
    Ok(())
}

/// Creates a namespace of its own for a test, named `prefix` and a unique suffix; returns its name.
pub async fn fresh_namespace(client: &Client, prefix: &str) -> Result<String, HarnessError> {
    let name = unique_name(prefix);
    create_namespace(client, &name).await?;
    Ok(name)
}
