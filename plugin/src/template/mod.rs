//! Templates to objects: pick a template (built-in or a file), resolve its variables, substitute
//! them, and read the result as Kubernetes objects. No cluster is contacted on the way.

pub mod builtin;
pub mod clusterctl;
pub mod config;
pub mod documents;
pub mod envsubst;
pub mod variables;

use std::io::Read;
use std::path::PathBuf;

use serde_json::Value;

use self::builtin::Builtin;
use self::documents::DocumentError;
use self::envsubst::{Missing, ParseError, Template};
use self::variables::{Listed, Variables};

/// Where a template's text comes from.
#[derive(Debug)]
pub enum TemplateSource {
    Builtin(&'static Builtin),
    File(PathBuf),
    Stdin,
    /// A provider's template from a clusterctl repository (`--infrastructure`).
    Repository(clusterctl::Found),
}

impl TemplateSource {
    /// How messages name the template.
    pub fn label(&self) -> String {
        match self {
            TemplateSource::Builtin(b) => format!("built-in template {}", b.label()),
            TemplateSource::File(path) => format!("template {}", path.display()),
            TemplateSource::Stdin => "template from stdin".to_owned(),
            TemplateSource::Repository(found) => found.describe(),
        }
    }

    fn read(&self) -> Result<String, TemplateError> {
        match self {
            TemplateSource::Builtin(b) => Ok(b.text.to_owned()),
            TemplateSource::File(path) | TemplateSource::Repository(clusterctl::Found { path, .. }) => {
                std::fs::read_to_string(path).map_err(|source| TemplateError::Read {
                    label: self.label(),
                    source,
                })
            }
            TemplateSource::Stdin => {
                let mut text = String::new();
                std::io::stdin()
                    .read_to_string(&mut text)
                    .map_err(|source| TemplateError::Read {
                        label: self.label(),
                        source,
                    })?;
                Ok(text)
            }
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("cannot read the {label}: {source}")]
    Read { label: String, source: std::io::Error },
    #[error("the {label} cannot be read: {source}")]
    Parse { label: String, source: ParseError },
    #[error("the {label} gave invalid objects after substitution (check the values substituted into it): {}", join(.errors))]
    Documents { label: String, errors: Vec<DocumentError> },
    #[error("the {label} holds no objects")]
    Empty { label: String },
}

fn join(errors: &[DocumentError]) -> String {
    errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
}

/// Why rendering failed: variables without a value, or a template that does not give objects.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("missing variables: {}", .0.names.iter().cloned().collect::<Vec<_>>().join(", "))]
    Missing(Missing),
    #[error(transparent)]
    Template(#[from] TemplateError),
}

/// A parsed template with the values its variables may take.
#[derive(Debug)]
pub struct Prepared {
    pub label: String,
    pub template: Template,
    pub variables: Variables,
}

/// Reads and parses a template.
pub fn prepare(source: &TemplateSource, variables: Variables) -> Result<Prepared, TemplateError> {
    let label = source.label();
    let text = source.read()?;
    let template = Template::parse(&text).map_err(|source| TemplateError::Parse {
        label: label.clone(),
        source,
    })?;
    Ok(Prepared {
        label,
        template,
        variables,
    })
}

impl Prepared {
    /// Every variable with its value and where the value comes from.
    pub fn list(&self) -> Vec<Listed> {
        variables::list(&self.template, &self.variables)
    }

    /// The substituted objects, as the template writes them (no defaulting).
    pub fn render(&self) -> Result<Vec<Value>, RenderError> {
        let text = self.template.expand(&self.variables).map_err(RenderError::Missing)?;
        let (docs, errors) = documents::parse_stream(&text);
        if !errors.is_empty() {
            return Err(TemplateError::Documents {
                label: self.label.clone(),
                errors,
            }
            .into());
        }
        if docs.is_empty() {
            return Err(TemplateError::Empty {
                label: self.label.clone(),
            }
            .into());
        }
        Ok(docs.into_iter().map(|d| d.value).collect())
    }
}
