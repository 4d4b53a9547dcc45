//! The prompt segment: profile and time left, from the environment alone.
//! The hook scripts compute the same text in shell arithmetic; this is the
//! reference they are tested against, and `mfa prompt` for frameworks.

use crate::context::Env;
use crate::creds::{human_duration, rfc3339};

/// Default for `MFA_WARN_SECONDS`.
pub const DEFAULT_WARN_SECONDS: i64 = 600;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Ok,
    Warn,
    Expired,
}

impl State {
    pub fn name(self) -> &'static str {
        match self {
            State::Ok => "ok",
            State::Warn => "warn",
            State::Expired => "expired",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub profile: String,
    pub expires_at: i64,
    pub seconds_left: i64,
    pub state: State,
}

impl Segment {
    /// `42m`, with a `!` inside the warning time, or `expired`: as
    /// `MFA_PROMPT` shows it after the profile.
    pub fn left(&self) -> String {
        match self.state {
            State::Ok => human_duration(self.seconds_left),
            State::Warn => format!("{}!", human_duration(self.seconds_left)),
            State::Expired => "expired".to_string(),
        }
    }

    /// The value of `MFA_PROMPT`: `prod 42m`, `prod 8m!`, `prod expired`.
    pub fn text(&self) -> String {
        format!("{} {}", self.profile, self.left())
    }

    /// The template with each placeholder filled in, in one pass: a value
    /// that holds `{left}` (MFA_PROFILE can hold anything) stays as it is.
    pub fn format(&self, template: &str) -> String {
        let mut out = String::with_capacity(template.len() + self.profile.len());
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            rest = &rest[open..];
            let (value, placeholder_len) = if rest.starts_with("{profile}") {
                (self.profile.clone(), "{profile}".len())
            } else if rest.starts_with("{left}") {
                (self.left(), "{left}".len())
            } else if rest.starts_with("{state}") {
                (self.state.name().to_string(), "{state}".len())
            } else if rest.starts_with("{expires_at}") {
                (rfc3339(self.expires_at), "{expires_at}".len())
            } else {
                ("{".to_string(), 1)
            };
            out.push_str(&value);
            rest = &rest[placeholder_len..];
        }
        out.push_str(rest);
        out
    }
}

/// The session of the shell whose environment this is, if it has one.
pub fn segment(env: &Env, now: i64) -> Option<Segment> {
    let profile = env.get("MFA_PROFILE")?;
    let expires_at: i64 = env.get("MFA_EXPIRES_AT")?.trim().parse().ok()?;
    let warn = env
        .get("MFA_WARN_SECONDS")
        .and_then(|w| w.trim().parse::<i64>().ok())
        .unwrap_or(DEFAULT_WARN_SECONDS);
    let seconds_left = expires_at.saturating_sub(now);
    let state = if seconds_left <= 0 {
        State::Expired
    } else if seconds_left <= warn {
        State::Warn
    } else {
        State::Ok
    };
    Some(Segment {
        profile: profile.to_string(),
        expires_at,
        seconds_left,
        state,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(expires: &str) -> Env {
        Env::from_pairs([("MFA_PROFILE", "prod"), ("MFA_EXPIRES_AT", expires)])
    }

    #[test]
    fn the_segment_counts_down_warns_and_expires() {
        let text = |expires: &str, now| segment(&env(expires), now).map(|s| s.text());
        assert_eq!(text("10000", 10000 - 42 * 60 - 5), Some("prod 42m".into()));
        assert_eq!(text("10000", 10000 - 600), Some("prod 10m!".into()));
        assert_eq!(text("10000", 10000 - 59), Some("prod 59s!".into()));
        assert_eq!(text("10000", 10000), Some("prod expired".into()));
        assert_eq!(
            text("10000", 10000 - 2 * 3600 - 60),
            Some("prod 2h01m".into())
        );
        assert_eq!(text("soon", 0), None);
        assert_eq!(segment(&Env::default(), 0), None);
    }

    #[test]
    fn formats_fill_every_placeholder() {
        let s = segment(&env("600"), 0).unwrap();
        assert_eq!(
            s.format("[{profile}|{left}|{state}|{expires_at}]"),
            "[prod|10m!|warn|1970-01-01T00:10:00Z]"
        );
        assert_eq!(s.format("{{profile}} {"), "{prod} {");
        let odd = Segment {
            profile: "{left}{state}".into(),
            ..s
        };
        assert_eq!(odd.format("<{profile}>"), "<{left}{state}>");
    }
}
