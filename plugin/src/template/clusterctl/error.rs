//! The one error of clusterctl repository look-ups: a message that names the flag, or the config
//! file and field, at fault and what is wrong.

/// Why a template cannot be found.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Error(String);

impl Error {
    pub fn new(message: impl Into<String>) -> Self {
        Error(message.into())
    }
}
