//! `mfa exec PROFILE -- CMD …`: runs CMD with the session in its
//! environment, in place of mfa, so it exits (and takes signals) as CMD.
//! With `--server`, mfa stays and serves CMD credentials that renew
//! themselves (`crate::endpoint`).
//! `mfa exec -- PROFILE -- CMD …` takes any profile name, `-h` too.

use std::os::unix::process::CommandExt;
use std::process::Command;

use anyhow::{Result, anyhow};

use super::env::session_vars;
use super::obtain_session;
use crate::cli::ExecArgs;
use crate::context::Env;
use crate::error::ChildExit;

/// Puts the session into a command's environment. The calling shell's
/// prompt segment (the hook exports it) speaks of another session: the
/// child's own hook, or none, sets it again.
pub fn apply(command: &mut Command, vars: &[(&str, Option<String>)]) {
    command.env_remove("MFA_PROMPT");
    for (name, value) in vars {
        match value {
            Some(value) => command.env(name, value),
            None => command.env_remove(name),
        };
    }
}

/// Replaces this process with `command`; returns only on failure, with the
/// status a shell gives: 127 not found, 126 not runnable.
pub fn exec_replacing(mut command: Command, program: &str) -> anyhow::Error {
    let error = command.exec();
    let status = match error.kind() {
        std::io::ErrorKind::NotFound => 127,
        _ => 126,
    };
    eprintln!("mfa: cannot run `{program}`: {error}");
    anyhow!(ChildExit(status))
}

/// The command in CMD's words. In `mfa exec -- PROFILE -- CMD` clap reads
/// every word after the first `--` as a value, the second `--` too: that
/// one is the separator (no program is named `--`).
fn command_words(words: &[String]) -> &[String] {
    match words.split_first() {
        Some((first, rest)) if first == "--" => rest,
        _ => words,
    }
}

pub fn run(args: ExecArgs, env: &Env) -> Result<()> {
    // Before the session: a usage error must not cost a one-time code.
    let Some((program, rest)) = command_words(&args.command).split_first() else {
        return Err(crate::error::UsageError::new(
            "name the command to run (CMD) after `--`: mfa exec PROFILE -- CMD",
        )
        .into());
    };
    let mut command = Command::new(program);
    command.args(rest);
    if args.server {
        return crate::endpoint::run(&args.profile, &args.session, env, command, program);
    }
    let session = obtain_session(Some(&args.profile), &args.session, env)?;
    let vars = session_vars(&session)?;
    apply(&mut command, &vars);
    Err(exec_replacing(command, program))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(list: &[&str]) -> Vec<String> {
        list.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn a_leading_double_dash_is_the_separator() {
        assert_eq!(
            command_words(&words(&["--", "env", "--"])),
            words(&["env", "--"])
        );
        assert_eq!(
            command_words(&words(&["env", "--", "-h"])),
            words(&["env", "--", "-h"])
        );
        assert!(command_words(&words(&["--"])).is_empty());
        assert!(command_words(&[]).is_empty());
    }
}
