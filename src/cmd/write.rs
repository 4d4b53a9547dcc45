//! `mfa write PROFILE [--section NAME]`: the session into the credentials
//! file, for tools that read only files. Every byte outside the section it
//! writes stays as it was; a section with long-term keys is never touched.

use anyhow::{Result, anyhow};

use super::obtain_session;
use crate::cli::WriteArgs;
use crate::config::{FileKind, Profiles, document};
use crate::context::Env;
use crate::creds::rfc3339;
use crate::error::UsageError;

/// Whether a profile holds long-term keys (keys without a session token).
fn holds_long_term_keys(profiles: &Profiles, name: &str) -> bool {
    profiles.get(name).is_some_and(|p| {
        p.get_nonempty("aws_access_key_id").is_some()
            && p.get_nonempty("aws_session_token").is_none()
            && p.get_nonempty("aws_security_token").is_none()
    })
}

/// Where the session goes: `--section`, else PROFILE, unless PROFILE's own
/// section must stay as it is (long-term keys there, or a role, process or
/// SSO source the AWS CLI would read instead of keys): then `PROFILE-mfa`.
pub fn target_section(
    profiles: &Profiles,
    profile: &str,
    section: Option<&str>,
) -> Result<String, UsageError> {
    let target = match section {
        Some(section) => section.to_string(),
        None => {
            let own = profiles.get(profile);
            let has = |key: &str| own.is_some_and(|p| p.get_nonempty(key).is_some());
            let keep_own = holds_long_term_keys(profiles, profile)
                || has("role_arn")
                || has("credential_process")
                || has("sso_start_url")
                || has("sso_session");
            if keep_own {
                format!("{profile}-mfa")
            } else {
                profile.to_string()
            }
        }
    };
    if !document::is_valid_name(&target) {
        return Err(UsageError::new(format!(
            "`{target}` cannot be a profile name"
        )));
    }
    if holds_long_term_keys(profiles, &target) {
        return Err(UsageError::new(format!(
            "profile `{target}` holds long-term keys, which mfa write never overwrites: choose another --section"
        )));
    }
    Ok(target)
}

pub fn run(args: WriteArgs, env: &Env) -> Result<()> {
    let files = crate::config::load(env)?;
    let profiles = files.profiles;
    let section = target_section(&profiles, &args.profile, args.section.as_deref())?;
    let session = obtain_session(Some(&args.profile), &args.session, env)?;
    let credentials = &session.credentials;
    let token = credentials.session_token.as_deref().ok_or_else(|| {
        anyhow!(
            "profile `{}` gave long-term keys, which mfa never writes",
            args.profile
        )
    })?;
    let expires = credentials.expiration.map(rfc3339);
    let mut properties = vec![
        ("aws_access_key_id", credentials.access_key_id.as_str()),
        (
            "aws_secret_access_key",
            credentials.secret_access_key.as_str(),
        ),
        ("aws_session_token", token),
    ];
    if let Some(expires) = &expires {
        properties.push(("x_security_token_expires", expires.as_str()));
    }
    let path = files.credentials_path.clone();
    crate::config::set_in_file(
        &path,
        FileKind::Credentials,
        &section,
        &properties,
        |current| {
            // Read again under the lock: another writer may have changed it.
            if holds_long_term_keys(current, &section) {
                return Err(UsageError::new(format!(
                    "profile `{section}` now holds long-term keys, which mfa write never overwrites"
                ))
                .into());
            }
            Ok(())
        },
    )?;
    eprintln!(
        "mfa: wrote profile `{section}` in {}{}; use it with --profile {section} (or AWS_PROFILE={section})",
        crate::paths::display(&path),
        expires
            .map(|e| format!(", valid until {e}"))
            .unwrap_or_default()
    );
    Ok(())
}
