//! The world outside the pure core, passed in: environment and clock.

use std::collections::HashMap;
use std::path::PathBuf;

/// A snapshot of the environment variables (those that are valid UTF-8).
#[derive(Debug, Clone, Default)]
pub struct Env {
    vars: HashMap<String, String>,
}

impl Env {
    pub fn from_process() -> Env {
        Env {
            vars: std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
                .collect(),
        }
    }

    pub fn from_pairs<I, K, V>(pairs: I) -> Env
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        Env {
            vars: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }

    /// A variable that is set and not empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    pub fn home(&self) -> PathBuf {
        self.get("HOME")
            .map(PathBuf::from)
            .or_else(std::env::home_dir)
            .unwrap_or_else(|| PathBuf::from("/"))
    }

    /// A path from a variable, with a leading `~/` expanded as the SDKs do.
    pub fn path_var(&self, name: &str) -> Option<PathBuf> {
        let value = self.get(name)?;
        Some(match value.strip_prefix("~/") {
            Some(rest) => self.home().join(rest),
            None if value == "~" => self.home(),
            None => PathBuf::from(value),
        })
    }

    /// An integer setting such as `MFA_MIN_TTL`; unset or empty gives the default.
    pub fn seconds(&self, name: &str, default: i64) -> Result<i64, crate::error::UsageError> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => v
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|n| *n >= 0)
                .ok_or_else(|| {
                    crate::error::UsageError::new(format!(
                        "{name} must be a whole number of seconds, not `{v}`"
                    ))
                }),
        }
    }
}

/// Unix time in seconds. A trait so tests can fix the time.
pub trait Clock {
    fn now(&self) -> i64;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0)
    }
}

/// A clock that always says the same time.
pub struct FixedClock(pub i64);

impl Clock for FixedClock {
    fn now(&self) -> i64 {
        self.0
    }
}
