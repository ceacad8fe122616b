//! What validating one object finds: its field errors, and warnings kept apart from them.

use crate::field::FieldError;

/// Errors and warnings found in one object.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Findings {
    pub errors: Vec<FieldError>,
    pub warnings: Vec<String>,
}

impl Findings {
    pub fn error(&mut self, e: FieldError) {
        self.errors.push(e);
    }
    pub fn warn(&mut self, w: impl Into<String>) {
        self.warnings.push(w.into());
    }
    pub fn extend(&mut self, other: Findings) {
        self.errors.extend(other.errors);
        self.warnings.extend(other.warnings);
    }
}
