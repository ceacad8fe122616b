//! Asking before a destructive action: one prompt for every command that has `--yes`.

use std::fmt::Display;
use std::io::{BufRead as _, IsTerminal as _};

use crate::printer::Printer;

/// Whether an answer means yes.
pub fn is_yes(answer: &str) -> bool {
    matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}

/// Asks `question` (ending in `[y/N] `) on the terminal and reads the answer. Without a terminal
/// to ask on, refuses: "refusing to ACTION OBJECT without confirmation ...; pass --yes".
pub fn ask(printer: &Printer, question: impl Display, action: &str, object: impl Display) -> anyhow::Result<bool> {
    if !std::io::stdin().is_terminal() {
        anyhow::bail!(
            "refusing to {action} {object} without confirmation: stdin is not a terminal; pass --yes to {action} \
             without asking"
        );
    }
    printer.message_text(question);
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(is_yes(&answer))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_y_and_yes_are_yes() {
        for yes in ["y", "Y", "yes", " YES\n"] {
            assert!(is_yes(yes), "{yes:?}");
        }
        for no in ["", "n", "no", "yess", "y es"] {
            assert!(!is_yes(no), "{no:?}");
        }
    }
}
