//! `mfa clear`: deletes cached sessions — a profile's (every entry its
//! chain uses, the MFA session included) or all of them.

use anyhow::Result;

use crate::cache::Cache;
use crate::cli::ClearArgs;
use crate::context::Env;
use crate::error::UsageError;
use crate::resolve::{self, Overrides};
use crate::session::{base_key, role_key};

pub fn run(args: ClearArgs, env: &Env) -> Result<()> {
    let cache = Cache::from_env(env);
    let mut removed = 0;
    if args.all {
        for (path, _) in cache.entries() {
            std::fs::remove_file(&path)?;
            removed += 1;
        }
    } else if args.profiles.is_empty() {
        return Err(
            UsageError::new("name the profiles whose sessions to delete, or use --all").into(),
        );
    } else {
        let profiles = crate::config::load(env)?.profiles();
        for name in &args.profiles {
            let chain = resolve::resolve(&profiles, name, &Overrides::default())?;
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
