//! The type check: when an object does not decode into the typed resources, which fields have the
//! wrong JSON type, all of them at once.
//!
//! Decoding with serde stops at the first field it cannot read. To tell the user about every such
//! field, the schema the types derive (the same one the CRDs are generated from) is turned into a
//! plain JSON Schema (draft 2020-12) that accepts exactly what decoding accepts, as far as JSON
//! Schema can say it: every `$ref` inlined, every optional field nullable (an `Option` decodes from
//! `null`), free-form parts accepting anything, integer formats turned into their ranges and
//! `IntOrString` into "integer or string". It is compiled once, on first use, and only ever run
//! on the failure path: an object that decodes never meets it.

use std::sync::LazyLock;

use jsonschema::Validator;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use schemars::JsonSchema;
use schemars::generate::SchemaSettings;
use serde_json::{Map, Value, json};

use crate::cluster::Cluster;
use crate::field::{FieldError, Path};
use crate::machine::MachineDeployment;
use crate::request::ResourceKind;
use crate::schema;

/// A field the type check rejected: where it is in the object and what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TypeError {
    /// JSON pointer to the offending value (for a missing field, to the object that lacks it).
    pub pointer: String,
    pub error: FieldError,
}

/// The plain type schema of a resource: what decoding into `T` accepts, as JSON Schema. The root
/// also requires `metadata` and `spec`, which the derived root types cannot do without.
pub fn type_schema<T: JsonSchema>() -> Value {
    let mut generator = SchemaSettings::draft2020_12().for_deserialize().into_generator();
    let metadata = generator.subschema_for::<ObjectMeta>().to_value();
    // The root schema carries every definition generated so far, ObjectMeta's among them.
    let mut root = generator.root_schema_for::<T>().to_value();
    let defs = root
        .as_object_mut()
        .and_then(|r| r.remove("$defs"))
        .unwrap_or(Value::Null);
    if let Some(obj) = root.as_object_mut() {
        let props = obj.entry("properties").or_insert_with(|| Value::Object(Map::new()));
        if let Some(props) = props.as_object_mut() {
            props.insert("metadata".into(), metadata);
            props.insert("apiVersion".into(), json!({ "type": "string" }));
            props.insert("kind".into(), json!({ "type": "string" }));
        }
        obj.insert("required".into(), json!(["metadata", "spec"]));
    }
    let mut plain = plain(&root, &defs, 0);
    if let Some(obj) = plain.as_object_mut() {
        obj.insert("$schema".into(), json!("https://json-schema.org/draft/2020-12/schema"));
    }
    plain
}

/// Deeper than any of the types nest; guards against a recursive type.
const MAX_DEPTH: usize = 48;

/// Keywords of the derived schema that constrain what decodes; everything else (descriptions,
/// formats, Kubernetes extensions) is dropped or translated.
const KEPT: [&str; 6] = ["type", "required", "minimum", "maximum", "enum", "const"];

fn plain(node: &Value, defs: &Value, depth: usize) -> Value {
    let Some(obj) = node.as_object() else {
        return node.clone();
    };
    if depth > MAX_DEPTH {
        return Value::Bool(true);
    }
    if let Some(reference) = obj.get("$ref").and_then(Value::as_str) {
        let target = reference
            .strip_prefix("#/$defs/")
            .and_then(|name| defs.get(name.replace("~1", "/").replace("~0", "~")));
        return match target {
            Some(def) => plain(def, defs, depth + 1),
            None => Value::Bool(true),
        };
    }
    if obj.get("x-kubernetes-int-or-string") == Some(&Value::Bool(true)) {
        return json!({ "type": ["integer", "string"], "minimum": i32::MIN, "maximum": i32::MAX });
    }
    if let Some(branches) = obj.get("anyOf").and_then(Value::as_array) {
        let null = json!({ "type": "null" });
        let others: Vec<&Value> = branches.iter().filter(|b| **b != null).collect();
        return match others.as_slice() {
            // `Option<T>`: T, or null.
            [one] if branches.len() == 2 => nullable(plain(one, defs, depth + 1)),
            _ => json!({ "anyOf": branches.iter().map(|b| plain(b, defs, depth + 1)).collect::<Vec<_>>() }),
        };
    }
    let mut out = Map::new();
    for key in KEPT {
        if let Some(v) = obj.get(key) {
            out.insert(key.to_owned(), v.clone());
        }
    }
    if let Some((min, max)) = obj.get("format").and_then(Value::as_str).and_then(integer_range) {
        out.entry("minimum").or_insert(min);
        out.entry("maximum").or_insert(max);
    }
    if let Some(props) = obj.get("properties").and_then(Value::as_object) {
        let required: Vec<&str> = obj
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let props: Map<String, Value> = props
            .iter()
            .map(|(name, sub)| {
                let sub = plain(sub, defs, depth + 1);
                // An optional field decodes from `null` as well.
                let sub = if required.contains(&name.as_str()) {
                    sub
                } else {
                    nullable(sub)
                };
                (name.clone(), sub)
            })
            .collect();
        out.insert("properties".into(), Value::Object(props));
    }
    for key in ["items", "additionalProperties"] {
        if let Some(sub) = obj.get(key) {
            out.insert(key.to_owned(), plain(sub, defs, depth + 1));
        }
    }
    if out.is_empty() {
        // Free-form JSON (`x-kubernetes-preserve-unknown-fields` and the like).
        return Value::Bool(true);
    }
    Value::Object(out)
}

/// The same schema, accepting `null` too.
fn nullable(mut schema: Value) -> Value {
    let Some(obj) = schema.as_object_mut() else {
        return schema;
    };
    match obj.get_mut("type") {
        Some(Value::String(t)) => {
            let t = std::mem::take(t);
            if t != "null" {
                obj.insert("type".into(), json!([t, "null"]));
            }
        }
        Some(Value::Array(types)) => {
            if !types.iter().any(|t| t == "null") {
                types.push(json!("null"));
            }
        }
        Some(_) => {}
        None => {
            if let Some(Value::Array(branches)) = obj.get_mut("anyOf") {
                branches.push(json!({ "type": "null" }));
            }
        }
    }
    schema
}

/// The range of a Rust integer type, by the `format` schemars gives it.
fn integer_range(format: &str) -> Option<(Value, Value)> {
    let (min, max): (i128, i128) = match format {
        "int8" => (i8::MIN.into(), i8::MAX.into()),
        "int16" => (i16::MIN.into(), i16::MAX.into()),
        "int32" => (i32::MIN.into(), i32::MAX.into()),
        "int64" | "int" => (i64::MIN.into(), i64::MAX.into()),
        "uint8" => (0, u8::MAX.into()),
        "uint16" => (0, u16::MAX.into()),
        "uint32" => (0, u32::MAX.into()),
        "uint64" | "uint" => (0, u64::MAX.into()),
        _ => return None,
    };
    let number = |n: i128| {
        i64::try_from(n)
            .map(Value::from)
            .or_else(|_| u64::try_from(n).map(Value::from))
            .ok()
    };
    Some((number(min)?, number(max)?))
}

/// A compiled type schema, with the schema itself to name fields by.
struct TypeSchema {
    schema: Value,
    validator: Validator,
}

impl TypeSchema {
    fn new(kind: &str, schema: Value) -> Self {
        // The schema is derived from the crate's own types, and the tests compile it: a failure
        // here is a build defect, not bad input.
        let validator =
            schema::compile(&schema).unwrap_or_else(|e| panic!("the {kind} type schema does not compile: {e}"));
        TypeSchema { schema, validator }
    }
}

static CLUSTER: LazyLock<TypeSchema> = LazyLock::new(|| TypeSchema::new("Cluster", type_schema::<Cluster>()));
static MACHINE_DEPLOYMENT: LazyLock<TypeSchema> =
    LazyLock::new(|| TypeSchema::new("MachineDeployment", type_schema::<MachineDeployment>()));

/// The field path of a JSON pointer, the way Kubernetes writes it: map entries as `labels[key]`,
/// list elements as `cidrBlocks[0]`, struct fields as `.name`. The schema says which is which.
fn field_path(schema: &Value, pointer: &str) -> Path {
    let mut path = Path::default();
    let mut node = Some(schema);
    for segment in pointer.split('/').skip(1) {
        let segment = segment.replace("~1", "/").replace("~0", "~");
        let here = node.and_then(Value::as_object);
        let field = here.and_then(|n| n.get("properties")).and_then(|p| p.get(&segment));
        if let Some(field) = field {
            path = path.child(&segment);
            node = Some(field);
        } else if let (Some(items), Ok(i)) = (here.and_then(|n| n.get("items")), segment.parse::<usize>()) {
            path = path.index(i);
            node = Some(items);
        } else if let Some(entry) = here
            .filter(|n| !n.contains_key("properties"))
            .and_then(|n| n.get("additionalProperties"))
        {
            path = path.key(&segment);
            node = Some(entry);
        } else {
            path = path.child(&segment);
            node = None;
        }
    }
    path
}

fn checker(kind: &ResourceKind) -> Option<&'static TypeSchema> {
    match kind {
        ResourceKind::Cluster => Some(&CLUSTER),
        ResourceKind::MachineDeployment => Some(&MACHINE_DEPLOYMENT),
        ResourceKind::Other { .. } => None,
    }
}

/// The field path of a JSON pointer into an object of this kind.
pub(crate) fn field_path_in(kind: &ResourceKind, pointer: &str) -> Path {
    match checker(kind) {
        Some(c) => field_path(&c.schema, pointer),
        None => Path::default().pointer(pointer),
    }
}

/// The most wrong-typed fields the type check names; past it, it stops looking. An object with
/// this many is not a typo to fix field by field, and looking further only costs time and memory.
pub const MAX_TYPE_ERRORS: usize = 1000;

/// What the type check found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TypeCheck {
    /// The fields of the wrong type, sorted by field path: every one, or the first
    /// [`MAX_TYPE_ERRORS`] found when [`TypeCheck::incomplete`].
    pub errors: Vec<TypeError>,
    /// Whether the check stopped at [`MAX_TYPE_ERRORS`] with more to find.
    pub incomplete: bool,
}

/// Every field of `object` whose JSON type does not fit the typed resource, sorted by field path;
/// at most [`MAX_TYPE_ERRORS`] of them. Empty for an object that decodes, and for kinds that are
/// not ours.
pub fn type_errors(kind: &ResourceKind, object: &Value) -> Vec<TypeError> {
    type_check(kind, object).errors
}

/// [`type_errors`], and whether the check stopped before it found them all.
pub fn type_check(kind: &ResourceKind, object: &Value) -> TypeCheck {
    let Some(checker) = checker(kind) else {
        return TypeCheck::default();
    };
    let mut errors: Vec<TypeError> = Vec::new();
    let mut incomplete = false;
    for e in checker.validator.iter_errors(object) {
        if errors.len() >= MAX_TYPE_ERRORS {
            incomplete = true;
            break;
        }
        let pointer = e.instance_path().as_str().to_owned();
        let dotted = Path::default().pointer(&pointer);
        let named = field_path(&checker.schema, &pointer);
        for mut error in schema::field_errors(&e, &Path::default()) {
            if let Some(rest) = error.field.as_str().strip_prefix(dotted.as_str()) {
                error.field = Path::root(&format!("{named}{rest}"));
            }
            errors.push(TypeError {
                pointer: pointer.clone(),
                error,
            });
        }
    }
    errors.sort_by_cached_key(|e| (e.error.field.clone(), e.error.to_string()));
    errors.dedup();
    TypeCheck { errors, incomplete }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn optional_fields_take_null_and_integers_their_range() {
        let schema = type_schema::<MachineDeployment>();
        let replicas = &schema["properties"]["spec"]["properties"]["replicas"];
        assert_eq!(
            replicas,
            &json!({ "type": ["integer", "null"], "minimum": i32::MIN, "maximum": i32::MAX })
        );
        let key = &schema["properties"]["spec"]["properties"]["selector"]["properties"]["matchExpressions"]["items"]["properties"]
            ["key"];
        assert_eq!(key, &json!({ "type": "string" }), "required fields stay non-null");
        assert_eq!(
            schema["properties"]["spec"]["properties"]["template"]["properties"]["spec"]["properties"]["providerSpec"]
                ["properties"]["value"]["properties"]["cloudProviderSpec"],
            Value::Bool(true),
            "free-form parts accept anything"
        );
    }

    #[test]
    fn int_or_string_takes_either() {
        let schema = type_schema::<MachineDeployment>();
        let surge = &schema["properties"]["spec"]["properties"]["strategy"]["properties"]["rollingUpdate"]["properties"]
            ["maxSurge"];
        assert_eq!(surge["type"], json!(["integer", "string", "null"]));
    }

    #[test]
    fn every_type_error_is_found() {
        let object = json!({
            "apiVersion": "kubermatic.k8c.io/v1", "kind": "Cluster",
            "metadata": { "name": "x", "labels": { "a": 1 } },
            "spec": { "version": 1.35, "pause": "yes", "clusterNetwork": { "pods": { "cidrBlocks": "10.0.0.0/8" } } }
        });
        let found: Vec<(String, String)> = type_errors(&ResourceKind::Cluster, &object)
            .into_iter()
            .map(|e| (e.pointer, e.error.to_string()))
            .collect();
        assert_eq!(
            found,
            [
                (
                    "/metadata/labels/a".to_owned(),
                    "metadata.labels[a]: Invalid value: 1: must be of type string".to_owned()
                ),
                (
                    "/spec/clusterNetwork/pods/cidrBlocks".to_owned(),
                    "spec.clusterNetwork.pods.cidrBlocks: Invalid value: \"10.0.0.0/8\": must be of type array"
                        .to_owned()
                ),
                (
                    "/spec/pause".to_owned(),
                    "spec.pause: Invalid value: \"yes\": must be of type boolean".to_owned()
                ),
                (
                    "/spec/version".to_owned(),
                    "spec.version: Invalid value: 1.35: must be of type string".to_owned()
                ),
            ]
        );
    }

    #[test]
    fn the_check_stops_after_the_first_thousand() {
        let blocks: Vec<Value> = (0..5 * MAX_TYPE_ERRORS).map(|i| json!(i)).collect();
        let object = json!({
            "apiVersion": "kubermatic.k8c.io/v1", "kind": "Cluster", "metadata": { "name": "x" },
            "spec": { "clusterNetwork": { "pods": { "cidrBlocks": blocks } } }
        });
        let found = type_check(&ResourceKind::Cluster, &object);
        assert!(found.incomplete);
        assert_eq!(found.errors.len(), MAX_TYPE_ERRORS);
        let few = json!({ "metadata": { "name": "x" }, "spec": { "pause": "yes" } });
        let found = type_check(&ResourceKind::Cluster, &few);
        assert!(!found.incomplete);
        assert_eq!(found.errors.len(), 1);
    }

    #[test]
    fn missing_root_parts_are_required() {
        let found: Vec<String> = type_errors(
            &ResourceKind::MachineDeployment,
            &json!({ "kind": "MachineDeployment" }),
        )
        .into_iter()
        .map(|e| e.error.to_string())
        .collect();
        assert_eq!(found, ["metadata: Required value", "spec: Required value"]);
    }
}
