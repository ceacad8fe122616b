//! Waiting through the KKP API: until every component of a cluster is up, or until it is gone.

use std::time::Duration;

use crate::k8s::wait::{self, Deadline, Poll, Progress};
use crate::kkp_api::client::{ApiError, KkpClient};

/// Polls the cluster's health until KKP's required components are up, showing each change.
pub async fn until_healthy(client: &KkpClient, id: &str, label: &str, deadline: Deadline) -> anyhow::Result<()> {
    let mut progress = Progress::stderr(label.to_owned());
    let what = format!("cluster {id} to become healthy");
    wait::poll(&mut progress, deadline, Duration::from_secs(2), &what, || async {
        let health = client.cluster_health(id).await?;
        let missing = health.not_up();
        if missing.is_empty() {
            Ok(Poll::Ready(()))
        } else {
            Ok(Poll::Pending(format!(
                "waiting for {}; {}",
                missing.join(", "),
                health.summary()
            )))
        }
    })
    .await
}

/// Polls until the cluster is gone (404).
pub async fn until_gone(client: &KkpClient, id: &str, label: &str, deadline: Deadline) -> anyhow::Result<()> {
    let mut progress = Progress::stderr(label.to_owned());
    let what = format!("cluster {id} to be deleted");
    wait::poll(&mut progress, deadline, Duration::from_secs(1), &what, || async {
        match client.get_cluster(id).await {
            Ok(c) => Ok(Poll::Pending(match c.deletion_timestamp {
                Some(at) => format!("deleting since {at}"),
                None => "not deleting yet".into(),
            })),
            Err(ApiError::NotFound { .. }) => Ok(Poll::Ready(())),
            Err(e) => Err(e.into()),
        }
    })
    .await
}
