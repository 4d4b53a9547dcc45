//! The engine: runs a resolved chain against the cache and STS (SPEC §2).
//!
//! One MFA session (GetSessionToken) per root key and serial, cached; roles
//! assumed from it without a code, each cached; every cache miss taken under
//! the entry's lock and checked again, so that concurrent runs make one call.

use std::collections::HashMap;
use std::rc::Rc;

use anyhow::{Context, Result, anyhow, bail};

use crate::cache::{Cache, ENTRY_VERSION, Entry, EntryKind, Key};
use crate::code::{CodeRequest, CodeSource};
use crate::context::Clock;
use crate::creds::Credentials;
use crate::resolve::{Chain, Resolved, Roles, Root, session_name};
use crate::sts::{AssumeRoleRequest, AwsError, Sts};

/// How many codes an interactive run may try before it gives up.
pub const CODE_TRIES: u32 = 3;

pub struct Engine<'a> {
    pub cache: &'a Cache,
    pub sts: &'a dyn Sts,
    pub codes: &'a mut dyn CodeSource,
    pub clock: &'a dyn Clock,
    /// A cached credential is used while more than this many seconds remain.
    pub min_ttl: i64,
    /// Replace the final credential even when the cached one is fresh.
    pub refresh: bool,
    /// Replace every credential of the chain, from the root's session up:
    /// a new MFA session (a code) or new SSO role credentials (with a
    /// sign-in if the token has ended), then each role.
    pub renew_chain: bool,
    pub local_user: Option<String>,
    /// Fetches the root's keys (runs a `credential_process`, opens a key
    /// store): called only on a cache miss.
    pub fetch_root: &'a dyn Fn(&Root) -> Result<Credentials>,
}

/// The identity of the chain's root, for cache keys: the access key id, or
/// the `credential_process` command (so a cache hit need not run it).
fn root_identity(root: &Root) -> String {
    match root {
        Root::Keys { credentials, .. } => format!("keys:{}", credentials.access_key_id),
        Root::Process { command, .. } => format!("process:{command}"),
        // By profile: a cache hit must not open the store to learn the key id.
        Root::Stored { profile, .. } => format!("stored:{profile}"),
        Root::Sso { sso, .. } => format!(
            "sso:{}\n{}\n{}\n{}",
            sso.start_url,
            sso.session.as_deref().unwrap_or(""),
            sso.account_id,
            sso.role_name
        ),
    }
}

/// The key of the session made from the root keys.
pub fn base_key(chain: &Chain) -> Key {
    root_key(&chain.root, chain.mfa_serial.as_deref())
}

/// The key of the session made from `root`'s keys under `mfa_serial`.
fn root_key(root: &Root, mfa_serial: Option<&str>) -> Key {
    if let Root::Sso { .. } = root {
        return Key::new(EntryKind::Sso, &[&root_identity(root)]);
    }
    let kind = if mfa_serial.is_some() {
        EntryKind::MfaSession
    } else {
        EntryKind::Session
    };
    Key::new(kind, &[&root_identity(root), mfa_serial.unwrap_or("")])
}

/// The key of a role assumed with the credentials under `parent`: each
/// role's key holds its parent's, from the base up. A generated session
/// name is not part of the key: it may hold the time.
fn step_key(
    parent: &Key,
    role_arn: &str,
    session_name: Option<&str>,
    external_id: Option<&str>,
) -> Key {
    Key::new(
        EntryKind::Role,
        &[
            &parent.id,
            role_arn,
            session_name.unwrap_or(""),
            external_id.unwrap_or(""),
        ],
    )
}

/// The key of the `index`th role of the chain (a loop: no recursion over
/// the chain).
pub fn role_key(chain: &Chain, index: usize) -> Key {
    let mut key = base_key(chain);
    for step in &chain.roles[..=index] {
        key = step_key(
            &key,
            &step.role_arn,
            step.session_name.as_deref(),
            step.external_id.as_deref(),
        );
    }
    key
}

/// The key of the credential the chain ends in, or `None` when the chain
/// hands out root credentials that are already temporary (nothing cached).
pub fn final_key(chain: &Chain) -> Option<Key> {
    if !chain.roles.is_empty() {
        return Some(role_key(chain, chain.roles.len() - 1));
    }
    temporary_root_aside(&chain.root, || base_key(chain))
}

fn temporary_root_aside(root: &Root, key: impl FnOnce() -> Key) -> Option<Key> {
    match root {
        Root::Keys { credentials, .. } if !credentials.is_long_term() => None,
        _ => Some(key()),
    }
}

/// [`final_key`] of many chains resolved together ([`crate::resolve::EveryChain`]): the
/// chains that share a tail share its keys, each made once. An entry
/// holds what it was made from, so that no address is reused meanwhile.
#[derive(Default)]
pub struct FinalKeys<'a> {
    roots: HashMap<Shared<'a, Root>, (Rc<Root>, Key)>,
    roles: HashMap<Shared<'a, Roles<'a>>, (Rc<Roles<'a>>, Key)>,
}

/// A shared part of chains, by address, and the MFA device the chains'
/// session is made under.
type Shared<'a, T> = (*const T, Option<&'a str>);

fn resolved_step_key(parent: &Key, roles: &Roles) -> Key {
    let step = &roles.step;
    step_key(parent, step.role_arn, step.session_name, step.external_id)
}

impl<'a> FinalKeys<'a> {
    pub fn final_key(&mut self, chain: &Resolved<'a>) -> Option<Key> {
        let serial = chain.mfa_serial;
        match &chain.roles {
            // The chosen profile's own step is not shared: not remembered.
            Some(top) => {
                let parent = self.shared_key(&chain.root, top.below.as_ref(), serial);
                Some(resolved_step_key(&parent, top))
            }
            None => temporary_root_aside(&chain.root, || self.root_key(&chain.root, serial)),
        }
    }

    fn root_key(&mut self, root: &Rc<Root>, serial: Option<&'a str>) -> Key {
        let id = (Rc::as_ptr(root), serial);
        if let Some((_, key)) = self.roots.get(&id) {
            return key.clone();
        }
        let key = root_key(root, serial);
        self.roots.insert(id, (root.clone(), key.clone()));
        key
    }

    /// The key of the credentials `roles` ends in (the root's when none):
    /// recursive, over at most `MAX_CHAIN` roles.
    fn shared_key(
        &mut self,
        root: &Rc<Root>,
        roles: Option<&Rc<Roles<'a>>>,
        serial: Option<&'a str>,
    ) -> Key {
        let Some(roles) = roles else {
            return self.root_key(root, serial);
        };
        let id = (Rc::as_ptr(roles), serial);
        if let Some((_, key)) = self.roles.get(&id) {
            return key.clone();
        }
        let parent = self.shared_key(root, roles.below.as_ref(), serial);
        let key = resolved_step_key(&parent, roles);
        self.roles.insert(id, (roles.clone(), key.clone()));
        key
    }
}

impl Engine<'_> {
    /// The chain's final credentials.
    pub fn credentials(&mut self, chain: &Chain) -> Result<Credentials> {
        let force = self.refresh || self.renew_chain;
        if chain.roles.is_empty() {
            Ok(self.base(chain, force)?.0)
        } else {
            self.role(chain, chain.roles.len() - 1, force)
        }
    }

    /// A cached credential that is fresh and could be sent (an entry with
    /// a key that is not key text is treated as missing, and replaced).
    fn fresh(&self, key: &Key) -> Option<Credentials> {
        self.cache
            .read(key)
            .filter(|e| e.credentials.is_fresh(self.clock.now(), self.min_ttl))
            .filter(|e| e.credentials.invalid_part().is_none())
            .map(|e| e.credentials)
    }

    /// Credentials to assume the first role with, and whether that call
    /// still needs the code (root keys that are already temporary cannot
    /// call GetSessionToken: the code goes to the first AssumeRole).
    fn base(&mut self, chain: &Chain, force: bool) -> Result<(Credentials, bool)> {
        let needs_code = chain.mfa_serial.is_some();
        if let Root::Keys { credentials, .. } = &chain.root
            && !credentials.is_long_term()
        {
            return Ok((credentials.clone(), needs_code));
        }
        let key = base_key(chain);
        // SSO role credentials are temporary: a role above that wants MFA
        // gets the code with its AssumeRole, as for temporary keys.
        let sso = matches!(chain.root, Root::Sso { .. });
        let cached_needs_code = sso && needs_code;
        if !force && let Some(credentials) = self.fresh(&key) {
            return Ok((credentials, cached_needs_code));
        }
        let _lock = self.cache.lock(&key)?;
        if !force && let Some(credentials) = self.fresh(&key) {
            return Ok((credentials, cached_needs_code));
        }
        let root = (self.fetch_root)(&chain.root)?;
        check_root(&chain.root, &root, self.clock.now())?;
        let (credentials, action) = if sso {
            (root, "GetRoleCredentials")
        } else if !root.is_long_term() {
            return Ok((root, needs_code));
        } else {
            let duration = chain.session_duration;
            let credentials = match chain.mfa_serial.as_deref() {
                Some(serial) => self.with_code(chain, serial, "GetSessionToken", |sts, code| {
                    sts.get_session_token(&root, Some(serial), Some(code), duration)
                })?,
                None => self
                    .sts
                    .get_session_token(&root, None, None, duration)
                    .map_err(|e| sts_error(e, "GetSessionToken", chain.root.profile()))?,
            };
            (credentials, "GetSessionToken")
        };
        let credentials = check_issued(credentials, action)?;
        self.cache.write(
            &key,
            &Entry {
                version: ENTRY_VERSION,
                kind: key.kind,
                profile: chain.root.profile().to_string(),
                // The serial that guards this session (none guards SSO's).
                mfa_serial: chain.mfa_serial.clone().filter(|_| !sso),
                role_arn: None,
                credentials: credentials.clone(),
            },
        );
        Ok((credentials, cached_needs_code))
    }

    fn role(&mut self, chain: &Chain, index: usize, force: bool) -> Result<Credentials> {
        let key = role_key(chain, index);
        if !force && let Some(credentials) = self.fresh(&key) {
            return Ok(credentials);
        }
        let _lock = self.cache.lock(&key)?;
        if !force && let Some(credentials) = self.fresh(&key) {
            return Ok(credentials);
        }
        let (parent, needs_code) = if index == 0 {
            self.base(chain, self.renew_chain)?
        } else {
            (self.role(chain, index - 1, self.renew_chain)?, false)
        };
        let step = &chain.roles[index];
        let profile = step.profile.as_deref().unwrap_or(&chain.profile);
        let mut request = AssumeRoleRequest {
            role_arn: step.role_arn.clone(),
            session_name: session_name(
                step,
                chain.mfa_serial.as_deref(),
                self.local_user.as_deref(),
                self.clock.now(),
            ),
            external_id: step.external_id.clone(),
            duration: step.duration,
            serial: None,
            code: None,
        };
        let credentials = match chain.mfa_serial.as_deref() {
            Some(serial) if needs_code => {
                request.serial = Some(serial.to_string());
                let what = format!("AssumeRole {}", step.role_arn);
                self.with_code(chain, serial, &what, |sts, code| {
                    let mut request = request.clone();
                    request.code = Some(code.to_string());
                    sts.assume_role(&parent, &request)
                })?
            }
            _ => self
                .sts
                .assume_role(&parent, &request)
                .map_err(|e| sts_error(e, &format!("AssumeRole {}", step.role_arn), profile))?,
        };
        let credentials = check_issued(credentials, "AssumeRole")?;
        self.cache.write(
            &key,
            &Entry {
                version: ENTRY_VERSION,
                kind: EntryKind::Role,
                profile: profile.to_string(),
                mfa_serial: chain.mfa_serial.clone(),
                role_arn: Some(step.role_arn.clone()),
                credentials: credentials.clone(),
            },
        );
        Ok(credentials)
    }

    /// Gets a code and makes the call; when STS rejects the code, an
    /// interactive run asks again, three tries in all.
    fn with_code<T>(
        &mut self,
        chain: &Chain,
        serial: &str,
        what: &str,
        mut call: impl FnMut(&dyn Sts, &str) -> Result<T, AwsError>,
    ) -> Result<T> {
        let mut attempt = 1;
        loop {
            let request = CodeRequest {
                serial,
                profile: &chain.profile,
                mfa_process: chain.mfa_process.as_deref(),
                attempt,
            };
            let code = self.codes.code(&request)?;
            match call(self.sts, &code) {
                Ok(value) => return Ok(value),
                Err(AwsError::InvalidCode(_))
                    if attempt < CODE_TRIES && self.codes.can_retry(&request) =>
                {
                    self.codes.rejected(CODE_TRIES - attempt);
                    attempt += 1;
                }
                Err(e @ AwsError::InvalidCode(_)) => {
                    return Err(anyhow!(e).context(format!(
                        "MFA failed for {serial} (profile `{}`)",
                        chain.profile
                    )));
                }
                Err(e) => return Err(sts_error(e, what, &chain.profile)),
            }
        }
    }
}

/// Refuses root credentials fetched from a `credential_process` or a key
/// store that cannot be used: a part that is not key text (a
/// configuration error, named without its value), or an `Expiration`
/// already past (they would be handed on as valid).
/// What STS hands back goes to shells, files and every SDK: it must be key
/// text as much as what the files hold (an intercepting endpoint could
/// send anything). Never cached otherwise; the value is never shown.
fn check_issued(credentials: Credentials, action: &str) -> Result<Credentials> {
    match credentials.invalid_part() {
        None => Ok(credentials),
        Some(part) => Err(crate::aws::AwsError::Other(format!(
            "{action} answered with a {part} that is not printable ASCII without spaces; it was not used"
        ))
        .into()),
    }
}

pub fn check_root(root: &Root, credentials: &Credentials, now: i64) -> Result<()> {
    let source = match root {
        Root::Keys { profile, .. } => format!("the keys of profile `{profile}`"),
        Root::Process { profile, .. } => {
            format!("the credential_process of profile `{profile}`")
        }
        Root::Stored { profile, backend } => {
            format!("the {backend} key store entry of profile `{profile}`")
        }
        Root::Sso { profile, .. } => format!("the SSO portal, for profile `{profile}`"),
    };
    if let Some(part) = credentials.invalid_part() {
        bail!(crate::error::UsageError::new(format!(
            "{source} gave credentials whose {part} is not a valid key: keys are printable ASCII without spaces or control characters (the value is not shown)"
        )));
    }
    if let Some(expiration) = credentials.expiration
        && expiration <= now
    {
        bail!(
            "{source} gave credentials that expired at {} ({} ago): it must return credentials that are still valid",
            crate::creds::rfc3339(expiration),
            crate::creds::human_duration(now - expiration)
        );
    }
    Ok(())
}

fn sts_error(error: AwsError, what: &str, profile: &str) -> anyhow::Error {
    anyhow!(error).context(format!("{what} failed for profile `{profile}`"))
}

/// The profiles whose `credential_process` is running, one per line, handed
/// down to each child: a command that runs mfa for the same profile would
/// otherwise call itself for ever (or wait on its own lock).
pub const PROCESS_CHAIN: &str = "MFA_CREDENTIAL_PROCESS_CHAIN";

/// Refuses to resolve a profile whose own `credential_process` is what is
/// running this mfa.
pub fn check_process_loop(env: &crate::context::Env, profile: &str) -> Result<()> {
    if env
        .get(PROCESS_CHAIN)
        .is_some_and(|chain| chain.split('\n').any(|p| p == profile))
    {
        bail!(crate::error::UsageError::new(format!(
            "credential_process loop: profile `{profile}` runs a command that needs profile `{profile}` again"
        )));
    }
    Ok(())
}

/// Runs a `credential_process` command and reads its JSON (the AWS format:
/// `Version` 1, `AccessKeyId`, `SecretAccessKey`, optional `SessionToken`
/// and `Expiration`). What it prints is never shown: it holds secrets.
pub fn run_credential_process(profile: &str, command: &str) -> Result<Credentials> {
    let chain = match std::env::var(PROCESS_CHAIN) {
        Ok(chain) if !chain.is_empty() => format!("{chain}\n{profile}"),
        _ => profile.to_string(),
    };
    let words = shell_words::split(command).with_context(|| {
        format!("the credential_process of profile `{profile}` cannot be split into words")
    })?;
    let Some((program, args)) = words.split_first() else {
        bail!("the credential_process of profile `{profile}` is empty");
    };
    let output = std::process::Command::new(program)
        .args(args)
        .env(PROCESS_CHAIN, chain)
        .stdin(std::process::Stdio::inherit())
        .stderr(std::process::Stdio::inherit())
        .stdout(std::process::Stdio::piped())
        .output()
        .with_context(|| format!("cannot run the credential_process of profile `{profile}`"))?;
    if !output.status.success() {
        bail!(
            "the credential_process of profile `{profile}` failed ({})",
            output.status
        );
    }
    #[derive(serde::Deserialize)]
    struct ProcessOutput {
        #[serde(rename = "Version")]
        version: u32,
        #[serde(flatten)]
        credentials: Credentials,
    }
    let parsed: ProcessOutput = serde_json::from_slice(&output.stdout).map_err(|_| {
        anyhow!("the credential_process of profile `{profile}` did not print credentials JSON")
    })?;
    if parsed.version != 1 {
        bail!(
            "the credential_process of profile `{profile}` printed Version {}, not 1",
            parsed.version
        );
    }
    Ok(parsed.credentials)
}

#[cfg(test)]
mod tests {
    //! The engine with an in-memory STS and a fixed clock: exact, fast, and
    //! independent of the real STS the integration tests use.
    use super::*;
    use crate::code::CodeSource;
    use crate::context::FixedClock;
    use crate::resolve::{Overrides, resolve};
    use std::cell::RefCell;

    #[derive(Default)]
    struct MemorySts {
        calls: RefCell<Vec<String>>,
        reject: RefCell<Vec<String>>,
        /// Issue session tokens holding a control character.
        garbled: std::cell::Cell<bool>,
    }

    impl MemorySts {
        fn issue(&self, what: String, expires: i64) -> Credentials {
            let n = self.calls.borrow().len();
            self.calls.borrow_mut().push(what);
            let garble = if self.garbled.get() { "\u{1}" } else { "" };
            Credentials {
                access_key_id: format!("ASIA{n}"),
                secret_access_key: format!("secret{n}"),
                session_token: Some(format!("token{garble}{n}")),
                expiration: Some(expires),
            }
        }
    }

    impl Sts for MemorySts {
        fn get_session_token(
            &self,
            base: &Credentials,
            serial: Option<&str>,
            code: Option<&str>,
            duration: i64,
        ) -> Result<Credentials, AwsError> {
            if code.is_some_and(|c| self.reject.borrow().iter().any(|r| r == c)) {
                self.calls.borrow_mut().push("rejected".into());
                return Err(AwsError::InvalidCode("bad code".into()));
            }
            Ok(self.issue(
                format!("gst {} {serial:?} {code:?}", base.access_key_id),
                1000 + duration,
            ))
        }

        fn get_caller_identity(
            &self,
            base: &Credentials,
        ) -> Result<crate::sts::Identity, AwsError> {
            Ok(crate::sts::Identity {
                account: "123456789012".into(),
                arn: format!("arn:aws:iam::123456789012:user/{}", base.access_key_id),
                user_id: base.access_key_id.clone(),
            })
        }

        fn assume_role(
            &self,
            base: &Credentials,
            r: &AssumeRoleRequest,
        ) -> Result<Credentials, AwsError> {
            Ok(self.issue(
                format!("assume {} {} {:?}", base.access_key_id, r.role_arn, r.code),
                1000 + r.duration,
            ))
        }
    }

    /// Codes from a list, as a terminal that can be asked again would give them.
    struct ListedCodes(Vec<&'static str>, u32);

    impl CodeSource for ListedCodes {
        fn code(&mut self, _: &CodeRequest) -> Result<String> {
            self.1 += 1;
            Ok(self.0.remove(0).to_string())
        }
        fn can_retry(&self, _: &CodeRequest) -> bool {
            true
        }
        fn rejected(&mut self, _: u32) {}
    }

    fn chain(name: &str) -> Chain {
        let config = "[profile user]\nmfa_serial = SERIAL\n[profile role]\nrole_arn = arn:role\nsource_profile = user\n";
        let credentials = "[user]\naws_access_key_id = AKIAUSER\naws_secret_access_key = s\n";
        let c = crate::config::document::parse(
            config,
            std::path::Path::new("c"),
            crate::config::FileKind::Config,
        )
        .unwrap();
        let k = crate::config::document::parse(
            credentials,
            std::path::Path::new("k"),
            crate::config::FileKind::Credentials,
        )
        .unwrap();
        let profiles = crate::config::Profiles::from_documents(Some(&c), Some(&k));
        resolve(&profiles, name, &Overrides::default()).unwrap()
    }

    fn run(
        cache: &Cache,
        sts: &MemorySts,
        codes: &mut ListedCodes,
        now: i64,
        name: &str,
    ) -> Result<Credentials> {
        run_renewing(cache, sts, codes, now, name, false)
    }

    fn run_renewing(
        cache: &Cache,
        sts: &MemorySts,
        codes: &mut ListedCodes,
        now: i64,
        name: &str,
        renew_chain: bool,
    ) -> Result<Credentials> {
        Engine {
            cache,
            sts,
            codes,
            clock: &FixedClock(now),
            min_ttl: 300,
            refresh: false,
            renew_chain,
            local_user: None,
            fetch_root: &|root| match root {
                Root::Keys { credentials, .. } => Ok(credentials.clone()),
                _ => anyhow::bail!("only keys here"),
            },
        }
        .credentials(&chain(name))
    }

    #[test]
    fn the_mfa_session_is_renewed_only_when_it_nears_its_end() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path().to_path_buf());
        let sts = MemorySts::default();
        let mut codes = ListedCodes(vec!["111111", "222222"], 0);
        run(&cache, &sts, &mut codes, 1000, "role").unwrap();
        // The role (expires at 1000 + 3600) nears its end; the MFA session
        // (1000 + 43200) does not: renewed without a code.
        run(&cache, &sts, &mut codes, 1000 + 3600 - 200, "role").unwrap();
        assert_eq!(codes.1, 1);
        // Past the MFA session: a new code.
        run(&cache, &sts, &mut codes, 1000 + 43200 - 100, "role").unwrap();
        assert_eq!(codes.1, 2);
        let calls = sts.calls.borrow();
        assert_eq!(
            *calls,
            [
                "gst AKIAUSER Some(\"SERIAL\") Some(\"111111\")",
                "assume ASIA0 arn:role None",
                "assume ASIA0 arn:role None",
                "gst AKIAUSER Some(\"SERIAL\") Some(\"222222\")",
                "assume ASIA3 arn:role None",
            ]
        );
    }

    #[test]
    fn renew_chain_replaces_the_fresh_mfa_session_and_the_role_on_it() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path().to_path_buf());
        let sts = MemorySts::default();
        let mut codes = ListedCodes(vec!["111111", "222222"], 0);
        run(&cache, &sts, &mut codes, 1000, "role").unwrap();
        let renewed = run_renewing(&cache, &sts, &mut codes, 1100, "role", true).unwrap();
        assert_eq!(codes.1, 2, "a new code for a new MFA session");
        assert_eq!(
            *sts.calls.borrow(),
            [
                "gst AKIAUSER Some(\"SERIAL\") Some(\"111111\")",
                "assume ASIA0 arn:role None",
                "gst AKIAUSER Some(\"SERIAL\") Some(\"222222\")",
                "assume ASIA2 arn:role None",
            ]
        );
        assert_eq!(renewed.access_key_id, "ASIA3");
        // What the next run finds in the cache.
        let cached = run(&cache, &sts, &mut codes, 1200, "role").unwrap();
        assert_eq!(cached.access_key_id, "ASIA3");
        assert_eq!(sts.calls.borrow().len(), 4);
    }

    #[test]
    fn credentials_sts_issues_that_cannot_be_keys_are_refused_and_not_cached() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path().to_path_buf());
        let sts = MemorySts::default();
        sts.garbled.set(true);
        let mut codes = ListedCodes(vec!["111111"], 0);
        let error = run(&cache, &sts, &mut codes, 1000, "role").unwrap_err();
        let text = format!("{error:#}");
        assert!(
            text.contains("GetSessionToken answered with a session token"),
            "{text}"
        );
        assert!(!text.contains("token\u{1}"), "{text}");
        sts.garbled.set(false);
        let mut codes = ListedCodes(vec!["222222"], 0);
        run(&cache, &sts, &mut codes, 1000, "role").unwrap();
        assert_eq!(codes.1, 1, "nothing of the refused answer was cached");
    }

    #[test]
    fn a_rejected_code_is_asked_again_at_most_three_times() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path().to_path_buf());
        let sts = MemorySts::default();
        sts.reject.borrow_mut().extend([
            "000001".to_string(),
            "000002".to_string(),
            "000003".to_string(),
        ]);
        let mut codes = ListedCodes(vec!["000001", "000002", "123456"], 0);
        run(&cache, &sts, &mut codes, 0, "user").unwrap();
        assert_eq!(codes.1, 3);
        let mut codes = ListedCodes(vec!["000001", "000002", "000003", "123456"], 0);
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path().to_path_buf());
        let error = run(&cache, &sts, &mut codes, 0, "user").unwrap_err();
        assert_eq!(codes.1, 3);
        assert!(format!("{error:#}").contains("not accepted"), "{error:#}");
    }

    #[test]
    fn root_credentials_that_expired_or_cannot_be_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path().to_path_buf());
        let sts = MemorySts::default();
        let chain = Chain {
            profile: "proc".into(),
            root: Root::Process {
                profile: "proc".into(),
                command: "get-keys".into(),
            },
            mfa_serial: None,
            mfa_process: None,
            session_duration: 43_200,
            roles: Vec::new(),
            region: None,
        };
        let run = |credentials: Credentials| {
            let mut codes = ListedCodes(Vec::new(), 0);
            Engine {
                cache: &cache,
                sts: &sts,
                codes: &mut codes,
                clock: &FixedClock(1000),
                min_ttl: 300,
                refresh: false,
                renew_chain: false,
                local_user: None,
                fetch_root: &move |_| Ok(credentials.clone()),
            }
            .credentials(&chain)
        };
        let temporary = |expiration: i64| Credentials {
            access_key_id: "ASIAPROC".into(),
            secret_access_key: "secret".into(),
            session_token: Some("token".into()),
            expiration: Some(expiration),
        };
        let error = run(temporary(1000)).unwrap_err();
        assert_eq!(
            error.to_string(),
            "the credential_process of profile `proc` gave credentials that expired at 1970-01-01T00:16:40Z (0s ago): it must return credentials that are still valid"
        );
        assert!(
            error.downcast_ref::<crate::error::UsageError>().is_none(),
            "exit 1"
        );
        assert_eq!(run(temporary(1001)).unwrap(), temporary(1001));
        let mut control = temporary(5000);
        control.access_key_id = "ASIA\u{1}PROC".into();
        let error = run(control).unwrap_err();
        assert!(
            error.downcast_ref::<crate::error::UsageError>().is_some(),
            "exit 2"
        );
        assert!(!error.to_string().contains("PROC"), "{error}");
        assert!(sts.calls.borrow().is_empty());
    }

    #[test]
    fn cache_keys_are_shared_by_roles_of_one_source_and_stable() {
        let role = chain("role");
        let user = chain("user");
        assert_eq!(base_key(&role), base_key(&user));
        assert_eq!(final_key(&user), Some(base_key(&user)));
        assert_eq!(final_key(&role), Some(role_key(&role, 0)));
        assert_eq!(role_key(&role, 0), role_key(&chain("role"), 0));
    }
}
