//! Which kubeconfig files the plugin reads and writes, chosen the way kubectl chooses them.
//!
//! `--kubeconfig` names exactly one file, which must exist. Without it, `KUBECONFIG` may list
//! several files separated by the platform's path separator (`:` on Unix): reading merges them
//! with the first definition of each entry winning, and skips files that do not exist. Without
//! either, `~/.kube/config` is used.
//!
//! Writing (`get kubeconfig --merge`) follows kubectl's rule for the file to modify: the
//! `--kubeconfig` file; else, for a `KUBECONFIG` list, its only file, or the first file of the
//! list that exists, or the last file when none exists; else `~/.kube/config`.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use kube::config::Kubeconfig;

/// Why a kubeconfig could not be read or a context not chosen.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("no kubeconfig: {0} does not exist; pass --kubeconfig FILE or set KUBECONFIG")]
    DefaultMissing(PathBuf),
    #[error("kubeconfig file {path} does not exist (from {origin})")]
    Missing { path: PathBuf, origin: Origin },
    #[error("none of the kubeconfig files in KUBECONFIG exist: {0}")]
    NoneExist(String),
    #[error("cannot find a home directory for ~/.kube/config; pass --kubeconfig FILE or set KUBECONFIG")]
    NoHome,
    #[error("cannot read kubeconfig {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: kube::config::KubeconfigError,
    },
    #[error("context {context:?} not found in kubeconfig {files}; available contexts: {available}")]
    ContextNotFound {
        context: String,
        files: String,
        available: String,
    },
    #[error("kubeconfig {files} sets no current context; pass --context NAME (available contexts: {available})")]
    NoCurrentContext { files: String, available: String },
}

/// Where the kubeconfig files in effect were named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// `--kubeconfig FILE`: one file.
    Flag,
    /// The `KUBECONFIG` environment variable: a list.
    Env,
    /// `~/.kube/config`.
    Default,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Origin::Flag => "--kubeconfig",
            Origin::Env => "KUBECONFIG",
            Origin::Default => "the default location",
        })
    }
}

/// The kubeconfig files in effect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KubeconfigFiles {
    paths: Vec<PathBuf>,
    origin: Origin,
}

impl KubeconfigFiles {
    /// The file of `--kubeconfig`, else the files listed in `KUBECONFIG`, else `~/.kube/config`.
    pub fn from_flag(flag: Option<&str>) -> Result<Self, ConfigError> {
        Self::from_sources(flag, std::env::var_os("KUBECONFIG"), std::env::var_os("HOME"))
    }

    /// As [`Self::from_flag`], with the environment given.
    fn from_sources(flag: Option<&str>, env: Option<OsString>, home: Option<OsString>) -> Result<Self, ConfigError> {
        if let Some(file) = flag.filter(|f| !f.is_empty()) {
            return Ok(KubeconfigFiles {
                paths: vec![PathBuf::from(file)],
                origin: Origin::Flag,
            });
        }
        let mut paths: Vec<PathBuf> = Vec::new();
        for path in env.as_deref().map(std::env::split_paths).into_iter().flatten() {
            // kubectl skips empty entries and reads a file listed twice once.
            if !path.as_os_str().is_empty() && !paths.contains(&path) {
                paths.push(path);
            }
        }
        if !paths.is_empty() {
            return Ok(KubeconfigFiles {
                paths,
                origin: Origin::Env,
            });
        }
        let home = home.filter(|h| !h.is_empty()).ok_or(ConfigError::NoHome)?;
        Ok(KubeconfigFiles {
            paths: vec![PathBuf::from(home).join(".kube").join("config")],
            origin: Origin::Default,
        })
    }

    /// Exactly this file, as if passed with `--kubeconfig`.
    #[cfg(test)]
    pub fn from_path(path: PathBuf) -> Self {
        KubeconfigFiles {
            paths: vec![path],
            origin: Origin::Flag,
        }
    }

    /// The file new entries are written to, by kubectl's rule: the one file of `--kubeconfig` or
    /// the default location; for a `KUBECONFIG` list, the first file that exists, else the last.
    pub fn write_target(&self) -> &Path {
        match self.origin {
            Origin::Flag | Origin::Default => &self.paths[0],
            Origin::Env => self
                .paths
                .iter()
                .find(|p| p.exists())
                .or(self.paths.last())
                .unwrap_or(&self.paths[0]),
        }
    }

    /// The files in use other than [`Self::write_target`]: their names count as taken when merging.
    pub fn others(&self) -> impl Iterator<Item = &Path> {
        let target = self.write_target();
        self.paths.iter().map(PathBuf::as_path).filter(move |p| *p != target)
    }

    /// The files for messages, joined as in `KUBECONFIG`.
    pub fn describe(&self) -> String {
        self.paths
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(":")
    }

    /// Reads and merges the files; the first definition of an entry wins.
    pub fn load(&self) -> Result<Kubeconfig, ConfigError> {
        let existing: Vec<&PathBuf> = self.paths.iter().filter(|p| p.exists()).collect();
        if existing.is_empty() {
            return Err(match (self.origin, self.paths.len()) {
                (Origin::Default, _) => ConfigError::DefaultMissing(self.paths[0].clone()),
                (origin, 1) => ConfigError::Missing {
                    path: self.paths[0].clone(),
                    origin,
                },
                (_, _) => ConfigError::NoneExist(self.describe()),
            });
        }
        let mut merged: Option<Kubeconfig> = None;
        for path in existing {
            let next = Kubeconfig::read_from(path).map_err(|source| ConfigError::Read {
                path: path.clone(),
                source,
            })?;
            merged = Some(match merged {
                None => next,
                Some(m) => m.merge(next).map_err(|source| ConfigError::Read {
                    path: path.clone(),
                    source,
                })?,
            });
        }
        Ok(merged.unwrap_or_default())
    }
}

/// The context to use: `--context`, else the kubeconfig's current context. It must exist.
pub fn select_context(kubeconfig: &Kubeconfig, flag: Option<&str>, files: &str) -> Result<String, ConfigError> {
    let available = || {
        let names: Vec<&str> = kubeconfig.contexts.iter().map(|c| c.name.as_str()).collect();
        if names.is_empty() {
            "none".to_owned()
        } else {
            names.join(", ")
        }
    };
    let wanted = match flag.filter(|c| !c.is_empty()) {
        Some(c) => c.to_owned(),
        None => match kubeconfig.current_context.as_deref().filter(|c| !c.is_empty()) {
            Some(c) => c.to_owned(),
            None => {
                return Err(ConfigError::NoCurrentContext {
                    files: files.to_owned(),
                    available: available(),
                });
            }
        },
    };
    if kubeconfig.contexts.iter().any(|c| c.name == wanted) {
        Ok(wanted)
    } else {
        Err(ConfigError::ContextNotFound {
            context: wanted,
            files: files.to_owned(),
            available: available(),
        })
    }
}

/// The namespace of a context, if it sets one.
pub fn context_namespace(kubeconfig: &Kubeconfig, context: &str) -> Option<String> {
    kubeconfig
        .contexts
        .iter()
        .find(|c| c.name == context)
        .and_then(|c| c.context.as_ref())
        .and_then(|c| c.namespace.clone())
        .filter(|n| !n.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ONE: &str = "apiVersion: v1\nkind: Config\nclusters:\n- name: one\n  cluster: {server: 'https://one:6443'}\n\
users:\n- name: u\n  user: {token: a}\ncontexts:\n- name: one\n  context: {cluster: one, user: u, namespace: ns1}\n\
current-context: one\n";
    const TWO: &str = "apiVersion: v1\nkind: Config\nclusters:\n- name: one\n  cluster: {server: 'https://other:6443'}\n\
- name: two\n  cluster: {server: 'https://two:6443'}\nusers:\n- name: u\n  user: {token: b}\ncontexts:\n\
- name: two\n  context: {cluster: two, user: u}\ncurrent-context: two\n";

    fn list(paths: &[&Path]) -> OsString {
        std::env::join_paths(paths).expect("join")
    }

    #[test]
    fn kubeconfig_env_is_a_list_that_merges_with_the_first_definition_winning_and_skips_missing_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::write(&a, ONE).expect("write");
        std::fs::write(&b, TWO).expect("write");
        let missing = dir.path().join("missing");
        let files = KubeconfigFiles::from_sources(None, Some(list(&[&a, &missing, &b, &a])), None).expect("files");
        assert_eq!(files.origin, Origin::Env);
        assert_eq!(files.paths, [a.clone(), missing, b], "a file listed twice is read once");
        let merged = files.load().expect("load");
        assert_eq!(merged.current_context.as_deref(), Some("one"));
        assert_eq!(merged.clusters.len(), 2);
        let one = merged.clusters.iter().find(|c| c.name == "one").expect("one");
        assert_eq!(
            one.cluster.as_ref().and_then(|c| c.server.as_deref()),
            Some("https://one:6443")
        );
        assert_eq!(select_context(&merged, None, "x").expect("current"), "one");
        assert_eq!(select_context(&merged, Some("two"), "x").expect("flag"), "two");
        assert_eq!(context_namespace(&merged, "one").as_deref(), Some("ns1"));
        assert_eq!(context_namespace(&merged, "two"), None);
    }

    #[test]
    fn the_kubeconfig_flag_names_one_file_even_with_a_separator_in_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::write(&a, ONE).expect("write");
        std::fs::write(&b, TWO).expect("write");
        let joined = list(&[&a, &b]);
        let env = Some(OsString::from(b.as_os_str()));
        let files = KubeconfigFiles::from_sources(joined.to_str(), env.clone(), None).expect("files");
        assert_eq!(files.origin, Origin::Flag);
        assert_eq!(files.paths, [PathBuf::from(&joined)]);
        assert!(
            matches!(
                files.load(),
                Err(ConfigError::Missing {
                    origin: Origin::Flag,
                    ..
                })
            ),
            "a:b is one (missing) file, not a list"
        );
        let one = KubeconfigFiles::from_sources(a.to_str(), env, None).expect("files");
        assert_eq!(one.write_target(), a.as_path(), "the flag beats KUBECONFIG");
        assert_eq!(one.load().expect("load").clusters.len(), 1);
    }

    #[test]
    fn without_flag_or_env_the_default_file_is_used() {
        let files = KubeconfigFiles::from_sources(None, Some(OsString::new()), Some("/home/u".into())).expect("files");
        assert_eq!(files.origin, Origin::Default);
        assert_eq!(files.write_target(), Path::new("/home/u/.kube/config"));
        assert!(matches!(
            KubeconfigFiles::from_sources(None, None, None),
            Err(ConfigError::NoHome)
        ));
    }

    #[test]
    fn merging_writes_to_the_first_existing_file_of_kubeconfig_else_the_last() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (a, b, c) = (dir.path().join("a"), dir.path().join("b"), dir.path().join("c"));
        let env = |paths: &[&Path]| KubeconfigFiles::from_sources(None, Some(list(paths)), None).expect("files");
        assert_eq!(env(&[&a, &b, &c]).write_target(), c.as_path(), "none exists: the last");
        assert_eq!(env(&[&a]).write_target(), a.as_path(), "a list of one: that file");
        std::fs::write(&b, ONE).expect("write");
        assert_eq!(env(&[&a, &b, &c]).write_target(), b.as_path(), "the first that exists");
        std::fs::write(&c, TWO).expect("write");
        assert_eq!(env(&[&a, &c, &b]).write_target(), c.as_path());
        let files = env(&[&a, &c, &b]);
        let others: Vec<&Path> = files.others().collect();
        assert_eq!(others, [a.as_path(), b.as_path()], "the other files of the list");
        let flag = KubeconfigFiles::from_sources(a.to_str(), Some(list(&[&b])), None).expect("files");
        assert_eq!(
            flag.write_target(),
            a.as_path(),
            "--kubeconfig is written even when missing"
        );
    }

    #[test]
    fn unknown_contexts_and_missing_files_say_what_exists() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = dir.path().join("a");
        std::fs::write(&a, ONE).expect("write");
        let files = KubeconfigFiles::from_path(a);
        let kc = files.load().expect("load");
        let err = select_context(&kc, Some("nope"), &files.describe()).expect_err("unknown");
        let text = err.to_string();
        assert!(
            text.contains("\"nope\"") && text.contains("available contexts: one"),
            "{text}"
        );

        let gone = dir.path().join("gone");
        let missing = KubeconfigFiles::from_path(gone.clone());
        let err = missing.load().expect_err("missing");
        assert_eq!(
            err.to_string(),
            format!("kubeconfig file {} does not exist (from --kubeconfig)", gone.display())
        );
        let listed = KubeconfigFiles::from_sources(None, Some(gone.clone().into_os_string()), None).expect("files");
        assert!(matches!(
            listed.load(),
            Err(ConfigError::Missing {
                origin: Origin::Env,
                ..
            })
        ));
        let none =
            KubeconfigFiles::from_sources(None, Some(list(&[&dir.path().join("x"), &dir.path().join("y")])), None)
                .expect("files");
        assert!(matches!(none.load(), Err(ConfigError::NoneExist(_))));
        let default = KubeconfigFiles::from_sources(None, None, Some(dir.path().into())).expect("files");
        assert!(matches!(default.load(), Err(ConfigError::DefaultMissing(_))));
    }

    #[test]
    fn no_current_context_asks_for_the_flag() {
        let kc = Kubeconfig::from_yaml("apiVersion: v1\nkind: Config\ncontexts:\n- name: a\n  context: {cluster: c}\n")
            .expect("parse");
        let err = select_context(&kc, None, "f").expect_err("no current");
        assert!(
            err.to_string().contains("pass --context NAME (available contexts: a)"),
            "{err}"
        );
    }
}
