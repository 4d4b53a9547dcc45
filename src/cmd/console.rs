//! `mfa console`: the AWS console, signed in with the profile's role
//! session (assumed with MFA), through the federation endpoint (SPEC §9).
//! Everything that can be refused is checked before any call; the sign-in
//! URL goes to stdout (`--print`) or, through a one-time local address, to
//! the browser, never into a command line.

use anyhow::{Context, Result, bail};

use crate::browser::{self, Browser};
use crate::cli::{ConsoleArgs, SessionArgs};
use crate::console::redirect::{OneTimeRedirect, UNUSED_LIMIT};
use crate::console::{self, SessionKind};
use crate::context::{Clock, Env, SystemClock};
use crate::creds::Credentials;
use crate::error::UsageError;
use crate::resolve::{self, Chain, Overrides, RoleStep};
use crate::sts::{SdkSts, sts_region};

/// The profile key that names a browser command for this profile's console.
const BROWSER_KEY: &str = "console_browser";

pub fn run(args: ConsoleArgs, env: &Env) -> Result<()> {
    let profiles = crate::config::load(env)?.profiles;
    let name = resolve::select_profile(args.profile.as_deref(), env);
    crate::session::check_process_loop(env, &name)?;
    let overrides = Overrides {
        role_arn: args.role_arn.clone(),
        duration: None,
    };
    let chain = resolve::resolve(&profiles, &name, &overrides)?;
    let kind = console::session_kind(&chain, args.federation_token)?;
    let session_duration = console::session_duration(kind, args.duration)?;
    let region = console::console_region(args.region.as_deref(), env, chain.region.as_deref())?;
    let partition = console::partition(&chain, region.as_deref());
    let destination = console::destination(
        partition,
        args.service.as_deref(),
        args.destination.as_deref(),
        region.as_deref(),
    )?;
    let endpoint = console::federation_endpoint(env, partition)?;
    let browser = if args.print {
        None
    } else {
        let setting = profiles
            .get(&name)
            .and_then(|p| p.get_single(BROWSER_KEY))
            .map(|command| (BROWSER_KEY, command));
        Some(Browser::choose(args.browser.as_deref(), setting, env)?)
    };

    let credentials = match kind {
        SessionKind::Role { .. } => {
            let session_args = SessionArgs {
                token: args.token.clone(),
                role_arn: args.role_arn.clone(),
                duration: None,
                refresh: false,
            };
            super::obtain_session(Some(&name), &session_args, env)?.credentials
        }
        SessionKind::Federation => federation_credentials(&chain, args.duration, env)?,
    };
    let session = console::session_json(&credentials)?;
    let request = console::signin_token_url(&endpoint, &session, session_duration);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let timeout = crate::aws::call_timeout(env.get("MFA_TIMEOUT"));
    let token = runtime
        .block_on(console::federation::signin_token(&request, timeout))
        .with_context(|| format!("console sign-in failed for profile `{name}`"))?;
    let url = console::login_url(&endpoint, &destination, &token);

    let Some(browser) = browser else {
        return crate::output::print(&format!("{url}\n"));
    };
    runtime.block_on(async {
        let redirect = OneTimeRedirect::bind()?;
        let mut child = browser
            .open(&redirect.address())
            .map_err(|e| anyhow::anyhow!("{e:#}, or use --print to print the URL instead"))?;
        eprintln!(
            "mfa: opening the AWS console for profile `{name}` (browser from {})",
            browser.source()
        );
        redirect
            .serve(url, UNUSED_LIMIT, || {
                browser::exited_early(&mut child, &browser)
            })
            .await
    })
}

/// A GetFederationToken session for the profile's IAM user, with its
/// long-term keys (AWS takes no MFA for this call).
fn federation_credentials(chain: &Chain, duration: Option<i64>, env: &Env) -> Result<Credentials> {
    let duration = duration.unwrap_or(console::DEFAULT_FEDERATION_SECONDS);
    console::check_console_duration(duration)?;
    let root = super::fetch_root(env, &chain.root)?;
    if !root.is_long_term() {
        bail!(UsageError::new(format!(
            "profile `{}` holds temporary credentials; GetFederationToken needs an IAM user's long-term keys",
            chain.root.profile()
        )));
    }
    eprintln!(
        "mfa: warning: --federation-token signs in WITHOUT MFA (GetFederationToken takes no code); CloudTrail shows mfaAuthenticated false"
    );
    let unnamed = RoleStep {
        profile: None,
        role_arn: String::new(),
        session_name: None,
        external_id: None,
        duration,
    };
    // GetFederationToken's Name: 2 to 32 of the characters a session name has.
    let federated_name: String = resolve::session_name(
        &unnamed,
        chain.mfa_serial.as_deref(),
        env.get("USER"),
        SystemClock.now(),
    )
    .chars()
    .take(32)
    .collect();
    let sts = SdkSts::new(&chain.profile, &sts_region(env, chain.region.as_deref())?);
    sts.get_federation_token(&root, &federated_name, duration)
        .map_err(|e| {
            anyhow::anyhow!(e).context(format!(
                "GetFederationToken failed for profile `{}`",
                chain.profile
            ))
        })
}
