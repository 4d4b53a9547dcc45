//! SSO (IAM Identity Center) profiles as chain roots (SPEC §11).
//!
//! A profile with `sso_session` (or the legacy `sso_start_url`),
//! `sso_account_id` and `sso_role_name` gets its credentials from
//! `sso:GetRoleCredentials` with the access token of the AWS CLI's token
//! cache, so that `aws sso login` and mfa share one sign-in. An ending
//! token is refreshed (`sso-oidc:CreateToken`, grant `refresh_token`) and
//! written back in the CLI's format; with none usable, a sign-in runs the
//! device authorization flow on the terminal. All of it under the cache's
//! lock for the token: N runs on an expired token make one refresh, or one
//! sign-in.

pub mod flow;
pub mod sdk;
pub mod token;

use anyhow::{Context, Result, anyhow, bail};

use crate::cache::{Cache, EntryKind, Key};
use crate::config::{Profile, Profiles};
use crate::context::{Clock, Env, SystemClock};
use crate::creds::Credentials;
use crate::error::UsageError;
use flow::{DeviceAuthorization, Oidc};
use token::{Plan, Registration, Token};

/// Where an SSO profile signs in and which role it takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoProfile {
    /// The `[sso-session NAME]` it names; `None` for a legacy profile
    /// (`sso_start_url` and `sso_region` in the profile itself).
    pub session: Option<String>,
    pub start_url: String,
    /// `sso_region`: where the portal and OIDC are called.
    pub region: String,
    pub account_id: String,
    pub role_name: String,
    /// `sso_registration_scopes` as configured (`None`: not set), which
    /// names the cached client registration as the AWS CLI names it.
    pub scopes: Option<Vec<String>>,
}

impl SsoProfile {
    /// The scopes a new client registers for: those configured, else for
    /// an sso-session the one that gives refresh tokens (as the AWS CLI
    /// does), else none (legacy profiles get no refresh token).
    pub fn registration_scopes(&self) -> Vec<String> {
        match (&self.scopes, &self.session) {
            (Some(scopes), _) if !scopes.is_empty() => scopes.clone(),
            (_, Some(_)) => vec![DEFAULT_SCOPE.to_string()],
            (_, None) => Vec::new(),
        }
    }
}

/// The scope the AWS CLI asks for when an sso-session names none: the one
/// that gives refresh tokens.
pub const DEFAULT_SCOPE: &str = "sso:account:access";

/// Whether the profile signs in with SSO (it names a session or a start URL).
pub fn is_sso(profile: &Profile) -> bool {
    profile.get_nonempty("sso_session").is_some() || profile.get_nonempty("sso_start_url").is_some()
}

/// The profile's SSO settings, or `None` when it is no SSO profile. What
/// is missing or wrong is a configuration error that says what to add.
pub fn from_profile(
    profiles: &Profiles,
    profile: &Profile,
) -> Result<Option<SsoProfile>, UsageError> {
    let name = &profile.name;
    let session = profile.scalar("sso_session")?;
    let legacy_url = profile.scalar("sso_start_url")?;
    if session.is_none() && legacy_url.is_none() {
        return Ok(None);
    }
    let (start_url, region, scopes) = match session {
        Some(session) => {
            let section = profiles.sso_session(session).ok_or_else(|| {
                UsageError::new(format!(
                    "profile `{name}` has sso_session = {session}, but the config file has no [sso-session {session}] section"
                ))
            })?;
            let needed = |key: &str| -> Result<String, UsageError> {
                section.scalar(key)?.map(str::to_string).ok_or_else(|| {
                    UsageError::new(format!(
                        "the [sso-session {session}] section (used by profile `{name}`) has no {key}"
                    ))
                })
            };
            // The AWS CLI's parse_sso_registration_scopes.
            let scopes = section.scalar("sso_registration_scopes")?.map(|scopes| {
                scopes
                    .split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            });
            (needed("sso_start_url")?, needed("sso_region")?, scopes)
        }
        None => {
            let region = profile.scalar("sso_region")?.ok_or_else(|| {
                UsageError::new(format!(
                    "profile `{name}` has sso_start_url but no sso_region (the region of your IAM Identity Center)"
                ))
            })?;
            (
                legacy_url.unwrap_or_default().to_string(),
                region.to_string(),
                None,
            )
        }
    };
    if !crate::sts::is_valid_region(&region) {
        return Err(crate::sts::invalid_region(
            &region,
            &format!("the sso_region of profile `{name}`"),
        ));
    }
    let needed = |key: &str, what: &str| -> Result<String, UsageError> {
        profile.scalar(key)?.map(str::to_string).ok_or_else(|| {
            UsageError::new(format!(
                "profile `{name}` signs in with SSO but has no {key} ({what}): add it, or use it only as a source of sso_session"
            ))
        })
    };
    Ok(Some(SsoProfile {
        session: session.map(str::to_string),
        start_url,
        region,
        account_id: needed("sso_account_id", "the account whose role it takes")?,
        role_name: needed("sso_role_name", "the permission set's role name")?,
        scopes,
    }))
}

/// What names the sign-in in messages: the session, else the start URL.
fn sign_in_name(sso: &SsoProfile) -> String {
    match &sso.session {
        Some(session) => format!("SSO session `{session}`"),
        None => sso.start_url.clone(),
    }
}

/// The lock all runs take before they refresh or replace the token.
fn token_lock(sso: &SsoProfile) -> Key {
    Key::new(EntryKind::Sso, &["token", &token::token_file_name(sso)])
}

/// The role credentials of an SSO profile: GetRoleCredentials with the
/// cached token, refreshed or signed in again first when it has ended.
pub fn role_credentials(env: &Env, profile: &str, sso: &SsoProfile) -> Result<Credentials> {
    let api = sdk::SdkSso::new(profile, &sso.region);
    let tokens = Tokens::new(env, profile, sso, &api, crate::terminal::available());
    let call = |access_token: &str| {
        api.get_role_credentials(access_token, &sso.account_id, &sso.role_name)
    };
    let what = || {
        format!(
            "GetRoleCredentials (account {}, role {}) failed for profile `{profile}`",
            sso.account_id, sso.role_name
        )
    };
    let access_token = tokens.access_token(None)?;
    match call(&access_token) {
        Ok(credentials) => Ok(credentials),
        // Revoked, or signed out elsewhere: once more with a new token.
        Err(sdk::RoleError::Unauthorized) => {
            let access_token = tokens.access_token(Some(&access_token))?;
            call(&access_token).map_err(|e| match e {
                sdk::RoleError::Unauthorized => anyhow!(
                    "the SSO portal refused the new sign-in too: does your user have role {} in account {}?",
                    sso.role_name,
                    sso.account_id
                )
                .context(what()),
                sdk::RoleError::Aws(e) => anyhow!(e).context(what()),
            })
        }
        Err(sdk::RoleError::Aws(e)) => Err(anyhow!(e).context(what())),
    }
}

/// `mfa login`: a new sign-in, whatever the cached token.
pub fn login(env: &Env, profile: &str, sso: &SsoProfile) -> Result<()> {
    let api = sdk::SdkSso::new(profile, &sso.region);
    let tokens = Tokens::new(env, profile, sso, &api, true);
    let cache = Cache::from_env(env);
    let _lock = cache.lock(&token_lock(sso))?;
    let cached = token::read(&tokens.dir(), sso);
    tokens.sign_in(cached.as_ref())?;
    Ok(())
}

/// The token's end, from the cache, for listings (`None`: no token).
pub fn token_expires_at(env: &Env, sso: &SsoProfile) -> Option<i64> {
    token::read(&token::cache_dir(env), sso).and_then(|t| t.expires_at())
}

/// Gets a usable access token: the cached one, a refreshed one, or one
/// from a new sign-in.
struct Tokens<'a> {
    env: &'a Env,
    profile: &'a str,
    sso: &'a SsoProfile,
    oidc: &'a dyn Oidc,
    clock: &'a dyn Clock,
    /// Whether a sign-in may run (there is a terminal to show the code on).
    interactive: bool,
}

impl<'a> Tokens<'a> {
    /// With the system's clock.
    fn new(
        env: &'a Env,
        profile: &'a str,
        sso: &'a SsoProfile,
        oidc: &'a dyn Oidc,
        interactive: bool,
    ) -> Tokens<'a> {
        Tokens {
            env,
            profile,
            sso,
            oidc,
            clock: &SystemClock,
            interactive,
        }
    }

    fn dir(&self) -> std::path::PathBuf {
        token::cache_dir(self.env)
    }

    /// `rejected`: a token the portal refused, not to be used again.
    fn access_token(&self, rejected: Option<&str>) -> Result<String> {
        let usable = |token: &Token| {
            token
                .access_token()
                .filter(|t| Some(*t) != rejected)
                .is_some()
                && token::plan(Some(token), self.clock.now()) == Plan::Use
        };
        let cached = token::read(&self.dir(), self.sso);
        if let Some(token) = cached.as_ref().filter(|t| usable(t)) {
            return Ok(token.access_token().unwrap_or_default().to_string());
        }
        let cache = Cache::from_env(self.env);
        let _lock = cache.lock(&token_lock(self.sso))?;
        // Another run may have renewed it while this one waited.
        let cached = token::read(&self.dir(), self.sso);
        let now = self.clock.now();
        let refused =
            rejected.is_some() && cached.as_ref().and_then(Token::access_token) == rejected;
        let mut plan = match &cached {
            // The portal refused it, whatever its end says.
            Some(token) if refused && token::can_refresh(token, now) => Plan::Refresh {
                fallback: Box::new(Plan::SignIn),
            },
            _ if refused => Plan::SignIn,
            cached => token::plan(cached.as_ref(), now),
        };
        loop {
            match plan {
                Plan::Use => {
                    let token = cached.as_ref().and_then(Token::access_token);
                    return token
                        .map(str::to_string)
                        .ok_or_else(|| anyhow!("the cached SSO token has no access token"));
                }
                Plan::Refresh { fallback } => match cached.as_ref().map(|t| self.refresh(t)) {
                    Some(Ok(token)) => {
                        return Ok(token.access_token().unwrap_or_default().to_string());
                    }
                    Some(Err(e)) => {
                        eprintln!(
                            "mfa: the SSO token of {} could not be refreshed: {e:#}",
                            sign_in_name(self.sso)
                        );
                        plan = *fallback;
                    }
                    None => plan = *fallback,
                },
                Plan::SignIn => {
                    if !self.interactive {
                        bail!(
                            "profile `{p}`: no valid SSO sign-in for {}{}; sign in with `mfa login {p}` (or `aws sso login --profile {p}`)",
                            sign_in_name(self.sso),
                            match cached.as_ref().and_then(Token::expires_at) {
                                _ if refused => {
                                    " (the SSO portal refused the cached token)".to_string()
                                }
                                Some(at) =>
                                    format!(" (the token ended at {})", crate::creds::rfc3339(at)),
                                None => String::new(),
                            },
                            p = self.profile
                        );
                    }
                    let token = self.sign_in(cached.as_ref())?;
                    return Ok(token.access_token().unwrap_or_default().to_string());
                }
            }
        }
    }

    fn save(&self, token: &Token) -> Result<()> {
        token::write(&self.dir(), self.sso, token).with_context(|| {
            format!(
                "cannot save the SSO token in {}",
                crate::paths::display(&self.dir())
            )
        })
    }

    /// CreateToken with the refresh token; the file rewritten.
    fn refresh(&self, cached: &Token) -> Result<Token> {
        let (Some(refresh_token), Some(registration)) =
            (cached.refresh_token(), cached.registration())
        else {
            bail!("the token has no refresh token");
        };
        let grant = self
            .oidc
            .create_token_with_refresh_token(&registration, refresh_token)?;
        check_token_text(&grant.access_token)?;
        let token = cached.renewed(self.sso, &grant, &registration, self.clock.now());
        self.save(&token)?;
        Ok(token)
    }

    /// A client registration: the cached one while it lasts (as botocore
    /// caches it), else a new one, cached.
    fn registration(&self) -> Result<Registration> {
        let name = token::registration_file_name(self.sso);
        let now = self.clock.now();
        if let Some(registration) = token::read_object(&self.dir().join(&name))
            .and_then(|fields| Registration::from_json(&serde_json::Value::Object(fields)))
            .filter(|r| r.is_valid(now, token::REFRESH_WINDOW))
        {
            return Ok(registration);
        }
        let client_name = format!(
            "mfa-client-{}",
            self.sso.session.as_deref().unwrap_or(&now.to_string())
        );
        let scopes = self.sso.registration_scopes();
        let registration = self
            .oidc
            .register_client(&client_name, &scopes)
            .context("RegisterClient failed")?;
        if let Err(e) = token::write_object(&self.dir(), &name, &registration.to_json(&scopes)) {
            eprintln!("mfa: warning: cannot save the SSO client registration: {e}");
        }
        Ok(registration)
    }

    /// The device authorization flow: the page and code on the terminal,
    /// CreateToken polled until approved; the token saved.
    fn sign_in(&self, cached: Option<&Token>) -> Result<Token> {
        let registration = self.registration()?;
        let authorization = self
            .oidc
            .start_device_authorization(&registration, &self.sso.start_url)
            .context("StartDeviceAuthorization failed")?;
        show_sign_in(self.env, self.sso, &authorization);
        let grant = flow::poll(
            self.oidc,
            &registration,
            &authorization,
            self.clock,
            &mut std::thread::sleep,
        )
        .with_context(|| format!("SSO sign-in to {} failed", sign_in_name(self.sso)))?;
        check_token_text(&grant.access_token)?;
        let token = cached.cloned().unwrap_or_default().renewed(
            self.sso,
            &grant,
            &registration,
            self.clock.now(),
        );
        self.save(&token)?;
        crate::terminal::say(&format!(
            "Signed in to {}; the sign-in lasts until {}.\n",
            sign_in_name(self.sso),
            token
                .expires_at()
                .map(crate::creds::rfc3339)
                .unwrap_or_default()
        ));
        Ok(token)
    }
}

/// A token goes into an HTTP header: printable ASCII only.
fn check_token_text(token: &str) -> Result<()> {
    if crate::creds::is_key_text(token) {
        Ok(())
    } else {
        bail!(
            "CreateToken answered with an access token that is not printable ASCII; it was not used"
        )
    }
}

/// Shows the sign-in page and code on the terminal (stderr without one)
/// and opens `$BROWSER` on it, if set.
// The one call site of the browser: to be the shared module of `mfa
// console` (src/browser.rs) once both are in.
fn show_sign_in(env: &Env, sso: &SsoProfile, authorization: &DeviceAuthorization) {
    let page = printable(&authorization.verification_uri);
    crate::terminal::say(&format!(
        "Sign in to {} in your browser:\n  {page}\nand check that the page shows the code {}\n",
        sign_in_name(sso),
        printable(&authorization.user_code)
    ));
    // Only a web page goes to the browser: never something it would read
    // as an option or a local file.
    let web = page.starts_with("https://") || page.starts_with("http://");
    if let Some(browser) = env.get("BROWSER").filter(|_| web) {
        open_browser(browser, &page);
    }
}

/// What the service sent, without anything that could move the terminal's
/// cursor or change its settings.
fn printable(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).collect()
}

/// Runs `$BROWSER` (its first `:`-separated command, split into words, no
/// shell; `%s` is the URL, else the URL is the last argument), detached
/// from stdout so that `eval "$(mfa env …)"` does not wait for it.
fn open_browser(browser: &str, url: &str) {
    let Some(command) = browser.split(':').map(str::trim).find(|c| !c.is_empty()) else {
        return;
    };
    let Ok(mut words) = shell_words::split(command) else {
        eprintln!("mfa: BROWSER cannot be split into words; open the page yourself");
        return;
    };
    if words.iter().any(|w| w.contains("%s")) {
        for word in &mut words {
            *word = word.replace("%s", url);
        }
    } else {
        words.push(url.to_string());
    }
    let Some((program, args)) = words.split_first() else {
        return;
    };
    let started = std::process::Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    if let Err(e) = started {
        eprintln!("mfa: cannot start the browser ({program}): {e}; open the page yourself");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profiles(config: &str) -> Profiles {
        let c = crate::config::document::parse(
            config,
            std::path::Path::new("config"),
            crate::config::FileKind::Config,
        )
        .unwrap();
        Profiles::from_documents(Some(&c), None)
    }

    fn sso_of(p: &Profiles, name: &str) -> Result<Option<SsoProfile>, UsageError> {
        from_profile(p, p.get(name).unwrap())
    }

    #[test]
    fn sessions_and_legacy_profiles_are_read_and_what_is_missing_is_named() {
        let p = profiles(
            "[profile dev]\nsso_session = corp\nsso_account_id = 111122223333\nsso_role_name = Dev\n\
             [sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = eu-west-1\n\
             sso_registration_scopes = sso:account:access, extra\n\
             [profile old]\nsso_start_url = https://old.awsapps.com/start\nsso_region = us-east-1\n\
             sso_account_id = 1\nsso_role_name = R\n\
             [profile nosession]\nsso_session = gone\nsso_account_id = 1\nsso_role_name = R\n\
             [profile norole]\nsso_session = corp\nsso_account_id = 1\n\
             [profile plain]\nregion = eu-west-1\n",
        );
        let dev = sso_of(&p, "dev").unwrap().unwrap();
        assert_eq!(dev.session.as_deref(), Some("corp"));
        assert_eq!(dev.start_url, "https://corp.awsapps.com/start");
        assert_eq!(
            (dev.region.as_str(), dev.account_id.as_str()),
            ("eu-west-1", "111122223333")
        );
        assert_eq!(dev.registration_scopes(), ["sso:account:access", "extra"]);
        let old = sso_of(&p, "old").unwrap().unwrap();
        assert_eq!(old.registration_scopes(), Vec::<String>::new());
        assert_eq!((old.session, old.region.as_str()), (None, "us-east-1"));
        let e = sso_of(&p, "nosession").unwrap_err();
        assert!(e.0.contains("no [sso-session gone] section"), "{e}");
        let e = sso_of(&p, "norole").unwrap_err();
        assert!(e.0.contains("no sso_role_name"), "{e}");
        assert_eq!(sso_of(&p, "plain").unwrap(), None);
    }

    /// OIDC that refreshes with `refresh`, and never signs in.
    struct RefreshOnly {
        refresh: Result<token::Grant, crate::aws::AwsError>,
        asked: std::cell::Cell<usize>,
    }

    impl Oidc for RefreshOnly {
        fn register_client(
            &self,
            _: &str,
            _: &[String],
        ) -> Result<Registration, crate::aws::AwsError> {
            panic!("no sign-in expected")
        }
        fn start_device_authorization(
            &self,
            _: &Registration,
            _: &str,
        ) -> Result<DeviceAuthorization, crate::aws::AwsError> {
            panic!("no sign-in expected")
        }
        fn create_token_with_device_code(
            &self,
            _: &Registration,
            _: &str,
        ) -> Result<token::Grant, flow::Pending> {
            panic!("no sign-in expected")
        }
        fn create_token_with_refresh_token(
            &self,
            registration: &Registration,
            refresh_token: &str,
        ) -> Result<token::Grant, crate::aws::AwsError> {
            assert_eq!(
                (registration.client_id.as_str(), refresh_token),
                ("c", "r1")
            );
            self.asked.set(self.asked.get() + 1);
            self.refresh.clone()
        }
    }

    #[test]
    fn a_refresh_is_used_written_back_or_else_the_token_while_it_lasts() {
        let home = tempfile::tempdir().unwrap();
        let env = Env::from_pairs([
            ("HOME", home.path().to_str().unwrap()),
            ("MFA_CACHE_DIR", home.path().join("mfa").to_str().unwrap()),
        ]);
        let p = profiles(
            "[profile dev]\nsso_session = corp\nsso_account_id = 1\nsso_role_name = R\n\
             [sso-session corp]\nsso_start_url = https://corp/start\nsso_region = eu-west-1\n",
        );
        let sso = sso_of(&p, "dev").unwrap().unwrap();
        let now = 2_000_000_000;
        let cache_token = |left: i64| {
            let text = format!(
                r#"{{"accessToken":"old","expiresAt":"{}","refreshToken":"r1","clientId":"c","clientSecret":"s","registrationExpiresAt":"2040-01-01T00:00:00Z"}}"#,
                token::format_time(now + left)
            );
            let dir = token::cache_dir(&env);
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join(token::token_file_name(&sso)), text).unwrap();
        };
        let refused = crate::aws::AwsError::Service {
            code: "InvalidGrantException".into(),
            message: "no".into(),
        };
        let run = |oidc: &RefreshOnly| {
            Tokens {
                env: &env,
                profile: "dev",
                sso: &sso,
                oidc,
                clock: &crate::context::FixedClock(now),
                interactive: false,
            }
            .access_token(None)
        };

        // Five minutes left, the refresh refused: the old token still serves.
        cache_token(300);
        let oidc = RefreshOnly {
            refresh: Err(refused.clone()),
            asked: Default::default(),
        };
        assert_eq!(run(&oidc).unwrap(), "old");
        // Expired and refused: no terminal, so the error says what to run.
        cache_token(-1);
        let error = run(&oidc).unwrap_err().to_string();
        assert!(error.contains("`mfa login dev`"), "{error}");
        assert_eq!(oidc.asked.get(), 2);

        // Refreshed: the new token is used and written back.
        let oidc = RefreshOnly {
            refresh: Ok(token::Grant {
                access_token: "new".into(),
                expires_in: 3600,
                refresh_token: Some("r2".into()),
            }),
            asked: Default::default(),
        };
        assert_eq!(run(&oidc).unwrap(), "new");
        let saved = token::read(&token::cache_dir(&env), &sso).unwrap();
        assert_eq!(saved.refresh_token(), Some("r2"));
        assert_eq!(saved.expires_at(), Some(now + 3600));
        // Now good for an hour: nothing more is asked.
        assert_eq!(run(&oidc).unwrap(), "new");
        assert_eq!(oidc.asked.get(), 1);
    }

    #[test]
    fn what_the_service_sends_reaches_the_terminal_without_control_characters() {
        assert_eq!(printable("https://x/\u{1b}[2J?a\r\n"), "https://x/[2J?a");
    }

    #[test]
    fn browser_commands_take_the_url_without_a_shell() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("opened");
        let script = dir.path().join("browser");
        std::fs::write(
            &script,
            format!("#!/bin/sh\nprintf '%s\\n' \"$@\" > '{}'\n", out.display()),
        )
        .unwrap();
        std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        open_browser(
            &format!("{} --new-tab:other", script.display()),
            "https://x/?a=1;b",
        );
        for _ in 0..100 {
            if std::fs::read_to_string(&out).is_ok_and(|t| t.ends_with('\n')) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert_eq!(
            std::fs::read_to_string(&out).unwrap(),
            "--new-tab\nhttps://x/?a=1;b\n"
        );
    }
}
