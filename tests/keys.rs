//! Long-term keys out of plaintext (SPEC §7), through the binary with the
//! encrypted file store: add, use, remove, migrate losslessly, rotate
//! against the local IAM — and the cache hit never opens the store.

mod support;

use std::process::Output;

use serde_json::{Value, json};
use support::*;

const PASSPHRASE: &str = "correct horse battery staple";

fn keyed(sandbox: &Sandbox, args: &[&str]) -> Output {
    sandbox
        .mfa()
        .env("MFA_BACKEND", "file")
        .env("MFA_FILE_PASSPHRASE", PASSPHRASE)
        .args(args)
        .output()
        .unwrap()
}

/// Every file under `dir`, as bytes.
fn all_files(dir: &std::path::Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                out.extend(all_files(&path));
            } else if let Ok(bytes) = std::fs::read(&path) {
                out.push((path, bytes));
            }
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[test]
fn added_keys_serve_sessions_and_a_cache_hit_never_opens_the_store() {
    let aws = FakeAws::start();
    let sandbox = Sandbox::new(&aws);
    sandbox.config(&standard_config());
    let out = sandbox
        .mfa()
        .env("MFA_BACKEND", "file")
        .env("MFA_FILE_PASSPHRASE", PASSPHRASE)
        .env("AWS_ACCESS_KEY_ID", USER_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", USER_SECRET)
        .args(["add", "alice", "--from-env"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("in the file store") && !stderr(&out).contains(USER_SECRET));

    let list: Value = serde_json::from_slice(&keyed(&sandbox, &["list", "--json"]).stdout).unwrap();
    assert_eq!(list[0]["keys"], "keychain");
    assert_eq!(list[0]["key_store"], "file");
    assert_eq!(list[0]["kind"], "mfa-user");

    let out = keyed(&sandbox, &["env", "admin", "--token", "123456"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let gst = aws
        .calls()
        .into_iter()
        .find(|c| c["action"] == "GetSessionToken")
        .unwrap();
    assert_eq!(
        gst["access_key_id"], USER_KEY_ID,
        "the stored keys made the session"
    );

    // A wrong passphrase cannot open the store: a cache hit does not care.
    let hit = sandbox
        .mfa()
        .env("MFA_BACKEND", "file")
        .env("MFA_FILE_PASSPHRASE", "wrong")
        .args(["env", "readonly"])
        .output()
        .unwrap();
    assert!(hit.status.success(), "{}", stderr(&hit));
    let miss = sandbox
        .mfa()
        .env("MFA_BACKEND", "file")
        .env("MFA_FILE_PASSPHRASE", "wrong")
        .args(["env", "alice", "--token", "123456", "--refresh"])
        .output()
        .unwrap();
    assert_fails(&miss, 1, "passphrase");

    // The secret is nowhere in the clear: not in any file mfa wrote.
    for (path, bytes) in all_files(&sandbox.home) {
        assert!(
            !contains(&bytes, USER_SECRET),
            "{} holds the secret",
            path.display()
        );
        assert!(
            !contains(&bytes, PASSPHRASE),
            "{} holds the passphrase",
            path.display()
        );
    }

    let out = keyed(&sandbox, &["remove", "alice"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = keyed(
        &sandbox,
        &["env", "alice", "--token", "123456", "--refresh"],
    );
    assert_fails(&out, 2, "mfa add alice");
    let out = keyed(&sandbox, &["remove", "alice"]);
    assert_fails(&out, 2, "no stored keys");
}

#[test]
fn migrate_moves_the_keys_out_of_a_commented_file_losslessly() {
    let aws = FakeAws::start();
    let sandbox = Sandbox::new(&aws);
    let before = format!(
        "# keep me\n[other]\naws_access_key_id = AKIAOTHER\naws_secret_access_key = other-secret ; inline\n\n\
         ; alice's keys\n[alice]\nregion = eu-west-1\naws_access_key_id = {USER_KEY_ID}\naws_secret_access_key = {USER_SECRET}\n# trailing comment\n"
    );
    sandbox.config(&standard_config()).credentials(&before);
    let out = keyed(&sandbox, &["migrate", "alice"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let after = std::fs::read_to_string(sandbox.home.join(".aws/credentials")).unwrap();
    assert_eq!(
        after,
        "# keep me\n[other]\naws_access_key_id = AKIAOTHER\naws_secret_access_key = other-secret ; inline\n\n\
         ; alice's keys\n[alice]\nregion = eu-west-1\n# trailing comment\n"
    );
    let out = keyed(&sandbox, &["env", "admin", "--token", "123456"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let show: Value =
        serde_json::from_slice(&keyed(&sandbox, &["show", "alice", "--json"]).stdout).unwrap();
    assert_eq!(
        (show["keys"].clone(), show["key_store"].clone()),
        (json!("keychain"), json!("file"))
    );
    // Nothing left to move.
    assert_fails(
        &keyed(&sandbox, &["migrate", "alice"]),
        2,
        "no keys in the files",
    );
    // And add refuses a profile whose file keys would win.
    let out = sandbox
        .mfa()
        .env("MFA_BACKEND", "file")
        .env("MFA_FILE_PASSPHRASE", PASSPHRASE)
        .env("AWS_ACCESS_KEY_ID", "AKIANEW")
        .env("AWS_SECRET_ACCESS_KEY", "new")
        .args(["add", "other", "--from-env"])
        .output()
        .unwrap();
    assert_fails(&out, 2, "mfa migrate other");
}

fn active_keys(sandbox: &Sandbox, user: &str) -> Vec<String> {
    let listed = iam_admin(sandbox, &["list-access-keys", "--user-name", user]);
    listed["AccessKeyMetadata"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["AccessKeyId"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn rotate_stores_a_new_key_and_deletes_the_old_one() {
    let aws = FakeAws::start();
    let sandbox = Sandbox::new(&aws);
    let (id, secret) = create_iam_user(&sandbox, "erin");
    sandbox.config("[profile erin]\nregion = eu-west-1\n");
    let out = sandbox
        .mfa()
        .env("MFA_BACKEND", "file")
        .env("MFA_FILE_PASSPHRASE", PASSPHRASE)
        .env("AWS_ACCESS_KEY_ID", &id)
        .env("AWS_SECRET_ACCESS_KEY", &secret)
        .args(["add", "erin", "--from-env"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));

    let out = keyed(&sandbox, &["rotate", "erin"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stderr(&out).contains(&secret));
    let keys = active_keys(&sandbox, "erin");
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert_ne!(keys[0], id, "the old key is gone");
    assert!(stderr(&out).contains(&keys[0]));
    // The stored key is the new one, and it works.
    let out = keyed(&sandbox, &["env", "erin", "--token", "123456"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let gst = aws.last_call("GetSessionToken");
    assert_eq!(gst["access_key_id"], keys[0].as_str());

    // With the delete failing, the new key is stored and the message says
    // the old one is still active.
    aws.fault(json!({"action": "DeleteAccessKey", "status": 500}));
    let out = keyed(&sandbox, &["rotate", "erin"]);
    assert_fails(&out, 1, "is still active");
    let now = active_keys(&sandbox, "erin");
    assert_eq!(now.len(), 2, "{now:?}");
    let newest = now.iter().find(|k| **k != keys[0]).unwrap();
    assert!(stderr(&out).contains(newest.as_str()) && stderr(&out).contains(&keys[0]));
    let out = keyed(&sandbox, &["env", "erin", "--token", "123456", "--refresh"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let gst = aws.last_call("GetSessionToken");
    assert_eq!(
        gst["access_key_id"],
        newest.as_str(),
        "the working new key is stored"
    );
}

#[test]
fn rotate_works_for_keys_in_the_credentials_file_too() {
    let aws = FakeAws::start();
    let sandbox = Sandbox::new(&aws);
    let (id, secret) = create_iam_user(&sandbox, "frank");
    let before = format!(
        "# frank\n[frank]\naws_access_key_id = {id}\naws_secret_access_key = {secret}\nregion = eu-west-1\n"
    );
    sandbox.config("").credentials(&before);
    let out = sandbox.run(&["rotate", "frank"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let keys = active_keys(&sandbox, "frank");
    assert_eq!(keys.len(), 1);
    let after = std::fs::read_to_string(sandbox.home.join(".aws/credentials")).unwrap();
    assert!(
        after.starts_with("# frank\n[frank]\naws_access_key_id = "),
        "{after}"
    );
    assert!(
        after.contains(&keys[0])
            && !after.contains(&secret)
            && after.ends_with("region = eu-west-1\n"),
        "{after}"
    );
}

/// Issue 10, item 5: keys replaced in the file while `mfa migrate` waits
/// for the lock are the keys it moves; the ones it first saw are not
/// stored, and the new ones are not lost.
#[test]
fn migrate_moves_the_keys_the_file_holds_under_the_lock() {
    let aws = FakeAws::start();
    let sandbox = Sandbox::new(&aws);
    sandbox.config(&standard_config()).credentials(
        "[alice]\naws_access_key_id = AKIAOLDKEY\naws_secret_access_key = old-secret\n",
    );
    let migrate = delayed(&sandbox, "flock", &["migrate", "alice"])
        .env("MFA_BACKEND", "file")
        .env("MFA_FILE_PASSPHRASE", PASSPHRASE)
        .spawn()
        .unwrap();
    let lock = sandbox.home.join(".aws/.credentials.mfa-lock");
    wait_for("migrate takes the lock", || lock.exists());
    // New keys pasted in while it waits.
    sandbox.credentials(&standard_credentials());
    let out = migrate.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(sandbox.home.join(".aws/credentials")).unwrap(),
        "[alice]\n"
    );
    // The stored keys are the new ones: they make the session.
    let out = keyed(&sandbox, &["env", "alice", "--token", "123456"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        aws.last_call("GetSessionToken")["access_key_id"],
        USER_KEY_ID
    );
}

/// Keys that differ between the config and the credentials file: migrate
/// stops, and file and store stay as they were.
#[test]
fn migrate_refuses_two_different_pairs_and_changes_nothing() {
    let aws = FakeAws::start();
    let sandbox = Sandbox::new(&aws);
    let config =
        "[profile alice]\naws_access_key_id = AKIACONFIG\naws_secret_access_key = config-secret\n";
    sandbox.config(config).credentials(&standard_credentials());
    let out = keyed(&sandbox, &["migrate", "alice"]);
    assert_fails(
        &out,
        2,
        "more than one pair of keys (line 2 of ~/.aws/config",
    );
    assert_eq!(
        std::fs::read_to_string(sandbox.home.join(".aws/config")).unwrap(),
        config
    );
    assert_eq!(
        std::fs::read_to_string(sandbox.home.join(".aws/credentials")).unwrap(),
        standard_credentials()
    );
    assert!(all_files(&sandbox.home.join(".local/share/mfa")).is_empty());

    // An older pair shadowed by a later line of the same file: the same.
    let shadowed = format!(
        "[alice]\naws_access_key_id = AKIASHADOWED\n{}",
        standard_credentials()
    );
    sandbox.config(&standard_config()).credentials(&shadowed);
    let out = keyed(&sandbox, &["migrate", "alice"]);
    assert_fails(
        &out,
        2,
        "more than one pair of keys (line 2 of ~/.aws/credentials",
    );
    assert_eq!(
        std::fs::read_to_string(sandbox.home.join(".aws/credentials")).unwrap(),
        shadowed
    );
    assert!(all_files(&sandbox.home.join(".local/share/mfa")).is_empty());
}

/// Issue 10, item 5 for rotate: keys put in the credentials file while
/// rotate waited for the lock survive; the new key is deleted again.
#[test]
fn rotate_keeps_keys_written_while_it_waited_for_the_lock() {
    let aws = FakeAws::start();
    let sandbox = Sandbox::new(&aws);
    let (id, secret) = create_iam_user(&sandbox, "gina");
    sandbox.config("").credentials(&format!(
        "[gina]\naws_access_key_id = {id}\naws_secret_access_key = {secret}\n"
    ));
    let rotate = delayed(&sandbox, "flock", &["rotate", "gina"])
        .spawn()
        .unwrap();
    let lock = sandbox.home.join(".aws/.credentials.mfa-lock");
    wait_for("rotate takes the lock", || lock.exists());
    let theirs = "[gina]\naws_access_key_id = AKIATHEIRS\naws_secret_access_key = their-secret\n";
    sandbox.credentials(theirs);
    let out = rotate.wait_with_output().unwrap();
    assert_fails(&out, 1, "changed while it was being rotated");
    assert_eq!(
        std::fs::read_to_string(sandbox.home.join(".aws/credentials")).unwrap(),
        theirs
    );
    assert_eq!(
        active_keys(&sandbox, "gina"),
        vec![id],
        "the new key is gone"
    );
}

/// Issue 10, item 7: the file store writes no key file into a directory
/// planted as a link at its place, and leaves that directory as it was.
#[test]
fn the_file_store_refuses_a_keys_directory_that_is_a_link() {
    let aws = FakeAws::start();
    let sandbox = Sandbox::new(&aws);
    sandbox.config(&standard_config());
    let elsewhere = sandbox.path("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    let data = sandbox.home.join(".local/share/mfa");
    std::fs::create_dir_all(&data).unwrap();
    std::os::unix::fs::symlink(&elsewhere, data.join("keys")).unwrap();
    let out = sandbox
        .mfa()
        .env("MFA_BACKEND", "file")
        .env("MFA_FILE_PASSPHRASE", PASSPHRASE)
        .env("AWS_ACCESS_KEY_ID", USER_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", USER_SECRET)
        .args(["add", "alice", "--from-env"])
        .output()
        .unwrap();
    assert_fails(&out, 1, "symbolic link");
    assert!(all_files(&elsewhere).is_empty());
}

/// One file as both the config and the credentials file (named twice, or
/// through a link): migrate refuses at once, and changes nothing; before, it
/// locked the file twice and waited for itself for ever.
#[test]
fn migrate_refuses_one_file_named_as_both_files() {
    let sandbox = Sandbox::with_endpoint("http://127.0.0.1:9".into());
    let both = sandbox.path(".aws/both");
    let text = format!(
        "[profile alice]\nregion = eu-west-1\n[alice]\naws_access_key_id = {USER_KEY_ID}\naws_secret_access_key = {USER_SECRET}\n"
    );
    std::fs::write(&both, &text).unwrap();
    let link = sandbox.path(".aws/config-link");
    std::os::unix::fs::symlink(&both, &link).unwrap();
    for config in [&both, &link] {
        let started = std::time::Instant::now();
        let out = sandbox
            .mfa()
            .env("MFA_BACKEND", "file")
            .env("MFA_FILE_PASSPHRASE", PASSPHRASE)
            .env("MFA_LOCK_WAIT", "5")
            .env("AWS_CONFIG_FILE", config)
            .env("AWS_SHARED_CREDENTIALS_FILE", &both)
            .args(["migrate", "alice"])
            .output()
            .unwrap();
        assert_fails(&out, 2, "are one file");
        assert!(started.elapsed() < std::time::Duration::from_secs(4));
        assert_eq!(std::fs::read_to_string(&both).unwrap(), text);
    }
}
