//! From a profile name to a plan: which keys to start from, which MFA
//! device guards them, which roles to assume on the way (SPEC §2). Pure:
//! it reads profiles and calls nothing.

mod every;

pub use every::{EveryChain, Resolved, Roles};

use crate::config::{Profile, Profiles, Scanned};
use crate::creds::Credentials;
use crate::error::UsageError;

/// GetSessionToken's default and limits for an IAM user.
pub const DEFAULT_SESSION_SECONDS: i64 = 43_200;
pub const SESSION_SECONDS: (i64, i64) = (900, 129_600);
/// AssumeRole's default and limits.
pub const DEFAULT_ROLE_SECONDS: i64 = 3_600;
pub const ROLE_SECONDS: (i64, i64) = (900, 43_200);

/// Where the chain starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Root {
    /// Keys from the files: long-term, or already temporary (with a token).
    Keys {
        profile: String,
        credentials: Credentials,
    },
    /// Keys printed by a `credential_process` command.
    Process { profile: String, command: String },
    /// Long-term keys in a key store (`mfa add`), fetched only when needed.
    Stored {
        profile: String,
        backend: &'static str,
    },
    /// An SSO profile: role credentials from the SSO portal (SPEC §11).
    Sso {
        profile: String,
        sso: crate::sso::SsoProfile,
    },
}

impl Root {
    pub fn profile(&self) -> &str {
        match self {
            Root::Keys { profile, .. }
            | Root::Process { profile, .. }
            | Root::Stored { profile, .. }
            | Root::Sso { profile, .. } => profile,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleStep {
    /// The profile that names this role (`None` for `--role-arn`).
    pub profile: Option<String>,
    pub role_arn: String,
    /// `role_session_name` as configured; `None` picks one (see `session_name`).
    pub session_name: Option<String>,
    pub external_id: Option<String>,
    pub duration: i64,
}

/// Everything needed to get the chosen profile's credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chain {
    pub profile: String,
    pub root: Root,
    /// The nearest `mfa_serial` on the chain, starting at the chosen profile.
    pub mfa_serial: Option<String>,
    /// The nearest `mfa_process`, likewise.
    pub mfa_process: Option<String>,
    /// GetSessionToken's duration (`mfa_session_duration`, or `--duration`
    /// when no role follows).
    pub session_duration: i64,
    /// Roles in the order they are assumed: the one nearest the root first.
    pub roles: Vec<RoleStep>,
    pub region: Option<String>,
}

/// What the command line adds to a profile.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    pub role_arn: Option<String>,
    pub duration: Option<i64>,
}

/// The profile to use: the argument, else `AWS_PROFILE`, else `default`.
pub fn select_profile(argument: Option<&str>, env: &crate::context::Env) -> String {
    argument
        .or_else(|| env.get("AWS_PROFILE"))
        .unwrap_or("default")
        .to_string()
}

pub fn unknown_profile(profiles: &Profiles, name: &str) -> UsageError {
    let suggestions = profiles.suggestions(name);
    let mut message = format!("no profile named `{name}` in the AWS config or credentials file");
    if !suggestions.is_empty() {
        let list: Vec<String> = suggestions.iter().map(|s| format!("`{s}`")).collect();
        message.push_str(&format!("; did you mean {}?", list.join(" or ")));
    } else if profiles.list.is_empty() {
        message.push_str(" (there are no profiles yet: `mfa setup` adds one, step by step)");
    }
    UsageError::new(message)
}

fn parse_seconds(profile: &Profile, key: &str) -> Result<Option<i64>, UsageError> {
    match profile.scalar(key)? {
        None => Ok(None),
        Some(text) => text.trim().parse::<i64>().map(Some).map_err(|_| {
            UsageError::new(format!(
                "profile `{}`: {key} must be a whole number of seconds, not `{text}`",
                profile.name
            ))
        }),
    }
}

/// `what` is formatted only for the error (`format_args!`): resolving
/// thousands of profiles for `mfa list` checks thousands of durations.
pub fn check_duration(
    what: impl std::fmt::Display,
    seconds: i64,
    (min, max): (i64, i64),
) -> Result<(), UsageError> {
    if (min..=max).contains(&seconds) {
        Ok(())
    } else {
        Err(UsageError::new(format!(
            "{what} of {seconds} seconds cannot be used: AWS allows {min} to {max} seconds"
        )))
    }
}

/// The most profiles a `source_profile` chain may hold, the chosen one
/// included. Real chains hold one to four; the bound keeps the STS calls
/// of one run, and the work `mfa list` does per profile, small whatever the
/// files say.
pub const MAX_CHAIN: usize = 32;

/// Static keys of a profile, if it has any. Half a pair is an error, and
/// so is a key that no AWS key can be (see [`crate::creds::is_key_text`]):
/// the message names its file and line, never its value.
fn static_keys(profiles: &Profiles, profile: &Profile) -> Result<Option<Credentials>, UsageError> {
    let key = |name: &str| -> Result<Option<&str>, UsageError> {
        let value = profile.scalar(name)?;
        if let Some(value) = value
            && !crate::creds::is_key_text(value)
        {
            return Err(UsageError::new(format!(
                "{}: {name} of profile `{}` is not a valid key: keys are printable ASCII without spaces or control characters (the value is not shown)",
                profiles.place_of(profile, name),
                profile.name
            )));
        }
        Ok(value)
    };
    let id = key("aws_access_key_id")?;
    let secret = key("aws_secret_access_key")?;
    match (id, secret) {
        (Some(id), Some(secret)) => Ok(Some(Credentials {
            access_key_id: id.to_string(),
            secret_access_key: secret.to_string(),
            session_token: match key("aws_session_token")? {
                Some(token) => Some(token.to_string()),
                None => key("aws_security_token")?.map(str::to_string),
            },
            expiration: None,
        })),
        (None, None) => Ok(None),
        (Some(_), None) => Err(UsageError::new(format!(
            "profile `{}` has aws_access_key_id but no aws_secret_access_key",
            profile.name
        ))),
        (None, Some(_)) => Err(UsageError::new(format!(
            "profile `{}` has aws_secret_access_key but no aws_access_key_id",
            profile.name
        ))),
    }
}

/// The chosen profile's region, checked as the SDK would check it.
fn region(profiles: &Profiles, profile: &Profile) -> Result<Option<String>, UsageError> {
    match profile.scalar("region")? {
        Some(region) if !crate::sts::is_valid_region(region) => Err(crate::sts::invalid_region(
            region,
            &format!(
                "{}: region of profile `{}`",
                profiles.place_of(profile, "region"),
                profile.name
            ),
        )),
        region => Ok(region.map(str::to_string)),
    }
}

/// A role step as the profile names it, borrowed from the profile (see
/// [`StepRef::to_owned`]): listings keep thousands.
#[derive(Debug, Clone, Copy)]
pub struct StepRef<'a> {
    pub profile: &'a Profile,
    pub role_arn: &'a str,
    pub session_name: Option<&'a str>,
    pub external_id: Option<&'a str>,
    pub duration: i64,
}

impl StepRef<'_> {
    pub fn to_owned(&self) -> RoleStep {
        RoleStep {
            profile: Some(self.profile.name.clone()),
            role_arn: self.role_arn.to_string(),
            session_name: self.session_name.map(str::to_string),
            external_id: self.external_id.map(str::to_string),
            duration: self.duration,
        }
    }
}

fn role_step<'a>(profile: &'a Profile, role_arn: &'a str) -> Result<StepRef<'a>, UsageError> {
    let duration = parse_seconds(profile, "duration_seconds")?.unwrap_or(DEFAULT_ROLE_SECONDS);
    check_duration(
        format_args!("profile `{}`: duration_seconds", profile.name),
        duration,
        ROLE_SECONDS,
    )?;
    Ok(StepRef {
        profile,
        role_arn,
        session_name: profile.scalar("role_session_name")?,
        external_id: profile.scalar("external_id")?,
        duration,
    })
}

#[cfg(test)]
thread_local! {
    /// Profiles visited by `walk` and names scored for suggestions on this
    /// thread: tests count work with it instead of timing it.
    pub static WORK: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Why a profile does not resolve. The errors whose message costs more
/// than the walk (suggestions scan every name) are kept as facts, and
/// worded only when shown: `mfa list` resolves every profile and shows
/// no error.
enum Unresolved {
    Usage(UsageError),
    /// `source_profile` names a profile that is not there.
    MissingSource {
        from: String,
        source: String,
    },
}

impl From<UsageError> for Unresolved {
    fn from(e: UsageError) -> Unresolved {
        Unresolved::Usage(e)
    }
}

/// The chain of the profile `name`, for a caller that shows no error
/// (listings): `None` when it does not resolve.
pub fn try_resolve(profiles: &Profiles, name: &str) -> Option<Chain> {
    walk(profiles, name, &Overrides::default()).ok()
}

pub fn resolve(
    profiles: &Profiles,
    name: &str,
    overrides: &Overrides,
) -> Result<Chain, UsageError> {
    walk(profiles, name, overrides).map_err(|e| match e {
        Unresolved::Usage(e) => e,
        Unresolved::MissingSource { from, source } => {
            let mut e = unknown_profile(profiles, &source);
            e.0 = format!(
                "profile `{from}` has source_profile = {source}, but {}",
                e.0
            );
            e
        }
    })
}

/// [`resolve`], merging only the profiles the chain uses (see
/// [`Scanned`]): each source joins when the walk names it. An error is
/// worded from every profile, as `resolve` words it.
pub fn resolve_scanned(
    files: &Scanned,
    name: &str,
    overrides: &Overrides,
) -> Result<Chain, UsageError> {
    let mut wanted: Vec<String> = vec![name.to_string()];
    loop {
        let names: Vec<&str> = wanted.iter().map(String::as_str).collect();
        let profiles = files.profiles_of(&names);
        match walk(&profiles, name, overrides) {
            Ok(chain) => return Ok(chain),
            Err(Unresolved::MissingSource { source, .. })
                if wanted.len() <= MAX_CHAIN && !wanted.contains(&source) && files.has(&source) =>
            {
                wanted.push(source);
            }
            Err(_) => return resolve(&files.all()?, name, overrides),
        }
    }
}

/// Follows `source_profile` from `name` to the root, at most
/// [`MAX_CHAIN`] profiles: a loop, or a longer chain, is refused before
/// anything is called.
fn walk(profiles: &Profiles, name: &str, overrides: &Overrides) -> Result<Chain, Unresolved> {
    let chosen = profiles
        .get(name)
        .ok_or_else(|| unknown_profile(profiles, name))?;
    let mut visited: Vec<&Profile> = Vec::new();
    let mut roles_top_down: Vec<RoleStep> = Vec::new();
    let mut mfa_serial: Option<String> = None;
    let mut mfa_process: Option<String> = None;
    let mut session_duration: Option<i64> = None;
    let mut current = chosen;
    let root = loop {
        if visited.len() == MAX_CHAIN {
            return Err(too_long(chosen, &visited).into());
        }
        visited.push(current);
        #[cfg(test)]
        WORK.with(|w| w.set(w.get() + 1));
        if mfa_serial.is_none() {
            mfa_serial = current.scalar("mfa_serial")?.map(str::to_string);
        }
        if mfa_process.is_none() {
            mfa_process = current.scalar("mfa_process")?.map(str::to_string);
        }
        if session_duration.is_none()
            && let Some(seconds) = parse_seconds(current, "mfa_session_duration")?
        {
            check_duration(
                format_args!("profile `{}`: mfa_session_duration", current.name),
                seconds,
                SESSION_SECONDS,
            )?;
            session_duration = Some(seconds);
        }
        match link(profiles, current, visited.len() == 1)? {
            Link::Root(root) => break root,
            Link::OwnSource { step, root } => {
                roles_top_down.push(step.to_owned());
                break root;
            }
            Link::NoCredentials => return Err(no_credentials(current, &visited).into()),
            Link::Role { step, source } => {
                roles_top_down.push(step.to_owned());
                if visited.iter().any(|seen| std::ptr::eq(*seen, source)) {
                    let mut cycle: Vec<&str> = visited.iter().map(|p| p.name.as_str()).collect();
                    cycle.push(&source.name);
                    return Err(UsageError::new(format!(
                        "source_profile loop: {}",
                        cycle.join(" -> ")
                    ))
                    .into());
                }
                current = source;
            }
        }
    };

    let mut roles: Vec<RoleStep> = roles_top_down.into_iter().rev().collect();
    if let Some(role_arn) = &overrides.role_arn {
        if role_arn.trim().is_empty() {
            return Err(UsageError::new("--role-arn needs a role ARN").into());
        }
        roles.push(RoleStep {
            profile: None,
            role_arn: role_arn.clone(),
            session_name: None,
            external_id: None,
            duration: DEFAULT_ROLE_SECONDS,
        });
    }
    let mut session_duration = session_duration.unwrap_or(DEFAULT_SESSION_SECONDS);
    match (overrides.duration, roles.last_mut()) {
        (Some(seconds), Some(last)) => {
            check_duration("--duration for a role", seconds, ROLE_SECONDS)?;
            last.duration = seconds;
        }
        (Some(seconds), None) => {
            check_duration("--duration for a session", seconds, SESSION_SECONDS)?;
            session_duration = seconds;
        }
        (None, _) => {}
    }
    Ok(Chain {
        profile: name.to_string(),
        root,
        mfa_serial,
        mfa_process,
        session_duration,
        roles,
        region: region(profiles, chosen)?,
    })
}

/// Where one profile of a chain leads, by its own keys alone.
enum Link<'a> {
    /// The chain ends here, at these credentials.
    Root(Root),
    /// A role, assumed with the credentials of `source`'s chain.
    Role {
        step: StepRef<'a>,
        source: &'a Profile,
    },
    /// A role assumed with this profile's own keys (`source_profile`
    /// names itself).
    OwnSource { step: StepRef<'a>, root: Root },
    /// No credentials and no role (worded by the caller, which knows the
    /// way here).
    NoCredentials,
}

/// The part of a chain that `current` decides: its role and source, or the
/// root it holds. `first`: the chosen profile, where a role wins over
/// static keys (in a source profile the keys win, as botocore and the Rust
/// SDK read it). No loop or length check: the caller follows the sources.
fn link<'a>(
    profiles: &'a Profiles,
    current: &'a Profile,
    first: bool,
) -> Result<Link<'a>, Unresolved> {
    let keys = static_keys(profiles, current)?;
    // Keys in the files first, else the key store's.
    let stored = current.stored_keys.filter(|_| keys.is_none());
    let role_arn = current
        .scalar("role_arn")?
        .filter(|_| first || (keys.is_none() && stored.is_none()));
    if let Some(role_arn) = role_arn {
        let step = role_step(current, role_arn)?;
        let Some(source) = current.scalar("source_profile")? else {
            return Err(no_role_source(current).into());
        };
        if source == current.name {
            // A role profile may name itself as the source of its keys.
            let root = match (keys, stored) {
                (Some(credentials), _) => Root::Keys {
                    profile: current.name.clone(),
                    credentials,
                },
                (None, Some(backend)) => Root::Stored {
                    profile: current.name.clone(),
                    backend,
                },
                (None, None) => {
                    return Err(UsageError::new(format!(
                        "profile `{}` names itself as source_profile but holds no keys",
                        current.name
                    ))
                    .into());
                }
            };
            return Ok(Link::OwnSource { step, root });
        }
        let Some(next) = profiles.get(source) else {
            return Err(Unresolved::MissingSource {
                from: current.name.clone(),
                source: source.to_string(),
            });
        };
        return Ok(Link::Role { step, source: next });
    }
    if let Some(credentials) = keys {
        return Ok(Link::Root(Root::Keys {
            profile: current.name.clone(),
            credentials,
        }));
    }
    if let Some(backend) = stored {
        return Ok(Link::Root(Root::Stored {
            profile: current.name.clone(),
            backend,
        }));
    }
    if let Some(sso) = crate::sso::from_profile(profiles, current)? {
        return Ok(Link::Root(Root::Sso {
            profile: current.name.clone(),
            sso,
        }));
    }
    if let Some(command) = current.scalar("credential_process")? {
        return Ok(Link::Root(Root::Process {
            profile: current.name.clone(),
            command: command.to_string(),
        }));
    }
    Ok(Link::NoCredentials)
}

fn too_long(chosen: &Profile, visited: &[&Profile]) -> UsageError {
    let names: Vec<&str> = visited.iter().take(4).map(|p| p.name.as_str()).collect();
    UsageError::new(format!(
        "profile `{}`: its source_profile chain ({} -> …) holds more than {MAX_CHAIN} profiles; mfa follows at most {MAX_CHAIN} (real chains hold a few): point a source_profile nearer the keys",
        chosen.name,
        names.join(" -> ")
    ))
}

fn no_role_source(profile: &Profile) -> UsageError {
    let hint = if let Some(source) = profile.get_nonempty("credential_source") {
        credential_source_hint(source)
    } else if profile.get_nonempty("web_identity_token_file").is_some() {
        "web identity roles need no MFA and are not supported by mfa".to_string()
    } else {
        "add source_profile = NAME, the profile whose keys assume the role".to_string()
    };
    UsageError::new(format!(
        "profile `{}` has a role_arn but no source_profile: {hint}",
        profile.name
    ))
}

/// Why a `credential_source` is refused, saying what that source is.
fn credential_source_hint(source: &str) -> String {
    let what = match source {
        "Environment" => "the keys in the AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY variables",
        "Ec2InstanceMetadata" => "the EC2 instance's role, from the instance metadata service",
        "EcsContainer" => "the ECS task's role, from the container credentials endpoint",
        _ => {
            return "credential_source must be Environment, Ec2InstanceMetadata or EcsContainer, and mfa supports none of them; name a source_profile with keys".to_string();
        }
    };
    format!(
        "credential_source = {source} ({what}) is not supported by mfa; name a source_profile with keys"
    )
}

fn no_credentials(profile: &Profile, visited: &[&Profile]) -> UsageError {
    let via = if visited.len() > 1 {
        let names: Vec<&str> = visited[..visited.len() - 1]
            .iter()
            .map(|p| p.name.as_str())
            .collect();
        format!(" (reached from {})", names.join(" -> "))
    } else {
        String::new()
    };
    let hint = format!(
        "add its keys with `mfa add {}` (or aws_access_key_id and aws_secret_access_key in the credentials file), or role_arn with source_profile, or credential_process, or sso_session with sso_account_id and sso_role_name",
        profile.name
    );
    UsageError::new(format!(
        "profile `{}`{via} has no credentials: {hint}",
        profile.name
    ))
}

/// The kind of a profile, as `mfa list` shows it (SPEC §3).
pub fn kind(profiles: &Profiles, profile: &Profile) -> &'static str {
    // Only a role's kind depends on its chain (an MFA device on the way?).
    let chain = profile
        .get_single("role_arn")
        .and_then(|_| try_resolve(profiles, &profile.name));
    kind_with_chain(profile, chain.map(|c| c.mfa_serial.is_some()))
}

/// `kind`, for a caller that has resolved the profile already:
/// `chain_has_mfa` tells whether its chain has an MFA device on the way
/// (`None` when it does not resolve).
pub fn kind_with_chain(profile: &Profile, chain_has_mfa: Option<bool>) -> &'static str {
    let has = |k: &str| profile.get_single(k).is_some();
    if has("sso_start_url") || has("sso_session") {
        return "sso";
    }
    if has("role_arn") {
        let mfa = chain_has_mfa.unwrap_or_else(|| has("mfa_serial"));
        return if mfa { "mfa-role" } else { "role" };
    }
    if has("aws_access_key_id") || profile.stored_keys.is_some() {
        if has("aws_session_token") || has("aws_security_token") {
            return "session";
        }
        return if has("mfa_serial") {
            "mfa-user"
        } else {
            "user"
        };
    }
    if has("credential_process") {
        return "process";
    }
    "other"
}

/// The RoleSessionName for a step without `role_session_name`: `mfa-` and
/// the MFA device's name from the serial (often, not always, the IAM user's
/// name: asking STS whose keys these are would cost a call), else the local
/// user name, else the time. Only the characters AWS allows, at most 64.
pub fn session_name(
    step: &RoleStep,
    mfa_serial: Option<&str>,
    local_user: Option<&str>,
    now: i64,
) -> String {
    if let Some(name) = &step.session_name {
        return name.clone();
    }
    let user = mfa_serial
        .and_then(|serial| serial.rsplit_once(":mfa/").map(|(_, device)| device))
        .map(|device| device.rsplit('/').next().unwrap_or(device))
        .or(local_user)
        .map(|u| {
            u.chars()
                .filter(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(*c))
                .collect::<String>()
        })
        .filter(|u| !u.is_empty());
    let name = match user {
        Some(user) => format!("mfa-{user}"),
        None => format!("mfa-{now}"),
    };
    name.chars().take(64).collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::config::document::{FileKind, parse};
    use std::path::Path;

    /// Profiles in every way a chain can resolve or fail: keys that win
    /// in a source and lose in the chosen profile, a loop back to the
    /// chosen profile through them, self-sourced roles, settings that a
    /// nearer profile sets first (unusable further down), chains of 32
    /// and 33, missing sources, every kind of root.
    pub(crate) const EDGES: &str = "\
[profile a]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = b\naws_access_key_id = AKIAA\naws_secret_access_key = sa\n\
[profile b]\nrole_arn = arn:aws:iam::1:role/b\nsource_profile = a\n\
[profile self]\nrole_arn = arn:aws:iam::1:role/self\nsource_profile = self\naws_access_key_id = AKIAS\naws_secret_access_key = ss\n\
[profile self-bare]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = self-bare\n\
[profile user]\naws_access_key_id = AKIAU\naws_secret_access_key = su\nmfa_serial = arn:aws:iam::1:mfa/u\n\
[profile temp]\naws_access_key_id = ASIAT\naws_secret_access_key = st\naws_session_token = tok\n\
[profile on-temp]\nrole_arn = arn:aws:iam::1:role/t\nsource_profile = temp\n\
[profile broken-serial]\nrole_arn = arn:aws:iam::1:role/bs\nsource_profile = user\nmfa_serial = arn:one\n  two\n\
[profile over-broken]\nrole_arn = arn:aws:iam::1:role/ob\nsource_profile = broken-serial\nmfa_serial = arn:aws:iam::1:mfa/ob\n\
[profile under-broken]\nrole_arn = arn:aws:iam::1:role/ub\nsource_profile = broken-serial\n\
[profile bad-session]\nrole_arn = arn:aws:iam::1:role/bd\nsource_profile = user\nmfa_session_duration = 5\n\
[profile over-bad-session]\nrole_arn = arn:aws:iam::1:role/obd\nsource_profile = bad-session\nmfa_session_duration = 3600\n\
[profile under-bad-session]\nrole_arn = arn:aws:iam::1:role/ubd\nsource_profile = bad-session\n\
[profile not-a-number]\nrole_arn = arn:aws:iam::1:role/n\nsource_profile = user\nmfa_session_duration = soon\n\
[profile bad-process]\nrole_arn = arn:aws:iam::1:role/bp\nsource_profile = user\nmfa_process = one\n  two\n\
[profile over-bad-process]\nrole_arn = arn:aws:iam::1:role/obp\nsource_profile = bad-process\nmfa_process = echo 123456\n\
[profile bad-duration]\nrole_arn = arn:aws:iam::1:role/bdu\nsource_profile = user\nduration_seconds = 60\n\
[profile on-bad-duration]\nrole_arn = arn:aws:iam::1:role/obdu\nsource_profile = bad-duration\n\
[profile bad-region]\nrole_arn = arn:aws:iam::1:role/br\nsource_profile = user\nregion = not a region\n\
[profile on-bad-region]\nrole_arn = arn:aws:iam::1:role/obr\nsource_profile = bad-region\nregion = eu-west-1\n\
[profile ghost-source]\nrole_arn = arn:aws:iam::1:role/g\nsource_profile = ghost\n\
[profile on-ghost]\nrole_arn = arn:aws:iam::1:role/og\nsource_profile = ghost-source\n\
[profile no-source]\nrole_arn = arn:aws:iam::1:role/ns\n\
[profile nothing]\nregion = eu-west-1\n\
[profile on-nothing]\nrole_arn = arn:aws:iam::1:role/on\nsource_profile = nothing\n\
[profile process]\ncredential_process = /bin/keys\n\
[profile on-process]\nrole_arn = arn:aws:iam::1:role/op\nsource_profile = process\nexternal_id = ext\nrole_session_name = me\n\
[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = eu-west-1\n\
[profile sso]\nsso_session = corp\nsso_account_id = 111122223333\nsso_role_name = Dev\n\
[profile on-sso]\nrole_arn = arn:aws:iam::1:role/os\nsource_profile = sso\nmfa_serial = arn:aws:iam::1:mfa/os\n\
[profile sso-ghost]\nsso_session = nowhere\nsso_account_id = 1\nsso_role_name = Dev\n\
[profile on-sso-ghost]\nrole_arn = arn:aws:iam::1:role/osg\nsource_profile = sso-ghost\n\
[profile serial-a]\nrole_arn = arn:aws:iam::1:role/sa\nsource_profile = under-broken-ok\nmfa_serial = arn:aws:iam::1:mfa/a\n\
[profile serial-b]\nrole_arn = arn:aws:iam::1:role/sb\nsource_profile = under-broken-ok\nmfa_serial = arn:aws:iam::1:mfa/b\n\
[profile serial-none]\nrole_arn = arn:aws:iam::1:role/sn\nsource_profile = under-broken-ok\n\
[profile under-broken-ok]\nrole_arn = arn:aws:iam::1:role/ubo\nsource_profile = plain\n\
[profile plain]\naws_access_key_id = AKIAP\naws_secret_access_key = sp\n\
[profile half]\naws_access_key_id = AKIAH\n\
[profile on-half]\nrole_arn = arn:aws:iam::1:role/oh\nsource_profile = half\n\
[profile keys-and-role]\nrole_arn = arn:aws:iam::1:role/kr\nsource_profile = plain\naws_access_key_id = AKIAK\naws_secret_access_key = sk\n\
[profile on-keys-and-role]\nrole_arn = arn:aws:iam::1:role/okr\nsource_profile = keys-and-role\n";

    /// Profiles whose sections are spread over both files, repeated,
    /// continued, and the two `default` sections (the prefixed one wins).
    const SPREAD: &str = "\
[default]\nrole_arn = arn:aws:iam::1:role/ignored\n\
[profile default]\nrole_arn = arn:aws:iam::1:role/def\nsource_profile = spread\n\
[profile spread]\nmfa_serial = arn:aws:iam::1:mfa/first\nregion = eu-west-1\n\
[profile other]\nregion = us-east-1\n\
[profile spread]\nmfa_serial = arn:aws:iam::1:mfa/second\nmfa_process = one\n  two\n\
[profile continued]\nrole_arn = arn:aws:iam::1:role/c\nsource_profile = spread\nexternal_id =\n  a = b\n";

    const SPREAD_CREDENTIALS: &str = "\u{feff}[spread]\naws_access_key_id = AKIASPREAD\naws_secret_access_key = s\n\
[other]\naws_access_key_id = AKIAO\n\
[spread]\naws_secret_access_key = s2\n";

    /// Each profile resolved from its chain's profiles alone, and from
    /// every profile: the same chain, or the same error word for word.
    fn assert_scanned_alike(config: &str, credentials: &str) {
        let files = Scanned::new(
            Some((config.to_string(), "config".into())),
            Some((credentials.to_string(), "credentials".into())),
            vec![("stored-only".to_string(), "file")],
        )
        .unwrap();
        let all = files.all().unwrap();
        let names: Vec<String> = all.names().map(str::to_string).collect();
        for name in names.iter().map(String::as_str).chain(["ghost", "spred"]) {
            for overrides in [
                Overrides::default(),
                Overrides {
                    role_arn: Some("arn:aws:iam::1:role/extra".into()),
                    duration: Some(7200),
                },
            ] {
                let alone = resolve_scanned(&files, name, &overrides).map_err(|e| e.0);
                let whole = resolve(&all, name, &overrides).map_err(|e| e.0);
                assert_eq!(alone, whole, "profile {name}");
            }
        }
    }

    #[test]
    fn a_chain_resolves_alike_from_its_own_profiles_and_from_all() {
        assert_scanned_alike(EDGES, "");
        assert_scanned_alike(SPREAD, SPREAD_CREDENTIALS);
        let long = chain_of(40);
        let config: String = long
            .list
            .iter()
            .filter(|p| p.name != "p0")
            .map(|p| {
                format!(
                    "[profile {}]\nrole_arn = {}\nsource_profile = {}\n",
                    p.name,
                    p.get("role_arn").unwrap(),
                    p.get("source_profile").unwrap()
                )
            })
            .collect();
        assert_scanned_alike(
            &config,
            "[p0]\naws_access_key_id = AKIA0\naws_secret_access_key = s0\n",
        );
    }

    #[test]
    fn a_malformed_line_in_another_profile_is_still_an_error() {
        let config = "[profile good]\naws_access_key_id = AKIAG\naws_secret_access_key = s\n[profile bad]\nno equals sign here\n";
        let e = Scanned::new(
            Some((config.to_string(), "config".into())),
            None,
            Vec::new(),
        )
        .err()
        .unwrap();
        assert!(e.0.contains("config line 5"), "{e}");
    }

    fn profiles(config: &str, credentials: &str) -> Profiles {
        let c = parse(config, Path::new("config"), FileKind::Config).unwrap();
        let k = parse(credentials, Path::new("credentials"), FileKind::Credentials).unwrap();
        Profiles::from_documents(Some(&c), Some(&k))
    }

    const KEYS: &str = "[user]\naws_access_key_id = AKIA1\naws_secret_access_key = s1\n";

    #[test]
    fn the_nearest_mfa_serial_and_mfa_process_on_the_chain_apply() {
        let p = profiles(
            "[profile user]\nmfa_serial = user-serial\nmfa_process = user-cmd\n\
             [profile a]\nrole_arn = arn:a\nsource_profile = user\nmfa_serial = a-serial\n\
             [profile b]\nrole_arn = arn:b\nsource_profile = a\n",
            KEYS,
        );
        let chain = resolve(&p, "b", &Overrides::default()).unwrap();
        assert_eq!(chain.mfa_serial.as_deref(), Some("a-serial"));
        assert_eq!(chain.mfa_process.as_deref(), Some("user-cmd"));
        let arns: Vec<&str> = chain.roles.iter().map(|r| r.role_arn.as_str()).collect();
        assert_eq!(arns, ["arn:a", "arn:b"], "assumed from the root up");
        assert_eq!(chain.root.profile(), "user");
    }

    #[test]
    fn static_keys_win_in_a_source_profile_and_the_role_wins_in_the_chosen_one() {
        let p = profiles(
            "[profile both]\nrole_arn = arn:both\nsource_profile = user\n\
             [profile top]\nrole_arn = arn:top\nsource_profile = both\n",
            &format!("{KEYS}[both]\naws_access_key_id = AKIA2\naws_secret_access_key = s2\n"),
        );
        let top = resolve(&p, "top", &Overrides::default()).unwrap();
        assert_eq!(top.roles.len(), 1);
        assert_eq!(top.root.profile(), "both");
        let both = resolve(&p, "both", &Overrides::default()).unwrap();
        assert_eq!(both.roles[0].role_arn, "arn:both");
        assert_eq!(both.root.profile(), "user");
    }

    #[test]
    fn a_role_profile_may_be_its_own_source_when_it_holds_keys() {
        let p = profiles(
            "[profile me]\nrole_arn = arn:me\nsource_profile = me\n",
            "[me]\naws_access_key_id = AKIA3\naws_secret_access_key = s3\n",
        );
        let chain = resolve(&p, "me", &Overrides::default()).unwrap();
        assert_eq!((chain.root.profile(), chain.roles.len()), ("me", 1));
    }

    #[test]
    fn overrides_add_a_role_and_set_the_last_duration() {
        let p = profiles("[profile user]\nmfa_session_duration = 3600\n", KEYS);
        let plain = resolve(
            &p,
            "user",
            &Overrides {
                role_arn: None,
                duration: Some(7200),
            },
        )
        .unwrap();
        assert_eq!((plain.session_duration, plain.roles.len()), (7200, 0));
        let with_role = resolve(
            &p,
            "user",
            &Overrides {
                role_arn: Some("arn:extra".into()),
                duration: Some(900),
            },
        )
        .unwrap();
        assert_eq!(with_role.session_duration, 3600);
        assert_eq!(with_role.roles[0].duration, 900);
        assert_eq!(with_role.roles[0].profile, None);
    }

    #[test]
    fn credential_process_and_temporary_keys_are_roots_too() {
        let p = profiles(
            "[profile proc]\ncredential_process = get-keys --for me\n",
            "[temp]\naws_access_key_id = ASIA1\naws_secret_access_key = s\naws_session_token = t\n",
        );
        let proc_chain = resolve(&p, "proc", &Overrides::default()).unwrap();
        assert!(
            matches!(proc_chain.root, Root::Process { ref command, .. } if command == "get-keys --for me")
        );
        let temp = resolve(&p, "temp", &Overrides::default()).unwrap();
        assert!(
            matches!(temp.root, Root::Keys { ref credentials, .. } if !credentials.is_long_term())
        );
    }

    #[test]
    fn unsupported_sources_say_why() {
        let p = profiles(
            "[profile ec2]\nrole_arn = arn:x\ncredential_source = Ec2InstanceMetadata\n\
             [profile sso]\nsso_session = corp\n",
            "",
        );
        let e = resolve(&p, "ec2", &Overrides::default()).unwrap_err();
        assert!(e.0.contains("credential_source"), "{e}");
        let e = resolve(&p, "sso", &Overrides::default()).unwrap_err();
        assert!(e.0.contains("no [sso-session corp] section"), "{e}");
    }

    #[test]
    fn an_sso_profile_is_a_root_and_roles_go_on_top_of_it() {
        let p = profiles(
            "[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = eu-west-1\n\
             [profile dev]\nsso_session = corp\nsso_account_id = 111122223333\nsso_role_name = Dev\n\
             [profile admin]\nrole_arn = arn:aws:iam::444455556666:role/admin\nsource_profile = dev\n",
            "",
        );
        let dev = resolve(&p, "dev", &Overrides::default()).unwrap();
        assert!(
            matches!(&dev.root, Root::Sso { profile, sso } if profile == "dev" && sso.role_name == "Dev")
        );
        let admin = resolve(&p, "admin", &Overrides::default()).unwrap();
        assert_eq!(admin.root, dev.root);
        assert_eq!(admin.roles.len(), 1);
        assert_eq!(kind(&p, p.get("dev").unwrap()), "sso");
        assert_eq!(kind(&p, p.get("admin").unwrap()), "role");
    }

    /// `p0` holds keys; `p{i}` assumes a role with `p{i-1}`'s credentials.
    fn chain_of(n: usize) -> Profiles {
        let mut config = String::new();
        for i in 1..n {
            config.push_str(&format!(
                "[profile p{i}]\nrole_arn = arn:r{i}\nsource_profile = p{}\n",
                i - 1
            ));
        }
        profiles(
            &config,
            "[p0]\naws_access_key_id = AKIA0\naws_secret_access_key = s0\n",
        )
    }

    #[test]
    fn a_chain_holds_at_most_max_chain_profiles() {
        let p = chain_of(MAX_CHAIN + 1);
        let longest = format!("p{}", MAX_CHAIN - 1);
        let chain = resolve(&p, &longest, &Overrides::default()).unwrap();
        assert_eq!(chain.roles.len(), MAX_CHAIN - 1);
        let too_long = format!("p{MAX_CHAIN}");
        let e = resolve(&p, &too_long, &Overrides::default()).unwrap_err();
        assert!(
            e.0.starts_with(&format!(
                "profile `{too_long}`: its source_profile chain ({too_long} -> p{} -> ",
                MAX_CHAIN - 1
            )),
            "{e}"
        );
        assert!(e.0.contains("more than 32 profiles"), "{e}");
        assert_eq!(kind(&p, p.get(&too_long).unwrap()), "role");
    }

    #[test]
    fn a_hundred_thousand_deep_chain_or_loop_is_refused_without_exhausting_the_stack() {
        let p = chain_of(100_000);
        let e = resolve(&p, "p99999", &Overrides::default()).unwrap_err();
        assert!(e.0.contains("more than 32 profiles"), "{e}");
        let mut looped = String::new();
        for i in 0..100_000 {
            looped.push_str(&format!(
                "[profile p{i}]\nrole_arn = arn:r\nsource_profile = p{}\n",
                (i + 1) % 100_000
            ));
        }
        let p = profiles(&looped, "");
        let e = resolve(&p, "p0", &Overrides::default()).unwrap_err();
        assert!(e.0.contains("more than 32 profiles"), "{e}");
        // A short loop is named as one.
        let p = profiles(
            "[profile a]\nrole_arn = arn:a\nsource_profile = b\n[profile b]\nrole_arn = arn:b\nsource_profile = a\n",
            "",
        );
        let e = resolve(&p, "a", &Overrides::default()).unwrap_err();
        assert_eq!(e.0, "source_profile loop: a -> b -> a");
    }

    #[test]
    fn keys_and_regions_that_cannot_reach_aws_name_their_line_and_hide_their_value() {
        let p = profiles(
            "[profile user]\nregion = it's\n[profile ok]\nregion = eu-west-1\n",
            "[user]\naws_access_key_id = AKIA1\naws_secret_access_key = s\u{1}cret\n\
             [ok]\naws_access_key_id = AKIA2\naws_secret_access_key = s2\n",
        );
        let e = resolve(&p, "user", &Overrides::default()).unwrap_err();
        assert_eq!(
            e.0,
            "credentials line 3: aws_secret_access_key of profile `user` is not a valid key: keys are printable ASCII without spaces or control characters (the value is not shown)"
        );
        let p = profiles(
            "[profile user]\nregion = it's\n",
            "[user]\naws_access_key_id = AKIA1\naws_secret_access_key = s\n",
        );
        let e = resolve(&p, "user", &Overrides::default()).unwrap_err();
        assert!(
            e.0.starts_with(
                "config line 2: region of profile `user`: `it's` is not a valid AWS region name"
            ),
            "{e}"
        );
    }

    #[test]
    fn session_names_come_from_the_serial_then_the_user_then_the_time() {
        let step = RoleStep {
            profile: None,
            role_arn: "arn".into(),
            session_name: None,
            external_id: None,
            duration: 3600,
        };
        let serial = Some("arn:aws:iam::1:mfa/path/alice.smith");
        assert_eq!(
            session_name(&step, serial, Some("bob"), 7),
            "mfa-alice.smith"
        );
        assert_eq!(session_name(&step, None, Some("bob d'or"), 7), "mfa-bobdor");
        assert_eq!(session_name(&step, None, None, 7), "mfa-7");
        assert_eq!(
            session_name(&step, None, Some(&"x".repeat(100)), 7).len(),
            64
        );
    }
}
