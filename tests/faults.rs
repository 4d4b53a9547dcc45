//! Faults, each one a test (issue 5): a slow, failing or garbled STS, a
//! full or read-only cache, exposed cache files, signals at the prompts,
//! and many concurrent SDK calls over a session that ends in the middle.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::json;
use support::*;

fn standard(aws: &FakeAws) -> Sandbox {
    let sandbox = Sandbox::new(aws);
    sandbox
        .config(&standard_config())
        .credentials(&standard_credentials());
    sandbox
}

#[test]
fn a_slow_sts_fails_within_the_configured_timeout() {
    let aws = FakeAws::start();
    let sandbox = standard(&aws);
    aws.fault(json!({"action": "GetSessionToken", "delay_ms": 8000}));
    let started = Instant::now();
    let out = sandbox
        .mfa()
        .env("MFA_TIMEOUT", "2")
        .args(["env", "alice", "--token", "123456"])
        .output()
        .unwrap();
    assert_fails(&out, 1, "no answer in time");
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "{:?}",
        started.elapsed()
    );
    assert!(
        std::fs::read_dir(sandbox.cache_dir())
            .map(|d| d
                .flatten()
                .all(|e| !e.file_name().to_string_lossy().ends_with(".json")))
            .unwrap_or(true)
    );
}

#[test]
fn transient_errors_are_retried_and_lasting_ones_reported() {
    let aws = FakeAws::start();
    let sandbox = standard(&aws);
    // Two 500s, then an answer: retried, and it works.
    aws.fault(json!({"action": "GetSessionToken", "status": 500, "count": 2}));
    let out = sandbox.run(&["env", "alice", "--token", "123456"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(aws.calls().len(), 3);
    // Throttling and a reset connection: retried too.
    aws.fault(json!({"action": "AssumeRole", "status": 400, "code": "Throttling", "message": "Rate exceeded", "count": 1}));
    aws.fault(json!({"action": "AssumeRole", "reset": true, "count": 1}));
    let out = sandbox.run(&["env", "admin"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(aws.count("AssumeRole"), 1);
    // A 500 that lasts: a bounded number of tries, a clear message, no stdout.
    aws.fault(json!({"action": "AssumeRole", "status": 500}));
    let before = aws.calls().len();
    let out = sandbox.run(&["env", "readonly"]);
    assert_fails(&out, 1, "InternalFailure");
    assert_eq!(
        aws.calls().len() - before,
        3,
        "three attempts, then it stops"
    );
}

/// A tiny file system for the cache: mounted when this machine allows it
/// (root in CI does), else a path that cannot be a directory.
struct TinyCache {
    dir: std::path::PathBuf,
    mounted: bool,
}

impl TinyCache {
    fn new(sandbox: &Sandbox, options: &str) -> TinyCache {
        let dir = sandbox.path(&format!("tiny-{}", options.replace(',', "-")));
        std::fs::create_dir_all(&dir).unwrap();
        let mounted = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", options, "tmpfs"])
            .arg(&dir)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !mounted {
            // Without mount: a regular file where the cache directory should be.
            std::fs::remove_dir(&dir).unwrap();
            std::fs::write(&dir, "not a directory").unwrap();
        }
        TinyCache { dir, mounted }
    }
}

impl Drop for TinyCache {
    fn drop(&mut self) {
        if self.mounted {
            let _ = std::process::Command::new("umount").arg(&self.dir).status();
        }
    }
}

#[test]
fn a_full_or_read_only_cache_still_delivers_and_warns() {
    let aws = FakeAws::start();
    let sandbox = standard(&aws);
    for options in ["size=16k", "ro,size=16k"] {
        let tiny = TinyCache::new(&sandbox, options);
        if tiny.mounted && options.starts_with("size") {
            // Fill it up.
            let _ = std::fs::write(tiny.dir.join("filler"), vec![0u8; 64 * 1024]);
        }
        let out = sandbox
            .mfa()
            .env("MFA_CACHE_DIR", &tiny.dir)
            .args(["env", "admin", "--shell", "bash", "--token", "123456"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{options}: {}", stderr(&out));
        assert!(stdout(&out).contains("export AWS_SESSION_TOKEN="));
        assert!(
            stderr(&out).contains("warning: cannot"),
            "{options}: {}",
            stderr(&out)
        );
        if tiny.mounted {
            let names: Vec<String> = std::fs::read_dir(&tiny.dir)
                .unwrap()
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect();
            assert!(
                names.iter().all(|n| !n.ends_with(".json")),
                "{options}: nothing half-written: {names:?}"
            );
        }
    }
}

#[test]
fn cache_files_others_can_read_are_refused_like_ssh_refuses_keys() {
    let aws = FakeAws::start();
    let sandbox = standard(&aws);
    assert!(
        sandbox
            .run(&["env", "alice", "--token", "123456"])
            .status
            .success()
    );
    for entry in std::fs::read_dir(sandbox.cache_dir()).unwrap().flatten() {
        if entry.file_name().to_string_lossy().ends_with(".json") {
            std::fs::set_permissions(entry.path(), std::fs::Permissions::from_mode(0o644)).unwrap();
        }
    }
    let out = sandbox.run(&["env", "alice", "--token", "123456"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("readable by others (mode 644)"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        aws.count("GetSessionToken"),
        2,
        "not used: a new session instead"
    );
}

#[test]
fn sigterm_during_an_sts_call_leaves_nothing_behind() {
    let aws = FakeAws::start();
    let sandbox = standard(&aws);
    aws.fault(json!({"action": "GetSessionToken", "delay_ms": 3000, "count": 1}));
    let child = sandbox
        .mfa()
        .args(["env", "alice", "--token", "123456"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1200));
    unsafe_kill(child.id(), 15);
    let out = child.wait_with_output().unwrap();
    assert!(out.stdout.is_empty());
    let left: Vec<String> = std::fs::read_dir(sandbox.cache_dir())
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    assert!(left.iter().all(|n| n.ends_with(".lock")), "{left:?}");
}

fn unsafe_kill(pid: u32, signal: i32) {
    let _ = std::process::Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .status();
}

/// Ctrl-C at the code question, and at setup's secret question (echo off):
/// nothing written, and the terminal has echo again.
#[test]
fn ctrl_c_at_a_question_restores_the_terminal_and_writes_nothing() {
    let aws = FakeAws::start();
    let sandbox = standard(&aws);
    let bin = env!("CARGO_BIN_EXE_mfa");
    for (args, question) in [
        ("env alice", "MFA code for"),
        (
            "setup --profile fresh --mfa-serial arn:aws:iam::1:mfa/x --region x",
            "Secret access key (not shown): ",
        ),
    ] {
        let mut command = sandbox.command("sh");
        // The trap keeps sh alive after Ctrl-C, to report on the terminal.
        command.stdin(Stdio::inherit()).arg("-c").arg(format!(
            "stty echo; trap 'echo interrupted' INT; '{bin}' {args} > '{}'; stty -a | grep -o -- '-\\?echo ' | head -1 | sed 's/^/state:/'",
            sandbox.path("out").display()
        ));
        let mut term = rexpect::session::spawn_command(command, Some(20_000)).unwrap();
        if args.starts_with("setup") {
            term.exp_string("Role to assume").unwrap();
            term.send_line("").unwrap();
            term.exp_string("Access key id: ").unwrap();
            term.send_line("AKIAFRESH").unwrap();
        }
        term.exp_string(question).unwrap();
        term.send_control('c').unwrap();
        term.exp_string("state:echo ").unwrap();
        term.exp_eof().unwrap();
        assert_eq!(
            std::fs::read_to_string(sandbox.path("out")).unwrap(),
            "",
            "{args}"
        );
    }
    assert!(
        !std::fs::read_to_string(sandbox.home.join(".aws/config"))
            .unwrap()
            .contains("fresh")
    );
    assert_eq!(aws.calls().len(), 0);
}

/// 20 processes × 10 `credential-process` runs over a role session that
/// goes stale every few seconds (MFA_MIN_TTL just under its hour): every
/// answer valid, one code, and STS calls only when the session ends.
#[test]
fn two_hundred_sdk_calls_from_twenty_processes_over_an_expiring_session() {
    let aws = FakeAws::start();
    let sandbox = Sandbox::new(&aws);
    let counter = sandbox.path("code-runs");
    sandbox
        .config(&format!(
            "[profile alice]\nmfa_serial = {SERIAL}\nmfa_process = echo run >> '{}'; echo 654321\n\n[profile admin]\nrole_arn = {ADMIN_ROLE}\nsource_profile = alice\n",
            counter.display()
        ))
        .credentials(&standard_credentials());
    let bin = env!("CARGO_BIN_EXE_mfa");
    let started = Instant::now();
    let workers: Vec<_> = (0..20)
        .map(|_| {
            sandbox
                .command("sh")
                .args(["-c", &format!("for i in 1 2 3 4 5 6 7 8 9 10; do '{bin}' credential-process admin || exit 1; echo; sleep 0.6; done")])
                .env("MFA_MIN_TTL", "3597")
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut answers = 0;
    for worker in workers {
        let out = worker.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        let text = stdout(&out);
        for json in serde_json::Deserializer::from_str(&text).into_iter::<serde_json::Value>() {
            let json = json.expect("valid JSON");
            assert_eq!(json["Version"], 1);
            assert!(
                json["AccessKeyId"]
                    .as_str()
                    .is_some_and(|k| k.starts_with("ASIA"))
            );
            assert!(json["SessionToken"].as_str().is_some_and(|t| !t.is_empty()));
            answers += 1;
        }
    }
    let elapsed = started.elapsed().as_secs();
    assert_eq!(answers, 200);
    assert_eq!(
        std::fs::read_to_string(&counter).unwrap().lines().count(),
        1,
        "one code"
    );
    assert_eq!(aws.count("GetSessionToken"), 1);
    let assumed = aws.count("AssumeRole");
    // A role session is good for 3 s here: one AssumeRole per 3 s at most.
    assert!(assumed >= 2, "the session ended in the middle: {assumed}");
    assert!(
        assumed as u64 <= elapsed / 3 + 2,
        "{assumed} AssumeRole in {elapsed} s"
    );
}

/// Issue 10, item 7: a symbolic link planted where the cache directory
/// goes, or a directory of another user's there, is refused: nothing is
/// written into it and its mode is left alone.
#[test]
fn a_planted_cache_directory_is_refused_never_chmod_ed() {
    let aws = FakeAws::start();
    let sandbox = standard(&aws);
    let elsewhere = sandbox.path("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    std::fs::set_permissions(&elsewhere, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::create_dir_all(sandbox.home.join(".cache")).unwrap();
    std::os::unix::fs::symlink(&elsewhere, sandbox.cache_dir()).unwrap();
    let out = sandbox.run(&["env", "alice", "--token", "123456"]);
    assert_fails(&out, 2, "symbolic link");
    let mode = std::fs::metadata(&elsewhere).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o755, "not chmod-ed");
    assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0);
    assert_eq!(aws.calls().len(), 0, "refused before any call");
    // `mfa clear --all` deletes nothing through the link either.
    std::fs::write(elsewhere.join("precious.json"), "{}").unwrap();
    let out = sandbox.run(&["clear", "--all"]);
    assert!(!out.status.success());
    assert!(elsewhere.join("precious.json").exists());

    // Another user's directory (only root can make one here).
    if effective_uid() == 0 {
        let theirs = sandbox.path("theirs");
        std::fs::create_dir(&theirs).unwrap();
        std::fs::set_permissions(&theirs, std::fs::Permissions::from_mode(0o777)).unwrap();
        std::os::unix::fs::chown(&theirs, Some(65534), Some(65534)).unwrap();
        let out = sandbox
            .mfa()
            .env("MFA_CACHE_DIR", &theirs)
            .args(["env", "alice", "--token", "123456"])
            .output()
            .unwrap();
        assert_fails(&out, 2, "belongs to another user");
        let mode = std::fs::metadata(&theirs).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o777, "not chmod-ed");
        assert_eq!(std::fs::read_dir(&theirs).unwrap().count(), 0);
    }
}

fn effective_uid() -> u32 {
    use std::os::unix::fs::MetadataExt;
    // The owner of a file this process just made is its effective user.
    let dir = tempfile::tempdir().unwrap();
    let probe = dir.path().join("probe");
    std::fs::write(&probe, "").unwrap();
    std::fs::metadata(&probe).unwrap().uid()
}
