//! A provider's local repository, laid out as clusterctl lays it out:
//! `{basepath}/{provider-label}/{version}/{file}`, the provider's URL naming its components file
//! in one version folder (or in `latest`, the highest release among the folders). Remote
//! repositories are refused with what to do instead: nothing is fetched over the network.

use std::path::{Path, PathBuf};

use semver::Version;

use super::env::{Env, expand_env};
use super::error::Error;
use super::providers::Provider;

/// A provider's releases on the local file system.
#[derive(Debug)]
pub struct LocalRepository {
    /// The folder that holds `{provider-label}/`.
    pub basepath: PathBuf,
    pub label: String,
    /// The version the URL names, `latest` resolved.
    pub default_version: String,
}

/// Opens the repository a provider's URL points at (`${VARIABLES}` of the environment expanded).
pub fn open(provider: &Provider, env: Env) -> Result<LocalRepository, Error> {
    let flag = format!("--infrastructure {}", provider.name);
    let url = expand_env(&provider.url, env)
        .map_err(|e| Error::new(format!("{flag}: the provider's url {:?}: {e}", provider.url)))?;
    let path = local_path(&url).map_err(|why| match why {
        NotLocal::Remote => Error::new(remote_message(provider, &url)),
        NotLocal::Scheme(scheme) => Error::new(format!(
            "{flag}: the provider's url {url} has the scheme {scheme}:, which the plugin does not read; \
             use a file:// URL of the provider's components file in a local repository"
        )),
        NotLocal::Relative => Error::new(format!(
            "{flag}: the provider's url {url} must be an absolute path, such as file:///srv/capi/{}/v1.0.0/infrastructure-components.yaml",
            provider.label()
        )),
    })?;
    let label = provider.label();
    let layout = format!("{{basepath}}/{label}/{{version}}/{{components file}}");
    let parts: Vec<&str> = path.iter().filter_map(|p| p.to_str()).collect();
    if parts.len() < 4 {
        return Err(Error::new(format!(
            "{flag}: the provider's url {url} must point at its components file as {layout}"
        )));
    }
    let version = parts[parts.len() - 2];
    let folder = parts[parts.len() - 3];
    if folder != label {
        return Err(Error::new(format!(
            "{flag}: the provider's url {url} must have the folder {label} (the provider's type and name) as in \
             {layout}, not {folder}"
        )));
    }
    if version != "latest" && parse_version(version).is_none() {
        return Err(Error::new(format!(
            "{flag}: the provider's url {url} names the version folder {version:?}, which is neither \"latest\" nor \
             a semantic version such as v1.2.3 ({layout})"
        )));
    }
    let basepath = path
        .parent()
        .and_then(Path::parent)
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let mut repo = LocalRepository {
        basepath,
        label,
        default_version: version.to_owned(),
    };
    if version == "latest" {
        repo.default_version = repo.latest(&flag)?;
    }
    Ok(repo)
}

enum NotLocal {
    Remote,
    Scheme(String),
    Relative,
}

/// The file a `file://` URL, or a bare absolute path, names.
fn local_path(url: &str) -> Result<PathBuf, NotLocal> {
    let rest = if let Some(rest) = url.strip_prefix("file://") {
        rest.strip_prefix("localhost").unwrap_or(rest)
    } else if url.starts_with("https://") || url.starts_with("http://") {
        return Err(NotLocal::Remote);
    } else if let Some((scheme, _)) = url.split_once("://") {
        return Err(NotLocal::Scheme(scheme.to_owned()));
    } else {
        url
    };
    let decoded = percent_decode(rest);
    let path = PathBuf::from(decoded);
    if path.is_absolute() {
        Ok(path)
    } else {
        Err(NotLocal::Relative)
    }
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn remote_message(provider: &Provider, url: &str) -> String {
    let label = provider.label();
    let file = url
        .rsplit('/')
        .next()
        .filter(|f| !f.is_empty())
        .unwrap_or("infrastructure-components.yaml");
    format!(
        "--infrastructure {name}: the provider's repository is {url}, which is remote, and the plugin fetches \
         nothing over the network. Make it local: download the release's files ({file}, metadata.yaml and the \
         cluster-template*.yaml files) into a folder laid out as {{basepath}}/{label}/{{version}}/ (such as \
         ~/capi-repository/{label}/v1.2.3/), then point the provider at it in clusterctl's config file \
         (~/.config/cluster-api/clusterctl.yaml, or --config FILE):\n  providers:\n  - name: {name}\n    \
         type: {kind}\n    url: file:///home/me/capi-repository/{label}/latest/{file}",
        name = provider.name,
        kind = provider.kind.name(),
    )
}

/// A version folder's name read as clusterctl reads it: semantic, with or without a leading `v`.
fn parse_version(name: &str) -> Option<Version> {
    Version::parse(name.strip_prefix('v').unwrap_or(name)).ok()
}

impl LocalRepository {
    /// The folder of the provider's releases.
    pub fn releases(&self) -> PathBuf {
        self.basepath.join(&self.label)
    }

    /// The version folders whose names are semantic versions, sorted by name.
    pub fn versions(&self, flag: &str) -> Result<Vec<String>, Error> {
        let dir = self.releases();
        let entries = std::fs::read_dir(&dir)
            .map_err(|e| Error::new(format!("{flag}: cannot list the versions in {}: {e}", dir.display())))?;
        let mut names: Vec<String> = entries
            .filter_map(Result::ok)
            .filter(|e| e.path().is_dir())
            .filter_map(|e| e.file_name().to_str().map(str::to_owned))
            .filter(|name| parse_version(name).is_some())
            .collect();
        names.sort();
        Ok(names)
    }

    /// The highest release, or the highest pre-release when there is no release, as clusterctl
    /// picks `latest`.
    pub fn latest(&self, flag: &str) -> Result<String, Error> {
        let names = self.versions(flag)?;
        let highest = |pre: bool| {
            let mut best: Option<(Version, &String)> = None;
            for name in &names {
                let Some(v) = parse_version(name) else { continue };
                if v.pre.is_empty() == pre {
                    continue;
                }
                if best.as_ref().is_none_or(|(b, _)| v.cmp_precedence(b).is_gt()) {
                    best = Some((v, name));
                }
            }
            best.map(|(_, name)| name.clone())
        };
        highest(false).or_else(|| highest(true)).ok_or_else(|| {
            Error::new(format!(
                "{flag}: no version folder in {} is named as a semantic version (such as v1.2.3), so there is no latest",
                self.releases().display()
            ))
        })
    }

    /// The version to use: the one asked for (`latest` resolved), else the URL's; its folder must exist.
    pub fn version(&self, asked: Option<&str>, flag: &str) -> Result<String, Error> {
        let version = match asked {
            None => self.default_version.clone(),
            Some("latest") => self.latest(flag)?,
            Some(v) => v.to_owned(),
        };
        let dir = self.releases().join(&version);
        if !dir.is_dir() {
            let known = self.versions(flag).unwrap_or_default();
            return Err(Error::new(format!(
                "{flag}: there is no version folder {} in the provider's repository; {}",
                dir.display(),
                if known.is_empty() {
                    "it has no version folders".to_owned()
                } else {
                    format!("its versions are: {}", known.join(", "))
                }
            )));
        }
        Ok(version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::clusterctl::providers::ProviderType;

    fn provider(url: &str) -> Provider {
        Provider {
            name: "kubernetes".into(),
            url: url.into(),
            kind: ProviderType::Infrastructure,
        }
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn repo_with(versions: &[&str]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for v in versions {
            std::fs::create_dir_all(dir.path().join("infrastructure-kubernetes").join(v)).unwrap();
        }
        std::fs::write(dir.path().join("infrastructure-kubernetes/notes.txt"), "").unwrap();
        dir
    }

    fn url(dir: &Path, version: &str) -> String {
        format!(
            "file://{}/infrastructure-kubernetes/{version}/infrastructure-components.yaml",
            dir.display()
        )
    }

    #[test]
    fn latest_is_the_highest_release_by_semver() {
        let dir = repo_with(&["v0.9.0", "v0.10.0", "v0.11.0-rc.1", "v0.3.0", "dev", "v1"]);
        let repo = open(&provider(&url(dir.path(), "latest")), &no_env).unwrap();
        assert_eq!(
            repo.default_version, "v0.10.0",
            "0.10 is above 0.9, and pre-releases wait"
        );
        assert_eq!(repo.basepath, dir.path());
        assert_eq!(
            repo.versions("f").unwrap(),
            ["v0.10.0", "v0.11.0-rc.1", "v0.3.0", "v0.9.0"]
        );

        let pre = repo_with(&["v2.0.0-alpha.1", "v2.0.0-beta.0"]);
        let repo = open(&provider(&url(pre.path(), "latest")), &no_env).unwrap();
        assert_eq!(
            repo.default_version, "v2.0.0-beta.0",
            "without releases, the highest pre-release"
        );

        let none = repo_with(&["dev"]);
        let err = open(&provider(&url(none.path(), "latest")), &no_env)
            .unwrap_err()
            .to_string();
        assert!(err.contains("no version folder in"), "{err}");
    }

    #[test]
    fn pinned_versions_must_have_a_folder() {
        let dir = repo_with(&["v0.3.0", "v0.4.0"]);
        let repo = open(&provider(&url(dir.path(), "v0.3.0")), &no_env).unwrap();
        assert_eq!(repo.default_version, "v0.3.0");
        assert_eq!(repo.version(None, "f").unwrap(), "v0.3.0");
        assert_eq!(repo.version(Some("v0.4.0"), "f").unwrap(), "v0.4.0");
        assert_eq!(repo.version(Some("latest"), "f").unwrap(), "v0.4.0");
        let err = repo
            .version(Some("v9.9.9"), "--infrastructure kubernetes:v9.9.9")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("--infrastructure kubernetes:v9.9.9: there is no version folder")
                && err.ends_with("its versions are: v0.3.0, v0.4.0"),
            "{err}"
        );
    }

    #[test]
    fn urls_must_be_local_and_laid_out() {
        let dir = repo_with(&["v0.3.0"]);
        let plain = format!("{}/infrastructure-kubernetes/v0.3.0/c.yaml", dir.path().display());
        assert_eq!(open(&provider(&plain), &no_env).unwrap().default_version, "v0.3.0");
        let env = |name: &str| (name == "REPO").then(|| dir.path().display().to_string());
        let templated = provider("file://${REPO}/infrastructure-kubernetes/v0.3.0/c.yaml");
        assert_eq!(open(&templated, &env).unwrap().basepath, dir.path());
        let encoded = provider("file:///a%20b/infrastructure-kubernetes/v0.3.0/c.yaml");
        assert_eq!(open(&encoded, &no_env).unwrap().basepath, PathBuf::from("/a b"));

        let cases = [
            (
                "https://github.com/dippynark/cluster-api-provider-kubernetes/releases/latest/infrastructure-components.yaml",
                "which is remote",
            ),
            ("s3://bucket/infrastructure-kubernetes/v1.0.0/c.yaml", "the scheme s3:"),
            (
                "file://repo/infrastructure-kubernetes/v1.0.0/c.yaml",
                "must be an absolute path",
            ),
            (
                "file:///r/infrastructure-aws/v1.0.0/c.yaml",
                "must have the folder infrastructure-kubernetes",
            ),
            (
                "file:///r/infrastructure-kubernetes/main/c.yaml",
                "the version folder \"main\"",
            ),
            ("file:///c.yaml", "must point at its components file"),
            ("file://${UNSET}/infrastructure-kubernetes/v1.0.0/c.yaml", "UNSET"),
        ];
        for (bad, says) in cases {
            let err = open(&provider(bad), &no_env).unwrap_err().to_string();
            assert!(err.starts_with("--infrastructure kubernetes"), "{bad}: {err}");
            assert!(err.contains(says), "{bad}: {err}");
        }
    }

    #[test]
    fn remote_repositories_say_how_to_make_them_local() {
        let err = open(
            &provider("https://github.com/org/repo/releases/latest/infrastructure-components.yaml"),
            &no_env,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("fetches nothing over the network"), "{err}");
        assert!(err.contains("{basepath}/infrastructure-kubernetes/{version}/"), "{err}");
        assert!(err.contains("url: file:///"), "{err}");
        assert!(err.contains("type: InfrastructureProvider"), "{err}");
    }
}
