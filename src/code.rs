//! Where one-time codes come from (SPEC §2): `--token`, the profile's
//! `mfa_process`, or a question on the controlling terminal — never stdout.

use std::process::{Command, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

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
    /// Whether an SSO sign-in (the device flow: a page and a code shown on
    /// the terminal) may run now, the sign-in's counterpart of asking for
    /// a code: by default when there is a terminal.
    fn may_sign_in(&self) -> bool {
        crate::terminal::available()
    }
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

/// How long `mfa_process` may run before mfa says what it is waiting for:
/// a hardware key waiting for a touch (`ykman oath accounts code`) blocks
/// without a word.
const WAIT_NOTICE_AFTER: Duration = Duration::from_secs(1);

/// Runs `mfa_process` through `sh -c` (as aws-vault does, so pipes work),
/// with the terminal on stdin and stderr for tools that need a touch or a PIN.
fn run_mfa_process(command: &str, profile: &str) -> Result<String> {
    run_mfa_process_telling(command, profile, WAIT_NOTICE_AFTER, |message| {
        crate::terminal::say(message)
    })
}

/// `run_mfa_process`, calling `tell` once with what mfa waits for when the
/// command is still running after `notice_after`.
fn run_mfa_process_telling(
    command: &str,
    profile: &str,
    notice_after: Duration,
    tell: impl FnOnce(&str) + Send,
) -> Result<String> {
    let child = Command::new("/bin/sh")
        .arg("-c")
        .arg(command)
        .stdin(Stdio::inherit())
        .stderr(Stdio::inherit())
        .stdout(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot run the mfa_process of profile `{profile}`"))?;
    let (finished, waiting) = mpsc::channel::<()>();
    let output = std::thread::scope(|scope| {
        scope.spawn(move || {
            // Disconnected (the command is done) before the time is up: quiet.
            if waiting.recv_timeout(notice_after) == Err(RecvTimeoutError::Timeout) {
                tell(&waiting_notice(command, profile));
            }
        });
        let output = child.wait_with_output();
        drop(finished);
        output
    })
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

/// What mfa says while `mfa_process` runs. The command is named by its
/// leading plain words only (`ykman oath accounts code …`): a command line
/// may hold a TOTP seed (`oathtool --totp -b SEED`), which must not show.
fn waiting_notice(command: &str, profile: &str) -> String {
    let plain = |word: &&&str| {
        !word.starts_with('-')
            && word
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b"/._-".contains(&b))
    };
    let words: Vec<&str> = command.split_whitespace().collect();
    let shown: Vec<&str> = words.iter().take_while(plain).take(4).copied().collect();
    let named = match (shown.is_empty(), shown.len() < words.len()) {
        (true, _) => String::new(),
        (false, true) => format!(" ({} …)", shown.join(" ")),
        (false, false) => format!(" ({})", shown.join(" ")),
    };
    format!(
        "Waiting for the mfa_process of profile `{profile}`{named}: touch your security key if it asks for it.\n"
    )
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

    /// Records what `run_mfa_process_telling` says, with the time it took.
    fn run_and_listen(command: &str) -> (Result<String>, Vec<String>, Duration) {
        let told = std::sync::Mutex::new(Vec::new());
        let started = std::time::Instant::now();
        let result = run_mfa_process_telling(command, "prod", Duration::from_millis(1000), |m| {
            told.lock().unwrap().push(m.to_string())
        });
        (result, told.into_inner().unwrap(), started.elapsed())
    }

    #[test]
    fn a_slow_mfa_process_is_announced_once_with_the_command_but_no_secret() {
        let (code, told, took) = run_and_listen("sleep 2; echo 123456 # ykman");
        assert_eq!(code.unwrap(), "123456");
        assert!(took >= Duration::from_secs(2));
        assert_eq!(told.len(), 1, "{told:?}");
        assert!(
            told[0].contains("mfa_process of profile `prod`"),
            "{told:?}"
        );
        // `sleep` is a plain word, `2;` is not: the rest is not shown.
        assert!(told[0].contains("(sleep …)"), "{told:?}");
    }

    #[test]
    fn a_quick_mfa_process_says_nothing() {
        let (code, told, took) = run_and_listen("echo 654321");
        assert_eq!(code.unwrap(), "654321");
        assert!(took < Duration::from_millis(1000));
        assert!(told.is_empty(), "{told:?}");
    }

    #[test]
    fn the_waiting_notice_shows_plain_words_and_never_a_seed() {
        let notice = waiting_notice("ykman oath accounts code -s aws", "p");
        assert!(notice.contains("(ykman oath accounts code …)"), "{notice}");
        let notice = waiting_notice("oathtool --totp -b JBSWY3DPEHPK3PXP", "p");
        assert!(
            notice.contains("(oathtool …)") && !notice.contains("JBSW"),
            "{notice}"
        );
        let notice = waiting_notice("SEED=JBSWY3DPEHPK3PXP oathtool", "p");
        assert!(
            !notice.contains("JBSW") && !notice.contains('('),
            "{notice}"
        );
        let notice = waiting_notice("op read op/aws/totp", "p");
        assert!(notice.contains("(op read op/aws/totp)"), "{notice}");
    }
}
