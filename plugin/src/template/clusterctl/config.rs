//! clusterctl's configuration file, found where clusterctl looks: `--config FILE`, else the first
//! of `clusterctl.{json,yaml,yml}` in `$XDG_CONFIG_HOME/cluster-api/` and then in the legacy
//! `~/.cluster-api/`. The plugin takes its `providers:` list, its `overridesFolder` and its
//! top-level variables; its keys are case-insensitive, as clusterctl's are.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::Value;

use super::env::{Env, expand_env};
use super::error::Error;
use super::providers::{self, Provider};
use crate::template::envsubst::is_valid_name;

/// Keys of the file that are settings of clusterctl's, not template variables.
const SETTINGS: [&str; 4] = ["providers", "images", "cert-manager", "overridesfolder"];

/// Extensions clusterctl tries, in its order, among those the plugin reads.
const EXTENSIONS: [&str; 3] = ["json", "yaml", "yml"];

/// What the plugin takes from clusterctl's config file (all empty without one).
#[derive(Debug, Default)]
pub struct ClusterctlConfig {
    /// The file read, if one was found.
    pub path: Option<PathBuf>,
    /// How messages name the file: `--config FILE` or `clusterctl config file PATH`.
    pub origin: String,
    /// The places looked in when no `--config` was given.
    pub searched: Vec<PathBuf>,
    providers: Option<Value>,
    overrides_folder: Option<String>,
    /// The top-level variables, by upper-cased name.
    pub variables: BTreeMap<String, String>,
}

/// `$XDG_CONFIG_HOME`, else the platform's default (`~/.config`; on macOS
/// `~/Library/Application Support`, as clusterctl has it there).
pub fn config_home(env: Env) -> Option<PathBuf> {
    if let Some(dir) = env("XDG_CONFIG_HOME").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    let home = PathBuf::from(env("HOME").filter(|h| !h.is_empty())?);
    Some(if cfg!(target_os = "macos") {
        home.join("Library").join("Application Support")
    } else {
        home.join(".config")
    })
}

/// The folders searched for `clusterctl.yaml`, first match wins.
pub fn search_folders(env: Env) -> Vec<PathBuf> {
    let mut folders = Vec::new();
    if let Some(dir) = config_home(env) {
        folders.push(dir.join("cluster-api"));
    }
    if let Some(home) = env("HOME").filter(|h| !h.is_empty()) {
        folders.push(PathBuf::from(home).join(".cluster-api"));
    }
    folders
}

/// Reads the file `--config` names, or the first default one that exists.
pub fn load(explicit: Option<&str>, env: Env) -> Result<ClusterctlConfig, Error> {
    if let Some(given) = explicit {
        if given.starts_with("https://") || given.starts_with("http://") {
            return Err(Error::new(format!(
                "--config {given}: clusterctl config files are read from local files only (nothing is fetched \
                 over the network); download it and give its path"
            )));
        }
        let origin = format!("--config {given}");
        let text =
            std::fs::read_to_string(given).map_err(|e| Error::new(format!("{origin}: cannot read the file: {e}")))?;
        return parse(&text, Some(PathBuf::from(given)), origin);
    }
    let folders = search_folders(env);
    let mut searched = Vec::new();
    for folder in &folders {
        for ext in EXTENSIONS {
            let path = folder.join(format!("clusterctl.{ext}"));
            searched.push(path.clone());
            if path.is_file() {
                let origin = format!("clusterctl config file {}", path.display());
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| Error::new(format!("{origin}: cannot read the file: {e}")))?;
                return parse(&text, Some(path), origin);
            }
        }
    }
    Ok(ClusterctlConfig {
        origin: "clusterctl config file".to_owned(),
        searched,
        ..ClusterctlConfig::default()
    })
}

fn parse(text: &str, path: Option<PathBuf>, origin: String) -> Result<ClusterctlConfig, Error> {
    let doc: Value = if text.trim().is_empty() {
        Value::Null
    } else {
        serde_yaml::from_str(text).map_err(|e| Error::new(format!("{origin} is not valid YAML: {e}")))?
    };
    let map = match doc {
        Value::Object(map) => map,
        Value::Null => serde_json::Map::new(),
        _ => {
            return Err(Error::new(format!(
                "{origin} must hold a map (providers:, overridesFolder:, VARIABLE: value)"
            )));
        }
    };
    let mut config = ClusterctlConfig {
        path,
        origin,
        ..ClusterctlConfig::default()
    };
    for (key, value) in map {
        let lower = key.to_ascii_lowercase();
        if lower == "providers" {
            config.providers = Some(value);
        } else if lower == "overridesfolder" {
            config.overrides_folder = match value {
                Value::String(s) => Some(s),
                Value::Null => None,
                other => {
                    return Err(Error::new(format!(
                        "{}: overridesFolder must be a folder path, not {other}",
                        config.origin
                    )));
                }
            };
        } else if !SETTINGS.contains(&lower.as_str()) && is_valid_name(&key) {
            let text = match value {
                Value::Null => continue,
                Value::String(s) => s,
                other => other.to_string(),
            };
            config.variables.insert(key.to_ascii_uppercase(), text);
        }
    }
    Ok(config)
}

impl ClusterctlConfig {
    /// The providers clusterctl would know: its built-in ones and the file's, every entry of the
    /// file checked.
    pub fn providers(&self) -> Result<Vec<Provider>, Error> {
        let entries = providers::parse_entries(self.providers.as_ref(), &self.origin)?;
        Ok(providers::merged(entries))
    }

    /// The names of the file's own providers of a type, for messages.
    pub fn own_provider_names(&self, kind: providers::ProviderType) -> Vec<String> {
        providers::parse_entries(self.providers.as_ref(), &self.origin)
            .map(|entries| entries.into_iter().filter(|p| p.kind == kind).map(|p| p.name).collect())
            .unwrap_or_default()
    }

    /// Where overrides are looked for: `OVERRIDESFOLDER` from the environment, else the file's
    /// `overridesFolder` (both with `${VARIABLES}` of the environment expanded), else
    /// `$XDG_CONFIG_HOME/cluster-api/overrides`.
    pub fn overrides_folder(&self, env: Env) -> Result<Option<PathBuf>, Error> {
        let given = env("OVERRIDESFOLDER")
            .map(|v| (v, "the environment variable OVERRIDESFOLDER".to_owned()))
            .or_else(|| {
                self.overrides_folder
                    .clone()
                    .map(|v| (v, format!("{}: overridesFolder", self.origin)))
            })
            .filter(|(v, _)| !v.trim().is_empty());
        match given {
            Some((value, what)) => {
                let expanded = expand_env(&value, env).map_err(|e| Error::new(format!("{what}: {e}")))?;
                let path = expanded.strip_prefix("file://").unwrap_or(&expanded);
                Ok(Some(PathBuf::from(path)))
            }
            None => Ok(config_home(env).map(|d| d.join("cluster-api").join("overrides"))),
        }
    }

    /// How messages say where the providers come from.
    pub fn describe(&self) -> String {
        match &self.path {
            Some(_) => self.origin.clone(),
            None => format!(
                "no clusterctl config file (looked for {}; --config names one)",
                self.searched
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn env_of(pairs: Vec<(&'static str, String)>) -> impl Fn(&str) -> Option<String> {
        move |name: &str| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| v.clone())
    }

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn xdg_folder_wins_over_the_legacy_one() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        let xdg = dir.path().join("xdg");
        write(&home.join(".cluster-api/clusterctl.yaml"), "FROM: legacy\n");
        let env = env_of(vec![
            ("HOME", home.display().to_string()),
            ("XDG_CONFIG_HOME", xdg.display().to_string()),
        ]);
        let legacy = load(None, &env).unwrap();
        assert_eq!(legacy.variables["FROM"], "legacy");
        assert_eq!(legacy.path, Some(home.join(".cluster-api/clusterctl.yaml")));

        write(&xdg.join("cluster-api/clusterctl.yml"), "FROM: xdg-yml\n");
        assert_eq!(load(None, &env).unwrap().variables["FROM"], "xdg-yml");
        write(&xdg.join("cluster-api/clusterctl.yaml"), "FROM: xdg-yaml\n");
        assert_eq!(
            load(None, &env).unwrap().variables["FROM"],
            "xdg-yaml",
            "yaml comes before yml, as in clusterctl"
        );

        let explicit = dir.path().join("mine.yaml");
        write(&explicit, "FROM: flag\n");
        let given = load(Some(&explicit.display().to_string()), &env).unwrap();
        assert_eq!(given.variables["FROM"], "flag");
        assert!(given.origin.starts_with("--config "));
    }

    #[test]
    fn without_a_file_nothing_is_set() {
        let dir = tempfile::tempdir().unwrap();
        let env = env_of(vec![("HOME", dir.path().display().to_string())]);
        let config = load(None, &env).unwrap();
        assert!(config.path.is_none() && config.variables.is_empty());
        assert_eq!(config.searched.len(), 6);
        assert!(
            config.describe().contains(".cluster-api/clusterctl.yaml"),
            "{}",
            config.describe()
        );
    }

    #[test]
    fn variables_skip_settings_and_keep_scalars_as_text() {
        let config = parse(
            "providers: []\nimages: {all: {repository: r}}\ncert-manager: {url: u}\noverridesFolder: /o\n\
             AWS_REGION: eu-central-1\nCOUNT: 3\nEXP_FLAG: true\nlower_case: x\nNOTHING:\nLIST: [a]\n",
            None,
            "f".into(),
        )
        .unwrap();
        let names: Vec<&str> = config.variables.keys().map(String::as_str).collect();
        assert_eq!(names, ["AWS_REGION", "COUNT", "EXP_FLAG", "LIST", "LOWER_CASE"]);
        assert_eq!(config.variables["COUNT"], "3");
        assert_eq!(config.variables["LIST"], r#"["a"]"#);
        assert_eq!(config.overrides_folder.as_deref(), Some("/o"));
    }

    #[test]
    fn bad_files_name_the_flag_or_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let env = env_of(vec![]);
        let missing = dir.path().join("none.yaml").display().to_string();
        let err = load(Some(&missing), &env).unwrap_err().to_string();
        assert!(
            err.starts_with(&format!("--config {missing}: cannot read the file")),
            "{err}"
        );
        let broken = dir.path().join("broken.yaml");
        write(&broken, "providers: [\n");
        let err = load(Some(&broken.display().to_string()), &env).unwrap_err().to_string();
        assert!(err.contains("is not valid YAML"), "{err}");
        let list = dir.path().join("list.yaml");
        write(&list, "- a\n");
        let err = load(Some(&list.display().to_string()), &env).unwrap_err().to_string();
        assert!(err.contains("must hold a map"), "{err}");
        let err = load(Some("https://example.com/clusterctl.yaml"), &env)
            .unwrap_err()
            .to_string();
        assert!(err.contains("local files only"), "{err}");
        let bad_folder = dir.path().join("folder.yaml");
        write(&bad_folder, "overridesFolder: [a]\n");
        let err = load(Some(&bad_folder.display().to_string()), &env)
            .unwrap_err()
            .to_string();
        assert!(err.contains(": overridesFolder must be a folder path"), "{err}");
    }

    #[test]
    fn overrides_folder_comes_from_env_then_file_then_xdg() {
        let config = parse("overridesFolder: ${BASE}/o\n", None, "f".into()).unwrap();
        let env = env_of(vec![("BASE", "/b".into()), ("XDG_CONFIG_HOME", "/x".into())]);
        assert_eq!(config.overrides_folder(&env).unwrap(), Some(PathBuf::from("/b/o")));
        let env = env_of(vec![("OVERRIDESFOLDER", "/e".into()), ("BASE", "/b".into())]);
        assert_eq!(config.overrides_folder(&env).unwrap(), Some(PathBuf::from("/e")));
        let none = parse("", None, "f".into()).unwrap();
        let env = env_of(vec![("XDG_CONFIG_HOME", "/x".into())]);
        assert_eq!(
            none.overrides_folder(&env).unwrap(),
            Some(PathBuf::from("/x/cluster-api/overrides"))
        );
        let err = config.overrides_folder(&env_of(vec![])).unwrap_err().to_string();
        assert!(err.starts_with("f: overridesFolder: ") && err.contains("BASE"), "{err}");
    }
}
