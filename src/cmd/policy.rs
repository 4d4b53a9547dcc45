//! `mfa policy`: being written.
use anyhow::Result;

use crate::cli::PolicyArgs;
use crate::context::Env;

pub fn run(_args: PolicyArgs, _env: &Env) -> Result<()> {
    anyhow::bail!("mfa policy is not built yet")
}
