//! `mfa init SHELL`: the hook script. The scripts are real shell files in
//! `shell/`, linted as shell; this fills in the binary's path and whether
//! the prompt is shown.

use anyhow::Result;

use crate::cli::InitArgs;
use crate::shell::Shell;

pub fn script_template(shell: Shell) -> &'static str {
    match shell {
        Shell::Bash => include_str!("../../shell/mfa.bash"),
        Shell::Zsh => include_str!("../../shell/mfa.zsh"),
        Shell::Fish => include_str!("../../shell/mfa.fish"),
        Shell::Powershell => include_str!("../../shell/mfa.ps1"),
    }
}

/// The hook for `shell`, calling the binary at `binary`.
pub fn script(shell: Shell, binary: &str, show_prompt: bool) -> String {
    script_template(shell)
        .replace("__MFA_BIN__", &shell.quote(binary))
        .replace("__MFA_SHOW_PROMPT__", if show_prompt { "1" } else { "0" })
}

/// This binary's path, so the hook works whether or not it is on PATH.
pub fn binary_path() -> String {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.to_str().map(str::to_string))
        .unwrap_or_else(|| "mfa".to_string())
}

pub fn run(args: InitArgs) -> Result<()> {
    crate::output::print(&script(args.shell, &binary_path(), !args.no_prompt))
}
