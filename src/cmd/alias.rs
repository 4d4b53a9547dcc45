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

/// bash 5.2: `compgen -k -b` (keywords and builtins, as bash prints them),
/// and the function bash calls for an unknown command.
#[rustfmt::skip]
const BASH_NAMES: &[&str] = &[
    // compgen -k (the same as compgen -A keyword)
    "if", "then", "else", "elif", "fi", "case", "esac", "for", "select", "while", "until", "do",
    "done", "in", "function", "time", "{", "}", "!", "[[", "]]", "coproc",
    // compgen -b
    ".", ":", "[", "alias", "bg", "bind", "break", "builtin", "caller", "cd", "command",
    "compgen", "complete", "compopt", "continue", "declare", "dirs", "disown", "echo", "enable",
    "eval", "exec", "exit", "export", "false", "fc", "fg", "getopts", "hash", "help", "history",
    "jobs", "kill", "let", "local", "logout", "mapfile", "popd", "printf", "pushd", "pwd", "read",
    "readarray", "readonly", "return", "set", "shift", "shopt", "source", "suspend", "test",
    "times", "trap", "true", "type", "typeset", "ulimit", "umask", "unalias", "unset", "wait",
    // called by name (bash(1), COMMAND EXECUTION)
    "command_not_found_handle",
];

/// zsh 5.9, from the zsh/parameter module in `zsh -f`: `${(k)reswords}` and
/// `${(k)builtins}`; the precommand modifiers (zshmisc(1): `-`, `builtin`,
/// `command`, `exec`, `nocorrect`, `noglob`); and the functions zsh calls by
/// name (zshmisc(1), SPECIAL FUNCTIONS; `TRAP…` is a prefix, below).
#[rustfmt::skip]
const ZSH_NAMES: &[&str] = &[
    // reswords
    "!", "[[", "case", "coproc", "declare", "do", "done", "elif", "else", "end", "esac", "export",
    "fi", "float", "for", "foreach", "function", "if", "integer", "local", "nocorrect", "readonly",
    "repeat", "select", "then", "time", "typeset", "until", "while", "{", "}",
    // builtins
    ".", ":", "[", "alias", "autoload", "bg", "bindkey", "break", "builtin", "bye", "cd", "chdir",
    "command", "compadd", "comparguments", "compcall", "compctl", "compdescribe", "compfiles",
    "compgroups", "compquote", "compset", "comptags", "comptry", "compvalues", "continue",
    "declare", "dirs", "disable", "disown", "echo", "echotc", "echoti", "emulate", "enable",
    "eval", "exec", "exit", "export", "false", "fc", "fg", "float", "functions", "getln",
    "getopts", "hash", "history", "integer", "jobs", "kill", "let", "limit", "local", "log",
    "logout", "noglob", "popd", "print", "printf", "private", "pushd", "pushln", "pwd", "r",
    "read", "readonly", "rehash", "return", "sched", "set", "setopt", "shift", "source",
    "suspend", "test", "times", "trap", "true", "ttyctl", "type", "typeset", "ulimit", "umask",
    "unalias", "unfunction", "unhash", "unlimit", "unset", "unsetopt", "vared", "wait", "whence",
    "where", "which", "zcompile", "zformat", "zle", "zmodload", "zparseopts", "zregexparse",
    "zstyle",
    // precommand modifiers
    "-",
    // special functions
    "chpwd", "periodic", "precmd", "preexec", "zshaddhistory", "zshexit",
    "command_not_found_handler",
];

/// fish 3.6: `builtin -n` (keywords are among them, and fish refuses them
/// as function names) plus `!`, and the functions fish ships, from
/// `functions -an` in `fish --no-config` (`fish_…` and `__fish…` are
/// prefixes, below: fish calls `fish_prompt`, `fish_right_prompt`, … by name).
#[rustfmt::skip]
const FISH_NAMES: &[&str] = &[
    // builtin -n
    ".", ":", "[", "_", "abbr", "and", "argparse", "begin", "bg", "bind", "block", "break",
    "breakpoint", "builtin", "case", "cd", "command", "commandline", "complete", "contains",
    "continue", "count", "disown", "echo", "else", "emit", "end", "eval", "exec", "exit", "false",
    "fg", "for", "function", "functions", "history", "if", "jobs", "math", "not", "or", "path",
    "printf", "pwd", "random", "read", "realpath", "return", "set", "set_color", "source",
    "status", "string", "switch", "test", "time", "true", "type", "ulimit", "wait", "while",
    // keyword
    "!",
    // functions -an
    "N_", "__terlar_git_prompt", "_validate_int", "alias", "cdh", "contains_seq", "diff", "dirh", "dirs", "down-or-search",
    "edit_command_buffer", "export", "funced", "funcsave", "grep", "help", "isatty", "la", "ll",
    "ls", "man", "nextd", "open", "popd", "prevd", "prompt_hostname", "prompt_login",
    "prompt_pwd", "psub", "pushd", "seq", "setenv", "suspend", "trap", "umask", "up-or-search",
    "vared",
];

/// PowerShell 7 (names ignore case). Keywords: about_Reserved_Words
/// (learn.microsoft.com, PowerShell 7.5), plus `clean` (a script block
/// keyword since 7.3, about_Functions). Aliases and functions every session
/// starts with: `BuiltInAliases` and `BuiltInFunctions` in PowerShell's
/// InitialSessionState.cs (those for Windows included: the same profile may
/// be used there), and PSReadLine's `PSConsoleHostReadLine`.
#[rustfmt::skip]
const POWERSHELL_NAMES: &[&str] = &[
    // keywords
    "assembly", "base", "begin", "break", "catch", "class", "clean", "command", "configuration",
    "continue", "data", "define", "do", "dynamicparam", "else", "elseif", "end", "enum", "exit",
    "filter", "finally", "for", "foreach", "from", "function", "hidden", "if", "in",
    "inlinescript", "interface", "module", "namespace", "parallel", "param", "private", "process",
    "public", "return", "sequence", "static", "switch", "throw", "trap", "try", "type", "until",
    "using", "var", "while", "workflow",
    // aliases
    "%", "?", "ac", "cat", "cd", "chdir", "clc", "clear", "clhy", "cli", "clp", "cls", "clv",
    "cnsn", "compare", "copy", "cp", "cpi", "cpp", "cvpa", "dbp", "del", "diff", "dir", "dnsn",
    "ebp", "echo", "epal", "epcsv", "epsn", "erase", "etsn", "exsn", "fc", "fl", "ft", "fw",
    "gal", "gbp", "gc", "gci", "gcm", "gcs", "gdr", "gerr", "ghy", "gi", "gjb", "gl", "gm",
    "gmo", "gp", "gps", "gpv", "group", "gsn", "gsv", "gu", "gv", "gwmi", "h", "history", "icm",
    "iex", "ihy", "ii", "ipal", "ipcsv", "ipmo", "ipsn", "irm", "ise", "iwmi", "iwr", "kill",
    "ls", "man", "md", "measure", "mi", "mount", "move", "mp", "mv", "nal", "ndr", "ni", "nmo",
    "npssc", "nsn", "nv", "ogv", "oh", "popd", "ps", "pushd", "pwd", "r", "rbp", "rcjb", "rcsn",
    "rd", "rdr", "ren", "ri", "rjb", "rm", "rmdir", "rmo", "rni", "rnp", "rp", "rsn", "rujb",
    "rv", "rvpa", "rwmi", "sajb", "sal", "saps", "sasv", "sbp", "sc", "select", "set", "shcm",
    "si", "sl", "sleep", "sls", "sort", "sp", "spjb", "spps", "spsv", "start", "sujb", "sv",
    "swmi", "tee", "trcm", "type", "wjb", "where", "write",
    // functions
    "cd..", "cd\\", "Clear-Host", "help", "mkdir", "oss", "Pause", "prompt", "TabExpansion2",
    "PSConsoleHostReadLine",
];

/// The names `shell` gives a meaning of its own (keywords, builtins, the
/// functions it ships or calls by name), which PATH does not show, and the
/// hook's own (`mfa`, `__mfa…`). An alias by one of these would break the
/// `eval` (a keyword) or quietly replace what the shell or the hook needs.
pub fn reserved_names(shell: Shell) -> &'static [&'static str] {
    match shell {
        Shell::Bash => BASH_NAMES,
        Shell::Zsh => ZSH_NAMES,
        Shell::Fish => FISH_NAMES,
        Shell::Powershell => POWERSHELL_NAMES,
    }
}

/// Whether `name` is one of `shell`'s own (see `reserved_names`), or has a
/// prefix the shell or the hook keeps for itself.
pub fn is_reserved(shell: Shell, name: &str) -> bool {
    let prefixes: &[&str] = match shell {
        // zsh runs TRAPINT, TRAPEXIT, … as signal traps.
        Shell::Zsh => &["__mfa", "TRAP"],
        Shell::Fish => &["__mfa", "fish_", "__fish"],
        Shell::Bash | Shell::Powershell => &["__mfa"],
    };
    let same = |a: &str, b: &str| same_name(shell, a, b);
    same(name, "mfa")
        || reserved_names(shell).iter().any(|r| same(r, name))
        || prefixes
            .iter()
            .any(|p| name.get(..p.len()).is_some_and(|start| same(start, p)))
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
            format!("function {name} {{ mfa use \"$@\" -- {profile}; }}\n")
        }
        (Shell::Bash | Shell::Zsh, AliasMode::Exec) => {
            format!("function {name} {{ command {bin} exec -- {profile} -- {program}\"$@\"; }}\n")
        }
        (Shell::Bash | Shell::Zsh, AliasMode::Shell) => {
            format!("function {name} {{ command {bin} shell \"$@\" -- {profile}; }}\n")
        }
        (Shell::Bash | Shell::Zsh, AliasMode::Console) => {
            format!("function {name} {{ command {bin} console \"$@\" -- {profile}; }}\n")
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
        (Shell::Fish, AliasMode::Console) => {
            format!("function {name}; command {bin} console $argv -- {profile}; end\n")
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
        (Shell::Powershell, AliasMode::Console) => {
            format!("function {name} {{ & {bin} console @args '--' {profile} }}\n")
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
        } else if is_reserved(shell, &name) {
            Some(format!(
                "{shell} or the mfa hook keeps that name (a keyword, builtin or function of its own)"
            ))
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
    fn reserved_names_are_known_per_shell() {
        assert!(is_reserved(Shell::Bash, "cd"));
        assert!(is_reserved(Shell::Bash, "coproc"));
        assert!(is_reserved(Shell::Zsh, "foreach"));
        assert!(is_reserved(Shell::Zsh, "TRAPINT"));
        assert!(!is_reserved(Shell::Zsh, "trapint"));
        assert!(is_reserved(Shell::Fish, "string"));
        assert!(is_reserved(Shell::Fish, "fish_right_prompt"));
        assert!(is_reserved(Shell::Powershell, "Foreach"));
        assert!(is_reserved(Shell::Powershell, "tabexpansion2"));
        for shell in Shell::ALL {
            assert!(is_reserved(shell, "mfa"), "{shell}");
            assert!(is_reserved(shell, "__mfa_hook"), "{shell}");
            assert!(!is_reserved(shell, "aws-prod"), "{shell}");
        }
        assert!(
            !is_reserved(Shell::Bash, "MFA"),
            "bash names keep their case"
        );
    }
}
