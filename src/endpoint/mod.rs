//! The local credential endpoint (SPEC §8, `mfa exec --server`, `mfa shell
//! --server`): a command runs with `AWS_CONTAINER_CREDENTIALS_FULL_URI`
//! and `AWS_CONTAINER_AUTHORIZATION_TOKEN` instead of keys, and every AWS
//! SDK in it fetches credentials from mfa, which renews them through the
//! same engine, cache and locks as every other command. A job that
//! outlives one role session keeps working.
//!
//! - `request`: what a request gets (Host, method, token, path; bodies).
//! - `renew`: the credentials in hand, renewed once however many wait.
//! - `serve`: hyper's HTTP/1 server on a tokio runtime of its own thread.
//! - `child`: the command, its signals and its exit status.
//! - `foreground`: job control: the terminal is the job's, but for a code.

pub mod child;
mod foreground;
pub mod renew;
pub mod request;
mod serve;

use std::io::Write;
use std::net::{Ipv4Addr, TcpListener};
use std::process::Command;
use std::sync::Arc;

use anyhow::{Context, Result, bail};

use crate::cli::SessionArgs;
use crate::cmd::obtain_session_with;
use crate::code::{CodeRequest, CodeSource, Codes};
use crate::context::{Clock, Env, SystemClock};
use crate::error::ChildExit;
use renew::{RenewFn, Renewer, Unavailable};

/// Default for `MFA_SERVER_MIN_TTL`: the SDKs refresh container
/// credentials 5 to 15 minutes before they expire.
pub const DEFAULT_SERVER_MIN_TTL: i64 = 900;

/// Variables the child never inherits: whatever comes before container
/// credentials in the SDKs' chains (botocore's, the JavaScript SDK's, the
/// Rust SDK's): keys, a profile, web identity (a role and a token file make
/// boto3 and the JavaScript SDK assume that role instead), botocore's
/// legacy key files; and another container endpoint's settings (the
/// relative URI and the token file take precedence over ours). A `default`
/// profile with a source is warned about instead: the files hold more.
pub const REMOVED_VARS: [&str; 16] = [
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
    "AWS_SESSION_EXPIRATION",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_SESSION_NAME",
    // botocore's ec2-credentials-file and boto-config providers.
    "AWS_CREDENTIAL_FILE",
    "BOTO_CONFIG",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    // The calling shell's prompt segment speaks of another session.
    "MFA_PROMPT",
];

/// What the child's environment gets: `Some` sets, `None` removes.
pub fn child_vars(
    port: u16,
    token: &str,
    session: &crate::cmd::Session,
) -> Vec<(&'static str, Option<String>)> {
    let mut vars = served_shell_vars(session);
    vars.push((
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        Some(format!("http://127.0.0.1:{port}{}", request::PATH)),
    ));
    vars.push(("AWS_CONTAINER_AUTHORIZATION_TOKEN", Some(token.to_string())));
    vars
}

/// Whether `profile`'s credentials reach this process from an mfa
/// endpoint (it runs under `mfa exec/shell PROFILE --server`) as the
/// session `args` asks for: `mfa env` must then set no keys, which would
/// win over the endpoint in every SDK and end unrenewed.
pub fn serves(env: &Env, profile: &str, args: &SessionArgs) -> bool {
    let ours = env
        .get("AWS_CONTAINER_CREDENTIALS_FULL_URI")
        .and_then(|uri| uri.strip_prefix("http://127.0.0.1:"))
        .and_then(|rest| rest.strip_suffix(request::PATH))
        .is_some_and(|port| port.parse::<u16>().is_ok());
    ours && env.get("MFA_PROFILE") == Some(profile)
        && env.get("AWS_ACCESS_KEY_ID").is_none()
        && args.role_arn.is_none()
        && args.duration.is_none()
}

/// What a process the endpoint serves gets, beside the endpoint itself
/// (and what `mfa env` puts in a shell it serves): no keys or profile
/// (removed if set), the session's profile, when renewing will next need
/// the person, the region.
pub fn served_shell_vars(session: &crate::cmd::Session) -> Vec<(&'static str, Option<String>)> {
    let mut vars: Vec<(&'static str, Option<String>)> =
        REMOVED_VARS.iter().map(|name| (*name, None)).collect();
    vars.push(("MFA_PROFILE", Some(session.profile.clone())));
    vars.push((
        "MFA_EXPIRES_AT",
        session.renewable_until.map(|t| t.to_string()),
    ));
    if let Some(region) = &session.region {
        vars.push(("AWS_REGION", Some(region.clone())));
        vars.push(("AWS_DEFAULT_REGION", Some(region.clone())));
    }
    vars
}

/// Runs `command` with the endpoint serving `profile`'s session, and
/// exits as it does (`ChildExit`).
pub fn run(
    profile: &str,
    args: &SessionArgs,
    env: &Env,
    mut command: Command,
    program: &str,
) -> Result<()> {
    let min_ttl = env.seconds("MFA_SERVER_MIN_TTL", DEFAULT_SERVER_MIN_TTL)?;
    // The first session: the code may come from --token, as for any command.
    let mut codes = Codes {
        token: args.token.clone(),
    };
    let session = obtain_session_with(Some(profile), args, env, min_ttl, &mut codes)?;
    warn_about_default_profile(env);
    if let Some(expiration) = session.credentials.expiration
        && expiration - SystemClock.now() <= min_ttl
    {
        eprintln!(
            "mfa: warning: the credentials of `{profile}` last {} s, not more than MFA_SERVER_MIN_TTL ({min_ttl} s): every request will renew them",
            expiration - SystemClock.now()
        );
    }
    // Never another address; std opens it close-on-exec, so the child (and
    // anything it starts) never holds the port.
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .context("cannot open a port on 127.0.0.1 for the credential endpoint")?;
    let port = listener.local_addr()?.port();
    let token = request::new_token()
        .map_err(|e| anyhow::anyhow!("cannot draw a random token from the system: {e}"))?;
    for (name, value) in child_vars(port, &token, &session) {
        match value {
            Some(value) => command.env(name, value),
            None => command.env_remove(name),
        };
    }
    let renewer = Renewer::new(
        Some(session.credentials),
        renewal(profile, args, env, min_ttl),
        Box::new(SystemClock),
        min_ttl,
    );
    let wait = crate::aws::call_timeout(env.get("MFA_TIMEOUT"));
    if let Some(limit) = serve::raise_open_files_limit() {
        use std::os::unix::process::CommandExt;
        // SAFETY: setrlimit is async-signal-safe and touches no memory of
        // the parent.
        unsafe {
            command.pre_exec(move || {
                libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
                Ok(())
            });
        }
    }
    serve::spawn(
        listener,
        serve::Served {
            port,
            token,
            renewer,
            wait,
        },
    )
    .context("cannot start the credential endpoint")?;
    match child::run(command, program) {
        0 => Ok(()),
        status => bail!(ChildExit(status)),
    }
}

/// A renewal: the engine for the same profile and options, without the
/// first code (a one-time code is spent), asking the way `EndpointCodes`
/// does. Its failure is said on mfa's stderr and handed to the SDK.
fn renewal(profile: &str, args: &SessionArgs, env: &Env, min_ttl: i64) -> Arc<RenewFn> {
    let profile = profile.to_string();
    let args = SessionArgs {
        token: None,
        refresh: false,
        ..args.clone()
    };
    let env = env.clone();
    Arc::new(move || {
        let mut codes = EndpointCodes {
            min_ttl,
            pause: None,
        };
        match obtain_session_with(Some(&profile), &args, &env, min_ttl, &mut codes) {
            Ok(session) => Ok(session.credentials),
            Err(error) => {
                let message = format!(
                    "mfa could not renew the credentials of profile `{profile}`: {error:#}"
                );
                // Not eprintln: a write that fails (stderr closed, a
                // terminal that refuses it) must not end the renewal.
                let _ = writeln!(std::io::stderr(), "mfa: {message}");
                let person_needed = error.downcast_ref::<NoWayToAsk>().is_some()
                    || error.downcast_ref::<crate::sso::SignInNeeded>().is_some();
                let status = if person_needed { 503 } else { 502 };
                Err(Unavailable { status, message })
            }
        }
    })
}

/// A code is needed and there is no one to ask.
#[derive(Debug)]
struct NoWayToAsk {
    profile: String,
    min_ttl: i64,
}

impl std::fmt::Display for NoWayToAsk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (profile, min_ttl) = (&self.profile, self.min_ttl);
        write!(
            f,
            "a new MFA code is needed and mfa cannot ask on its terminal (it has none, runs in the background, \
             or a program in the job took the terminal): set mfa_process in the profile, or enter a code in any terminal with \
             `MFA_MIN_TTL={min_ttl} mfa env {profile} >/dev/null`; the endpoint then uses that session"
        )
    }
}

impl std::error::Error for NoWayToAsk {}

/// Codes for a renewal: the profile's `mfa_process`, else a question on
/// mfa's terminal while the job is stopped (`foreground`: only when mfa
/// started in the foreground and the job's group has the terminal), else
/// none. The job stays stopped until the renewal ends (this is dropped),
/// so a refused code is asked again before it reads the terminal.
struct EndpointCodes {
    /// Named in the advice: a session entered by hand must last as long.
    min_ttl: i64,
    pause: Option<foreground::Pause>,
}

impl CodeSource for EndpointCodes {
    fn code(&mut self, request: &CodeRequest) -> Result<String> {
        let mut codes = Codes { token: None };
        if request.mfa_process.is_none() && self.pause.is_none() {
            self.pause = foreground::pause_for_question();
            if self.pause.is_none() {
                bail!(NoWayToAsk {
                    profile: request.profile.to_string(),
                    min_ttl: self.min_ttl,
                });
            }
            crate::terminal::say(&format!(
                "\nmfa: the credential endpoint of `{}` needs a new MFA code (the command is stopped meanwhile; requests wait)\n",
                request.profile
            ));
        }
        codes.code(request)
    }

    fn can_retry(&self, request: &CodeRequest) -> bool {
        Codes { token: None }.can_retry(request)
    }

    fn rejected(&mut self, attempts_left: u32) {
        Codes { token: None }.rejected(attempts_left)
    }

    /// Never while serving: a sign-in lasts as long as the person in the
    /// browser takes, far too long to keep the job stopped for its page
    /// and code. The renewal fails with `SignInNeeded`, whose 503 names
    /// `mfa login PROFILE`; run in any terminal, it fills the shared token
    /// cache, and the next request is served from it.
    fn may_sign_in(&self) -> bool {
        false
    }
}

/// The SDKs try a `default` profile with credentials before the container
/// endpoint: say so, since the job would then run as someone else.
fn warn_about_default_profile(env: &Env) {
    let Ok(files) = crate::config::load(env) else {
        return;
    };
    let Some(default) = files.profiles.get("default") else {
        return;
    };
    let source = [
        "aws_access_key_id",
        "role_arn",
        "credential_process",
        "sso_session",
        "sso_start_url",
        "web_identity_token_file",
    ]
    .into_iter()
    .find(|key| default.get(key).is_some());
    if let Some(key) = source {
        eprintln!(
            "mfa: warning: profile `default` has {key}: AWS SDKs and the AWS CLI use it before this endpoint; \
             remove it or move it to a named profile"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_served_shell_is_known_by_its_endpoint_profile_and_session() {
        let args = SessionArgs {
            token: None,
            role_arn: None,
            duration: None,
            refresh: false,
        };
        let uri = (
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
            "http://127.0.0.1:8123/credentials",
        );
        let served = |pairs: &[(&str, &str)], args: &SessionArgs| {
            serves(&Env::from_pairs(pairs.to_vec()), "prod", args)
        };
        assert!(served(&[uri, ("MFA_PROFILE", "prod")], &args));
        assert!(!served(&[uri, ("MFA_PROFILE", "dev")], &args));
        assert!(!served(&[("MFA_PROFILE", "prod")], &args));
        // ECS's endpoint, or keys set since: not mfa's session.
        let ecs = (
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
            "http://169.254.170.23/v1/credentials",
        );
        assert!(!served(&[ecs, ("MFA_PROFILE", "prod")], &args));
        let keys = ("AWS_ACCESS_KEY_ID", "AKIAX");
        assert!(!served(&[uri, ("MFA_PROFILE", "prod"), keys], &args));
        // Another role or length is another session than the one served.
        let other_role = SessionArgs {
            role_arn: Some("arn:aws:iam::1:role/x".into()),
            ..args.clone()
        };
        assert!(!served(&[uri, ("MFA_PROFILE", "prod")], &other_role));
    }

    #[test]
    fn the_child_gets_the_endpoint_and_no_keys_or_profile() {
        let session = crate::cmd::Session {
            profile: "prod".into(),
            region: Some("eu-west-1".into()),
            credentials: crate::creds::Credentials {
                access_key_id: "ASIAX".into(),
                secret_access_key: "secret".into(),
                session_token: Some("tok".into()),
                expiration: Some(2000),
            },
            renewable_until: Some(5000),
        };
        let vars = child_vars(8123, "tokentoken", &session);
        let get = |name: &str| {
            vars.iter()
                .rfind(|(n, _)| *n == name)
                .unwrap_or_else(|| panic!("{name} not handled"))
                .1
                .clone()
        };
        assert_eq!(
            get("AWS_CONTAINER_CREDENTIALS_FULL_URI").unwrap(),
            "http://127.0.0.1:8123/credentials"
        );
        assert_eq!(
            get("AWS_CONTAINER_AUTHORIZATION_TOKEN").unwrap(),
            "tokentoken"
        );
        assert_eq!(get("MFA_PROFILE").unwrap(), "prod");
        assert_eq!(get("MFA_EXPIRES_AT").unwrap(), "5000");
        assert_eq!(get("AWS_REGION").unwrap(), "eu-west-1");
        for name in REMOVED_VARS {
            assert_eq!(get(name), None, "{name}");
        }
        // No secret of the session is handed on.
        for (_, value) in &vars {
            let value = value.as_deref().unwrap_or("");
            assert!(!value.contains("secret") && !value.contains("ASIAX"));
        }
    }
}
