//! `mfa doctor [--json]` (SPEC §12): checks the set-up and says how to fix
//! each problem, one line per check (`ok`, `warn`, `fail`); exit 1 when any
//! check fails. A check that cannot run says so with `warn`, and nothing
//! waits longer than `MFA_TIMEOUT`.
//!
//! The calling shell's functions are invisible to a child process, so the
//! hook's `mfa` function, when it passes `doctor` on, gives it
//! `MFA_SHELL_HOOK` (the shell's name; not exported, which a child shell
//! without the hook would inherit) and `MFA_COMPLETION_LOADED=1|0` from
//! asking the shell itself (bash
//! `complete -p mfa`, zsh `$_comps[mfa]`, fish `complete -c mfa`;
//! PowerShell cannot be asked).

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Result;
use aws_sdk_sts::config::interceptors::BeforeDeserializationInterceptorContextRef;
use aws_sdk_sts::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_smithy_runtime_api::box_error::BoxError;
use serde::Serialize;

use crate::cache::{Cache, open_to_others};
use crate::cli::JsonArgs;
use crate::config::{FileKind, Profiles};
use crate::context::Env;
use crate::creds::Credentials;
use crate::error::ChildExit;
use crate::paths::display;
use crate::resolve::{self, Overrides};
use crate::shell::Shell;
use crate::startup_file::hook_line;
use crate::sts::{AwsError, sts_region};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Warn,
    Fail,
}

impl Status {
    fn word(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Warn => "warn",
            Status::Fail => "fail",
        }
    }
}

/// One line of the report; `--json` prints these as they are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub check: &'static str,
    pub status: Status,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

fn ok(check: &'static str, message: impl Into<String>) -> Finding {
    Finding {
        check,
        status: Status::Ok,
        message: message.into(),
        fix: None,
    }
}

fn warn(check: &'static str, message: impl Into<String>, fix: impl Into<String>) -> Finding {
    Finding {
        check,
        status: Status::Warn,
        message: message.into(),
        fix: Some(fix.into()),
    }
}

fn fail(check: &'static str, message: impl Into<String>, fix: impl Into<String>) -> Finding {
    Finding {
        check,
        status: Status::Fail,
        message: message.into(),
        fix: Some(fix.into()),
    }
}

pub fn run(args: JsonArgs, env: &Env) -> Result<()> {
    let findings = examine(env);
    if args.json {
        crate::output::print_json(&findings)?;
    } else {
        crate::output::print(&render(&findings))?;
    }
    // The report is the product, failed checks included: exit 1 without
    // a further message.
    if findings.iter().any(|f| f.status == Status::Fail) {
        return Err(ChildExit(crate::error::EXIT_FAILURE).into());
    }
    Ok(())
}

/// Every check, in the order a newcomer would fix things.
fn examine(env: &Env) -> Vec<Finding> {
    let mut findings = Vec::new();
    let profiles = profile_files(env, &mut findings);
    match &profiles {
        Some(profiles) => findings.extend(resolution(profiles, env)),
        None => findings.push(warn(
            "profiles",
            "not checked: a profile file does not parse",
            "fix the file named above, then run `mfa doctor` again",
        )),
    }
    findings.extend(cache(&Cache::from_env(env).dir));
    findings.extend(key_stores(env, profiles.as_ref()));
    let parent = crate::shell::parent_process_name();
    findings.push(hook(env, parent.as_deref()));
    findings.push(completion(env, parent.as_deref()));
    findings.push(binary_on_path(env));
    findings.extend(sts_and_clock(env, profiles.as_ref()));
    findings
}

/// `status  check  message; fix: …`, columns aligned.
pub fn render(findings: &[Finding]) -> String {
    let width = findings.iter().map(|f| f.check.len()).max().unwrap_or(0);
    let mut text = String::new();
    for f in findings {
        let line = format!("{:<4}  {:<width$}  {}", f.status.word(), f.check, f.message);
        text.push_str(&line);
        if let Some(fix) = &f.fix {
            text.push_str("; fix: ");
            text.push_str(fix);
        }
        text.push('\n');
    }
    text
}

// -- profile files ----------------------------------------------------------

/// Both files parse (each failing one named, with its line); the merged
/// profiles when they do.
fn profile_files(env: &Env, findings: &mut Vec<Finding>) -> Option<Profiles> {
    let files = [
        (
            "config-file",
            crate::config::config_path(env),
            FileKind::Config,
        ),
        (
            "credentials-file",
            crate::config::credentials_path(env),
            FileKind::Credentials,
        ),
    ];
    let mut all_parse = true;
    for (check, path, kind) in files {
        let finding = profile_file(check, &path, kind);
        all_parse &= finding.status == Status::Ok;
        findings.push(finding);
    }
    if !all_parse {
        return None;
    }
    match crate::config::load(env) {
        Ok(files) => Some(files.profiles),
        Err(e) => {
            findings.push(fail(
                "config-file",
                e.to_string(),
                "fix the file named, then run `mfa doctor` again",
            ));
            None
        }
    }
}

fn profile_file(check: &'static str, path: &Path, kind: FileKind) -> Finding {
    let shown = display(path);
    let text = match crate::config::read_text(path) {
        Ok(Some(text)) => text,
        Ok(None) => {
            return ok(
                check,
                format!("{shown} does not exist (that is fine: it is optional)"),
            );
        }
        Err(e) => {
            return fail(
                check,
                e.to_string(),
                format!(
                    "make {shown} a readable UTF-8 text file (`chmod 600 {}`)",
                    sh(path)
                ),
            );
        }
    };
    match crate::config::document::parse(&text, path, kind) {
        Ok(_) => ok(check, format!("{shown} parses")),
        Err(e) => fail(
            check,
            e.to_string(),
            format!(
                "edit line {} of {shown}: each line is `[section]`, `key = value`, an indented sub-property, or a comment",
                e.line
            ),
        ),
    }
}

// -- profiles ---------------------------------------------------------------

/// Every profile that is meant to give credentials resolves (SPEC §2):
/// loops, missing keys, missing sources, SSO profiles without their
/// session. Profiles that only hold settings (`[default]` with a region,
/// an `sso_session` with no account and role, for `aws sso login`) are
/// not mfa's to judge.
fn resolution(profiles: &Profiles, env: &Env) -> Vec<Finding> {
    let config = display(&crate::config::config_path(env));
    let mut findings = Vec::new();
    let (mut resolved, mut skipped) = (0, 0);
    for name in profiles.names() {
        let Some(profile) = profiles.get(name) else {
            continue;
        };
        let kind = resolve::kind_with_chain(profile, None);
        let settings_only = match kind {
            "other" => {
                profile.get_nonempty("mfa_serial").is_none()
                    && profile.get_nonempty("source_profile").is_none()
            }
            "sso" => {
                profile.get_nonempty("sso_account_id").is_none()
                    && profile.get_nonempty("sso_role_name").is_none()
            }
            _ => false,
        };
        if settings_only {
            skipped += 1;
            continue;
        }
        match resolve::resolve(profiles, name, &Overrides::default()) {
            Ok(_) => resolved += 1,
            Err(e) => findings.push(fail(
                "profiles",
                format!("profile `{name}` does not resolve: {e}"),
                format!("edit profile `{name}` in {config} (or its keys in the credentials file)"),
            )),
        }
    }
    if findings.is_empty() {
        if resolved == 0 && skipped == 0 {
            findings.push(warn(
                "profiles",
                "there are no profiles",
                "run `mfa setup` to add one",
            ));
        } else {
            let mut message = format!("{resolved} profile(s) resolve");
            if skipped > 0 {
                message.push_str(&format!(
                    " ({skipped} settings-only profile(s) not checked)"
                ));
            }
            findings.push(ok("profiles", message));
        }
    }
    findings
}

/// A path as one word of a shell command the user may paste: quoted,
/// whatever it holds.
fn sh(path: &Path) -> String {
    Shell::Bash.quote(&path.to_string_lossy())
}

// -- cache ------------------------------------------------------------------

/// The cache directory and its files are the user's own and closed to
/// others (the rule `crate::cache` keeps). Looked at, never changed.
fn cache(dir: &Path) -> Vec<Finding> {
    let shown = display(dir);
    let meta = match fs::symlink_metadata(dir) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return vec![ok(
                "cache",
                format!("{shown} does not exist yet (made 0700 on first use)"),
            )];
        }
        Err(e) => {
            return vec![warn(
                "cache",
                format!("cannot look at {shown}: {e}"),
                format!("check {shown}"),
            )];
        }
    };
    if !meta.is_dir() {
        return vec![fail(
            "cache",
            format!("{shown} is not a directory (a symbolic link or a file)"),
            // Only what removing cannot harm: a link or a stray file, never
            // a device (MFA_CACHE_DIR=/dev/null) or anything else.
            if meta.file_type().is_symlink() || meta.is_file() {
                format!("`rm {}`; mfa makes it again, private", sh(dir))
            } else {
                "set MFA_CACHE_DIR to a directory of your own".to_string()
            },
        )];
    }
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    if meta.uid() != me {
        return vec![fail(
            "cache",
            format!("{shown} belongs to another user (uid {})", meta.uid()),
            "set MFA_CACHE_DIR to a directory of your own",
        )];
    }
    let mut findings = Vec::new();
    if open_to_others(meta.mode()) {
        findings.push(fail(
            "cache",
            format!("{shown} is open to others (mode {:o})", meta.mode() & 0o777),
            format!("`chmod 700 {}`", sh(dir)),
        ));
    }
    let exposed: Vec<String> = fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter(|entry| {
                    entry
                        .metadata()
                        .is_ok_and(|m| m.is_file() && (open_to_others(m.mode()) || m.uid() != me))
                })
                .map(|entry| entry.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    if !exposed.is_empty() {
        let mut names = exposed.clone();
        names.sort();
        let shown_names: Vec<String> = names.iter().take(3).cloned().collect();
        let more = if names.len() > 3 { ", …" } else { "" };
        findings.push(fail(
            "cache",
            format!(
                "{} file(s) in {shown} are readable by others or not yours: {}{more}",
                names.len(),
                shown_names.join(", ")
            ),
            format!("`mfa clear --all`, or `chmod 600` the files in {shown}"),
        ));
    }
    if findings.is_empty() {
        findings.push(ok("cache", format!("{shown} and its files are private")));
    }
    findings
}

// -- key stores -------------------------------------------------------------

/// Each key store some profile's keys are in answers, without a prompt:
/// the file store is looked at, never opened (that needs the passphrase);
/// the Secret Service is asked whether it is there.
fn key_stores(env: &Env, profiles: Option<&Profiles>) -> Vec<Finding> {
    let Some(profiles) = profiles else {
        return vec![warn(
            "key-store",
            "not checked: a profile file does not parse",
            "fix the file named above",
        )];
    };
    let mut used: Vec<(&'static str, Vec<&str>)> = Vec::new();
    for name in profiles.names() {
        if let Some(backend) = profiles.get(name).and_then(|p| p.stored_keys) {
            match used.iter_mut().find(|(b, _)| *b == backend) {
                Some((_, names)) => names.push(name),
                None => used.push((backend, vec![name])),
            }
        }
    }
    if used.is_empty() {
        return vec![ok(
            "key-store",
            "no profile keeps its keys in a key store (`mfa migrate PROFILE` moves them there)",
        )];
    }
    used.into_iter()
        .map(|(backend, names)| key_store(env, backend, &names))
        .collect()
}

fn key_store(env: &Env, backend: &'static str, names: &[&str]) -> Finding {
    let whose = format!("the keys of {}", names.join(", "));
    match backend {
        "file" => {
            let dir = crate::keystore::keys_dir(env);
            let exposed = fs::metadata(&dir).is_ok_and(|m| open_to_others(m.mode()))
                || names.iter().any(|name| {
                    let path = dir.join(format!("{}.file", crate::keystore::file_stem(name)));
                    fs::metadata(path).is_ok_and(|m| open_to_others(m.mode()))
                });
            if exposed {
                fail(
                    "key-store",
                    format!("the file store in {} is open to others", display(&dir)),
                    format!("`chmod 700 {0}; chmod 600 {0}/*.file`", sh(&dir)),
                )
            } else if env.get("MFA_FILE_PASSPHRASE").is_some() {
                ok(
                    "key-store",
                    format!("file store: {whose}; passphrase from MFA_FILE_PASSPHRASE"),
                )
            } else if crate::terminal::available() {
                ok(
                    "key-store",
                    format!("file store: {whose}; its passphrase is asked on the terminal"),
                )
            } else {
                warn(
                    "key-store",
                    format!(
                        "file store: {whose}; no terminal to ask its passphrase on, and no MFA_FILE_PASSPHRASE"
                    ),
                    "run mfa from a terminal, or set MFA_FILE_PASSPHRASE where no terminal is",
                )
            }
        }
        "secret-service" => {
            let connect = || {
                crate::keystore::secret_service::SecretService::connect()
                    .map(drop)
                    .map_err(|e| format!("{e:#}"))
            };
            match bounded(call_timeout(env), connect) {
                Some(Ok(())) => ok("key-store", format!("the Secret Service answers ({whose})")),
                Some(Err(e)) => fail(
                    "key-store",
                    format!("the Secret Service holds {whose} but does not answer: {e}"),
                    "start your keyring (gnome-keyring-daemon, KWallet, KeePassXC) in this session",
                ),
                None => warn(
                    "key-store",
                    format!(
                        "the Secret Service (with {whose}) gave no answer within {} s",
                        call_timeout(env).as_secs()
                    ),
                    "check the D-Bus session bus and your keyring",
                ),
            }
        }
        "keychain" if crate::keystore::keychain::AVAILABLE => warn(
            "key-store",
            format!("the Keychain holds {whose}; not opened, as macOS may ask for a password"),
            "none needed if `mfa env` works",
        ),
        other => fail(
            "key-store",
            format!("{whose} are in the {other} store, which this platform does not have"),
            format!("add them here again: `mfa add {}`", names[0]),
        ),
    }
}

/// Runs `work` on its own thread and waits at most `limit` for it.
fn bounded<T: Send + 'static>(
    limit: Duration,
    work: impl FnOnce() -> T + Send + 'static,
) -> Option<T> {
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = sender.send(work());
    });
    receiver.recv_timeout(limit).ok()
}

/// `MFA_TIMEOUT` seconds, as the AWS calls read it.
fn call_timeout(env: &Env) -> Duration {
    crate::aws::call_timeout(env.get("MFA_TIMEOUT"))
}

// -- the calling shell --------------------------------------------------------

/// Where a shell's start-up lines go, and the hook and completion lines.
/// The start-up file `mfa setup` would add the lines to (ZDOTDIR and
/// XDG_CONFIG_HOME honoured); PowerShell's is `$PROFILE`.
fn startup_file(shell: Shell, env: &Env) -> String {
    crate::startup_file::path(shell, env)
        .map(|path| display(&path))
        .unwrap_or_else(|| "$PROFILE".to_string())
}

fn completion_line(shell: Shell) -> String {
    let line = crate::startup_file::completion_line(shell);
    match shell {
        Shell::Zsh => format!("{line} (after compinit)"),
        _ => line.to_string(),
    }
}

/// The shell mfa was started from, as `mfa env` guesses it.
fn calling_shell(env: &Env, parent: Option<&str>) -> Shell {
    Shell::detect(env, parent).unwrap_or(Shell::Bash)
}

/// `MFA_SHELL_HOOK`, which the hook's `mfa` function gives doctor, names the
/// shell it was loaded in.
fn hook(env: &Env, parent: Option<&str>) -> Finding {
    let Some(value) = env.get("MFA_SHELL_HOOK") else {
        let shell = calling_shell(env, parent);
        return warn(
            "hook",
            format!(
                "the mfa hook is not loaded in this shell ({}): no `mfa use`, no prompt countdown, no renewal",
                shell.name()
            ),
            format!(
                "add `{}` to {}, then start a new shell",
                hook_line(shell),
                startup_file(shell, env)
            ),
        );
    };
    let Some(hooked) = Shell::from_name(value) else {
        return warn(
            "hook",
            format!("MFA_SHELL_HOOK is `{value}`, which is no shell mfa knows"),
            "load the hook with `mfa init SHELL`",
        );
    };
    // PowerShell's hook sets it for its process, so a shell started from
    // one inherits it without having the hook.
    if let Some(here) = parent.and_then(Shell::from_name)
        && here != hooked
    {
        return warn(
            "hook",
            format!(
                "MFA_SHELL_HOOK says {} but this shell is {}: it came from a parent shell, and this one has no hook",
                hooked.name(),
                here.name()
            ),
            format!("add `{}` to {}", hook_line(here), startup_file(here, env)),
        );
    }
    ok("hook", format!("the {} hook is loaded", hooked.name()))
}

/// `MFA_COMPLETION_LOADED`, which the hook's `mfa` function sets for
/// `doctor` from asking the shell.
fn completion(env: &Env, parent: Option<&str>) -> Finding {
    let Some(hooked) = env.get("MFA_SHELL_HOOK").and_then(Shell::from_name) else {
        let shell = calling_shell(env, parent);
        return warn(
            "completion",
            "cannot tell without the hook (it asks the shell for mfa)",
            format!(
                "load the hook, and add `{}` to {}",
                completion_line(shell),
                startup_file(shell, env)
            ),
        );
    };
    match env.get("MFA_COMPLETION_LOADED") {
        Some("1") => ok(
            "completion",
            format!("{} completes mfa's commands and profiles", hooked.name()),
        ),
        Some(_) => warn(
            "completion",
            format!("{} has no completion for mfa loaded", hooked.name()),
            format!(
                "add `{}` to {}",
                completion_line(hooked),
                startup_file(hooked, env)
            ),
        ),
        None if hooked == Shell::Powershell => warn(
            "completion",
            "cannot tell: PowerShell cannot be asked which completers are registered",
            format!(
                "if TAB does not complete mfa, add `{}` to $PROFILE",
                completion_line(hooked)
            ),
        ),
        None => warn(
            "completion",
            "cannot tell: run as `mfa doctor` in your shell, through the hook's mfa function",
            "type `mfa doctor` at the prompt (not `command mfa doctor` or a script)",
        ),
    }
}

/// The `mfa` that PATH finds is this very binary (a second, older `mfa`
/// makes `credential_process` lines and scripts run something else).
fn binary_on_path(env: &Env) -> Finding {
    let Ok(this) = std::env::current_exe() else {
        return warn(
            "path",
            "cannot tell which binary this is",
            "run `which -a mfa` and keep one",
        );
    };
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
    let found = which::which_in("mfa", env.get("PATH"), cwd);
    let this_dir = this.parent().map(display).unwrap_or_else(|| display(&this));
    let Ok(found) = found else {
        return warn(
            "path",
            format!("no `mfa` on PATH (this one is {})", display(&this)),
            format!("add {this_dir} to PATH"),
        );
    };
    if same_file(&found, &this) {
        ok(
            "path",
            format!("`mfa` on PATH is this binary ({})", display(&found)),
        )
    } else {
        fail(
            "path",
            format!(
                "`mfa` on PATH is {}, not this binary ({})",
                display(&found),
                display(&this)
            ),
            format!(
                "remove the other one, or put {this_dir} before it on PATH (`which -a mfa` lists them)"
            ),
        )
    }
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (fs::metadata(a), fs::metadata(b)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

// -- STS and the clock ----------------------------------------------------------

/// What the probe saw of its one call: the answer's `Date` header, and
/// when (Unix seconds) it arrived.
#[derive(Debug, Default)]
struct Seen {
    date: Option<(String, f64)>,
}

/// Reads the answer's `Date`, whatever the answer is (an error is an
/// answer, with a `Date`). Where the request went, the SDK's own
/// interceptor notes (`Sdk::last_endpoint`, no user info).
#[derive(Debug, Clone)]
struct Observe(Arc<Mutex<Seen>>);

impl Intercept for Observe {
    fn name(&self) -> &'static str {
        "mfa-doctor-observe"
    }

    fn read_after_transmit(
        &self,
        context: &BeforeDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let arrived = unix_now();
        if let (Ok(mut seen), Some(date)) =
            (self.0.lock(), context.response().headers().get("date"))
        {
            seen.date = Some((date.to_string(), arrived));
        }
        Ok(())
    }
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// Keys that are no one's: the probe needs an answer, not an identity, and
/// STS answers them with an error that carries `Date` like any other.
fn probe_keys() -> Credentials {
    Credentials {
        access_key_id: "AKIAMFADOCTORPROBE00".into(),
        secret_access_key: "mfa-doctor-probe-not-a-secret".into(),
        session_token: None,
        expiration: None,
    }
}

/// One GetCallerIdentity through the SDK's own stack (endpoint, region,
/// timeouts as every call has them): whether STS answers, and its clock.
fn sts_and_clock(env: &Env, profiles: Option<&Profiles>) -> Vec<Finding> {
    // The SDK reads the selected profile for its endpoint settings; a name
    // that is not in the files is not given to it.
    let selected = resolve::select_profile(None, env);
    let profile = profiles
        .filter(|p| p.get(&selected).is_some())
        .map(|_| selected.clone())
        .unwrap_or_else(|| "default".to_string());
    let region = match sts_region(
        env,
        profiles
            .and_then(|p| p.get(&selected))
            .and_then(|p| p.get_single("region")),
    ) {
        Ok(region) => region,
        // No endpoint can be named for a region that is no host name.
        Err(e) => {
            return vec![
                fail("sts", e.to_string(), "set a region such as us-east-1"),
                warn(
                    "clock",
                    "cannot tell: STS was not asked",
                    "fix the region, then run `mfa doctor` again",
                ),
            ];
        }
    };
    let seen = Arc::new(Mutex::new(Seen::default()));
    let observe = Observe(seen.clone());
    let sdk = crate::aws::Sdk::new(&profile, &region);
    let outcome = sdk.state().and_then(|(runtime, config)| {
        let sts_config = aws_sdk_sts::config::Builder::from(config)
            .credentials_provider(crate::aws::sdk_credentials(&probe_keys()))
            .interceptor(observe)
            .interceptor(sdk.interceptor())
            .build();
        let client = aws_sdk_sts::Client::from_conf(sts_config);
        runtime
            .block_on(client.get_caller_identity().send())
            .map(|_| ())
            .map_err(|e| sdk.classify(e))
    });
    let (endpoint, date) = match seen.lock() {
        Ok(mut seen) => (sdk.last_endpoint(), seen.date.take()),
        Err(_) => (sdk.last_endpoint(), None),
    };
    let endpoint = endpoint.unwrap_or_else(|| format!("STS in {region}"));
    let reach = reachability(&endpoint, &outcome, env);
    let clock = match date {
        Some((date, arrived)) => clock_offset(&endpoint, &date, arrived),
        None => warn(
            "clock",
            format!("cannot tell: no answer from {endpoint} to compare with"),
            "run `mfa doctor` again once STS answers",
        ),
    };
    vec![reach, clock]
}

fn reachability(endpoint: &str, outcome: &Result<(), AwsError>, env: &Env) -> Finding {
    match outcome {
        // Any answer from AWS, even a refusal of the probe's keys, is STS there.
        Ok(()) | Err(AwsError::Service { .. } | AwsError::InvalidCode(_)) => {
            ok("sts", format!("{endpoint} answers"))
        }
        Err(AwsError::Unreachable(detail)) => fail(
            "sts",
            format!(
                "{endpoint} cannot be reached within {} s: {}",
                call_timeout(env).as_secs(),
                // The error names the endpoint too: once is enough.
                detail
                    .strip_prefix(&format!("{endpoint}: "))
                    .unwrap_or(detail)
            ),
            "check the network and any proxy (HTTPS_PROXY); AWS_ENDPOINT_URL_STS or the profile's endpoint_url choose the endpoint",
        ),
        Err(AwsError::Other(detail)) => warn(
            "sts",
            format!("{endpoint} gave an answer that is not STS's: {detail}"),
            "check AWS_ENDPOINT_URL_STS, the profile's endpoint_url, and any proxy",
        ),
    }
}

/// How far this clock is from STS's. A `Date` has whole seconds, taken
/// before the answer left: its middle is half a second later.
fn clock_offset(endpoint: &str, date: &str, arrived: f64) -> Finding {
    let Some(stamp) = parse_http_date(date) else {
        return warn(
            "clock",
            format!("cannot tell: {endpoint} sent a Date that is not an HTTP date ({date:?})"),
            "none from here",
        );
    };
    let offset = (stamp as f64 + 0.5 - arrived).round() as i64;
    let how = match offset {
        0 => "in step with".to_string(),
        n if n > 0 => format!("{n} s behind"),
        n => format!("{} s ahead of", -n),
    };
    let message = format!("this clock is {how} {endpoint} (Date: {date})");
    let fix = "turn on time synchronisation (`timedatectl set-ntp true`, or the system's date and time settings)";
    match offset.abs() {
        0..=10 => ok("clock", message),
        11..=30 => warn(
            "clock",
            format!("{message}: one-time codes may be refused"),
            fix,
        ),
        _ => fail(
            "clock",
            format!("{message}: one-time codes will be refused (more than 30 s)"),
            fix,
        ),
    }
}

/// An HTTP `Date` (`Wed, 02 Dec 2026 04:35:47 GMT`) as Unix seconds.
fn parse_http_date(date: &str) -> Option<i64> {
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    time::PrimitiveDateTime::parse(date.trim(), format)
        .ok()
        .map(|t| t.assume_utc().unix_timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates_are_read_and_other_text_is_not() {
        assert_eq!(parse_http_date("Thu, 01 Jan 1970 00:01:40 GMT"), Some(100));
        assert_eq!(parse_http_date("yesterday"), None);
        assert_eq!(parse_http_date("Thu, 01 Jan 1970 00:01:40 +0100"), None);
    }

    #[test]
    fn the_clock_is_judged_by_its_offset_in_both_directions() {
        let date = "Thu, 01 Jan 1970 00:01:40 GMT";
        let at = |arrived: f64| clock_offset("http://sts", date, arrived);
        assert_eq!(at(100.4).status, Status::Ok);
        assert!(
            at(100.4).message.contains("in step"),
            "{}",
            at(100.4).message
        );
        let ahead = at(145.5);
        assert_eq!(ahead.status, Status::Fail);
        assert!(
            ahead.message.contains("45 s ahead of http://sts"),
            "{}",
            ahead.message
        );
        let behind = at(80.5);
        assert_eq!(behind.status, Status::Warn);
        assert!(behind.message.contains("20 s behind"), "{}", behind.message);
        assert_eq!(clock_offset("e", "garbage", 1.0).status, Status::Warn);
    }

    #[test]
    fn the_report_has_one_line_per_finding_with_its_fix() {
        let text = render(&[
            ok("cache", "private"),
            fail("clock", "40 s ahead", "sync it"),
        ]);
        assert_eq!(
            text,
            "ok    cache  private\nfail  clock  40 s ahead; fix: sync it\n"
        );
    }
}
