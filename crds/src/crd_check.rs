//! Custom resources of any kind checked against the `openAPIV3Schema` of their CRD, the way the
//! apiserver's schema validation with strict field validation would: types, required fields,
//! enums, lengths, bounds, patterns, formats and unknown fields, each error naming its field; then,
//! for an object that passes those, the schema's `x-kubernetes-validations` CEL rules (as on a
//! create: rules that read `oldSelf` do not apply).

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::field::{FieldError, Path};

/// The schemas of a set of CRDs, by `group/version` and kind.
#[derive(Clone, Debug, Default)]
pub struct CrdSchemas {
    schemas: BTreeMap<(String, String), Value>,
}

impl CrdSchemas {
    /// Collects the served versions of every `CustomResourceDefinition` among `documents`; other
    /// documents are ignored.
    pub fn from_documents<'a>(documents: impl IntoIterator<Item = &'a Value>) -> Self {
        let mut schemas = BTreeMap::new();
        for doc in documents {
            if doc.get("kind").and_then(Value::as_str) != Some("CustomResourceDefinition") {
                continue;
            }
            let group = doc.pointer("/spec/group").and_then(Value::as_str).unwrap_or_default();
            let Some(kind) = doc.pointer("/spec/names/kind").and_then(Value::as_str) else {
                continue;
            };
            for version in doc
                .pointer("/spec/versions")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let Some(name) = version.get("name").and_then(Value::as_str) else {
                    continue;
                };
                if version.get("served").and_then(Value::as_bool) == Some(false) {
                    continue;
                }
                if let Some(schema) = version.pointer("/schema/openAPIV3Schema") {
                    schemas.insert((format!("{group}/{name}"), kind.to_owned()), schema.clone());
                }
            }
        }
        CrdSchemas { schemas }
    }

    pub fn is_empty(&self) -> bool {
        self.schemas.is_empty()
    }

    /// Adds the schemas of `other` for the kinds this set does not define yet.
    pub fn add_missing(&mut self, other: CrdSchemas) {
        for (key, schema) in other.schemas {
            self.schemas.entry(key).or_insert(schema);
        }
    }

    pub fn len(&self) -> usize {
        self.schemas.len()
    }

    /// The schema for an object's `apiVersion` and `kind`, if a CRD defines it.
    pub fn schema_for(&self, object: &Value) -> Option<&Value> {
        let api_version = object.get("apiVersion").and_then(Value::as_str)?;
        let kind = object.get("kind").and_then(Value::as_str)?;
        self.schemas.get(&(api_version.to_owned(), kind.to_owned()))
    }

    /// The errors of `object` against its CRD; `None` when no CRD here defines its kind.
    pub fn check(&self, object: &Value) -> Option<Vec<FieldError>> {
        let schema = self.schema_for(object)?;
        let mut errors = Vec::new();
        // metadata is the apiserver's own; its schema in a CRD is only `type: object`.
        let mut body = object.clone();
        if let Some(map) = body.as_object_mut() {
            map.remove("metadata");
            map.remove("apiVersion");
            map.remove("kind");
        }
        let mut schema = schema.clone();
        if let Some(props) = schema.get_mut("properties").and_then(Value::as_object_mut) {
            props.remove("metadata");
            props.remove("apiVersion");
            props.remove("kind");
        }
        walk(&schema, &body, None, &mut errors);
        if errors.is_empty() {
            errors.extend(cel_rule_errors(&schema, &body));
        }
        Some(errors)
    }
}

/// The `x-kubernetes-validations` rules of the schema that the object breaks, each at the field
/// whose schema holds the rule, with the rule's message. A rule that does not compile or cannot be
/// evaluated is reported too: the apiserver would not have accepted the CRD, or would refuse the
/// object.
fn cel_rule_errors(schema: &Value, body: &Value) -> Vec<FieldError> {
    if !schema.to_string().contains("x-kubernetes-validations") {
        return Vec::new();
    }
    let Err(failures) = kube_cel::Validator::new().validate(schema, body, None) else {
        return Vec::new();
    };
    failures
        .into_vec()
        .into_iter()
        .map(|failure| {
            let field = if failure.field_path.is_empty() {
                Path::root("<root>")
            } else {
                Path::root("").pointer(&format!("/{}", failure.field_path.replace('.', "/")))
            };
            let message = if failure.message.is_empty() {
                format!("failed rule: {}", failure.rule)
            } else {
                failure.message
            };
            FieldError::invalid(field, Value::Null, message).without_value()
        })
        .collect()
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn path_or_root(path: Option<&Path>) -> Path {
    path.cloned().unwrap_or_else(|| Path::root("<root>"))
}

fn child(path: Option<&Path>, name: &str) -> Path {
    match path {
        Some(p) => p.child(name),
        None => Path::root(name),
    }
}

fn walk(schema: &Value, value: &Value, path: Option<&Path>, errors: &mut Vec<FieldError>) {
    let here = || path_or_root(path);
    if value.is_null() {
        // The apiserver prunes a null it is not told to keep (nullable), so it is no error here;
        // a required field that is null counts as missing (see `check_object`).
        return;
    }
    let int_or_string = schema.get("x-kubernetes-int-or-string").and_then(Value::as_bool) == Some(true);
    if let Some(wanted) = schema.get("type").and_then(Value::as_str) {
        let actual = type_name(value);
        let ok = actual == wanted || (wanted == "number" && actual == "integer");
        if !ok {
            errors.push(
                FieldError::invalid(here(), value.clone(), format!("must be of type {wanted}, not {actual}"))
                    .without_value(),
            );
            return;
        }
    } else if int_or_string && !(value.is_string() || type_name(value) == "integer") {
        errors.push(FieldError::invalid(
            here(),
            value.clone(),
            "must be an integer or a string",
        ));
        return;
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
        && !allowed.contains(value)
    {
        let names: Vec<String> = allowed
            .iter()
            .map(|a| a.as_str().map_or_else(|| a.to_string(), str::to_owned))
            .collect();
        errors.push(FieldError::not_supported(here(), value.clone(), &names));
    }
    match value {
        Value::String(s) => check_string(schema, s, here, errors),
        Value::Number(n) => check_number(schema, n.as_f64().unwrap_or_default(), value, here, errors),
        Value::Array(items) => {
            let len = items.len() as u64;
            if let Some(max) = schema.get("maxItems").and_then(Value::as_u64)
                && len > max
            {
                errors.push(FieldError::too_many(here(), items.len(), max as usize));
            }
            if let Some(min) = schema.get("minItems").and_then(Value::as_u64)
                && len < min
            {
                errors.push(FieldError::invalid(
                    here(),
                    len,
                    format!("must have at least {min} items"),
                ));
            }
            if let Some(item_schema) = schema.get("items") {
                for (i, item) in items.iter().enumerate() {
                    let p = here().index(i);
                    walk(item_schema, item, Some(&p), errors);
                }
            }
        }
        Value::Object(map) => check_object(schema, map, path, errors),
        Value::Bool(_) | Value::Null => {}
    }
}

fn check_string(schema: &Value, s: &str, here: impl Fn() -> Path, errors: &mut Vec<FieldError>) {
    let len = s.chars().count() as u64;
    if let Some(max) = schema.get("maxLength").and_then(Value::as_u64)
        && len > max
    {
        let mut e = FieldError::invalid(here(), s, format!("may not be more than {max} bytes"));
        e.detail = format!("Too long: may not be more than {max} bytes");
        errors.push(e.without_value());
    }
    if let Some(min) = schema.get("minLength").and_then(Value::as_u64)
        && len < min
    {
        errors.push(FieldError::invalid(
            here(),
            s,
            format!("should be at least {min} chars long"),
        ));
    }
    if let Some(pattern) = schema.get("pattern").and_then(Value::as_str)
        && !jsonschema::is_valid(&json!({"pattern": pattern}), &Value::from(s))
    {
        errors.push(FieldError::invalid(here(), s, format!("should match '{pattern}'")));
    }
    if let Some(format) = schema.get("format").and_then(Value::as_str)
        && matches!(
            format,
            "date-time" | "date" | "email" | "ipv4" | "ipv6" | "uuid" | "hostname"
        )
        && !jsonschema::options()
            .should_validate_formats(true)
            .build(&json!({"format": format}))
            .is_ok_and(|v| v.is_valid(&Value::from(s)))
    {
        errors.push(FieldError::invalid(here(), s, format!("must be a valid {format}")));
    }
}

fn check_number(schema: &Value, n: f64, value: &Value, here: impl Fn() -> Path, errors: &mut Vec<FieldError>) {
    if let Some(max) = schema.get("maximum").and_then(Value::as_f64) {
        let exclusive = schema.get("exclusiveMaximum").and_then(Value::as_bool) == Some(true);
        if n > max || (exclusive && n == max) {
            let op = if exclusive {
                "less than"
            } else {
                "less than or equal to"
            };
            errors.push(FieldError::invalid(
                here(),
                value.clone(),
                format!("must be {op} {max}"),
            ));
        }
    }
    if let Some(min) = schema.get("minimum").and_then(Value::as_f64) {
        let exclusive = schema.get("exclusiveMinimum").and_then(Value::as_bool) == Some(true);
        if n < min || (exclusive && n == min) {
            let op = if exclusive {
                "greater than"
            } else {
                "greater than or equal to"
            };
            errors.push(FieldError::invalid(
                here(),
                value.clone(),
                format!("must be {op} {min}"),
            ));
        }
    }
}

fn check_object(schema: &Value, map: &Map<String, Value>, path: Option<&Path>, errors: &mut Vec<FieldError>) {
    for name in schema.get("required").and_then(Value::as_array).into_iter().flatten() {
        let nullable = |name: &str| {
            schema
                .pointer(&format!(
                    "/properties/{}/nullable",
                    name.replace('~', "~0").replace('/', "~1")
                ))
                .and_then(Value::as_bool)
                == Some(true)
        };
        if let Some(name) = name.as_str()
            && map.get(name).is_none_or(|v| v.is_null() && !nullable(name))
        {
            errors.push(FieldError::required(child(path, name), ""));
        }
    }
    let properties = schema.get("properties").and_then(Value::as_object);
    let additional = schema.get("additionalProperties");
    let preserve = schema
        .get("x-kubernetes-preserve-unknown-fields")
        .and_then(Value::as_bool)
        == Some(true);
    for (key, item) in map {
        let p = child(path, key);
        if let Some(prop) = properties.and_then(|props| props.get(key)) {
            walk(prop, item, Some(&p), errors);
            continue;
        }
        match additional {
            Some(Value::Object(_)) => walk(additional.unwrap_or(&Value::Null), item, Some(&p), errors),
            Some(Value::Bool(true)) => {}
            _ if preserve => {}
            // The apiserver's strict field validation (kubectl's default) refuses such fields.
            _ => errors.push(
                FieldError::invalid(p, Value::Null, "unknown field: not declared in the CRD's schema").without_value(),
            ),
        }
    }
    if let Some(max) = schema.get("maxProperties").and_then(Value::as_u64)
        && map.len() as u64 > max
    {
        errors.push(FieldError::too_many(path_or_root(path), map.len(), max as usize));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crd() -> CrdSchemas {
        let doc = json!({"kind": "CustomResourceDefinition", "spec": {"group": "example.com",
            "names": {"kind": "Widget"},
            "versions": [{"name": "v1", "served": true, "schema": {"openAPIV3Schema": {"type": "object",
                "properties": {"spec": {"type": "object", "required": ["size"], "properties": {
                    "size": {"type": "integer", "minimum": 1, "maximum": 10},
                    "color": {"type": "string", "enum": ["red", "blue"]},
                    "name": {"type": "string", "maxLength": 3, "pattern": "^[a-z]+$"},
                    "port": {"x-kubernetes-int-or-string": true},
                    "tags": {"type": "array", "maxItems": 1, "items": {"type": "string"}},
                    "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                    "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                    "when": {"type": "string", "format": "date-time"}}}}}}}]}});
        CrdSchemas::from_documents([&doc])
    }

    fn errors(spec: Value) -> Vec<String> {
        let obj = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": spec});
        crd().check(&obj).unwrap().iter().map(ToString::to_string).collect()
    }

    /// A Widget CRD whose spec carries CEL rules, one reading a nested list.
    fn cel_crd() -> CrdSchemas {
        let doc = json!({"kind": "CustomResourceDefinition", "spec": {"group": "example.com",
            "names": {"kind": "Gadget"},
            "versions": [{"name": "v1", "served": true, "schema": {"openAPIV3Schema": {"type": "object",
                "properties": {"spec": {"type": "object",
                    "x-kubernetes-validations": [
                        {"rule": "self.min <= self.max", "message": "min must not exceed max"},
                        {"rule": "!has(self.ports) || self.ports.all(p, p > 1024)"}],
                    "properties": {
                        "min": {"type": "integer"}, "max": {"type": "integer"},
                        "ports": {"type": "array", "items": {"type": "integer"}},
                        "quota": {"type": "object",
                            "x-kubernetes-validations": [{"rule": "self.resources.size() > 0",
                                "message": "quota resources must not be empty"}],
                            "properties": {"resources": {"type": "array", "items": {"type": "string"}}}}}}}}}}]}});
        CrdSchemas::from_documents([&doc])
    }

    fn cel_errors(spec: Value) -> Vec<String> {
        let obj = json!({"apiVersion": "example.com/v1", "kind": "Gadget", "metadata": {"name": "g"}, "spec": spec});
        cel_crd().check(&obj).unwrap().iter().map(ToString::to_string).collect()
    }

    #[test]
    fn cel_rules_are_evaluated_at_the_field_that_holds_them() {
        assert_eq!(
            cel_errors(json!({"min": 1, "max": 2, "ports": [2000]})),
            Vec::<String>::new()
        );
        let got = cel_errors(json!({"min": 3, "max": 2, "ports": [80], "quota": {"resources": []}}));
        assert_eq!(got.len(), 3, "{got:?}");
        assert!(
            got.iter()
                .any(|e| e.starts_with("spec: ") && e.contains("min must not exceed max")),
            "{got:?}"
        );
        assert!(
            got.iter()
                .any(|e| e.starts_with("spec: ") && e.contains("self.ports.all(p, p > 1024)")),
            "a rule without a message is named by its expression: {got:?}"
        );
        assert!(
            got.iter()
                .any(|e| e.starts_with("spec.quota: ") && e.contains("quota resources must not be empty")),
            "{got:?}"
        );
        // An object with a schema error is not evaluated further, as its values may not have the
        // types the rules expect.
        let got = cel_errors(json!({"min": "three", "max": 2}));
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(got[0].starts_with("spec.min: "), "{got:?}");
    }

    #[test]
    fn a_valid_object_has_no_errors() {
        assert!(
            errors(
                json!({"size": 2, "color": "red", "name": "ab", "port": "http", "tags": ["a"],
            "labels": {"a": "b"}, "free": {"x": {"y": 1}}, "when": "2026-01-01T00:00:00Z"})
            )
            .is_empty()
        );
    }

    #[test]
    fn every_broken_field_is_named() {
        let got = errors(
            json!({"size": 11, "color": "green", "name": "ABCD", "port": 1.5, "tags": ["a", 2],
            "labels": {"a": 1}, "extra": true, "when": "yesterday"}),
        );
        let mut fields: Vec<&str> = got.iter().map(|e| e.split(':').next().unwrap()).collect();
        fields.sort_unstable();
        assert_eq!(
            fields,
            [
                "spec.color",
                "spec.extra",
                "spec.labels.a",
                "spec.name",
                "spec.name",
                "spec.port",
                "spec.size",
                "spec.tags",
                "spec.tags[1]",
                "spec.when"
            ],
            "{got:#?}"
        );
        assert!(
            got.iter()
                .any(|e| e.contains("Unsupported value: \"green\": supported values: \"red\", \"blue\"")),
            "{got:#?}"
        );
        assert!(
            got.iter()
                .any(|e| e == "spec.name: Invalid value: Too long: may not be more than 3 bytes"),
            "{got:#?}"
        );
        assert!(
            got.iter()
                .any(|e| e.starts_with("spec.extra: Invalid value: unknown field")),
            "{got:#?}"
        );
        let missing = errors(json!({}));
        assert_eq!(missing, ["spec.size: Required value"]);
        // As the apiserver prunes nulls: a null is no error, but a null required field is missing.
        assert!(errors(json!({"size": 1, "color": null})).is_empty());
        assert_eq!(errors(json!({"size": null})), ["spec.size: Required value"]);
    }

    #[test]
    fn kinds_without_a_crd_are_not_judged() {
        assert!(crd().check(&json!({"apiVersion": "v1", "kind": "ConfigMap"})).is_none());
    }
}
