//! The engine's answer on one object: the defaulted object and its patch, field errors, warnings,
//! policy violations, and the denial message the apiserver shows.

use serde::Serialize;
use serde_json::Value;

use crate::field::{self, FieldError};
use crate::policy::{Enforcement, Violation};
use crate::request::ResourceKind;

/// How many errors a denial message lists, as the apiserver does; the rest are counted.
pub const MAX_REPORTED_ERRORS: usize = 100;
/// The longest denial message, in bytes.
pub const MAX_MESSAGE_BYTES: usize = 32 * 1024;
/// The longest object name a message repeats, in bytes.
const MAX_NAME_BYTES: usize = 256;

/// The answer for one object.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Verdict {
    #[serde(flatten)]
    pub kind: ResourceKind,
    pub name: String,
    pub namespace: Option<String>,
    /// The object after defaulting, when defaulting ran.
    #[serde(skip)]
    pub object: Option<Value>,
    /// The JSON patch from the object as sent to the defaulted object.
    #[serde(skip)]
    pub patch: json_patch::Patch,
    pub errors: Vec<FieldError>,
    pub warnings: Vec<String>,
    pub violations: Vec<Violation>,
    /// The policies that selected the object (whether or not it broke them).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub matched_policies: Vec<String>,
    /// Why the object was let through without checks (not ours, being deleted, a DELETE).
    pub skipped: Option<String>,
}

impl Verdict {
    pub(super) fn new(kind: ResourceKind, object: Option<&Value>) -> Self {
        let metadata = object.and_then(|o| o.get("metadata"));
        let meta = |k: &str| metadata.and_then(|m| m.get(k)).and_then(Value::as_str);
        Verdict::for_object(
            kind,
            meta("name").or(meta("generateName")).unwrap_or(""),
            meta("namespace"),
        )
    }

    /// An empty verdict on the object `name` (in `namespace`) of `kind`: no patch, no findings,
    /// not skipped. For callers that judge an object outside [`admit`] and fill in what they find.
    pub fn for_object(kind: ResourceKind, name: &str, namespace: Option<&str>) -> Self {
        Verdict {
            kind,
            name: name.to_owned(),
            namespace: namespace.map(str::to_owned),
            object: None,
            patch: json_patch::Patch(Vec::new()),
            errors: Vec::new(),
            warnings: Vec::new(),
            violations: Vec::new(),
            matched_policies: Vec::new(),
            skipped: None,
        }
    }

    pub(super) fn skip(mut self, why: impl Into<String>) -> Self {
        self.skipped = Some(why.into());
        self
    }

    /// Policy violations that deny the object.
    pub fn denials(&self) -> impl Iterator<Item = &Violation> {
        self.violations.iter().filter(|v| v.enforcement == Enforcement::Deny)
    }

    pub fn allowed(&self) -> bool {
        self.errors.is_empty() && self.denials().next().is_none()
    }

    /// The HTTP-style code of a denial: 400 for invalid objects, 403 for policy denials.
    pub fn code(&self) -> u16 {
        if self.allowed() {
            200
        } else if self.errors.is_empty() {
            403
        } else {
            400
        }
    }

    /// Every warning, with the Warn-enforced policy violations among them.
    pub fn all_warnings(&self) -> Vec<String> {
        let mut w = self.warnings.clone();
        w.extend(
            self.violations
                .iter()
                .filter(|v| v.enforcement == Enforcement::Warn)
                .map(|v| v.to_string()),
        );
        w
    }

    /// The denial message, in the style of the apiserver's own: every field error and every
    /// denying rule, so one attempt tells the user everything to fix.
    ///
    /// Like the apiserver's, the list is capped: the first [`MAX_REPORTED_ERRORS`] and
    /// `... and N more`, and the whole message at [`MAX_MESSAGE_BYTES`].
    pub fn message(&self) -> String {
        let total = self.errors.len() + self.denials().count();
        if total == 0 {
            return String::new();
        }
        let mut parts: Vec<String> = self
            .errors
            .iter()
            .map(ToString::to_string)
            .chain(self.denials().map(ToString::to_string))
            .take(MAX_REPORTED_ERRORS)
            .collect();
        if total > parts.len() {
            parts.push(format!("... and {} more", total - parts.len()));
        }
        let what = if self.errors.is_empty() {
            "is forbidden"
        } else {
            "is invalid"
        };
        let message = format!(
            "{} {:?} {what}: [{}]",
            self.kind.qualified(),
            field::truncated(&self.name, MAX_NAME_BYTES),
            parts.join(", ")
        );
        field::truncated(&message, MAX_MESSAGE_BYTES).into_owned()
    }
}
