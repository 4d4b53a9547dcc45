//! Where one-time codes come from (SPEC §2): `--token`, the profile's
//! `mfa_process`, or a question on the controlling terminal — never stdout.

use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

use crate::error::UsageError;

pub fn is_valid_code(code: &str) -> bool {
    code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit())
}

/// What the engine needs to ask for a code.
pub struct CodeRequest<'a> {
    pub serial: &'a str,
    pub profile: &'a str,
    pub mfa_process: Option<&'a str>,
    /// 1 for the first try; more after STS rejected a code.
    pub attempt: u32,
}

pub trait CodeSource {
    fn code(&mut self, request: &CodeRequest) -> Result<String>;
    /// Whether a rejected code can be asked for again.
    fn can_retry(&self, request: &CodeRequest) -> bool;
    /// Tells the person who typed the code that STS refused it.
    fn rejected(&mut self, attempts_left: u32);
}

/// The real sources, in order: `--token`, `mfa_process`, the terminal.
pub struct Codes {
    pub token: Option<String>,
}

impl CodeSource for Codes {
    fn code(&mut self, request: &CodeRequest) -> Result<String> {
        if let Some(token) = &self.token {
            if !is_valid_code(token) {
                bail!(UsageError::new(
                    "--token must be the six digits your MFA device shows"
                ));
            }
            return Ok(token.clone());
        }
        if let Some(command) = request.mfa_process {
            return run_mfa_process(command, request.profile);
        }
        ask_terminal(request)
    }

    fn can_retry(&self, request: &CodeRequest) -> bool {
        self.token.is_none() && request.mfa_process.is_none()
    }

    fn rejected(&mut self, attempts_left: u32) {
        crate::terminal::say(&format!(
            "That code was not accepted; {attempts_left} more {}.\n",
            if attempts_left == 1 { "try" } else { "tries" }
        ));
    }
}

/// Runs `mfa_process` through `sh -c` (as aws-vault does, so pipes work),
/// with the terminal on stdin and stderr for tools that need a touch or a PIN.
fn run_mfa_process(command: &str, profile: &str) -> Result<String> {
    let output = Command::new("/bin/sh")
        .arg("-c")
        .arg(command)
        .stdin(Stdio::inherit())
        .stderr(Stdio::inherit())
        .stdout(Stdio::piped())
        .output()
        .with_context(|| format!("cannot run the mfa_process of profile `{profile}`"))?;
    if !output.status.success() {
        bail!(
            "the mfa_process of profile `{profile}` failed ({})",
            output.status
        );
    }
    let code = String::from_utf8_lossy(&output.stdout).trim().to_string();
    if !is_valid_code(&code) {
        // What it printed is not shown: it might be something secret.
        bail!("the mfa_process of profile `{profile}` did not print a six-digit code");
    }
    Ok(code)
}

fn ask_terminal(request: &CodeRequest) -> Result<String> {
    let tty = crate::terminal::open().map_err(|_| {
        anyhow::anyhow!(
            "no terminal to ask for the MFA code of {} (profile `{}`): pass --token CODE, or set mfa_process in the profile to a command that prints one",
            request.serial,
            request.profile
        )
    })?;
    crate::terminal::ask_code(
        &tty,
        &format!("MFA code for {} ({}): ", request.serial, request.profile),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_is_exactly_six_ascii_digits() {
        assert!(is_valid_code("012345"));
        for bad in ["12345", "1234567", "12345a", "", "１２３４５６", " 12345"] {
            assert!(!is_valid_code(bad), "{bad:?}");
        }
    }

    #[test]
    fn a_bad_token_is_a_usage_error() {
        let mut codes = Codes {
            token: Some("12ab56".into()),
        };
        let request = CodeRequest {
            serial: "s",
            profile: "p",
            mfa_process: None,
            attempt: 1,
        };
        let error = codes.code(&request).unwrap_err();
        assert!(error.downcast_ref::<UsageError>().is_some());
        assert!(!codes.can_retry(&request));
    }

    #[test]
    fn mfa_process_output_is_trimmed_and_checked() {
        let request = |cmd: &'static str| CodeRequest {
            serial: "s",
            profile: "p",
            mfa_process: Some(cmd),
            attempt: 1,
        };
        let mut codes = Codes { token: None };
        assert_eq!(codes.code(&request("echo ' 123456 '")).unwrap(), "123456");
        assert!(codes.code(&request("echo 12345")).is_err());
        assert!(codes.code(&request("exit 3")).is_err());
    }
}
