//! `mfa alias`: one command per profile (`aws-prod`, `aws-stage`, …), named
//! by the profile's `mfa_alias` or the prefix plus the profile name, made
//! safe as a command name. A name that would hide a command or builtin is
//! skipped with a warning.

use anyhow::Result;

use crate::cli::{AliasArgs, AliasMode};
use crate::context::Env;
use crate::shell::{Shell, parent_process_name};

/// The profile's name as a command name: characters other than letters,
/// digits, `_`, `.` and `-` become `-` (`team/prod@eu` → `team-prod-eu`).
pub fn command_name(prefix: &str, profile: &str) -> String {
    format!("{prefix}{profile}")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "_.-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// Names each shell reserves (builtins and keywords) that PATH does not show.
fn is_builtin(shell: Shell, name: &str) -> bool {
    const COMMON: &[&str] = &[
        "alias", "bg", "break", "builtin", "case", "cd", "command", "continue", "do", "done",
        "echo", "elif", "else", "end", "esac", "eval", "exec", "exit", "export", "false", "fg",
        "fi", "for", "function", "if", "in", "jobs", "kill", "local", "printf", "pwd", "read",
        "return", "select", "set", "shift", "source", "test", "then", "time", "trap", "true",
        "type", "ulimit", "umask", "unalias", "unset", "until", "wait", "while",
    ];
    let own: &[&str] = match shell {
        Shell::Bash => &[
            "declare",
            "typeset",
            "shopt",
            "hash",
            "help",
            "history",
            "mapfile",
            "readarray",
            "let",
            "enable",
            "caller",
            "compgen",
            "complete",
            "dirs",
            "disown",
            "popd",
            "pushd",
            "suspend",
            "times",
        ],
        Shell::Zsh => &[
            "autoload", "bindkey", "compdef", "emulate", "integer", "noglob", "print", "repeat",
            "setopt", "unsetopt", "whence", "where", "which", "zle", "zmodload", "zstyle",
            "typeset", "declare", "let", "hash",
        ],
        Shell::Fish => &[
            "abbr",
            "and",
            "argparse",
            "begin",
            "block",
            "complete",
            "contains",
            "count",
            "emit",
            "functions",
            "math",
            "not",
            "or",
            "random",
            "status",
            "string",
            "switch",
        ],
        Shell::Powershell => &[
            "cls", "clear", "copy", "del", "dir", "foreach", "gc", "gci", "gm", "gps", "iex", "ls",
            "man", "md", "mount", "move", "ps", "r", "rm", "sleep", "sort", "tee", "where",
        ],
    };
    // PowerShell names ignore case.
    let name = if shell == Shell::Powershell {
        name.to_ascii_lowercase()
    } else {
        name.to_string()
    };
    COMMON.contains(&name.as_str()) || own.contains(&name.as_str())
}

/// Two names are the same command in this shell: PowerShell ignores case.
fn same_name(shell: Shell, a: &str, b: &str) -> bool {
    if shell == Shell::Powershell {
        a.eq_ignore_ascii_case(b)
    } else {
        a == b
    }
}

/// One definition, for `mode`. `binary` is this program's path, so exec and
/// shell aliases work without the hook; `use` needs the hook's `mfa use`.
/// The profile always follows a `--`, so no name (`-h`) is read as an
/// option; the caller's words come before it (flags such as `--token`) or,
/// for exec, after the second `--` (the command).
pub fn definition(
    shell: Shell,
    mode: AliasMode,
    name: &str,
    profile: &str,
    binary: &str,
    program: &str,
) -> String {
    let q = |s: &str| shell.quote(s);
    let profile = q(profile);
    let (bin, program) = (
        q(binary),
        if program.is_empty() {
            String::new()
        } else {
            format!("{} ", q(program))
        },
    );
    match (shell, mode) {
        (Shell::Bash | Shell::Zsh, AliasMode::Use) => {
            format!("{name}() {{ mfa use \"$@\" -- {profile}; }}\n")
        }
        (Shell::Bash | Shell::Zsh, AliasMode::Exec) => {
            format!("{name}() {{ command {bin} exec -- {profile} -- {program}\"$@\"; }}\n")
        }
        (Shell::Bash | Shell::Zsh, AliasMode::Shell) => {
            format!("{name}() {{ command {bin} shell \"$@\" -- {profile}; }}\n")
        }
        (Shell::Fish, AliasMode::Use) => {
            format!("function {name}; mfa use $argv -- {profile}; end\n")
        }
        (Shell::Fish, AliasMode::Exec) => {
            format!("function {name}; command {bin} exec -- {profile} -- {program}$argv; end\n")
        }
        (Shell::Fish, AliasMode::Shell) => {
            format!("function {name}; command {bin} shell $argv -- {profile}; end\n")
        }
        // A bare `--` would be swallowed by PowerShell's binder: quoted, it
        // is a word like any other.
        (Shell::Powershell, AliasMode::Use) => {
            format!("function {name} {{ mfa use @args '--' {profile} }}\n")
        }
        (Shell::Powershell, AliasMode::Exec) => {
            format!("function {name} {{ & {bin} exec '--' {profile} '--' {program}@args }}\n")
        }
        (Shell::Powershell, AliasMode::Shell) => {
            format!("function {name} {{ & {bin} shell @args '--' {profile} }}\n")
        }
    }
}

pub fn run(args: AliasArgs, env: &Env) -> Result<()> {
    let shell = match args.shell {
        Some(shell) => shell,
        None => Shell::detect(env, parent_process_name().as_deref())?,
    };
    let profiles = crate::config::load(env)?.profiles;
    let binary = super::init::binary_path();
    let mut seen: Vec<String> = Vec::new();
    let mut out = String::new();
    for profile in &profiles.list {
        let name = match profile.get_single("mfa_alias") {
            Some(alias) => command_name("", alias),
            None => command_name(&args.prefix, &profile.name),
        };
        let skip = if name.is_empty() || name.starts_with(['-', '.']) {
            Some("it is not a usable command name".to_string())
        } else if seen.iter().any(|s| same_name(shell, s, &name)) {
            Some("another profile already has that name".to_string())
        } else if is_builtin(shell, &name) {
            Some(format!("it is a {shell} builtin"))
        } else if let Ok(path) = which::which_in(&name, env.get("PATH"), "/") {
            Some(format!("it would hide {}", path.display()))
        } else {
            None
        };
        if let Some(reason) = skip {
            eprintln!(
                "mfa: skipping `{name}` for profile `{}`: {reason}",
                profile.name
            );
            continue;
        }
        out.push_str(&definition(
            shell,
            args.mode,
            &name,
            &profile.name,
            &binary,
            &args.command,
        ));
        seen.push(name);
    }
    crate::output::print(&out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_names_become_safe_command_names() {
        assert_eq!(command_name("aws-", "prod"), "aws-prod");
        assert_eq!(
            command_name("aws-", "team/prod@eu:1+x%"),
            "aws-team-prod-eu-1-x-"
        );
        assert_eq!(command_name("", "a.b_c-d"), "a.b_c-d");
    }

    #[test]
    fn builtins_are_known_per_shell() {
        assert!(is_builtin(Shell::Bash, "cd"));
        assert!(is_builtin(Shell::Fish, "string"));
        assert!(!is_builtin(Shell::Bash, "aws-prod"));
    }
}
