//! Decoding an object into the typed resources, with every field that stands in the way.
//!
//! The happy path is one serde pass and nothing else. Only when it fails does the
//! [type check](crate::type_check) run, to name every field of the wrong type rather than the
//! first one serde tripped over. The object with those fields taken out is kept when it decodes,
//! so the rules can still speak about the fields that are fine.

use std::collections::HashSet;

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::field::{FieldError, Path};
use crate::request::ResourceKind;
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
    removed_index: RemovedIndex,
}

impl Undecodable {
    /// Whether a rule's error on the stripped object is worth reporting: errors at, below or right
    /// above a removed field would only be about its absence, which the type error already covers.
    ///
    /// Linear in the depth of the error's path, whatever the number of removed fields: the
    /// error's path and each of its ancestors are looked up in a set.
    pub fn keeps(&self, error: &FieldError) -> bool {
        let field = error.field.as_str();
        !(self.removed_index.parents.contains(field)
            || ancestors(field).any(|up| self.removed_index.paths.contains(up)))
    }
}

/// The removed fields as sets: their paths, and the paths right above them.
#[derive(Clone, Debug, Default, PartialEq)]
struct RemovedIndex {
    paths: HashSet<String>,
    parents: HashSet<String>,
}

impl RemovedIndex {
    fn new(removed: &[Path]) -> Self {
        RemovedIndex {
            paths: removed.iter().map(|p| p.as_str().to_owned()).collect(),
            parents: removed.iter().map(|p| parent(p.as_str()).to_owned()).collect(),
        }
    }
}

/// `path` itself and every field path above it: `a.b[c].d`, `a.b[c]`, `a.b`, `a`.
fn ancestors(path: &str) -> impl Iterator<Item = &str> {
    let cuts = path
        .char_indices()
        .filter(|&(i, c)| (c == '.' || c == '[') && i > 0)
        .map(|(i, _)| i);
    std::iter::once(path).chain(cuts.map(|i| &path[..i]).collect::<Vec<_>>().into_iter().rev())
}

/// Where `object` nests deeper than `max` levels (a scalar at the top is level 0), or `None`.
///
/// Walks with an explicit stack, so a deep value cannot exhaust the thread's stack here; the
/// engine checks this before anything else walks the object.
pub fn deeper_than(object: &Value, max: usize) -> Option<Path> {
    enum Frame<'a> {
        Object(serde_json::map::Iter<'a>, Option<&'a str>),
        Array(std::iter::Enumerate<std::slice::Iter<'a, Value>>, usize),
    }
    fn open(value: &Value) -> Option<Frame<'_>> {
        match value {
            Value::Object(map) => Some(Frame::Object(map.iter(), None)),
            Value::Array(list) => Some(Frame::Array(list.iter().enumerate(), 0)),
            _ => None,
        }
    }
    let mut stack: Vec<Frame<'_>> = open(object).into_iter().collect();
    while let Some(frame) = stack.last_mut() {
        let next = match frame {
            Frame::Object(entries, at) => entries.next().map(|(k, v)| {
                *at = Some(k.as_str());
                v
            }),
            Frame::Array(items, at) => items.next().map(|(i, v)| {
                *at = i;
                v
            }),
        };
        let Some(child) = next else {
            stack.pop();
            continue;
        };
        let Some(inner) = open(child) else { continue };
        if stack.len() >= max {
            let mut path = Path::default();
            for frame in &stack {
                path = match frame {
                    Frame::Object(_, at) => path.child(at.unwrap_or_default()),
                    Frame::Array(_, i) => path.index(*i),
                };
            }
            return Some(path);
        }
        stack.push(inner);
    }
    None
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

/// Decodes with plain serde first, which costs about half as much; only a value that does not
/// decode is decoded again with path tracking, for the path of the error.
fn deserialize<T: DeserializeOwned>(value: &Value) -> Result<T, serde_path_to_error::Error<serde_json::Error>> {
    match T::deserialize(value) {
        Ok(typed) => Ok(typed),
        Err(_) => serde_path_to_error::deserialize::<_, T>(value),
    }
}

/// Decodes `object` as the resource `kind` says it is. On failure, every field of the wrong type
/// is reported; serde's own error is added when the type check did not see it.
pub fn decode<T: DeserializeOwned>(kind: &ResourceKind, object: &Value) -> Result<T, Box<Undecodable>> {
    let serde_failure = match deserialize::<T>(object) {
        Ok(typed) => return Ok(typed),
        Err(e) => e,
    };
    let checked = type_check::type_check(kind, object);
    let found = checked.errors;
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
    if checked.incomplete {
        // The rules would only speak about an object with the named fields taken out, which
        // still does not decode: say that the list is not complete, and stop here.
        errors.push(FieldError::forbidden(
            Path::default(),
            format!(
                "more than {} fields have the wrong type; the first {0} are named",
                type_check::MAX_TYPE_ERRORS
            ),
        ));
        return Err(Box::new(Undecodable {
            errors,
            removed: Vec::new(),
            stripped: None,
            removed_index: RemovedIndex::default(),
        }));
    }

    let targets = removal_targets(object, found.iter().map(|e| e.pointer.as_str()));
    let stripped = strip(object, &targets).filter(|s| deserialize::<T>(s).is_ok());
    let removed: Vec<Path> = targets.iter().map(|p| type_check::field_path_in(kind, p)).collect();
    Err(Box::new(Undecodable {
        errors,
        removed_index: RemovedIndex::new(&removed),
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
    // Sorted, a target comes after every target above it; each is looked up by its ancestors, so
    // this stays linear in the number of targets (times their depth).
    let mut kept: HashSet<&str> = HashSet::new();
    let mut outermost: Vec<&String> = Vec::new();
    for t in &targets {
        let inside = t.match_indices('/').map(|(i, _)| &t[..i]).any(|up| kept.contains(up));
        if !inside {
            kept.insert(t);
            outermost.push(t);
        }
    }
    outermost.into_iter().cloned().collect()
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
        let up: Vec<&str> = ancestors("spec.pods[0].name").collect();
        assert_eq!(up, ["spec.pods[0].name", "spec.pods[0]", "spec.pods", "spec"]);
        assert!(!ancestors("spec.podsX").any(|a| a == "spec.pods"));
    }

    #[test]
    fn nesting_depth_is_checked_without_recursion() {
        let mut deep = json!("leaf");
        for i in 0..100_000 {
            deep = if i % 2 == 0 {
                Value::Array(vec![deep])
            } else {
                Value::Object([("a".to_owned(), deep)].into_iter().collect())
            };
        }
        let at = deeper_than(&deep, 4);
        // Dropping a value this deep would recurse: take it apart level by level.
        let mut rest = Some(deep);
        while let Some(v) = rest.take() {
            rest = match v {
                Value::Array(mut items) => items.pop(),
                Value::Object(mut map) => map.remove("a"),
                _ => None,
            };
        }
        assert_eq!(at.map(|p| p.to_string()).as_deref(), Some("a[0].a[0]"));
        assert_eq!(deeper_than(&json!({ "a": [1, { "b": {} }] }), 4), None);
        assert_eq!(
            deeper_than(&json!({ "a": [1, { "b": { "c": [] } }] }), 4).map(|p| p.to_string()),
            Some("a[1].b.c".to_owned())
        );
        assert_eq!(deeper_than(&json!("scalar"), 0), None);
    }

    #[test]
    fn list_elements_take_their_list_out() {
        let object = json!({ "spec": { "list": [1, "a"], "x": { "y": 1 } } });
        let targets = removal_targets(&object, ["/spec/list/0", "/spec/x", "/spec/x/y"].into_iter());
        assert_eq!(targets, ["/spec/list", "/spec/x"]);
        assert_eq!(strip(&object, &targets), Some(json!({ "spec": {} })));
        assert_eq!(strip(&object, &[String::new()]), None);
        // A sibling that sorts between a target and its children does not hide them.
        let siblings = removal_targets(&object, ["/spec/x", "/spec/x-y", "/spec/x/y", "/spec/xy/z"].into_iter());
        assert_eq!(siblings, ["/spec/x", "/spec/x-y", "/spec/xy/z"]);
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
