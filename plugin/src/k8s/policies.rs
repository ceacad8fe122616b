//! Admission policies as a cluster serves them: the AdmissionPolicy API, the compiled set the
//! user may read, and who the cluster says the user is (for policy exemptions).

use k8s_openapi::api::authentication::v1::SelfSubjectReview;
use kkp_crds::policy::{AdmissionPolicy, PolicySet};
use kkp_crds::request::UserInfo;
use kube::Client;
use kube::api::{Api, ApiResource, DynamicObject, ListParams, PostParams};
use serde_json::Value;

use super::errors;

/// The AdmissionPolicy resource (`admissionpolicies.policy.kubectl-kkp.io`, cluster-scoped).
pub fn policy_resource() -> ApiResource {
    ApiResource::erase::<AdmissionPolicy>(&())
}

/// The AdmissionPolicy API of a cluster.
pub fn policies_api(client: &Client) -> Api<DynamicObject> {
    Api::all_with(client.clone(), &policy_resource())
}

/// The admission policies of the cluster, compiled; `None` when the user may not list them (403)
/// or the cluster has none to list (404: the resource is not installed). Policies that do not
/// parse or compile are left out, as the webhook leaves them out.
pub async fn fetch_policies(client: &Client) -> anyhow::Result<Option<PolicySet>> {
    let list = match policies_api(client).list(&ListParams::default()).await {
        Ok(list) => list,
        Err(e) if errors::code(&e) == Some(403) => {
            tracing::info!(
                "not allowed to list admissionpolicies.policy.kubectl-kkp.io (403); checking without the cluster's \
                 admission policies (the webhook still applies them)"
            );
            return Ok(None);
        }
        Err(e) if errors::code(&e) == Some(404) => {
            tracing::info!(
                "the cluster serves no admissionpolicies.policy.kubectl-kkp.io; no admission policies to check"
            );
            return Ok(None);
        }
        Err(e) => return Err(anyhow::anyhow!("listing admission policies: {e}")),
    };
    let documents: Vec<Value> = list
        .items
        .iter()
        .map(|object| serde_json::to_value(object).unwrap_or(Value::Null))
        .collect();
    let (set, loaded) = PolicySet::from_documents(&documents);
    for l in loaded.iter().filter(|l| !l.in_force()) {
        let error = l.error.as_ref().map(ToString::to_string).unwrap_or_default();
        tracing::info!(policy = %l.name, error = %error, "admission policy skipped: it does not parse or compile");
    }
    tracing::info!(policies = set.len(), "read the cluster's admission policies");
    Ok(Some(set))
}

/// Who the cluster says the user is (a SelfSubjectReview), for policy exemptions; `None` when it
/// cannot tell.
pub async fn whoami(client: &Client) -> Option<UserInfo> {
    let api: Api<SelfSubjectReview> = Api::all(client.clone());
    let review = SelfSubjectReview::default();
    match api.create(&PostParams::default(), &review).await {
        Ok(answer) => {
            let info = answer.status?.user_info?;
            Some(UserInfo {
                username: info.username.unwrap_or_default(),
                groups: info.groups.unwrap_or_default(),
            })
        }
        Err(e) => {
            tracing::info!(error = %e, "cannot tell who you are (SelfSubjectReview); policy exemptions are not applied");
            None
        }
    }
}
