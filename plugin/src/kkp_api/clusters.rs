//! The cluster operations of the KKP REST API the plugin uses: list, find by name or ID, create,
//! patch, delete, health, kubeconfig, and a cluster's machine deployments and addons.

use http::Method;
use serde_json::Value;

use super::client::{ApiError, KkpClient};
use super::models::{Addon, ApiCluster, ClusterHealth, CreateClusterSpec, NodeDeployment, ProjectClusterList};

/// A cluster named by its human-readable name or its ID could not be picked.
#[derive(Debug, thiserror::Error)]
pub enum FindError {
    #[error(
        "no cluster named or with ID {name:?} in KKP project {project}; see the project's clusters with: kubectl kkp get clusters"
    )]
    NotFound { name: String, project: String },
    #[error("{count} clusters in KKP project {project} are named {name:?}: name one by its ID: {}", ids.join(", "))]
    Ambiguous {
        name: String,
        project: String,
        count: usize,
        ids: Vec<String>,
    },
    #[error(transparent)]
    Api(#[from] ApiError),
}

impl KkpClient {
    /// `GET /projects/{p}/clusters?show_dm_count=true`. A partial list (a seed out of reach) is
    /// logged as a warning.
    pub async fn list_clusters(&self) -> Result<Vec<ApiCluster>, ApiError> {
        let path = self.project_path("/clusters?show_dm_count=true");
        let list: ProjectClusterList = self.get(&path, "clusters").await?;
        if let Some(message) = list.error_message.filter(|m| !m.is_empty()) {
            tracing::warn!("the KKP API listed the clusters it could reach only: {message}");
        }
        Ok(list.clusters)
    }

    /// The cluster whose ID is `name`, else the one cluster whose human-readable name is `name`.
    pub async fn find_cluster(&self, name: &str) -> Result<ApiCluster, FindError> {
        let clusters = self.list_clusters().await?;
        pick(clusters, name, self.project())
    }

    /// The cluster of that human-readable name, if exactly one; several is an error.
    pub async fn find_by_name(&self, name: &str) -> Result<Option<ApiCluster>, FindError> {
        let clusters = self.list_clusters().await?;
        let same: Vec<ApiCluster> = clusters.into_iter().filter(|c| c.name == name).collect();
        match same.len() {
            0 => Ok(None),
            1 => Ok(same.into_iter().next()),
            count => Err(FindError::Ambiguous {
                name: name.to_owned(),
                project: self.project().to_owned(),
                count,
                ids: same.into_iter().filter_map(|c| c.id).collect(),
            }),
        }
    }

    pub async fn get_cluster(&self, id: &str) -> Result<ApiCluster, ApiError> {
        let path = self.project_path(&format!("/clusters/{id}"));
        self.get(&path, &format!("cluster {id:?}")).await
    }

    /// `POST /projects/{p}/clusters`.
    pub async fn create_cluster(&self, spec: &CreateClusterSpec) -> Result<ApiCluster, ApiError> {
        let path = self.project_path("/clusters");
        self.json(Method::POST, &path, Some(spec), "clusters", &[]).await
    }

    /// `PATCH /projects/{p}/clusters/{id}` with a JSON merge patch.
    pub async fn patch_cluster(&self, id: &str, patch: &Value) -> Result<ApiCluster, ApiError> {
        let path = self.project_path(&format!("/clusters/{id}"));
        self.json(Method::PATCH, &path, Some(patch), &format!("cluster {id:?}"), &[])
            .await
    }

    /// `DELETE /projects/{p}/clusters/{id}`; the cleanup options are headers, as the API wants.
    pub async fn delete_cluster(&self, id: &str, volumes: bool, load_balancers: bool) -> Result<(), ApiError> {
        let path = self.project_path(&format!("/clusters/{id}"));
        let headers = [
            ("DeleteVolumes", if volumes { "true" } else { "false" }),
            ("DeleteLoadBalancers", if load_balancers { "true" } else { "false" }),
        ];
        let _: Value = self
            .json::<Value, _>(Method::DELETE, &path, None, &format!("cluster {id:?}"), &headers)
            .await?;
        Ok(())
    }

    pub async fn cluster_health(&self, id: &str) -> Result<ClusterHealth, ApiError> {
        let path = self.project_path(&format!("/clusters/{id}/health"));
        self.get(&path, &format!("cluster {id:?}")).await
    }

    /// The cluster's admin kubeconfig, as the YAML text the API sends (a JSON array of bytes,
    /// as a generated server might send it, is taken too).
    pub async fn kubeconfig(&self, id: &str) -> Result<String, ApiError> {
        let path = self.project_path(&format!("/clusters/{id}/kubeconfig"));
        let answer = self
            .send(Method::GET, &path, None, "application/octet-stream", &[])
            .await?;
        let answer = self.check(
            &Method::GET,
            &path,
            &format!("the kubeconfig of cluster {id:?}"),
            answer,
        )?;
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

    pub async fn list_machine_deployments(&self, cluster: &str) -> Result<Vec<NodeDeployment>, ApiError> {
        let path = self.project_path(&format!("/clusters/{cluster}/machinedeployments"));
        self.get(&path, &format!("the machine deployments of cluster {cluster:?}"))
            .await
    }

    pub async fn create_machine_deployment(
        &self,
        cluster: &str,
        md: &NodeDeployment,
    ) -> Result<NodeDeployment, ApiError> {
        let path = self.project_path(&format!("/clusters/{cluster}/machinedeployments"));
        self.json(
            Method::POST,
            &path,
            Some(md),
            &format!("machine deployments of cluster {cluster:?}"),
            &[],
        )
        .await
    }

    pub async fn patch_machine_deployment(
        &self,
        cluster: &str,
        id: &str,
        patch: &Value,
    ) -> Result<NodeDeployment, ApiError> {
        let path = self.project_path(&format!("/clusters/{cluster}/machinedeployments/{id}"));
        self.json(
            Method::PATCH,
            &path,
            Some(patch),
            &format!("machine deployment {id:?} of cluster {cluster:?}"),
            &[],
        )
        .await
    }

    pub async fn list_addons(&self, cluster: &str) -> Result<Vec<Addon>, ApiError> {
        let path = self.project_path(&format!("/clusters/{cluster}/addons"));
        self.get(&path, &format!("the addons of cluster {cluster:?}")).await
    }

    /// The names of the addons KKP offers for the cluster and it does not have yet
    /// (`installableaddons`: the installation's accessible addons less the installed ones).
    pub async fn installable_addons(&self, cluster: &str) -> Result<Vec<String>, ApiError> {
        let path = self.project_path(&format!("/clusters/{cluster}/installableaddons"));
        self.get(&path, &format!("the addons cluster {cluster:?} can install"))
            .await
    }

    pub async fn create_addon(&self, cluster: &str, addon: &Addon) -> Result<Addon, ApiError> {
        let path = self.project_path(&format!("/clusters/{cluster}/addons"));
        self.json(
            Method::POST,
            &path,
            Some(addon),
            &format!("addons of cluster {cluster:?}"),
            &[],
        )
        .await
    }

    pub async fn patch_addon(&self, cluster: &str, id: &str, addon: &Addon) -> Result<Addon, ApiError> {
        let path = self.project_path(&format!("/clusters/{cluster}/addons/{id}"));
        self.json(
            Method::PATCH,
            &path,
            Some(addon),
            &format!("addon {id:?} of cluster {cluster:?}"),
            &[],
        )
        .await
    }
}

/// The cluster whose ID is `name`, else the one whose human-readable name is `name`.
pub fn pick(clusters: Vec<ApiCluster>, name: &str, project: &str) -> Result<ApiCluster, FindError> {
    if let Some(c) = clusters.iter().find(|c| c.id.as_deref() == Some(name)) {
        return Ok(c.clone());
    }
    let same: Vec<ApiCluster> = clusters.into_iter().filter(|c| c.name == name).collect();
    match same.len() {
        0 => Err(FindError::NotFound {
            name: name.to_owned(),
            project: project.to_owned(),
        }),
        1 => Ok(same.into_iter().next().expect("one")),
        count => Err(FindError::Ambiguous {
            name: name.to_owned(),
            project: project.to_owned(),
            count,
            ids: same.into_iter().filter_map(|c| c.id).collect(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cluster(id: &str, name: &str) -> ApiCluster {
        ApiCluster {
            id: Some(id.into()),
            name: name.into(),
            ..ApiCluster::default()
        }
    }

    #[test]
    fn clusters_are_found_by_id_or_by_a_unique_name() {
        let all = vec![cluster("a1", "demo"), cluster("b2", "twin"), cluster("c3", "twin")];
        assert_eq!(pick(all.clone(), "a1", "p").unwrap().name, "demo");
        assert_eq!(pick(all.clone(), "demo", "p").unwrap().id.as_deref(), Some("a1"));
        let e = pick(all.clone(), "twin", "p").unwrap_err().to_string();
        assert!(e.contains("2 clusters") && e.contains("b2, c3"), "{e}");
        let e = pick(all, "none", "p").unwrap_err().to_string();
        assert!(e.contains("\"none\"") && e.contains("kubectl kkp get clusters"), "{e}");
    }
}
