//! Colours for terminal output: on when stdout is a terminal and `NO_COLOR` is not set (or
//! when `--color always` says so), plain text otherwise.

use crate::cli::describe::ColorChoice;
use std::io::IsTerminal;

impl ColorChoice {
    /// Whether to colour, given the environment.
    pub fn resolve(self, stdout_is_terminal: bool, no_color: Option<&str>) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => stdout_is_terminal && no_color.is_none_or(str::is_empty),
        }
    }

    /// Whether to colour this process's stdout.
    pub fn for_stdout(self) -> bool {
        let no_color = std::env::var("NO_COLOR").ok();
        self.resolve(std::io::stdout().is_terminal(), no_color.as_deref())
    }
}

/// Applies (or not) ANSI styles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Style {
    pub color: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
    pub fn green(&self, text: &str) -> String {
        self.paint("32", text)
    }
    pub fn red(&self, text: &str) -> String {
        self.paint("31", text)
    }
    pub fn yellow(&self, text: &str) -> String {
        self.paint("33", text)
    }
    pub fn bold(&self, text: &str) -> String {
        self.paint("1", text)
    }
    /// Tree lines and other chrome.
    pub fn dim(&self, text: &str) -> String {
        self.paint("90", text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_colours_only_a_terminal_without_no_color() {
        assert!(ColorChoice::Auto.resolve(true, None));
        assert!(ColorChoice::Auto.resolve(true, Some("")));
        assert!(!ColorChoice::Auto.resolve(true, Some("1")));
        assert!(!ColorChoice::Auto.resolve(false, None));
        assert!(ColorChoice::Always.resolve(false, Some("1")));
        assert!(!ColorChoice::Never.resolve(true, None));
    }

    #[test]
    fn plain_style_leaves_text_alone() {
        assert_eq!(Style { color: false }.red("x"), "x");
        assert_eq!(Style { color: true }.red("x"), "\x1b[31mx\x1b[0m");
    }
}
