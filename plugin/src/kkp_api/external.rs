//! The imported ("external") clusters of the KKP REST API: list, import, replace the kubeconfig,
//! disconnect, and read the stored kubeconfig (`/api/v2/projects/{p}/kubernetes/clusters`).

use base64::Engine as _;
use http::Method;
use serde_json::Value;

use super::client::{ApiError, KkpClient};
use super::models::{ExternalCluster, ExternalClusterBody};

/// The `Action` header of the delete: remove the cluster from KKP only (the API's default, sent
/// explicitly so that a provider's cluster is never deleted).
pub const DISCONNECT: &str = "disconnect";

impl ExternalClusterBody {
    /// The import body: the name and the kubeconfig, base64 encoded as the API wants it.
    pub fn new(name: &str, kubeconfig: &str) -> Self {
        ExternalClusterBody {
            name: name.to_owned(),
            kubeconfig: base64::engine::general_purpose::STANDARD.encode(kubeconfig),
        }
    }
}

impl KkpClient {
    /// `GET /projects/{p}/kubernetes/clusters`.
    pub async fn list_external_clusters(&self) -> Result<Vec<ExternalCluster>, ApiError> {
        let path = self.project_path("/kubernetes/clusters");
        self.get(&path, "imported clusters").await
    }

    /// `POST /projects/{p}/kubernetes/clusters`: imports a cluster; the API gives it an ID.
    pub async fn create_external_cluster(&self, body: &ExternalClusterBody) -> Result<ExternalCluster, ApiError> {
        let path = self.project_path("/kubernetes/clusters");
        self.json(Method::POST, &path, Some(body), "imported clusters", &[])
            .await
    }

    /// `PUT /projects/{p}/kubernetes/clusters/{id}`: replaces the name and the kubeconfig.
    pub async fn update_external_cluster(
        &self,
        id: &str,
        body: &ExternalClusterBody,
    ) -> Result<ExternalCluster, ApiError> {
        let path = self.project_path(&format!("/kubernetes/clusters/{id}"));
        self.json(Method::PUT, &path, Some(body), &format!("imported cluster {id:?}"), &[])
            .await
    }

    /// `DELETE /projects/{p}/kubernetes/clusters/{id}` with `Action: disconnect`.
    pub async fn disconnect_external_cluster(&self, id: &str) -> Result<(), ApiError> {
        let path = self.project_path(&format!("/kubernetes/clusters/{id}"));
        let _: Value = self
            .json::<Value, _>(
                Method::DELETE,
                &path,
                None,
                &format!("imported cluster {id:?}"),
                &[("Action", DISCONNECT)],
            )
            .await?;
        Ok(())
    }

    /// `GET /projects/{p}/kubernetes/clusters/{id}/kubeconfig`: the stored kubeconfig as text.
    pub async fn external_kubeconfig(&self, id: &str) -> Result<String, ApiError> {
        let path = self.project_path(&format!("/kubernetes/clusters/{id}/kubeconfig"));
        let what = format!("the kubeconfig of imported cluster {id:?}");
        let answer = self
            .send(Method::GET, &path, None, "application/octet-stream", &[])
            .await?;
        let answer = self.check(&Method::GET, &path, &what, answer)?;
        let bytes = match serde_json::from_slice::<Vec<u8>>(&answer.body) {
            Ok(bytes) => bytes,
            Err(_) => answer.body.to_vec(),
        };
        String::from_utf8(bytes).map_err(|_| ApiError::Decode {
            method: "GET".into(),
            url: format!("{}{path}", self.base()),
            reason: "the kubeconfig is not UTF-8 text".into(),
        })
    }
}

/// The imported clusters whose ID is `name`, else those whose name is `name`.
pub fn named<'a>(clusters: &'a [ExternalCluster], name: &str) -> Vec<&'a ExternalCluster> {
    let by_id: Vec<&ExternalCluster> = clusters.iter().filter(|c| c.id.as_deref() == Some(name)).collect();
    if !by_id.is_empty() {
        return by_id;
    }
    clusters.iter().filter(|c| c.name == name).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kubeconfig_is_sent_base64_encoded() {
        let body = ExternalClusterBody::new("prod", "apiVersion: v1\n");
        assert_eq!(body.name, "prod");
        assert_eq!(body.kubeconfig, "YXBpVmVyc2lvbjogdjEK");
        let value = serde_json::to_value(&body).unwrap();
        assert_eq!(
            value,
            serde_json::json!({"name": "prod", "kubeconfig": "YXBpVmVyc2lvbjogdjEK"})
        );
    }

    #[test]
    fn clusters_are_named_by_id_first() {
        let c = |id: &str, name: &str| ExternalCluster {
            id: Some(id.into()),
            name: name.into(),
            ..ExternalCluster::default()
        };
        let all = [c("a1", "prod"), c("b2", "a1"), c("c3", "twin"), c("d4", "twin")];
        assert_eq!(named(&all, "a1").len(), 1);
        assert_eq!(named(&all, "a1")[0].name, "prod");
        assert_eq!(named(&all, "twin").len(), 2);
        assert!(named(&all, "none").is_empty());
    }
}
