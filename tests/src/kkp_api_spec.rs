//! The KKP REST API's own OpenAPI 2.0 specification (`kkp-api-swagger.json`, KKP dashboard API
//! 2.31), read in place from the shared `reference` folder, and JSON-schema validation of bodies
//! against its operations and definitions: what keeps the plugin's requests and the stand-in's
//! answers honest.
//!
//! The file is `KKP_API_SPEC`, else `shared/reference/kkp-api-swagger.json` beside the checkout
//! or one of its parents. A test that needs it and cannot find it fails with that reason.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::{Value, json};

use crate::error::HarnessError;

/// The specification, loaded once per process.
pub struct Spec {
    doc: Value,
    validators: Mutex<HashMap<String, Arc<jsonschema::Validator>>>,
}

impl std::fmt::Debug for Spec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spec").finish_non_exhaustive()
    }
}

/// Where the specification file is.
pub fn spec_path() -> Result<PathBuf, HarnessError> {
    if let Some(file) = std::env::var_os("KKP_API_SPEC") {
        let file = PathBuf::from(file);
        return if file.is_file() {
            Ok(file)
        } else {
            Err(HarnessError::InvalidInput(format!(
                "KKP_API_SPEC={} is not a file",
                file.display()
            )))
        };
    }
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .map(|a| a.join("shared").join("reference").join("kkp-api-swagger.json"))
        .find(|f| f.is_file())
        .ok_or_else(|| {
            HarnessError::InvalidInput(
                "the KKP API specification (shared/reference/kkp-api-swagger.json) is not beside this checkout or \
                 its parents; set KKP_API_SPEC to its path"
                    .into(),
            )
        })
}

/// The specification, read on first use.
pub fn spec() -> Result<&'static Spec, HarnessError> {
    static SPEC: OnceLock<Result<Spec, String>> = OnceLock::new();
    SPEC.get_or_init(|| {
        let path = spec_path().map_err(|e| e.to_string())?;
        let text = std::fs::read_to_string(&path).map_err(|e| format!("reading {}: {e}", path.display()))?;
        let doc: Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        if doc.get("swagger").and_then(Value::as_str) != Some("2.0") {
            return Err(format!("{} is not a Swagger 2.0 document", path.display()));
        }
        Ok(Spec {
            doc,
            validators: Mutex::new(HashMap::new()),
        })
    })
    .as_ref()
    .map_err(|e| HarnessError::InvalidInput(e.clone()))
}

/// What the specification says an answer's body is.
#[derive(Debug, Clone, PartialEq)]
pub enum ResponseBody {
    /// A JSON body with this schema.
    Schema(Value),
    /// No body is described (`#/responses/empty`).
    Empty,
}

impl Spec {
    /// The whole document.
    pub fn document(&self) -> &Value {
        &self.doc
    }

    /// The operation at a path template (`/api/v2/projects/{project_id}/clusters`) and method.
    pub fn operation(&self, method: &str, template: &str) -> Option<&Value> {
        self.doc.get("paths")?.get(template)?.get(method.to_ascii_lowercase())
    }

    /// The schema of an operation's body parameter.
    pub fn request_schema(&self, method: &str, template: &str) -> Option<&Value> {
        self.operation(method, template)?
            .get("parameters")?
            .as_array()?
            .iter()
            .find(|p| p.get("in").and_then(Value::as_str) == Some("body"))?
            .get("schema")
    }

    /// The body an operation's answer with `status` has (its own entry, else `default`).
    pub fn response_body(&self, method: &str, template: &str, status: u16) -> Option<ResponseBody> {
        let responses = self.operation(method, template)?.get("responses")?;
        let mut response = responses.get(status.to_string()).or_else(|| responses.get("default"))?;
        if let Some(reference) = response.get("$ref").and_then(Value::as_str) {
            let name = reference.strip_prefix("#/responses/")?;
            response = self.doc.get("responses")?.get(name)?;
        }
        Some(match response.get("schema") {
            Some(schema) => ResponseBody::Schema(schema.clone()),
            None => ResponseBody::Empty,
        })
    }

    /// The names of the parameters an operation takes in `place` (`header`, `query`, `path`).
    pub fn parameters(&self, method: &str, template: &str, place: &str) -> Vec<String> {
        self.operation(method, template)
            .and_then(|o| o.get("parameters"))
            .and_then(Value::as_array)
            .map(|ps| {
                ps.iter()
                    .filter(|p| p.get("in").and_then(Value::as_str) == Some(place))
                    .filter_map(|p| p.get("name").and_then(Value::as_str).map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Checks `value` against a schema of the specification (`{"$ref": "#/definitions/X"}` or an
    /// inline one); the errors name the path of each violation.
    pub fn validate(&self, schema: &Value, value: &Value) -> Result<(), Vec<String>> {
        let key = schema.to_string();
        let validator = {
            let mut cache = self.validators.lock().unwrap_or_else(|e| e.into_inner());
            match cache.get(&key) {
                Some(v) => v.clone(),
                None => {
                    let root = json!({
                        "definitions": self.doc.get("definitions").cloned().unwrap_or_default(),
                        "allOf": [schema],
                    });
                    let v = Arc::new(
                        jsonschema::draft4::options()
                            .build(&root)
                            .map_err(|e| vec![format!("the specification's schema does not compile: {e}")])?,
                    );
                    cache.insert(key, v.clone());
                    v
                }
            }
        };
        let errors: Vec<String> = validator
            .iter_errors(value)
            .map(|e| format!("{}: {e}", e.instance_path()))
            .collect();
        if errors.is_empty() { Ok(()) } else { Err(errors) }
    }

    /// Checks `value` against the definition `name` (`CreateClusterSpec`, `NodeDeployment`, ...).
    pub fn validate_definition(&self, name: &str, value: &Value) -> Result<(), Vec<String>> {
        if self.doc.get("definitions").and_then(|d| d.get(name)).is_none() {
            return Err(vec![format!("the specification has no definition {name:?}")]);
        }
        self.validate(&json!({"$ref": format!("#/definitions/{name}")}), value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_checked_against_the_definitions() {
        let spec = spec().expect("the KKP API specification");
        let ok = json!({"cluster": {"name": "c", "spec": {"cloud": {"dc": "d", "kubevirt": {}}, "version": "1.35.8"}}});
        spec.validate_definition("CreateClusterSpec", &ok).unwrap();
        let bad = json!({"cluster": {"name": 5, "spec": {"cloud": {"vsphere": {"username": null}}}}});
        let errors = spec.validate_definition("CreateClusterSpec", &bad).unwrap_err();
        assert!(errors.iter().any(|e| e.starts_with("/cluster/name")), "{errors:?}");
        assert!(
            errors
                .iter()
                .any(|e| e.starts_with("/cluster/spec/cloud/vsphere/username")),
            "{errors:?}"
        );
        let md = json!({"spec": {"replicas": 1, "template": {"cloud": {}, "operatingSystem": {}}}});
        let errors = spec.validate_definition("NodeDeployment", &md).unwrap_err();
        assert!(errors.iter().any(|e| e.contains("versions")), "{errors:?}");
    }

    #[test]
    fn operations_and_their_answers_are_found() {
        let spec = spec().expect("the KKP API specification");
        let list = "/api/v2/projects/{project_id}/clusters";
        assert_eq!(
            spec.request_schema("POST", list),
            Some(&json!({"$ref": "#/definitions/CreateClusterSpec"}))
        );
        assert_eq!(
            spec.response_body("GET", list, 200),
            Some(ResponseBody::Schema(
                json!({"$ref": "#/definitions/ProjectClusterList"})
            ))
        );
        assert_eq!(spec.response_body("GET", list, 401), Some(ResponseBody::Empty));
        assert_eq!(
            spec.response_body("GET", list, 409),
            Some(ResponseBody::Schema(json!({"$ref": "#/definitions/errorResponse"})))
        );
        let one = "/api/v2/projects/{project_id}/clusters/{cluster_id}";
        assert_eq!(
            spec.parameters("DELETE", one, "header"),
            ["DeleteVolumes", "DeleteLoadBalancers"]
        );
        assert!(spec.operation("PUT", list).is_none());
    }
}
