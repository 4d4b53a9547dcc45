//! One place per shell: how to quote a value and set or unset a variable.
//! Every value reaches shell code through `quote`; nothing is formatted
//! into a script raw.

mod fish;
mod posix;
mod powershell;

use std::fmt;

use crate::context::Env;
use crate::error::UsageError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
    #[value(alias = "pwsh")]
    Powershell,
}

impl Shell {
    pub const ALL: [Shell; 4] = [Shell::Bash, Shell::Zsh, Shell::Fish, Shell::Powershell];

    pub fn name(self) -> &'static str {
        match self {
            Shell::Bash => "bash",
            Shell::Zsh => "zsh",
            Shell::Fish => "fish",
            Shell::Powershell => "powershell",
        }
    }

    /// `bash`, `zsh`, `fish`, `powershell` or `pwsh`; also a path or a
    /// login shell's `-bash`.
    pub fn from_name(name: &str) -> Option<Shell> {
        let base = name.rsplit('/').next().unwrap_or(name);
        let base = base.trim_start_matches('-');
        let base = base.strip_suffix(".exe").unwrap_or(base);
        match base {
            "bash" => Some(Shell::Bash),
            "zsh" => Some(Shell::Zsh),
            "fish" => Some(Shell::Fish),
            "powershell" | "pwsh" => Some(Shell::Powershell),
            _ => None,
        }
    }

    /// The shell to write for when none is named: `MFA_SHELL`, else the
    /// parent process when it is a shell, else `$SHELL`, else bash.
    pub fn detect(env: &Env, parent: Option<&str>) -> Result<Shell, UsageError> {
        if let Some(name) = env.get("MFA_SHELL") {
            return Shell::from_name(name).ok_or_else(|| {
                UsageError::new(format!(
                    "MFA_SHELL is `{name}`; it must be bash, zsh, fish or powershell"
                ))
            });
        }
        Ok(parent
            .and_then(Shell::from_name)
            .or_else(|| env.get("SHELL").and_then(Shell::from_name))
            .unwrap_or(Shell::Bash))
    }

    /// `value` as one word of this shell's code, arriving byte for byte.
    pub fn quote(self, value: &str) -> String {
        match self {
            Shell::Bash | Shell::Zsh => posix::quote(value),
            Shell::Fish => fish::quote(value),
            Shell::Powershell => powershell::quote(value),
        }
    }

    /// A statement that sets and exports `name` (a fixed, safe name).
    pub fn set_var(self, name: &str, value: &str) -> String {
        debug_assert!(is_safe_name(name));
        let value = self.quote(value);
        match self {
            Shell::Bash | Shell::Zsh => format!("export {name}={value}\n"),
            Shell::Fish => format!("set -gx {name} {value}\n"),
            Shell::Powershell => format!("$env:{name} = {value}\n"),
        }
    }

    /// A statement that removes `name` from the environment, quietly when
    /// it is not set.
    pub fn unset_var(self, name: &str) -> String {
        debug_assert!(is_safe_name(name));
        match self {
            Shell::Bash | Shell::Zsh => format!("unset {name}\n"),
            Shell::Fish => format!("set -e -g {name}\n"),
            Shell::Powershell => {
                format!("Remove-Item -LiteralPath 'Env:{name}' -ErrorAction SilentlyContinue\n")
            }
        }
    }
}

impl fmt::Display for Shell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Names we write into scripts unquoted: the fixed variable names.
fn is_safe_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_uppercase() || c == '_')
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// The name of the parent process (Linux `/proc`), to guess the shell that
/// will read our output.
pub fn parent_process_name() -> Option<String> {
    let ppid = std::os::unix::process::parent_id();
    let comm = std::fs::read_to_string(format!("/proc/{ppid}/comm")).ok()?;
    Some(comm.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_paths_of_shells_are_recognised() {
        assert_eq!(Shell::from_name("/usr/bin/zsh"), Some(Shell::Zsh));
        assert_eq!(Shell::from_name("-bash"), Some(Shell::Bash));
        assert_eq!(Shell::from_name("pwsh"), Some(Shell::Powershell));
        assert_eq!(Shell::from_name("pwsh.exe"), Some(Shell::Powershell));
        assert_eq!(Shell::from_name("sh"), None);
    }

    #[test]
    fn detection_prefers_mfa_shell_then_parent_then_shell_variable() {
        let env = Env::from_pairs([("MFA_SHELL", "fish"), ("SHELL", "/bin/zsh")]);
        assert_eq!(Shell::detect(&env, Some("bash")), Ok(Shell::Fish));
        let env = Env::from_pairs([("SHELL", "/bin/zsh")]);
        assert_eq!(Shell::detect(&env, Some("bash")), Ok(Shell::Bash));
        assert_eq!(Shell::detect(&env, Some("python3")), Ok(Shell::Zsh));
        assert_eq!(Shell::detect(&Env::default(), None), Ok(Shell::Bash));
        let env = Env::from_pairs([("MFA_SHELL", "tcsh")]);
        assert!(Shell::detect(&env, None).is_err());
    }

    #[test]
    fn statements_have_the_shape_each_shell_reads() {
        assert_eq!(Shell::Bash.set_var("A", "x"), "export A='x'\n");
        assert_eq!(Shell::Fish.set_var("A", "x"), "set -gx A 'x'\n");
        assert_eq!(Shell::Powershell.set_var("A", "x"), "$env:A = 'x'\n");
        assert_eq!(Shell::Zsh.unset_var("A"), "unset A\n");
        assert_eq!(Shell::Fish.unset_var("A"), "set -e -g A\n");
    }
}
