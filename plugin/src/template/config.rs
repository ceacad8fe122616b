//! Variables from files: `--values FILE` (a YAML map of variables, or one under `variables:`) and
//! the user's config file `${XDG_CONFIG_HOME:-~/.config}/kubectl-kkp/config.yaml`, whose
//! `variables:` map applies to every template when the file exists.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::envsubst::is_valid_name;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("{path} is not valid YAML: {source}")]
    Parse { path: String, source: serde_yaml::Error },
    #[error("{path} must hold a map of variables (KEY: value), optionally under \"variables:\"")]
    NotAMap { path: String },
    #[error(
        "{path}: {name:?} is not a valid variable name: names start with a letter or '_' and contain only letters, digits and '_'"
    )]
    BadName { path: String, name: String },
}

/// Where the user's config file is: `$XDG_CONFIG_HOME/kubectl-kkp/config.yaml`, or
/// `$HOME/.config/kubectl-kkp/config.yaml`; `None` when neither variable is set.
pub fn default_config_path(env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    let base = match env("XDG_CONFIG_HOME").filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env("HOME").filter(|v| !v.is_empty())?).join(".config"),
    };
    Some(base.join("kubectl-kkp").join("config.yaml"))
}

/// The `variables:` of the user's config file; empty when the file does not exist.
pub fn load_user_config(path: &Path) -> Result<BTreeMap<String, String>, ConfigError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(source) => {
            return Err(ConfigError::Read {
                path: path.display().to_string(),
                source,
            });
        }
    };
    let shown = path.display().to_string();
    let doc = parse(&text, &shown)?;
    match doc.get("variables") {
        None | Some(Value::Null) => Ok(BTreeMap::new()),
        Some(Value::Object(vars)) => to_variables(vars, &shown),
        Some(_) => Err(ConfigError::NotAMap { path: shown }),
    }
}

/// A `--values FILE` (`-` is not accepted: stdin may carry the template).
pub fn load_values(path: &Path) -> Result<BTreeMap<String, String>, ConfigError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: shown.clone(),
        source,
    })?;
    let doc = parse(&text, &shown)?;
    match doc.get("variables") {
        Some(Value::Object(vars)) if doc.as_object().is_some_and(|m| m.len() == 1) => to_variables(vars, &shown),
        _ => match &doc {
            Value::Object(vars) => to_variables(vars, &shown),
            Value::Null => Ok(BTreeMap::new()),
            _ => Err(ConfigError::NotAMap { path: shown }),
        },
    }
}

fn parse(text: &str, path: &str) -> Result<Value, ConfigError> {
    if text.trim().is_empty() {
        return Ok(Value::Null);
    }
    let doc: Value = serde_yaml::from_str(text).map_err(|source| ConfigError::Parse {
        path: path.to_owned(),
        source,
    })?;
    match doc {
        Value::Object(_) | Value::Null => Ok(doc),
        _ => Err(ConfigError::NotAMap { path: path.to_owned() }),
    }
}

/// Values as the text a template receives: strings as they are, numbers and booleans printed,
/// `null` empty, lists and maps as JSON (which YAML reads back as a flow collection).
fn to_variables(map: &serde_json::Map<String, Value>, path: &str) -> Result<BTreeMap<String, String>, ConfigError> {
    let mut out = BTreeMap::new();
    for (name, value) in map {
        if !is_valid_name(name) {
            return Err(ConfigError::BadName {
                path: path.to_owned(),
                name: name.clone(),
            });
        }
        let text = match value {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            Value::Bool(_) | Value::Number(_) => value.to_string(),
            Value::Array(_) | Value::Object(_) => value.to_string(),
        };
        out.insert(name.clone(), text);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn values_files_hold_a_map_or_a_variables_map() {
        let dir = tempfile::tempdir().unwrap();
        let plain = write(
            dir.path(),
            "plain.yaml",
            "A: x\nCOUNT: 3\nFLAG: true\nLIST: [a, b]\nEMPTY:\n",
        );
        let vars = load_values(&plain).unwrap();
        assert_eq!(vars["A"], "x");
        assert_eq!(vars["COUNT"], "3");
        assert_eq!(vars["FLAG"], "true");
        assert_eq!(vars["LIST"], r#"["a","b"]"#);
        assert_eq!(vars["EMPTY"], "");
        let nested = write(dir.path(), "nested.yaml", "variables:\n  A: y\n");
        assert_eq!(load_values(&nested).unwrap()["A"], "y");
        let empty = write(dir.path(), "empty.yaml", "");
        assert!(load_values(&empty).unwrap().is_empty());
    }

    #[test]
    fn bad_files_say_what_is_wrong() {
        let dir = tempfile::tempdir().unwrap();
        let list = write(dir.path(), "list.yaml", "- a\n");
        assert!(matches!(load_values(&list), Err(ConfigError::NotAMap { .. })));
        let bad = write(dir.path(), "bad.yaml", "foo-bar: 1\n");
        let err = load_values(&bad).unwrap_err().to_string();
        assert!(err.contains("\"foo-bar\" is not a valid variable name"), "{err}");
        let broken = write(dir.path(), "broken.yaml", "a: [\n");
        assert!(matches!(load_values(&broken), Err(ConfigError::Parse { .. })));
        assert!(matches!(
            load_values(&dir.path().join("absent.yaml")),
            Err(ConfigError::Read { .. })
        ));
    }

    #[test]
    fn user_config_reads_variables_and_may_be_absent() {
        let dir = tempfile::tempdir().unwrap();
        assert!(load_user_config(&dir.path().join("none.yaml")).unwrap().is_empty());
        let cfg = write(
            dir.path(),
            "config.yaml",
            "variables:\n  KKP_PROJECT_ID: p1\nother: ignored\n",
        );
        assert_eq!(load_user_config(&cfg).unwrap()["KKP_PROJECT_ID"], "p1");
        let no_vars = write(dir.path(), "novars.yaml", "other: 1\n");
        assert!(load_user_config(&no_vars).unwrap().is_empty());
    }

    #[test]
    fn config_path_follows_xdg() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
        };
        assert_eq!(
            default_config_path(&env(&[("XDG_CONFIG_HOME", "/x"), ("HOME", "/h")])),
            Some(PathBuf::from("/x/kubectl-kkp/config.yaml"))
        );
        assert_eq!(
            default_config_path(&env(&[("XDG_CONFIG_HOME", ""), ("HOME", "/h")])),
            Some(PathBuf::from("/h/.config/kubectl-kkp/config.yaml"))
        );
        assert_eq!(default_config_path(&env(&[])), None);
    }
}
