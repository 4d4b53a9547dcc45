//! list, show, roles, status and clear: the documented JSON shapes, and
//! tables for people.

mod support;

use serde_json::{Value, json};
use support::*;

fn json_of(output: &std::process::Output) -> Value {
    assert!(output.status.success(), "{}", stderr(output));
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{e}: {}", stdout(output)))
}

fn config_with_every_kind() -> String {
    format!(
        "{}\n[profile legacy]\nrole_arn = arn:aws:iam::1:role/legacy\nsource_profile = plain\n\
         [profile proc]\ncredential_process = /bin/false\n\
         [profile sso]\nsso_session = corp\nsso_account_id = 1\n[sso-session corp]\nsso_start_url = https://x\n\
         [profile other]\nregion = ap-south-1\n",
        standard_config()
    )
}

fn credentials_with_every_kind() -> String {
    format!(
        "{}\n[plain]\naws_access_key_id = AKIAPLAIN\naws_secret_access_key = plain-secret\n\
         [temp]\naws_access_key_id = ASIATEMP\naws_secret_access_key = temp-secret\naws_session_token = temp-token\n",
        standard_credentials()
    )
}

#[test]
fn list_json_has_every_profile_in_file_order_with_kinds() {
    let aws = FakeAws::start();
    let sandbox = Sandbox::new(&aws);
    sandbox
        .config(&config_with_every_kind())
        .credentials(&credentials_with_every_kind());
    let list = json_of(&sandbox.run(&["list", "--json"]));
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "alice", "admin", "readonly", "legacy", "proc", "sso", "other", "plain", "temp"
        ]
    );
    let kinds: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "mfa-user", "mfa-role", "mfa-role", "role", "process", "sso", "other", "user",
            "session"
        ]
    );
    assert_eq!(
        list[1],
        json!({
            "name": "admin", "kind": "mfa-role", "mfa_serial": SERIAL, "role_arn": ADMIN_ROLE,
            "source_profile": "alice", "region": null, "session_expires_at": null,
            "keys": null, "key_store": null
        })
    );

    // After a session, the profiles that use it show when it ends.
    assert!(
        sandbox
            .run(&["env", "admin", "--token", "123456"])
            .status
            .success()
    );
    let list = json_of(&sandbox.run(&["list", "--json"]));
    let expires = list[1]["session_expires_at"]
        .as_str()
        .expect("admin has a session");
    assert!(mfa::creds::parse_rfc3339(expires).is_some());
    assert!(
        list[0]["session_expires_at"].is_string(),
        "alice's MFA session too"
    );
    assert!(
        list[2]["session_expires_at"].is_null(),
        "readonly has none yet"
    );

    let table = stdout(&sandbox.run(&["list"]));
    assert!(table.starts_with("PROFILE"), "{table}");
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("admin ") && l.contains("mfa-role") && l.ends_with('m')),
        "{table}"
    );
}

#[test]
fn show_masks_secrets_and_keeps_file_order() {
    let aws = FakeAws::start();
    let sandbox = Sandbox::new(&aws);
    sandbox
        .config(&config_with_every_kind())
        .credentials(&credentials_with_every_kind());
    let shown = json_of(&sandbox.run(&["show", "temp", "--json"]));
    assert_eq!(
        shown,
        json!({"name": "temp", "kind": "session", "keys": "file", "key_store": null, "properties": {
            "aws_access_key_id": "ASIATEMP",
            "aws_secret_access_key": "********",
            "aws_session_token": "********"
        }})
    );
    let text = stdout(&sandbox.run(&["show", "temp"]));
    assert!(
        !text.contains("temp-secret") && !text.contains("temp-token"),
        "{text}"
    );
    // Properties stay in file order (read from the raw text: serde_json's
    // Value would sort them).
    let raw = stdout(&sandbox.run(&["show", "readonly", "--json"]));
    let at = |key: &str| raw.find(&format!("\"{key}\"")).unwrap();
    assert!(
        at("role_arn") < at("source_profile") && at("source_profile") < at("region"),
        "{raw}"
    );
}

#[test]
fn roles_lists_each_arn_once_with_its_profiles() {
    let aws = FakeAws::start();
    let sandbox = Sandbox::new(&aws);
    sandbox.config(&format!(
        "{}\n[profile admin-eu]\nrole_arn = {ADMIN_ROLE}\nsource_profile = alice\nregion = eu-central-1\n",
        standard_config()
    ));
    let roles = json_of(&sandbox.run(&["roles", "--json"]));
    assert_eq!(
        roles,
        json!([
            {"role_arn": ADMIN_ROLE, "profiles": ["admin", "admin-eu"]},
            {"role_arn": READONLY_ROLE, "profiles": ["readonly"]}
        ])
    );
}

#[test]
fn status_shows_the_shell_session_and_the_cached_ones() {
    let aws = FakeAws::start();
    let sandbox = Sandbox::new(&aws);
    sandbox
        .config(&standard_config())
        .credentials(&standard_credentials());
    let empty = json_of(&sandbox.run(&["status", "--json"]));
    assert_eq!(empty, json!({"shell": null, "cached": [], "sso": []}));

    assert!(
        sandbox
            .run(&["env", "admin", "--token", "123456"])
            .status
            .success()
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let out = sandbox
        .mfa()
        .args(["status", "--json"])
        .env("MFA_PROFILE", "admin")
        .env("MFA_EXPIRES_AT", (now + 600).to_string())
        .env("AWS_ACCESS_KEY_ID", "ASIASHELL")
        .output()
        .unwrap();
    let status = json_of(&out);
    assert_eq!(status["shell"]["profile"], "admin");
    assert_eq!(status["shell"]["access_key_id"], "ASIASHELL");
    let left = status["shell"]["seconds_left"].as_i64().unwrap();
    assert!((590..=600).contains(&left), "{left}");
    let mut kinds: Vec<&str> = status["cached"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["kind"].as_str().unwrap())
        .collect();
    kinds.sort();
    assert_eq!(kinds, ["mfa-session", "role"]);
    let role = status["cached"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "role")
        .unwrap();
    assert_eq!(role["role_arn"], ADMIN_ROLE);
    assert_eq!(role["profile"], "admin");
    let text = stdout(&sandbox.run(&["status"]));
    assert!(text.contains("this shell: no mfa session"), "{text}");
    assert!(!text.contains(USER_SECRET));
}

#[test]
fn clear_deletes_a_profiles_chain_or_everything() {
    let aws = FakeAws::start();
    let sandbox = Sandbox::new(&aws);
    sandbox
        .config(&standard_config())
        .credentials(&standard_credentials());
    assert!(
        sandbox
            .run(&["env", "admin", "--token", "123456"])
            .status
            .success()
    );
    assert!(sandbox.run(&["env", "readonly"]).status.success());
    let count = || {
        std::fs::read_dir(sandbox.cache_dir())
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .path()
                    .extension()
                    .is_some_and(|x| x == "json")
            })
            .count()
    };
    assert_eq!(count(), 3);
    let out = sandbox.run(&["clear", "admin"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("deleted 2 cached sessions"),
        "{}",
        stderr(&out)
    );
    assert_eq!(count(), 1, "readonly's role session stays");
    // Its MFA session went with admin's chain: a code is needed again.
    assert!(!sandbox.run(&["env", "alice"]).status.success());
    let out = sandbox.run(&["clear", "--all"]);
    assert!(out.status.success());
    assert_eq!(count(), 0);
    assert!(stdout(&out).is_empty());
}

#[test]
fn prompt_prints_one_segment_from_the_environment_alone() {
    // No config, no cache, no STS: only the variables.
    let sandbox = Sandbox::with_endpoint("http://127.0.0.1:9".into());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let prompt = |expires: u64, format: Option<&str>| {
        let mut command = sandbox.mfa();
        command
            .env("MFA_PROFILE", "prod")
            .env("MFA_EXPIRES_AT", expires.to_string())
            .arg("prompt");
        if let Some(format) = format {
            command.args(["--format", format]);
        }
        let out = command.output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        stdout(&out)
    };
    assert_eq!(prompt(now + 42 * 60 + 30, None), "prod 42m\n");
    assert_eq!(prompt(now + 300, Some("{state}:{left}")), "warn:5m!\n");
    assert_eq!(
        prompt(now - 1, Some("[{profile} {state}]")),
        "[prod expired]\n"
    );
    let none = sandbox.run(&["prompt"]);
    assert!(none.status.success() && none.stdout.is_empty());
}

#[test]
fn use_and_off_without_the_hook_say_how_to_install_it() {
    let sandbox = Sandbox::with_endpoint("http://127.0.0.1:9".into());
    for args in [&["use", "prod", "--token", "123456"][..], &["off"]] {
        let out = sandbox.run(args);
        assert_fails(&out, 2, "mfa init");
        assert!(stderr(&out).contains("eval \"$(mfa init bash)\""));
        assert!(stderr(&out).contains("mfa init fish | source"));
    }
}

/// `mfa exec` reads the profile as a value after `--` (`mfa exec -- -h --
/// CMD`) and keeps SPEC §3's forms: `PROFILE -- CMD`, `PROFILE CMD` (the
/// `--` PowerShell drops), options before or after the profile.
#[test]
fn exec_takes_any_profile_name_after_a_double_dash() {
    let aws = FakeAws::start();
    let sandbox = Sandbox::new(&aws);
    sandbox
        .config(&option_like_profiles())
        .credentials(&standard_credentials());
    let show = [
        "sh",
        "-c",
        "printf '%s|%s' \"$MFA_PROFILE\" \"$*\"",
        "sh",
        "a",
        "--",
        "-h",
    ];
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--token", "123456", "--", "-h", "--"], "-h"),
        (vec!["--", "--help", "--"], "--help"),
        (vec!["--", "-V", "--"], "-V"),
        (vec!["--", "-V"], "-V"),
        (vec!["admin", "--"], "admin"),
        (vec!["admin"], "admin"),
        (vec!["--", "admin"], "admin"),
        (
            vec!["admin", "--refresh", "--token", "123456", "--"],
            "admin",
        ),
        (vec!["--refresh", "--token", "123456", "admin"], "admin"),
    ];
    for (args, profile) in cases {
        let out = sandbox
            .mfa()
            .arg("exec")
            .args(&args)
            .args(show)
            .output()
            .unwrap();
        assert!(out.status.success(), "exec {args:?}: {}", stderr(&out));
        assert_eq!(stdout(&out), format!("{profile}|a -- -h"), "exec {args:?}");
    }

    // Help is still help where an option is expected, and a missing
    // command is a usage error, before any code is asked for.
    let help = sandbox.run(&["exec", "-h"]);
    assert!(
        help.status.success() && stdout(&help).contains("Usage"),
        "{}",
        stdout(&help)
    );
    for args in [&["exec", "--", "-h"][..], &["exec", "--", "-h", "--"]] {
        assert_fails(&sandbox.run(args), 2, "CMD");
    }
}

/// `mfa shell -- -h` opens the `-h` profile's shell.
#[test]
fn shell_takes_any_profile_name_after_a_double_dash() {
    let aws = FakeAws::start();
    let sandbox = Sandbox::new(&aws);
    sandbox
        .config(&option_like_profiles())
        .credentials(&standard_credentials());
    let fake_shell = sandbox.path("fake-shell");
    std::fs::write(
        &fake_shell,
        "#!/bin/sh\nprintf '%s|%s' \"$MFA_PROFILE\" \"${MFA_PROMPT-unset}\"\n",
    )
    .unwrap();
    std::fs::set_permissions(
        &fake_shell,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    for name in OPTION_LIKE {
        let out = sandbox
            .mfa()
            .env("SHELL", &fake_shell)
            // The calling shell's segment, which speaks of another session.
            .env("MFA_PROMPT", "prod 12h00m")
            .args(["shell", "--token", "123456", "--", name])
            .output()
            .unwrap();
        assert!(out.status.success(), "{name}: {}", stderr(&out));
        assert_eq!(stdout(&out), format!("{name}|unset"));
    }
}

/// The KEYS column says where the keys are: the credentials file, the
/// config file, or a key store (`store:file` is the encrypted store, not a
/// file of the AWS CLI's); `--json` keeps `keys` and `key_store`.
#[test]
fn list_says_where_each_profiles_keys_are() {
    let sandbox = Sandbox::with_endpoint("http://127.0.0.1:9".into());
    sandbox
        .config(
            "[profile alice]\nregion = eu-west-1\n\
             [profile inconfig]\naws_access_key_id = AKIACONF\naws_secret_access_key = conf-secret\n\
             [profile stored]\nregion = eu-west-1\n\
             [profile nokeys]\nregion = eu-west-1\n",
        )
        .credentials(&standard_credentials());
    let keyed = |args: &[&str]| {
        sandbox
            .mfa()
            .env("MFA_BACKEND", "file")
            .env("MFA_FILE_PASSPHRASE", "correct horse battery staple")
            .env("AWS_ACCESS_KEY_ID", "AKIASTORED")
            .env("AWS_SECRET_ACCESS_KEY", "stored-secret")
            .args(args)
            .output()
            .unwrap()
    };
    let out = keyed(&["add", "stored", "--from-env"]);
    assert!(out.status.success(), "{}", stderr(&out));

    let out = keyed(&["list"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let table = stdout(&out);
    let mut lines = table.lines();
    let header: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    let column = header.iter().position(|h| *h == "KEYS").unwrap();
    let keys: Vec<(String, String)> = lines
        .map(|line| {
            let cells: Vec<&str> = line.split_whitespace().collect();
            (cells[0].to_string(), cells[column].to_string())
        })
        .collect();
    let expected = [
        ("alice", "credentials-file"),
        ("inconfig", "config-file"),
        ("stored", "store:file"),
        ("nokeys", "-"),
    ];
    for (name, place) in expected {
        assert!(
            keys.contains(&(name.to_string(), place.to_string())),
            "{name} should show {place}: {table}"
        );
    }

    let list = json_of(&keyed(&["list", "--json"]));
    let of = |name: &str| {
        let row = list
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap();
        (row["keys"].clone(), row["key_store"].clone())
    };
    assert_eq!(of("alice"), (json!("file"), Value::Null));
    assert_eq!(of("inconfig"), (json!("file"), Value::Null));
    assert_eq!(of("stored"), (json!("keychain"), json!("file")));
    assert_eq!(of("nokeys"), (Value::Null, Value::Null));
}
