//! The key store backends (SPEC §7) through the library API: the encrypted
//! file store, and the Secret Service for real (gnome-keyring-daemon on a
//! private D-Bus session bus started by `dbus-run-session`).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use mfa::context::Env;
use mfa::creds::Credentials;
use mfa::keystore::file::FileStore;
use mfa::keystore::secret_service::SecretService;
use mfa::keystore::{self, KeyStore};

const PASSPHRASE: &str = "correct horse battery staple";
const KEY_ID: &str = "AKIAIOSFODNN7EXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

fn keys(id: &str, secret: &str) -> Credentials {
    Credentials {
        access_key_id: id.to_string(),
        secret_access_key: secret.to_string(),
        session_token: None,
        expiration: None,
    }
}

fn env(home: &Path, passphrase: &str) -> Env {
    Env::from_pairs([
        ("HOME", home.to_str().unwrap()),
        ("MFA_DATA_DIR", home.join("data").to_str().unwrap()),
        ("MFA_FILE_PASSPHRASE", passphrase),
    ])
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

fn key_file(home: &Path, profile: &str) -> PathBuf {
    keystore::keys_dir(&env(home, "")).join(format!("{}.file", keystore::file_stem(profile)))
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

// --- the file store -------------------------------------------------------

#[test]
fn file_store_round_trip() {
    let home = tempfile::tempdir().unwrap();
    let env = env(home.path(), PASSPHRASE);
    let store = FileStore::new(&env);
    assert_eq!(store.name(), "file");
    assert_eq!(store.get("work").unwrap(), None);
    assert!(!store.delete("work").unwrap());

    store.set("work", &keys(KEY_ID, SECRET)).unwrap();
    let path = key_file(home.path(), "work");
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(&keystore::keys_dir(&env)), 0o700);
    // The file is its own marker.
    assert_eq!(keystore::stored_in(&env, "work"), Some("file"));
    // A fresh store (a fresh process) reads it back.
    assert_eq!(
        FileStore::new(&env).get("work").unwrap(),
        Some(keys(KEY_ID, SECRET))
    );
    // Replaced in place, nothing else left in the directory.
    store
        .set("work", &keys("AKIAOTHERKEY", "other/secret"))
        .unwrap();
    assert_eq!(
        FileStore::new(&env).get("work").unwrap(),
        Some(keys("AKIAOTHERKEY", "other/secret"))
    );
    let names: Vec<String> = std::fs::read_dir(keystore::keys_dir(&env))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names, ["work.file"]);

    assert!(store.delete("work").unwrap());
    assert!(!path.exists());
    assert_eq!(store.get("work").unwrap(), None);
    assert_eq!(keystore::stored_in(&env, "work"), None);
    assert!(!store.delete("work").unwrap());
}

#[test]
fn file_store_names_with_slashes_and_percent() {
    let home = tempfile::tempdir().unwrap();
    let env = env(home.path(), PASSPHRASE);
    let store = FileStore::new(&env);
    for profile in ["team/prod", "50%", "a%2Fb"] {
        store.set(profile, &keys(KEY_ID, profile)).unwrap();
    }
    for profile in ["team/prod", "50%", "a%2Fb"] {
        assert_eq!(store.get(profile).unwrap(), Some(keys(KEY_ID, profile)));
        assert!(key_file(home.path(), profile).exists(), "{profile}");
    }
}

#[test]
fn file_store_keeps_secrets_and_passphrase_out_of_the_file() {
    let home = tempfile::tempdir().unwrap();
    let store = FileStore::new(&env(home.path(), PASSPHRASE));
    store.set("work", &keys(KEY_ID, SECRET)).unwrap();
    let bytes = std::fs::read(key_file(home.path(), "work")).unwrap();
    let text = String::from_utf8(bytes.clone()).unwrap();
    assert!(!contains(&bytes, PASSPHRASE), "{text}");
    assert!(!contains(&bytes, SECRET), "{text}");
    assert!(!contains(&bytes, KEY_ID), "{text}");
    // The format: one line of JSON that says how to open it.
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["version"], 1);
    assert_eq!(json["kdf"], "argon2id");
    assert_eq!(json["aead"], "xchacha20poly1305");
    assert!(json["m_kib"].as_u64().unwrap() >= 19 * 1024);
    assert!(text.ends_with("}\n") && text.lines().count() == 1);
    // A fresh salt and nonce each time: the same keys never give the same file.
    store.set("work", &keys(KEY_ID, SECRET)).unwrap();
    let again = std::fs::read_to_string(key_file(home.path(), "work")).unwrap();
    let again: serde_json::Value = serde_json::from_str(&again).unwrap();
    for field in ["salt", "nonce", "ciphertext"] {
        assert_ne!(json[field], again[field], "{field}");
    }
}

#[test]
fn file_store_wrong_passphrase_is_refused_and_changes_nothing() {
    let home = tempfile::tempdir().unwrap();
    FileStore::new(&env(home.path(), PASSPHRASE))
        .set("work", &keys(KEY_ID, SECRET))
        .unwrap();
    let path = key_file(home.path(), "work");
    let before = std::fs::read(&path).unwrap();

    let wrong = FileStore::new(&env(home.path(), "not the passphrase"));
    let err = format!("{:#}", wrong.get("work").unwrap_err());
    assert!(err.contains("wrong passphrase for"), "{err}");
    assert!(err.contains("work.file"), "{err}");
    assert!(
        !err.contains(SECRET) && !err.contains("not the passphrase"),
        "{err}"
    );

    // Storing with another passphrase is refused too: one passphrase opens
    // every file, and nothing is written.
    let err = format!("{:#}", wrong.set("work", &keys(KEY_ID, "new")).unwrap_err());
    assert!(err.contains("wrong passphrase for"), "{err}");
    let err = format!(
        "{:#}",
        wrong.set("other", &keys(KEY_ID, "new")).unwrap_err()
    );
    assert!(err.contains("nothing was stored"), "{err}");
    assert!(!key_file(home.path(), "other").exists());
    assert_eq!(std::fs::read(&path).unwrap(), before);
    assert_eq!(mode(&path), 0o600);
    assert_eq!(
        FileStore::new(&env(home.path(), PASSPHRASE))
            .get("work")
            .unwrap(),
        Some(keys(KEY_ID, SECRET))
    );
}

#[test]
fn file_store_refuses_a_file_with_any_byte_flipped() {
    let home = tempfile::tempdir().unwrap();
    let env = env(home.path(), PASSPHRASE);
    let store = FileStore::new(&env);
    store.set("work", &keys(KEY_ID, SECRET)).unwrap();
    let path = key_file(home.path(), "work");
    let original = std::fs::read(&path).unwrap();
    // Every byte, one bit at a time: the store keeps the last derived key,
    // so only flips in the salt or the cost derive again.
    for i in 0..original.len() {
        let mut bytes = original.clone();
        bytes[i] ^= 0x01;
        std::fs::write(&path, &bytes).unwrap();
        match store.get("work") {
            Ok(got) => panic!(
                "byte {i} flipped ({:?}): accepted as {got:?}",
                String::from_utf8_lossy(&bytes)
            ),
            Err(e) => {
                let e = format!("{e:#}");
                assert!(
                    e.contains("wrong passphrase for") || e.contains("format"),
                    "byte {i}: {e}"
                );
                assert!(!e.contains(SECRET), "{e}");
            }
        }
    }
    // Truncated, or something appended: refused as well.
    std::fs::write(&path, &original[..original.len() - 10]).unwrap();
    assert!(store.get("work").is_err());
    std::fs::write(&path, [&original[..], b" "].concat()).unwrap();
    assert!(store.get("work").is_err());
    std::fs::write(&path, &original).unwrap();
    assert_eq!(store.get("work").unwrap(), Some(keys(KEY_ID, SECRET)));
}

#[test]
fn file_store_refuses_a_file_renamed_to_another_profile() {
    let home = tempfile::tempdir().unwrap();
    let store = FileStore::new(&env(home.path(), PASSPHRASE));
    store.set("dev", &keys(KEY_ID, SECRET)).unwrap();
    let dev = key_file(home.path(), "dev");
    let prod = key_file(home.path(), "prod");
    std::fs::copy(&dev, &prod).unwrap();
    std::fs::set_permissions(&prod, std::fs::Permissions::from_mode(0o600)).unwrap();
    let err = format!("{:#}", store.get("prod").unwrap_err());
    assert!(err.contains("wrong passphrase for"), "{err}");
    assert!(err.contains("prod.file"), "{err}");
    assert_eq!(store.get("dev").unwrap(), Some(keys(KEY_ID, SECRET)));
}

#[test]
fn file_store_refuses_a_file_others_can_read() {
    let home = tempfile::tempdir().unwrap();
    let store = FileStore::new(&env(home.path(), PASSPHRASE));
    store.set("work", &keys(KEY_ID, SECRET)).unwrap();
    let path = key_file(home.path(), "work");
    for bad in [0o644, 0o640, 0o604, 0o606, 0o660] {
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(bad)).unwrap();
        let err = format!("{:#}", store.get("work").unwrap_err());
        assert!(err.contains("open to others"), "{err}");
        assert!(err.contains(&format!("{bad:04o}")), "{err}");
        assert!(err.contains("work.file"), "{err}");
    }
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert_eq!(store.get("work").unwrap(), Some(keys(KEY_ID, SECRET)));
    // 0400 is private too.
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o400)).unwrap();
    assert_eq!(store.get("work").unwrap(), Some(keys(KEY_ID, SECRET)));
}

#[test]
fn file_store_without_passphrase_or_terminal_says_what_to_set() {
    let home = tempfile::tempdir().unwrap();
    // No MFA_FILE_PASSPHRASE: the store asks on /dev/tty, which a test
    // under `cargo test` may or may not have; run it where there is none.
    let exe = std::env::current_exe().unwrap();
    let out = Command::new(&exe)
        .args(["--exact", "inner_no_terminal", "--nocapture"])
        .env("MFA_TEST_INNER", "no-terminal")
        .env("MFA_TEST_HOME", home.path())
        .env_remove("MFA_FILE_PASSPHRASE")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs only inside `file_store_without_passphrase_or_terminal_says_what_to_set`,
/// in a new session without a controlling terminal.
#[test]
fn inner_no_terminal() {
    if std::env::var("MFA_TEST_INNER").as_deref() != Ok("no-terminal") {
        return;
    }
    // SAFETY: setsid has no preconditions; it detaches from the terminal.
    unsafe { libc::setsid() };
    let home = PathBuf::from(std::env::var("MFA_TEST_HOME").unwrap());
    let store = FileStore::new(&env(&home, ""));
    let err = format!(
        "{:#}",
        store.set("work", &keys(KEY_ID, SECRET)).unwrap_err()
    );
    assert!(err.contains("MFA_FILE_PASSPHRASE"), "{err}");
    assert!(!key_file(&home, "work").exists());
}

/// Without `MFA_FILE_PASSPHRASE`, the passphrase is asked on the terminal
/// without echo: twice for the first file, once after, and a typo when
/// confirming stores nothing.
#[test]
fn file_store_asks_the_passphrase_on_the_terminal() {
    let home = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut command = Command::new(&exe);
    command
        .args(["--exact", "inner_terminal", "--nocapture"])
        .env("MFA_TEST_INNER", "terminal")
        .env("MFA_TEST_HOME", home.path())
        .env_remove("MFA_FILE_PASSPHRASE");
    let mut term = rexpect::session::spawn_command(command, Some(60_000)).unwrap();
    let mut seen = String::new();
    let mut answer = |prompt: &str, line: &str| {
        seen += &term.exp_string(prompt).unwrap();
        term.send_line(line).unwrap();
    };
    // The first file: asked twice; a mismatch stores nothing.
    answer("Passphrase for mfa's key file: ", "first try");
    answer("The same passphrase again: ", "first tyr");
    answer("Passphrase for mfa's key file: ", PASSPHRASE);
    answer("The same passphrase again: ", PASSPHRASE);
    // A fresh store reads it back: asked once.
    answer("Passphrase for mfa's key file: ", PASSPHRASE);
    // Another profile: asked once, and checked against the first file.
    answer("Passphrase for mfa's key file: ", "another passphrase");
    seen += &term.exp_eof().unwrap();
    assert!(seen.contains("test result: ok. 1 passed"), "{seen}");
    for step in [
        "mismatch refused",
        "stored",
        "read back",
        "other passphrase refused",
    ] {
        assert!(seen.contains(step), "{step}: {seen}");
    }
    // Nothing typed was echoed.
    for typed in ["first try", "first tyr", PASSPHRASE, "another passphrase"] {
        assert!(!seen.contains(typed), "{typed}: {seen}");
    }
}

#[test]
fn inner_terminal() {
    if std::env::var("MFA_TEST_INNER").as_deref() != Ok("terminal") {
        return;
    }
    let home = PathBuf::from(std::env::var("MFA_TEST_HOME").unwrap());
    let env = env(&home, "");
    let err = FileStore::new(&env)
        .set("work", &keys(KEY_ID, SECRET))
        .unwrap_err();
    assert!(format!("{err:#}").contains("differ"), "{err:#}");
    assert!(!key_file(&home, "work").exists());
    println!("mismatch refused");
    FileStore::new(&env)
        .set("work", &keys(KEY_ID, SECRET))
        .unwrap();
    println!("stored");
    assert_eq!(
        FileStore::new(&env).get("work").unwrap(),
        Some(keys(KEY_ID, SECRET))
    );
    println!("read back");
    let err = FileStore::new(&env)
        .set("other", &keys(KEY_ID, SECRET))
        .unwrap_err();
    assert!(format!("{err:#}").contains("nothing was stored"), "{err:#}");
    assert!(!key_file(&home, "other").exists());
    println!("other passphrase refused");
}

// --- the Secret Service ---------------------------------------------------

/// The outer half: a private session bus with gnome-keyring-daemon on it,
/// its login keyring created and unlocked with a password on stdin, then
/// this test binary again for `inner_secret_service`.
#[test]
fn secret_service_for_real() {
    for tool in [
        "dbus-run-session",
        "dbus-send",
        "gnome-keyring-daemon",
        "secret-tool",
    ] {
        assert!(
            which(tool),
            "{tool} is missing: install the Debian packages dbus-daemon, dbus-bin, gnome-keyring and libsecret-tools"
        );
    }
    let home = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let script = r#"
        set -e
        # The login keyring, created with this password and unlocked; the
        # daemon registers org.freedesktop.secrets on this bus.
        eval "$(printf %s test-password | gnome-keyring-daemon --unlock --components=secrets)"
        eval "$(gnome-keyring-daemon --start --components=secrets)"
        export GNOME_KEYRING_CONTROL
        exec "$0" --exact inner_secret_service --nocapture --test-threads=1
    "#;
    let started = Instant::now();
    let out = Command::new("dbus-run-session")
        .args(["--", "sh", "-c", script])
        .arg(&exe)
        .env("MFA_TEST_INNER", "secret-service")
        .env("HOME", home.path())
        .env("XDG_DATA_HOME", home.path().join("share"))
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env("XDG_CACHE_HOME", home.path().join("cache"))
        .env("XDG_RUNTIME_DIR", home.path())
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    // The inner test ran (and was not filtered away).
    assert!(
        stdout.contains("inner_secret_service: all checks passed"),
        "{stdout}\n{stderr}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "{:?}",
        started.elapsed()
    );
}

fn secret_tool(args: &[&str]) -> std::process::Output {
    Command::new("secret-tool").args(args).output().unwrap()
}

/// The inner half, on the private bus: the store against the real daemon,
/// checked with libsecret's own `secret-tool`.
#[test]
fn inner_secret_service() {
    if std::env::var("MFA_TEST_INNER").as_deref() != Ok("secret-service") {
        return;
    }
    let started = Instant::now();
    let store = SecretService::connect().unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(store.name(), "secret-service");
    assert_eq!(store.get("work").unwrap(), None);
    assert!(!store.delete("work").unwrap());

    store.set("work", &keys(KEY_ID, SECRET)).unwrap();
    // libsecret sees one item, the keys as JSON.
    let out = secret_tool(&["lookup", "service", "mfa", "profile", "work"]);
    assert!(out.status.success(), "{out:?}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"AccessKeyId": KEY_ID, "SecretAccessKey": SECRET})
    );
    let out = secret_tool(&["search", "--all", "service", "mfa", "profile", "work"]);
    let listing =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    assert!(listing.contains("label = mfa: work"), "{listing}");
    assert_eq!(listing.matches("label = ").count(), 1, "{listing}");

    // A fresh connection reads it back.
    assert_eq!(
        SecretService::connect().unwrap().get("work").unwrap(),
        Some(keys(KEY_ID, SECRET))
    );

    // Replaced, not duplicated; other profiles are other items.
    store
        .set("work", &keys("AKIAOTHERKEY", "other/secret"))
        .unwrap();
    store
        .set("team/prod", &keys(KEY_ID, "prod secret"))
        .unwrap();
    assert_eq!(
        store.get("work").unwrap(),
        Some(keys("AKIAOTHERKEY", "other/secret"))
    );
    assert_eq!(
        store.get("team/prod").unwrap(),
        Some(keys(KEY_ID, "prod secret"))
    );
    let out = secret_tool(&["search", "--all", "service", "mfa"]);
    let listing =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    assert_eq!(listing.matches("label = ").count(), 2, "{listing}");
    // Items that another program stored under other attributes are not ours.
    let mut child = Command::new("secret-tool")
        .args([
            "store",
            "--label=other",
            "service",
            "other",
            "profile",
            "work",
        ])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(b"not ours").unwrap();
    assert!(child.wait().unwrap().success());
    assert_eq!(
        store.get("work").unwrap(),
        Some(keys("AKIAOTHERKEY", "other/secret"))
    );

    assert!(store.delete("work").unwrap());
    let out = secret_tool(&["lookup", "service", "mfa", "profile", "work"]);
    assert!(!out.status.success() && out.stdout.is_empty(), "{out:?}");
    assert_eq!(store.get("work").unwrap(), None);
    assert!(!store.delete("work").unwrap());
    assert_eq!(
        store.get("team/prod").unwrap(),
        Some(keys(KEY_ID, "prod secret"))
    );
    let out = secret_tool(&["lookup", "service", "other", "profile", "work"]);
    assert_eq!(out.stdout, b"not ours");
    assert!(store.delete("team/prod").unwrap());

    // A locked keyring is unlocked through the Secret Service's prompt;
    // with no one to answer it (no display here), a clear error, no hang.
    store.set("work", &keys(KEY_ID, SECRET)).unwrap();
    let lock = Command::new("dbus-send")
        .args([
            "--session",
            "--print-reply",
            "--dest=org.freedesktop.secrets",
            "/org/freedesktop/secrets",
            "org.freedesktop.Secret.Service.Lock",
            "array:objpath:/org/freedesktop/secrets/collection/login",
        ])
        .output()
        .unwrap();
    assert!(lock.status.success(), "{lock:?}");
    let started = Instant::now();
    let err = format!(
        "{:#}",
        SecretService::connect().unwrap().get("work").unwrap_err()
    );
    assert!(err.contains("the keyring is locked"), "{err}");
    assert!(!err.contains(SECRET), "{err}");
    assert!(started.elapsed() < Duration::from_secs(20));
    println!("inner_secret_service: all checks passed");
}

/// `connect` must fail at once, and say why, without a bus or without a
/// Secret Service on it: each case in a child process, since the bus
/// address comes from the process environment.
#[test]
fn secret_service_absent_fails_fast() {
    let exe = std::env::current_exe().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let run = |cmd: &mut Command| {
        let out = cmd
            .env("MFA_TEST_INNER", "connect-fails")
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success() && stdout.contains("connect failed fast"),
            "{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    };
    let inner = ["--exact", "inner_connect_fails", "--nocapture"];
    // The address names a socket that is not there.
    let out = run(Command::new(&exe).args(inner).env(
        "DBUS_SESSION_BUS_ADDRESS",
        format!("unix:path={}", dir.path().join("nobus").display()),
    ));
    assert!(out.contains("D-Bus"), "{out}");
    // No address, no $XDG_RUNTIME_DIR/bus.
    run(Command::new(&exe)
        .args(inner)
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env("XDG_RUNTIME_DIR", dir.path()));
    // A bus with no Secret Service on it and none to start.
    if which("dbus-run-session") {
        let config = dir.path().join("session.conf");
        std::fs::write(
            &config,
            r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:tmpdir=/tmp</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#,
        )
        .unwrap();
        let out = run(Command::new("dbus-run-session")
            .arg(format!("--config-file={}", config.display()))
            .arg("--")
            .arg(&exe)
            .args(inner));
        assert!(out.contains("Secret Service"), "{out}");
    }
}

#[test]
fn inner_connect_fails() {
    if std::env::var("MFA_TEST_INNER").as_deref() != Ok("connect-fails") {
        return;
    }
    let started = Instant::now();
    let result = SecretService::connect();
    let took = started.elapsed();
    let err = match result {
        Ok(_) => panic!("connected"),
        Err(e) => format!("{e:#}"),
    };
    assert!(took < Duration::from_millis(500), "{took:?}: {err}");
    println!("connect failed fast ({took:?}): {err}");
}

fn which(tool: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(tool).is_file()))
}
