//! `mfa exec PROFILE -- CMD …`: runs CMD with the session in its
//! environment, in place of mfa, so it exits (and takes signals) as CMD.

use std::os::unix::process::CommandExt;
use std::process::Command;

use anyhow::{Result, anyhow};

use super::env::session_vars;
use super::obtain_session;
use crate::cli::ExecArgs;
use crate::context::Env;
use crate::error::ChildExit;

/// Puts the session into a command's environment.
pub fn apply(command: &mut Command, vars: &[(&str, Option<String>)]) {
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

pub fn run(args: ExecArgs, env: &Env) -> Result<()> {
    let session = obtain_session(Some(&args.profile), &args.session, env)?;
    let vars = session_vars(&session)?;
    let Some((program, rest)) = args.command.split_first() else {
        return Err(crate::error::UsageError::new("name a command after `--`").into());
    };
    let mut command = Command::new(program);
    command.args(rest);
    apply(&mut command, &vars);
    Err(exec_replacing(command, program))
}
