//! clusterctl's provider repositories, read locally: `--infrastructure NAME[:VERSION]` and
//! `--flavor` find `cluster-template[-FLAVOR].yaml` as `clusterctl generate cluster` finds it,
//! through the `providers:` of clusterctl's config file, the provider's local repository
//! (`file://` URLs) and the overrides folder, which takes precedence. Nothing is fetched over the
//! network: a remote repository is refused with what to do instead.

pub mod config;
pub mod env;
pub mod error;
pub mod namespace;
pub mod providers;
pub mod repository;

use std::path::PathBuf;

use self::config::ClusterctlConfig;
pub use self::env::Env;
pub use self::error::Error;
use self::providers::ProviderType;

/// The template a provider's repository gives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    pub path: PathBuf,
    /// The provider's label, such as `infrastructure-kubernetes`.
    pub label: String,
    pub version: String,
    /// `cluster-template.yaml` or `cluster-template-FLAVOR.yaml`.
    pub file: String,
    /// Whether the file comes from the overrides folder.
    pub overridden: bool,
}

impl Found {
    /// How messages name the template.
    pub fn describe(&self) -> String {
        format!(
            "template {} of {} {}{} ({})",
            self.file,
            self.label,
            self.version,
            if self.overridden {
                " from the overrides folder"
            } else {
                ""
            },
            self.path.display()
        )
    }
}

/// The template file name for a flavor, as clusterctl names it.
pub fn template_name(flavor: Option<&str>) -> String {
    match flavor {
        None | Some("") => "cluster-template.yaml".to_owned(),
        Some(f) => format!("cluster-template-{f}.yaml"),
    }
}

/// Finds the template of `--infrastructure SPEC` and `--flavor`: the provider among clusterctl's
/// and the config file's, its local repository, the version (the spec's, else the URL's), then
/// the file in the overrides folder if it is there, else in the repository's version folder.
pub fn find_template(config: &ClusterctlConfig, spec: &str, flavor: Option<&str>, env: Env) -> Result<Found, Error> {
    let (name, asked) = providers::parse_spec(spec)?;
    let flag = format!("--infrastructure {spec}");
    let all = config.providers()?;
    let Some(provider) = all
        .iter()
        .find(|p| p.name == name && p.kind == ProviderType::Infrastructure)
    else {
        let own = config.own_provider_names(ProviderType::Infrastructure);
        let built_in: Vec<String> = providers::built_in_infrastructure()
            .into_iter()
            .map(|p| p.name)
            .collect();
        return Err(Error::new(format!(
            "{flag}: no infrastructure provider is named {name:?}; {} lists {}, clusterctl itself knows {}. Add it \
             to the providers: of clusterctl's config file (name: {name}, type: InfrastructureProvider, url: \
             file:///.../infrastructure-{name}/VERSION/infrastructure-components.yaml)",
            config.describe(),
            if own.is_empty() {
                "none".to_owned()
            } else {
                own.join(", ")
            },
            built_in.join(", ")
        )));
    };
    let repo = repository::open(provider, env)?;
    let version = repo.version(asked.as_deref(), &flag)?;
    let file = template_name(flavor);
    if let Some(folder) = config.overrides_folder(env)? {
        let path = folder.join(&repo.label).join(&version).join(&file);
        match std::fs::metadata(&path) {
            Ok(meta) if meta.is_file() => {
                return Ok(Found {
                    path,
                    label: repo.label,
                    version,
                    file,
                    overridden: true,
                });
            }
            Ok(_) => {
                return Err(Error::new(format!(
                    "{flag}: the override {} is not a file",
                    path.display()
                )));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(Error::new(format!(
                    "{flag}: cannot read the override {}: {e}",
                    path.display()
                )));
            }
        }
    }
    let folder = repo.releases().join(&version);
    let path = folder.join(&file);
    if !path.is_file() {
        let flavors = flavors_in(&folder);
        let what = match flavor {
            Some(f) => format!("--flavor {f}"),
            None => flag.clone(),
        };
        return Err(Error::new(format!(
            "{what}: {} {version} has no {file} (in {}); {}",
            repo.label,
            folder.display(),
            if flavors.is_empty() {
                "it has no cluster templates".to_owned()
            } else {
                format!("its flavors are: {}", flavors.join(", "))
            }
        )));
    }
    Ok(Found {
        path,
        label: repo.label,
        version,
        file,
        overridden: false,
    })
}

/// The flavors of a version folder: `(default)` for `cluster-template.yaml`, else the FLAVOR of
/// each `cluster-template-FLAVOR.yaml`.
fn flavors_in(folder: &std::path::Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return Vec::new();
    };
    let mut flavors: Vec<String> = entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str().map(str::to_owned))
        .filter_map(|name| {
            if name == "cluster-template.yaml" {
                Some("(default, no --flavor)".to_owned())
            } else {
                name.strip_prefix("cluster-template-")
                    .and_then(|rest| rest.strip_suffix(".yaml"))
                    .map(str::to_owned)
            }
        })
        .collect();
    flavors.sort();
    flavors
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    /// A config file and a repository with two versions of the kubernetes provider.
    struct Setup {
        dir: tempfile::TempDir,
    }

    impl Setup {
        fn new(url_version: &str) -> Self {
            let dir = tempfile::tempdir().unwrap();
            let repo = dir.path().join("repo/infrastructure-kubernetes");
            for v in ["v0.3.0", "v0.4.0"] {
                write(&repo.join(v).join("infrastructure-components.yaml"), "");
                write(&repo.join(v).join("cluster-template.yaml"), &format!("# {v}\n"));
            }
            write(&repo.join("v0.4.0/cluster-template-ha.yaml"), "# ha\n");
            write(
                &dir.path().join("xdg/cluster-api/clusterctl.yaml"),
                &format!(
                    "providers:\n- name: kubernetes\n  type: InfrastructureProvider\n  url: \
                     file://{}/repo/infrastructure-kubernetes/{url_version}/infrastructure-components.yaml\n",
                    dir.path().display()
                ),
            );
            Setup { dir }
        }

        fn env(&self) -> impl Fn(&str) -> Option<String> + '_ {
            move |name: &str| match name {
                "XDG_CONFIG_HOME" => Some(self.dir.path().join("xdg").display().to_string()),
                "HOME" => Some(self.dir.path().join("home").display().to_string()),
                _ => None,
            }
        }

        fn find(&self, spec: &str, flavor: Option<&str>) -> Result<Found, Error> {
            let env = self.env();
            let config = config::load(None, &env).unwrap();
            find_template(&config, spec, flavor, &env)
        }
    }

    #[test]
    fn finds_the_latest_or_the_pinned_version() {
        let setup = Setup::new("latest");
        let found = setup.find("kubernetes", None).unwrap();
        assert_eq!((found.version.as_str(), found.overridden), ("v0.4.0", false));
        assert_eq!(
            found.path,
            setup
                .dir
                .path()
                .join("repo/infrastructure-kubernetes/v0.4.0/cluster-template.yaml")
        );
        let pinned = setup.find("kubernetes:v0.3.0", None).unwrap();
        assert_eq!(pinned.version, "v0.3.0");
        let ha = setup.find("kubernetes", Some("ha")).unwrap();
        assert_eq!(ha.file, "cluster-template-ha.yaml");

        let url_pinned = Setup::new("v0.3.0");
        assert_eq!(url_pinned.find("kubernetes", None).unwrap().version, "v0.3.0");
    }

    #[test]
    fn overrides_take_precedence() {
        let setup = Setup::new("latest");
        let over = setup
            .dir
            .path()
            .join("xdg/cluster-api/overrides/infrastructure-kubernetes/v0.4.0/cluster-template.yaml");
        write(&over, "# override\n");
        let found = setup.find("kubernetes", None).unwrap();
        assert!(found.overridden);
        assert_eq!(found.path, over);
        assert!(
            found.describe().contains("from the overrides folder"),
            "{}",
            found.describe()
        );
        let other_version = setup.find("kubernetes:v0.3.0", None).unwrap();
        assert!(!other_version.overridden, "overrides are per version");
    }

    #[test]
    fn missing_things_are_named() {
        let setup = Setup::new("latest");
        let err = setup.find("kubernetes", Some("huge")).unwrap_err().to_string();
        assert!(
            err.starts_with("--flavor huge: infrastructure-kubernetes v0.4.0 has no cluster-template-huge.yaml")
                && err.ends_with("its flavors are: (default, no --flavor), ha"),
            "{err}"
        );
        let err = setup.find("kubernetes:v0.9.0", None).unwrap_err().to_string();
        assert!(
            err.starts_with("--infrastructure kubernetes:v0.9.0: there is no version folder"),
            "{err}"
        );
        let err = setup.find("nosuch", None).unwrap_err().to_string();
        assert!(
            err.starts_with("--infrastructure nosuch: no infrastructure provider is named \"nosuch\"")
                && err.contains("lists kubernetes")
                && err.contains("knows aws, azure"),
            "{err}"
        );
        let err = setup.find("aws", None).unwrap_err().to_string();
        assert!(err.contains("which is remote"), "{err}");
    }

    #[test]
    fn template_names_follow_the_flavor() {
        assert_eq!(template_name(None), "cluster-template.yaml");
        assert_eq!(template_name(Some("ha")), "cluster-template-ha.yaml");
    }
}
