//! The format of verdict reports, shared by `validate` and `policy test`.

/// `-o text` for people, `-o json` for programs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    Text,
    Json,
}
