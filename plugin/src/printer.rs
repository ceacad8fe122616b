//! The one place the plugin writes to the terminal: data (objects, tables, reports) on stdout;
//! messages, warnings, errors and progress on stderr. Commands get a `Printer` and print through it.

use std::fmt::Display;
use std::io::{self, IsTerminal, Write};
use std::path::Path;

use serde_json::Value;

use crate::k8s::wait::Progress;
use crate::output::{self, OutputFormat};

/// Owns stdout and stderr for the commands. Copying it is free; every write locks the stream it
/// writes to. A closed pipe on stdout (`| head`) ends the data quietly.
#[derive(Clone, Copy, Debug, Default)]
pub struct Printer;

impl Printer {
    /// Data: one line on stdout.
    pub fn data(&self, line: impl Display) {
        self.data_text(&format!("{line}\n"));
    }

    /// Data: text as it is on stdout.
    pub fn data_text(&self, text: &str) {
        let mut out = io::stdout().lock();
        if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
            self.write_failed(&e);
        }
    }

    /// Data: a report on stdout, for commands whose exit status says it arrived: a failed write
    /// is returned, except to a closed pipe (`| head`), which ends the data quietly.
    pub fn report(&self, text: &str) -> io::Result<()> {
        let mut out = io::stdout().lock();
        match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
            Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(e),
            _ => Ok(()),
        }
    }

    /// Data: objects in a format on stdout.
    pub fn objects(&self, objs: &[Value], format: OutputFormat) {
        let mut out = io::stdout().lock();
        if let Err(e) = output::write_objects(&mut out, objs, format).and_then(|()| out.flush()) {
            self.write_failed(&e);
        }
    }

    /// Data: objects in a format on stdout, or into the file `--write-to` names (`-` for stdout).
    pub fn objects_to(&self, objs: &[Value], format: OutputFormat, file: Option<&Path>) -> anyhow::Result<()> {
        match file {
            Some(path) if path != Path::new("-") => output::write_file(path, objs, format),
            _ => {
                self.objects(objs, format);
                Ok(())
            }
        }
    }

    /// A message for people: one line on stderr.
    pub fn message(&self, line: impl Display) {
        let _ = writeln!(io::stderr().lock(), "{line}");
    }

    /// A message without a line end (a prompt, or a text that ends in its own newline).
    pub fn message_text(&self, text: impl Display) {
        let mut err = io::stderr().lock();
        let _ = write!(err, "{text}");
        let _ = err.flush();
    }

    /// `Warning: …` on stderr.
    pub fn warning(&self, text: impl Display) {
        self.message(format_args!("Warning: {text}"));
    }

    /// `error: …` on stderr.
    pub fn error(&self, text: impl Display) {
        self.message(format_args!("error: {text}"));
    }

    pub fn stdout_is_terminal(&self) -> bool {
        io::stdout().is_terminal()
    }

    /// Whether data on stdout is coloured: as `forced` says (`--color always|never`), else when
    /// stdout is a terminal and `NO_COLOR` is unset or empty.
    pub fn colours_stdout(&self, forced: Option<bool>) -> bool {
        let no_color = std::env::var("NO_COLOR").ok();
        colour(forced, self.stdout_is_terminal(), no_color.as_deref())
    }

    pub fn stderr_is_terminal(&self) -> bool {
        io::stderr().is_terminal()
    }

    /// Progress lines of one wait on stderr; the spinner only when stderr is a terminal.
    pub fn progress(&self, label: impl Into<String>) -> Progress<io::Stderr> {
        Progress::new(io::stderr(), self.stderr_is_terminal(), label)
    }

    fn write_failed(&self, e: &io::Error) {
        if e.kind() != io::ErrorKind::BrokenPipe {
            self.error(format_args!("cannot write to stdout: {e}"));
        }
    }
}

/// The colour decision: `forced`, else a terminal without a non-empty `NO_COLOR`
/// (<https://no-color.org>).
fn colour(forced: Option<bool>, is_terminal: bool, no_color: Option<&str>) -> bool {
    forced.unwrap_or_else(|| is_terminal && no_color.is_none_or(str::is_empty))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_colours_only_a_terminal_without_no_color() {
        assert!(colour(None, true, None));
        assert!(colour(None, true, Some("")));
        assert!(!colour(None, true, Some("1")));
        assert!(!colour(None, false, None));
        assert!(colour(Some(true), false, Some("1")));
        assert!(!colour(Some(false), true, None));
    }
}
