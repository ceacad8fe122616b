//! Which kubeconfig files the plugin reads and writes, chosen the way kubectl chooses them.
//!
//! `--kubeconfig` (or `KUBECONFIG`, which fills the same flag) may list several files separated
//! by the platform's path separator. Reading merges them with the first definition of each entry
//! winning, as kubectl does; files of a list that do not exist are skipped. Writing (`get
//! kubeconfig --merge`) goes to the first file of the list. Without either, `~/.kube/config` is
//! used.

use std::path::{Path, PathBuf};

use ::kube::config::Kubeconfig;

/// Why a kubeconfig could not be read or a context not chosen.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("no kubeconfig: {0} does not exist; pass --kubeconfig FILE or set KUBECONFIG")]
    DefaultMissing(PathBuf),
    #[error("kubeconfig file {0} does not exist (from --kubeconfig or KUBECONFIG)")]
    Missing(PathBuf),
    #[error("none of the kubeconfig files exist: {0}")]
    NoneExist(String),
    #[error("cannot find a home directory for ~/.kube/config; pass --kubeconfig FILE or set KUBECONFIG")]
    NoHome,
    #[error("cannot read kubeconfig {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: ::kube::config::KubeconfigError,
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

/// The kubeconfig files in effect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KubeconfigFiles {
    paths: Vec<PathBuf>,
    /// Whether the list came from `--kubeconfig`/`KUBECONFIG` rather than the default location.
    explicit: bool,
}

impl KubeconfigFiles {
    /// The files named by `--kubeconfig`/`KUBECONFIG`, or `~/.kube/config`.
    pub fn from_arg(arg: Option<&str>) -> Result<Self, ConfigError> {
        let paths: Vec<PathBuf> = arg
            .map(|a| std::env::split_paths(a).filter(|p| !p.as_os_str().is_empty()).collect())
            .unwrap_or_default();
        if !paths.is_empty() {
            return Ok(KubeconfigFiles { paths, explicit: true });
        }
        let home = std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .ok_or(ConfigError::NoHome)?;
        Ok(KubeconfigFiles {
            paths: vec![PathBuf::from(home).join(".kube").join("config")],
            explicit: false,
        })
    }

    /// Exactly these files, as if passed with `--kubeconfig`.
    #[cfg(test)]
    pub fn from_paths(paths: Vec<PathBuf>) -> Self {
        KubeconfigFiles { paths, explicit: true }
    }

    /// The file new entries are written to: the first of the list.
    pub fn write_target(&self) -> &Path {
        &self.paths[0]
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
            return Err(match (self.explicit, self.paths.len()) {
                (false, _) => ConfigError::DefaultMissing(self.paths[0].clone()),
                (true, 1) => ConfigError::Missing(self.paths[0].clone()),
                (true, _) => ConfigError::NoneExist(self.describe()),
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

    #[test]
    fn a_list_merges_with_the_first_definition_winning_and_skips_missing_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::write(&a, ONE).expect("write");
        std::fs::write(&b, TWO).expect("write");
        let list = std::env::join_paths([a.clone(), dir.path().join("missing"), b]).expect("join");
        let files = KubeconfigFiles::from_arg(list.to_str()).expect("files");
        assert_eq!(files.write_target(), a.as_path());
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
    fn unknown_contexts_and_missing_files_say_what_exists() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = dir.path().join("a");
        std::fs::write(&a, ONE).expect("write");
        let files = KubeconfigFiles::from_paths(vec![a]);
        let kc = files.load().expect("load");
        let err = select_context(&kc, Some("nope"), &files.describe()).expect_err("unknown");
        let text = err.to_string();
        assert!(
            text.contains("\"nope\"") && text.contains("available contexts: one"),
            "{text}"
        );

        let missing = KubeconfigFiles::from_paths(vec![dir.path().join("gone")]);
        assert!(matches!(missing.load(), Err(ConfigError::Missing(_))));
        let none = KubeconfigFiles::from_paths(vec![dir.path().join("x"), dir.path().join("y")]);
        assert!(matches!(none.load(), Err(ConfigError::NoneExist(_))));
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
