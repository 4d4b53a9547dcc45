//! `mfa login`: a new SSO sign-in for a profile whose chain starts at an
//! SSO profile, as `aws sso login` does, into the same token cache.

use anyhow::Result;

use crate::cli::LoginArgs;
use crate::context::Env;
use crate::error::UsageError;
use crate::resolve::{self, Overrides, Root};

pub fn run(args: LoginArgs, env: &Env) -> Result<()> {
    let profiles = crate::config::load(env)?.profiles;
    let name = resolve::select_profile(args.profile.as_deref(), env);
    let chain = resolve::resolve(&profiles, &name, &Overrides::default())?;
    let Root::Sso { profile, sso } = &chain.root else {
        return Err(UsageError::new(format!(
            "profile `{name}` does not sign in with SSO (it needs sso_session, sso_account_id and sso_role_name, or a source_profile that has them)"
        ))
        .into());
    };
    // The sign-in says on the terminal how long it lasts.
    crate::sso::login(env, profile, sso)?;
    Ok(())
}
