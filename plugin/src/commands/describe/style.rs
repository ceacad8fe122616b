//! ANSI styles for `describe`'s terminal output; whether to use them is the printer's call
//! (`Printer::colours_stdout`).

use crate::cli::describe::ColorChoice;

impl ColorChoice {
    /// What `--color` forces: `always` and `never`, or nothing for `auto`.
    pub fn forced(self) -> Option<bool> {
        match self {
            ColorChoice::Always => Some(true),
            ColorChoice::Never => Some(false),
            ColorChoice::Auto => None,
        }
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
    fn color_flag_forces_or_leaves_it_to_the_printer() {
        assert_eq!(ColorChoice::Always.forced(), Some(true));
        assert_eq!(ColorChoice::Never.forced(), Some(false));
        assert_eq!(ColorChoice::Auto.forced(), None);
    }

    #[test]
    fn plain_style_leaves_text_alone() {
        assert_eq!(Style { color: false }.red("x"), "x");
        assert_eq!(Style { color: true }.red("x"), "\x1b[31mx\x1b[0m");
    }
}
