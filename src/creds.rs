//! Credentials and the time arithmetic around them.

use serde::{Deserialize, Serialize};
use std::fmt;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A set of AWS credentials. `Debug` never shows the secret parts.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credentials {
    #[serde(rename = "AccessKeyId")]
    pub access_key_id: String,
    #[serde(rename = "SecretAccessKey")]
    pub secret_access_key: String,
    #[serde(
        rename = "SessionToken",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub session_token: Option<String>,
    /// Unix seconds; `None` for long-term keys.
    #[serde(
        rename = "Expiration",
        default,
        skip_serializing_if = "Option::is_none",
        with = "rfc3339_option"
    )]
    pub expiration: Option<i64>,
}

/// Whether `text` can be an access key id, a secret access key or a
/// session token: printable ASCII without spaces, as every AWS key is. The
/// SDK puts the id and the token in HTTP headers and panics on a control
/// character, so nothing else may reach it.
pub fn is_key_text(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_graphic())
}

impl Credentials {
    /// The name of the first part that is not valid key text (see
    /// [`is_key_text`]), for a message that must not show the value.
    pub fn invalid_part(&self) -> Option<&'static str> {
        if !is_key_text(&self.access_key_id) {
            Some("access key id")
        } else if !is_key_text(&self.secret_access_key) {
            Some("secret access key")
        } else if self
            .session_token
            .as_deref()
            .is_some_and(|t| !is_key_text(t))
        {
            Some("session token")
        } else {
            None
        }
    }

    /// Long-term keys: no session token. Only these can call GetSessionToken.
    pub fn is_long_term(&self) -> bool {
        self.session_token.is_none()
    }

    /// Whether these credentials still have more than `min_ttl` seconds.
    pub fn is_fresh(&self, now: i64, min_ttl: i64) -> bool {
        match self.expiration {
            Some(expiration) => expiration - now > min_ttl,
            None => true,
        }
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"********")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "********"),
            )
            .field("expiration", &self.expiration.map(rfc3339))
            .finish()
    }
}

/// RFC 3339 in UTC with a `Z`, to the second: `2026-11-22T18:04:05Z`.
pub fn rfc3339(unix: i64) -> String {
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| unix.to_string())
}

pub fn parse_rfc3339(text: &str) -> Option<i64> {
    OffsetDateTime::parse(text, &Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp())
}

/// `42m`, `3h05m`, `50s`: time left, as a prompt shows it.
pub fn human_duration(seconds: i64) -> String {
    let seconds = seconds.max(0);
    if seconds < 60 {
        format!("{seconds}s")
    } else if seconds < 3600 {
        format!("{}m", seconds / 60)
    } else {
        format!("{}h{:02}m", seconds / 3600, (seconds % 3600) / 60)
    }
}

mod rfc3339_option {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(unix) => s.serialize_str(&super::rfc3339(*unix)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        let text: Option<String> = Option::deserialize(d)?;
        match text {
            None => Ok(None),
            Some(text) => super::parse_rfc3339(&text)
                .map(Some)
                .ok_or_else(|| serde::de::Error::custom("Expiration is not an RFC 3339 time")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_rfc3339_utc_to_the_second() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(parse_rfc3339("2026-11-22T18:04:05Z"), Some(1795370645));
        assert_eq!(parse_rfc3339("2026-11-22T19:04:05+01:00"), Some(1795370645));
        assert_eq!(rfc3339(1795370645), "2026-11-22T18:04:05Z");
    }

    #[test]
    fn durations_read_like_a_prompt() {
        assert_eq!(human_duration(42 * 60 + 10), "42m");
        assert_eq!(human_duration(59), "59s");
        assert_eq!(human_duration(3 * 3600 + 5 * 60), "3h05m");
        assert_eq!(human_duration(-5), "0s");
    }

    #[test]
    fn debug_hides_secrets() {
        let c = Credentials {
            access_key_id: "AKIAEXAMPLE".into(),
            secret_access_key: "very-secret".into(),
            session_token: Some("token-secret".into()),
            expiration: Some(0),
        };
        let shown = format!("{c:?}");
        assert!(!shown.contains("very-secret") && !shown.contains("token-secret"));
        assert!(shown.contains("AKIAEXAMPLE"));
    }

    #[test]
    fn keys_are_printable_ascii_without_spaces() {
        let mut c = Credentials {
            access_key_id: "AKIAEXAMPLE".into(),
            secret_access_key: "wJalr/K7+MDENG=".into(),
            session_token: Some("IQoJb3JpZ2luX2VjE//////////wEaCXVz".into()),
            expiration: None,
        };
        assert_eq!(c.invalid_part(), None);
        c.access_key_id = "AKIA\u{1}X".into();
        assert_eq!(c.invalid_part(), Some("access key id"));
        c.access_key_id = "AKIAX".into();
        for bad in ["with space", "tab\there", "caf\u{e9}", "nl\n", "\u{7f}", ""] {
            c.secret_access_key = bad.into();
            assert_eq!(c.invalid_part(), Some("secret access key"), "{bad:?}");
        }
        c.secret_access_key = "s".into();
        c.session_token = Some("t\r".into());
        assert_eq!(c.invalid_part(), Some("session token"));
    }

    #[test]
    fn freshness_respects_the_minimum_time_to_live() {
        let c = Credentials {
            access_key_id: "A".into(),
            secret_access_key: "S".into(),
            session_token: None,
            expiration: Some(1000),
        };
        assert!(c.is_fresh(600, 300));
        assert!(!c.is_fresh(700, 300));
    }
}
