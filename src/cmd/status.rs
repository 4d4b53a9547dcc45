//! `mfa status`: the session in this shell (from its variables) and the
//! cached sessions.

use anyhow::Result;
use serde::Serialize;

use crate::cache::Cache;
use crate::cli::JsonArgs;
use crate::context::{Clock, Env, SystemClock};
use crate::creds::{human_duration, rfc3339};

#[derive(Debug, Serialize)]
struct ShellSession {
    profile: String,
    access_key_id: Option<String>,
    expires_at: Option<String>,
    seconds_left: Option<i64>,
}

#[derive(Debug, Serialize)]
struct Cached {
    kind: crate::cache::EntryKind,
    profile: String,
    mfa_serial: Option<String>,
    role_arn: Option<String>,
    expires_at: Option<String>,
    seconds_left: Option<i64>,
}

/// An SSO sign-in the config uses (the AWS CLI's token, shared).
#[derive(Debug, Serialize)]
struct SsoSignIn {
    /// The sso-session's name, else the start URL (legacy profiles).
    name: String,
    start_url: String,
    expires_at: Option<String>,
    seconds_left: Option<i64>,
}

#[derive(Debug, Serialize)]
struct Status {
    shell: Option<ShellSession>,
    cached: Vec<Cached>,
    sso: Vec<SsoSignIn>,
}

/// Each SSO sign-in the profiles use, once, with its token's time left.
fn sso_sign_ins(env: &Env, now: i64) -> Vec<SsoSignIn> {
    let Ok(files) = crate::config::load(env) else {
        return Vec::new();
    };
    let mut seen = std::collections::HashSet::new();
    files
        .profiles
        .list
        .iter()
        .filter_map(|p| crate::sso::from_profile(&files.profiles, p).ok().flatten())
        .filter(|sso| seen.insert(crate::sso::token::token_file_name(sso)))
        .map(|sso| {
            let expires = crate::sso::token_expires_at(env, &sso);
            SsoSignIn {
                name: sso.session.clone().unwrap_or_else(|| sso.start_url.clone()),
                start_url: sso.start_url.clone(),
                expires_at: expires.map(rfc3339),
                seconds_left: expires.map(|e| e.saturating_sub(now)),
            }
        })
        .collect()
}

fn status(env: &Env, cache: &Cache, now: i64) -> Status {
    let shell = env.get("MFA_PROFILE").map(|profile| {
        let expires = env
            .get("MFA_EXPIRES_AT")
            .and_then(|e| e.parse::<i64>().ok());
        ShellSession {
            profile: profile.to_string(),
            access_key_id: env.get("AWS_ACCESS_KEY_ID").map(str::to_string),
            expires_at: expires.map(rfc3339),
            seconds_left: expires.map(|e| e.saturating_sub(now)),
        }
    });
    let cached = cache
        .entries()
        .into_iter()
        .filter_map(|(_, entry)| entry)
        .map(|e| Cached {
            kind: e.kind,
            profile: e.profile,
            mfa_serial: e.mfa_serial,
            role_arn: e.role_arn,
            expires_at: e.credentials.expiration.map(rfc3339),
            seconds_left: e.credentials.expiration.map(|x| x.saturating_sub(now)),
        })
        .collect();
    Status {
        shell,
        cached,
        sso: sso_sign_ins(env, now),
    }
}

fn left(seconds: Option<i64>) -> String {
    match seconds {
        Some(s) if s > 0 => human_duration(s),
        Some(_) => "expired".to_string(),
        None => "-".to_string(),
    }
}

pub fn run(args: JsonArgs, env: &Env) -> Result<()> {
    let status = status(env, &Cache::from_env(env), SystemClock.now());
    if args.json {
        return crate::output::print_json(&status);
    }
    let mut text = match &status.shell {
        Some(s) => format!("this shell: {} ({})\n", s.profile, left(s.seconds_left)),
        None => "this shell: no mfa session\n".to_string(),
    };
    if status.cached.is_empty() {
        text.push_str("cached: none\n");
    } else {
        text.push_str("cached:\n");
        let rows: Vec<Vec<String>> = status
            .cached
            .iter()
            .map(|c| {
                vec![
                    format!("  {}", c.profile),
                    serde_json::to_value(c.kind)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default(),
                    c.role_arn
                        .clone()
                        .or_else(|| c.mfa_serial.clone())
                        .unwrap_or_default(),
                    left(c.seconds_left),
                ]
            })
            .collect();
        text.push_str(&crate::output::table(
            &["  PROFILE", "KIND", "FOR", "LEFT"],
            &rows,
        ));
    }
    if !status.sso.is_empty() {
        text.push_str("sso sign-ins:\n");
        let rows: Vec<Vec<String>> = status
            .sso
            .iter()
            .map(|s| {
                let left = match s.seconds_left {
                    None => "not signed in".to_string(),
                    seconds => left(seconds),
                };
                vec![format!("  {}", s.name), s.start_url.clone(), left]
            })
            .collect();
        text.push_str(&crate::output::table(
            &["  SESSION", "START URL", "LEFT"],
            &rows,
        ));
    }
    crate::output::print(&text)
}
