//! mfa: AWS multi-factor authentication at the command line.
//!
//! The core (profiles, resolution, quoting, cache policy) is plain
//! functions over plain data; the environment, clock, terminal and STS are
//! passed in, so tests are exact.

pub mod aws;
pub mod browser;
pub mod cache;
pub mod cli;
pub mod cmd;
pub mod code;
pub mod config;
pub mod console;
pub mod context;
pub mod creds;
pub mod endpoint;
pub mod enforce;
pub mod error;
pub mod files;
pub mod iam;
pub mod keystore;
pub mod output;
pub mod paths;
pub mod peer;
pub mod policy;
pub mod prompt;
pub mod resolve;
pub mod session;
pub mod shell;
pub mod sso;
pub mod startup_file;
pub mod sts;
pub mod terminal;

use clap::Parser;

/// Runs the command line and returns the exit status.
pub fn main() -> i32 {
    // At TAB time the shell runs `COMPLETE=<shell> mfa -- <words>`: answer and exit.
    cmd::completions::note_shell();
    clap_complete::CompleteEnv::with_factory(<cli::Cli as clap::CommandFactory>::command)
        .var(cmd::completions::VAR)
        .shells(cmd::completions::SHELLS)
        .complete();
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { error::EXIT_USAGE } else { 0 };
        }
    };
    let env = context::Env::from_process();
    match cmd::run(cli.command, &env) {
        Ok(()) => 0,
        Err(e) => {
            let status = error::exit_code(&e);
            if e.downcast_ref::<error::ChildExit>().is_none() {
                eprintln!("mfa: {e:#}");
            }
            status
        }
    }
}
