//! Files and onboarding (SPEC §5, §6): `mfa write` changes only its section
//! of the credentials file, atomically and under a lock; `mfa setup` adds a
//! profile from flags or a terminal; `mfa device` creates and enables a
//! virtual MFA device against the local IAM, with codes computed from the
//! seed by a TOTP library.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::*;

const CREDENTIALS_WITH_EVERYTHING: &str = "# my keys — do not share\r\n\
[alice]\r\n\
aws_access_key_id = AKIAIOSFODNN7EXAMPLE   \r\n\
aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY ; inline\r\n\
\r\n\
; old one\r\n\
[legacy]\r\n\
aws_access_key_id = AKIAOLD\r\n\
aws_secret_access_key = old-secret\r\n\
s3 =\r\n\
  max_concurrent_requests = 4\r\n\
[default]\r\n\
region = eu-west-1";

fn credentials_path(sandbox: &Sandbox) -> std::path::PathBuf {
    sandbox.home.join(".aws/credentials")
}

fn sections(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| l.starts_with('['))
        .map(|l| l.trim().to_string())
        .collect()
}

#[test]
fn write_adds_a_section_and_keeps_every_other_byte() {
    let aws = FakeAws::start();
    let sandbox = Sandbox::new(&aws);
    sandbox
        .config(&standard_config())
        .credentials(CREDENTIALS_WITH_EVERYTHING);
    let path = credentials_path(&sandbox);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();

    let out = sandbox.run(&["write", "alice", "--token", "123456"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    let err = stderr(&out);
    assert!(
        err.contains("wrote profile `alice-mfa`") && err.contains("--profile alice-mfa"),
        "{err}"
    );
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.starts_with(CREDENTIALS_WITH_EVERYTHING),
        "old bytes kept:\n{text}"
    );
    let added = &text[CREDENTIALS_WITH_EVERYTHING.len()..];
    assert!(added.starts_with("\r\n\r\n[alice-mfa]\r\n"), "{added:?}");
    for key in [
        "aws_access_key_id = ASIA",
        "aws_secret_access_key = ",
        "aws_session_token = ",
        "x_security_token_expires = ",
    ] {
        assert!(added.contains(key), "{key} in {added:?}");
    }
    assert!(
        !added.contains('\n') || added.matches("\r\n").count() == added.matches('\n').count(),
        "CRLF kept"
    );
    // Group-readable is readable by others, as for cache and key files:
    // session secrets go only into a private file.
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(err.contains("readable by others (mode 0640)"), "{err}");

    // Again: the same section is replaced in place.
    let before = std::fs::read_to_string(&path).unwrap();
    let out = sandbox.run(&["write", "alice", "--token", "123456", "--duration", "900"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let after = std::fs::read_to_string(&path).unwrap();
    assert_eq!(sections(&after), sections(&before));
    assert_ne!(after, before);
    assert!(after.starts_with(CREDENTIALS_WITH_EVERYTHING));

    // A role profile's own section stays for the config's role_arn.
    let out = sandbox.run(&["write", "admin"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        sections(&std::fs::read_to_string(&path).unwrap()).contains(&"[admin-mfa]".to_string())
    );

    // The AWS CLI reads what was written.
    let cli = sandbox
        .command("aws")
        .args([
            "sts",
            "get-caller-identity",
            "--profile",
            "admin-mfa",
            "--region",
            "us-east-1",
            "--output",
            "json",
        ])
        .output()
        .unwrap();
    assert!(cli.status.success(), "{}", stderr(&cli));
    let arn = serde_json::from_slice::<Value>(&cli.stdout).unwrap()["Arn"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(arn.contains("assumed-role/admin/"), "{arn}");
}

#[test]
fn write_never_overwrites_long_term_keys() {
    let aws = FakeAws::start();
    let sandbox = Sandbox::new(&aws);
    sandbox
        .config(&standard_config())
        .credentials(CREDENTIALS_WITH_EVERYTHING);
    let before = std::fs::read(credentials_path(&sandbox)).unwrap();
    for section in ["alice", "legacy"] {
        let out = sandbox.run(&["write", "alice", "--token", "123456", "--section", section]);
        assert_fails(&out, 2, "long-term keys");
    }
    assert_eq!(std::fs::read(credentials_path(&sandbox)).unwrap(), before);
    assert_eq!(aws.calls().len(), 0, "refused before any call");
}

#[test]
fn concurrent_writers_both_land() {
    let aws = FakeAws::start();
    let sandbox = Sandbox::new(&aws);
    sandbox
        .config(&standard_config())
        .credentials(CREDENTIALS_WITH_EVERYTHING);
    assert!(
        sandbox
            .run(&["env", "alice", "--token", "123456"])
            .status
            .success()
    );
    for round in 0..4 {
        let children: Vec<_> = ["admin", "readonly", "alice"]
            .iter()
            .map(|p| {
                sandbox
                    .mfa()
                    .args(["write", p, "--section", &format!("{p}-{round}")])
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for child in children {
            let out = child.wait_with_output().unwrap();
            assert!(out.status.success(), "{}", stderr(&out));
        }
    }
    let text = std::fs::read_to_string(credentials_path(&sandbox)).unwrap();
    for round in 0..4 {
        for p in ["admin", "readonly", "alice"] {
            assert!(
                sections(&text).contains(&format!("[{p}-{round}]")),
                "{p}-{round} lost:\n{text}"
            );
        }
    }
    assert!(text.starts_with(CREDENTIALS_WITH_EVERYTHING));
}

/// A writer killed at random moments: a reader only ever sees the old file
/// or a complete new one, and no leftover stays.
#[test]
fn a_killed_writer_leaves_the_old_file_or_the_new_one() {
    let aws = FakeAws::start();
    let sandbox = Sandbox::new(&aws);
    sandbox
        .config(&standard_config())
        .credentials(CREDENTIALS_WITH_EVERYTHING);
    assert!(
        sandbox
            .run(&["env", "admin", "--token", "123456"])
            .status
            .success()
    );
    let path = credentials_path(&sandbox);
    let bin = env!("CARGO_BIN_EXE_mfa");
    for attempt in 0..12 {
        let mut writer = sandbox
            .command("sh")
            .args(["-c", &format!("i=0; while :; do '{bin}' write admin --section s$((i%3)) 2>/dev/null; i=$((i+1)); done")])
            .spawn()
            .unwrap();
        let started = Instant::now();
        while started.elapsed() < Duration::from_millis(150 + attempt * 40) {
            let text = std::fs::read_to_string(&path).unwrap();
            assert!(
                text.starts_with(CREDENTIALS_WITH_EVERYTHING),
                "torn read:\n{text}"
            );
            mfa::config::document::parse(&text, &path, mfa::config::FileKind::Credentials)
                .expect("every state parses");
        }
        // SIGKILL the loop and whatever mfa it is running.
        let _ = std::process::Command::new("pkill")
            .args(["-KILL", "-P", &writer.id().to_string()])
            .status();
        let _ = writer.kill();
        let _ = writer.wait();
    }
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.starts_with(CREDENTIALS_WITH_EVERYTHING));
    // The next write sweeps what a kill between write and rename left.
    assert!(
        sandbox
            .run(&["write", "admin", "--section", "final"])
            .status
            .success()
    );
    let leftovers: Vec<String> = std::fs::read_dir(sandbox.home.join(".aws"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn setup_from_flags_writes_a_profile_and_keys_losslessly() {
    let aws = FakeAws::start();
    let sandbox = Sandbox::new(&aws);
    let config = "# team config\n[profile other]\nregion = ap-south-1 # Mumbai\n";
    sandbox
        .config(config)
        .credentials(CREDENTIALS_WITH_EVERYTHING);
    let secret = "bnew/SECRET+value";
    let run = |extra: &[&str]| {
        sandbox
            .mfa()
            .env("AWS_ACCESS_KEY_ID", "AKIANEWKEY")
            .env("AWS_SECRET_ACCESS_KEY", secret)
            .args([
                "setup",
                "--profile",
                "work",
                "--keys-from-env",
                "--mfa-serial",
                SERIAL,
                "--region",
                "eu-west-1",
            ])
            .args(extra)
            .output()
            .unwrap()
    };
    // Without a terminal and without --yes: shown, not written.
    let out = run(&[]);
    assert_fails(&out, 2, "--yes");
    assert!(
        stderr(&out).contains("[profile work]") && !stderr(&out).contains(secret),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read_to_string(sandbox.home.join(".aws/config")).unwrap(),
        config
    );

    let out = run(&["--yes"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let written = std::fs::read_to_string(sandbox.home.join(".aws/config")).unwrap();
    assert!(written.starts_with(config));
    assert!(
        written.ends_with(&format!(
            "\n[profile work]\nmfa_serial = {SERIAL}\nregion = eu-west-1\n"
        )),
        "{written}"
    );
    let credentials = std::fs::read_to_string(credentials_path(&sandbox)).unwrap();
    assert!(credentials.starts_with(CREDENTIALS_WITH_EVERYTHING));
    assert!(credentials.contains(&format!(
        "[work]\r\naws_access_key_id = AKIANEWKEY\r\naws_secret_access_key = {secret}\r\n"
    )));
    let list = sandbox.run(&["list", "--json"]);
    let listed: Value = serde_json::from_slice(&list.stdout).unwrap();
    let work = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "work")
        .unwrap();
    assert_eq!(work["kind"], "mfa-user");

    // A role profile on top of alice's keys.
    let out = sandbox
        .mfa()
        .args([
            "setup",
            "--profile",
            "prod",
            "--role-arn",
            ADMIN_ROLE,
            "--source-profile",
            "alice",
            "--mfa-serial",
            SERIAL,
            "--region",
            "",
            "--yes",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let prod = sandbox.run(&["show", "prod", "--json"]);
    let shown: Value = serde_json::from_slice(&prod.stdout).unwrap();
    assert_eq!(shown["kind"], "mfa-role");
    assert_eq!(shown["properties"]["source_profile"], "alice");
    let env = sandbox.run(&["env", "prod", "--token", "123456"]);
    assert!(env.status.success(), "{}", stderr(&env));
}

fn totp(seed: &str, step_offset: i64) -> String {
    let secret = totp_rs::Secret::Encoded(seed.to_string())
        .to_bytes()
        .expect("base32 seed");
    let totp = totp_rs::TOTP::new_unchecked(totp_rs::Algorithm::SHA1, 6, 0, 30, secret);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    totp.generate((now + step_offset * 30) as u64)
}

#[test]
fn a_device_is_created_enabled_written_into_the_profile_and_used() {
    let aws = FakeAws::start();
    let sandbox = Sandbox::new(&aws);
    let (id, secret) = create_iam_user(&sandbox, "bob");
    let config = "# bob's machine\n[profile bob]\nregion = eu-west-1\n";
    sandbox.config(config).credentials(&format!(
        "[bob]\naws_access_key_id = {id}\naws_secret_access_key = {secret}\n"
    ));
    let png = sandbox.path("bob-qr.png");
    let out = sandbox.run(&[
        "device",
        "create",
        "bob",
        "--profile",
        "bob",
        "--secret",
        "--png",
        png.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let mut lines = text.lines();
    let serial = lines.next().unwrap().to_string();
    let seed = lines.next().unwrap().to_string();
    assert!(serial.ends_with(":mfa/bob"), "{serial}");
    assert!(
        seed.len() >= 16
            && seed
                .chars()
                .all(|c| c.is_ascii_uppercase() || ('2'..='7').contains(&c)),
        "{seed}"
    );
    assert!(
        stderr(&out).contains('▀') || stderr(&out).contains('▄'),
        "a QR code in the terminal"
    );
    assert!(
        !stderr(&out).contains(&seed),
        "the seed only on request, on stdout"
    );
    let picture = std::fs::read(&png).unwrap();
    assert_eq!(&picture[1..4], b"PNG");
    assert_eq!(
        std::fs::metadata(&png).unwrap().permissions().mode() & 0o777,
        0o600
    );

    // Enable with two consecutive codes (the remembered serial is used).
    let out = sandbox.run(&[
        "device",
        "enable",
        "--profile",
        "bob",
        "--code1",
        &totp(&seed, 0),
        "--code2",
        &totp(&seed, 1),
        "--yes",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let written = std::fs::read_to_string(sandbox.home.join(".aws/config")).unwrap();
    assert_eq!(
        written,
        format!("# bob's machine\n[profile bob]\nregion = eu-west-1\nmfa_serial = {serial}\n")
    );

    let list = sandbox.run(&["device", "list", "--profile", "bob", "--json"]);
    assert!(list.status.success(), "{}", stderr(&list));
    let devices: Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(devices[0]["serial"], serial.as_str());
    assert!(devices[0]["enabled_at"].is_string(), "{devices}");

    // And the profile now gets sessions with codes from the same seed.
    let out = sandbox.run(&["env", "bob", "--shell", "bash", "--token", &totp(&seed, 0)]);
    assert!(out.status.success(), "{}", stderr(&out));
    let gst = aws.last_call("GetSessionToken");
    assert_eq!(gst["serial"], serial.as_str());
}

#[test]
fn enabling_with_wrong_codes_fails_and_writes_nothing() {
    let aws = FakeAws::start();
    let sandbox = Sandbox::new(&aws);
    let (id, secret) = create_iam_user(&sandbox, "carol");
    sandbox.config("[profile carol]\n").credentials(&format!(
        "[carol]\naws_access_key_id = {id}\naws_secret_access_key = {secret}\n"
    ));
    let out = sandbox.run(&["device", "create", "carol", "--profile", "carol"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = sandbox.run(&[
        "device",
        "enable",
        "--profile",
        "carol",
        "--code1",
        "111111",
        "--code2",
        "222222",
        "--yes",
    ]);
    assert_fails(&out, 1, "EnableMFADevice failed");
    assert_eq!(
        std::fs::read_to_string(sandbox.home.join(".aws/config")).unwrap(),
        "[profile carol]\n"
    );
    // No terminal and no codes: told how to pass them.
    let out = sandbox.run(&["device", "enable", "--profile", "carol"]);
    assert_fails(&out, 2, "--code1");
}

/// `mfa setup` at a real terminal: it asks, offers the user's MFA device,
/// reads the secret without echo, shows what it will write and asks first.
#[test]
fn setup_asks_at_the_terminal_and_offers_the_users_device() {
    let aws = FakeAws::start();
    let sandbox = Sandbox::new(&aws);
    let (id, secret) = create_iam_user(&sandbox, "dave");
    sandbox.config("[profile boot]\n").credentials(&format!(
        "[boot]\naws_access_key_id = {id}\naws_secret_access_key = {secret}\n"
    ));
    let out = sandbox.run(&["device", "create", "dave", "--profile", "boot", "--secret"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let (serial, seed) = text.trim().split_once('\n').unwrap();
    let out = sandbox.run(&[
        "device",
        "enable",
        "--profile",
        "boot",
        "--code1",
        &totp(seed, 0),
        "--code2",
        &totp(seed, 1),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));

    let mut command = sandbox.command(env!("CARGO_BIN_EXE_mfa"));
    command.arg("setup").stdin(Stdio::inherit());
    let mut term = rexpect::session::spawn_command(command, Some(30_000)).unwrap();
    term.exp_string("Name of the profile to add or change [default]: ")
        .unwrap();
    term.send_line("dave").unwrap();
    term.exp_string("Role to assume (ARN, empty for none): ")
        .unwrap();
    term.send_line("").unwrap();
    term.exp_string("Profile `dave` has no keys yet.").unwrap();
    term.exp_string("Access key id: ").unwrap();
    term.send_line(&id).unwrap();
    term.exp_string("Secret access key (not shown): ").unwrap();
    term.send_line(&secret).unwrap();
    term.exp_string(&format!("MFA device (serial ARN) [{serial}]: "))
        .unwrap();
    term.send_line("").unwrap();
    term.exp_string("Region (empty for none): ").unwrap();
    term.send_line("eu-north-1").unwrap();
    let (shown, _) = term.exp_regex(r"Write this\? \[Y/n\] ").unwrap();
    assert!(
        shown.contains("[profile dave]") && shown.contains(&format!("mfa_serial = {serial}")),
        "{shown}"
    );
    assert!(
        shown.contains("aws_secret_access_key = ********"),
        "{shown}"
    );
    term.send_line("y").unwrap();
    // Then the hook's line for the shell's start-up file (tests/setup_init.rs).
    term.exp_string("Add these lines to the end of ~/.bashrc? [Y/n] ")
        .unwrap();
    term.send_line("n").unwrap();
    let rest = term.exp_eof().unwrap();
    assert!(
        !format!("{shown}{rest}").contains(&secret),
        "the secret was echoed"
    );

    let config = std::fs::read_to_string(sandbox.home.join(".aws/config")).unwrap();
    assert_eq!(
        config,
        format!("[profile boot]\n\n[profile dave]\nmfa_serial = {serial}\nregion = eu-north-1\n")
    );
    let credentials = std::fs::read_to_string(credentials_path(&sandbox)).unwrap();
    assert!(
        credentials.ends_with(&format!(
            "\n[dave]\naws_access_key_id = {id}\naws_secret_access_key = {secret}\n"
        )),
        "{credentials}"
    );
    let out = sandbox.run(&["env", "dave", "--token", &totp(seed, 0)]);
    assert!(out.status.success(), "{}", stderr(&out));
}

/// Issue 10, item 6: `mfa write` and `mfa setup` in one directory, each
/// under its own file's lock, never remove the other's temporary file.
#[test]
fn writers_of_two_files_in_one_directory_keep_each_others_temporaries() {
    let aws = FakeAws::start();
    let sandbox = Sandbox::new(&aws);
    sandbox
        .config(&standard_config())
        .credentials(&standard_credentials());
    assert!(
        sandbox
            .run(&["env", "alice", "--token", "123456"])
            .status
            .success()
    );
    let bin = env!("CARGO_BIN_EXE_mfa");
    for round in 0..2 {
        let loops = [
            format!(
                "for i in $(seq 40); do '{bin}' write alice --section s$((i%3)) || exit 1; done"
            ),
            format!(
                "for i in $(seq 40); do '{bin}' setup --yes --profile alice --mfa-serial {SERIAL} --region r$((i%2)) || exit 1; done"
            ),
        ];
        let children: Vec<_> = loops
            .iter()
            .map(|script| {
                sandbox
                    .command("sh")
                    .args(["-c", script])
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for child in children {
            let out = child.wait_with_output().unwrap();
            assert!(out.status.success(), "round {round}: {}", stderr(&out));
        }
    }
    let text = std::fs::read_to_string(credentials_path(&sandbox)).unwrap();
    assert!(text.starts_with(&standard_credentials()), "{text}");
}

/// Issue 10, item 8: session secrets never go into a file others can read:
/// it is made 0600 with a message; and the temporary file, the one a
/// killed writer would leave, is 0600 while it holds them.
#[test]
fn write_makes_a_credentials_file_others_can_read_private_and_its_temporary_too() {
    let aws = FakeAws::start();
    let sandbox = Sandbox::new(&aws);
    sandbox
        .config(&standard_config())
        .credentials(&standard_credentials());
    let path = credentials_path(&sandbox);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    assert!(
        sandbox
            .run(&["env", "admin", "--token", "123456"])
            .status
            .success()
    );
    // Every fsync held up: the temporary file is looked at while it waits.
    let writer = delayed(&sandbox, "fsync", &["write", "admin"])
        .spawn()
        .unwrap();
    let aws_dir = sandbox.home.join(".aws");
    let temporary = || {
        std::fs::read_dir(&aws_dir)
            .unwrap()
            .flatten()
            .find(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
    };
    wait_for("a temporary file", || temporary().is_some());
    std::thread::sleep(Duration::from_millis(300));
    if let Some(entry) = temporary() {
        let mode = entry.metadata().unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the temporary file holding the session");
    }
    let out = writer.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(
        stderr(&out).contains("was readable by others (mode 0644)")
            && stderr(&out).contains("now 0600"),
        "{}",
        stderr(&out)
    );
    assert!(
        std::fs::read_to_string(&path)
            .unwrap()
            .contains("[admin-mfa]")
    );
}

/// Issue 10, item 7: `--png` onto a symlink replaces the link; the file it
/// pointed to stays as it was.
#[test]
fn device_create_png_does_not_write_through_a_symlink() {
    let aws = FakeAws::start();
    let sandbox = Sandbox::new(&aws);
    let (id, secret) = create_iam_user(&sandbox, "dora");
    sandbox.config("[profile dora]\n").credentials(&format!(
        "[dora]\naws_access_key_id = {id}\naws_secret_access_key = {secret}\n"
    ));
    let important = sandbox.path("important.txt");
    std::fs::write(&important, "keep me\n").unwrap();
    let png = sandbox.path("qr.png");
    std::os::unix::fs::symlink(&important, &png).unwrap();
    let out = sandbox.run(&[
        "device",
        "create",
        "dora",
        "--profile",
        "dora",
        "--png",
        png.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&important).unwrap(), "keep me\n");
    let meta = std::fs::symlink_metadata(&png).unwrap();
    assert!(meta.file_type().is_file());
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    assert_eq!(&std::fs::read(&png).unwrap()[1..4], b"PNG");
}

/// A `--png` that cannot be written fails before the device is created:
/// its seed is shown only once, and would otherwise be lost.
#[test]
fn device_create_png_to_an_unwritable_place_creates_no_device() {
    let aws = FakeAws::start();
    let sandbox = Sandbox::new(&aws);
    let (id, secret) = create_iam_user(&sandbox, "erin");
    sandbox.config("[profile erin]\n").credentials(&format!(
        "[erin]\naws_access_key_id = {id}\naws_secret_access_key = {secret}\n"
    ));
    let missing = sandbox.path("no-such-dir/qr.png");
    let directory = sandbox.path("");
    for png in [&missing, &directory] {
        let out = sandbox.run(&[
            "device",
            "create",
            "erin",
            "--profile",
            "erin",
            "--png",
            png.to_str().unwrap(),
        ]);
        assert_fails(&out, 1, "cannot write");
    }
    assert_eq!(aws.count("CreateVirtualMFADevice"), 0);
}

/// Issue 10, item 5 for setup: keys another run put in the credentials
/// file while setup waited for the lock are not overwritten.
#[test]
fn setup_does_not_overwrite_keys_written_while_it_waited_for_the_lock() {
    let aws = FakeAws::start();
    let sandbox = Sandbox::new(&aws);
    sandbox
        .config("")
        .credentials("[work]\nregion = eu-west-1\n");
    let mut command = delayed(
        &sandbox,
        "flock",
        &["setup", "--yes", "--profile", "work", "--keys-from-env"],
    );
    command
        .args(["--mfa-serial", SERIAL, "--region", "eu-west-1"])
        .env("AWS_ACCESS_KEY_ID", "AKIASETUPKEY")
        .env("AWS_SECRET_ACCESS_KEY", "setup-secret");
    let setup = command.spawn().expect("strace");
    let lock = sandbox.home.join(".aws/.credentials.mfa-lock");
    wait_for("setup takes the lock", || lock.exists());
    let theirs = "[work]\nregion = eu-west-1\naws_access_key_id = AKIATHEIRS\naws_secret_access_key = their-secret\n";
    std::fs::write(credentials_path(&sandbox), theirs).unwrap();
    let out = setup.wait_with_output().unwrap();
    assert_fails(&out, 2, "changed while setup ran");
    assert_eq!(
        std::fs::read_to_string(credentials_path(&sandbox)).unwrap(),
        theirs
    );
    assert_eq!(
        std::fs::read_to_string(sandbox.home.join(".aws/config")).unwrap(),
        ""
    );
}
