//! How the program ends: the status every command returns, and the exit code it becomes.
//!
//! 0 success (and `--help`, `--version`); 1 an error the user can fix: a usage error reported by
//! clap (unknown flag, missing argument, bad value), an invalid object, a denied request, a
//! missing cluster; 124 a wait that timed out.

use std::process::ExitCode;

/// The status the program exits with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// 0: the command did what was asked.
    Success,
    /// 1: an error the user can fix, or an object that was refused.
    Failure,
    /// 124: a wait (`--wait`) ran out of time.
    Timeout,
}

impl ExitStatus {
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::Failure => 1,
            ExitStatus::Timeout => 124,
        }
    }
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> Self {
        ExitCode::from(status.code())
    }
}

/// What a command returns: the status to exit with once it has reported everything itself
/// (`Ok(ExitStatus::Failure)` for objects refused after listing why), or an error for the
/// program to report on stderr, as one message naming the flag or field at fault.
pub type Outcome = anyhow::Result<ExitStatus>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_those_the_help_promises() {
        assert_eq!(ExitStatus::Success.code(), 0);
        assert_eq!(ExitStatus::Failure.code(), 1);
        assert_eq!(ExitStatus::Timeout.code(), 124);
    }
}
