//! Objects out of text: a multi-document YAML stream, or JSON (one object, several objects in a
//! row, or an array). `List` objects (`kind: List`, `ConfigMapList`, … with `items`) are unpacked,
//! as kubectl does, and empty documents are dropped.

use std::fmt;

use serde::Deserialize;
use serde_json::Value;

/// One object and where it was in the text.
#[derive(Clone, Debug, PartialEq)]
pub struct Document {
    /// The document's number in the stream, from 1.
    pub number: usize,
    /// Its index in the `items` of a `List` document, when it came from one.
    pub item: Option<usize>,
    pub value: Value,
}

impl Document {
    pub fn place(&self) -> Place {
        Place {
            number: self.number,
            item: self.item,
        }
    }
}

/// "document 2" or "document 1, item 3".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Place {
    pub number: usize,
    pub item: Option<usize>,
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "document {}", self.number)?;
        if let Some(i) = self.item {
            write!(f, ", item {}", i + 1)?;
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    #[error("document {number}: invalid YAML: {source}")]
    Yaml { number: usize, source: serde_yaml::Error },
    #[error("document {number}: invalid JSON: {source}")]
    Json { number: usize, source: serde_json::Error },
    #[error("{place}: not an object: expected a map with apiVersion, kind and metadata")]
    NotAnObject { place: Place },
}

/// Every object in the text, plus the errors met on the way. Reading stops at the first syntax
/// error, since nothing after it can be trusted to be where it seems.
pub fn parse_stream(text: &str) -> (Vec<Document>, Vec<DocumentError>) {
    let mut docs = Vec::new();
    let mut errors = Vec::new();
    let mut push = |number: usize, value: Value, errors: &mut Vec<DocumentError>| match value {
        Value::Null => {}
        Value::Object(_) if is_list(&value) => {
            let items = value
                .get("items")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            for (i, item) in items.into_iter().enumerate() {
                let place = Place { number, item: Some(i) };
                if item.is_object() {
                    docs.push(Document {
                        number,
                        item: Some(i),
                        value: item,
                    });
                } else {
                    errors.push(DocumentError::NotAnObject { place });
                }
            }
        }
        Value::Object(_) => docs.push(Document {
            number,
            item: None,
            value,
        }),
        _ => errors.push(DocumentError::NotAnObject {
            place: Place { number, item: None },
        }),
    };
    if looks_like_json(text) {
        for (i, item) in serde_json::Deserializer::from_str(text)
            .into_iter::<Value>()
            .enumerate()
        {
            match item {
                Ok(Value::Array(values)) => {
                    for value in values {
                        push(i + 1, value, &mut errors);
                    }
                }
                Ok(value) => push(i + 1, value, &mut errors),
                Err(source) => {
                    errors.push(DocumentError::Json { number: i + 1, source });
                    break;
                }
            }
        }
    } else {
        for (i, doc) in serde_yaml::Deserializer::from_str(text).enumerate() {
            match Value::deserialize(doc) {
                Ok(value) => push(i + 1, value, &mut errors),
                Err(source) => {
                    errors.push(DocumentError::Yaml { number: i + 1, source });
                    break;
                }
            }
        }
    }
    (docs, errors)
}

/// Text that starts like JSON and whose first value parses as JSON; YAML flow mappings such as
/// `{a: 1}` start the same way but are read as YAML.
fn looks_like_json(text: &str) -> bool {
    text.trim_start().starts_with(['{', '['])
        && serde_json::Deserializer::from_str(text)
            .into_iter::<Value>()
            .next()
            .is_some_and(|first| first.is_ok())
}

fn is_list(value: &Value) -> bool {
    value
        .get("kind")
        .and_then(Value::as_str)
        .is_some_and(|k| k.ends_with("List"))
        && value.get("items").is_some_and(Value::is_array)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(text: &str) -> Vec<Value> {
        let (docs, errors) = parse_stream(text);
        assert!(errors.is_empty(), "{errors:?}");
        docs.into_iter().map(|d| d.value).collect()
    }

    #[test]
    fn yaml_streams_split_and_skip_empty_documents() {
        let docs = values("---\na: 1\n---\n# only a comment\n---\nb: 2\n");
        assert_eq!(docs, [serde_json::json!({"a": 1}), serde_json::json!({"b": 2})]);
        let (docs, _) = parse_stream("a: 1\n---\nb: 2\n");
        assert_eq!(docs[1].number, 2);
    }

    #[test]
    fn yaml_flow_mappings_are_not_taken_for_json() {
        assert_eq!(values("{a: 1, b: [x]}\n"), [serde_json::json!({"a": 1, "b": ["x"]})]);
    }

    #[test]
    fn json_objects_arrays_and_lists() {
        assert_eq!(values(r#"{"a": 1} {"b": 2}"#).len(), 2);
        assert_eq!(values(r#"[{"a": 1}, {"b": 2}]"#).len(), 2);
        let (docs, _) = parse_stream(r#"{"apiVersion": "v1", "kind": "List", "items": [{"a": 1}, {"b": 2}]}"#);
        assert_eq!(docs[1].place().to_string(), "document 1, item 2");
    }

    #[test]
    fn errors_name_the_document() {
        let (docs, errors) = parse_stream("a: 1\n---\nb: [\n---\nc: 3\n");
        assert_eq!(docs.len(), 1);
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0].to_string().starts_with("document 2: invalid YAML"),
            "{}",
            errors[0]
        );
        let (_, errors) = parse_stream("- a\n");
        assert_eq!(
            errors[0].to_string(),
            "document 1: not an object: expected a map with apiVersion, kind and metadata"
        );
        let (_, errors) = parse_stream("{\"a\": 1} {\"b\": ");
        assert!(
            errors[0].to_string().starts_with("document 2: invalid JSON"),
            "{}",
            errors[0]
        );
    }
}
