//! The platform's configuration in force: the `KubermaticConfiguration`'s versions and the
//! `Seed`s' datacenters, followed with reflectors and swapped into the [`AppState`]'s context.
//!
//! - The request path only reads the context: no API call is made while a review is answered.
//! - Until both lists have arrived (or when KKP's CRDs are not installed, as in a user cluster),
//!   reviews are answered with the built-in catalog and no datacenters; `/readyz` and the logs say
//!   which configuration is in force.
//! - A configuration or Seed that cannot be read is logged and left out; the last good
//!   configuration stays in force.
//! - `--kubernetes-versions` pins the versions: then only the datacenters follow the Seeds.

use std::sync::Arc;
use std::time::Duration;

use clap::{ArgAction, Args};
use futures::{StreamExt, stream};
use kkp_crds::platform::{self, Datacenters};
use kkp_crds::versions::{BUILTIN_KKP_RELEASE, VersionCatalog};
use kube::api::DynamicObject;
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client, ResourceExt};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::state::{AppState, PlatformInForce};
use crate::watch_log::WatchErrorLog;

/// Where the platform's configuration comes from, on the command line.
#[derive(Clone, Debug, Args)]
pub struct PlatformArgs {
    /// Follow KKP's KubermaticConfiguration (versions) and Seeds (datacenters) in
    /// --kubermatic-namespace. Default: on when the webhook has API access.
    #[arg(long, env = "KKP_WEBHOOK_WATCH_PLATFORM", value_name = "BOOL", action = ArgAction::Set,
          num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub watch_platform: Option<bool>,

    /// The namespace KKP keeps its KubermaticConfiguration and Seeds in.
    #[arg(long, env = "KKP_WEBHOOK_KUBERMATIC_NAMESPACE", default_value = "kubermatic")]
    pub kubermatic_namespace: String,
}

impl Default for PlatformArgs {
    fn default() -> Self {
        PlatformArgs {
            watch_platform: Some(false),
            kubermatic_namespace: "kubermatic".into(),
        }
    }
}

pub use kkp_crds::platform::{configuration_resource, seed_resource};

/// What the engine takes from the watched objects, and how to describe it.
#[derive(Clone, Debug, PartialEq)]
pub struct Resolved {
    /// `None`: keep what is in force (the built-in catalog, or the last good configuration).
    pub versions: Option<VersionCatalog>,
    /// The configuration's default expose strategy; like `versions`, `None` keeps what is in
    /// force, `Some(None)` means the configuration names none.
    pub expose_strategy: Option<Option<String>>,
    pub datacenters: Datacenters,
    /// One line for `/readyz` and the logs.
    pub summary: String,
    /// Objects that could not be read, with why.
    pub problems: Vec<String>,
}

/// What the configurations and Seeds of the namespace mean for the engine.
pub fn resolve(configurations: &[Arc<DynamicObject>], seeds: &[Arc<DynamicObject>]) -> Resolved {
    let mut problems = Vec::new();
    let mut configurations: Vec<&Arc<DynamicObject>> = configurations.iter().collect();
    configurations.sort_by_key(|c| c.name_any());
    if configurations.len() > 1 {
        problems.push(format!(
            "{} KubermaticConfigurations ({}); KKP uses exactly one, the first by name counts here",
            configurations.len(),
            configurations
                .iter()
                .map(|c| c.name_any())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let (versions, expose_strategy, source) = match configurations.first() {
        None => (
            Some(VersionCatalog::default()),
            Some(None),
            format!("no KubermaticConfiguration: the built-in catalog of {BUILTIN_KKP_RELEASE}"),
        ),
        Some(object) => match platform::configuration(&platform::listed_object(object, "KubermaticConfiguration")) {
            Ok(c) => (
                Some(c.versions),
                Some(c.expose_strategy),
                format!("KubermaticConfiguration {:?}", c.name),
            ),
            Err(e) => {
                problems.push(e.to_string());
                (
                    None,
                    None,
                    format!(
                        "KubermaticConfiguration {:?} unreadable; the last good versions",
                        object.name_any()
                    ),
                )
            }
        },
    };
    let mut readable = Vec::new();
    for seed in seeds {
        let value = platform::listed_object(seed, "Seed");
        match platform::seed_datacenters(&value) {
            Ok(_) => readable.push(value),
            Err(e) => problems.push(e.to_string()),
        }
    }
    let datacenters = Datacenters::from_seeds(readable.iter()).unwrap_or_default();
    let summary = format!(
        "{source}; {} datacenters from {} Seeds",
        datacenters.len(),
        datacenters.seeds().len()
    );
    Resolved {
        versions,
        expose_strategy,
        datacenters,
        summary,
        problems,
    }
}

/// A running platform source: reflectors on the KubermaticConfigurations and Seeds.
#[derive(Debug)]
pub struct PlatformWatch {
    synced: watch::Receiver<bool>,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl PlatformWatch {
    /// Starts following the namespace's configuration and Seeds with `client`. API errors
    /// (unreachable, CRDs missing, forbidden) are logged and retried with back-off; they never
    /// stop the server. With `pin_versions`, only the datacenters are taken.
    pub fn spawn(client: Client, state: AppState, namespace: &str, pin_versions: bool) -> PlatformWatch {
        let (synced_tx, synced) = watch::channel(false);
        let (stop, stop_rx) = watch::channel(false);
        let task = tokio::spawn(run(
            client,
            state,
            namespace.to_owned(),
            pin_versions,
            synced_tx,
            stop_rx,
        ));
        PlatformWatch { synced, stop, task }
    }

    /// Waits until both lists have arrived once; false after `timeout`.
    pub async fn wait_synced(&self, timeout: Duration) -> bool {
        let mut synced = self.synced.clone();
        tokio::time::timeout(timeout, synced.wait_for(|s| *s))
            .await
            .is_ok_and(|r| r.is_ok())
    }

    pub async fn stop(self) {
        self.stop.send_replace(true);
        if let Err(e) = self.task.await {
            tracing::warn!(error = %e, "the platform watch task failed");
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Which {
    Configuration,
    Seed,
}

async fn run(
    client: Client,
    state: AppState,
    namespace: String,
    pin_versions: bool,
    synced: watch::Sender<bool>,
    mut stop: watch::Receiver<bool>,
) {
    let (config_writer, seed_writer) = (
        reflector::store::Writer::new(configuration_resource()),
        reflector::store::Writer::new(seed_resource()),
    );
    let (config_store, seed_store): (Store<DynamicObject>, Store<DynamicObject>) =
        (config_writer.as_reader(), seed_writer.as_reader());
    let configs: Api<DynamicObject> = Api::namespaced_with(client.clone(), &namespace, &configuration_resource());
    let seeds: Api<DynamicObject> = Api::namespaced_with(client, &namespace, &seed_resource());
    let config_events = watcher(configs, watcher::Config::default())
        .default_backoff()
        .reflect(config_writer)
        .map(|e| (Which::Configuration, e));
    let seed_events = watcher(seeds, watcher::Config::default())
        .default_backoff()
        .reflect(seed_writer)
        .map(|e| (Which::Seed, e));
    let mut events = std::pin::pin!(stream::select(config_events, seed_events));
    let mut listed = [false; 2];
    let mut errors = [
        WatchErrorLog::new("the KubermaticConfiguration"),
        WatchErrorLog::new("the Seeds"),
    ];
    let mut in_force: Option<Resolved> = None;
    loop {
        tokio::select! {
            _ = async { let _ = stop.wait_for(|s| *s).await; } => break,
            event = events.next() => match event {
                None => {
                    tracing::warn!("the platform configuration watch ended");
                    break;
                }
                Some((which, Ok(event))) => {
                    errors[which as usize].recovered();
                    if matches!(event, watcher::Event::InitDone) {
                        listed[which as usize] = true;
                    }
                    let changed = matches!(
                        event,
                        watcher::Event::InitDone | watcher::Event::Apply(_) | watcher::Event::Delete(_)
                    );
                    if changed && listed.iter().all(|l| *l) {
                        let resolved = resolve(&config_store.state(), &seed_store.state());
                        if in_force.as_ref() != Some(&resolved) {
                            install(&state, &resolved, pin_versions);
                            in_force = Some(resolved);
                        }
                        synced.send_replace(true);
                    }
                }
                Some((which, Err(error))) => {
                    errors[which as usize].failed(&error);
                }
            }
        }
    }
}

fn install(state: &AppState, resolved: &Resolved, pin_versions: bool) {
    for problem in &resolved.problems {
        tracing::error!(%problem, "platform configuration not taken");
    }
    let versions = if pin_versions { None } else { resolved.versions.clone() };
    let summary = if pin_versions {
        format!("versions pinned by --kubernetes-versions; {}", resolved.summary)
    } else {
        resolved.summary.clone()
    };
    tracing::info!(platform = %summary, "platform configuration in force");
    state.set_platform(PlatformInForce {
        versions,
        expose_strategy: resolved.expose_strategy.clone(),
        datacenters: Some(Arc::new(resolved.datacenters.clone())),
        summary,
    });
}

#[cfg(test)]
mod tests {
    use kube::api::ObjectMeta;
    use serde_json::{Value, json};

    use super::*;

    fn object(kind: &str, name: &str, spec: Value) -> Arc<DynamicObject> {
        let resource = if kind == "Seed" {
            seed_resource()
        } else {
            configuration_resource()
        };
        let mut o = DynamicObject::new(name, &resource).within("kubermatic");
        o.metadata = ObjectMeta {
            name: Some(name.into()),
            namespace: Some("kubermatic".into()),
            ..Default::default()
        };
        o.data = json!({ "spec": spec });
        Arc::new(o)
    }

    #[test]
    fn without_a_configuration_the_builtin_catalog_is_in_force() {
        let r = resolve(&[], &[]);
        assert_eq!(r.versions, Some(VersionCatalog::default()));
        assert!(
            r.summary
                .starts_with("no KubermaticConfiguration: the built-in catalog of KKP"),
            "{}",
            r.summary
        );
        assert!(r.problems.is_empty());
    }

    #[test]
    fn the_configuration_and_seeds_are_read() {
        let config = object(
            "KubermaticConfiguration",
            "kubermatic",
            json!({"versions": {"versions": ["v1.36.4"], "default": "v1.36.4"}, "exposeStrategy": "LoadBalancer"}),
        );
        let seed = object(
            "Seed",
            "europe",
            json!({"datacenters": {"hetzner-fsn1": {"spec": {"hetzner": {"network": "kkp"}}}}}),
        );
        let r = resolve(&[config], &[seed]);
        assert_eq!(r.versions.unwrap().versions, [semver::Version::new(1, 36, 4)]);
        assert_eq!(r.expose_strategy, Some(Some("LoadBalancer".to_owned())));
        assert_eq!(r.datacenters.get("hetzner-fsn1").unwrap().provider(), Some("hetzner"));
        assert_eq!(
            r.summary,
            "KubermaticConfiguration \"kubermatic\"; 1 datacenters from 1 Seeds"
        );
    }

    #[test]
    fn unreadable_objects_are_reported_and_left_out() {
        let config = object(
            "KubermaticConfiguration",
            "kubermatic",
            json!({"versions": {"versions": ["one"]}}),
        );
        let broken = object("Seed", "broken", json!({"datacenters": ["not", "a", "map"]}));
        let good = object("Seed", "good", json!({"datacenters": {"dc": {"spec": {"aws": {}}}}}));
        let r = resolve(&[config], &[broken, good]);
        assert_eq!(r.versions, None, "the last good versions stay in force");
        assert_eq!(r.problems.len(), 2, "{:?}", r.problems);
        assert!(r.problems[0].contains("spec.versions.versions[0]"), "{:?}", r.problems);
        assert!(
            r.problems[1].contains("Seed \"broken\": spec.datacenters"),
            "{:?}",
            r.problems
        );
        assert_eq!(r.datacenters.len(), 1);
    }
}
