//! `mfa shell PROFILE`: an interactive subshell with the session (with
//! `--server`, with the credential endpoint: `crate::endpoint`).

use std::process::Command;

use anyhow::Result;

use super::env::session_vars;
use super::exec::{apply, exec_replacing};
use super::obtain_session;
use crate::cli::ShellArgs;
use crate::context::Env;

pub fn run(args: ShellArgs, env: &Env) -> Result<()> {
    let program = env.get("SHELL").unwrap_or("/bin/sh").to_string();
    if args.server {
        eprintln!(
            "mfa: starting {program} with credentials for profile `{}` served on 127.0.0.1; exit to leave it",
            args.profile
        );
        let command = Command::new(&program);
        return crate::endpoint::run(&args.profile, &args.session, env, command, &program);
    }
    let session = obtain_session(Some(&args.profile), &args.session, env)?;
    let vars = session_vars(&session)?;
    eprintln!(
        "mfa: starting {program} with profile `{}`; exit to leave it",
        session.profile
    );
    let mut command = Command::new(&program);
    apply(&mut command, &vars);
    Err(exec_replacing(command, &program))
}
