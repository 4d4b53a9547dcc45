//! The credential engine end to end: the `mfa` binary against a local STS
//! (moto behind a layer that checks codes and durations as AWS does).

mod support;

use std::process::Stdio;

use serde_json::Value;
use support::*;

fn env_vars(output: &std::process::Output) -> Vec<(String, String)> {
    // Evaluate the bash output in real bash and read the variables back.
    let script = format!(
        "{}\nfor v in AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_CREDENTIAL_EXPIRATION AWS_SESSION_EXPIRATION MFA_PROFILE MFA_EXPIRES_AT AWS_REGION AWS_DEFAULT_REGION AWS_PROFILE; do if [ \"${{!v+set}}\" = set ]; then printf '%s=%s\\n' \"$v\" \"${{!v}}\"; fi; done",
        stdout(output)
    );
    let out = run_shell("bash", &script);
    assert!(out.status.success(), "bash: {}", stderr(&out));
    stdout(&out)
        .lines()
        .filter_map(|l| {
            l.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
        })
        .collect()
}

fn var<'a>(vars: &'a [(String, String)], name: &str) -> Option<&'a str> {
    vars.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn standard(aws: &FakeAws) -> Sandbox {
    let sandbox = Sandbox::new(aws);
    sandbox
        .config(&standard_config())
        .credentials(&standard_credentials());
    sandbox
}

#[test]
fn one_code_serves_every_role_of_its_source_and_the_cache_serves_the_rest() {
    let aws = FakeAws::start();
    let sandbox = standard(&aws);

    let admin = sandbox.run(&["env", "admin", "--shell", "bash", "--token", "123456"]);
    assert!(admin.status.success(), "{}", stderr(&admin));
    assert_eq!(
        (aws.count("GetSessionToken"), aws.count("AssumeRole")),
        (1, 1)
    );

    // No code and no terminal: the cached MFA session must serve this role.
    let readonly = sandbox.run(&["env", "readonly", "--shell", "bash"]);
    assert!(readonly.status.success(), "{}", stderr(&readonly));
    assert_eq!(
        (aws.count("GetSessionToken"), aws.count("AssumeRole")),
        (1, 2)
    );

    // Both roles again: cache hits, no STS call at all.
    let calls_before = aws.calls().len();
    let again = sandbox.run(&["env", "admin", "--shell", "bash"]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(
        stdout(&again),
        stdout(&admin),
        "a cache hit gives the same session"
    );
    assert!(
        sandbox
            .run(&["env", "readonly", "--shell", "bash"])
            .status
            .success()
    );
    assert_eq!(aws.calls().len(), calls_before);

    // The one GetSessionToken carried the serial and the code; the
    // AssumeRoles carried none.
    let calls = aws.calls();
    let gst: Vec<&Value> = calls
        .iter()
        .filter(|c| c["action"] == "GetSessionToken")
        .collect();
    assert_eq!(gst[0]["serial"], SERIAL);
    assert_eq!(gst[0]["token_code"], "123456");
    assert_eq!(gst[0]["access_key_id"], USER_KEY_ID);
    assert_eq!(gst[0]["duration"], 43200);
    for call in calls.iter().filter(|c| c["action"] == "AssumeRole") {
        assert_eq!(call["token_code"], Value::Null);
        assert_eq!(
            call["session_token"], true,
            "roles are assumed with the MFA session"
        );
        assert_eq!(call["role_session_name"], "mfa-alice");
        assert_eq!(call["duration"], 3600);
    }

    let vars = env_vars(&readonly);
    assert_eq!(var(&vars, "MFA_PROFILE"), Some("readonly"));
    assert_eq!(var(&vars, "AWS_REGION"), Some("us-west-2"));
    assert_eq!(var(&vars, "AWS_DEFAULT_REGION"), Some("us-west-2"));
    assert!(var(&vars, "AWS_ACCESS_KEY_ID").is_some_and(|k| k.starts_with("ASIA")));
    assert!(var(&vars, "AWS_SESSION_TOKEN").is_some_and(|t| !t.is_empty()));
}

#[test]
fn env_sets_every_variable_of_the_spec_and_unsets_conflicting_ones() {
    let aws = FakeAws::start();
    let sandbox = standard(&aws);
    let out = sandbox.run(&["env", "alice", "--shell", "bash", "--token", "123456"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    for name in ["AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SECURITY_TOKEN"] {
        assert!(text.contains(&format!("unset {name}\n")), "{text}");
    }
    let vars = env_vars(&out);
    let expires_at: i64 = var(&vars, "MFA_EXPIRES_AT").unwrap().parse().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!((expires_at - now - 43200).abs() < 120, "12 hours from now");
    let rfc = var(&vars, "AWS_CREDENTIAL_EXPIRATION").unwrap();
    assert_eq!(Some(rfc), var(&vars, "AWS_SESSION_EXPIRATION"));
    assert_eq!(rfc.len(), "2026-11-22T18:04:05Z".len());
    assert!(rfc.ends_with('Z'));
    assert_eq!(mfa::creds::parse_rfc3339(rfc), Some(expires_at));
    assert_eq!(var(&vars, "AWS_REGION"), Some("eu-west-1"));
    assert_eq!(var(&vars, "MFA_PROFILE"), Some("alice"));

    // --unset removes all of it.
    let unset = sandbox.run(&["env", "--unset", "--shell", "bash"]);
    let script = format!(
        "export AWS_ACCESS_KEY_ID=x MFA_PROFILE=y AWS_REGION=z AWS_CREDENTIAL_EXPIRATION=t\n{}\nenv | grep -E '^(AWS|MFA)_' || true",
        stdout(&unset)
    );
    let left = run_shell("bash", &script);
    // Everything but a region that is not the session's (the user's own).
    assert_eq!(stdout(&left), "AWS_REGION=z\n");
}

#[test]
fn ten_concurrent_credential_process_runs_ask_one_code_and_call_sts_twice() {
    let aws = FakeAws::start();
    let sandbox = Sandbox::new(&aws);
    let counter = sandbox.path("code-runs");
    // mfa_process counts its runs; the sleep widens the window for races.
    let process = format!(
        "echo run >> '{}'; sleep 0.3; echo 654321",
        counter.display()
    );
    sandbox
        .config(&format!(
            "[profile alice]\nmfa_serial = {SERIAL}\nmfa_process = {process}\n\n[profile admin]\nrole_arn = {ADMIN_ROLE}\nsource_profile = alice\n"
        ))
        .credentials(&standard_credentials());
    let children: Vec<_> = (0..10)
        .map(|_| {
            sandbox
                .mfa()
                .args(["credential-process", "admin"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn mfa")
        })
        .collect();
    let outputs: Vec<_> = children
        .into_iter()
        .map(|c| c.wait_with_output().expect("wait"))
        .collect();
    let mut keys = Vec::new();
    for out in &outputs {
        assert!(out.status.success(), "{}", stderr(out));
        let json: Value = serde_json::from_slice(&out.stdout).expect("JSON");
        assert_eq!(json["Version"], 1);
        assert!(json["SessionToken"].as_str().is_some_and(|t| !t.is_empty()));
        assert!(mfa::creds::parse_rfc3339(json["Expiration"].as_str().unwrap()).is_some());
        keys.push(json["AccessKeyId"].as_str().unwrap().to_string());
    }
    keys.dedup();
    assert_eq!(keys.len(), 1, "every run hands out the same session");
    let runs = std::fs::read_to_string(&counter).unwrap();
    assert_eq!(runs.lines().count(), 1, "one code asked");
    assert_eq!(aws.count("GetSessionToken"), 1);
    assert_eq!(aws.count("AssumeRole"), 1);
}

#[test]
fn root_keys_that_are_already_temporary_pass_the_code_to_the_first_assume_role() {
    let aws = FakeAws::start();
    let sandbox = Sandbox::new(&aws);
    // Temporary keys from moto itself, so that AssumeRole accepts them.
    let base = sandbox.run(&["credential-process", "plain"]);
    assert!(!base.status.success(), "no profile yet");
    sandbox
        .config("[profile plain]\nregion = us-east-1\n")
        .credentials(&format!(
            "[plain]\naws_access_key_id = {USER_KEY_ID}\naws_secret_access_key = {USER_SECRET}\n"
        ));
    let session: Value =
        serde_json::from_slice(&sandbox.run(&["credential-process", "plain"]).stdout).unwrap();
    sandbox
        .config(&format!(
            "[profile temp]\nmfa_serial = {SERIAL}\n\n[profile admin]\nrole_arn = {ADMIN_ROLE}\nsource_profile = temp\n"
        ))
        .credentials(&format!(
            "[temp]\naws_access_key_id = {}\naws_secret_access_key = {}\naws_session_token = {}\n",
            session["AccessKeyId"].as_str().unwrap(),
            session["SecretAccessKey"].as_str().unwrap(),
            session["SessionToken"].as_str().unwrap()
        ));
    let out = sandbox.run(&["env", "admin", "--shell", "bash", "--token", "222333"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let calls = aws.calls();
    let assume: Vec<&Value> = calls
        .iter()
        .filter(|c| c["action"] == "AssumeRole")
        .collect();
    assert_eq!(assume.len(), 1);
    assert_eq!(assume[0]["serial"], SERIAL);
    assert_eq!(assume[0]["token_code"], "222333");
    assert_eq!(
        calls
            .iter()
            .filter(|c| c["action"] == "GetSessionToken" && c["session_token"] == true)
            .count(),
        0,
        "GetSessionToken is never tried with session credentials"
    );
}

#[test]
fn a_profile_without_mfa_still_becomes_a_session_and_role_chains_work() {
    let aws = FakeAws::start();
    let sandbox = Sandbox::new(&aws);
    sandbox
        .config(&format!(
            "[profile plain]\n\n[profile first]\nrole_arn = {ADMIN_ROLE}\nsource_profile = plain\nrole_session_name = me\nexternal_id = ext-1\nduration_seconds = 1800\n\n\
             [profile second]\nrole_arn = {READONLY_ROLE}\nsource_profile = first\n"
        ))
        .credentials(&format!(
            "[plain]\naws_access_key_id = {USER_KEY_ID}\naws_secret_access_key = {USER_SECRET}\n"
        ));
    let out = sandbox.run(&["env", "plain", "--shell", "bash"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let vars = env_vars(&out);
    assert!(
        var(&vars, "AWS_ACCESS_KEY_ID").is_some_and(|k| k != USER_KEY_ID && k.starts_with("ASIA")),
        "long-term keys never reach the shell"
    );
    let gst = aws
        .calls()
        .into_iter()
        .find(|c| c["action"] == "GetSessionToken")
        .unwrap();
    assert_eq!(gst["serial"], Value::Null);
    assert_eq!(gst["token_code"], Value::Null);

    let chained = sandbox.run(&["env", "second", "--shell", "bash"]);
    assert!(chained.status.success(), "{}", stderr(&chained));
    let calls = aws.calls();
    let assume: Vec<&Value> = calls
        .iter()
        .filter(|c| c["action"] == "AssumeRole")
        .collect();
    assert_eq!(assume.len(), 2);
    assert_eq!(assume[0]["role_arn"], ADMIN_ROLE);
    assert_eq!(assume[0]["role_session_name"], "me");
    assert_eq!(assume[0]["external_id"], "ext-1");
    assert_eq!(assume[0]["duration"], 1800);
    assert_eq!(assume[1]["role_arn"], READONLY_ROLE);
    assert_eq!(
        aws.count("GetSessionToken"),
        1,
        "the session of `plain` was reused"
    );
}

#[test]
fn role_arn_flag_assumes_a_role_on_top_and_duration_applies_to_it() {
    let aws = FakeAws::start();
    let sandbox = standard(&aws);
    let extra = "arn:aws:iam::210987654321:role/audit";
    let out = sandbox.run(&[
        "env",
        "admin",
        "--shell",
        "bash",
        "--token",
        "123456",
        "--role-arn",
        extra,
        "--duration",
        "900",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let calls = aws.calls();
    let assume: Vec<&Value> = calls
        .iter()
        .filter(|c| c["action"] == "AssumeRole")
        .collect();
    assert_eq!(assume.len(), 2);
    assert_eq!(assume[1]["role_arn"], extra);
    assert_eq!(assume[1]["duration"], 900);
    assert_eq!(assume[0]["duration"], 3600);
}

#[test]
fn refresh_replaces_the_final_session_only() {
    let aws = FakeAws::start();
    let sandbox = standard(&aws);
    assert!(
        sandbox
            .run(&["env", "admin", "--token", "123456"])
            .status
            .success()
    );
    let first = sandbox.run(&["env", "admin", "--shell", "bash"]);
    let second = sandbox.run(&["env", "admin", "--shell", "bash", "--refresh"]);
    assert!(second.status.success(), "{}", stderr(&second));
    assert_ne!(stdout(&first), stdout(&second));
    assert_eq!(
        (aws.count("GetSessionToken"), aws.count("AssumeRole")),
        (1, 2)
    );
}

#[test]
fn min_ttl_renews_a_session_that_is_about_to_end() {
    let aws = FakeAws::start();
    let sandbox = standard(&aws);
    assert!(
        sandbox
            .run(&["env", "admin", "--token", "123456"])
            .status
            .success()
    );
    // A role session lasts an hour: with MFA_MIN_TTL above that it is
    // renewed from the (12 hour) MFA session, without a code.
    let out = sandbox
        .mfa()
        .args(["env", "admin", "--shell", "bash"])
        .env("MFA_MIN_TTL", "4000")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        (aws.count("GetSessionToken"), aws.count("AssumeRole")),
        (1, 2)
    );
}

#[test]
fn cache_is_private_and_written_atomically() {
    use std::os::unix::fs::MetadataExt;
    let aws = FakeAws::start();
    let sandbox = standard(&aws);
    assert!(
        sandbox
            .run(&["env", "admin", "--token", "123456"])
            .status
            .success()
    );
    let dir = sandbox.cache_dir();
    assert_eq!(std::fs::metadata(&dir).unwrap().mode() & 0o777, 0o700);
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names.iter().filter(|n| n.ends_with(".json")).count(),
        2,
        "{names:?}"
    );
    assert!(
        !names.iter().any(|n| n.starts_with(".tmp")),
        "no temporary file left: {names:?}"
    );
    for name in &names {
        let mode = std::fs::metadata(dir.join(name)).unwrap().mode() & 0o777;
        assert_eq!(mode, 0o600, "{name}");
        assert!(
            !name.contains(USER_KEY_ID) && !name.contains("alice"),
            "names reveal nothing: {name}"
        );
    }
}

#[test]
fn a_corrupt_cache_entry_is_ignored_and_replaced() {
    let aws = FakeAws::start();
    let sandbox = standard(&aws);
    assert!(
        sandbox
            .run(&["env", "alice", "--token", "123456"])
            .status
            .success()
    );
    let entry = std::fs::read_dir(sandbox.cache_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "json"))
        .unwrap();
    std::fs::write(&entry, "{\"version\": 1, \"kind\": \"mfa-sess").unwrap();
    let out = sandbox.run(&["env", "alice", "--shell", "bash", "--token", "123456"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("damaged"), "{}", stderr(&out));
    assert_eq!(aws.count("GetSessionToken"), 2);
    let replaced: Value = serde_json::from_str(&std::fs::read_to_string(&entry).unwrap()).unwrap();
    assert_eq!(replaced["kind"], "mfa-session");
}

#[test]
fn exec_runs_the_command_with_the_session_and_exits_as_it_does() {
    let aws = FakeAws::start();
    let sandbox = standard(&aws);
    let out = sandbox
        .mfa()
        .env("AWS_PROFILE", "someone-else")
        .args([
            "exec", "admin", "--token", "123456", "--", "sh", "-c",
            "printf '%s|%s|%s' \"$MFA_PROFILE\" \"${AWS_PROFILE-unset}\" \"${AWS_SESSION_TOKEN:+token}\"; exit 7",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(7), "{}", stderr(&out));
    assert_eq!(stdout(&out), "admin|unset|token");

    let missing = sandbox.run(&["exec", "admin", "--", "no-such-command-here"]);
    assert_eq!(missing.status.code(), Some(127));
    assert!(stderr(&missing).contains("no-such-command-here"));
}

#[test]
fn shell_starts_the_users_shell_with_the_session() {
    let aws = FakeAws::start();
    let sandbox = standard(&aws);
    let script = sandbox.path("fake-shell");
    std::fs::write(
        &script,
        "#!/bin/sh\nprintf '%s' \"$MFA_PROFILE:$AWS_REGION\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let out = sandbox
        .mfa()
        .env("SHELL", &script)
        .args(["shell", "readonly", "--token", "123456"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "readonly:us-west-2");
}

#[test]
fn the_aws_cli_reads_credentials_through_credential_process() {
    let aws = FakeAws::start();
    let sandbox = standard(&aws);
    assert!(
        sandbox
            .run(&["env", "admin", "--token", "123456"])
            .status
            .success()
    );
    let bin = env!("CARGO_BIN_EXE_mfa");
    sandbox.config(&format!(
        "{}\n[profile via-mfa]\ncredential_process = {bin} credential-process admin\nregion = us-east-1\n",
        standard_config()
    ));
    let out = std::process::Command::new("aws")
        .args([
            "sts",
            "get-caller-identity",
            "--profile",
            "via-mfa",
            "--output",
            "json",
        ])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", &sandbox.home)
        .env("AWS_ENDPOINT_URL_STS", &sandbox.endpoint)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdin(Stdio::null())
        .output()
        .expect("run the AWS CLI (`aws`)");
    assert!(out.status.success(), "aws: {}", stderr(&out));
    let identity: Value = serde_json::from_slice(&out.stdout).unwrap();
    let arn = identity["Arn"].as_str().unwrap();
    assert!(arn.contains("assumed-role/admin/mfa-alice"), "{arn}");
}

#[test]
fn an_explicit_duration_asks_for_a_session_of_that_length() {
    let aws = FakeAws::start();
    let sandbox = standard(&aws);
    assert!(
        sandbox
            .run(&["env", "alice", "--token", "123456"])
            .status
            .success()
    );
    let out = sandbox.run(&[
        "env",
        "alice",
        "--shell",
        "bash",
        "--token",
        "123456",
        "--duration",
        "900",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let vars = env_vars(&out);
    let expires: i64 = var(&vars, "MFA_EXPIRES_AT").unwrap().parse().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!((expires - now - 900).abs() < 60, "{}", expires - now);
    assert_eq!(aws.count("GetSessionToken"), 2);
}

#[test]
fn unset_keeps_a_region_the_user_set_and_removes_the_sessions() {
    let aws = FakeAws::start();
    let sandbox = standard(&aws);
    let unset = |profile: &str, region: &str| {
        let out = sandbox
            .mfa()
            .env("MFA_PROFILE", profile)
            .env("AWS_REGION", region)
            .args(["env", "--unset", "--shell", "bash"])
            .output()
            .unwrap();
        stdout(&out)
    };
    // alice has region eu-west-1: a shell holding it got it from `mfa env`.
    assert!(unset("alice", "eu-west-1").contains("unset AWS_REGION\n"));
    assert!(!unset("alice", "ap-south-1").contains("AWS_REGION"));
    // admin names no region: the shell's own stays.
    let text = unset("admin", "eu-west-1");
    assert!(
        !text.contains("AWS_REGION") && text.contains("unset MFA_PROFILE\n"),
        "{text}"
    );
}
