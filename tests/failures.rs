//! Every failure leaves stdout empty, exits as SPEC §3 says (1 failure,
//! 2 usage or configuration), says what went wrong, and shows no secret.

mod support;

use std::time::{Duration, Instant};

use support::*;

fn sandbox_with(aws: &FakeAws, config: &str) -> Sandbox {
    let sandbox = Sandbox::new(aws);
    sandbox.config(config).credentials(&standard_credentials());
    sandbox
}

/// The failure is as expected and leaks neither key.
fn assert_clean_failure(output: &std::process::Output, status: i32, needle: &str) {
    assert_fails(output, status, needle);
    let err = stderr(output);
    assert!(!err.contains(USER_SECRET), "secret in message: {err}");
}

#[test]
fn unknown_profile_suggests_close_names() {
    let aws = FakeAws::start();
    let sandbox = sandbox_with(&aws, &standard_config());
    let out = sandbox.run(&["env", "admn", "--token", "123456"]);
    assert_clean_failure(&out, 2, "did you mean `admin`");
    let out = sandbox.run(&["show", "readonyl"]);
    assert_clean_failure(&out, 2, "`readonly`");
    assert_eq!(aws.calls().len(), 0);
}

#[test]
fn the_profile_comes_from_aws_profile_when_not_named() {
    let aws = FakeAws::start();
    let sandbox = sandbox_with(&aws, &standard_config());
    let out = sandbox
        .mfa()
        .env("AWS_PROFILE", "nobody")
        .args(["env"])
        .output()
        .unwrap();
    assert_clean_failure(&out, 2, "no profile named `nobody`");
    let out = sandbox.run(&["env"]);
    assert_clean_failure(&out, 2, "no profile named `default`");
}

#[test]
fn a_source_profile_loop_is_named() {
    let aws = FakeAws::start();
    let sandbox = sandbox_with(
        &aws,
        &format!(
            "[profile a]\nrole_arn = {ADMIN_ROLE}\nsource_profile = b\n[profile b]\nrole_arn = {ADMIN_ROLE}\nsource_profile = c\n[profile c]\nrole_arn = {ADMIN_ROLE}\nsource_profile = a\n"
        ),
    );
    let out = sandbox.run(&["env", "a", "--token", "123456"]);
    assert_clean_failure(&out, 2, "source_profile loop: a -> b -> c -> a");
}

#[test]
fn a_dangling_source_profile_is_named() {
    let aws = FakeAws::start();
    let sandbox = sandbox_with(
        &aws,
        &format!("[profile a]\nrole_arn = {ADMIN_ROLE}\nsource_profile = ghost\n"),
    );
    let out = sandbox.run(&["env", "a"]);
    assert_clean_failure(&out, 2, "source_profile = ghost");
}

#[test]
fn a_profile_without_keys_says_where_keys_go() {
    let aws = FakeAws::start();
    let sandbox = sandbox_with(&aws, "[profile empty]\nregion = eu-west-1\n");
    let out = sandbox.run(&["env", "empty"]);
    assert_clean_failure(&out, 2, "profile `empty` has no credentials");
    let out = sandbox.run(&["env", "alice-half"]);
    assert_clean_failure(&out, 2, "no profile named");
    sandbox.credentials("[half]\naws_access_key_id = AKIAHALF\n");
    let out = sandbox.run(&["env", "half"]);
    assert_clean_failure(&out, 2, "no aws_secret_access_key");
}

#[test]
fn a_malformed_file_is_named_with_its_line_and_the_line_is_not_shown() {
    let aws = FakeAws::start();
    let sandbox = Sandbox::new(&aws);
    sandbox
        .config("[profile ok]\nregion = x\n")
        .credentials(&format!(
            "# keys\n[alice]\naws_access_key_id = {USER_KEY_ID}\naws_secret_access_key {USER_SECRET}\n"
        ));
    for args in [
        &["env", "ok"][..],
        &["list"],
        &["show", "ok"],
        &["credential-process", "ok"],
    ] {
        let out = sandbox.run(args);
        assert_clean_failure(&out, 2, "~/.aws/credentials line 4");
    }
    sandbox.config("[profile ok\nregion = x\n");
    let out = sandbox.run(&["list"]);
    assert_clean_failure(&out, 2, "~/.aws/config line 1");
}

#[test]
fn a_code_that_is_not_six_digits_is_refused_before_any_call() {
    let aws = FakeAws::start();
    let sandbox = sandbox_with(&aws, &standard_config());
    for bad in ["12345", "1234567", "12a456", ""] {
        let out = sandbox.run(&["env", "alice", "--token", bad]);
        assert_clean_failure(&out, 2, "six digits");
    }
    let with_process = format!("{}\nmfa_process = echo not-a-code\n", standard_config());
    sandbox.config(&with_process.replace(
        "region = eu-west-1\n",
        "region = eu-west-1\nmfa_process = echo not-a-code\n",
    ));
    let out = sandbox.run(&["env", "alice"]);
    assert_clean_failure(&out, 1, "did not print a six-digit code");
    assert_eq!(aws.calls().len(), 0);
}

#[test]
fn a_rejected_code_fails_without_a_terminal_and_says_so() {
    let aws = FakeAws::start();
    let sandbox = sandbox_with(&aws, &standard_config());
    aws.set_codes(SERIAL, &["424242"]);
    let out = sandbox.run(&["env", "admin", "--token", "111111"]);
    assert_clean_failure(&out, 1, "not accepted");
    assert!(stderr(&out).contains(SERIAL));
    let calls = aws.calls();
    assert_eq!(calls.len(), 1, "no retry with a code from a flag");
    assert_eq!(calls[0]["status"], 403);
    let ok = sandbox.run(&["env", "admin", "--token", "424242"]);
    assert!(ok.status.success(), "{}", stderr(&ok));
}

#[test]
fn no_terminal_and_no_code_source_says_how_to_pass_a_code() {
    let aws = FakeAws::start();
    let sandbox = sandbox_with(&aws, &standard_config());
    let out = sandbox.run(&["env", "admin"]);
    assert_clean_failure(&out, 1, "--token");
    assert!(stderr(&out).contains("mfa_process"));
    assert_eq!(aws.calls().len(), 0);
}

#[test]
fn an_unreachable_sts_fails_in_bounded_time() {
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let sandbox = Sandbox::with_endpoint(format!("http://127.0.0.1:{port}"));
    sandbox
        .config(&standard_config())
        .credentials(&standard_credentials());
    let started = Instant::now();
    let out = sandbox.run(&["env", "alice", "--token", "123456"]);
    assert_clean_failure(&out, 1, "could not be reached");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn sts_errors_and_garbage_are_reported() {
    let aws = FakeAws::start();
    let sandbox = sandbox_with(&aws, &standard_config());
    aws.fault(serde_json::json!({"action": "GetSessionToken", "status": 403, "count": 1}));
    let out = sandbox.run(&["env", "alice", "--token", "123456"]);
    assert_clean_failure(&out, 1, "GetSessionToken");
    aws.fault(serde_json::json!({"action": "GetSessionToken", "garbage": true}));
    let out = sandbox.run(&["env", "alice", "--token", "123456"]);
    assert_clean_failure(&out, 1, "could not be read");
}

#[test]
fn unusable_durations_are_refused_with_the_allowed_range() {
    let aws = FakeAws::start();
    let sandbox = sandbox_with(&aws, &standard_config());
    let out = sandbox.run(&["env", "admin", "--token", "123456", "--duration", "10"]);
    assert_clean_failure(&out, 2, "900 to 43200");
    let out = sandbox.run(&["env", "alice", "--token", "123456", "--duration", "200000"]);
    assert_clean_failure(&out, 2, "900 to 129600");
    sandbox.config(&standard_config().replace(
        "source_profile = alice\n\n",
        "source_profile = alice\nduration_seconds = soon\n\n",
    ));
    let out = sandbox.run(&["env", "admin", "--token", "123456"]);
    assert_clean_failure(&out, 2, "duration_seconds must be a whole number");
    assert_eq!(aws.calls().len(), 0);

    // STS itself refuses what only it can know: role chaining caps a
    // session at one hour.
    sandbox.config(&format!(
        "{}\n[profile chained]\nrole_arn = {READONLY_ROLE}\nsource_profile = admin\nduration_seconds = 7200\n",
        standard_config()
    ));
    let out = sandbox.run(&["env", "chained", "--token", "123456"]);
    assert_clean_failure(&out, 1, "1 hour session limit");
}

#[test]
fn usage_errors_exit_2_with_empty_stdout() {
    let aws = FakeAws::start();
    let sandbox = sandbox_with(&aws, &standard_config());
    assert_clean_failure(
        &sandbox.run(&["env", "alice", "--shell", "tcsh"]),
        2,
        "tcsh",
    );
    assert_clean_failure(&sandbox.run(&["exec", "alice"]), 2, "CMD");
    assert_clean_failure(&sandbox.run(&["clear", "--all", "alice"]), 2, "--all");
    assert_clean_failure(&sandbox.run(&["frobnicate"]), 2, "frobnicate");
    let out = sandbox
        .mfa()
        .env("MFA_MIN_TTL", "soon")
        .args(["env", "alice"])
        .output()
        .unwrap();
    assert_clean_failure(&out, 2, "MFA_MIN_TTL");
}

/// A continuation line joins whatever it holds to the value above it: such
/// values are refused for the keys mfa acts on, without quoting them, and
/// masked where `show` prints them.
#[test]
fn values_continued_onto_indented_lines_never_leak_what_those_lines_hold() {
    let aws = FakeAws::start();
    let sandbox = Sandbox::new(&aws);
    let leak = "LEAKEDSECRETVALUE123";
    sandbox
        .config(&format!(
            "[profile alice]\nmfa_serial = {SERIAL}\nmfa_session_duration = 3600\n  aws_secret_access_key = {leak}\n\
             [profile admin]\nrole_arn = {ADMIN_ROLE}\nsource_profile = alicee\n  aws_secret_access_key = {leak}\n"
        ))
        .credentials(&standard_credentials());
    let out = sandbox.run(&["env", "alice", "--token", "123456"]);
    assert_clean_failure(
        &out,
        2,
        "mfa_session_duration (line 3 of the config file) is followed by indented lines",
    );
    let out = sandbox.run(&["env", "admin", "--token", "123456"]);
    assert_clean_failure(&out, 2, "source_profile (line 7 of the config file)");
    for args in [
        &["show", "alice"][..],
        &["show", "alice", "--json"],
        &["list"],
        &["list", "--json"],
        &["roles"],
    ] {
        let out = sandbox.run(args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        assert!(
            !stdout(&out).contains(leak) && !stderr(&out).contains(leak),
            "{args:?}: {}",
            stdout(&out)
        );
    }
    assert!(stdout(&sandbox.run(&["show", "alice"])).contains("aws_secret_access_key = ********"));
    assert_eq!(aws.calls().len(), 0);
}

#[test]
fn a_run_left_at_a_code_question_holds_others_up_only_for_a_while() {
    let aws = FakeAws::start();
    let sandbox = Sandbox::new(&aws);
    // The first run's code source never answers in time.
    sandbox
        .config(&format!(
            "[profile alice]\nmfa_serial = {SERIAL}\nmfa_process = sleep 30; echo 123456\n"
        ))
        .credentials(&standard_credentials());
    let mut stuck = sandbox
        .mfa()
        .args(["env", "alice"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(800));
    let started = Instant::now();
    let out = sandbox
        .mfa()
        .env("MFA_LOCK_WAIT", "2")
        .args(["env", "alice", "--token", "654321", "--shell", "bash"])
        .output()
        .unwrap();
    let _ = stuck.kill();
    let _ = stuck.wait();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    assert!(
        stderr(&out).contains("waiting for another mfa run"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("more than 2 s"), "{}", stderr(&out));
}

#[test]
fn a_run_killed_in_the_middle_leaves_no_half_written_entry() {
    let aws = FakeAws::start();
    let sandbox = Sandbox::new(&aws);
    sandbox
        .config(&standard_config())
        .credentials(&standard_credentials());
    aws.fault(serde_json::json!({"action": "GetSessionToken", "delay_ms": 3000, "count": 1}));
    let mut child = sandbox
        .mfa()
        .args(["env", "admin", "--token", "123456"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    child.kill().unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.stdout.is_empty(), "nothing printed by a killed run");
    let left: Vec<String> = std::fs::read_dir(sandbox.cache_dir())
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    assert!(left.iter().all(|n| n.ends_with(".lock")), "{left:?}");
    // The locks a killed run held are free again at once.
    let started = Instant::now();
    let out = sandbox.run(&["env", "admin", "--token", "123456"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stderr(&out).contains("waiting"), "{}", stderr(&out));
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn a_credential_process_that_calls_mfa_for_itself_is_a_loop() {
    let aws = FakeAws::start();
    let sandbox = Sandbox::new(&aws);
    let bin = env!("CARGO_BIN_EXE_mfa");
    sandbox.config(&format!(
        "[profile via]\ncredential_process = {bin} credential-process via\n"
    ));
    let started = Instant::now();
    let out = sandbox.run(&["env", "via"]);
    // The child mfa refuses (exit 2); the parent reports the failed process.
    assert_clean_failure(&out, 1, "credential_process loop");
    assert!(started.elapsed() < Duration::from_secs(10));
}

/// A new user with no profiles at all is pointed to `mfa setup` by every
/// command that needs a profile, and `mfa list` says so under its table.
#[test]
fn with_no_profiles_at_all_every_command_points_to_setup() {
    let sandbox = Sandbox::with_endpoint("http://127.0.0.1:9".into());
    for args in [
        &["env"][..],
        &["env", "prod", "--token", "123456"],
        &["exec", "prod", "--", "true"],
        &["shell", "prod"],
        &["credential-process", "prod"],
        &["show"],
        &["write", "prod"],
        &["clear"],
        &["clear", "prod"],
        &["migrate", "prod"],
        &["rotate", "prod"],
        &["device", "list", "--profile", "prod"],
        &["policy", "mfa-boundary", "--profile", "prod"],
    ] {
        let out = sandbox.run(args);
        assert_clean_failure(&out, 2, "`mfa setup` adds one");
    }
    let out = sandbox.run(&["list"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).lines().count(), 1, "the header alone");
    assert!(
        stderr(&out).contains("no profiles yet: `mfa setup` adds one"),
        "{}",
        stderr(&out)
    );
    // With profiles, no such note.
    sandbox
        .config(&standard_config())
        .credentials(&standard_credentials());
    let out = sandbox.run(&["list"]);
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "{}",
        stderr(&out)
    );
}

/// A role whose keys come from a `credential_source` is refused, saying
/// what that source is.
#[test]
fn each_credential_source_is_named_for_what_it_is() {
    let sandbox = Sandbox::with_endpoint("http://127.0.0.1:9".into());
    for (source, what) in [
        (
            "Environment",
            "(the keys in the AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY variables)",
        ),
        (
            "Ec2InstanceMetadata",
            "(the EC2 instance's role, from the instance metadata service)",
        ),
        (
            "EcsContainer",
            "(the ECS task's role, from the container credentials endpoint)",
        ),
        (
            "Mainframe",
            "credential_source must be Environment, Ec2InstanceMetadata or EcsContainer",
        ),
    ] {
        sandbox.config(&format!(
            "[profile r]\nrole_arn = {ADMIN_ROLE}\ncredential_source = {source}\n"
        ));
        let out = sandbox.run(&["env", "r", "--token", "123456"]);
        assert_clean_failure(&out, 2, what);
        assert!(stderr(&out).contains("not supported") || stderr(&out).contains("supports none"));
    }
}

/// Runs `mfa env alice` (and `credential-process alice`, whose message
/// every SDK relays as it is) against `endpoint`: a failure, within
/// `within`, on one line that holds each of `needles`.
fn assert_unreachable(endpoint: &str, timeout: Option<&str>, within: Duration, needles: &[&str]) {
    let sandbox = Sandbox::with_endpoint(endpoint.to_string());
    sandbox
        .config(&standard_config())
        .credentials(&standard_credentials());
    for args in [
        &["env", "alice", "--token", "123456"][..],
        &["credential-process", "alice", "--token", "123456"],
    ] {
        let mut command = sandbox.mfa();
        if let Some(seconds) = timeout {
            command.env("MFA_TIMEOUT", seconds);
        }
        let started = Instant::now();
        let out = command.args(args).output().unwrap();
        assert!(
            started.elapsed() < within,
            "{args:?}: {:?}",
            started.elapsed()
        );
        for needle in needles {
            assert_clean_failure(&out, 1, needle);
        }
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "one line: {err}");
        assert!(!err.contains("io error"), "{err}");
    }
}

#[test]
fn a_refused_connection_is_named_with_its_endpoint() {
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let endpoint = format!("http://127.0.0.1:{port}");
    assert_unreachable(
        &endpoint,
        None,
        Duration::from_secs(20),
        &[&format!(
            "could not be reached: {endpoint}: connection refused"
        )],
    );
}

#[test]
fn a_host_name_that_does_not_resolve_is_named() {
    // `.invalid` never resolves (RFC 2606): no network is needed to fail.
    assert_unreachable(
        "http://sts.example.invalid",
        None,
        Duration::from_secs(20),
        &["http://sts.example.invalid: the host name could not be resolved"],
    );
}

#[test]
fn https_to_a_plain_http_listener_is_a_tls_failure() {
    let aws = FakeAws::start();
    let endpoint = format!("https://127.0.0.1:{}", aws.port);
    assert_unreachable(
        &endpoint,
        None,
        Duration::from_secs(20),
        &[&format!("{endpoint}: the TLS handshake failed")],
    );
}

#[test]
fn a_listener_that_never_answers_is_a_timeout_with_its_bound() {
    // Connections complete in the kernel's backlog; nothing ever answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://127.0.0.1:{}", silent.local_addr().unwrap().port());
    assert_unreachable(
        &endpoint,
        Some("2"),
        Duration::from_secs(8),
        &[
            &format!("{endpoint}: no answer in time"),
            "2 s",
            "MFA_TIMEOUT",
        ],
    );
    drop(silent);
}

/// MFA_TIMEOUT bounds a call in all, retries included: attempts that each
/// fit in the bound, but not together, stop at the bound (without it, the
/// third attempt's 500 would be the answer).
#[test]
fn mfa_timeout_bounds_a_call_with_its_retries() {
    let aws = FakeAws::start();
    let sandbox = sandbox_with(&aws, &standard_config());
    // Each attempt: 1.2 s, then a 500, which is retried after at most 1 s.
    aws.fault(serde_json::json!({"action": "GetSessionToken", "status": 500, "delay_ms": 1200}));
    let started = Instant::now();
    let out = sandbox
        .mfa()
        .env("MFA_TIMEOUT", "3")
        .args(["env", "alice", "--token", "123456"])
        .output()
        .unwrap();
    let elapsed = started.elapsed();
    assert_clean_failure(&out, 1, "no answer in time (within 3 s");
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
    // The second attempt was under way when the bound came.
    std::thread::sleep(Duration::from_millis(1500));
    assert!(aws.calls().len() >= 2, "{:?}", aws.calls());
}

/// A key that no AWS key can be (a control character, a space) is refused
/// where it is read, naming the file and line but not the value; before,
/// a control character in the id made the SDK panic (exit 134).
#[test]
fn a_key_with_a_control_character_is_refused_naming_its_line_not_its_value() {
    let aws = FakeAws::start();
    let sandbox = sandbox_with(&aws, &standard_config());
    let bad_values = [
        ("aws_access_key_id", "AKIA\u{1}IOSFODNN7"),
        ("aws_access_key_id", "AKIA IOSFODNN7"),
        ("aws_secret_access_key", "wJalrXUtn\u{7}FEMI"),
        ("aws_session_token", "FwoGZXIvYXdzE\u{1b}[2J"),
    ];
    for (key, value) in bad_values {
        let mut lines = vec![
            "[alice]".to_string(),
            format!("aws_access_key_id = {USER_KEY_ID}"),
            format!("aws_secret_access_key = {USER_SECRET}"),
        ];
        match key {
            "aws_session_token" => lines.push(format!("{key} = {value}")),
            _ => {
                let i = lines.iter().position(|l| l.starts_with(key)).unwrap();
                lines[i] = format!("{key} = {value}");
            }
        }
        sandbox.credentials(&(lines.join("\n") + "\n"));
        let line = lines.iter().position(|l| l.starts_with(key)).unwrap() + 1;
        for args in [
            &["env", "alice", "--token", "123456"][..],
            &["env", "admin", "--token", "123456"],
            &["credential-process", "alice"],
        ] {
            let out = sandbox.run(args);
            assert_clean_failure(&out, 2, &format!("~/.aws/credentials line {line}: {key}"));
            assert!(!stderr(&out).contains(value), "{}", stderr(&out));
        }
    }
    assert_eq!(aws.calls().len(), 0);
}

/// A `credential_process` that prints a key no AWS key can be is refused
/// (naming the source, not the value) before anything is sent.
#[test]
fn a_credential_process_key_with_a_control_character_is_refused() {
    let aws = FakeAws::start();
    let sandbox = Sandbox::new(&aws);
    let json = sandbox.path("keys.json");
    std::fs::write(
        &json,
        r#"{"Version": 1, "AccessKeyId": "AKIA\u0001PROC", "SecretAccessKey": "s3cr3t-value"}"#,
    )
    .unwrap();
    sandbox.config(&format!(
        "[profile proc]\ncredential_process = cat {}\n",
        json.display()
    ));
    // Through the engine, and through commands that use the root keys
    // directly (GetCallerIdentity for `policy`).
    for args in [
        &["env", "proc"][..],
        &["policy", "mfa-boundary", "--profile", "proc"],
    ] {
        let out = sandbox.run(args);
        assert_clean_failure(
            &out,
            2,
            "the credential_process of profile `proc` gave credentials whose access key id is not a valid key",
        );
        assert!(!stderr(&out).contains("PROC"), "{}", stderr(&out));
    }
    assert_eq!(aws.calls().len(), 0);
}

/// Credentials a `credential_process` says have expired are not handed on.
#[test]
fn a_credential_process_whose_credentials_have_expired_is_refused() {
    let aws = FakeAws::start();
    let sandbox = Sandbox::new(&aws);
    let json = sandbox.path("keys.json");
    std::fs::write(
        &json,
        r#"{"Version": 1, "AccessKeyId": "ASIAEXPIRED", "SecretAccessKey": "s3cr3t-value", "SessionToken": "t0ken-value", "Expiration": "2020-01-01T00:00:00Z"}"#,
    )
    .unwrap();
    sandbox.config(&format!(
        "[profile proc]\ncredential_process = cat {}\n[profile role]\nrole_arn = {ADMIN_ROLE}\nsource_profile = proc\n",
        json.display()
    ));
    for profile in ["proc", "role"] {
        let out = sandbox.run(&["env", profile]);
        assert_clean_failure(&out, 1, "expired at 2020-01-01T00:00:00Z");
        let out = sandbox.run(&["credential-process", profile]);
        assert_clean_failure(&out, 1, "the credential_process of profile `proc`");
    }
    assert_eq!(aws.calls().len(), 0);
}

/// A region that is no host label fails before the SDK sees it, naming the
/// profile, file and line, or the variable it came from.
#[test]
fn an_invalid_region_is_named_where_it_was_read() {
    let aws = FakeAws::start();
    let sandbox = sandbox_with(
        &aws,
        &standard_config().replace("region = eu-west-1", "region = it's"),
    );
    for args in [
        &["env", "alice", "--token", "123456"][..],
        &["credential-process", "alice", "--token", "123456"],
    ] {
        let out = sandbox.run(args);
        assert_clean_failure(
            &out,
            2,
            "~/.aws/config line 3: region of profile `alice`: `it's` is not a valid AWS region name",
        );
    }
    sandbox.config(&standard_config());
    for var in ["AWS_REGION", "AWS_DEFAULT_REGION"] {
        let out = sandbox
            .mfa()
            .env(var, "eu west\u{1}")
            .args(["env", "admin", "--token", "123456"])
            .output()
            .unwrap();
        assert_clean_failure(
            &out,
            2,
            &format!("{var}: `eu west\\u{{1}}` is not a valid AWS region"),
        );
    }
    assert_eq!(aws.calls().len(), 0);
}

/// A `source_profile` chain longer than `MAX_CHAIN` (32) profiles is
/// refused, naming the profile, before any call; before, every link was
/// an AssumeRole (5,000 deep: 5,002 calls) and 20,000 overflowed the stack.
#[test]
fn a_chain_longer_than_the_bound_is_refused_before_any_call() {
    let aws = FakeAws::start();
    let mut config = String::from("[profile p0]\nmfa_serial = ");
    config.push_str(SERIAL);
    config.push('\n');
    let credentials =
        format!("[p0]\naws_access_key_id = {USER_KEY_ID}\naws_secret_access_key = {USER_SECRET}\n");
    for i in 1..=20_000 {
        config.push_str(&format!(
            "[profile p{i}]\nrole_arn = {ADMIN_ROLE}\nsource_profile = p{}\n",
            i - 1
        ));
    }
    let sandbox = Sandbox::new(&aws);
    sandbox.config(&config).credentials(&credentials);
    // p32's chain holds 33 profiles (p32 down to p0); p31's holds 32.
    for top in ["p32", "p5000", "p20000"] {
        let out = sandbox.run(&["env", top, "--token", "123456"]);
        assert_clean_failure(
            &out,
            2,
            &format!("profile `{top}`: its source_profile chain ({top} -> "),
        );
        assert!(
            stderr(&out).contains("more than 32 profiles"),
            "{}",
            stderr(&out)
        );
    }
    assert_eq!(aws.calls().len(), 0, "no call before the chain is refused");
    let out = sandbox.run(&["list"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).lines().count(), 1 + 20_001);
}

/// `mfa setup` takes keys from the environment and a region from its flag:
/// both are checked there, before anything is called or written.
#[test]
fn setup_refuses_keys_and_regions_that_cannot_reach_aws() {
    let aws = FakeAws::start();
    let sandbox = Sandbox::new(&aws);
    let setup = |id: &str, region: &str| {
        sandbox
            .mfa()
            .env("AWS_ACCESS_KEY_ID", id)
            .env("AWS_SECRET_ACCESS_KEY", USER_SECRET)
            .args([
                "setup",
                "--profile",
                "new",
                "--keys-from-env",
                "--mfa-serial",
                SERIAL,
                "--region",
                region,
                "--yes",
            ])
            .output()
            .unwrap()
    };
    let out = setup("AKIA\u{1}NEW", "eu-west-1");
    assert_clean_failure(&out, 2, "AWS_ACCESS_KEY_ID is not a valid key");
    assert!(!stderr(&out).contains("NEW"), "{}", stderr(&out));
    let out = setup(USER_KEY_ID, "it's");
    assert_clean_failure(&out, 2, "`it's` is not a valid AWS region name");
    assert!(!sandbox.path(".aws/config").exists());
    assert!(!sandbox.path(".aws/credentials").exists());
    assert_eq!(aws.calls().len(), 0);
}

/// An endpoint URL with a password, or one the SDK cannot use: no message
/// shows the password, and none dumps the request (whose body holds the
/// one-time code, still valid since it was never sent).
#[test]
fn endpoint_urls_never_bring_secrets_into_messages() {
    let aws = FakeAws::start();
    let sandbox = sandbox_with(&aws, &standard_config());
    for endpoint in [
        "http://user:S3cretPassw0rd@exa mple/",
        "http://user:S3cretPassw0rd@[::1",
        "http://user:S3cretPassw0rd@127.0.0.1:1/",
    ] {
        for args in [
            vec!["env", "alice", "--token", "913579"],
            vec!["credential-process", "alice", "--token", "913579"],
            vec!["doctor"],
        ] {
            let out = sandbox
                .mfa()
                .env("AWS_ENDPOINT_URL_STS", endpoint)
                .env("MFA_TIMEOUT", "5")
                .args(&args)
                .output()
                .unwrap();
            let all = format!("{}{}", stdout(&out), stderr(&out));
            assert_ne!(out.status.code(), Some(0), "{args:?} {endpoint}: {all}");
            for secret in ["S3cretPassw0rd", "913579", "TokenCode", USER_SECRET] {
                assert!(
                    !all.contains(secret),
                    "{args:?} {endpoint}: {secret} in {all}"
                );
            }
        }
    }
}
