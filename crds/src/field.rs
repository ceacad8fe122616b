//! Field errors in the style of Kubernetes' `field.ErrorList`: every error names the field path it is
//! about, so `spec.cloud.aws.vpcID: Required value` reads the same from the plugin and the webhook.

use std::fmt;

use serde::Serialize;

/// A path to a field, written the way Kubernetes writes it: `spec.clusterNetwork.pods.cidrBlocks[0]`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Path(String);

impl Path {
    pub fn root(name: &str) -> Self {
        Path(name.to_owned())
    }

    /// A child field.
    pub fn child(&self, name: &str) -> Self {
        if self.0.is_empty() {
            Path(name.to_owned())
        } else {
            Path(format!("{}.{name}", self.0))
        }
    }

    /// An element of a list.
    pub fn index(&self, i: usize) -> Self {
        Path(format!("{}[{i}]", self.0))
    }

    /// An entry of a map.
    pub fn key(&self, k: &str) -> Self {
        Path(format!("{}[{k}]", self.0))
    }

    /// A path from a JSON pointer (`/spec/cloud/aws`), relative to this one.
    pub fn pointer(&self, pointer: &str) -> Self {
        let mut out = self.clone();
        for segment in pointer.split('/').skip(1) {
            let segment = segment.replace("~1", "/").replace("~0", "~");
            out = match segment.parse::<usize>() {
                Ok(i) => out.index(i),
                Err(_) => out.child(&segment),
            };
        }
        out
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Path {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// What kind of problem a field has; mirrors `k8s.io/apimachinery/pkg/util/validation/field.ErrorType`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ErrorType {
    Required,
    Invalid,
    NotSupported,
    Forbidden,
    Duplicate,
    TooMany,
}

impl ErrorType {
    fn phrase(&self) -> &'static str {
        match self {
            ErrorType::Required => "Required value",
            ErrorType::Invalid => "Invalid value",
            ErrorType::NotSupported => "Unsupported value",
            ErrorType::Forbidden => "Forbidden",
            ErrorType::Duplicate => "Duplicate value",
            ErrorType::TooMany => "Too many",
        }
    }
}

/// One problem with one field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: Path,
    #[serde(rename = "type")]
    pub error_type: ErrorType,
    /// The offending value, rendered as in Kubernetes messages (strings quoted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Extra detail; may be empty.
    pub detail: String,
}

/// The longest rendering of an offending value in a message, in bytes; longer ones are cut with
/// `...`. A wrong-typed field can hold the better part of a 3 MiB object, and repeating it in the
/// message (and the log line, and the response) helps nobody.
pub const MAX_VALUE_BYTES: usize = 256;

fn render(value: &serde_json::Value) -> String {
    let mut out = Bounded::new(MAX_VALUE_BYTES);
    let written = match value {
        serde_json::Value::String(s) => {
            use std::fmt::Write as _;
            write!(out, "{s:?}").map_err(|_| ())
        }
        other => serde_json::to_writer(&mut out, other).map_err(|_| ()),
    };
    out.finish(written.is_err())
}

/// `s` cut to at most `max` bytes at a character boundary, with `...` when something was cut.
pub fn truncated(s: &str, max: usize) -> std::borrow::Cow<'_, str> {
    if s.len() <= max {
        return std::borrow::Cow::Borrowed(s);
    }
    std::borrow::Cow::Owned(format!("{}...", prefix(s, max.saturating_sub(3))))
}

/// The longest prefix of `s` of at most `max` bytes that ends at a character boundary.
fn prefix(s: &str, max: usize) -> &str {
    let mut end = max.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// A sink that keeps at most `max` bytes and refuses the rest, so a huge value is never rendered
/// in full only to be cut afterwards.
struct Bounded {
    buf: Vec<u8>,
    max: usize,
}

impl Bounded {
    fn new(max: usize) -> Self {
        Bounded { buf: Vec::new(), max }
    }

    fn take(&mut self, bytes: &[u8]) -> bool {
        let room = self.max.saturating_sub(self.buf.len());
        let fits = bytes.len() <= room;
        self.buf.extend_from_slice(&bytes[..bytes.len().min(room)]);
        fits
    }

    /// The text kept, cut with `...` when the value did not fit.
    fn finish(self, cut: bool) -> String {
        let text = String::from_utf8_lossy(&self.buf).into_owned();
        if !cut {
            return text;
        }
        let whole = text.trim_end_matches('\u{FFFD}');
        format!("{}...", prefix(whole, self.max.saturating_sub(3)))
    }
}

impl std::io::Write for Bounded {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if self.take(bytes) {
            Ok(bytes.len())
        } else {
            Err(std::io::Error::other("value too long to show"))
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl fmt::Write for Bounded {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if self.take(s.as_bytes()) {
            Ok(())
        } else {
            Err(fmt::Error)
        }
    }
}

impl FieldError {
    pub fn required(field: Path, detail: impl Into<String>) -> Self {
        FieldError {
            field,
            error_type: ErrorType::Required,
            value: None,
            detail: detail.into(),
        }
    }

    pub fn invalid(field: Path, value: impl Into<serde_json::Value>, detail: impl Into<String>) -> Self {
        FieldError {
            field,
            error_type: ErrorType::Invalid,
            value: Some(render(&value.into())),
            detail: detail.into(),
        }
    }

    pub fn not_supported<S: AsRef<str>>(field: Path, value: impl Into<serde_json::Value>, allowed: &[S]) -> Self {
        let allowed: Vec<String> = allowed.iter().map(|a| format!("{:?}", a.as_ref())).collect();
        FieldError {
            field,
            error_type: ErrorType::NotSupported,
            value: Some(render(&value.into())),
            detail: format!("supported values: {}", allowed.join(", ")),
        }
    }

    pub fn forbidden(field: Path, detail: impl Into<String>) -> Self {
        FieldError {
            field,
            error_type: ErrorType::Forbidden,
            value: None,
            detail: detail.into(),
        }
    }

    pub fn duplicate(field: Path, value: impl Into<serde_json::Value>) -> Self {
        FieldError {
            field,
            error_type: ErrorType::Duplicate,
            value: Some(render(&value.into())),
            detail: String::new(),
        }
    }

    /// The same error without the offending value, for values not worth repeating.
    pub fn without_value(mut self) -> Self {
        self.value = None;
        self
    }

    pub fn too_many(field: Path, actual: usize, max: usize) -> Self {
        FieldError {
            field,
            error_type: ErrorType::TooMany,
            value: Some(actual.to_string()),
            detail: format!("must have at most {max} items"),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.error_type.phrase())?;
        match (&self.error_type, &self.value) {
            (ErrorType::TooMany, Some(v)) => write!(f, ": {v}")?,
            (_, Some(v)) => write!(f, ": {v}")?,
            _ => {}
        }
        if !self.detail.is_empty() {
            write!(f, ": {}", self.detail)?;
        }
        Ok(())
    }
}

impl std::error::Error for FieldError {}

/// Errors collected while checking one object. Checks push into it and never stop at the first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ErrorList(pub Vec<FieldError>);

impl ErrorList {
    pub fn push(&mut self, e: FieldError) {
        self.0.push(e);
    }
    pub fn extend(&mut self, other: impl IntoIterator<Item = FieldError>) {
        self.0.extend(other);
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn into_vec(self) -> Vec<FieldError> {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_read_like_kubernetes() {
        let p = Path::root("spec").child("cloud").child("aws").child("vpcID");
        assert_eq!(
            FieldError::required(p.clone(), "").to_string(),
            "spec.cloud.aws.vpcID: Required value"
        );
        assert_eq!(
            FieldError::invalid(p.clone(), "x", "must be a VPC ID").to_string(),
            "spec.cloud.aws.vpcID: Invalid value: \"x\": must be a VPC ID"
        );
        assert_eq!(
            FieldError::not_supported(
                Path::root("spec").child("exposeStrategy"),
                "Foo",
                &["NodePort", "Tunneling"]
            )
            .to_string(),
            "spec.exposeStrategy: Unsupported value: \"Foo\": supported values: \"NodePort\", \"Tunneling\""
        );
        assert_eq!(
            FieldError::forbidden(Path::root("spec").child("x"), "not allowed").to_string(),
            "spec.x: Forbidden: not allowed"
        );
        assert_eq!(
            FieldError::too_many(Path::root("spec").child("pods"), 3, 2).to_string(),
            "spec.pods: Too many: 3: must have at most 2 items"
        );
    }

    #[test]
    fn long_values_are_cut_in_messages() {
        let long = "x".repeat(10 * MAX_VALUE_BYTES);
        let e = FieldError::invalid(Path::root("spec").child("version"), long.as_str(), "too long");
        let shown = e.value.as_deref().unwrap();
        assert!(shown.len() <= MAX_VALUE_BYTES, "{}", shown.len());
        assert!(shown.starts_with("\"xxx") && shown.ends_with("..."), "{shown}");
        let list: Vec<u32> = (0..10_000).collect();
        let e = FieldError::invalid(Path::root("spec"), list, "not a list");
        let shown = e.value.as_deref().unwrap();
        assert!(shown.len() <= MAX_VALUE_BYTES && shown.starts_with("[0,1,2"), "{shown}");
        // Multi-byte characters are never split.
        let wide = "ü".repeat(MAX_VALUE_BYTES);
        let e = FieldError::invalid(Path::root("a"), wide.as_str(), "");
        assert!(e.value.as_deref().unwrap().ends_with("ü..."));
        // Short values are unchanged.
        assert_eq!(
            FieldError::invalid(Path::root("a"), "short", "").value.as_deref(),
            Some("\"short\"")
        );
        assert_eq!(truncated("abcdef", 5), "ab...");
        assert_eq!(truncated("abc", 5), "abc");
    }

    #[test]
    fn pointer_paths_become_field_paths() {
        let p = Path::root("spec").pointer("/cloud/aws/securityGroupIDs/2");
        assert_eq!(p.as_str(), "spec.cloud.aws.securityGroupIDs[2]");
        assert_eq!(Path::default().pointer("/a~1b").as_str(), "a/b");
    }
}
