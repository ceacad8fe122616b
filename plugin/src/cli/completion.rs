//! `kubectl kkp completion` and the hidden `__complete`: their flags and help.

use clap::Args;

pub const ABOUT: &str = "\
Print a shell completion script for the plugin binary, kubectl-kkp.

Completing `kubectl kkp ...` needs no script: kubectl 1.26 and newer complete plugin commands by
themselves when the kubectl_complete-kkp program, shipped next to kubectl-kkp, is on PATH (krew
installs both). The scripts printed here complete kubectl-kkp when it is called directly.";

pub const INSTALL: &str = "\
Install:
  bash   echo 'source <(kubectl-kkp completion bash)' >> ~/.bashrc
  zsh    kubectl-kkp completion zsh > \"${fpath[1]}/_kubectl-kkp\"   # then start a new shell
  fish   kubectl-kkp completion fish > ~/.config/fish/completions/kubectl-kkp.fish

Examples:
  # Try it in the current bash session
  source <(kubectl-kkp completion bash)";

#[derive(Debug, Args)]
#[command(after_help = INSTALL)]
pub struct CompletionArgs {
    /// The shell to print the script for.
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: CompletionShell,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum CompletionShell {
    Bash,
    Zsh,
    Fish,
}

/// The hidden `__complete` command: the words after `kubectl kkp`, the last one being the word
/// to complete (empty for a new word).
#[derive(Debug, Args)]
pub struct CompleteArgs {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0.., value_name = "WORDS")]
    pub words: Vec<String>,
}
