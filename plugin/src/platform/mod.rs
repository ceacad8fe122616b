//! Which versions and datacenters objects are judged against: the platform's own configuration
//! (a KubermaticConfiguration's `spec.versions`, the Seeds' datacenters) instead of a list built
//! into the binary, wherever the plugin can get it.
//!
//! Precedence, for the versions and the datacenters separately:
//! 1. files given with `--kubermatic-configuration FILE` and `--seed FILE` ([`files`]);
//! 2. for commands that talk to a cluster, the objects KKP keeps in its namespace there
//!    ([`cluster`]), falling back with one `Warning:` line when they are not served or readable;
//! 3. the built-in catalog ([`BUILTIN_KKP_RELEASE`]'s versions) and no datacenters.
//!
//! `validate --kubernetes-versions` replaces the offered versions on top ([`Platform::offer_only`]).

pub mod cluster;
pub mod files;

use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;
use kkp_crds::context::Context;
use kkp_crds::platform::{Configuration, Datacenters};
use kkp_crds::versions::{BUILTIN_KKP_RELEASE, VersionCatalog};
use semver::Version;

use self::cluster::{FoundConfiguration, Lookup};
use crate::k8s::client::Connection;
use crate::printer::Printer;

/// The namespace KKP keeps its KubermaticConfiguration and Seeds in.
pub const DEFAULT_KUBERMATIC_NAMESPACE: &str = "kubermatic";

/// `--kubermatic-configuration` and `--seed`, flattened into every command that judges objects.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Platform configuration")]
pub struct PlatformFiles {
    /// A KubermaticConfiguration file (YAML or JSON; other kinds in it are ignored) whose
    /// spec.versions give the Kubernetes versions offered, the default, the allowed updates and
    /// the provider incompatibilities [default: the built-in catalog, see `kubectl kkp version`].
    #[arg(long = "kubermatic-configuration", value_name = "FILE", value_hint = clap::ValueHint::FilePath)]
    pub configuration: Option<PathBuf>,
    /// A file of KKP Seeds whose datacenters clusters are checked against (spec.cloud.dc);
    /// repeatable, every Seed in the files counts [default: datacenters are not checked].
    #[arg(long = "seed", value_name = "FILE", value_hint = clap::ValueHint::FilePath)]
    pub seeds: Vec<PathBuf>,
}

/// Where the versions in force come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VersionsFrom {
    Builtin,
    File { path: PathBuf, name: String },
    Cluster { namespace: String, name: String },
}

impl std::fmt::Display for VersionsFrom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            VersionsFrom::Builtin => write!(f, "the built-in catalog of {BUILTIN_KKP_RELEASE}"),
            VersionsFrom::File { path, name } => {
                write!(f, "KubermaticConfiguration {name:?} of {}", path.display())
            }
            VersionsFrom::Cluster { namespace, name } => {
                write!(f, "KubermaticConfiguration {name:?} in namespace {namespace}")
            }
        }
    }
}

/// The versions and datacenters objects are judged against.
#[derive(Clone, Debug)]
pub struct Platform {
    pub versions: VersionCatalog,
    /// `None`: no Seed known, so rules that need a datacenter are skipped.
    pub datacenters: Option<Arc<Datacenters>>,
    /// The configuration's default expose strategy, when it names one.
    pub expose_strategy: Option<String>,
    pub versions_from: VersionsFrom,
}

impl Default for Platform {
    fn default() -> Self {
        Platform::builtin()
    }
}

impl Platform {
    /// The built-in catalog and no datacenters.
    pub fn builtin() -> Self {
        Platform {
            versions: VersionCatalog::default(),
            datacenters: None,
            expose_strategy: None,
            versions_from: VersionsFrom::Builtin,
        }
    }

    /// The engine's context for these versions and datacenters (no policies, no cluster version).
    pub fn context(&self) -> Context {
        Context {
            versions: self.versions.clone(),
            datacenters: self.datacenters.clone(),
            expose_strategy: self.expose_strategy.clone(),
            ..Context::default()
        }
    }

    /// The version new clusters get when none is given.
    pub fn default_version(&self) -> &Version {
        &self.versions.default
    }

    /// Offers exactly `offered` instead. Updates and incompatibilities of a configuration file
    /// stay; the built-in catalog is replaced whole (KKP's usual updates between the versions).
    /// The default stays when it is still offered, else it is the newest. `None` for an empty list.
    pub fn offer_only(&mut self, offered: Vec<Version>) -> Option<()> {
        let pinned = VersionCatalog::from_versions(offered)?;
        match self.versions_from {
            VersionsFrom::Builtin => self.versions = pinned,
            _ => {
                if !pinned.offers(&self.versions.default) {
                    self.versions.default = pinned.default.clone();
                }
                self.versions.versions = pinned.versions;
            }
        }
        Some(())
    }

    /// Offline: the files given, else the built-in catalog and no datacenters.
    pub fn from_files(given: &PlatformFiles) -> anyhow::Result<Platform> {
        let read = Read::files(given)?;
        Ok(combine(read, None).0)
    }

    /// For a command that talks to a cluster: the files given, else what KKP keeps in `namespace`
    /// there, else the built-in catalog. Fallbacks are said on stderr as `Warning:` lines.
    pub async fn for_cluster(
        given: &PlatformFiles,
        conn: &Connection,
        namespace: &str,
        printer: &Printer,
    ) -> anyhow::Result<Platform> {
        let read = Read::files(given)?;
        let configuration = match read.configuration {
            Some(_) => None,
            None => Some(cluster::read_configuration(conn, namespace).await?),
        };
        let seeds = match read.datacenters {
            Some(_) => None,
            None => Some(cluster::read_seeds(conn, namespace).await?),
        };
        let online = Online {
            namespace: namespace.to_owned(),
            configuration,
            seeds,
        };
        let (platform, warnings) = combine(read, Some(online));
        for w in warnings {
            printer.warning(w);
        }
        tracing::info!(versions = %platform.versions_from, datacenters = ?platform.datacenters.as_deref().map(Datacenters::len), "platform configuration");
        Ok(platform)
    }
}

/// What the files gave.
#[derive(Debug, Default)]
struct Read {
    configuration: Option<(PathBuf, Configuration)>,
    datacenters: Option<Datacenters>,
}

impl Read {
    fn files(given: &PlatformFiles) -> anyhow::Result<Read> {
        let configuration = match &given.configuration {
            Some(path) => Some((path.clone(), files::read_configuration(path)?)),
            None => None,
        };
        let datacenters = if given.seeds.is_empty() {
            None
        } else {
            Some(files::read_seeds(&given.seeds)?)
        };
        Ok(Read {
            configuration,
            datacenters,
        })
    }
}

/// What was read from the cluster; `None` where a file made reading unnecessary.
#[derive(Debug)]
struct Online {
    namespace: String,
    configuration: Option<Lookup<FoundConfiguration>>,
    seeds: Option<Lookup<Datacenters>>,
}

/// The platform in force, by precedence, and the warnings to give about fallbacks: one line when
/// the cluster has no readable configuration (the Seeds are then not mentioned again), one when
/// only its Seeds are missing.
fn combine(read: Read, online: Option<Online>) -> (Platform, Vec<String>) {
    let mut warnings = Vec::new();
    let mut platform = Platform::builtin();
    let namespace = online.as_ref().map(|o| o.namespace.clone()).unwrap_or_default();
    let (online_configuration, online_seeds) = match online {
        Some(o) => (o.configuration, o.seeds),
        None => (None, None),
    };
    let mut configuration_missing = false;
    match (read.configuration, online_configuration) {
        (Some((path, c)), _) => {
            platform.versions_from = VersionsFrom::File { path, name: c.name };
            platform.versions = c.versions;
            platform.expose_strategy = c.expose_strategy;
        }
        (None, Some(Lookup::Found(found))) => {
            if !found.ignored.is_empty() {
                warnings.push(format!(
                    "namespace {namespace} holds more than one KubermaticConfiguration; KKP uses exactly one, \
                     {:?} is used here and {} ignored",
                    found.configuration.name,
                    found
                        .ignored
                        .iter()
                        .map(|n| format!("{n:?}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            platform.versions_from = VersionsFrom::Cluster {
                namespace: namespace.clone(),
                name: found.configuration.name,
            };
            platform.versions = found.configuration.versions;
            platform.expose_strategy = found.configuration.expose_strategy;
        }
        (None, Some(Lookup::Unavailable(why))) => {
            configuration_missing = true;
            warnings.push(format!(
                "no KubermaticConfiguration readable in namespace {namespace} ({why}); checking against the \
                 built-in catalog of {BUILTIN_KKP_RELEASE}"
            ));
        }
        (None, None) => {}
    }
    match (read.datacenters, online_seeds) {
        (Some(dcs), _) => platform.datacenters = Some(Arc::new(dcs)),
        (None, Some(Lookup::Found(dcs))) => platform.datacenters = Some(Arc::new(dcs)),
        (None, Some(Lookup::Unavailable(why))) => {
            if !configuration_missing {
                warnings.push(format!(
                    "no Seed readable in namespace {namespace} ({why}); datacenters are not checked"
                ));
            }
        }
        (None, None) => {}
    }
    (platform, warnings)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::cluster::tests::{configuration, list_of, serve, status};
    use super::*;

    fn catalog(versions: serde_json::Value) -> Configuration {
        kkp_crds::platform::configuration(&configuration("kubermatic", versions)).unwrap()
    }

    fn seeds(dc: &str) -> Datacenters {
        let seed = json!({"apiVersion": "kubermatic.k8c.io/v1", "kind": "Seed", "metadata": {"name": "s"},
                          "spec": {"datacenters": {dc: {"spec": {"hetzner": {}}}}}});
        Datacenters::from_seeds([&seed]).unwrap()
    }

    fn online(configuration: Option<Lookup<FoundConfiguration>>, seeds: Option<Lookup<Datacenters>>) -> Online {
        Online {
            namespace: "kubermatic".into(),
            configuration,
            seeds,
        }
    }

    fn found(c: Configuration) -> Lookup<FoundConfiguration> {
        Lookup::Found(FoundConfiguration {
            configuration: c,
            ignored: Vec::new(),
        })
    }

    #[test]
    fn files_win_over_the_cluster_and_the_cluster_over_the_builtin_catalog() {
        let file = catalog(json!({"versions": ["v1.36.4"]}));
        let cluster = catalog(json!({"versions": ["v1.35.8"]}));
        let read = Read {
            configuration: Some(("config.yaml".into(), file)),
            datacenters: Some(seeds("from-file")),
        };
        let (p, warnings) = combine(
            read,
            Some(online(
                Some(found(cluster.clone())),
                Some(Lookup::Found(seeds("from-cluster"))),
            )),
        );
        assert_eq!(p.versions.versions, [Version::new(1, 36, 4)]);
        assert_eq!(
            p.versions_from.to_string(),
            "KubermaticConfiguration \"kubermatic\" of config.yaml"
        );
        assert!(p.context().datacenter("from-file").is_some());
        assert!(p.context().datacenter("from-cluster").is_none());
        assert!(warnings.is_empty());

        let (p, warnings) = combine(
            Read::default(),
            Some(online(Some(found(cluster)), Some(Lookup::Found(seeds("from-cluster"))))),
        );
        assert_eq!(p.versions.versions, [Version::new(1, 35, 8)]);
        assert_eq!(p.default_version(), &Version::new(1, 35, 8));
        assert!(p.context().datacenter("from-cluster").is_some());
        assert!(warnings.is_empty());

        let (p, warnings) = combine(Read::default(), None);
        assert_eq!(p.versions, VersionCatalog::default());
        assert!(p.datacenters.is_none() && warnings.is_empty());
    }

    #[test]
    fn an_unreadable_configuration_falls_back_to_the_builtin_catalog_with_one_warning() {
        let (p, warnings) = combine(
            Read::default(),
            Some(online(
                Some(Lookup::Unavailable("forbidden: no".into())),
                Some(Lookup::Unavailable("forbidden: no".into())),
            )),
        );
        assert_eq!(p.versions, VersionCatalog::default());
        assert_eq!(p.versions_from, VersionsFrom::Builtin);
        assert!(p.datacenters.is_none());
        assert_eq!(
            warnings,
            [format!(
                "no KubermaticConfiguration readable in namespace kubermatic (forbidden: no); checking against the \
                 built-in catalog of {BUILTIN_KKP_RELEASE}"
            )]
        );

        let read = Read {
            configuration: Some(("c.yaml".into(), catalog(json!({})))),
            datacenters: None,
        };
        let (_, warnings) = combine(
            read,
            Some(online(None, Some(Lookup::Unavailable("none in the namespace".into())))),
        );
        assert_eq!(
            warnings,
            ["no Seed readable in namespace kubermatic (none in the namespace); datacenters are not checked"]
        );
    }

    #[test]
    fn a_second_configuration_on_the_cluster_is_named() {
        let (p, warnings) = combine(
            Read::default(),
            Some(online(
                Some(Lookup::Found(FoundConfiguration {
                    configuration: catalog(json!({})),
                    ignored: vec!["other".into()],
                })),
                Some(Lookup::Found(seeds("dc"))),
            )),
        );
        assert_eq!(
            p.versions_from.to_string(),
            "KubermaticConfiguration \"kubermatic\" in namespace kubermatic"
        );
        assert_eq!(
            warnings,
            [
                "namespace kubermatic holds more than one KubermaticConfiguration; KKP uses exactly one, \"kubermatic\" \
              is used here and \"other\" ignored"
            ]
        );
    }

    #[test]
    fn offer_only_replaces_the_list_and_keeps_a_configuration_s_rules() {
        let mut builtin = Platform::builtin();
        builtin
            .offer_only(vec![Version::new(1, 34, 3), Version::new(1, 35, 2)])
            .unwrap();
        assert_eq!(builtin.default_version(), &Version::new(1, 35, 2));
        assert!(builtin.versions.incompatibilities.is_empty());

        let config = catalog(json!({
            "default": "v1.35.8", "versions": ["v1.35.8", "v1.36.4"],
            "providerIncompatibilities": [{"provider": "hetzner", "version": "1.36.*", "condition": "always", "operation": "CREATE"}]
        }));
        let mut p = combine(
            Read {
                configuration: Some(("c.yaml".into(), config)),
                datacenters: None,
            },
            None,
        )
        .0;
        p.offer_only(vec![Version::new(1, 36, 4)]).unwrap();
        assert_eq!(p.versions.versions, [Version::new(1, 36, 4)]);
        assert_eq!(
            p.default_version(),
            &Version::new(1, 36, 4),
            "1.35.8 is no longer offered"
        );
        assert_eq!(p.versions.incompatibilities.len(), 1);
        assert!(p.offer_only(Vec::new()).is_none());
    }

    #[tokio::test]
    async fn a_cluster_without_kkp_gives_the_builtin_catalog() {
        let printer = &Printer;
        let (conn, seen) = serve(vec![]).await;
        let p = Platform::for_cluster(&PlatformFiles::default(), &conn, "kubermatic", printer)
            .await
            .unwrap();
        assert_eq!(p.versions, VersionCatalog::default());
        assert!(p.datacenters.is_none());
        assert_eq!(seen.lock().unwrap().len(), 2, "one list each");
    }

    #[tokio::test]
    async fn the_cluster_s_configuration_and_seeds_are_used_and_other_errors_stop() {
        let printer = &Printer;
        let seed = json!({"apiVersion": "kubermatic.k8c.io/v1", "kind": "Seed", "metadata": {"name": "eu"},
                          "spec": {"datacenters": {"hetzner-fsn1": {"spec": {"hetzner": {}}}}}});
        let (conn, _) = serve(vec![
            (
                "kubermaticconfigurations",
                200,
                list_of(vec![configuration("kubermatic", json!({"versions": ["v1.36.4"]}))]),
            ),
            ("seeds", 200, list_of(vec![seed])),
        ])
        .await;
        let p = Platform::for_cluster(&PlatformFiles::default(), &conn, "kubermatic", printer)
            .await
            .unwrap();
        assert_eq!(p.versions.versions, [Version::new(1, 36, 4)]);
        assert!(p.context().datacenter("hetzner-fsn1").is_some());

        let (conn, _) = serve(vec![("seeds", 401, status(401, "Unauthorized", "Unauthorized"))]).await;
        let err = Platform::for_cluster(&PlatformFiles::default(), &conn, "kubermatic", printer)
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("reading the Seeds in namespace kubermatic: the credentials of context \"seed\""),
            "{err}"
        );
    }

    #[tokio::test]
    async fn with_both_files_the_cluster_is_not_asked() {
        let printer = &Printer;
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("c.yaml");
        std::fs::write(
            &config,
            configuration("kubermatic", json!({"versions": ["v1.36.4"]})).to_string(),
        )
        .unwrap();
        let seed = dir.path().join("s.json");
        std::fs::write(
            &seed,
            r#"{"apiVersion": "kubermatic.k8c.io/v1", "kind": "Seed", "metadata": {"name": "eu"}, "spec": {}}"#,
        )
        .unwrap();
        let (conn, seen) = serve(vec![]).await;
        let given = PlatformFiles {
            configuration: Some(config),
            seeds: vec![seed],
        };
        let p = Platform::for_cluster(&given, &conn, "kubermatic", printer)
            .await
            .unwrap();
        assert_eq!(p.versions.versions, [Version::new(1, 36, 4)]);
        assert!(p.datacenters.is_some_and(|d| d.is_empty()));
        assert!(seen.lock().unwrap().is_empty());
        let offline = Platform::from_files(&given).unwrap();
        assert!(matches!(offline.versions_from, VersionsFrom::File { .. }));
    }
}
