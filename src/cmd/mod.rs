//! One file per subcommand; this module dispatches and holds what several
//! of them share: getting a session for a profile.

pub mod alias;
mod clear;
pub mod completion_memo;
pub mod completions;
mod console;
mod credential_process;
mod device;
mod doctor;
mod enforce;
pub mod env;
mod exec;
mod hook_only;
pub mod init;
mod keys;
pub mod list;
mod login;
mod onboard;
pub mod policy;
mod prompt;
pub mod roles;
mod setup;
mod shell;
pub mod show;
mod status;
pub mod write;

use anyhow::Result;

use crate::cache::Cache;
use crate::cli::{Command, SessionArgs};
use crate::code::{CodeSource, Codes};
use crate::context::{Clock, Env, SystemClock};
use crate::creds::Credentials;
use crate::resolve::{self, Overrides, Root};
use crate::session::Engine;
use crate::sts::{SdkSts, sts_region};

pub fn run(command: Command, env: &Env) -> Result<()> {
    match command {
        Command::Env(args) => env::run(args, env),
        Command::Exec(args) => exec::run(args, env),
        Command::Shell(args) => shell::run(args, env),
        Command::CredentialProcess(args) => credential_process::run(args, env),
        Command::List(args) => list::run(args, env),
        Command::Show(args) => show::run(args, env),
        Command::Roles(args) => roles::run(args, env),
        Command::Status(args) => status::run(args, env),
        Command::Clear(args) => clear::run(args, env),
        Command::Login(args) => login::run(args, env),
        Command::Init(args) => init::run(args),
        Command::Alias(args) => alias::run(args, env),
        Command::Completions(args) => completions::run(args),
        Command::Prompt(args) => prompt::run(args, env),
        Command::Policy(args) => policy::run(args, env),
        Command::Enforce(command) => enforce::run(command, env),
        Command::Onboard(args) => onboard::run(args, env),
        Command::Write(args) => write::run(args, env),
        Command::Console(args) => console::run(args, env),
        Command::Device(command) => device::run(command, env),
        Command::Setup(args) => setup::run(args, env),
        Command::Add(args) => keys::add(args, env),
        Command::Remove(args) => keys::remove(args, env),
        Command::Migrate(args) => keys::migrate(args, env),
        Command::Rotate(args) => keys::rotate(args, env),
        Command::Doctor(args) => doctor::run(args, env),
        Command::Use(_) => hook_only::run("use"),
        Command::Off => hook_only::run("off"),
    }
}

/// The keys a profile's chain starts from, for calls that need no MFA
/// (GetCallerIdentity, a user's own MFA device): the user's own keys.
pub struct RootKeys {
    pub profile: String,
    pub credentials: Credentials,
    pub region: Option<String>,
}

pub fn root_keys(profile: Option<&str>, env: &Env) -> Result<RootKeys> {
    let files = crate::config::Scanned::load(env)?;
    let name = resolve::select_profile(profile, env);
    crate::session::check_process_loop(env, &name)?;
    let chain = resolve::resolve_scanned(&files, &name, &Overrides::default())?;
    let credentials = fetch_root(env, &chain.root)?;
    Ok(RootKeys {
        profile: name,
        credentials,
        region: chain.region,
    })
}

/// The credentials a chain starts from: keys from the files, a
/// `credential_process`'s output, or keys from a key store; checked before
/// anything sends them (see `session::check_root`).
pub fn fetch_root(env: &Env, root: &Root) -> Result<Credentials> {
    fetch_root_signing_in(env, root, crate::terminal::available())
}

/// `fetch_root`, an SSO sign-in allowed only when `may_sign_in`.
fn fetch_root_signing_in(env: &Env, root: &Root, may_sign_in: bool) -> Result<Credentials> {
    let credentials = fetch_unchecked(env, root, may_sign_in)?;
    crate::session::check_root(root, &credentials, SystemClock.now())?;
    Ok(credentials)
}

fn fetch_unchecked(env: &Env, root: &Root, may_sign_in: bool) -> Result<Credentials> {
    match root {
        Root::Keys { credentials, .. } => Ok(credentials.clone()),
        Root::Process { profile, command } => {
            crate::session::check_process_loop(env, profile)?;
            crate::session::run_credential_process(profile, command)
        }
        Root::Sso { profile, sso } => crate::sso::role_credentials(env, profile, sso, may_sign_in),
        Root::Stored { profile, .. } => {
            let store = crate::keystore::open_for(env, profile)?
                .ok_or_else(|| anyhow::anyhow!("profile `{profile}` has no keys in a key store"))?;
            store.get(profile)?.ok_or_else(|| {
                anyhow::anyhow!(
                    "the {} store has no keys for profile `{profile}` any more: add them again with `mfa add {profile}`",
                    store.name()
                )
            })
        }
    }
}

/// A profile's session, ready to hand out.
pub struct Session {
    pub profile: String,
    pub region: Option<String>,
    pub credentials: Credentials,
    /// When renewing will next need the person, when known: the end of
    /// the session the chain renews from (for an MFA profile, the MFA
    /// session: renewing past it takes a new code; for an SSO profile, the
    /// sign-in: `sso::sign_in_ends_at`).
    pub renewable_until: Option<i64>,
}

/// Default for `MFA_MIN_TTL`: a cached credential with less left is renewed.
pub const DEFAULT_MIN_TTL: i64 = 300;

/// Reads the profiles, resolves the chain, and gets its credentials from
/// the cache or STS.
pub fn obtain_session(profile: Option<&str>, args: &SessionArgs, env: &Env) -> Result<Session> {
    let mut codes = Codes {
        token: args.token.clone(),
    };
    let min_ttl = env.seconds("MFA_MIN_TTL", DEFAULT_MIN_TTL)?;
    obtain_session_with(profile, args, env, min_ttl, &mut codes)
}

/// `obtain_session` with the freshness bound and the source of codes
/// given: the credential endpoint keeps more time in hand and asks for
/// codes its own way.
pub fn obtain_session_with(
    profile: Option<&str>,
    args: &SessionArgs,
    env: &Env,
    min_ttl: i64,
    codes: &mut dyn CodeSource,
) -> Result<Session> {
    obtain(profile, args, env, min_ttl, codes, false)
}

/// The session of a profile whose credentials an mfa endpoint serves to
/// this shell (`mfa env` under `exec/shell --server`). Renewed here, where
/// the person is (a code or an SSO sign-in in the foreground), through the
/// cache the endpoint reads: when what the chain renews from ends within
/// `MFA_MIN_TTL`, the whole chain anew, so that the endpoint's next
/// renewals find a session that lasts instead of answering 503.
pub fn obtain_served_session(profile: &str, args: &SessionArgs, env: &Env) -> Result<Session> {
    let mut codes = Codes {
        token: args.token.clone(),
    };
    let min_ttl = env.seconds("MFA_MIN_TTL", DEFAULT_MIN_TTL)?;
    let session = obtain(Some(profile), args, env, min_ttl, &mut codes, false)?;
    match session.renewable_until {
        Some(end) if end - SystemClock.now() <= min_ttl => {
            obtain(Some(profile), args, env, min_ttl, &mut codes, true)
        }
        _ => Ok(session),
    }
}

fn obtain(
    profile: Option<&str>,
    args: &SessionArgs,
    env: &Env,
    min_ttl: i64,
    codes: &mut dyn CodeSource,
    renew_chain: bool,
) -> Result<Session> {
    // Every line is checked; only the chain's profiles are built.
    let files = crate::config::Scanned::load(env)?;
    let name = resolve::select_profile(profile, env);
    crate::session::check_process_loop(env, &name)?;
    let overrides = Overrides {
        role_arn: args.role_arn.clone(),
        duration: args.duration,
    };
    let chain = resolve::resolve_scanned(&files, &name, &overrides)?;
    let may_sign_in = codes.may_sign_in();
    let cache = match chain.root {
        // Another run may be signing in for the same SSO credentials.
        Root::Sso { .. } => crate::sso::cache_for_sign_in(env, may_sign_in),
        _ => Cache::from_env(env),
    };
    let sts = SdkSts::new(&name, &sts_region(env, chain.region.as_deref())?);
    let mut engine = Engine {
        cache: &cache,
        sts: &sts,
        codes,
        clock: &SystemClock,
        min_ttl,
        // An explicit duration asks for a new session of that length.
        refresh: args.refresh || args.duration.is_some(),
        renew_chain,
        local_user: env.get("USER").map(str::to_string),
        fetch_root: &|root| fetch_root_signing_in(env, root, may_sign_in),
    };
    let credentials = engine.credentials(&chain)?;
    let renewable_until = match &chain.root {
        // Temporary root keys are handed on as they are: they end when they end.
        Root::Keys { credentials, .. } if !credentials.is_long_term() => credentials.expiration,
        // New role credentials need the SSO sign-in, not the ones in hand.
        Root::Sso { sso, .. } => crate::sso::sign_in_ends_at(env, sso, SystemClock.now()),
        _ => cache
            .read(&crate::session::base_key(&chain))
            .and_then(|entry| entry.credentials.expiration),
    }
    .or(credentials.expiration);
    Ok(Session {
        profile: name,
        region: chain.region,
        credentials,
        renewable_until,
    })
}
