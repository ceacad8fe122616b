//! The webhook as `kkp-webhook` runs it: the server, with what it follows from the API (the
//! admission policies, the platform's configuration, the MachineDeployments' labels) and the
//! policy reports it writes.

use std::path::Path;
use std::sync::Arc;

use crate::config::Config;
use crate::machine_labels::MachineLabelWatch;
use crate::platform::{PlatformArgs, PlatformWatch};
use crate::policies::{PolicyArgs, PolicySourceError, PolicyWatch, WatchOptions, compile_all, load_policy_files};
use crate::reports::{ReportOptions, Reporter};
use crate::server::{ServeError, Server, shutdown_signal};
use crate::state::{AppState, PlatformInForce};

/// Why the server with its policy source could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Serve(#[from] ServeError),
    #[error(transparent)]
    Policies(#[from] PolicySourceError),
}

/// Whether policies are watched: the flag, else whether the webhook runs in a cluster or has a
/// kubeconfig.
pub fn should_watch(flag: Option<bool>) -> bool {
    flag.unwrap_or_else(|| {
        let set = |v: &str| std::env::var_os(v).is_some_and(|v| !v.is_empty());
        set("KUBERNETES_SERVICE_HOST")
            || set("KUBECONFIG")
            || std::env::var_os("HOME").is_some_and(|h| Path::new(&h).join(".kube").join("config").is_file())
    })
}

/// Serves until SIGTERM/SIGINT like [`crate::serve`], with the policies of `args` in force.
///
/// The listeners open at once. While the first list of watched policies has not arrived (at most
/// `--policy-sync-timeout`), `/readyz` says not ready, so that a Service sends no reviews to a
/// replica that would answer them without the policies.
pub async fn serve(mut config: Config, args: PolicyArgs, platform: PlatformArgs) -> Result<(), StartError> {
    let from_files = load_policy_files(&args.policy_files)?;
    let wants_api = should_watch(args.watch_policies) || should_watch(platform.watch_platform);
    let client = if wants_api {
        match kube::Client::try_default().await {
            Ok(client) => Some(client),
            Err(e) if args.watch_policies == Some(true) || platform.watch_platform == Some(true) => {
                return Err(PolicySourceError::NoApiAccess(e.to_string()).into());
            }
            Err(e) => {
                tracing::warn!(error = %e, "no API access: admission policies are not watched");
                None
            }
        }
    } else {
        None
    };
    if config.cluster_version.is_none()
        && let Some(client) = &client
    {
        match crate::cluster_version::detect(client).await {
            Ok(version) => {
                tracing::info!(%version, "cluster version from the apiserver: kubelet versions are checked against it");
                config.cluster_version = Some(version);
            }
            Err(error) => tracing::warn!(%error, "no cluster version: kubelet versions are not checked for skew"),
        }
    }
    let state = AppState::new(config.context(), config.limits());
    if !from_files.is_empty() {
        let compiled = compile_all(&[], &from_files);
        tracing::info!(
            policies = compiled.set.len(),
            files = args.policy_files.len(),
            "admission policies from files"
        );
        state.set_policies(compiled.set);
    }
    let pinned = !config.kubernetes_versions.is_empty();
    if pinned {
        state.set_platform(PlatformInForce {
            summary: "versions pinned by --kubernetes-versions; no datacenters known".into(),
            ..PlatformInForce::default()
        });
    }
    let server = Server::bind_with_state(config, state.clone()).await?;
    let platform_watch = client
        .as_ref()
        .filter(|_| should_watch(platform.watch_platform))
        .map(|client| {
            tracing::info!(
                namespace = %platform.kubermatic_namespace,
                "following the KubermaticConfiguration and Seeds; the built-in catalog is in force until they are listed"
            );
            PlatformWatch::spawn(client.clone(), state.clone(), &platform.kubermatic_namespace, pinned)
        });
    let label_watch = client
        .as_ref()
        .filter(|_| should_watch(args.watch_policies))
        .map(|client| MachineLabelWatch::spawn(client.clone(), state.machine_labels().clone()));
    let report_client = client.clone().filter(|_| args.reports.policy_reports);
    let mut readiness = None;
    let watch = client.filter(|_| should_watch(args.watch_policies)).map(|client| {
        let options = WatchOptions {
            status_interval: args.policy_status_interval,
            from_files,
        };
        let watch = Arc::new(PolicyWatch::spawn(client, state.clone(), options));
        state.set_ready(false);
        let (waiting, timeout, ready_state) = (Arc::clone(&watch), args.policy_sync_timeout, state.clone());
        readiness = Some(tokio::spawn(async move {
            if !waiting.wait_synced(timeout).await {
                tracing::warn!(
                    ?timeout,
                    "no list of admission policies yet; serving without them until it arrives"
                );
            }
            ready_state.set_ready(true);
        }));
        watch
    });
    // Reports follow the watched policies, once their first list is in force.
    let reporter = report_client.zip(watch.as_ref()).map(|(client, watch)| {
        let options = ReportOptions {
            policies_synced: Some(watch.synced()),
            ..ReportOptions::from(&args.reports)
        };
        Reporter::spawn(client, state.clone(), options)
    });
    let signalled = shutdown_signal().await;
    if let Some(task) = readiness {
        task.abort();
        // Waiting for the aborted task drops its handle on the watch.
        let _ = task.await;
    }
    server.shutdown().await?;
    if let Some(w) = watch.and_then(Arc::into_inner) {
        w.stop().await;
    }
    if let Some(w) = platform_watch {
        w.stop().await;
    }
    if let Some(w) = label_watch {
        w.stop().await;
    }
    if let Some(r) = reporter {
        r.stop().await;
    }
    signalled.map_err(StartError::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flag_wins_over_detection() {
        assert!(should_watch(Some(true)));
        assert!(!should_watch(Some(false)));
    }
}
