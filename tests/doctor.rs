//! `mfa doctor` (SPEC §12) against the local STS, real files and real
//! shells: a healthy set-up is all `ok`; each problem is found, named, and
//! given a fix; a broken STS or clock is found in bounded time.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::*;

/// One local STS for the tests that leave its clock alone (moto takes
/// seconds to start); it dies with the test process (its stdin closes).
fn shared_aws() -> &'static FakeAws {
    static AWS: OnceLock<FakeAws> = OnceLock::new();
    AWS.get_or_init(FakeAws::start)
}

/// Makes the local STS's `Date` header `seconds` off the real time.
fn skew_clock(aws: &FakeAws, seconds: i64) {
    let body = format!("{{\"skew_seconds\": {seconds}}}");
    let mut stream = TcpStream::connect(("127.0.0.1", aws.port)).unwrap();
    write!(
        stream,
        "POST /_fake/clock HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.contains(" 200 "), "{answer}");
}

/// The usual healthy files, and a directory with `mfa` (a link to the
/// binary under test) first on PATH.
fn healthy(endpoint: String) -> (Sandbox, PathBuf) {
    let sandbox = Sandbox::with_endpoint(endpoint);
    sandbox
        .config(&standard_config())
        .credentials(&standard_credentials());
    let bin = sandbox.path("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_mfa"), bin.join("mfa")).unwrap();
    (sandbox, bin)
}

fn path_with(bin: &std::path::Path) -> String {
    format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// `mfa doctor` run as the hook's function runs it: with MFA_SHELL_HOOK
/// and the completion answer.
fn doctor(sandbox: &Sandbox, bin: &std::path::Path) -> Command {
    let mut command = sandbox.mfa();
    command
        .arg("doctor")
        .env("PATH", path_with(bin))
        .env("MFA_SHELL_HOOK", "bash")
        .env("MFA_COMPLETION_LOADED", "1")
        .env("MFA_TIMEOUT", "10");
    command
}

fn findings(output: &Output) -> Vec<Value> {
    serde_json::from_slice::<Value>(&output.stdout)
        .unwrap_or_else(|e| panic!("doctor --json is not JSON ({e}): {}", stdout(output)))
        .as_array()
        .cloned()
        .expect("an array")
}

fn json(mut command: Command) -> (Output, Vec<Value>) {
    let output = command.arg("--json").output().unwrap();
    let found = findings(&output);
    (output, found)
}

/// The findings of one check.
fn of<'a>(findings: &'a [Value], check: &str) -> Vec<&'a Value> {
    let found: Vec<&Value> = findings.iter().filter(|f| f["check"] == check).collect();
    assert!(!found.is_empty(), "no `{check}` finding in {findings:#?}");
    found
}

fn status_of(findings: &[Value], check: &str) -> String {
    let found = of(findings, check);
    // The worst of them.
    found
        .iter()
        .map(|f| f["status"].as_str().unwrap().to_string())
        .max_by_key(|s| ["ok", "warn", "fail"].iter().position(|w| w == s))
        .unwrap()
}

fn message_of(findings: &[Value], check: &str) -> String {
    of(findings, check)
        .iter()
        .map(|f| {
            let text = |key: &str| f[key].as_str().unwrap_or("").to_string();
            format!("{} (fix: {})", text("message"), text("fix"))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn a_healthy_set_up_is_all_ok_and_the_text_report_agrees_with_the_json() {
    let aws = shared_aws();
    let (sandbox, bin) = healthy(aws.endpoint());
    let (output, found) = json(doctor(&sandbox, &bin));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    for finding in &found {
        assert_eq!(finding["status"], "ok", "{found:#?}");
        assert!(finding.get("fix").is_none(), "{finding}");
    }
    let checks: Vec<&str> = found.iter().map(|f| f["check"].as_str().unwrap()).collect();
    for check in [
        "config-file",
        "credentials-file",
        "profiles",
        "cache",
        "key-store",
        "hook",
        "completion",
        "path",
        "sts",
        "clock",
    ] {
        assert!(checks.contains(&check), "{check} missing from {checks:?}");
    }
    assert!(message_of(&found, "sts").contains(&aws.endpoint()));
    assert!(message_of(&found, "profiles").contains("3 profile(s) resolve"));

    let text = doctor(&sandbox, &bin).output().unwrap();
    assert_eq!(text.status.code(), Some(0));
    let lines: Vec<String> = stdout(&text).lines().map(str::to_string).collect();
    assert_eq!(lines.len(), found.len(), "{lines:#?}");
    for (line, finding) in lines.iter().zip(&found) {
        let mut words = line.split_whitespace();
        assert_eq!(words.next(), finding["status"].as_str(), "{line}");
        assert_eq!(words.next(), finding["check"].as_str(), "{line}");
    }
}

#[test]
fn a_broken_line_names_the_file_and_line_and_fails() {
    let (sandbox, bin) = healthy(shared_aws().endpoint());
    sandbox.config("[profile a]\nregion = eu-west-1\nthis is not a line\n");
    let (output, found) = json(doctor(&sandbox, &bin));
    assert_eq!(output.status.code(), Some(1), "{found:#?}");
    assert_eq!(status_of(&found, "config-file"), "fail");
    let message = message_of(&found, "config-file");
    assert!(
        message.contains(".aws/config line 3"),
        "file and line named: {message}"
    );
    assert_eq!(status_of(&found, "credentials-file"), "ok");
    // The text report says the same, on stdout, one line.
    let text = doctor(&sandbox, &bin).output().unwrap();
    assert_eq!(text.status.code(), Some(1));
    let line = stdout(&text)
        .lines()
        .find(|l| l.starts_with("fail") && l.contains("config-file"))
        .map(str::to_string)
        .unwrap_or_else(|| panic!("{}", stdout(&text)));
    assert!(
        line.contains("line 3") && line.contains("fix: edit line 3"),
        "{line}"
    );
}

#[test]
fn a_source_profile_loop_and_a_profile_without_keys_fail() {
    let (sandbox, bin) = healthy(shared_aws().endpoint());
    sandbox.config(&format!(
        "{}\n[profile a]\nrole_arn = {ADMIN_ROLE}\nsource_profile = b\n\n\
         [profile b]\nrole_arn = {ADMIN_ROLE}\nsource_profile = a\n\n\
         [profile keyless]\nmfa_serial = {SERIAL}\n\n\
         [default]\nregion = eu-west-1\n",
        standard_config()
    ));
    let (output, found) = json(doctor(&sandbox, &bin));
    assert_eq!(output.status.code(), Some(1), "{found:#?}");
    let message = message_of(&found, "profiles");
    assert!(
        message.contains("profile `a`") && message.contains("loop"),
        "{message}"
    );
    assert!(message.contains("profile `b`"), "{message}");
    assert!(
        message.contains("profile `keyless`") && message.contains("no credentials"),
        "{message}"
    );
    // The healthy ones and the settings-only [default] are not named.
    for quiet in ["`alice`", "`admin`", "`readonly`", "`default`"] {
        assert!(!message.contains(quiet), "{quiet} in {message}");
    }
}

#[test]
fn an_open_cache_directory_fails_and_is_left_as_it_was() {
    let (sandbox, bin) = healthy(shared_aws().endpoint());
    let cache = sandbox.cache_dir();
    std::fs::create_dir_all(&cache).unwrap();
    std::fs::set_permissions(&cache, std::fs::Permissions::from_mode(0o755)).unwrap();
    let (output, found) = json(doctor(&sandbox, &bin));
    assert_eq!(output.status.code(), Some(1), "{found:#?}");
    assert_eq!(status_of(&found, "cache"), "fail");
    let message = message_of(&found, "cache");
    assert!(
        message.contains("mode 755") && message.contains("chmod 700"),
        "{message}"
    );
    let mode = std::fs::metadata(&cache).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o755, "doctor only looks");
}

/// The fixes are safe to paste: paths quoted, and nothing but a link or a
/// stray file is ever offered for removal.
#[test]
fn a_fix_quotes_its_path_and_never_removes_a_device() {
    let (sandbox, bin) = healthy(shared_aws().endpoint());
    let odd = sandbox.path("my cache;touch pwned");
    std::fs::create_dir_all(&odd).unwrap();
    std::fs::set_permissions(&odd, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut command = doctor(&sandbox, &bin);
    command.env("MFA_CACHE_DIR", &odd);
    let (_, found) = json(command);
    let fix = message_of(&found, "cache");
    assert!(
        fix.contains(&format!("chmod 700 '{}'", odd.display())),
        "{fix}"
    );
    let mut command = doctor(&sandbox, &bin);
    command.env("MFA_CACHE_DIR", "/dev/null");
    let (_, found) = json(command);
    let fix = message_of(&found, "cache");
    assert_eq!(status_of(&found, "cache"), "fail");
    assert!(!fix.contains("rm ") && !fix.contains("remove"), "{fix}");
    assert!(fix.contains("MFA_CACHE_DIR"), "{fix}");
}

#[test]
fn a_cache_entry_readable_by_others_fails() {
    let (sandbox, bin) = healthy(shared_aws().endpoint());
    let cache = sandbox.cache_dir();
    std::fs::create_dir_all(&cache).unwrap();
    std::fs::set_permissions(&cache, std::fs::Permissions::from_mode(0o700)).unwrap();
    let entry = cache.join("mfa-session-0123456789abcdef01234567.json");
    std::fs::write(&entry, "{}").unwrap();
    std::fs::set_permissions(&entry, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (output, found) = json(doctor(&sandbox, &bin));
    assert_eq!(output.status.code(), Some(1), "{found:#?}");
    let message = message_of(&found, "cache");
    assert!(
        message.contains("mfa-session-0123456789abcdef01234567.json"),
        "{message}"
    );
    std::fs::set_permissions(&entry, std::fs::Permissions::from_mode(0o600)).unwrap();
    let (output, found) = json(doctor(&sandbox, &bin));
    assert_eq!(output.status.code(), Some(0), "{found:#?}");
}

#[test]
fn without_the_hook_doctor_says_so_and_gives_the_line_to_add() {
    let (sandbox, bin) = healthy(shared_aws().endpoint());
    for (shell, line, file) in [
        ("bash", "eval \"$(mfa init bash)\"", "~/.bashrc"),
        ("fish", "mfa init fish | source", "config.fish"),
    ] {
        let mut command = doctor(&sandbox, &bin);
        command
            .env_remove("MFA_SHELL_HOOK")
            .env_remove("MFA_COMPLETION_LOADED")
            .env("SHELL", format!("/usr/bin/{shell}"));
        let (output, found) = json(command);
        // A missing hook is worth a warning, not a failure: mfa works without it.
        assert_eq!(output.status.code(), Some(0), "{found:#?}");
        assert_eq!(status_of(&found, "hook"), "warn");
        let message = message_of(&found, "hook");
        assert!(
            message.contains("not loaded") && message.contains(line) && message.contains(file),
            "{message}"
        );
        assert_eq!(status_of(&found, "completion"), "warn");
    }
}

#[test]
fn another_mfa_first_on_path_fails() {
    let (sandbox, _) = healthy(shared_aws().endpoint());
    let other = sandbox.path("other-bin");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(other.join("mfa"), "#!/bin/sh\necho old mfa\n").unwrap();
    std::fs::set_permissions(other.join("mfa"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let (output, found) = json(doctor(&sandbox, &other));
    assert_eq!(output.status.code(), Some(1), "{found:#?}");
    assert_eq!(status_of(&found, "path"), "fail");
    let message = message_of(&found, "path");
    assert!(message.contains("other-bin/mfa"), "{message}");

    let empty = sandbox.path("empty-bin");
    std::fs::create_dir_all(&empty).unwrap();
    let mut command = doctor(&sandbox, &empty);
    command.env("PATH", &empty);
    let (_, found) = json(command);
    assert_eq!(status_of(&found, "path"), "warn");
    assert!(message_of(&found, "path").contains("no `mfa` on PATH"));
}

/// The offset doctor reports, in seconds (negative: this clock is ahead).
fn reported_offset(message: &str) -> i64 {
    let words: Vec<&str> = message.split_whitespace().collect();
    let at = words
        .iter()
        .position(|w| *w == "s")
        .unwrap_or_else(|| panic!("no offset in {message}"));
    let n: i64 = words[at - 1].parse().unwrap();
    if words[at + 1] == "ahead" { -n } else { n }
}

#[test]
fn a_skewed_clock_is_measured_and_fails_beyond_thirty_seconds() {
    let aws = FakeAws::start();
    let (sandbox, bin) = healthy(aws.endpoint());
    for (skew, status) in [(120, "fail"), (-45, "fail"), (20, "warn"), (0, "ok")] {
        skew_clock(&aws, skew);
        let (output, found) = json(doctor(&sandbox, &bin));
        let message = message_of(&found, "clock");
        assert_eq!(status_of(&found, "clock"), status, "skew {skew}: {message}");
        assert_eq!(
            output.status.code(),
            Some(if status == "fail" { 1 } else { 0 }),
            "{found:#?}"
        );
        if skew != 0 {
            let offset = reported_offset(&message);
            assert!(
                (offset - skew).abs() <= 2,
                "skew {skew}, reported {message}"
            );
            assert!(message.contains(&aws.endpoint()), "{message}");
        }
        // STS answered all along.
        assert_eq!(status_of(&found, "sts"), "ok");
    }
}

#[test]
fn an_unreachable_sts_is_named_and_fails_in_bounded_time() {
    // A port nothing listens on: the connection is refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let (sandbox, bin) = healthy(endpoint.clone());
    let started = Instant::now();
    let mut command = doctor(&sandbox, &bin);
    command.env("MFA_TIMEOUT", "4");
    let (output, found) = json(command);
    assert!(
        started.elapsed() < Duration::from_secs(12),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(output.status.code(), Some(1), "{found:#?}");
    assert_eq!(status_of(&found, "sts"), "fail");
    let message = message_of(&found, "sts");
    assert!(message.contains(&endpoint), "{message}");
    assert!(message.to_lowercase().contains("refused"), "{message}");
    assert_eq!(status_of(&found, "clock"), "warn");
    assert!(message_of(&found, "clock").contains("cannot tell"));
}

/// `mfa doctor --json` typed in a real shell that loaded the hook (and,
/// with `completion`, the completion script) the way README says.
fn doctor_in_shell(shell: &str, completion: bool) -> Vec<Value> {
    let (sandbox, bin) = healthy(shared_aws().endpoint());
    let script = match (shell, completion) {
        ("bash", true) => {
            "eval \"$(mfa init bash)\"; eval \"$(mfa completions bash)\"; mfa doctor --json"
        }
        ("bash", false) => "eval \"$(mfa init bash)\"; mfa doctor --json",
        ("zsh", true) => {
            "autoload -U compinit; compinit -u -D; eval \"$(mfa init zsh)\"; eval \"$(mfa completions zsh)\"; mfa doctor --json"
        }
        ("zsh", false) => "eval \"$(mfa init zsh)\"; mfa doctor --json",
        ("fish", true) => {
            "mfa init fish | source; mfa completions fish | source; mfa doctor --json"
        }
        // Only the sandbox's completion files: a system-wide mfa.fish (the
        // Debian package's, once installed on this machine) would count.
        ("fish", false) => {
            "set -g fish_complete_path $XDG_DATA_HOME/fish/vendor_completions.d; mfa init fish | source; mfa doctor --json"
        }
        _ => unreachable!(),
    };
    let mut command = sandbox.command(shell);
    match shell {
        "fish" => command.args(["--no-config", "-c", script]),
        "zsh" => command.args(["-f", "-c", script]),
        _ => command.args(["--norc", "--noprofile", "-c", script]),
    };
    // fish looks for completion files under XDG_DATA_HOME too: keep it in the sandbox.
    command
        .env("PATH", path_with(&bin))
        .env("XDG_CONFIG_HOME", sandbox.path(".config"))
        .env("XDG_DATA_HOME", sandbox.path(".local/share"))
        .env("MFA_TIMEOUT", "10");
    detach_from_terminal(&mut command);
    let output = command.output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{shell}: {}",
        stderr(&output)
    );
    findings(&output)
}

#[test]
fn real_bash_with_the_hook_and_completion_is_all_ok() {
    let found = doctor_in_shell("bash", true);
    for finding in &found {
        assert_eq!(finding["status"], "ok", "{found:#?}");
    }
    assert!(message_of(&found, "hook").contains("bash hook is loaded"));
    let found = doctor_in_shell("bash", false);
    assert_eq!(status_of(&found, "hook"), "ok");
    assert_eq!(status_of(&found, "completion"), "warn");
    assert!(message_of(&found, "completion").contains("eval \"$(mfa completions bash)\""));
}

#[test]
fn real_zsh_and_fish_report_their_hook_and_completion() {
    for shell in ["zsh", "fish"] {
        let found = doctor_in_shell(shell, true);
        assert_eq!(status_of(&found, "hook"), "ok", "{shell}: {found:#?}");
        assert!(message_of(&found, "hook").contains(&format!("{shell} hook")));
        assert_eq!(status_of(&found, "completion"), "ok", "{shell}: {found:#?}");
        let found = doctor_in_shell(shell, false);
        assert_eq!(
            status_of(&found, "completion"),
            "warn",
            "{shell}: {found:#?}"
        );
    }
}

/// A shell started from one with the hook has no hook of its own (a
/// non-login shell that never read the start-up file): doctor says so.
#[test]
fn a_child_shell_without_the_hook_is_told_so() {
    let (sandbox, bin) = healthy(shared_aws().endpoint());
    for (child, line) in [
        ("bash --norc --noprofile -c", "mfa init bash"),
        ("zsh -f -c", "mfa init zsh"),
    ] {
        let mut command = sandbox.command("bash");
        command
            .args([
                "--norc",
                "--noprofile",
                "-c",
                &format!("eval \"$(mfa init bash)\"; {child} 'mfa doctor --json; true'"),
            ])
            .env("PATH", path_with(&bin));
        detach_from_terminal(&mut command);
        let output = command.output().unwrap();
        let found = findings(&output);
        assert_eq!(status_of(&found, "hook"), "warn", "{child}: {found:#?}");
        let message = message_of(&found, "hook");
        assert!(message.contains(line), "{child}: {message}");
    }
}

#[test]
fn an_sts_that_never_answers_is_given_up_on_after_mfa_timeout() {
    // Connections are taken (the kernel's backlog) and never answered.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", silent.local_addr().unwrap());
    let (sandbox, bin) = healthy(endpoint.clone());
    let started = Instant::now();
    let mut command = doctor(&sandbox, &bin);
    command.env("MFA_TIMEOUT", "2");
    let (output, found) = json(command);
    let took = started.elapsed();
    assert!(took >= Duration::from_secs(2), "{took:?}");
    assert!(took < Duration::from_secs(10), "{took:?}");
    assert_eq!(output.status.code(), Some(1), "{found:#?}");
    assert_eq!(status_of(&found, "sts"), "fail");
    let message = message_of(&found, "sts");
    assert!(
        message.contains(&endpoint) && message.contains("2 s"),
        "{message}"
    );
    drop(silent);
}

#[test]
fn key_stores_are_probed_without_a_prompt() {
    let (sandbox, bin) = healthy(shared_aws().endpoint());
    sandbox.config(&format!("[profile stored]\nmfa_serial = {SERIAL}\n"));
    sandbox.credentials("");
    let keys = sandbox.path(".local/share/mfa/keys");
    std::fs::create_dir_all(&keys).unwrap();
    std::fs::set_permissions(&keys, std::fs::Permissions::from_mode(0o700)).unwrap();
    let file = keys.join("stored.file");
    // Never opened by doctor: opening needs the passphrase.
    std::fs::write(&file, "not even a key file").unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();

    // No terminal and no MFA_FILE_PASSPHRASE: said, not asked.
    let (output, found) = json(doctor(&sandbox, &bin));
    assert_eq!(output.status.code(), Some(0), "{found:#?}");
    assert_eq!(status_of(&found, "profiles"), "ok", "{found:#?}");
    assert_eq!(status_of(&found, "key-store"), "warn");
    assert!(message_of(&found, "key-store").contains("MFA_FILE_PASSPHRASE"));

    let mut command = doctor(&sandbox, &bin);
    command.env("MFA_FILE_PASSPHRASE", "correct horse");
    let (_, found) = json(command);
    assert_eq!(status_of(&found, "key-store"), "ok", "{found:#?}");

    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (output, found) = json(doctor(&sandbox, &bin));
    assert_eq!(output.status.code(), Some(1), "{found:#?}");
    assert_eq!(status_of(&found, "key-store"), "fail");

    // A Secret Service that is not there (no session bus): named, at once.
    std::fs::remove_file(&file).unwrap();
    std::fs::write(keys.join("stored.secret-service"), "").unwrap();
    let started = Instant::now();
    let mut command = doctor(&sandbox, &bin);
    command.env(
        "DBUS_SESSION_BUS_ADDRESS",
        format!("unix:path={}", sandbox.path("no-bus").display()),
    );
    let (output, found) = json(command);
    assert!(started.elapsed() < Duration::from_secs(12));
    assert_eq!(output.status.code(), Some(1), "{found:#?}");
    assert_eq!(status_of(&found, "key-store"), "fail");
    assert!(message_of(&found, "key-store").contains("Secret Service"));
}
