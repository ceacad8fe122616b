//! Decoding an object into the typed resources, with every field that stands in the way.
//!
//! The happy path is one serde pass and nothing else. Only when it fails does the
//! [type check](crate::type_check) run, to name every field of the wrong type rather than the
//! first one serde tripped over. The object with those fields taken out is kept when it decodes,
//! so the rules can still speak about the fields that are fine.

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::admission::ResourceKind;
use crate::field::{FieldError, Path};
use crate::type_check;

/// Why an object does not decode.
#[derive(Clone, Debug, PartialEq)]
pub struct Undecodable {
    /// Every field that does not fit, sorted by field path.
    pub errors: Vec<FieldError>,
    /// The fields taken out of [`Undecodable::stripped`], as field paths.
    pub removed: Vec<Path>,
    /// The object without the offending fields, when that decodes.
    pub stripped: Option<Value>,
}

impl Undecodable {
    /// Whether a rule's error on the stripped object is worth reporting: errors at, below or right
    /// above a removed field would only be about its absence, which the type error already covers.
    pub fn keeps(&self, error: &FieldError) -> bool {
        let field = error.field.as_str();
        !self.removed.iter().any(|removed| {
            let removed = removed.as_str();
            is_within(field, removed) || parent(removed) == field
        })
    }
}

/// A serde path with indices written as segments: `spec.list[0].name` → `spec.list.0.name`.
fn dotted_serde_path(path: &str) -> String {
    path.replace('[', ".").replace(']', "")
}

/// A JSON pointer in the same form: `/spec/list/0/name` → `spec.list.0.name` (map keys kept whole).
fn dotted_pointer(pointer: &str) -> String {
    pointer
        .split('/')
        .skip(1)
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect::<Vec<_>>()
        .join(".")
}

/// Whether dotted path `path` is `base` or below it.
fn within_dotted(path: &str, base: &str) -> bool {
    path.strip_prefix(base)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
}

fn is_within(path: &str, base: &str) -> bool {
    path.strip_prefix(base)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('.') || rest.starts_with('['))
}

/// The field path one level up: `spec` for `spec.version`, `metadata.labels` for
/// `metadata.labels[a.b/c]`.
fn parent(path: &str) -> &str {
    let cut = if path.ends_with(']') {
        path.rfind('[')
    } else {
        path.rfind('.')
    };
    cut.map_or("", |i| &path[..i])
}

/// serde's own error, for what the type check cannot see (a timestamp that is not one, say).
fn serde_error(error: serde_path_to_error::Error<serde_json::Error>) -> FieldError {
    let path = error.path().to_string();
    let path = if path == "." {
        Path::default()
    } else {
        Path::root(&path)
    };
    FieldError::invalid(path, Value::Null, error.into_inner().to_string()).without_value()
}

fn deserialize<T: DeserializeOwned>(value: &Value) -> Result<T, serde_path_to_error::Error<serde_json::Error>> {
    serde_path_to_error::deserialize::<_, T>(value)
}

/// Decodes `object` as the resource `kind` says it is. On failure, every field of the wrong type
/// is reported; serde's own error is added when the type check did not see it.
pub fn decode<T: DeserializeOwned>(kind: &ResourceKind, object: &Value) -> Result<T, Box<Undecodable>> {
    let serde_failure = match deserialize::<T>(object) {
        Ok(typed) => return Ok(typed),
        Err(e) => e,
    };
    let found = type_check::type_errors(kind, object);
    let serde_path = serde_failure.path().to_string();
    let serde_at = dotted_serde_path(&serde_path);
    let seen = found.iter().any(|e| {
        let at = dotted_pointer(&e.pointer);
        within_dotted(&at, &serde_at) || within_dotted(&serde_at, &at)
    });
    let mut errors: Vec<FieldError> = found.iter().map(|e| e.error.clone()).collect();
    if !seen {
        errors.push(serde_error(serde_failure));
    }

    let targets = removal_targets(object, found.iter().map(|e| e.pointer.as_str()));
    let stripped = strip(object, &targets).filter(|s| deserialize::<T>(s).is_ok());
    let removed = targets.iter().map(|p| type_check::field_path_in(kind, p)).collect();
    Err(Box::new(Undecodable {
        errors,
        removed,
        stripped,
    }))
}

/// What to take out for each offending pointer: the value itself, or for a list element the whole
/// list (taking one element out would renumber the rest). Sorted, without pointers inside another.
fn removal_targets<'a>(object: &Value, pointers: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut targets: Vec<String> = pointers
        .map(|pointer| {
            let mut target = pointer;
            while let Some((up, _)) = target.rsplit_once('/')
                && object.pointer(up).is_some_and(Value::is_array)
            {
                target = up;
            }
            target.to_owned()
        })
        .collect();
    targets.sort();
    targets.dedup();
    let mut outermost: Vec<String> = Vec::new();
    for t in targets {
        let inside = outermost
            .iter()
            .any(|o| t.strip_prefix(o.as_str()).is_some_and(|rest| rest.starts_with('/')));
        if !inside {
            outermost.push(t);
        }
    }
    outermost
}

/// The object without the values at `targets`; `None` when one of them is the object itself.
fn strip(object: &Value, targets: &[String]) -> Option<Value> {
    let mut out = object.clone();
    for target in targets {
        let (up, key) = target.rsplit_once('/')?;
        let key = key.replace("~1", "/").replace("~0", "~");
        out.pointer_mut(up)?.as_object_mut()?.remove(&key);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::machine::MachineDeployment;

    #[test]
    fn parents_and_containment_follow_field_paths() {
        assert_eq!(parent("spec.version"), "spec");
        assert_eq!(parent("metadata.labels[a.b/c]"), "metadata.labels");
        assert_eq!(parent("spec"), "");
        assert!(within_dotted(
            &dotted_pointer("/metadata/labels/1"),
            &dotted_serde_path("metadata.labels.1")
        ));
        assert!(within_dotted(
            &dotted_pointer("/spec/list/0/name"),
            &dotted_serde_path("spec.list[0]")
        ));
        assert!(within_dotted(
            &dotted_pointer("/metadata/labels/kubernetes.io~1name"),
            &dotted_serde_path("metadata.labels.kubernetes.io/name")
        ));
        assert!(!within_dotted("spec.podsX", "spec.pods"));
        assert!(is_within("spec.pods[0]", "spec.pods"));
        assert!(is_within("spec.pods", "spec.pods"));
        assert!(!is_within("spec.podsX", "spec.pods"));
    }

    #[test]
    fn list_elements_take_their_list_out() {
        let object = json!({ "spec": { "list": [1, "a"], "x": { "y": 1 } } });
        let targets = removal_targets(&object, ["/spec/list/0", "/spec/x", "/spec/x/y"].into_iter());
        assert_eq!(targets, ["/spec/list", "/spec/x"]);
        assert_eq!(strip(&object, &targets), Some(json!({ "spec": {} })));
        assert_eq!(strip(&object, &[String::new()]), None);
    }

    #[test]
    fn broken_objects_keep_what_decodes() {
        let object = json!({
            "kind": "MachineDeployment",
            "metadata": { "name": "md" },
            "spec": { "replicas": "three", "paused": 1, "minReadySeconds": 5 }
        });
        let broken = decode::<MachineDeployment>(&ResourceKind::MachineDeployment, &object).unwrap_err();
        let messages: Vec<String> = broken.errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            messages,
            [
                "spec.paused: Invalid value: 1: must be of type boolean",
                "spec.replicas: Invalid value: \"three\": must be of type integer",
            ]
        );
        assert_eq!(
            broken.stripped,
            Some(
                json!({ "kind": "MachineDeployment", "metadata": { "name": "md" }, "spec": { "minReadySeconds": 5 } })
            )
        );
        assert!(!broken.keeps(&FieldError::required(Path::root("spec.replicas"), "")));
        assert!(!broken.keeps(&FieldError::required(Path::root("spec"), "")));
        assert!(broken.keeps(&FieldError::required(Path::root("spec.template"), "")));
    }

    #[test]
    fn what_the_type_check_misses_serde_still_says() {
        let object = json!({
            "metadata": { "name": "md", "creationTimestamp": "yesterday" },
            "spec": { "replicas": "three" }
        });
        let broken = decode::<MachineDeployment>(&ResourceKind::MachineDeployment, &object).unwrap_err();
        assert_eq!(broken.errors.len(), 2, "{:?}", broken.errors);
        assert_eq!(broken.errors[0].field.as_str(), "spec.replicas");
        assert_eq!(broken.errors[1].field.as_str(), "metadata.creationTimestamp");
        assert_eq!(broken.stripped, None, "the timestamp still does not decode");
    }
}
