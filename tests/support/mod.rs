//! Test harness: a local AWS (moto behind a validating layer, see
//! fake_aws.py), a throwaway HOME with AWS files, the `mfa` binary, and
//! real shells.
#![allow(dead_code)]

pub mod signin;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use serde_json::Value;

pub const SERIAL: &str = "arn:aws:iam::123456789012:mfa/alice";
pub const ADMIN_ROLE: &str = "arn:aws:iam::123456789012:role/admin";
pub const READONLY_ROLE: &str = "arn:aws:iam::123456789012:role/readonly";

/// A running fake AWS endpoint; stopped when dropped (and, should the test
/// process die, when its stdin closes).
pub struct FakeAws {
    child: Child,
    pub port: u16,
}

impl FakeAws {
    pub fn start() -> FakeAws {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/fake_aws.py");
        let python = std::env::var("MFA_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
        let mut child = Command::new(python)
            .arg(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start tests/support/fake_aws.py (python3 with moto[server])");
        let stdout = child.stdout.take().expect("stdout of fake_aws.py");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read the PORT line of fake_aws.py");
        let port = line
            .trim()
            .strip_prefix("PORT ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("fake_aws.py said {line:?}, not `PORT n`"));
        FakeAws { child, port }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn request(&self, method: &str, path: &str, body: &str) -> Value {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("connect to fake AWS");
        stream.set_read_timeout(Some(Duration::from_secs(30))).ok();
        write!(
            stream,
            "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .expect("send to fake AWS");
        let mut response = String::new();
        stream
            .read_to_string(&mut response)
            .expect("read from fake AWS");
        let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
        assert!(head.contains(" 200 "), "fake AWS answered {head}");
        serde_json::from_str(body).unwrap_or(Value::Null)
    }

    /// Every call recorded so far.
    pub fn calls(&self) -> Vec<Value> {
        self.request("GET", "/_fake/calls", "")["calls"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// The last call of `action` made (the test fails if there was none).
    pub fn last_call(&self, action: &str) -> Value {
        self.calls()
            .into_iter()
            .rfind(|c| c["action"] == action)
            .unwrap_or_else(|| panic!("no {action} call was made"))
    }

    /// How many successful calls of `action` were made.
    pub fn count(&self, action: &str) -> usize {
        self.calls()
            .iter()
            .filter(|c| c["action"] == action && c["status"] == 200)
            .count()
    }

    pub fn set_codes(&self, serial: &str, codes: &[&str]) {
        let body = serde_json::json!({ "serial": serial, "codes": codes }).to_string();
        self.request("POST", "/_fake/mfa", &body);
    }

    pub fn fault(&self, fault: Value) {
        self.request("POST", "/_fake/faults", &fault.to_string());
    }

    /// IAM's List calls answer at most `size` members a page (see
    /// "Pages of IAM's List calls" in fake_aws.py).
    pub fn iam_page_size(&self, size: usize) {
        let body = serde_json::json!({ "size": size }).to_string();
        self.request("POST", "/_fake/iam_page_size", &body);
    }

    /// A signed-in SSO token the fake portal accepts, as `aws sso login`
    /// would have got it (see fake_sso.py): accessToken, refreshToken,
    /// clientId, clientSecret, registrationExpiresAt (Unix seconds).
    pub fn sso_grant(&self, expires_in: i64) -> Value {
        let body = serde_json::json!({ "expires_in": expires_in }).to_string();
        self.request("POST", "/_fake/sso/grant", &body)
    }

    /// Token and role lifetimes, the device flow's interval and expiry,
    /// forced slow_down answers (see fake_sso.py).
    pub fn sso_settings(&self, settings: Value) {
        self.request("POST", "/_fake/sso/settings", &settings.to_string());
    }

    /// The device authorizations started so far.
    pub fn sso_devices(&self) -> Vec<Value> {
        self.request("GET", "/_fake/sso/devices", "")["devices"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// Approves every pending device code, as the person in the browser would.
    pub fn sso_approve(&self) {
        self.request("POST", "/_fake/sso/approve", "{}");
    }
}

impl Drop for FakeAws {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A throwaway HOME with `~/.aws/config`, `~/.aws/credentials` and the
/// cache under `~/.cache/mfa`.
pub struct Sandbox {
    _dir: tempfile::TempDir,
    pub home: PathBuf,
    pub endpoint: String,
}

impl Sandbox {
    pub fn new(aws: &FakeAws) -> Sandbox {
        Sandbox::with_endpoint(aws.endpoint())
    }

    pub fn with_endpoint(endpoint: String) -> Sandbox {
        let dir = tempfile::tempdir().expect("temp dir");
        let home = dir.path().join("home");
        std::fs::create_dir_all(home.join(".aws")).expect("create ~/.aws");
        Sandbox {
            _dir: dir,
            home,
            endpoint,
        }
    }

    pub fn config(&self, text: &str) -> &Sandbox {
        std::fs::write(self.home.join(".aws/config"), text).expect("write config");
        self
    }

    pub fn credentials(&self, text: &str) -> &Sandbox {
        std::fs::write(self.home.join(".aws/credentials"), text).expect("write credentials");
        self
    }

    pub fn cache_dir(&self) -> PathBuf {
        self.home.join(".cache/mfa")
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.home.join(name)
    }

    /// The `mfa` binary with a clean environment: only PATH, HOME, the
    /// local endpoint, and no controlling terminal.
    pub fn mfa(&self) -> Command {
        let mut command = self.command(env!("CARGO_BIN_EXE_mfa"));
        detach_from_terminal(&mut command);
        command
    }

    /// Any program with the same clean environment (and whatever terminal
    /// the caller gives it).
    pub fn command(&self, program: &str) -> Command {
        let mut command = Command::new(program);
        command
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", &self.home)
            .env("AWS_ENDPOINT_URL_STS", &self.endpoint)
            .env("AWS_ENDPOINT_URL_IAM", &self.endpoint)
            .env("AWS_ENDPOINT_URL_SSO", &self.endpoint)
            .env("AWS_ENDPOINT_URL_SSO_OIDC", &self.endpoint)
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("LANG", "C.UTF-8")
            .stdin(Stdio::null());
        command
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.mfa().args(args).output().expect("run mfa")
    }
}

/// Starts the child in a new session, so it has no controlling terminal.
pub fn detach_from_terminal(command: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: setsid is async-signal-safe and touches no memory.
    unsafe {
        command.pre_exec(|| {
            if libc_setsid() == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

unsafe extern "C" {
    #[link_name = "setsid"]
    fn libc_setsid() -> i32;
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Asserts a failure as SPEC §3 wants it: the exit status, nothing on
/// stdout, and a message that mentions `needle`.
pub fn assert_fails(output: &Output, status: i32, needle: &str) {
    let err = stderr(output);
    assert_eq!(
        output.status.code(),
        Some(status),
        "expected exit {status}; stderr: {err}"
    );
    assert!(
        output.stdout.is_empty(),
        "stdout not empty: {}",
        stdout(output)
    );
    assert!(
        err.contains(needle),
        "stderr should mention {needle:?}, was: {err}"
    );
}

/// The usual files: an MFA user with two roles that use it as source.
pub const USER_KEY_ID: &str = "AKIAIOSFODNN7EXAMPLE";
pub const USER_SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

pub fn standard_config() -> String {
    format!(
        "[profile alice]\nmfa_serial = {SERIAL}\nregion = eu-west-1\n\n\
         [profile admin]\nrole_arn = {ADMIN_ROLE}\nsource_profile = alice\n\n\
         [profile readonly]\nrole_arn = {READONLY_ROLE}\nsource_profile = alice\nregion = us-west-2\n"
    )
}

/// Profiles whose names look like options, as roles on the usual MFA user.
pub const OPTION_LIKE: [&str; 3] = ["-h", "--help", "-V"];

/// The usual files plus a role profile for each of OPTION_LIKE.
pub fn option_like_profiles() -> String {
    let mut config = standard_config();
    for name in OPTION_LIKE {
        config.push_str(&format!(
            "\n[profile {name}]\nrole_arn = {ADMIN_ROLE}\nsource_profile = alice\n"
        ));
    }
    config
}

pub fn standard_credentials() -> String {
    format!("[alice]\naws_access_key_id = {USER_KEY_ID}\naws_secret_access_key = {USER_SECRET}\n")
}

/// Runs a script in a real shell, without the user's rc files or the test
/// process's environment.
pub fn run_shell(shell: &str, script: &str) -> Output {
    let mut command = Command::new(shell);
    match shell {
        "fish" => command.args(["--no-config", "-c", script]),
        "zsh" => command.args(["-f", "-c", script]),
        _ => command.args(["--norc", "--noprofile", "-c", script]),
    };
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("LANG", "C.UTF-8")
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("run {shell}: {e}"))
}

/// `aws iam ARGS` against the local IAM, signed by an admin key (moto
/// checks no permissions); its JSON answer. Panics when the call fails.
pub fn iam_admin(sandbox: &Sandbox, args: &[&str]) -> Value {
    let out = sandbox
        .command("aws")
        .env("AWS_ACCESS_KEY_ID", "AKIAADMINEXAMPLE")
        .env("AWS_SECRET_ACCESS_KEY", "admin-secret")
        .arg("iam")
        .args(args)
        .args(["--region", "us-east-1", "--output", "json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "aws iam {args:?}: {}", stderr(&out));
    if out.stdout.iter().all(u8::is_ascii_whitespace) {
        return Value::Null;
    }
    serde_json::from_slice(&out.stdout).unwrap()
}

/// An IAM user with an access key, made in the local IAM.
pub fn create_iam_user(sandbox: &Sandbox, user: &str) -> (String, String) {
    iam_admin(sandbox, &["create-user", "--user-name", user]);
    let key = iam_admin(sandbox, &["create-access-key", "--user-name", user]);
    let field = |name: &str| key["AccessKey"][name].as_str().unwrap().to_string();
    (field("AccessKeyId"), field("SecretAccessKey"))
}

/// `mfa ARGS` under strace, every call of `syscall` held up for two
/// seconds on its way in, so that a test can act in the middle (issue 10's
/// own reproductions). Its stdout and stderr are piped.
pub fn delayed(sandbox: &Sandbox, syscall: &str, args: &[&str]) -> Command {
    let mut command = sandbox.command("strace");
    detach_from_terminal(&mut command);
    command
        .args(["-f", "-qq", "-o", "/dev/null", "-e"])
        .arg(format!("inject={syscall}:delay_enter=2000000"))
        .arg(env!("CARGO_BIN_EXE_mfa"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// Waits (up to 20 s) until `ready` holds.
pub fn wait_for(what: &str, ready: impl Fn() -> bool) {
    let started = std::time::Instant::now();
    while !ready() {
        assert!(started.elapsed() < Duration::from_secs(20), "{what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}
