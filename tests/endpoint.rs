//! The credential endpoint (`mfa exec --server`, SPEC §8) with real
//! clients: boto3, the AWS SDK for JavaScript v3, the AWS CLI and the Rust
//! SDK's container provider each keep calling GetCallerIdentity across two
//! renewals or more, with one code; and its refusals, its single renewal
//! under load, its 503 when a code is needed, and its end with the child.
//!
//! Role sessions last 900 s (the least STS grants) and
//! MFA_SERVER_MIN_TTL=895 makes every answer need more than 895 s, so the
//! role is renewed about every 5 seconds.

mod support;

use std::collections::HashSet;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::*;

/// How long each client keeps calling: three role sessions at least.
const CLIENT_SECONDS: &str = "16";

fn config(alice_extra: &str) -> String {
    format!(
        "[profile alice]\nmfa_serial = {SERIAL}\nregion = eu-west-1\n{alice_extra}\n\
         [profile job]\nrole_arn = {ADMIN_ROLE}\nsource_profile = alice\nduration_seconds = 900\nregion = eu-west-1\n"
    )
}

fn sandbox(aws: &FakeAws, alice_extra: &str) -> Sandbox {
    let sandbox = Sandbox::new(aws);
    sandbox
        .config(&config(alice_extra))
        .credentials(&standard_credentials());
    sandbox
}

/// `mfa exec job --server --token 123456 -- CMD…` with quick renewals.
fn serve(sandbox: &Sandbox, command: &[&str]) -> Command {
    let mut mfa = sandbox.mfa();
    mfa.env("MFA_SERVER_MIN_TTL", "895")
        .env("MFA_TEST_PYTHON", python())
        .args(["exec", "job", "--server", "--token", "123456", "--"])
        .args(command);
    mfa
}

fn python() -> String {
    std::env::var("MFA_TEST_PYTHON").unwrap_or_else(|_| "python3".into())
}

/// Runs a client under the endpoint and checks what the local STS saw:
/// one code (one GetSessionToken), and GetCallerIdentity calls that all
/// succeeded, signed with keys the endpoint handed out, three different
/// ones at least (the first session and two renewals).
fn keeps_working_across_renewals(command: &[&str]) {
    let aws = FakeAws::start();
    let sandbox = sandbox(&aws, "");
    let out = serve(&sandbox, command).output().unwrap();
    assert!(
        out.status.success(),
        "{command:?}: {}\n{}",
        stderr(&out),
        stdout(&out)
    );
    let calls = aws.calls();
    let of =
        |action: &str| -> Vec<&Value> { calls.iter().filter(|c| c["action"] == action).collect() };
    assert_eq!(aws.count("GetSessionToken"), 1, "one code at most");
    let issued: HashSet<&str> = of("AssumeRole")
        .iter()
        .filter(|c| c["status"] == 200)
        .filter_map(|c| c["returned_access_key_id"].as_str())
        .collect();
    let identity_calls = of("GetCallerIdentity");
    assert!(identity_calls.len() >= 3, "{identity_calls:?}");
    let mut used = HashSet::new();
    for call in identity_calls {
        assert_eq!(call["status"], 200, "{call}");
        let key = call["access_key_id"].as_str().unwrap_or_default();
        assert!(
            issued.contains(key),
            "{key} was not handed out by the endpoint"
        );
        used.insert(key);
    }
    assert!(
        used.len() >= 3,
        "the client should have seen two renewals at least; keys used: {used:?}"
    );
}

#[test]
fn boto3_keeps_working_across_renewals() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/boto3_loop.py");
    keeps_working_across_renewals(&[&python(), script.to_str().unwrap(), CLIENT_SECONDS]);
}

#[test]
fn the_javascript_sdk_keeps_working_across_renewals() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/js/sts_loop.js");
    keeps_working_across_renewals(&["node", script.to_str().unwrap(), CLIENT_SECONDS]);
}

#[test]
fn the_aws_cli_keeps_working_across_renewals() {
    let script = format!(
        "end=$(( $(date +%s) + {CLIENT_SECONDS} )); \
         while [ \"$(date +%s)\" -lt \"$end\" ]; do aws sts get-caller-identity >/dev/null || exit 1; sleep 0.5; done"
    );
    keeps_working_across_renewals(&["sh", "-c", &script]);
}

/// Set for the copy of this test binary that runs as the endpoint's child.
const RUST_CLIENT: &str = "MFA_TEST_RUST_CONTAINER_CLIENT";

/// The Rust SDK's container provider, in a copy of this test binary that
/// runs as the child: it fetches credentials from the endpoint before each
/// call (a client would keep them until they near their end).
#[test]
fn the_rust_sdks_container_provider_keeps_working_across_renewals() {
    if std::env::var_os(RUST_CLIENT).is_some() {
        return rust_container_client();
    }
    let me = std::env::current_exe().unwrap();
    let test = "the_rust_sdks_container_provider_keeps_working_across_renewals";
    let aws = FakeAws::start();
    let sandbox = sandbox(&aws, "");
    let out = serve(
        &sandbox,
        &[me.to_str().unwrap(), "--exact", test, "--nocapture"],
    )
    .env(RUST_CLIENT, "1")
    .output()
    .unwrap();
    assert!(out.status.success(), "{}\n{}", stderr(&out), stdout(&out));
    assert!(stdout(&out).contains("1 passed"), "{}", stdout(&out));
    let calls = aws.calls();
    let identity_keys: HashSet<&str> = calls
        .iter()
        .filter(|c| c["action"] == "GetCallerIdentity" && c["status"] == 200)
        .filter_map(|c| c["access_key_id"].as_str())
        .collect();
    assert!(identity_keys.len() >= 3, "{identity_keys:?}");
    assert_eq!(aws.count("GetSessionToken"), 1);
}

fn rust_container_client() {
    use aws_config::BehaviorVersion;
    use aws_config::ecs::EcsCredentialsProvider;
    use aws_config::provider_config::ProviderConfig;
    use aws_sdk_sts::config::Region;

    assert!(
        std::env::var_os("AWS_ACCESS_KEY_ID").is_none(),
        "the child must get no keys"
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let http = aws_smithy_http_client::Builder::new().build_http();
        let provider = EcsCredentialsProvider::builder()
            .configure(&ProviderConfig::default().with_http_client(http.clone()))
            .build();
        let endpoint = std::env::var("AWS_ENDPOINT_URL_STS").unwrap();
        let seconds: u64 = CLIENT_SECONDS.parse().unwrap();
        let end = Instant::now() + Duration::from_secs(seconds);
        let mut keys = HashSet::new();
        while Instant::now() < end {
            let credentials = provider
                .credentials()
                .await
                .expect("credentials from the endpoint");
            keys.insert(credentials.access_key_id().to_string());
            let config = aws_sdk_sts::Config::builder()
                .behavior_version(BehaviorVersion::latest())
                .region(Region::new("eu-west-1"))
                .endpoint_url(&endpoint)
                .credentials_provider(credentials)
                .http_client(http.clone())
                .build();
            let identity = aws_sdk_sts::Client::from_conf(config)
                .get_caller_identity()
                .send()
                .await
                .expect("GetCallerIdentity with the endpoint's credentials");
            assert!(
                identity
                    .arn()
                    .is_some_and(|arn| arn.contains(":assumed-role/admin/"))
            );
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        assert!(keys.len() >= 3, "fresh keys: {keys:?}");
    });
}

/// A served job whose command sleeps: its port, token and child.
struct Served {
    /// mfa, when the test started it (a pseudo-terminal's is its own).
    mfa: Option<Child>,
    child_pid: i32,
    port: u16,
    token: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg("-KILL")
            .arg(self.child_pid.to_string())
            .stderr(Stdio::null())
            .status();
        if let Some(mfa) = &mut self.mfa {
            let _ = mfa.kill();
            let _ = mfa.wait();
        }
    }
}

/// Starts `mfa exec job --server -- sleep 120` and reads what the child
/// was given from its environment (as any process of the user could).
fn serve_sleeper(sandbox: &Sandbox, extra_env: &[(&str, &str)]) -> Served {
    let mut command = serve(sandbox, &["sleep", "120"]);
    command
        .envs(extra_env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mfa = command.spawn().unwrap();
    let (child_pid, port, token) = what_the_child_got(mfa.id() as i32);
    Served {
        mfa: Some(mfa),
        child_pid,
        port,
        token,
    }
}

/// The child of `mfa_pid`, and the port and token in its environment.
fn what_the_child_got(mfa_pid: i32) -> (i32, u16, String) {
    let children = format!("/proc/{mfa_pid}/task/{mfa_pid}/children");
    let child_pid = std::cell::Cell::new(0);
    wait_for("the child to start", || {
        child_pid.set(
            std::fs::read_to_string(&children)
                .ok()
                .and_then(|c| c.split_whitespace().next().and_then(|p| p.parse().ok()))
                .unwrap_or(0),
        );
        child_pid.get() > 0
    });
    let child_pid = child_pid.get();
    let env = child_env(child_pid);
    let uri = env["AWS_CONTAINER_CREDENTIALS_FULL_URI"].clone();
    let port = uri
        .strip_prefix("http://127.0.0.1:")
        .and_then(|rest| rest.strip_suffix("/credentials"))
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("unexpected URI {uri}"));
    (
        child_pid,
        port,
        env["AWS_CONTAINER_AUTHORIZATION_TOKEN"].clone(),
    )
}

fn child_env(pid: i32) -> std::collections::HashMap<String, String> {
    let environ = std::cell::RefCell::new(Vec::new());
    wait_for("the child to exec", || {
        let read = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
        let ready = read
            .windows(34)
            .any(|w| w == b"AWS_CONTAINER_CREDENTIALS_FULL_URI");
        *environ.borrow_mut() = read;
        ready
    });
    environ
        .into_inner()
        .split(|b| *b == 0)
        .filter_map(|entry| {
            let text = String::from_utf8_lossy(entry);
            let (name, value) = text.split_once('=')?;
            Some((name.to_string(), value.to_string()))
        })
        .collect()
}

/// One HTTP/1.1 request, written by hand so that every header is exactly
/// as given; the status and the JSON body.
fn request(port: u16, method: &str, host: &str, token: Option<&str>) -> (u16, Value) {
    request_within(Duration::from_secs(60), port, method, host, token)
}

/// `request`, that fails when the connection or the answer takes longer
/// than `bound`.
fn request_within(
    bound: Duration,
    port: u16,
    method: &str,
    host: &str,
    token: Option<&str>,
) -> (u16, Value) {
    let address = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = TcpStream::connect_timeout(&address, bound).unwrap();
    stream.set_read_timeout(Some(bound)).unwrap();
    let authorization = token
        .map(|t| format!("Authorization: {t}\r\n"))
        .unwrap_or_default();
    write!(
        stream,
        "{method} /credentials HTTP/1.1\r\nHost: {host}\r\n{authorization}Content-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {head:?}"));
    let body = serde_json::from_str(body).unwrap_or_else(|_| panic!("not JSON: {body:?}"));
    (status, body)
}

fn get(served: &Served) -> (u16, Value) {
    let host = format!("127.0.0.1:{}", served.port);
    request(served.port, "GET", &host, Some(&served.token))
}

#[test]
fn requests_without_the_token_for_another_host_or_not_get_are_refused() {
    let aws = FakeAws::start();
    let sandbox = sandbox(&aws, "");
    let served = serve_sleeper(&sandbox, &[]);
    let (port, token) = (served.port, served.token.as_str());
    let host = format!("127.0.0.1:{port}");

    let (status, body) = get(&served);
    assert_eq!(status, 200, "{body}");
    for field in ["AccessKeyId", "SecretAccessKey", "Token", "Expiration"] {
        assert!(body[field].is_string(), "{field} in {body}");
    }
    let (status, body) = request(port, "GET", &format!("localhost:{port}"), Some(token));
    assert_eq!(status, 200, "{body}");

    let refusals = [
        ("GET", host.clone(), None, 401),
        ("GET", host.clone(), Some("0".repeat(token.len())), 401),
        ("GET", host.clone(), Some(format!("Bearer {token}")), 401),
        (
            "GET",
            format!("evil.example:{port}"),
            Some(token.to_string()),
            403,
        ),
        (
            "GET",
            format!("127.0.0.1:{}", port.wrapping_add(1)),
            Some(token.to_string()),
            403,
        ),
        ("POST", host.clone(), Some(token.to_string()), 405),
        ("PUT", host.clone(), None, 405),
    ];
    for (method, host, token, expected) in refusals {
        let (status, body) = request(port, method, &host, token.as_deref());
        assert_eq!(status, expected, "{method} Host: {host}: {body}");
        let message = body["message"].as_str().unwrap_or_else(|| panic!("{body}"));
        assert!(
            !message.contains(&served.token),
            "the token in an error: {message}"
        );
        assert!(body.get("AccessKeyId").is_none());
    }
}

#[test]
fn the_child_gets_the_endpoint_but_no_keys_and_the_token_is_in_no_command_line() {
    let aws = FakeAws::start();
    let sandbox = sandbox(&aws, "");
    // Inherited keys and profile are removed.
    let served = serve_sleeper(
        &sandbox,
        &[
            ("AWS_ACCESS_KEY_ID", "AKIAINHERITED"),
            ("AWS_SECRET_ACCESS_KEY", "inherited"),
            ("AWS_SESSION_TOKEN", "inherited"),
            ("AWS_PROFILE", "alice"),
            ("MFA_PROMPT", "other 5m"),
        ],
    );
    let env = child_env(served.child_pid);
    for name in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "MFA_PROMPT",
    ] {
        assert!(!env.contains_key(name), "{name} reached the child");
    }
    assert_eq!(env["MFA_PROFILE"], "job");
    assert_eq!(env["AWS_REGION"], "eu-west-1");
    assert_eq!(env["AWS_DEFAULT_REGION"], "eu-west-1");
    assert!(served.token.len() >= 32, "128 bits at least");
    // MFA_EXPIRES_AT is the end of the MFA session (12 hours), not the role's.
    let mfa_session = aws.last_call("GetSessionToken");
    let expires_at: i64 = env["MFA_EXPIRES_AT"].parse().unwrap();
    let issued_at = mfa_session["time"].as_f64().unwrap() as i64;
    assert!(
        (expires_at - issued_at - 43200).abs() <= 5,
        "{expires_at} vs {issued_at}"
    );

    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        if let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) {
            let text = String::from_utf8_lossy(&cmdline);
            assert!(
                !text.contains(&served.token),
                "the token in {:?}",
                entry.path()
            );
        }
    }
}

#[test]
fn twenty_clients_at_the_moment_of_renewal_cause_one_assume_role() {
    let aws = FakeAws::start();
    let sandbox = sandbox(&aws, "");
    let served = serve_sleeper(&sandbox, &[]);
    let (status, first) = get(&served);
    assert_eq!(status, 200);
    let before = aws.count("AssumeRole");
    let issued = aws.last_call("AssumeRole")["time"].as_f64().unwrap();
    // Past 5 s after the role was issued it has less than 895 s left.
    let now = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs_f64()
    };
    std::thread::sleep(Duration::from_secs_f64((issued + 6.0 - now()).max(0.0)));
    let barrier = std::sync::Barrier::new(20);
    let answers: Vec<(u16, Value)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..20)
            .map(|_| {
                scope.spawn(|| {
                    barrier.wait();
                    get(&served)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(
        aws.count("AssumeRole"),
        before + 1,
        "one renewal for twenty requests"
    );
    let keys: HashSet<&str> = answers
        .iter()
        .map(|(status, body)| {
            assert_eq!(*status, 200, "{body}");
            body["AccessKeyId"].as_str().unwrap()
        })
        .collect();
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert!(!keys.contains(first["AccessKeyId"].as_str().unwrap()));
}

/// An MFA session of 900 s: after 5 s it has less than MFA_SERVER_MIN_TTL
/// left, and renewing needs a code.
const SHORT_MFA_SESSION: &str = "mfa_session_duration = 900\n";

#[test]
fn a_code_needed_without_terminal_or_mfa_process_is_503_at_once() {
    let aws = FakeAws::start();
    let sandbox = sandbox(&aws, SHORT_MFA_SESSION);
    let served = serve_sleeper(&sandbox, &[("MFA_TIMEOUT", "10")]);
    std::thread::sleep(Duration::from_secs(6));
    let started = Instant::now();
    let (status, body) = get(&served);
    assert_eq!(status, 503, "{body}");
    assert!(started.elapsed() < Duration::from_secs(10));
    let message = body["message"].as_str().unwrap();
    assert!(message.contains("mfa_process"), "{message}");
    assert!(message.contains("mfa env job"), "{message}");
    assert_eq!(aws.count("GetSessionToken"), 1);
}

#[test]
fn a_code_needed_comes_from_mfa_process_once_for_waiting_requests() {
    let aws = FakeAws::start();
    let extra = format!("{SHORT_MFA_SESSION}mfa_process = sleep 1; echo 654321\n");
    let sandbox = sandbox(&aws, &extra);
    let served = serve_sleeper(&sandbox, &[]);
    std::thread::sleep(Duration::from_secs(6));
    all_served_after_one_new_code(&aws, &served, || {});
}

#[test]
fn a_code_needed_is_asked_once_on_mfas_terminal_while_requests_wait() {
    let aws = FakeAws::start();
    let sandbox = sandbox(&aws, SHORT_MFA_SESSION);
    let (mut term, served) = serve_on_terminal(
        &sandbox,
        &[],
        &[
            "exec", "job", "--server", "--token", "123456", "--", "sleep", "120",
        ],
    );
    std::thread::sleep(Duration::from_secs(6));
    all_served_after_one_new_code(&aws, &served, || {
        term.exp_string("the credential endpoint of `job` needs a new MFA code")
            .unwrap();
        term.exp_string(&format!("MFA code for {SERIAL} (job): "))
            .unwrap();
        term.send_line("654321").unwrap();
    });
}

/// Five requests at once while `meanwhile` runs (answers the question):
/// all are served, after one GetSessionToken with the code 654321.
fn all_served_after_one_new_code(aws: &FakeAws, served: &Served, meanwhile: impl FnOnce()) {
    let answers: Vec<(u16, Value)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..5).map(|_| scope.spawn(|| get(served))).collect();
        meanwhile();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (status, body) in &answers {
        assert_eq!(*status, 200, "{body}");
    }
    assert_eq!(
        aws.count("GetSessionToken"),
        2,
        "one new code for five requests"
    );
    assert_eq!(aws.last_call("GetSessionToken")["token_code"], "654321");
}

fn mfa_of(served: &mut Served) -> &mut Child {
    served.mfa.as_mut().expect("mfa started by the test")
}

fn listening(port: u16) -> String {
    let out = Command::new("ss")
        .args(["-ltnpH", &format!("sport = :{port}")])
        .output()
        .expect("ss (iproute2; scripts/test installs it)");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn alive(pid: i32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| s.contains(") Z "))
}

fn kill(pid: i32, signal: &str) {
    let status = Command::new("kill")
        .args([signal, &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn the_endpoint_ends_with_the_child_and_exits_with_its_status() {
    let aws = FakeAws::start();
    let sandbox = sandbox(&aws, "");
    let mut served = serve_sleeper(&sandbox, &[]);
    let port = served.port;
    assert!(listening(port).contains("mfa"), "{}", listening(port));
    kill(served.child_pid, "-TERM");
    let status = mfa_of(&mut served).wait().unwrap();
    assert_eq!(status.code(), Some(128 + 15), "the child died of SIGTERM");
    assert_eq!(listening(port), "");

    let out = serve(&sandbox, &["sh", "-c", "exit 7"]).output().unwrap();
    assert_eq!(out.status.code(), Some(7), "{}", stderr(&out));
}

#[test]
fn sigterm_to_mfa_reaches_the_child_and_closes_the_port() {
    let aws = FakeAws::start();
    let sandbox = sandbox(&aws, "");
    let mut served = serve_sleeper(&sandbox, &[]);
    let port = served.port;
    kill(mfa_of(&mut served).id() as i32, "-TERM");
    let status = mfa_of(&mut served).wait().unwrap();
    assert_eq!(status.code(), Some(128 + 15));
    wait_for("the child to end", || !alive(served.child_pid));
    assert_eq!(listening(port), "");
}

#[test]
fn sigkill_to_mfa_leaves_no_listening_socket() {
    let aws = FakeAws::start();
    let sandbox = sandbox(&aws, "");
    let mut served = serve_sleeper(&sandbox, &[]);
    let port = served.port;
    kill(mfa_of(&mut served).id() as i32, "-KILL");
    mfa_of(&mut served).wait().unwrap();
    // The child runs on, but never held the socket (close-on-exec).
    assert!(alive(served.child_pid));
    assert_eq!(listening(port), "");
    let fds = std::fs::read_dir(format!("/proc/{}/fd", served.child_pid)).unwrap();
    for fd in fds.flatten() {
        let target = std::fs::read_link(fd.path()).unwrap_or_default();
        assert!(
            !target.to_string_lossy().starts_with("socket:"),
            "{target:?}"
        );
    }
}

#[test]
fn mfa_shell_server_gives_the_subshell_the_endpoint_and_its_status() {
    let aws = FakeAws::start();
    let sandbox = sandbox(&aws, "");
    // A `default` profile with keys would win over the endpoint: a warning.
    sandbox.credentials(&format!(
        "{}\n[default]\naws_access_key_id = AKIADEFAULTEXAMPLE\naws_secret_access_key = x\n",
        standard_credentials()
    ));
    let mut shell = sandbox.mfa();
    shell
        .env("SHELL", "/bin/sh")
        .env("AWS_ACCESS_KEY_ID", "AKIAINHERITED")
        .args(["shell", "job", "--server", "--token", "123456"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = shell.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"echo \"uri=${AWS_CONTAINER_CREDENTIALS_FULL_URI:+set} keys=${AWS_ACCESS_KEY_ID:-none}\"; exit 3\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim(), "uri=set keys=none");
    assert!(
        stderr(&out).contains("profile `default` has aws_access_key_id"),
        "{}",
        stderr(&out)
    );
}

/// Ctrl-C on the terminal reaches the job's group (the foreground: mfa
/// gave the job a group and the terminal of its own): mfa does not send
/// it a second time (terraform would quit at once on a second one). A
/// signal sent to mfa alone is passed on. mfa runs under strace, which
/// shows every signal it sends.
#[test]
fn ctrl_c_reaches_the_child_once_and_a_signal_to_mfa_is_passed_on() {
    let aws = FakeAws::start();
    let sandbox = sandbox(&aws, "");
    let trace = sandbox.path("kills.strace");
    let mut command = sandbox.command("strace");
    let script = "n=0; trap 'n=$((n+1)); echo interrupted-$n' INT; trap 'echo terminated; exit 9' TERM; \
                  echo ready; while :; do sleep 0.1; done";
    command
        .stdin(Stdio::inherit())
        .env("TERM", "dumb")
        .args(["-f", "-qq", "-e", "trace=kill", "-e", "signal=none", "-o"])
        .arg(&trace)
        .arg(env!("CARGO_BIN_EXE_mfa"))
        .args([
            "exec", "job", "--server", "--token", "123456", "--", "sh", "-c", script,
        ]);
    let mut term = rexpect::session::spawn_command(command, Some(30_000)).unwrap();
    let strace_pid = term.process.child_pid.as_raw();
    term.exp_string("ready").unwrap();
    let children = format!("/proc/{strace_pid}/task/{strace_pid}/children");
    let mfa_pid: i32 = std::fs::read_to_string(children)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    term.send_control('c').unwrap();
    term.exp_string("interrupted-1").unwrap();
    std::thread::sleep(Duration::from_millis(500));
    kill(mfa_pid, "-TERM");
    let rest = term.exp_eof().unwrap();
    assert!(rest.contains("terminated"), "{rest:?}");
    let status = term.process.wait().unwrap();
    assert_eq!(
        format!("{status:?}"),
        format!("Exited(Pid({strace_pid}), 9)"),
        "mfa exits with the child's status"
    );
    let kills = std::fs::read_to_string(&trace).unwrap();
    let sent = |signal: &str| {
        kills
            .lines()
            .any(|line| line.contains("kill(") && line.contains(signal))
    };
    assert!(sent("SIGTERM"), "{kills}");
    assert!(
        !sent("SIGINT"),
        "Ctrl-C was sent to the child again: {kills}"
    );
}

/// Variables that come before container credentials in the SDKs' chains
/// are not inherited: with a web-identity role and token file in mfa's
/// environment, boto3 and the AWS CLI still take the endpoint's
/// credentials ("container-role"), and nothing assumes the other role.
#[test]
fn inherited_web_identity_does_not_win_over_the_endpoint() {
    let aws = FakeAws::start();
    let sandbox = sandbox(&aws, "");
    let token_file = sandbox.path("web-identity.jwt");
    std::fs::write(&token_file, "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.").unwrap();
    let script = "\"$MFA_TEST_PYTHON\" -c 'import boto3; print(boto3.Session().get_credentials().method)' && \
         aws configure list | awk '$1 == \"access_key\" { print $3 }' && \
         aws sts get-caller-identity --query Arn --output text && \
         echo \"left: ${AWS_ROLE_ARN-}${AWS_WEB_IDENTITY_TOKEN_FILE-}${AWS_CREDENTIAL_FILE-}\"";
    let out = serve(&sandbox, &["sh", "-c", script])
        .env(
            "AWS_ROLE_ARN",
            "arn:aws:iam::123456789012:role/web-identity",
        )
        .env("AWS_WEB_IDENTITY_TOKEN_FILE", &token_file)
        .env("AWS_ROLE_SESSION_NAME", "ci")
        .env("AWS_CREDENTIAL_FILE", sandbox.path("legacy-keys"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}\n{}", stderr(&out), stdout(&out));
    let lines: Vec<String> = stdout(&out).lines().map(str::to_string).collect();
    assert_eq!(lines[0], "container-role", "boto3: {lines:?}");
    assert_eq!(lines[1], "container-role", "aws configure list: {lines:?}");
    assert!(lines[2].contains(":assumed-role/admin/"), "{lines:?}");
    assert_eq!(lines[3], "left: ", "{lines:?}");
    assert_eq!(aws.count("AssumeRoleWithWebIdentity"), 0);
}

/// A flood of idle connections, reopened as mfa drops them, more than mfa
/// has file descriptors for (256 here): an authenticated GET is still
/// answered, at once.
#[test]
fn a_flood_of_idle_connections_does_not_keep_the_jobs_requests_out() {
    use std::os::unix::process::CommandExt;
    use std::sync::atomic::{AtomicBool, Ordering};
    let aws = FakeAws::start();
    let sandbox = sandbox(&aws, "");
    let mut command = serve(&sandbox, &["sleep", "120"]);
    command.stdout(Stdio::null()).stderr(Stdio::null());
    // SAFETY: setrlimit is async-signal-safe.
    unsafe {
        command.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: 256,
                rlim_max: 256,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mfa = command.spawn().unwrap();
    let (child_pid, port, token) = what_the_child_got(mfa.id() as i32);
    let served = Served {
        mfa: Some(mfa),
        child_pid,
        port,
        token,
    };
    let stop = AtomicBool::new(false);
    let flood = |held: usize| {
        let mut idle: Vec<TcpStream> = Vec::new();
        let mut opened = 0;
        while !stop.load(Ordering::SeqCst) {
            idle.retain(|conn| {
                let mut byte = [0u8; 1];
                matches!(conn.peek(&mut byte), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
            });
            while idle.len() < held && !stop.load(Ordering::SeqCst) {
                let address = std::net::SocketAddr::from(([127, 0, 0, 1], port));
                match TcpStream::connect_timeout(&address, Duration::from_millis(200)) {
                    Ok(conn) => {
                        conn.set_nonblocking(true).unwrap();
                        idle.push(conn);
                        opened += 1;
                    }
                    Err(_) => break,
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        opened
    };
    let host = format!("127.0.0.1:{port}");
    let (answers, opened) = std::thread::scope(|scope| {
        let flooding = scope.spawn(|| flood(400));
        std::thread::sleep(Duration::from_secs(2));
        let answers: Vec<(u16, Duration)> = (0..3)
            .map(|_| {
                let started = Instant::now();
                let answer = std::panic::catch_unwind(|| {
                    request_within(
                        Duration::from_secs(5),
                        port,
                        "GET",
                        &host,
                        Some(&served.token),
                    )
                });
                let took = started.elapsed();
                std::thread::sleep(Duration::from_secs(1));
                (answer.map_or(0, |(status, _)| status), took)
            })
            .collect();
        stop.store(true, Ordering::SeqCst);
        (answers, flooding.join().unwrap())
    });
    assert!(opened > 400, "the flood opened {opened} connections");
    for &(status, took) in &answers {
        assert_eq!(
            status, 200,
            "an authenticated GET in the flood: {answers:?}"
        );
        assert!(took < Duration::from_secs(3), "{took:?}");
    }
}

/// The state letter of a process (`T`: stopped).
fn process_state(pid: i32) -> char {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    stat.rsplit_once(") ")
        .and_then(|(_, rest)| rest.chars().next())
        .unwrap_or('?')
}

/// mfa with `args` (and `env`) in a pseudo-terminal, in its foreground,
/// with renewals every 5 s; what its child got.
fn serve_on_terminal(
    sandbox: &Sandbox,
    env: &[(&str, &str)],
    args: &[&str],
) -> (rexpect::session::PtySession, Served) {
    run_on_terminal(sandbox, env!("CARGO_BIN_EXE_mfa"), env, args)
}

/// `program`, which is or execs mfa, as `serve_on_terminal` runs mfa.
fn run_on_terminal(
    sandbox: &Sandbox,
    program: &str,
    env: &[(&str, &str)],
    args: &[&str],
) -> (rexpect::session::PtySession, Served) {
    let mut mfa = sandbox.command(program);
    // The terminal is the pseudo-terminal: undo the harness's stdin.
    mfa.stdin(Stdio::inherit())
        .env("TERM", "dumb")
        .env("MFA_SERVER_MIN_TTL", "895")
        .envs(env.iter().copied())
        .args(args);
    let term = rexpect::session::spawn_command(mfa, Some(30_000)).unwrap();
    let (child_pid, port, token) = what_the_child_got(term.process.child_pid.as_raw());
    let served = Served {
        mfa: None,
        child_pid,
        port,
        token,
    };
    (term, served)
}

/// A job that reads the terminal (terraform at its `Enter a value:`)
/// while a renewal needs a code: the job is stopped while mfa asks, the
/// code goes to mfa, and the line typed after goes to the job.
#[test]
fn a_code_question_stops_the_job_reading_the_terminal_and_each_gets_its_line() {
    let aws = FakeAws::start();
    let sandbox = sandbox(&aws, SHORT_MFA_SESSION);
    let script = "printf 'Enter a value: '; read answer; echo \"job read [$answer]\"; sleep 120";
    let (mut term, served) = serve_on_terminal(
        &sandbox,
        &[],
        &[
            "exec", "job", "--server", "--token", "123456", "--", "sh", "-c", script,
        ],
    );
    let child_pid = served.child_pid;
    term.exp_string("Enter a value: ").unwrap();
    std::thread::sleep(Duration::from_secs(6));
    let mut state_while_asked = '?';
    all_served_after_one_new_code(&aws, &served, || {
        term.exp_string("needs a new MFA code").unwrap();
        term.exp_string(&format!("MFA code for {SERIAL} (job): "))
            .unwrap();
        state_while_asked = process_state(child_pid);
        term.send_line("654321").unwrap();
    });
    assert_eq!(state_while_asked, 'T', "the job is stopped while mfa asks");
    wait_for("the job to continue", || process_state(child_pid) != 'T');
    term.send_line("yes").unwrap();
    term.exp_string("job read [yes]").unwrap();
}

/// Through an interactive bash in a pseudo-terminal: Ctrl-Z stops the job
/// and mfa with it (bash reports it stopped and gets its prompt back),
/// `fg` continues both with the terminal the job's again, and `$?` is the
/// job's status.
#[test]
fn ctrl_z_stops_mfa_with_the_job_and_fg_gives_the_job_the_terminal_again() {
    let aws = FakeAws::start();
    let sandbox = sandbox(&aws, "");
    let mut bash = sandbox.command("bash");
    bash.stdin(Stdio::inherit())
        .env("TERM", "dumb")
        .env("PS1", "prompt> ")
        .args(["--norc", "--noprofile", "-i"]);
    let mut term = rexpect::session::spawn_command(bash, Some(30_000)).unwrap();
    term.exp_string("prompt> ").unwrap();
    term.send_line(&format!(
        "{} exec job --server --token 123456 -- sh -c 'echo started; read line; echo \"job read [$line]\"; exit 5'",
        env!("CARGO_BIN_EXE_mfa")
    ))
    .unwrap();
    term.exp_string("started").unwrap();
    std::thread::sleep(Duration::from_millis(300));
    term.send_control('z').unwrap();
    term.exp_string("Stopped").unwrap();
    term.exp_string("prompt> ").unwrap();
    term.send_line("fg").unwrap();
    std::thread::sleep(Duration::from_millis(500));
    term.send_line("hello").unwrap();
    term.exp_string("job read [hello]").unwrap();
    term.send_line("echo \"status=$?\"").unwrap();
    term.exp_string("status=5").unwrap();
    term.send_line("exit").unwrap();
    term.exp_eof().unwrap();
}

/// `mfa shell --server` with an interactive bash on a pseudo-terminal:
/// bash does its own job control in the group mfa gave it; a code needed
/// while it waits at its prompt is asked with bash stopped, and bash goes
/// on reading its own lines after.
#[test]
fn an_interactive_subshell_keeps_its_terminal_around_a_code_question() {
    let aws = FakeAws::start();
    let sandbox = sandbox(&aws, SHORT_MFA_SESSION);
    let (mut term, served) = serve_on_terminal(
        &sandbox,
        &[("SHELL", "bash")],
        &["shell", "job", "--server", "--token", "123456"],
    );
    let child_pid = served.child_pid;
    // The system's bash.bashrc sets its own prompt.
    term.exp_regex("[#$] $").unwrap();
    std::thread::sleep(Duration::from_secs(6));
    all_served_after_one_new_code(&aws, &served, || {
        term.exp_string(&format!("MFA code for {SERIAL} (job): "))
            .unwrap();
        assert_eq!(process_state(child_pid), 'T', "bash is stopped");
        term.send_line("654321").unwrap();
    });
    wait_for("bash to continue", || process_state(child_pid) != 'T');
    term.send_line(
        "echo \"in the subshell: ${AWS_CONTAINER_CREDENTIALS_FULL_URI:+served}\"; exit 4",
    )
    .unwrap();
    term.exp_string("in the subshell: served").unwrap();
    term.exp_eof().unwrap();
    let status = term.process.wait().unwrap();
    assert!(format!("{status:?}").ends_with(", 4)"), "{status:?}");
}

/// Under `stty tostop`, a renewal's failure written on the terminal while
/// the job has it neither stops mfa (the calling shell would then take the
/// terminal from the running job) nor fails (EIO in an orphaned group):
/// the request gets the failure, mfa runs on.
#[test]
fn a_failure_message_under_tostop_does_not_stop_mfa() {
    let aws = FakeAws::start();
    let sandbox = sandbox(&aws, &format!("{SHORT_MFA_SESSION}mfa_process = exit 1\n"));
    let script = format!(
        "stty tostop && exec {} exec job --server --token 123456 -- sleep 120",
        env!("CARGO_BIN_EXE_mfa")
    );
    let (mut term, served) = run_on_terminal(&sandbox, "sh", &[], &["-c", &script]);
    let mfa_pid = term.process.child_pid.as_raw();
    std::thread::sleep(Duration::from_secs(6));
    let (status, body) = request_within(
        Duration::from_secs(10),
        served.port,
        "GET",
        &format!("127.0.0.1:{}", served.port),
        Some(&served.token),
    );
    assert_eq!(status, 502, "{body}");
    term.exp_string("could not renew").unwrap();
    assert_ne!(process_state(mfa_pid), 'T', "mfa was stopped");
}
