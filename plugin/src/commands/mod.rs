//! What each command does, one module per command, mirroring `kubectl kkp <group> <verb>`.
//! Each takes its parsed flags, the resolved global settings and the printer it writes through,
//! and returns its exit status ([`Outcome`]).

pub mod api;
pub mod apply_workers;
pub mod completion;
pub mod confirm;
pub mod create;
pub mod delete;
pub mod describe;
pub mod files;
pub mod generate;
pub mod generate_workers;
pub mod get;
pub mod get_policies;
pub mod get_policy_reports;
pub mod install;
pub mod policy;
pub mod register;
pub mod validate;
pub mod verdicts;
pub mod version;

use crate::cli::Command;
use crate::exit::Outcome;
use crate::printer::Printer;
use crate::settings::GlobalSettings;

/// Runs the command the user chose with the resolved global settings; its exit status, or the
/// error to report.
pub async fn dispatch(command: Command, g: &GlobalSettings, printer: &Printer) -> Outcome {
    match command {
        Command::Generate(c) => generate::run(c, g, printer).await,
        Command::Create(c) => create::run(c, g, printer).await,
        Command::Get(c) => get::run(c, g, printer).await,
        Command::Describe(c) => describe::run(c, g, printer).await,
        Command::Delete(c) => delete::run(c, g, printer).await,
        Command::Register(c) => register::run(c, g, printer).await,
        Command::Unregister(c) => register::run_unregister(c, g, printer).await,
        Command::Validate(c) => validate::run(c, g, printer).await,
        Command::Apply(c) => api::apply::run(c, g, printer).await,
        Command::Install(c) => install::run(c, g, printer).await,
        Command::Policy(c) => policy::run(c, g, printer).await,
        Command::Version(c) => version::run(c, g, printer).await,
        Command::Completion(c) => completion::run(c, g, printer).await,
        Command::Complete(c) => completion::run_complete(c, g, printer).await,
    }
}
