//! The provider schemas: JSON Schemas (draft 2020-12) for a Cluster's `spec.cloud.<provider>`
//! block, a MachineDeployment's `cloudProviderSpec` and its `operatingSystemSpec`.
//!
//! The schema files live in `crds/schemas/` and are embedded at build time; every one is compiled
//! once, on first use, with format checks on and four custom formats: `cidr` (an IPv4 or IPv6
//! CIDR), `semver` (a semantic version, leading `v` allowed), `base64` (standard alphabet) and
//! `json-or-base64-json` (a JSON object, plain or base64-encoded).
//! Shared definitions (machine-controller's value-or-reference `configVarString` and
//! `configVarBool`, credential references, CIDR lists) are in `common.json`, which the others
//! reference by its `$id`; nothing is fetched.
//!
//! [`check`] turns schema errors into Kubernetes-style [`FieldError`]s. Cross-field rules in the
//! schemas carry an `x-kkp-error` annotation next to the keyword that checks them, which says
//! which field the error is about, what kind of error it is and what to tell the user. Fields
//! marked `writeOnly` hold secrets; their values are never put into a message.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::sync::{LazyLock, OnceLock};

use base64::Engine as _;
use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::{JsonType, Registry, ValidationError, Validator};
use serde_json::{Map, Value};

use crate::field::{ErrorType, FieldError, Path};
use crate::providers::{OperatingSystem, Provider};

/// The base of every schema's `$id`.
pub const BASE_URI: &str = "https://kubectl-kkp.github.io/schemas/";

/// What is shown instead of a secret's value.
const REDACTED: &str = "<redacted>";

/// A schema that could not be compiled.
#[derive(Debug, thiserror::Error)]
#[error("invalid schema: {0}")]
pub struct SchemaError(String);

/// Property names marked `writeOnly` anywhere: their values are secrets.
static SENSITIVE: LazyLock<BTreeSet<&'static str>> = LazyLock::new(|| {
    let mut names = BTreeSet::new();
    for doc in DOCUMENTS.all() {
        collect_write_only(doc, &mut names);
    }
    names
});

fn collect_write_only<'a>(node: &'a Value, names: &mut BTreeSet<&'a str>) {
    match node {
        Value::Object(map) => {
            if let Some(props) = map.get("properties").and_then(Value::as_object) {
                for (name, sub) in props {
                    if sub.get("writeOnly").and_then(Value::as_bool) == Some(true) {
                        names.insert(name.as_str());
                    }
                }
            }
            map.values().for_each(|v| collect_write_only(v, names));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_write_only(v, names)),
        _ => {}
    }
}

static REGISTRY: LazyLock<Registry<'static>> = LazyLock::new(|| {
    let common: &'static Value = &DOCUMENTS.common;
    let id = common.get("$id").and_then(Value::as_str).unwrap_or_default();
    Registry::new()
        .add(id, common)
        .and_then(|builder| builder.prepare())
        .unwrap_or_else(|e| panic!("embedded common.json cannot be registered: {e}"))
});

fn is_cidr(s: &str) -> bool {
    s.parse::<ipnet::IpNet>().is_ok()
}

fn is_semver(s: &str) -> bool {
    semver::Version::parse(s.strip_prefix('v').unwrap_or(s)).is_ok()
}

fn is_base64(s: &str) -> bool {
    base64::engine::general_purpose::STANDARD.decode(s).is_ok()
}

/// A JSON document given as itself or base64-encoded, as machine-controller reads a GCE service
/// account: empty means "from the environment".
fn is_json_or_base64_json(s: &str) -> bool {
    let parses = |bytes: &[u8]| serde_json::from_slice::<Map<String, Value>>(bytes).is_ok();
    s.is_empty()
        || parses(s.as_bytes())
        || base64::engine::general_purpose::STANDARD
            .decode(s.trim())
            .is_ok_and(|bytes| parses(&bytes))
}

/// Compiles a schema the way the provider schemas are compiled: draft 2020-12, formats checked
/// (including `cidr`, `semver` and `base64`), `common.json` resolvable by its `$id`, nothing
/// fetched.
pub fn compile(schema: &Value) -> Result<Validator, SchemaError> {
    jsonschema::draft202012::options()
        .with_registry(&REGISTRY)
        .should_validate_formats(true)
        .with_format("cidr", is_cidr)
        .with_format("semver", is_semver)
        .with_format("base64", is_base64)
        .with_format("json-or-base64-json", is_json_or_base64_json)
        .build(schema)
        .map_err(|e| SchemaError(e.to_string()))
}

fn compile_embedded(path: &str, schema: &Value) -> Validator {
    compile(schema).unwrap_or_else(|e| panic!("embedded schema {path} does not compile: {e}"))
}

// Each validator is compiled the first time it is asked for, so a run that checks one provider
// (the plugin's `generate`, say) compiles only that provider's schemas.
static CLUSTER_VALIDATORS: [OnceLock<Validator>; Provider::ALL.len()] =
    [const { OnceLock::new() }; Provider::ALL.len()];
static MACHINE_VALIDATORS: [OnceLock<Validator>; Provider::ALL.len()] =
    [const { OnceLock::new() }; Provider::ALL.len()];
static OS_VALIDATORS: [OnceLock<Validator>; OperatingSystem::ALL.len()] =
    [const { OnceLock::new() }; OperatingSystem::ALL.len()];

fn provider_slot(p: Provider) -> usize {
    Provider::ALL.iter().position(|q| *q == p).unwrap_or_default()
}

fn os_slot(os: OperatingSystem) -> usize {
    OperatingSystem::ALL.iter().position(|o| *o == os).unwrap_or_default()
}

/// The validator for a Cluster's `spec.cloud.<provider>` block.
pub fn cluster_cloud_schema(p: Provider) -> &'static Validator {
    let slot = provider_slot(p);
    CLUSTER_VALIDATORS[slot].get_or_init(|| compile_embedded(cluster_source(p).0, &DOCUMENTS.cluster[slot]))
}

/// The validator for a MachineDeployment's `cloudProviderSpec`.
pub fn machine_cloud_schema(p: Provider) -> &'static Validator {
    let slot = provider_slot(p);
    MACHINE_VALIDATORS[slot].get_or_init(|| compile_embedded(machine_source(p).0, &DOCUMENTS.machine[slot]))
}

/// The validator for a MachineDeployment's `operatingSystemSpec`.
pub fn os_schema(os: OperatingSystem) -> &'static Validator {
    let slot = os_slot(os);
    OS_VALIDATORS[slot].get_or_init(|| compile_embedded(os_source(os).0, &DOCUMENTS.os[slot]))
}

/// The schema of a Cluster's `spec.cloud.<provider>` block, as JSON.
pub fn cluster_cloud_schema_json(p: Provider) -> &'static Value {
    &DOCUMENTS.cluster[provider_slot(p)]
}

/// The schema of a MachineDeployment's `cloudProviderSpec`, as JSON.
pub fn machine_cloud_schema_json(p: Provider) -> &'static Value {
    &DOCUMENTS.machine[provider_slot(p)]
}

/// The schema of a MachineDeployment's `operatingSystemSpec`, as JSON.
pub fn os_schema_json(os: OperatingSystem) -> &'static Value {
    &DOCUMENTS.os[os_slot(os)]
}

/// The shared definitions every provider schema references.
pub fn common_schema_json() -> &'static Value {
    &DOCUMENTS.common
}

/// Validates `instance` and returns every problem as a field error under `base`, sorted by field
/// path and without duplicates.
pub fn check(validator: &Validator, instance: &Value, base: &Path) -> Vec<FieldError> {
    let mut errors: Vec<FieldError> = validator
        .iter_errors(instance)
        .flat_map(|e| field_errors(&e, base))
        .collect();
    errors.sort_by_cached_key(|e| (e.field.clone(), e.to_string()));
    errors.dedup();
    // A bare "Required value" says nothing a rule's explained one about the same field does not.
    let explained: BTreeSet<Path> = errors
        .iter()
        .filter(|e| e.error_type == ErrorType::Required && !e.detail.is_empty())
        .map(|e| e.field.clone())
        .collect();
    errors.retain(|e| !(e.error_type == ErrorType::Required && e.detail.is_empty() && explained.contains(&e.field)));
    errors
}

/// An `x-kkp-error` annotation: how to report the failure of the keyword next to it.
struct Rule<'a> {
    kind: &'a str,
    field: Option<&'a str>,
    fields: Vec<&'a str>,
    message: &'a str,
}

impl<'a> Rule<'a> {
    fn from_node(node: &'a Value) -> Option<Self> {
        let rule = node.get("x-kkp-error")?;
        Some(Rule {
            kind: rule.get("type").and_then(Value::as_str).unwrap_or("invalid"),
            field: rule.get("field").and_then(Value::as_str),
            fields: rule
                .get("fields")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default(),
            message: rule.get("message").and_then(Value::as_str).unwrap_or_default(),
        })
    }
}

/// The schema node that holds the failed keyword, found through the error's absolute keyword
/// location (`<document $id>#<pointer to the keyword>`).
fn keyword_parent(error: &ValidationError<'_>) -> Option<&'static Value> {
    let location = error.absolute_keyword_location()?;
    let (id, fragment) = location.as_str().split_once('#')?;
    let doc = BY_ID.get(id)?;
    let pointer = percent_decode(fragment);
    let parent = pointer.rsplit_once('/').map(|(parent, _keyword)| parent)?;
    doc.pointer(parent)
}

fn is_sensitive(pointer: &str) -> bool {
    pointer.split('/').any(|segment| SENSITIVE.contains(segment))
}

/// A value to show in a message: the value itself, or a placeholder for a secret.
fn shown(value: &Value, pointer: &str) -> Value {
    if is_sensitive(pointer) {
        Value::String(REDACTED.to_owned())
    } else {
        value.clone()
    }
}

fn dotted_pointer(field: &str) -> String {
    format!("/{}", field.replace('.', "/"))
}

fn rule_error(rule: &Rule<'_>, at: &Path, instance: &Value, pointer: &str) -> FieldError {
    let target = match rule.field {
        Some(field) => at.child(field),
        None => at.clone(),
    };
    match rule.kind {
        "required" => FieldError::required(target, rule.message),
        "forbidden" => FieldError::forbidden(target, rule.message),
        _ => {
            let value = if !rule.fields.is_empty() {
                let mut shown_fields = Map::new();
                for field in &rule.fields {
                    let inner = dotted_pointer(field);
                    if let Some(v) = instance.pointer(&inner) {
                        shown_fields.insert((*field).to_owned(), shown(v, &format!("{pointer}{inner}")));
                    }
                }
                Value::Object(shown_fields)
            } else if let Some(field) = rule.field {
                let inner = dotted_pointer(field);
                instance
                    .pointer(&inner)
                    .map(|v| shown(v, &format!("{pointer}{inner}")))
                    .unwrap_or(Value::Null)
            } else {
                shown(instance, pointer)
            };
            FieldError::invalid(target, value, rule.message)
        }
    }
}

fn describe_types(kind: &TypeKind) -> String {
    let types: Vec<JsonType> = match kind {
        TypeKind::Single(t) => vec![*t],
        TypeKind::Multiple(set) => set.iter().collect(),
    };
    let named: Vec<&str> = types
        .iter()
        .filter(|t| **t != JsonType::Null)
        .map(|t| t.as_str())
        .collect();
    match named.as_slice() {
        [] => "must be null".to_owned(),
        [one] => format!("must be of type {one}"),
        many => format!("must be of type {}", many.join(" or ")),
    }
}

fn describe_format(format: &str) -> String {
    match format {
        "cidr" => "must be a CIDR such as 10.0.0.0/16 or fd00::/64".to_owned(),
        "semver" => "must be a semantic version such as 1.30.2".to_owned(),
        "base64" => "must be base64-encoded".to_owned(),
        "json-or-base64-json" => "must be a JSON document, as it is or base64-encoded".to_owned(),
        other => format!("must be a valid {other}"),
    }
}

fn option_names(options: &Value) -> Vec<String> {
    options
        .as_array()
        .map(|a| {
            a.iter()
                .map(|o| o.as_str().map_or_else(|| o.to_string(), str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

pub(crate) fn field_errors(error: &ValidationError<'_>, base: &Path) -> Vec<FieldError> {
    let pointer = error.instance_path().as_str();
    let at = base.pointer(pointer);
    let instance: &Value = error.instance();
    if let Some(rule) = keyword_parent(error).and_then(Rule::from_node) {
        return vec![rule_error(&rule, &at, instance, pointer)];
    }
    let value = shown(instance, pointer);
    let error = match error.kind() {
        ValidationErrorKind::Required { property } => {
            let name = property.as_str().map_or_else(|| property.to_string(), str::to_owned);
            FieldError::required(at.child(&name), "")
        }
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            return unexpected
                .iter()
                .map(|name| FieldError::forbidden(at.child(name), "unknown field; machine-controller rejects it"))
                .collect();
        }
        ValidationErrorKind::Enum { options } => FieldError::not_supported(at, value, &option_names(options)),
        ValidationErrorKind::Constant { expected_value } => {
            FieldError::invalid(at, value, format!("must be {expected_value}"))
        }
        ValidationErrorKind::Type { kind } => FieldError::invalid(at, value, describe_types(kind)),
        ValidationErrorKind::Format { format } => FieldError::invalid(at, value, describe_format(format)),
        ValidationErrorKind::MinLength { limit } if instance.as_str() == Some("") && *limit == 1 => {
            FieldError::required(at, "")
        }
        ValidationErrorKind::MinLength { limit } => {
            FieldError::invalid(at, value, format!("must be at least {limit} characters long"))
        }
        ValidationErrorKind::MaxLength { limit } => {
            FieldError::invalid(at, value, format!("must be at most {limit} characters long"))
        }
        ValidationErrorKind::Minimum { limit } => {
            FieldError::invalid(at, value, format!("must be greater than or equal to {limit}"))
        }
        ValidationErrorKind::Maximum { limit } => {
            FieldError::invalid(at, value, format!("must be less than or equal to {limit}"))
        }
        ValidationErrorKind::ExclusiveMinimum { limit } => {
            FieldError::invalid(at, value, format!("must be greater than {limit}"))
        }
        ValidationErrorKind::ExclusiveMaximum { limit } => {
            FieldError::invalid(at, value, format!("must be less than {limit}"))
        }
        ValidationErrorKind::MinItems { limit } => {
            FieldError::invalid(at, value, format!("must have at least {limit} items"))
        }
        ValidationErrorKind::MaxItems { limit } => FieldError::too_many(
            at,
            instance.as_array().map_or(0, Vec::len),
            usize::try_from(*limit).unwrap_or(usize::MAX),
        ),
        ValidationErrorKind::Pattern { pattern } => {
            FieldError::invalid(at, value, format!("must match the pattern {pattern}"))
        }
        ValidationErrorKind::UniqueItems => FieldError::invalid(at, value, "must not contain duplicates"),
        ValidationErrorKind::AnyOf { .. } | ValidationErrorKind::OneOfNotValid { .. } => {
            FieldError::invalid(at, value, "does not match any of the allowed forms")
        }
        ValidationErrorKind::OneOfMultipleValid { .. } => {
            FieldError::invalid(at, value, "matches more than one of the allowed forms")
        }
        ValidationErrorKind::Not { .. } => FieldError::invalid(at, value, "is not allowed here"),
        ValidationErrorKind::FalseSchema => FieldError::forbidden(at, "may not be set"),
        ValidationErrorKind::Custom { message, .. } => FieldError::invalid(at, value, message.clone()),
        _ => FieldError::invalid(at, value, error.masked().to_string()),
    };
    vec![error]
}

/// Inserts the schema's `default` for every property the instance lacks, and descends into the
/// properties (and list items) it has. `$ref`s into the same document or an embedded one are
/// followed. Only absent properties are filled, so applying defaults twice changes nothing.
pub fn apply_defaults(schema: &Value, instance: &mut Value) {
    defaults::fill(schema, instance, Unset::Absent);
}

/// [`apply_defaults`] the way machine-controller defaults a Go struct: a property that holds its
/// Go zero value (`null`, `""` or `0`) counts as unset and gets the default too.
pub fn apply_defaults_over_zero_values(schema: &Value, instance: &mut Value) {
    defaults::fill(schema, instance, Unset::AbsentOrZero);
}

/// `instance` without `null` properties (at any depth), which Go's decoder skips: what the schemas
/// check on the machine side. Borrowed when there are none, as in almost every object.
pub fn without_nulls(instance: &Value) -> Cow<'_, Value> {
    if has_null_property(instance) {
        Cow::Owned(strip_nulls(instance))
    } else {
        Cow::Borrowed(instance)
    }
}

fn has_null_property(instance: &Value) -> bool {
    match instance {
        Value::Object(map) => map.values().any(|v| v.is_null() || has_null_property(v)),
        Value::Array(items) => items.iter().any(has_null_property),
        _ => false,
    }
}

fn strip_nulls(instance: &Value) -> Value {
    match instance {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), strip_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(strip_nulls).collect()),
        other => other.clone(),
    }
}

mod defaults;
mod documents;

use defaults::Unset;
use documents::{BY_ID, DOCUMENTS, cluster_source, machine_source, os_source, percent_decode};

#[cfg(test)]
mod tests;
