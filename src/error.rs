//! Errors and exit codes (SPEC §3): 1 for failures, 2 for usage and
//! configuration errors.

use std::fmt;

/// A usage or configuration error: exit status 2. Anything else that goes
/// wrong is a failure: exit status 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError(pub String);

impl UsageError {
    pub fn new(message: impl Into<String>) -> UsageError {
        UsageError(message.into())
    }
}

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// A command that ran a child process and must exit as that child did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChildExit(pub i32);

impl fmt::Display for ChildExit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "child exited with status {}", self.0)
    }
}

impl std::error::Error for ChildExit {}

pub const EXIT_FAILURE: i32 = 1;
pub const EXIT_USAGE: i32 = 2;

/// The exit status for an error, by its kind.
pub fn exit_code(error: &anyhow::Error) -> i32 {
    if let Some(child) = error.downcast_ref::<ChildExit>() {
        child.0
    } else if error.downcast_ref::<UsageError>().is_some() {
        EXIT_USAGE
    } else {
        EXIT_FAILURE
    }
}
