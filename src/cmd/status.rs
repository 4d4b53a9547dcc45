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

#[derive(Debug, Serialize)]
struct Status {
    shell: Option<ShellSession>,
    cached: Vec<Cached>,
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
    Status { shell, cached }
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
    crate::output::print(&text)
}
