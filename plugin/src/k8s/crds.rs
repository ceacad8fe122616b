//! The CustomResourceDefinitions a cluster serves for the kinds of given objects, read so that
//! custom resources can be checked against their schemas before anything is sent.

use std::collections::BTreeSet;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kkp_crds::crd_check::CrdSchemas;
use kube::Api;
use serde_json::Value;

use super::client::Connection;
use super::errors;
use super::resources::{ResolveError, Resolver, gvk_of};

/// The API groups whose kinds the admission engine judges by its own rules.
const ENGINE_GROUPS: [&str; 3] = ["kubermatic.k8c.io", "cluster.k8s.io", "policy.kubectl-kkp.io"];

/// The schemas of the CRDs that define the objects' kinds. Built-in kinds (no dot in the group),
/// the engine's own kinds, kinds the cluster does not serve (applying them fails with the
/// server's message anyway) and CRDs the user may not read are left out.
pub async fn served_for(conn: &Connection, objects: &[Value]) -> anyhow::Result<CrdSchemas> {
    let mut resolver = Resolver::new(conn.client.clone());
    let api: Api<CustomResourceDefinition> = Api::all(conn.client.clone());
    let mut seen = BTreeSet::new();
    let mut documents = Vec::new();
    for object in objects {
        let Ok(gvk) = gvk_of(object) else { continue };
        if !gvk.group.contains('.') || ENGINE_GROUPS.contains(&gvk.group.as_str()) {
            continue;
        }
        let found = match resolver.resolve(&gvk).await {
            Ok(found) => found,
            Err(ResolveError::NotServed(_)) => continue,
            Err(e) => return Err(e.into()),
        };
        let name = format!("{}.{}", found.resource.plural, gvk.group);
        if !seen.insert(name.clone()) {
            continue;
        }
        match api.get_opt(&name).await {
            Ok(Some(crd)) => documents.push(serde_json::to_value(crd)?),
            // Served by an aggregated API server, not by a CRD.
            Ok(None) => {}
            Err(e) if errors::code(&e) == Some(403) => {
                tracing::info!(crd = %name, "may not read the CRD; its objects are left to the server to check");
            }
            Err(e) => anyhow::bail!(errors::explain(&e, conn, &format!("reading CRD {name}"))),
        }
    }
    Ok(CrdSchemas::from_documents(&documents))
}
