//! Reading the JSON of `terraform output -json` and turning its values into template variables:
//! each value is named by its path in upper case (`kubeone_api.endpoint` is
//! `KUBEONE_API_ENDPOINT`), lists become JSON text.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("{source_name} is not the JSON of `terraform output -json`: {reason}")]
    Format { source_name: String, reason: String },
    #[error("{source_name}: the outputs {first} and {second} both give the variable {variable}; rename one output")]
    Collision {
        source_name: String,
        first: String,
        second: String,
        variable: String,
    },
}

/// One output: its value and whether Terraform marks it sensitive.
#[derive(Clone, Debug, PartialEq)]
pub struct Output {
    pub sensitive: bool,
    pub value: Value,
}

/// The outputs of one `terraform output -json`, by name.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TerraformOutput {
    pub outputs: BTreeMap<String, Output>,
}

impl TerraformOutput {
    /// Parses the JSON text; `source_name` names the file in messages.
    pub fn parse(text: &str, source_name: &str) -> Result<Self, OutputError> {
        let format = |reason: String| OutputError::Format {
            source_name: source_name.to_owned(),
            reason,
        };
        let doc: Value = serde_json::from_str(text).map_err(|e| format(e.to_string()))?;
        let Value::Object(map) = doc else {
            return Err(format("the top level must be an object of outputs".to_owned()));
        };
        let mut outputs = BTreeMap::new();
        for (name, entry) in map {
            let Value::Object(mut entry) = entry else {
                return Err(format(format!(
                    "output {name:?} must be an object with \"value\" (and \"type\", \"sensitive\")"
                )));
            };
            let Some(value) = entry.remove("value") else {
                return Err(format(format!("output {name:?} has no \"value\"")));
            };
            let sensitive = match entry.get("sensitive") {
                None | Some(Value::Null) => false,
                Some(Value::Bool(b)) => *b,
                Some(_) => return Err(format(format!("output {name:?}: \"sensitive\" must be true or false"))),
            };
            outputs.insert(name, Output { sensitive, value });
        }
        Ok(TerraformOutput { outputs })
    }

    /// The value of an output, if present.
    pub fn value(&self, name: &str) -> Option<&Value> {
        self.outputs.get(name).map(|o| &o.value)
    }

    /// Every value as a variable (see the module's comment), and the names of the variables that
    /// come from sensitive outputs.
    pub fn variables(&self, source_name: &str) -> Result<Variables, OutputError> {
        let mut vars = Variables::default();
        let mut origin: BTreeMap<String, String> = BTreeMap::new();
        for (name, output) in &self.outputs {
            let mut found = Vec::new();
            flatten(&[name.as_str()], &output.value, &mut found);
            for (path, value) in found {
                let variable = variable_name(&path);
                let shown = path.join(".");
                if let Some(first) = origin.get(&variable) {
                    return Err(OutputError::Collision {
                        source_name: source_name.to_owned(),
                        first: first.clone(),
                        second: shown,
                        variable,
                    });
                }
                origin.insert(variable.clone(), shown);
                if output.sensitive {
                    vars.sensitive.insert(variable.clone());
                }
                vars.values.insert(variable, value);
            }
        }
        Ok(vars)
    }
}

/// Variables from Terraform outputs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Variables {
    pub values: BTreeMap<String, String>,
    pub sensitive: BTreeSet<String>,
}

/// Objects are walked into; every other value that is not null ends a path.
fn flatten(path: &[&str], value: &Value, out: &mut Vec<(Vec<String>, String)>) {
    match value {
        Value::Null => {}
        Value::Object(map) => flatten_object(path, map, out),
        Value::String(s) => out.push((owned(path), s.clone())),
        Value::Bool(_) | Value::Number(_) | Value::Array(_) => out.push((owned(path), value.to_string())),
    }
}

fn flatten_object(path: &[&str], map: &Map<String, Value>, out: &mut Vec<(Vec<String>, String)>) {
    for (key, value) in map {
        let mut next = path.to_vec();
        next.push(key);
        flatten(&next, value, out);
    }
}

fn owned(path: &[&str]) -> Vec<String> {
    path.iter().map(|s| (*s).to_owned()).collect()
}

/// `kubeone_hosts`, `control_plane`, `cluster_name` → `KUBEONE_HOSTS_CONTROL_PLANE_CLUSTER_NAME`;
/// characters other than letters, digits and `_` become `_`.
pub fn variable_name(path: &[String]) -> String {
    let joined = path.join("_");
    let mut name: String = joined
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert(0, '_');
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_named_by_their_path() {
        let out = TerraformOutput::parse(
            r#"{
              "kubeone_api": {"sensitive": false, "type": ["object", {}], "value": {
                 "endpoint": "lb.example.com", "apiserver_alternative_names": ["a.example.com"]}},
              "kubeone_hosts": {"value": {"control_plane": {"cluster_name": "demo", "ssh_port": 22,
                 "private_address": ["10.0.0.1", "10.0.0.2"], "bastion": null}}},
              "token": {"sensitive": true, "value": "s3cr3t"}
            }"#,
            "tf.json",
        )
        .unwrap();
        let vars = out.variables("tf.json").unwrap();
        let get = |n: &str| vars.values.get(n).map(String::as_str);
        assert_eq!(get("KUBEONE_API_ENDPOINT"), Some("lb.example.com"));
        assert_eq!(
            get("KUBEONE_API_APISERVER_ALTERNATIVE_NAMES"),
            Some(r#"["a.example.com"]"#)
        );
        assert_eq!(get("KUBEONE_HOSTS_CONTROL_PLANE_CLUSTER_NAME"), Some("demo"));
        assert_eq!(get("KUBEONE_HOSTS_CONTROL_PLANE_SSH_PORT"), Some("22"));
        assert_eq!(
            get("KUBEONE_HOSTS_CONTROL_PLANE_PRIVATE_ADDRESS"),
            Some(r#"["10.0.0.1","10.0.0.2"]"#)
        );
        assert_eq!(get("KUBEONE_HOSTS_CONTROL_PLANE_BASTION"), None);
        assert_eq!(get("TOKEN"), Some("s3cr3t"));
        assert_eq!(vars.sensitive, BTreeSet::from(["TOKEN".to_owned()]));
    }

    #[test]
    fn odd_keys_become_valid_names_and_collisions_are_refused() {
        let out = TerraformOutput::parse(r#"{"w": {"value": {"demo-eu-1a": {"replicas": 2}}}}"#, "f").unwrap();
        let vars = out.variables("f").unwrap();
        assert_eq!(vars.values.get("W_DEMO_EU_1A_REPLICAS").map(String::as_str), Some("2"));
        let out = TerraformOutput::parse(r#"{"w": {"value": {"a-b": 1, "a_b": 2}}}"#, "f").unwrap();
        let err = out.variables("f").unwrap_err().to_string();
        assert_eq!(
            err,
            "f: the outputs w.a-b and w.a_b both give the variable W_A_B; rename one output"
        );
    }

    #[test]
    fn malformed_output_says_what_is_wrong() {
        let err = |text: &str| TerraformOutput::parse(text, "tf.json").unwrap_err().to_string();
        assert!(err("not json").starts_with("tf.json is not the JSON of `terraform output -json`"));
        assert!(err("[1]").ends_with("the top level must be an object of outputs"));
        assert!(err(r#"{"a": 1}"#).contains("output \"a\" must be an object"));
        assert!(err(r#"{"a": {"type": "string"}}"#).ends_with("output \"a\" has no \"value\""));
        assert!(err(r#"{"a": {"value": 1, "sensitive": "yes"}}"#).contains("\"sensitive\" must be true or false"));
    }
}
