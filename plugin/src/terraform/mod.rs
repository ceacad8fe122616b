//! Terraform's `terraform output -json` as input: its values as template variables ([`output`]),
//! and KubeOne's `kubeone_workers` as machine-controller MachineDeployments ([`workers`]).

pub mod output;
pub mod workers;

use std::io::Read as _;

use self::output::{OutputError, TerraformOutput};

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("--terraform-output {path}: cannot read the file: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("--terraform-output: {0}")]
    Output(#[from] OutputError),
}

/// Reads `terraform output -json` from a file, or from stdin when `path` is `-`.
pub fn read(path: &str) -> Result<TerraformOutput, ReadError> {
    let mut text = String::new();
    let result = if path == "-" {
        std::io::stdin().read_to_string(&mut text).map(|_| ())
    } else {
        std::fs::read_to_string(path).map(|t| text = t)
    };
    result.map_err(|source| ReadError::Read {
        path: path.to_owned(),
        source,
    })?;
    let name = if path == "-" { "stdin" } else { path };
    Ok(TerraformOutput::parse(&text, name)?)
}
