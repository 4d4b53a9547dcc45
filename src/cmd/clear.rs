//! `mfa clear`: deletes cached sessions — a profile's (every entry its
//! chain uses, the MFA session included) or all of them. An SSO sign-in
//! (the AWS CLI's token) is not mfa's cache and stays.

use anyhow::Result;

use crate::cache::Cache;
use crate::cli::ClearArgs;
use crate::context::Env;
use crate::resolve::{self, Overrides};
use crate::session::{base_key, role_key};

pub fn run(args: ClearArgs, env: &Env) -> Result<()> {
    let cache = Cache::from_env(env);
    let mut removed = 0;
    if args.all {
        removed = cache.clear()?;
    } else {
        let profiles = crate::config::load(env)?.profiles;
        // No name: the profile `env` would use (AWS_PROFILE, else default).
        let names = if args.profiles.is_empty() {
            vec![resolve::select_profile(None, env)]
        } else {
            args.profiles.clone()
        };
        for name in &names {
            let chain = resolve::resolve(&profiles, name, &Overrides::default())?;
            if let resolve::Root::Sso { sso, .. } = &chain.root {
                // The sign-in is the AWS CLI's too: clearing mfa's cache
                // must not sign the user out of `aws` as well.
                eprintln!(
                    "mfa: profile `{name}`: the SSO sign-in ({}) is kept, shared with the AWS CLI; `aws sso logout` ends it",
                    sso.session.as_deref().unwrap_or(&sso.start_url)
                );
            }
            let mut keys = vec![base_key(&chain)];
            keys.extend((0..chain.roles.len()).map(|i| role_key(&chain, i)));
            for key in keys {
                if cache.remove(&key)? {
                    removed += 1;
                }
            }
        }
    }
    eprintln!(
        "mfa: deleted {removed} cached session{}",
        if removed == 1 { "" } else { "s" }
    );
    Ok(())
}
