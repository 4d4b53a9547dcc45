//! The AWS CLI's SSO token cache (`~/.aws/sso/cache/*.json`), read and
//! written in the CLI's own format so that `aws sso login` and mfa share
//! one sign-in: the token file is named by the SHA-1 of the session name
//! (of the start URL for a legacy profile), the client registration by the
//! SHA-1 of botocore's registration key. Pure but for [`read`] and
//! [`write`]; what to do with a token is decided by [`plan`] with the time
//! passed in.

use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};
use sha1::{Digest, Sha1};

use super::SsoProfile;

/// botocore refreshes a token that has less than this left (15 minutes):
/// mfa does the same, so neither tool hands out a token about to end.
pub const REFRESH_WINDOW: i64 = 15 * 60;
/// A token with less than this left is not sent at all.
pub const MIN_USABLE: i64 = 60;
/// A token file larger than this is not a token file.
const MAX_BYTES: u64 = 1 << 20;

/// `~/.aws/sso/cache`, where the AWS CLI keeps SSO tokens.
pub fn cache_dir(env: &crate::context::Env) -> PathBuf {
    env.home().join(".aws").join("sso").join("cache")
}

fn sha1_hex(text: &str) -> String {
    Sha1::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The token file's name: botocore's `SSOTokenLoader` key.
pub fn token_file_name(sso: &SsoProfile) -> String {
    let key = sso.session.as_deref().unwrap_or(&sso.start_url);
    format!("{}.json", sha1_hex(key))
}

/// The client registration's file name: the SHA-1 of the JSON the AWS CLI
/// v2 builds (`_registration_cache_key`: keys sorted, Python's separators,
/// `null` for what is not set).
pub fn registration_file_name(sso: &SsoProfile) -> String {
    let null_or = |text: Option<String>| text.unwrap_or_else(|| "null".to_string());
    let scopes = sso.scopes.as_ref().map(|scopes| {
        let quoted: Vec<String> = scopes.iter().map(|s| python_json(s)).collect();
        format!("[{}]", quoted.join(", "))
    });
    let text = format!(
        "{{\"region\": {}, \"scopes\": {}, \"session_name\": {}, \"startUrl\": {}, \"tool\": \"botocore\"}}",
        python_json(&sso.region),
        null_or(scopes),
        null_or(sso.session.as_deref().map(python_json)),
        python_json(&sso.start_url)
    );
    format!("{}.json", sha1_hex(&text))
}

/// A string as Python's `json.dumps` writes it (non-ASCII escaped).
fn python_json(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
    }
    out.push('"');
    out
}

/// A token file's fields. Every field is kept as read, so that a rewrite
/// changes only what a refresh or sign-in changes. `Debug` shows the
/// field names only: the values hold the tokens and the client secret.
#[derive(Clone, PartialEq, Default)]
pub struct Token {
    pub fields: Map<String, Value>,
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.fields.keys()).finish()
    }
}

impl Token {
    fn text(&self, key: &str) -> Option<&str> {
        self.fields
            .get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    }

    /// The access token, if it can be sent (it goes into an HTTP header:
    /// printable ASCII only; anything else counts as no token).
    pub fn access_token(&self) -> Option<&str> {
        self.text("accessToken")
            .filter(|t| crate::creds::is_key_text(t))
    }

    /// `expiresAt` as Unix seconds.
    pub fn expires_at(&self) -> Option<i64> {
        self.text("expiresAt").and_then(parse_time)
    }

    pub fn refresh_token(&self) -> Option<&str> {
        self.text("refreshToken")
    }

    /// The client registration stored beside the token (as botocore stores
    /// it), if it is whole.
    pub fn registration(&self) -> Option<Registration> {
        Some(Registration {
            client_id: self.text("clientId")?.to_string(),
            client_secret: self.text("clientSecret")?.to_string(),
            expires_at: self.text("registrationExpiresAt").and_then(parse_time)?,
        })
    }

    /// The token after a refresh or sign-in: the new access token and its
    /// end, the new refresh token if one came, the registration that got
    /// it; every other field as it was.
    pub fn renewed(
        &self,
        sso: &SsoProfile,
        grant: &Grant,
        registration: &Registration,
        now: i64,
    ) -> Token {
        let mut fields = self.fields.clone();
        let mut set = |key: &str, value: String| {
            fields.insert(key.to_string(), Value::String(value));
        };
        set("startUrl", sso.start_url.clone());
        set("region", sso.region.clone());
        set("accessToken", grant.access_token.clone());
        set("expiresAt", format_time(now + grant.expires_in));
        set("clientId", registration.client_id.clone());
        set("clientSecret", registration.client_secret.clone());
        set(
            "registrationExpiresAt",
            format_time(registration.expires_at),
        );
        if let Some(refresh) = &grant.refresh_token {
            set("refreshToken", refresh.clone());
        }
        Token { fields }
    }
}

/// A client registration (RegisterClient), good until `expires_at`.
#[derive(Clone, PartialEq, Eq)]
pub struct Registration {
    pub client_id: String,
    pub client_secret: String,
    pub expires_at: i64,
}

impl std::fmt::Debug for Registration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registration")
            .field("client_id", &self.client_id)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

impl Registration {
    /// As botocore caches it: `clientId`, `clientSecret`, `expiresAt`,
    /// `scopes` when there are any.
    pub fn to_json(&self, scopes: &[String]) -> Value {
        let mut fields = Map::new();
        fields.insert("clientId".into(), self.client_id.clone().into());
        fields.insert("clientSecret".into(), self.client_secret.clone().into());
        fields.insert("expiresAt".into(), format_time(self.expires_at).into());
        if !scopes.is_empty() {
            fields.insert("scopes".into(), scopes.to_vec().into());
        }
        Value::Object(fields)
    }

    pub fn from_json(value: &Value) -> Option<Registration> {
        Some(Registration {
            client_id: value.get("clientId")?.as_str()?.to_string(),
            client_secret: value.get("clientSecret")?.as_str()?.to_string(),
            expires_at: parse_time(value.get("expiresAt")?.as_str()?)?,
        })
    }

    /// Usable for a sign-in that may take up to `margin` seconds.
    pub fn is_valid(&self, now: i64, margin: i64) -> bool {
        self.expires_at.saturating_sub(now) > margin
    }
}

/// What CreateToken gave.
#[derive(Clone, PartialEq, Eq)]
pub struct Grant {
    pub access_token: String,
    pub expires_in: i64,
    pub refresh_token: Option<String>,
}

impl std::fmt::Debug for Grant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Grant")
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

/// What to do with the cached token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Send it.
    Use,
    /// Refresh it first; if that fails, `fallback`.
    Refresh { fallback: Box<Plan> },
    /// No usable token: sign in (device authorization).
    SignIn,
}

/// The decision botocore makes, with the time passed in: a token with
/// more than [`REFRESH_WINDOW`] left is used; one with less is refreshed
/// when it can be (a refresh token and a registration still valid), and
/// used while it still has [`MIN_USABLE`] left; otherwise a sign-in.
pub fn plan(token: Option<&Token>, now: i64) -> Plan {
    let Some(token) = token else {
        return Plan::SignIn;
    };
    let left = match (token.access_token(), token.expires_at()) {
        (Some(_), Some(expires_at)) => expires_at - now,
        _ => return Plan::SignIn,
    };
    if left >= REFRESH_WINDOW {
        return Plan::Use;
    }
    let otherwise = if left > MIN_USABLE {
        Plan::Use
    } else {
        Plan::SignIn
    };
    if can_refresh(token, now) {
        Plan::Refresh {
            fallback: Box::new(otherwise),
        }
    } else {
        otherwise
    }
}

/// Whether the token has what a refresh needs: a refresh token, and the
/// client registration that got it, still valid.
pub fn can_refresh(token: &Token, now: i64) -> bool {
    token.refresh_token().is_some() && token.registration().is_some_and(|r| r.is_valid(now, 0))
}

/// When a sign-in will next be needed: the end of a token that cannot be
/// refreshed, else the end of the registration its refreshes need.
pub fn sign_in_ends_at(token: &Token, now: i64) -> Option<i64> {
    if can_refresh(token, now) {
        token.registration().map(|r| r.expires_at)
    } else {
        token.expires_at()
    }
}

/// `expiresAt` as the CLI writes it (`2026-01-01T00:00:00Z`), and as older
/// versions did (`2026-01-01T00:00:00UTC`, `+00:00`).
pub fn parse_time(text: &str) -> Option<i64> {
    let text = text.trim();
    let normalised = match text.strip_suffix("UTC") {
        Some(stem) => format!("{stem}Z"),
        None => text.to_string(),
    };
    crate::creds::parse_rfc3339(&normalised)
}

/// `2026-01-01T00:00:00Z`, botocore's `_serialize_utc_timestamp`.
pub fn format_time(unix: i64) -> String {
    crate::creds::rfc3339(unix)
}

/// Reads a JSON object from a cache file: `None` when missing, damaged,
/// or not the user's own (a file planted by someone else is not trusted).
/// Links are not followed.
pub fn read_object(path: &Path) -> Option<Map<String, Value>> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
        .ok()?;
    let meta = file.metadata().ok()?;
    if !meta.is_file() || crate::files::check_owner(&meta).is_err() {
        return None;
    }
    let mut text = String::new();
    file.take(MAX_BYTES).read_to_string(&mut text).ok()?;
    match serde_json::from_str(&text).ok()? {
        Value::Object(fields) => Some(fields),
        _ => None,
    }
}

/// The cached token, if any.
pub fn read(dir: &Path, sso: &SsoProfile) -> Option<Token> {
    read_object(&dir.join(token_file_name(sso))).map(|fields| Token { fields })
}

/// Writes a cache file as the CLI does, but atomically and 0600 (a new
/// directory 0700), replacing (never following) a link.
pub fn write_object(dir: &Path, name: &str, value: &Value) -> std::io::Result<()> {
    // An existing directory is left as the CLI made it (0755 is botocore's;
    // the files in it are 0600), but never a link or another user's.
    if !crate::files::check_own_dir(dir)? {
        crate::files::private_dir(dir)?;
    }
    let text = serde_json::to_string(value).map_err(std::io::Error::other)?;
    crate::files::write_private(&dir.join(name), text.as_bytes())
}

pub fn write(dir: &Path, sso: &SsoProfile, token: &Token) -> std::io::Result<()> {
    write_object(
        dir,
        &token_file_name(sso),
        &Value::Object(token.fields.clone()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sso(session: Option<&str>) -> SsoProfile {
        SsoProfile {
            session: session.map(str::to_string),
            start_url: "https://d-123.awsapps.com/start".into(),
            region: "eu-west-1".into(),
            account_id: "111122223333".into(),
            role_name: "Admin".into(),
            scopes: None,
        }
    }

    fn token(json: &str) -> Token {
        match serde_json::from_str(json).unwrap() {
            Value::Object(fields) => Token { fields },
            _ => panic!("not an object"),
        }
    }

    #[test]
    fn file_names_are_botocores() {
        // hashlib.sha1(b"my-sso").hexdigest(), and of the start URL.
        assert_eq!(
            token_file_name(&sso(Some("my-sso"))),
            "0ad374308c5a4e22f723adf10145eafad7c4031c.json"
        );
        assert_eq!(
            token_file_name(&sso(None)),
            format!("{}.json", sha1_hex("https://d-123.awsapps.com/start"))
        );
        // hashlib.sha1(json.dumps({"tool": "botocore", "startUrl": …,
        // "region": …, "scopes": …, "session_name": …}, sort_keys=True)).
        let mut with_scopes = sso(Some("my-sso"));
        with_scopes.scopes = Some(vec!["sso:account:access".into(), "x".into()]);
        assert_eq!(
            registration_file_name(&with_scopes),
            "d61a2b7b2b639a995c4a31ac27811b39c689972c.json"
        );
        assert_eq!(
            registration_file_name(&sso(None)),
            "1aca0563987e138b5bf255b1536407453c170a6f.json"
        );
        assert_eq!(python_json("caf\u{e9} \"x\""), "\"caf\\u00e9 \\\"x\\\"\"");
    }

    #[test]
    fn a_sign_in_is_next_needed_at_the_tokens_end_or_the_registrations() {
        let now = 1_000_000;
        let plain = token(&format!(
            r#"{{"accessToken":"a","expiresAt":"{}"}}"#,
            format_time(now + 3600)
        ));
        assert_eq!(sign_in_ends_at(&plain, now), Some(now + 3600));
        let refreshable = |registration: i64| {
            token(&format!(
                r#"{{"accessToken":"a","expiresAt":"{}","refreshToken":"r","clientId":"c","clientSecret":"s","registrationExpiresAt":"{}"}}"#,
                format_time(now + 3600),
                format_time(now + registration)
            ))
        };
        assert_eq!(
            sign_in_ends_at(&refreshable(90 * 86_400), now),
            Some(now + 90 * 86_400)
        );
        // A registration that has ended refreshes nothing.
        assert_eq!(sign_in_ends_at(&refreshable(-1), now), Some(now + 3600));
        assert_eq!(sign_in_ends_at(&Token::default(), now), None);
    }

    #[test]
    fn the_plan_follows_the_time_left_and_what_can_refresh() {
        let now = 1_000_000;
        let at = |left: i64| format_time(now + left);
        let plain = |left| {
            token(&format!(
                r#"{{"accessToken":"a","expiresAt":"{}"}}"#,
                at(left)
            ))
        };
        assert_eq!(plan(None, now), Plan::SignIn);
        assert_eq!(plan(Some(&plain(REFRESH_WINDOW)), now), Plan::Use);
        assert_eq!(plan(Some(&plain(REFRESH_WINDOW - 1)), now), Plan::Use);
        assert_eq!(plan(Some(&plain(MIN_USABLE)), now), Plan::SignIn);
        assert_eq!(plan(Some(&plain(-5)), now), Plan::SignIn);
        let refreshable = |left, registration: i64| {
            token(&format!(
                r#"{{"accessToken":"a","expiresAt":"{}","refreshToken":"r","clientId":"c","clientSecret":"s","registrationExpiresAt":"{}"}}"#,
                at(left),
                at(registration)
            ))
        };
        assert_eq!(plan(Some(&refreshable(3600, 10)), now), Plan::Use);
        assert_eq!(
            plan(Some(&refreshable(-5, 10)), now),
            Plan::Refresh {
                fallback: Box::new(Plan::SignIn)
            }
        );
        assert_eq!(
            plan(Some(&refreshable(300, 10)), now),
            Plan::Refresh {
                fallback: Box::new(Plan::Use)
            }
        );
        // The registration has ended: no refresh.
        assert_eq!(plan(Some(&refreshable(-5, -1)), now), Plan::SignIn);
        assert_eq!(
            plan(Some(&token(r#"{"expiresAt":"x"}"#)), now),
            Plan::SignIn
        );
        // A token that cannot go into a header is no token.
        let garbled = token(&format!(
            r#"{{"accessToken":"a\nb","expiresAt":"{}"}}"#,
            at(3600)
        ));
        assert_eq!(plan(Some(&garbled), now), Plan::SignIn);
    }

    #[test]
    fn a_renewed_token_keeps_the_fields_it_does_not_change() {
        let old = token(
            r#"{"startUrl":"https://d-123.awsapps.com/start","region":"eu-west-1","accessToken":"old","expiresAt":"2020-01-01T00:00:00UTC","refreshToken":"r1","clientId":"c","clientSecret":"s","registrationExpiresAt":"2030-01-01T00:00:00Z","custom":7}"#,
        );
        assert_eq!(old.expires_at(), Some(1_577_836_800));
        let registration = old.registration().unwrap();
        let grant = Grant {
            access_token: "new".into(),
            expires_in: 3600,
            refresh_token: None,
        };
        let new = old.renewed(&sso(Some("s")), &grant, &registration, 1_700_000_000);
        assert_eq!(new.access_token(), Some("new"));
        assert_eq!(new.refresh_token(), Some("r1"));
        assert_eq!(new.expires_at(), Some(1_700_003_600));
        assert_eq!(new.fields["expiresAt"], "2023-11-14T23:13:20Z");
        assert_eq!(new.fields["custom"], 7);
        assert_eq!(new.fields["registrationExpiresAt"], "2030-01-01T00:00:00Z");
        assert!(!format!("{grant:?}").contains("new"));
        assert!(!format!("{new:?}").contains("r1"), "{new:?}");
        assert!(!format!("{registration:?}").contains("\"s\""));
    }
}
