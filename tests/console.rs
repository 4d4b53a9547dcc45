//! `mfa console` (SPEC §9) against the local STS and its federation
//! endpoint (tests/support/fake_signin.py), a real headless Chromium, and
//! clients that ask the one-time address what a browser would.

mod support;

use std::collections::HashSet;
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::signin::*;
use support::*;

const CODE: &str = "123456";

fn sandbox(aws: &FakeAws) -> Sandbox {
    let sandbox = Sandbox::new(aws);
    sandbox
        .config(&format!(
            "{}\n[profile chained]\nrole_arn = arn:aws:iam::123456789012:role/deeper\nsource_profile = admin\n",
            standard_config()
        ))
        .credentials(&standard_credentials());
    sandbox
}

fn calls_of(aws: &FakeAws, action: &str) -> Vec<Value> {
    aws.calls()
        .into_iter()
        .filter(|c| c["action"] == action)
        .collect()
}

#[test]
fn print_signs_a_role_profile_in_with_its_mfa_role_session() {
    let aws = FakeAws::start();
    let sandbox = sandbox(&aws);
    let url = printed_url(
        &console(&sandbox, &aws, &["admin", "--print", "--token", CODE]),
        &aws,
    );
    let (status, page) = get(&url).expect("the login page");
    assert_eq!(status, 200, "{page}");
    assert_eq!(identity_on(&page), "assumed-role/admin/mfa-alice");
    assert_eq!(
        param(&url, "Destination").unwrap(),
        "https://console.aws.amazon.com/console/home"
    );
    // The role was assumed from the MFA session, and that session signed in.
    let assumed = aws.last_call("AssumeRole");
    assert_eq!(assumed["role_arn"], ADMIN_ROLE);
    assert_eq!(aws.last_call("GetSessionToken")["serial"], SERIAL);
    let signin = calls_of(&aws, "getSigninToken");
    assert_eq!(signin.len(), 1);
    assert_eq!(signin[0]["status"], 200);
    assert_eq!(
        signin[0]["access_key_id"],
        assumed["returned_access_key_id"]
    );
    assert_eq!(signin[0]["session_duration"], Value::Null);
    assert_eq!(
        param(&url, "SigninToken").unwrap(),
        signin[0]["signin_token"].as_str().unwrap()
    );

    // Again: the cached role session signs in, without a code or STS call.
    let url = printed_url(&console(&sandbox, &aws, &["admin", "--print"]), &aws);
    assert_eq!(aws.count("AssumeRole"), 1);
    assert_eq!(aws.count("getSigninToken"), 2);
    let (_, page) = get(&url).unwrap();
    assert_eq!(identity_on(&page), "assumed-role/admin/mfa-alice");

    // A sign-in token the endpoint never issued is refused by its login.
    let forged = url.replace("SigninToken=", "SigninToken=x");
    assert_eq!(get(&forged).unwrap().0, 400);
}

#[test]
fn a_session_the_endpoint_refuses_is_a_clear_error_that_shows_no_secret() {
    let aws = FakeAws::start();
    let sandbox = sandbox(&aws);
    printed_url(
        &console(&sandbox, &aws, &["admin", "--print", "--token", CODE]),
        &aws,
    );
    // The cached role session, its secret changed: credentials STS never issued.
    let role_entry = std::fs::read_dir(sandbox.cache_dir())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            std::fs::read_to_string(p)
                .is_ok_and(|t| t.contains(ADMIN_ROLE) && t.contains("SessionToken"))
        })
        .expect("the role's cache entry");
    let mut entry: Value =
        serde_json::from_str(&std::fs::read_to_string(&role_entry).unwrap()).unwrap();
    let token = entry["credentials"]["SessionToken"]
        .as_str()
        .unwrap()
        .to_string();
    entry["credentials"]["SecretAccessKey"] = "forged/secret+key".into();
    std::fs::write(&role_entry, entry.to_string()).unwrap();
    let out = console(&sandbox, &aws, &["admin", "--print"]);
    assert_fails(&out, 1, "did not accept the session");
    let err = stderr(&out);
    assert!(
        err.contains(&aws.endpoint()),
        "the endpoint is named: {err}"
    );
    for secret in [token.as_str(), "forged", "Session=", "sessionToken"] {
        assert!(!err.contains(secret), "{err}");
    }
    assert_eq!(aws.last_call("getSigninToken")["status"], 400);
}

#[test]
fn a_profile_without_a_role_is_refused_and_role_arn_signs_in_with_mfa() {
    let aws = FakeAws::start();
    let sandbox = sandbox(&aws);
    let out = console(&sandbox, &aws, &["alice", "--print", "--token", CODE]);
    assert_fails(&out, 2, "--role-arn");
    assert!(stderr(&out).contains("no role"), "{}", stderr(&out));
    assert!(aws.calls().is_empty(), "refused before any call");

    let url = printed_url(
        &console(
            &sandbox,
            &aws,
            &[
                "alice",
                "--print",
                "--token",
                CODE,
                "--role-arn",
                READONLY_ROLE,
            ],
        ),
        &aws,
    );
    assert_eq!(aws.last_call("AssumeRole")["role_arn"], READONLY_ROLE);
    assert_eq!(aws.last_call("GetSessionToken")["token_code"], CODE);
    let (_, page) = get(&url).unwrap();
    assert_eq!(identity_on(&page), "assumed-role/readonly/mfa-alice");
    assert_eq!(aws.count("GetFederationToken"), 0);
}

#[test]
fn federation_token_is_the_explicit_way_in_without_mfa() {
    let aws = FakeAws::start();
    let sandbox = sandbox(&aws);
    let out = console(&sandbox, &aws, &["alice", "--print", "--federation-token"]);
    let url = printed_url(&out, &aws);
    assert!(stderr(&out).contains("WITHOUT MFA"), "{}", stderr(&out));
    let federation = aws.last_call("GetFederationToken");
    assert_eq!(federation["access_key_id"], USER_KEY_ID);
    assert_eq!(federation["duration"], 3600);
    assert_eq!(federation["serial"], Value::Null);
    assert_eq!(aws.count("GetSessionToken") + aws.count("AssumeRole"), 0);
    let (_, page) = get(&url).unwrap();
    assert!(
        identity_on(&page).starts_with("federated-user/mfa-"),
        "{page}"
    );
    // --duration sets the federation session (no SessionDuration: AWS refuses it there).
    let federation_token = |extra: &[&str]| {
        let mut args = vec!["alice", "--print", "--federation-token"];
        args.extend_from_slice(extra);
        console(&sandbox, &aws, &args)
    };
    printed_url(&federation_token(&["--duration", "7200"]), &aws);
    assert_eq!(aws.last_call("GetFederationToken")["duration"], 7200);
    assert_eq!(
        aws.last_call("getSigninToken")["session_duration"],
        Value::Null
    );

    // A role profile signs in with its role; both together are refused.
    let before = aws.calls().len();
    let out = console(&sandbox, &aws, &["admin", "--print", "--federation-token"]);
    assert_fails(&out, 2, "has a role");
    let out = federation_token(&["--role-arn", ADMIN_ROLE]);
    assert_fails(&out, 2, "cannot be used with");
    assert_eq!(aws.calls().len(), before);
}

#[test]
fn service_destination_and_region_choose_the_first_page() {
    let aws = FakeAws::start();
    let sandbox = sandbox(&aws);
    let destination = |args: &[&str]| {
        let mut all = vec!["--print", "--token", CODE];
        all.extend_from_slice(args);
        let url = printed_url(&console(&sandbox, &aws, &all), &aws);
        param(&url, "Destination").unwrap()
    };
    assert_eq!(
        destination(&["admin", "--service", "s3", "--region", "eu-central-1"]),
        "https://console.aws.amazon.com/s3/home?region=eu-central-1"
    );
    // The profile's region, when no --region.
    assert_eq!(
        destination(&["readonly", "--service", "ec2"]),
        "https://console.aws.amazon.com/ec2/home?region=us-west-2"
    );
    let page = "https://console.aws.amazon.com/iam/home#/roles";
    assert_eq!(destination(&["admin", "--destination", page]), page);
    // The partition comes from the role's ARN.
    assert_eq!(
        destination(&[
            "alice",
            "--role-arn",
            "arn:aws-us-gov:iam::123456789012:role/gov",
            "--region",
            "us-gov-west-1"
        ]),
        "https://console.amazonaws-us-gov.com/console/home?region=us-gov-west-1"
    );
    let before = aws.calls().len();
    for (args, needle) in [
        (
            &["admin", "--print", "--service", "s3", "--destination", page][..],
            "cannot be used with",
        ),
        (
            &["admin", "--print", "--destination", "http://evil.example/"],
            "https://",
        ),
        (&["admin", "--print", "--service", "S3;x"], "--service"),
        (
            &["admin", "--print", "--region", "eu west"],
            "not a valid AWS region",
        ),
    ] {
        assert_fails(&console(&sandbox, &aws, args), 2, needle);
    }
    assert_eq!(aws.calls().len(), before, "refused before any call");
}

#[test]
fn duration_bounds_are_checked_before_any_call_and_sent_as_session_duration() {
    let aws = FakeAws::start();
    let sandbox = sandbox(&aws);
    for bad in ["899", "43201", "-5"] {
        let out = console(
            &sandbox,
            &aws,
            &["admin", "--print", &format!("--duration={bad}")],
        );
        assert_fails(&out, 2, "AWS allows 900 to 43200 seconds");
    }
    let out = console(
        &sandbox,
        &aws,
        &["chained", "--print", "--duration", "7200"],
    );
    assert_fails(&out, 2, "role chaining");
    assert!(aws.calls().is_empty(), "{:?}", aws.calls());

    printed_url(
        &console(
            &sandbox,
            &aws,
            &["admin", "--print", "--token", CODE, "--duration", "43200"],
        ),
        &aws,
    );
    let signin = aws.last_call("getSigninToken");
    assert_eq!(
        (signin["session_duration"].as_str(), &signin["status"]),
        (Some("43200"), &Value::from(200))
    );
    printed_url(
        &console(
            &sandbox,
            &aws,
            &["chained", "--print", "--duration", "3600"],
        ),
        &aws,
    );
    assert_eq!(aws.last_call("getSigninToken")["session_duration"], "3600");
    assert_eq!(
        aws.last_call("AssumeRole")["role_arn"],
        "arn:aws:iam::123456789012:role/deeper"
    );
}

/// Every command line on the machine, as often as it can be read, until
/// `stop` is set.
fn watch_command_lines(stop: Arc<AtomicBool>) -> std::thread::JoinHandle<HashSet<String>> {
    std::thread::spawn(move || {
        let mut seen = HashSet::new();
        while !stop.load(Ordering::SeqCst) {
            if let Ok(entries) = std::fs::read_dir("/proc") {
                for entry in entries.flatten() {
                    if let Ok(bytes) = std::fs::read(entry.path().join("cmdline"))
                        && !bytes.is_empty()
                    {
                        seen.insert(String::from_utf8_lossy(&bytes).replace('\0', " "));
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        seen
    })
}

/// Every secret part of the cached sessions.
fn cached_secrets(sandbox: &Sandbox) -> Vec<String> {
    let mut secrets = Vec::new();
    for entry in std::fs::read_dir(sandbox.cache_dir()).unwrap().flatten() {
        let Ok(text) = std::fs::read_to_string(entry.path()) else {
            continue;
        };
        let Ok(json) = serde_json::from_str::<Value>(&text) else {
            continue;
        };
        for part in ["SecretAccessKey", "SessionToken"] {
            if let Some(value) = json["credentials"][part].as_str() {
                secrets.push(value.to_string());
            }
        }
    }
    secrets
}

fn chromium_command(profile_dir: &Path, dom: &Path) -> String {
    assert!(
        which("chromium"),
        "chromium is not installed: scripts/test installs it (Debian's `chromium`)"
    );
    // Its DOM goes to a file: mfa hands the browser its own stderr.
    format!(
        "sh -c 'exec chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
         --disable-background-networking --disable-component-update --disable-sync \
         --user-data-dir=\"$2\" --dump-dom \"$1\" >\"$3\" 2>/dev/null' sh {{url}} {} {}",
        profile_dir.display(),
        dom.display()
    )
}

fn which(program: &str) -> bool {
    std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
        .unwrap_or(false)
}

#[test]
fn a_real_browser_ends_on_the_login_page_and_no_command_line_holds_a_secret() {
    let aws = FakeAws::start();
    let sandbox = sandbox(&aws);
    let dom = sandbox.path("dom.html");
    let browser = chromium_command(&sandbox.path("chromium-profile"), &dom);
    let stop = Arc::new(AtomicBool::new(false));
    let watcher = watch_command_lines(stop.clone());
    let out = console(
        &sandbox,
        &aws,
        &["admin", "--token", CODE, "--browser", &browser],
    );
    let started = Instant::now();
    let page = loop {
        let text = std::fs::read_to_string(&dom).unwrap_or_default();
        if text.contains("</html>") {
            break text;
        }
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "chromium did not reach a page: {text:?}; mfa said: {}",
            stderr(&out)
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    stop.store(true, Ordering::SeqCst);
    let command_lines = watcher.join().unwrap();

    let signin = aws.last_call("getSigninToken");
    let token = signin["signin_token"].as_str().unwrap().to_string();
    // The browser was seen with the one-time address, and nothing secret.
    let one_time: Vec<&String> = command_lines
        .iter()
        .filter(|c| c.contains("chromium") && c.contains("--dump-dom http://127.0.0.1:"))
        .collect();
    assert!(!one_time.is_empty(), "the watch never saw chromium run");
    let mut secrets = cached_secrets(&sandbox);
    assert!(
        secrets.len() >= 4,
        "the cache holds the MFA and role sessions"
    );
    secrets.push(token.clone());
    for line in &command_lines {
        assert!(!line.contains("SigninToken"), "{line}");
        assert!(!line.contains("sessionToken"), "{line}");
        for secret in &secrets {
            assert!(!line.contains(secret.as_str()), "a secret in: {line}");
        }
    }

    assert!(out.status.success(), "{}", stderr(&out));
    assert!(out.stdout.is_empty(), "{}", stdout(&out));
    assert_eq!(identity_on(&page), "assumed-role/admin/mfa-alice", "{page}");
    assert_eq!(aws.count("login"), 1);
    assert_eq!(aws.last_call("login")["signin_token"], token.as_str());
}

/// A `--browser` command that runs the Python `code` (saved in the sandbox
/// as `name`) with the URL, then `args`.
fn python_browser(sandbox: &Sandbox, name: &str, code: &str, args: &[String]) -> String {
    let script = sandbox.path(name);
    std::fs::write(&script, code).unwrap();
    let python = std::env::var("MFA_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let mut words = vec![python, script.display().to_string(), "{url}".to_string()];
    words.extend(args.iter().cloned());
    shell_words::join(&words)
}

/// The JSON a browser from [`python_browser`] wrote to `file`.
fn answers_in(file: &Path) -> Value {
    wait_for("the browser's answers", || file.exists());
    // Written in one go, but let it finish.
    std::thread::sleep(Duration::from_millis(200));
    serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap()
}

/// `mfa console admin` with `browser`, which succeeds with nothing on
/// stdout; what the browser wrote to `answers_file`.
fn signed_in_with(
    sandbox: &Sandbox,
    aws: &FakeAws,
    browser: &str,
    answers_file: &Path,
) -> (Output, Value) {
    let out = console(
        sandbox,
        aws,
        &["admin", "--token", CODE, "--browser", browser],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    (out, answers_in(answers_file))
}

/// A client for `--browser` that asks the one-time address what a
/// browser, a DNS-rebinding page and a second visitor would, and writes
/// the answers to a file as JSON.
const PROBE: &str = r#"
import http.client, json, sys
from urllib.parse import urlsplit
url, out = sys.argv[1], sys.argv[2]
parts = urlsplit(url)
def ask(path, host=None):
    try:
        c = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        c.putrequest("GET", path, skip_host=True)
        c.putheader("Host", host or parts.netloc)
        c.endheaders()
        r = c.getresponse()
        return {"status": r.status, "headers": {k.lower(): v for k, v in r.getheaders()}}
    except OSError as e:
        return {"status": None, "error": type(e).__name__}
answers = [ask("/"), ask(parts.path + "x"), ask(parts.path, "evil.example:%d" % parts.port),
           ask(parts.path), ask(parts.path)]
open(out, "w").write(json.dumps(answers))
"#;

#[test]
fn the_one_time_address_redirects_once_and_refuses_everything_else() {
    let aws = FakeAws::start();
    let sandbox = sandbox(&aws);
    let answers_file = sandbox.path("answers.json");
    let browser = python_browser(
        &sandbox,
        "probe.py",
        PROBE,
        &[answers_file.display().to_string()],
    );
    let (_, answers) = signed_in_with(&sandbox, &aws, &browser, &answers_file);
    let answers = answers.as_array().unwrap();
    let status = |i: usize| answers[i]["status"].clone();
    assert_eq!(status(0), 404, "another path: {answers:?}");
    assert_eq!(status(1), 404, "a longer path: {answers:?}");
    assert_eq!(status(2), 404, "another Host: {answers:?}");
    assert_eq!(status(3), 303, "{answers:?}");
    let headers = &answers[3]["headers"];
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    let location = headers["location"].as_str().unwrap();
    assert!(
        location.starts_with(&format!("{}/federation?Action=login&", aws.endpoint())),
        "{location}"
    );
    // The second request for the address: 404 or nobody listening.
    assert!(status(4) == 404 || status(4).is_null(), "{answers:?}");
    // Where it sent the first: the endpoint's login page for the role.
    let (code, page) = get(location).unwrap();
    assert_eq!(code, 200);
    assert_eq!(identity_on(&page), "assumed-role/admin/mfa-alice");
}

#[test]
fn a_browser_that_cannot_start_or_fails_is_a_clear_error() {
    let aws = FakeAws::start();
    let sandbox = sandbox(&aws);
    let out = console(
        &sandbox,
        &aws,
        &[
            "admin",
            "--token",
            CODE,
            "--browser",
            "/nonexistent/browser {url}",
        ],
    );
    assert_fails(
        &out,
        1,
        "cannot start the browser `/nonexistent/browser` (from --browser)",
    );
    assert!(stderr(&out).contains("--print"), "{}", stderr(&out));
    // $BROWSER when no --browser; a browser that exits with an error.
    let out = sandbox
        .mfa()
        .env("AWS_ENDPOINT_URL_SIGNIN", aws.endpoint())
        .env("BROWSER", "false")
        .args(["console", "admin"])
        .output()
        .unwrap();
    assert_fails(&out, 1, "the browser (from $BROWSER) exited with");
    // The profile's console_browser is used before $BROWSER.
    sandbox.config(&format!(
        "{}\n[profile work]\nrole_arn = {ADMIN_ROLE}\nsource_profile = alice\nconsole_browser = /nonexistent/work-browser\n",
        standard_config()
    ));
    let out = sandbox
        .mfa()
        .env("AWS_ENDPOINT_URL_SIGNIN", aws.endpoint())
        .env("BROWSER", "false")
        .args(["console", "work"])
        .output()
        .unwrap();
    assert_fails(
        &out,
        1,
        "`/nonexistent/work-browser` (from console_browser)",
    );
    let out = console(&sandbox, &aws, &["admin", "--browser", "'unclosed"]);
    assert_fails(&out, 2, "unclosed quote");
}

#[test]
fn console_aliases_open_the_console_for_their_profile() {
    let aws = FakeAws::start();
    let sandbox = sandbox(&aws);
    let aliases = sandbox
        .mfa()
        .args(["alias", "--shell", "bash", "--mode", "console"])
        .output()
        .unwrap();
    assert!(aliases.status.success(), "{}", stderr(&aliases));
    let script = format!("{}\naws-admin --print --token {CODE}", stdout(&aliases));
    let out = sandbox
        .command("bash")
        .env("AWS_ENDPOINT_URL_SIGNIN", aws.endpoint())
        .args(["--norc", "--noprofile", "-c", &script])
        .output()
        .unwrap();
    let url = printed_url(&out, &aws);
    let (_, page) = get(&url).unwrap();
    assert_eq!(identity_on(&page), "assumed-role/admin/mfa-alice");
}

/// A program run as the user `nobody` (root drops to it; anyone else asks
/// sudo, which must not prompt).
fn as_nobody(sandbox: &Sandbox) -> Command {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let mut command = if unsafe { libc::geteuid() } == 0 {
        sandbox.command("setpriv")
    } else {
        let mut sudo = sandbox.command("sudo");
        sudo.args(["-n", "setpriv"]);
        sudo
    };
    command.args(["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"]);
    command
}

/// Another local user's client: asks for the one-time address (over IPv4,
/// then from an IPv6 socket to ::ffff:127.0.0.1) and prints the answers.
const THIEF: &str = r#"
import http.client, json, socket, sys
from urllib.parse import urlsplit
parts = urlsplit(sys.argv[1])
answers = []
for family, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::ffff:127.0.0.1")):
    try:
        c = http.client.HTTPConnection(host, parts.port, timeout=10)
        c.sock = socket.socket(family, socket.SOCK_STREAM)
        c.sock.settimeout(10)
        c.sock.connect((host, parts.port))
        c.putrequest("GET", parts.path, skip_host=True)
        c.putheader("Host", parts.netloc)
        c.endheaders()
        r = c.getresponse()
        answers.append({"status": r.status, "location": r.getheader("Location"), "body": r.read().decode()})
    except OSError as e:
        answers.append({"status": None, "error": str(e)})
print(json.dumps(answers))
"#;

/// The browser: first lets another user's client (argv 3 onwards) try the
/// address and keeps what it got, then asks for it itself.
const ROBBED_BROWSER: &str = r#"
import http.client, json, subprocess, sys
from urllib.parse import urlsplit
url, out, thief = sys.argv[1], sys.argv[2], sys.argv[3:]
stolen = subprocess.run(thief + [url], capture_output=True, text=True, timeout=60)
parts = urlsplit(url)
c = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
c.request("GET", parts.path)
r = c.getresponse()
json.dump({"thief": stolen.stdout, "thief_err": stolen.stderr,
           "browser": {"status": r.status, "location": r.getheader("Location")}}, open(out, "w"))
"#;

#[test]
fn another_user_who_reads_the_address_is_refused_and_the_browser_still_signs_in() {
    let aws = FakeAws::start();
    let sandbox = sandbox(&aws);
    let answers_file = sandbox.path("answers.json");
    // The thief's own program: the system's python, which nobody may run,
    // with its code in argv (nobody cannot read the sandbox).
    let nobody = as_nobody(&sandbox);
    let mut thief: Vec<String> = std::iter::once(nobody.get_program())
        .chain(nobody.get_args())
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    thief.extend(["/usr/bin/python3".into(), "-c".into(), THIEF.into()]);
    let mut args = vec![answers_file.display().to_string()];
    args.extend(thief);
    let browser = python_browser(&sandbox, "browser.py", ROBBED_BROWSER, &args);
    let (out, answers) = signed_in_with(&sandbox, &aws, &browser, &answers_file);
    let stolen: Value = serde_json::from_str(answers["thief"].as_str().unwrap())
        .unwrap_or_else(|_| panic!("the thief did not run: {answers}"));
    let nobody_uid = String::from_utf8(
        std::process::Command::new("id")
            .args(["-u", "nobody"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let refusal = format!(
        "mfa: another user (uid {}) asked for the one-time address: refused",
        nobody_uid.trim()
    );
    let err = stderr(&out);
    // Said once, though asked twice (IPv4, and IPv4 mapped into IPv6).
    assert_eq!(err.matches(&refusal).count(), 1, "{err}");
    eprintln!("the other user's answers: {stolen}");
    let tried = stolen.as_array().unwrap();
    assert_eq!(tried.len(), 2);
    assert_eq!(tried[0]["status"], 404, "over IPv4: {stolen}");
    // An IPv6 socket, where the system has IPv6 (mapped addresses included).
    assert!(
        tried[1]["status"] == 404 || tried[1]["status"].is_null(),
        "over IPv6: {stolen}"
    );
    for answer in tried {
        assert!(answer["location"].is_null(), "{stolen}");
        let body = answer["body"].as_str().unwrap_or_default();
        assert!(
            !body.contains("federation") && !body.contains("Signin"),
            "{stolen}"
        );
    }
    // The browser, mfa's user, got the one answer after all.
    assert_eq!(answers["browser"]["status"], 303, "{answers}");
    let location = answers["browser"]["location"].as_str().unwrap();
    let (code, page) = get(location).unwrap();
    assert_eq!(code, 200);
    assert_eq!(identity_on(&page), "assumed-role/admin/mfa-alice");
    assert_eq!(aws.count("login"), 1);
}

/// The browser: says where it was sent (argv 2), waits for argv 3 to
/// exist (the flood has started), watches mfa's CPU time for a second,
/// then asks for the address and writes what happened to argv 4.
const FLOODED_BROWSER: &str = r#"
import http.client, json, os, sys, time
from urllib.parse import urlsplit
url, told, go, out = sys.argv[1:5]
open(told + ".tmp", "w").write(url)
os.rename(told + ".tmp", told)
while not os.path.exists(go):
    time.sleep(0.01)
def cpu():
    fields = open("/proc/%d/stat" % os.getppid()).read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
cpu0, t0 = cpu(), time.time()
time.sleep(1)
cpu1, t1 = cpu(), time.time()
parts = urlsplit(url)
started = time.time()
try:
    c = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    c.request("GET", parts.path)
    r = c.getresponse()
    status, location = r.status, r.getheader("Location")
except OSError as e:
    status, location = None, str(e)
json.dump({"status": status, "location": location, "seconds": time.time() - started,
           "cpu": cpu1 - cpu0, "wall": t1 - t0}, open(out, "w"))
"#;

/// Idle connections to `port`, `count` held open; those the server closes
/// are opened again, until `stop`. Returns how many were opened in all.
fn flood(port: u16, count: usize, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<usize> {
    std::thread::spawn(move || {
        let address = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        let mut held: Vec<TcpStream> = Vec::new();
        let mut opened = 0;
        while !stop.load(Ordering::SeqCst) {
            held.retain(|s| {
                let mut byte = [0u8; 1];
                matches!(s.peek(&mut byte), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
            });
            while held.len() < count && !stop.load(Ordering::SeqCst) {
                match TcpStream::connect_timeout(&address, Duration::from_millis(100)) {
                    Ok(stream) => {
                        stream.set_nonblocking(true).unwrap();
                        held.push(stream);
                        opened += 1;
                    }
                    Err(_) => break,
                }
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        opened
    })
}

#[test]
fn a_flood_of_idle_connections_does_not_keep_the_browser_out() {
    use std::os::unix::process::CommandExt;
    let aws = FakeAws::start();
    let sandbox = sandbox(&aws);
    let (told, go, answers_file) = (
        sandbox.path("url"),
        sandbox.path("go"),
        sandbox.path("answers.json"),
    );
    let browser = python_browser(
        &sandbox,
        "browser.py",
        FLOODED_BROWSER,
        &[&told, &go, &answers_file].map(|p| p.display().to_string()),
    );
    // mfa may open 128 files at most (no raising it): the flood is many
    // times that, as the reviewer's 1100 were to the usual 1024.
    let mut command = sandbox.mfa();
    command
        .env("AWS_ENDPOINT_URL_SIGNIN", aws.endpoint())
        .args(["console", "admin", "--token", CODE, "--browser", &browser]);
    // SAFETY: setrlimit is async-signal-safe and touches only its argument.
    unsafe {
        command.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: 128,
                rlim_max: 128,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mfa = command
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    wait_for("the browser's address", || told.exists());
    let url = std::fs::read_to_string(&told).unwrap();
    let port: u16 = url
        .trim_start_matches("http://127.0.0.1:")
        .split('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let flooding = flood(port, 600, stop.clone());
    // Let it fill mfa's table (and more) before the browser asks.
    std::thread::sleep(Duration::from_secs(2));
    std::fs::write(&go, "").unwrap();
    let out = mfa.wait_with_output().unwrap();
    stop.store(true, Ordering::SeqCst);
    let opened = flooding.join().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let answers = answers_in(&answers_file);
    eprintln!(
        "flood: {opened} connections opened; the browser: {} after {} s; mfa's CPU: {} s in {} s",
        answers["status"], answers["seconds"], answers["cpu"], answers["wall"]
    );
    assert_eq!(answers["status"], 303, "{answers}");
    // Answered at once: not after idle connections time out (3 s).
    assert!(answers["seconds"].as_f64().unwrap() < 2.0, "{answers}");
    // mfa waits for the browser without spinning.
    let (cpu, wall) = (
        answers["cpu"].as_f64().unwrap(),
        answers["wall"].as_f64().unwrap(),
    );
    assert!(cpu < wall / 2.0, "mfa used {cpu} s of CPU in {wall} s");
    let location = answers["location"].as_str().unwrap();
    let (_, page) = get(location).unwrap();
    assert_eq!(identity_on(&page), "assumed-role/admin/mfa-alice");
    // Many times what mfa may hold were opened and closed.
    assert!(opened >= 600, "the flood opened {opened} connections");
}
