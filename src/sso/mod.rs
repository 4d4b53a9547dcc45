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
mod page;
mod profile;
pub mod sdk;
pub mod token;

pub use profile::{SsoProfile, from_profile};

use anyhow::{Context, Result, anyhow, bail};

use crate::cache::{Cache, EntryKind, Key};
use crate::context::{Clock, Env, SystemClock};
use crate::creds::Credentials;
use flow::Oidc;
use token::{Plan, Registration, Token};

/// What names the sign-in in messages: the session, else the start URL.
fn sign_in_name(sso: &SsoProfile) -> String {
    match &sso.session {
        Some(session) => format!("SSO session `{session}`"),
        None => sso.start_url.clone(),
    }
}

/// How long a run waits, unless `MFA_LOCK_WAIT` says otherwise, for
/// another that holds an SSO lock: a sign-in lasts as long as the person
/// in the browser takes (up to the code's life, ten minutes at AWS), and a
/// run that stopped waiting would start a second sign-in, a second tab.
pub const SIGN_IN_WAIT: std::time::Duration = std::time::Duration::from_secs(600);

/// The cache, its locks waiting through another run's sign-in when this
/// run could sign in itself (it has a terminal): giving up would open a
/// second sign-in page. A run that cannot sign in (an SDK's
/// `credential_process`, a job's endpoint) waits no longer than any lock.
pub fn cache_for_sign_in(env: &Env, may_sign_in: bool) -> Cache {
    let mut cache = Cache::from_env(env);
    if may_sign_in && env.get("MFA_LOCK_WAIT").is_none() {
        cache.lock_wait = cache.lock_wait.max(SIGN_IN_WAIT);
    }
    cache
}

/// The lock all runs take before they refresh or replace the token.
fn token_lock(sso: &SsoProfile) -> Key {
    Key::new(EntryKind::Sso, &["token", &token::token_file_name(sso)])
}

/// The role credentials of an SSO profile: GetRoleCredentials with the
/// cached token, refreshed or signed in again first when it has ended.
/// `may_sign_in`: whether a sign-in may run on this process's terminal;
/// without it, a needed sign-in is a `SignInNeeded` error.
pub fn role_credentials(
    env: &Env,
    profile: &str,
    sso: &SsoProfile,
    may_sign_in: bool,
) -> Result<Credentials> {
    let api = sdk::SdkSso::new(profile, &sso.region);
    let tokens = Tokens::new(env, profile, sso, &api, may_sign_in);
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
    let cache = cache_for_sign_in(env, true);
    let _lock = cache.lock(&token_lock(sso))?;
    let cached = token::read(&tokens.dir(), sso);
    tokens.sign_in(cached.as_ref())?;
    Ok(())
}

/// The token's end, from the cache, for listings (`None`: no token).
pub fn token_expires_at(env: &Env, sso: &SsoProfile) -> Option<i64> {
    token::read(&token::cache_dir(env), sso).and_then(|t| t.expires_at())
}

/// When getting role credentials will next need the person: the token's
/// end, or with a refresh token the client registration's end (the
/// latest a refresh can work; the portal's own session may end sooner,
/// which AWS does not tell clients). `None` without a cached token.
pub fn sign_in_ends_at(env: &Env, sso: &SsoProfile, now: i64) -> Option<i64> {
    token::read(&token::cache_dir(env), sso).and_then(|t| token::sign_in_ends_at(&t, now))
}

/// A sign-in is needed and this run may not start one (no terminal, or
/// one that another program holds): the message says what to run.
#[derive(Debug)]
pub struct SignInNeeded {
    profile: String,
    sign_in: String,
    why: String,
}

impl std::fmt::Display for SignInNeeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "profile `{p}`: no valid SSO sign-in for {}{}; sign in with `mfa login {p}` (or `aws sso login --profile {p}`)",
            self.sign_in,
            self.why,
            p = self.profile
        )
    }
}

impl std::error::Error for SignInNeeded {}

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
        let cache = cache_for_sign_in(self.env, self.interactive);
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
                        bail!(SignInNeeded {
                            profile: self.profile.to_string(),
                            sign_in: sign_in_name(self.sso),
                            why: match cached.as_ref().and_then(Token::expires_at) {
                                _ if refused => {
                                    " (the SSO portal refused the cached token)".to_string()
                                }
                                Some(at) =>
                                    format!(" (the token ended at {})", crate::creds::rfc3339(at)),
                                None => String::new(),
                            },
                        });
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
        page::show_sign_in(self.env, self.sso, &authorization);
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

#[cfg(test)]
mod tests {
    use super::*;
    use profile::tests::{profiles, sso_of};

    #[test]
    fn runs_that_could_sign_in_wait_through_a_sign_in_unless_mfa_lock_wait_says_otherwise() {
        let wait = |pairs: &[(&str, &str)]| {
            cache_for_sign_in(&Env::from_pairs(pairs.to_vec()), true).lock_wait
        };
        assert_eq!(wait(&[("HOME", "/h")]), SIGN_IN_WAIT);
        let cannot_sign_in = cache_for_sign_in(&Env::from_pairs([("HOME", "/h")]), false);
        assert_eq!(
            cannot_sign_in.lock_wait,
            Cache::from_env(&Env::from_pairs([("HOME", "/h")])).lock_wait
        );
        assert_eq!(
            wait(&[("HOME", "/h"), ("MFA_LOCK_WAIT", "5")]),
            std::time::Duration::from_secs(5)
        );
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
        ) -> Result<flow::DeviceAuthorization, crate::aws::AwsError> {
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
}
