//! `mfa env`: shell statements that put a session in the calling shell, or
//! (`--unset`) take it out again.

use anyhow::Result;

use super::{Session, obtain_session};
use crate::cli::EnvArgs;
use crate::context::Env;
use crate::creds::rfc3339;
use crate::error::UsageError;
use crate::shell::{Shell, parent_process_name};

/// Everything `env` may set; `--unset` removes all of them.
pub const SESSION_VARS: [&str; 9] = [
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
    "AWS_SESSION_EXPIRATION",
    "MFA_PROFILE",
    "MFA_EXPIRES_AT",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
];

/// Variables that would make AWS tools look elsewhere than the session.
pub const CONFLICTING_VARS: [&str; 3] =
    ["AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SECURITY_TOKEN"];

/// What the session does to the environment: `Some` sets, `None` removes.
pub fn session_vars(session: &Session) -> Result<Vec<(&'static str, Option<String>)>> {
    let c = &session.credentials;
    let expiration = c.expiration;
    let mut vars: Vec<(&'static str, Option<String>)> = vec![
        ("AWS_ACCESS_KEY_ID", Some(c.access_key_id.clone())),
        ("AWS_SECRET_ACCESS_KEY", Some(c.secret_access_key.clone())),
        ("AWS_SESSION_TOKEN", c.session_token.clone()),
        ("AWS_CREDENTIAL_EXPIRATION", expiration.map(rfc3339)),
        ("AWS_SESSION_EXPIRATION", expiration.map(rfc3339)),
        ("MFA_PROFILE", Some(session.profile.clone())),
        ("MFA_EXPIRES_AT", expiration.map(|e| e.to_string())),
    ];
    // A region is set only when the profile names one; otherwise the
    // shell's own AWS_REGION, if any, stays.
    if let Some(region) = &session.region {
        vars.push(("AWS_REGION", Some(region.clone())));
        vars.push(("AWS_DEFAULT_REGION", Some(region.clone())));
    }
    vars.extend(CONFLICTING_VARS.iter().map(|name| (*name, None)));
    for (name, value) in &vars {
        if value.as_deref().is_some_and(|v| v.contains('\0')) {
            return Err(UsageError::new(format!(
                "the value for {name} contains a NUL byte, which no environment variable can hold"
            ))
            .into());
        }
    }
    Ok(vars)
}

pub fn render(shell: Shell, vars: &[(&str, Option<String>)]) -> String {
    vars.iter()
        .map(|(name, value)| match value {
            Some(value) => shell.set_var(name, value),
            None => shell.unset_var(name),
        })
        .collect()
}

/// Statements that remove what `env` set. The region variables go only
/// when they hold the region of the session's profile: otherwise they are
/// the user's own (`env` sets them only for a profile with a region).
pub fn render_unset(shell: Shell, env: &Env) -> String {
    let session_region = env.get("MFA_PROFILE").and_then(|name| {
        let profiles = crate::config::load(env).ok()?.profiles;
        profiles.get(name)?.get_single("region").map(str::to_string)
    });
    SESSION_VARS
        .iter()
        .filter(|name| match **name {
            "AWS_REGION" | "AWS_DEFAULT_REGION" => {
                session_region.is_some() && env.get(name) == session_region.as_deref()
            }
            _ => true,
        })
        .map(|name| shell.unset_var(name))
        .collect()
}

pub fn run(args: EnvArgs, env: &Env) -> Result<()> {
    let shell = match args.shell {
        Some(shell) => shell,
        None => Shell::detect(env, parent_process_name().as_deref())?,
    };
    if args.unset {
        return crate::output::print(&render_unset(shell, env));
    }
    let profile = crate::resolve::select_profile(args.profile.as_deref(), env);
    if crate::endpoint::serves(env, &profile, &args.session) {
        let session = super::obtain_served_session(&profile, &args.session, env)?;
        eprintln!(
            "mfa: this shell gets profile `{profile}` from mfa's credential endpoint: its session is renewed, no keys are set"
        );
        return crate::output::print(&render(
            shell,
            &crate::endpoint::served_shell_vars(&session),
        ));
    }
    let session = obtain_session(Some(&profile), &args.session, env)?;
    let script = render(shell, &session_vars(&session)?);
    crate::output::print(&script)
}
