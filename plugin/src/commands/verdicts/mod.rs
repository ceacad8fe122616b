//! The admission engine's verdicts on local objects, for `validate`, `policy test`, `generate`
//! and `create`: [`admit`] runs the engine, [`render`] is the one place verdicts become text or
//! JSON, and [`gate`] holds the checks `generate` and `create` share before they print or send
//! objects.

pub mod admit;
pub mod gate;
pub mod render;

use anyhow::Context as _;

use crate::exit::{ExitStatus, Outcome};
use crate::printer::Printer;

/// Ends `validate` and `policy test`: the report on stdout, then, when something failed, the
/// summary as the error line on stderr and exit status 1.
pub fn conclude(report: &str, summary: Option<String>, printer: &Printer) -> Outcome {
    printer.report(report).context("cannot write to stdout")?;
    match summary {
        None => Ok(ExitStatus::Success),
        Some(summary) => {
            printer.error(summary);
            Ok(ExitStatus::Failure)
        }
    }
}
