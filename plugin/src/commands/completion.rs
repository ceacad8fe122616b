//! Shell completion: `kubectl kkp completion bash|zsh|fish` prints a script (clap_complete) for
//! the `kubectl-kkp` binary, and the hidden `kubectl kkp __complete WORDS...` answers the way
//! cobra's `__complete` does, which is what kubectl (1.26 and newer) asks the
//! `kubectl_complete-kkp` program for when completing `kubectl kkp ...`.

use std::collections::HashSet;

use anyhow::Context as _;
use clap::builder::ValueHint;
use clap::{Arg, ArgAction, Command, CommandFactory};

use crate::cli::Cli;
use crate::cli::completion::{CompleteArgs, CompletionArgs, CompletionShell};
use crate::exit::{ExitStatus, Outcome};
use crate::printer::Printer;
use crate::settings::GlobalSettings;

/// The binary the scripts complete.
const PLUGIN_BINARY: &str = "kubectl-kkp";

pub async fn run(args: CompletionArgs, _g: &GlobalSettings, printer: &Printer) -> Outcome {
    let shell = match args.shell {
        CompletionShell::Bash => clap_complete::Shell::Bash,
        CompletionShell::Zsh => clap_complete::Shell::Zsh,
        CompletionShell::Fish => clap_complete::Shell::Fish,
    };
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut script_command(), PLUGIN_BINARY, &mut script);
    if shell == clap_complete::Shell::Bash {
        script = fix_bash_names(&script);
    }
    printer
        .report(&String::from_utf8_lossy(&script))
        .context("cannot write to stdout")?;
    Ok(ExitStatus::Success)
}

/// clap_complete's bash script names a subcommand's case label after the binary with its `-`
/// turned into the subcommand separator (`kubectl__subcmd__kkp__subcmd__generate`), but sets the
/// variable it matches from the binary with `-` turned into `__` (`kubectl__kkp__subcmd__generate`),
/// so nothing below the top level would complete. This makes the labels match.
fn fix_bash_names(script: &[u8]) -> Vec<u8> {
    let broken = format!("{}__subcmd__", PLUGIN_BINARY.replace('-', "__subcmd__"));
    let fixed = format!("{}__subcmd__", PLUGIN_BINARY.replace('-', "__"));
    String::from_utf8_lossy(script).replace(&broken, &fixed).into_bytes()
}

/// The command tree as the scripts see it: named after the binary, without hidden commands.
fn script_command() -> Command {
    let cli = Cli::command();
    let subcommands: Vec<Command> = cli.get_subcommands().filter(|s| !s.is_hide_set()).cloned().collect();
    let mut cmd = Command::new(PLUGIN_BINARY)
        .version(env!("CARGO_PKG_VERSION"))
        .args(cli.get_arguments().cloned())
        .subcommands(subcommands);
    if let Some(about) = cli.get_about() {
        cmd = cmd.about(about.clone());
    }
    cmd
}

pub async fn run_complete(args: CompleteArgs, _g: &GlobalSettings, printer: &Printer) -> Outcome {
    let mut cmd = Cli::command();
    cmd.build();
    let answer = complete(&cmd, &args.words);
    printer.report(&answer.render()).context("cannot write to stdout")?;
    Ok(ExitStatus::Success)
}

/// cobra's ShellCompDirectiveDefault: the shell may fall back to completing file names.
pub const DIRECTIVE_DEFAULT: u8 = 0;
/// cobra's ShellCompDirectiveNoFileComp: no file names.
pub const DIRECTIVE_NO_FILE_COMP: u8 = 4;

/// Candidates, each with an optional description, and the cobra directive that ends the answer.
#[derive(Debug, PartialEq, Eq)]
pub struct Completion {
    pub candidates: Vec<(String, Option<String>)>,
    pub directive: u8,
}

impl Completion {
    /// cobra's wire format: `candidate<TAB>description` per line, then `:<directive>`.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for (value, description) in &self.candidates {
            out.push_str(value);
            if let Some(d) = description.as_deref().filter(|d| !d.is_empty()) {
                out.push('\t');
                out.push_str(d);
            }
            out.push('\n');
        }
        out.push_str(&format!(":{}\n", self.directive));
        out
    }
}

fn first_line(text: Option<&clap::builder::StyledStr>) -> Option<String> {
    text.map(|t| t.to_string())
        .and_then(|t| t.lines().next().map(|l| l.trim_end_matches('.').to_owned()))
}

fn takes_value(arg: &Arg) -> bool {
    arg.get_action().takes_values() && arg.get_num_args().is_none_or(|n| n.takes_values())
}

fn find_long<'a>(cmd: &'a Command, name: &str) -> Option<&'a Arg> {
    cmd.get_arguments()
        .find(|a| a.get_long() == Some(name) || a.get_all_aliases().is_some_and(|al| al.contains(&name)))
}

fn find_short(cmd: &Command, c: char) -> Option<&Arg> {
    cmd.get_arguments().find(|a| a.get_short() == Some(c))
}

/// What to offer for the last of `words` (the words after `kubectl kkp`), walking the command
/// tree of `root` (built with [`Command::build`]) through the earlier words.
pub fn complete(root: &Command, words: &[String]) -> Completion {
    let (current, typed) = match words.split_last() {
        Some((last, rest)) => (last.as_str(), rest),
        None => ("", &[][..]),
    };
    let mut cmd = root;
    let mut pending: Option<&Arg> = None;
    let mut positionals = 0usize;
    let mut only_positionals = false;
    let mut used: HashSet<String> = HashSet::new();
    for word in typed {
        if pending.take().is_some() {
            continue;
        }
        if only_positionals {
            positionals += 1;
            continue;
        }
        if word == "--" {
            only_positionals = true;
            continue;
        }
        if let Some(long) = word.strip_prefix("--") {
            let (name, inline_value) = match long.split_once('=') {
                Some((n, _)) => (n, true),
                None => (long, false),
            };
            if let Some(arg) = find_long(cmd, name) {
                used.insert(arg.get_id().to_string());
                if takes_value(arg) && !inline_value {
                    pending = Some(arg);
                }
            }
            continue;
        }
        if let Some(shorts) = word.strip_prefix('-').filter(|s| !s.is_empty()) {
            let count = shorts.chars().count();
            for (i, c) in shorts.chars().enumerate() {
                let Some(arg) = find_short(cmd, c) else { break };
                used.insert(arg.get_id().to_string());
                if takes_value(arg) {
                    if i + 1 == count {
                        pending = Some(arg);
                    }
                    break;
                }
            }
            continue;
        }
        if let Some(sub) = cmd.find_subcommand(word) {
            cmd = sub;
            positionals = 0;
            continue;
        }
        positionals += 1;
    }

    if let Some(arg) = pending {
        return values(arg, current, "");
    }
    if !only_positionals {
        if let Some((name, partial)) = current.strip_prefix("--").and_then(|c| c.split_once('=')) {
            return match find_long(cmd, name) {
                Some(arg) if takes_value(arg) => values(arg, partial, &format!("--{name}=")),
                _ => nothing(DIRECTIVE_NO_FILE_COMP),
            };
        }
        if current.starts_with('-') {
            return flags(cmd, current, &used);
        }
    }
    if cmd.has_subcommands() && positionals == 0 {
        let candidates = cmd
            .get_subcommands()
            .filter(|s| !s.is_hide_set() && s.get_name().starts_with(current))
            .map(|s| (s.get_name().to_owned(), first_line(s.get_about())))
            .collect();
        return Completion {
            candidates,
            directive: DIRECTIVE_NO_FILE_COMP,
        };
    }
    let positional_args: Vec<&Arg> = cmd.get_positionals().collect();
    let arg = positional_args.get(positionals).or_else(|| {
        positional_args
            .last()
            .filter(|a| a.get_num_args().is_some_and(|n| n.max_values() > 1))
    });
    match arg {
        Some(arg) => values(arg, current, ""),
        None => nothing(DIRECTIVE_NO_FILE_COMP),
    }
}

fn nothing(directive: u8) -> Completion {
    Completion {
        candidates: Vec::new(),
        directive,
    }
}

/// The values an option or positional takes, or file names where it takes a path.
fn values(arg: &Arg, partial: &str, prefix: &str) -> Completion {
    let possible = arg.get_possible_values();
    if possible.is_empty() {
        let wants_path = matches!(
            arg.get_value_hint(),
            ValueHint::AnyPath | ValueHint::FilePath | ValueHint::DirPath
        );
        return nothing(if wants_path {
            DIRECTIVE_DEFAULT
        } else {
            DIRECTIVE_NO_FILE_COMP
        });
    }
    let candidates = possible
        .iter()
        .filter(|v| !v.is_hide_set() && v.get_name().starts_with(partial))
        .map(|v| (format!("{prefix}{}", v.get_name()), first_line(v.get_help())))
        .collect();
    Completion {
        candidates,
        directive: DIRECTIVE_NO_FILE_COMP,
    }
}

/// The flags of a command (its own and the global ones) that start with `current`, leaving out
/// those already given once unless they may repeat.
fn flags(cmd: &Command, current: &str, used: &HashSet<String>) -> Completion {
    let mut candidates = Vec::new();
    for arg in cmd.get_arguments().filter(|a| !a.is_positional() && !a.is_hide_set()) {
        let repeats = matches!(arg.get_action(), ArgAction::Append | ArgAction::Count);
        if used.contains(arg.get_id().as_str()) && !repeats {
            continue;
        }
        let help = first_line(arg.get_help());
        if let Some(long) = arg.get_long() {
            let flag = format!("--{long}");
            if flag.starts_with(current) {
                candidates.push((flag, help.clone()));
            }
        }
        if let Some(short) = arg.get_short() {
            let flag = format!("-{short}");
            if !current.starts_with("--") && flag.starts_with(current) {
                candidates.push((flag, help));
            }
        }
    }
    Completion {
        candidates,
        directive: DIRECTIVE_NO_FILE_COMP,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ask(words: &[&str]) -> Completion {
        let mut cmd = Cli::command();
        cmd.build();
        complete(&cmd, &words.iter().map(|w| w.to_string()).collect::<Vec<_>>())
    }

    fn names(c: &Completion) -> Vec<&str> {
        c.candidates.iter().map(|(v, _)| v.as_str()).collect()
    }

    #[test]
    fn top_level_lists_subcommands_without_hidden_ones() {
        let c = ask(&[""]);
        let n = names(&c);
        for expected in ["generate", "validate", "version", "completion"] {
            assert!(n.contains(&expected), "{n:?}");
        }
        assert!(!n.contains(&"__complete"));
        assert_eq!(c.directive, DIRECTIVE_NO_FILE_COMP);
        assert_eq!(names(&ask(&["ver"])), ["version"]);
    }

    #[test]
    fn provider_values_and_output_formats() {
        let c = ask(&["generate", "cluster", "demo", "--provider", ""]);
        assert_eq!(
            names(&c),
            [
                "aws",
                "azure",
                "digitalocean",
                "gcp",
                "hetzner",
                "kubevirt",
                "openstack",
                "vsphere"
            ]
        );
        assert_eq!(
            names(&ask(&["generate", "cluster", "demo", "--provider", "h"])),
            ["hetzner"]
        );
        assert_eq!(
            names(&ask(&["generate", "cluster", "demo", "-o", ""])),
            ["yaml", "json", "name"]
        );
        assert_eq!(
            names(&ask(&["generate", "cluster", "demo", "--output=j"])),
            ["--output=json"]
        );
        assert_eq!(names(&ask(&["completion", ""])), ["bash", "zsh", "fish"]);
    }

    #[test]
    fn flags_include_globals_and_skip_used_ones() {
        let c = ask(&["generate", "cluster", "demo", "--provider", "aws", "--"]);
        let n = names(&c);
        assert!(
            n.contains(&"--flavor") && n.contains(&"--kubeconfig") && n.contains(&"--set"),
            "{n:?}"
        );
        assert!(!n.contains(&"--provider"), "{n:?}");
        assert!(!n.contains(&"-o"), "long only after --: {n:?}");
        let c = ask(&["generate", "cluster", "demo", "--set", "A=1", "--se"]);
        assert_eq!(names(&c), ["--set", "--seed"], "repeatable flags stay on offer");
        let c = ask(&["validate", "-"]);
        assert!(names(&c).contains(&"-f"));
    }

    #[test]
    fn file_arguments_let_the_shell_complete_files() {
        assert_eq!(ask(&["validate", "-f", ""]).directive, DIRECTIVE_DEFAULT);
        assert_eq!(
            ask(&["generate", "cluster", "demo", "--from", ""]).directive,
            DIRECTIVE_DEFAULT
        );
        assert_eq!(ask(&["generate", "cluster", ""]).directive, DIRECTIVE_NO_FILE_COMP);
    }

    #[test]
    fn wire_format_is_cobras() {
        let c = Completion {
            candidates: vec![("aws".into(), None), ("--set".into(), Some("Set a variable".into()))],
            directive: 4,
        };
        assert_eq!(c.render(), "aws\n--set\tSet a variable\n:4\n");
    }
}
