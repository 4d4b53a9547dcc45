//! `mfa shell PROFILE`: an interactive subshell with the session.

use std::process::Command;

use anyhow::Result;

use super::env::session_vars;
use super::exec::{apply, exec_replacing};
use super::obtain_session;
use crate::cli::ShellArgs;
use crate::context::Env;

pub fn run(args: ShellArgs, env: &Env) -> Result<()> {
    let session = obtain_session(Some(&args.profile), &args.session, env)?;
    let vars = session_vars(&session)?;
    let program = env.get("SHELL").unwrap_or("/bin/sh").to_string();
    eprintln!(
        "mfa: starting {program} with profile `{}`; exit to leave it",
        session.profile
    );
    let mut command = Command::new(&program);
    apply(&mut command, &vars);
    Err(exec_replacing(command, &program))
}
