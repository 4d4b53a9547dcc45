//! `mfa prompt`: one segment for starship, powerlevel10k and the like,
//! from the environment alone (no disk, no network).

use anyhow::Result;

use crate::cli::PromptArgs;
use crate::context::{Clock, Env, SystemClock};

pub fn run(args: PromptArgs, env: &Env) -> Result<()> {
    match crate::prompt::segment(env, SystemClock.now()) {
        Some(segment) => crate::output::print(&format!("{}\n", segment.format(&args.format))),
        None => Ok(()),
    }
}
