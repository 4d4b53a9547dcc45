//! SSO (IAM Identity Center) profiles as chain roots (SPEC §11), against
//! the fake portal and OIDC of fake_sso.py: credentials from the AWS CLI's
//! token cache, a role on top, the refresh written back where boto3 reads
//! it (and the other way round), one refresh for many runs, the device
//! sign-in on a terminal, and the prompt's countdown and silent renewal.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::Stdio;

use rexpect::session::spawn_command;
use serde_json::{Value, json};
use support::signin::{console, get, identity_on, param, printed_url};
use support::*;

const START_URL: &str = "https://corp.awsapps.com/start";
/// sha1("corp"): the file `aws sso login --sso-session corp` writes.
const TOKEN_FILE: &str = "ee0bfd2552fbd840c02cc48b6e823320543c450f.json";

fn config() -> String {
    format!(
        "[sso-session corp]\nsso_start_url = {START_URL}\nsso_region = eu-west-1\nsso_registration_scopes = sso:account:access\n\n\
         [profile dev]\nsso_session = corp\nsso_account_id = 111122223333\nsso_role_name = Developer\nregion = eu-west-1\n\n\
         [profile ops]\nsso_session = corp\nsso_account_id = 444455556666\nsso_role_name = Operator\n\n\
         [profile admin]\nrole_arn = {ADMIN_ROLE}\nsource_profile = dev\n\n\
         [profile long]\nrole_arn = {READONLY_ROLE}\nsource_profile = dev\nduration_seconds = 7200\n"
    )
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn rfc3339(unix: i64) -> String {
    mfa::creds::rfc3339(unix)
}

fn token_path(sandbox: &Sandbox) -> PathBuf {
    sandbox.path(".aws/sso/cache").join(TOKEN_FILE)
}

/// Caches a token the fake portal accepts, ending `left` seconds from now
/// (the portal's own end is later, as a cached end may be stale), in the
/// format `aws sso login` writes, with a field of the CLI's mfa must keep.
fn signed_in(aws: &FakeAws, sandbox: &Sandbox, left: i64) -> Value {
    let grant = aws.sso_grant(3600);
    let token = json!({
        "startUrl": START_URL,
        "region": "eu-west-1",
        "accessToken": grant["accessToken"],
        "expiresAt": rfc3339(now() + left),
        "clientId": grant["clientId"],
        "clientSecret": grant["clientSecret"],
        "registrationExpiresAt": rfc3339(grant["registrationExpiresAt"].as_i64().unwrap()),
        "refreshToken": grant["refreshToken"],
        "someFutureField": {"kept": true},
    });
    let dir = sandbox.path(".aws/sso/cache");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(token_path(sandbox), token.to_string()).unwrap();
    std::fs::set_permissions(token_path(sandbox), std::fs::Permissions::from_mode(0o600)).unwrap();
    token
}

fn read_token(sandbox: &Sandbox) -> Value {
    serde_json::from_str(&std::fs::read_to_string(token_path(sandbox)).unwrap()).unwrap()
}

fn setup() -> (FakeAws, Sandbox) {
    let aws = FakeAws::start();
    let sandbox = Sandbox::new(&aws);
    sandbox.config(&config());
    (aws, sandbox)
}

fn exports(output: &std::process::Output) -> std::collections::HashMap<String, String> {
    assert!(output.status.success(), "stderr: {}", stderr(output));
    stdout(output)
        .lines()
        .filter_map(|l| l.strip_prefix("export "))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.trim_matches('\'').to_string()))
        .collect()
}

#[test]
fn env_gets_role_credentials_with_the_cached_token_and_caches_them() {
    let (aws, sandbox) = setup();
    let token = signed_in(&aws, &sandbox, 3600);
    let vars = exports(&sandbox.run(&["env", "--shell", "bash", "dev"]));
    let call = aws.last_call("GetRoleCredentials");
    assert_eq!(call["status"], 200);
    assert_eq!(call["account_id"], "111122223333");
    assert_eq!(call["role_name"], "Developer");
    assert_eq!(
        vars["AWS_ACCESS_KEY_ID"],
        call["returned_access_key_id"].as_str().unwrap()
    );
    assert_eq!(vars["MFA_PROFILE"], "dev");
    assert_eq!(vars["AWS_REGION"], "eu-west-1");
    let left = vars["MFA_EXPIRES_AT"].parse::<i64>().unwrap() - now();
    assert!((3500..=3600).contains(&left), "{left}");
    assert_eq!(
        aws.count("CreateToken"),
        0,
        "a valid token is not refreshed"
    );
    assert_eq!(read_token(&sandbox), token, "nor rewritten");

    // Cached: the next run calls nothing.
    let again = exports(&sandbox.run(&["env", "--shell", "bash", "dev"]));
    assert_eq!(again["AWS_ACCESS_KEY_ID"], vars["AWS_ACCESS_KEY_ID"]);
    assert_eq!(aws.count("GetRoleCredentials"), 1);

    // list, status: the kind, the cached session, the token's time left.
    let list: Value = serde_json::from_str(&stdout(&sandbox.run(&["list", "--json"]))).unwrap();
    let dev = list
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "dev")
        .unwrap();
    assert_eq!(dev["kind"], "sso");
    assert!(dev["session_expires_at"].is_string(), "{dev}");
    let status: Value = serde_json::from_str(&stdout(&sandbox.run(&["status", "--json"]))).unwrap();
    assert_eq!(status["sso"][0]["name"], "corp");
    assert_eq!(status["sso"][0]["start_url"], START_URL);
    let token_left = status["sso"][0]["seconds_left"].as_i64().unwrap();
    assert!((3500..=3600).contains(&token_left), "{status}");
    assert!(stdout(&sandbox.run(&["status"])).contains("sso sign-ins:"));

    // clear drops mfa's credentials and keeps the CLI's sign-in.
    let cleared = sandbox.run(&["clear", "dev"]);
    assert!(
        stderr(&cleared).contains("deleted 1 cached session"),
        "{}",
        stderr(&cleared)
    );
    assert!(stderr(&cleared).contains("`aws sso logout`"));
    assert_eq!(read_token(&sandbox), token);
    exports(&sandbox.run(&["env", "--shell", "bash", "dev"]));
    assert_eq!(aws.count("GetRoleCredentials"), 2);
}

#[test]
fn a_role_is_assumed_on_top_of_the_sso_credentials() {
    let (aws, sandbox) = setup();
    signed_in(&aws, &sandbox, 3600);
    let output = sandbox.run(&["credential-process", "admin"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    let sso_key = aws.last_call("GetRoleCredentials")["returned_access_key_id"].clone();
    let assume = aws.last_call("AssumeRole");
    assert_eq!(assume["role_arn"], ADMIN_ROLE);
    assert_eq!(
        assume["access_key_id"], sso_key,
        "signed with the SSO role's keys"
    );
    assert_eq!(json["AccessKeyId"], assume["returned_access_key_id"]);
    assert_eq!(
        sandbox.run(&["list"]).status.code(),
        Some(0),
        "list shows both kinds"
    );
}

/// Runs python with boto3 (the venv's, as CI makes it) in the sandbox.
fn boto3(sandbox: &Sandbox, profile: &str) -> std::process::Output {
    let python = std::env::var("MFA_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = "import sys, boto3\n\
                  c = boto3.Session(profile_name=sys.argv[1]).get_credentials().get_frozen_credentials()\n\
                  print(c.access_key)\n";
    let mut command = sandbox.command(&python);
    command.args(["-c", script, profile]);
    detach_from_terminal(&mut command);
    command.output().expect("run python")
}

#[test]
fn an_expired_token_is_refreshed_and_written_back_where_boto3_reads_it() {
    let (aws, sandbox) = setup();
    let old = signed_in(&aws, &sandbox, -60);
    let output = sandbox.run(&["credential-process", "dev"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let refresh = aws.last_call("CreateToken");
    assert_eq!(refresh["grant_type"], "refresh_token");
    assert_eq!(aws.count("CreateToken"), 1);

    let new = read_token(&sandbox);
    assert_ne!(new["accessToken"], old["accessToken"]);
    assert_ne!(
        new["refreshToken"], old["refreshToken"],
        "the new refresh token kept"
    );
    let expires = mfa::creds::parse_rfc3339(new["expiresAt"].as_str().unwrap()).unwrap();
    assert!(expires - now() > 7 * 3600, "{new}");
    for kept in [
        "startUrl",
        "region",
        "clientId",
        "clientSecret",
        "registrationExpiresAt",
        "someFutureField",
    ] {
        assert_eq!(new[kept], old[kept], "{kept}");
    }
    let meta = std::fs::metadata(token_path(&sandbox)).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);

    // boto3 takes the token mfa wrote as it is: no refresh of its own.
    let boto = boto3(&sandbox, "ops");
    assert!(boto.status.success(), "{}", stderr(&boto));
    let call = aws.last_call("GetRoleCredentials");
    assert_eq!(call["role_name"], "Operator");
    assert_eq!(
        stdout(&boto).trim(),
        call["returned_access_key_id"].as_str().unwrap()
    );
    assert_eq!(aws.count("CreateToken"), 1);
}

#[test]
fn a_token_the_portal_refuses_is_refreshed_and_the_call_made_again() {
    let (aws, sandbox) = setup();
    // Revoked (signed out elsewhere) though its file says it is good.
    let mut token = signed_in(&aws, &sandbox, 3600);
    token["accessToken"] = json!("revoked-token");
    std::fs::write(token_path(&sandbox), token.to_string()).unwrap();
    let vars = exports(&sandbox.run(&["env", "--shell", "bash", "dev"]));
    assert_eq!(aws.count("CreateToken"), 1);
    let calls: Vec<Value> = aws
        .calls()
        .into_iter()
        .filter(|c| c["action"] == "GetRoleCredentials")
        .collect();
    let statuses: Vec<&Value> = calls.iter().map(|c| &c["status"]).collect();
    assert_eq!(statuses, [401, 200]);
    assert_eq!(
        vars["AWS_ACCESS_KEY_ID"],
        calls[1]["returned_access_key_id"].as_str().unwrap()
    );
    assert_ne!(read_token(&sandbox)["accessToken"], "revoked-token");
}

#[test]
fn mfa_uses_the_token_boto3_refreshed() {
    let (aws, sandbox) = setup();
    // Inside botocore's 15-minute window: boto3 refreshes it and saves it.
    let old = signed_in(&aws, &sandbox, 300);
    let boto = boto3(&sandbox, "ops");
    assert!(boto.status.success(), "{}", stderr(&boto));
    assert_eq!(aws.count("CreateToken"), 1);
    let refreshed = read_token(&sandbox);
    assert_ne!(refreshed["accessToken"], old["accessToken"]);

    let vars = exports(&sandbox.run(&["env", "--shell", "bash", "dev"]));
    assert!(!vars["AWS_ACCESS_KEY_ID"].is_empty());
    assert_eq!(aws.count("CreateToken"), 1, "mfa used boto3's token");
    assert_eq!(read_token(&sandbox), refreshed);
}

#[test]
fn eight_concurrent_runs_on_an_expired_token_make_one_refresh() {
    let (aws, sandbox) = setup();
    signed_in(&aws, &sandbox, -60);
    // Half for one account, half for another: one sign-in serves both.
    let children: Vec<_> = (0..8)
        .map(|i| {
            sandbox
                .mfa()
                .args(["credential-process", if i % 2 == 0 { "dev" } else { "ops" }])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn mfa")
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().expect("wait");
        assert!(out.status.success(), "{}", stderr(&out));
        let json: Value = serde_json::from_slice(&out.stdout).expect("JSON");
        assert_eq!(json["Version"], 1);
    }
    assert_eq!(aws.count("CreateToken"), 1, "one refresh for eight runs");
    assert_eq!(aws.count("GetRoleCredentials"), 2, "one per role");
}

#[test]
fn without_a_token_or_a_terminal_the_error_names_mfa_login() {
    let (aws, sandbox) = setup();
    let output = sandbox.run(&["env", "--shell", "bash", "dev"]);
    assert_fails(
        &output,
        1,
        "sign in with `mfa login dev` (or `aws sso login --profile dev`)",
    );
    // A refresh the service refuses ends the same way, saying why.
    signed_in(&aws, &sandbox, -60);
    let mut token = read_token(&sandbox);
    token["refreshToken"] = json!("not-a-refresh-token");
    std::fs::write(token_path(&sandbox), token.to_string()).unwrap();
    let output = sandbox.run(&["credential-process", "dev"]);
    assert_fails(&output, 1, "`mfa login dev`");
    assert!(
        stderr(&output).contains("could not be refreshed"),
        "{}",
        stderr(&output)
    );
    assert!(
        !stderr(&output).contains("not-a-refresh-token"),
        "no secret in messages"
    );
    assert_eq!(aws.count("GetRoleCredentials"), 0);
    // A profile that is no SSO profile cannot log in.
    sandbox.credentials("[keys]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = s\n");
    assert_fails(
        &sandbox.run(&["login", "keys"]),
        2,
        "does not sign in with SSO",
    );
}

/// `mfa` in a pseudo-terminal, with a browser that notes the page it is
/// given.
fn on_terminal(sandbox: &Sandbox, args: &[&str]) -> (rexpect::session::PtySession, PathBuf) {
    let opened = sandbox.path("browser-opened");
    let browser = sandbox.path("browser");
    std::fs::write(
        &browser,
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$1\" > '{}'\n",
            opened.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&browser, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut command = sandbox.command(env!("CARGO_BIN_EXE_mfa"));
    command
        .args(args)
        .stdin(Stdio::inherit())
        .env("BROWSER", &browser)
        .env("TERM", "dumb");
    let term = spawn_command(command, Some(60_000)).expect("start mfa in a pseudo-terminal");
    (term, opened)
}

#[test]
fn the_device_flow_signs_in_on_the_terminal_and_honours_slow_down() {
    let (aws, sandbox) = setup();
    aws.sso_settings(json!({"interval": 1, "slow_down": 1}));
    let (mut term, opened) = on_terminal(&sandbox, &["login", "dev"]);
    term.exp_string("Sign in to SSO session `corp` in your browser:")
        .unwrap();
    let (_, code_line) = term.exp_regex(r"the code [A-Z]{4}-[A-Z]{4}").unwrap();
    let devices = aws.sso_devices();
    assert_eq!(devices.len(), 1);
    let user_code = devices[0]["user_code"].as_str().unwrap().to_string();
    assert!(code_line.ends_with(&user_code), "{code_line}");
    aws.sso_approve();
    term.exp_string("Signed in to SSO session `corp`").unwrap();
    term.exp_eof().unwrap();

    // The browser was given the page with the code in it.
    let page = std::fs::read_to_string(&opened).unwrap();
    assert!(page.contains(&format!("user_code={user_code}")), "{page}");
    // Polled at the interval, then 5 s slower after slow_down.
    let polls: Vec<f64> = aws.sso_devices()[0]["polls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_f64().unwrap())
        .collect();
    assert!(polls.len() >= 2, "{polls:?}");
    assert!(polls[1] - polls[0] >= 5.5, "slow_down honoured: {polls:?}");
    assert_eq!(aws.count("RegisterClient"), 1);
    assert_eq!(aws.count("StartDeviceAuthorization"), 1);

    // The token is in the CLI's cache, 0600, and serves the next runs.
    let token = read_token(&sandbox);
    assert_eq!(token["startUrl"], START_URL);
    assert_eq!(token["region"], "eu-west-1");
    assert!(token["refreshToken"].is_string() && token["clientSecret"].is_string());
    let mode = std::fs::metadata(token_path(&sandbox))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    exports(&sandbox.run(&["env", "--shell", "bash", "dev"]));
    assert_eq!(aws.count("GetRoleCredentials"), 1);

    // A second sign-in reuses the cached client registration.
    let (mut term, _) = on_terminal(&sandbox, &["login", "dev"]);
    term.exp_string("the code").unwrap();
    aws.sso_approve();
    term.exp_string("Signed in").unwrap();
    term.exp_eof().unwrap();
    assert_eq!(aws.count("RegisterClient"), 1);
}

#[test]
fn a_command_that_needs_a_token_signs_in_when_it_has_a_terminal() {
    let (aws, sandbox) = setup();
    aws.sso_settings(json!({"interval": 1}));
    let (mut term, _) = on_terminal(&sandbox, &["env", "--shell", "bash", "admin"]);
    term.exp_string("Sign in to SSO session `corp`").unwrap();
    aws.sso_approve();
    term.exp_string("Signed in").unwrap();
    term.exp_string("export AWS_ACCESS_KEY_ID=").unwrap();
    term.exp_eof().unwrap();
    assert_eq!(aws.count("AssumeRole"), 1);
}

#[test]
fn the_prompt_counts_down_the_role_credentials_and_renews_them_silently() {
    let (aws, sandbox) = setup();
    signed_in(&aws, &sandbox, 8 * 3600);
    aws.sso_settings(json!({"role_seconds": 1800}));
    let mut command = sandbox.command("bash");
    command
        .args(["--norc", "--noprofile", "-i"])
        .stdin(Stdio::inherit())
        .env("TERM", "dumb")
        .env("PS1", "$ ");
    let mut term = spawn_command(command, Some(30_000)).expect("bash in a pseudo-terminal");
    term.send_line(&format!(
        "eval \"$('{}' init bash)\"",
        env!("CARGO_BIN_EXE_mfa")
    ))
    .unwrap();
    term.send_line("mfa use dev").unwrap();
    term.exp_regex(r"\(dev (29m|30m)\) \$ ").unwrap();
    // The credentials end; the token is good: renewed before the prompt,
    // without a word.
    term.send_line("mfa clear --all 2>/dev/null; MFA_EXPIRES_AT=1")
        .unwrap();
    let (before, _) = term.exp_regex(r"\(dev (29m|30m)\) \$ ").unwrap();
    assert!(!before.contains("Sign in"), "{before}");
    term.send_line("echo renewed=$(( MFA_EXPIRES_AT > 1000 ))")
        .unwrap();
    term.exp_string("renewed=1").unwrap();
    term.send_line("exit").unwrap();
    term.exp_eof().unwrap();
    assert_eq!(aws.count("GetRoleCredentials"), 2);
    assert_eq!(aws.count("CreateToken"), 0);
}

#[test]
fn doctor_checks_sso_profiles_and_skips_a_session_only_one() {
    let (_aws, sandbox) = setup();
    sandbox.config(&format!(
        "{}\n[profile broken]\nsso_session = gone\nsso_account_id = 1\nsso_role_name = R\n\n\
         [profile login-only]\nsso_session = corp\n",
        config()
    ));
    let output = sandbox.run(&["doctor"]);
    let report = stdout(&output);
    let profiles: Vec<&str> = report.lines().filter(|l| l.contains("profiles")).collect();
    assert_eq!(profiles.len(), 1, "{report}");
    assert!(
        profiles[0].starts_with("fail")
            && profiles[0].contains("profile `broken` does not resolve")
            && profiles[0].contains("no [sso-session gone] section"),
        "{report}"
    );
    sandbox.config(&format!(
        "{}\n[profile login-only]\nsso_session = corp\n",
        config()
    ));
    let report = stdout(&sandbox.run(&["doctor"]));
    assert!(
        report.contains("4 profile(s) resolve (1 settings-only profile(s) not checked)"),
        "{report}"
    );
}

#[test]
fn exec_write_and_aliases_work_for_sso_profiles_as_for_keys() {
    let (aws, sandbox) = setup();
    signed_in(&aws, &sandbox, 3600);
    let exec = sandbox.run(&[
        "exec",
        "dev",
        "--",
        "sh",
        "-c",
        "echo \"$AWS_ACCESS_KEY_ID $MFA_PROFILE\"",
    ]);
    assert!(exec.status.success(), "{}", stderr(&exec));
    let sso_key = aws.last_call("GetRoleCredentials")["returned_access_key_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(stdout(&exec).trim(), format!("{sso_key} dev"));

    // The AWS CLI would read the SSO settings of [dev]: the keys go beside it.
    let write = sandbox.run(&["write", "dev"]);
    assert!(write.status.success(), "{}", stderr(&write));
    assert!(stderr(&write).contains("dev-mfa"), "{}", stderr(&write));
    let credentials = std::fs::read_to_string(sandbox.path(".aws/credentials")).unwrap();
    assert!(
        credentials.contains(&format!("[dev-mfa]\naws_access_key_id = {sso_key}\n")),
        "{credentials}"
    );

    // `aws-dev` from `mfa alias` runs with the SSO role's credentials.
    let script = format!(
        "eval \"$('{bin}' init bash)\"\neval \"$('{bin}' alias --shell bash --mode exec --command=)\"\naws-dev sh -c 'echo \"$AWS_ACCESS_KEY_ID\"'\n",
        bin = env!("CARGO_BIN_EXE_mfa")
    );
    let mut command = sandbox.command("bash");
    command.args(["--norc", "--noprofile", "-c", &script]);
    detach_from_terminal(&mut command);
    let aliased = command.output().unwrap();
    assert!(aliased.status.success(), "{}", stderr(&aliased));
    assert_eq!(stdout(&aliased).trim(), sso_key);
    assert_eq!(
        aws.count("GetRoleCredentials"),
        1,
        "all from the one cached session"
    );
}

#[test]
fn two_terminals_that_need_a_sign_in_share_one() {
    let (aws, sandbox) = setup();
    aws.sso_settings(json!({"interval": 1}));
    let (mut first, _) = on_terminal(&sandbox, &["env", "--shell", "bash", "dev"]);
    first.exp_string("Sign in to SSO session `corp`").unwrap();
    // The second (another profile of the same session) waits for it
    // instead of opening a second page.
    let (mut second, _) = on_terminal(&sandbox, &["env", "--shell", "bash", "ops"]);
    second.exp_string("waiting for another mfa run").unwrap();
    aws.sso_approve();
    for term in [&mut first, &mut second] {
        term.exp_string("export AWS_ACCESS_KEY_ID=").unwrap();
        term.exp_eof().unwrap();
    }
    assert_eq!(aws.count("StartDeviceAuthorization"), 1, "one sign-in");
    assert_eq!(aws.count("GetRoleCredentials"), 2);
}

/// The role session IAM Identity Center makes for the Developer permission
/// set and the signed-in user, as AWS names it (fake_sso.py).
fn is_developer_sso_session(identity: &str) -> bool {
    identity
        .strip_prefix("assumed-role/AWSReservedSSO_Developer_")
        .and_then(|rest| rest.split_once('/'))
        .is_some_and(|(suffix, user)| {
            suffix.len() == 16
                && suffix.chars().all(|c| c.is_ascii_hexdigit())
                && user == "alice@example.com"
        })
}

#[test]
fn console_signs_in_with_the_sso_role_session_itself() {
    let (aws, sandbox) = setup();
    signed_in(&aws, &sandbox, 3600);
    let url = printed_url(&console(&sandbox, &aws, &["dev", "--print"]), &aws);
    let (status, page) = get(&url).expect("the login page");
    assert_eq!(status, 200, "{page}");
    assert!(is_developer_sso_session(&identity_on(&page)), "{page}");
    let role_key = aws.last_call("GetRoleCredentials")["returned_access_key_id"].clone();
    let signin = aws.last_call("getSigninToken");
    assert_eq!(signin["access_key_id"], role_key, "the SSO role's keys");
    assert_eq!(signin["session_duration"], Value::Null);
    assert_eq!(aws.count("AssumeRole") + aws.count("GetFederationToken"), 0);
    // The partition is the region's (no role ARN names one).
    assert_eq!(
        param(&url, "Destination").unwrap(),
        "https://console.aws.amazon.com/console/home?region=eu-west-1"
    );

    // Not chained: any console session AWS allows, from the cached keys.
    printed_url(
        &console(&sandbox, &aws, &["dev", "--print", "--duration", "43200"]),
        &aws,
    );
    let signin = aws.last_call("getSigninToken");
    assert_eq!(
        (&signin["status"], signin["session_duration"].as_str()),
        (&Value::from(200), Some("43200"))
    );
    assert_eq!(aws.count("GetRoleCredentials"), 1);
}

#[test]
fn console_for_a_role_on_top_of_sso_is_role_chaining() {
    let (aws, sandbox) = setup();
    signed_in(&aws, &sandbox, 3600);
    // Refused before any call: AWS caps a chained role's console at an hour.
    let out = console(&sandbox, &aws, &["admin", "--print", "--duration", "7200"]);
    assert_fails(&out, 2, "role chaining");
    assert!(aws.calls().is_empty(), "{:?}", aws.calls());

    let url = printed_url(
        &console(&sandbox, &aws, &["admin", "--print", "--duration", "3600"]),
        &aws,
    );
    let (_, page) = get(&url).unwrap();
    assert!(
        identity_on(&page).starts_with("assumed-role/admin/"),
        "{page}"
    );
    let assumed = aws.last_call("AssumeRole");
    assert_eq!(
        assumed["access_key_id"],
        aws.last_call("GetRoleCredentials")["returned_access_key_id"]
    );
    let signin = aws.last_call("getSigninToken");
    assert_eq!(signin["access_key_id"], assumed["returned_access_key_id"]);
    assert_eq!(signin["session_duration"], "3600");

    // STS too counts a role assumed with SSO role credentials as chained.
    let out = sandbox.run(&["env", "--shell", "bash", "long"]);
    assert_fails(&out, 1, "role chaining");
}

#[test]
fn console_refuses_federation_token_for_sso_profiles() {
    let (aws, sandbox) = setup();
    signed_in(&aws, &sandbox, 3600);
    for profile in ["dev", "admin"] {
        let out = console(&sandbox, &aws, &[profile, "--print", "--federation-token"]);
        assert_fails(&out, 2, "IAM Identity Center");
        assert!(stderr(&out).contains("--federation-token is only for an IAM user"));
    }
    assert!(aws.calls().is_empty(), "{:?}", aws.calls());
}

/// The venv's python (with boto3), as CI makes it.
fn python() -> String {
    std::env::var("MFA_TEST_PYTHON").unwrap_or_else(|_| "python3".into())
}

/// `mfa exec dev --server` running boto3 for 16 s (tests/support/
/// boto3_loop.py), after printing its MFA_EXPIRES_AT. Role credentials
/// last 905 s and every answer must keep 900: renewed about every 5 s.
fn boto3_under_the_endpoint(aws: &FakeAws, sandbox: &Sandbox) -> (std::process::Output, i64) {
    aws.sso_settings(json!({"role_seconds": 905}));
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/boto3_loop.py");
    let out = sandbox
        .mfa()
        .env("MFA_SERVER_MIN_TTL", "900")
        .args(["exec", "dev", "--server", "--", "sh", "-c"])
        .args([
            "echo \"expires=$MFA_EXPIRES_AT\"; exec \"$0\" \"$@\"",
            &python(),
            script.to_str().unwrap(),
            "16",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}\n{}", stderr(&out), stdout(&out));
    let expires = stdout(&out)
        .lines()
        .find_map(|l| l.strip_prefix("expires="))
        .and_then(|e| e.parse().ok())
        .unwrap_or_else(|| panic!("no MFA_EXPIRES_AT: {}", stdout(&out)));
    (out, expires)
}

/// Every GetCallerIdentity succeeded with role credentials the portal
/// handed out, three different ones at least (two renewals).
fn served_across_renewals(aws: &FakeAws) {
    let calls = aws.calls();
    let issued: std::collections::HashSet<&str> = calls
        .iter()
        .filter(|c| c["action"] == "GetRoleCredentials" && c["status"] == 200)
        .filter_map(|c| c["returned_access_key_id"].as_str())
        .collect();
    let used: std::collections::HashSet<&str> = calls
        .iter()
        .filter(|c| c["action"] == "GetCallerIdentity")
        .map(|c| {
            assert_eq!(c["status"], 200, "{c}");
            let key = c["access_key_id"].as_str().unwrap_or_default();
            assert!(issued.contains(key), "{key} is no SSO role key");
            key
        })
        .collect();
    assert!(used.len() >= 3, "two renewals at least: {used:?}");
}

#[test]
fn exec_server_renews_through_the_portal_without_a_refresh_while_the_token_lasts() {
    let (aws, sandbox) = setup();
    let token = signed_in(&aws, &sandbox, 3600);
    let (_, expires) = boto3_under_the_endpoint(&aws, &sandbox);
    served_across_renewals(&aws);
    assert_eq!(aws.count("CreateToken"), 0, "the token is valid");
    assert_eq!(read_token(&sandbox), token, "and untouched");
    // With a refresh token, renewing needs the person when the client
    // registration that refreshes it ends, not when role keys do.
    let registration = token["registrationExpiresAt"].as_str().unwrap();
    assert_eq!(
        expires,
        mfa::creds::parse_rfc3339(registration).unwrap(),
        "{registration}"
    );

    // Without one, at the token's end.
    let mut plain = token.clone();
    for field in [
        "refreshToken",
        "clientId",
        "clientSecret",
        "registrationExpiresAt",
    ] {
        plain.as_object_mut().unwrap().remove(field);
    }
    std::fs::write(token_path(&sandbox), plain.to_string()).unwrap();
    let out = sandbox.run(&[
        "exec",
        "dev",
        "--server",
        "--",
        "sh",
        "-c",
        "echo $MFA_EXPIRES_AT",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let end = mfa::creds::parse_rfc3339(plain["expiresAt"].as_str().unwrap()).unwrap();
    assert_eq!(stdout(&out).trim(), end.to_string());
}

#[test]
fn exec_server_refreshes_the_token_once_when_it_nears_its_end() {
    let (aws, sandbox) = setup();
    // Usable at the start; inside the 15-minute refresh window a few
    // seconds later, at a renewal of the role credentials.
    let old = signed_in(&aws, &sandbox, 906);
    boto3_under_the_endpoint(&aws, &sandbox);
    served_across_renewals(&aws);
    assert_eq!(aws.count("CreateToken"), 1, "one refresh");
    let calls = aws.calls();
    let position = |action: &str| calls.iter().position(|c| c["action"] == action).unwrap();
    assert!(
        position("GetRoleCredentials") < position("CreateToken"),
        "refreshed while serving"
    );
    assert_eq!(aws.last_call("CreateToken")["grant_type"], "refresh_token");
    let new = read_token(&sandbox);
    assert_ne!(new["accessToken"], old["accessToken"]);
    let left = mfa::creds::parse_rfc3339(new["expiresAt"].as_str().unwrap()).unwrap() - now();
    assert!(left > 7 * 3600, "{new}");
}

/// A cached token without a refresh token, `left` seconds from its end,
/// and when it was written; role credentials of 905 s from then on.
fn signed_in_without_refresh(
    aws: &FakeAws,
    sandbox: &Sandbox,
    left: i64,
) -> (Value, std::time::Instant) {
    let mut token = signed_in(aws, sandbox, left);
    let written = std::time::Instant::now();
    token.as_object_mut().unwrap().remove("refreshToken");
    std::fs::write(token_path(sandbox), token.to_string()).unwrap();
    aws.sso_settings(json!({"role_seconds": 905, "interval": 1}));
    (token, written)
}

/// An executable script in the sandbox.
fn script(sandbox: &Sandbox, name: &str, text: &str) -> PathBuf {
    let path = sandbox.path(name);
    std::fs::write(&path, text).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// `mfa shell dev --server` in a pseudo-terminal, the subshell an
/// interactive bash (which takes the terminal over), at its first prompt.
/// Every answer keeps 900 s: the role credentials are renewed every 5 s.
fn served_shell(sandbox: &Sandbox) -> rexpect::session::PtySession {
    let shell = script(
        sandbox,
        "shell",
        "#!/bin/sh\nexec bash --norc --noprofile -i\n",
    );
    let browser = script(sandbox, "browser", "#!/bin/sh\nexit 0\n");
    let mut command = sandbox.command(env!("CARGO_BIN_EXE_mfa"));
    command
        .args(["shell", "dev", "--server"])
        .stdin(Stdio::inherit())
        .env("SHELL", &shell)
        .env("BROWSER", &browser)
        .env("MFA_SERVER_MIN_TTL", "900")
        .env("MFA_TIMEOUT", "20")
        .env("TERM", "dumb")
        .env("PS1", "$ ");
    let mut term = spawn_command(command, Some(60_000)).expect("mfa shell in a pseudo-terminal");
    term.exp_string("$ ").unwrap();
    term
}

/// The AWS CLI in the served shell succeeds, signed with the role keys the
/// portal handed out last.
fn the_cli_is_served_the_latest_role_keys(term: &mut rexpect::session::PtySession, aws: &FakeAws) {
    term.send_line("aws sts get-caller-identity --output text >/dev/null; echo cli=$?")
        .unwrap();
    term.exp_string("cli=0").unwrap();
    assert_eq!(
        aws.last_call("GetCallerIdentity")["access_key_id"],
        aws.last_call("GetRoleCredentials")["returned_access_key_id"]
    );
}

#[test]
fn a_sign_in_needed_while_serving_a_shell_is_503_naming_mfa_login_and_mfa_login_there_mends_it() {
    let (aws, sandbox) = setup();
    // No refresh token: usable for 10 s more (a token needs a minute left).
    let (_, written) = signed_in_without_refresh(&aws, &sandbox, 70);
    // The subshell takes the terminal (bash with job control): a sign-in
    // must not show its page and code there behind its back.
    let mut term = served_shell(&sandbox);
    std::thread::sleep(std::time::Duration::from_secs(11).saturating_sub(written.elapsed()));
    term.send_line("aws sts get-caller-identity --output text; echo cli=$?")
        .unwrap();
    let (said, _) = term.exp_regex(r"cli=\d+").unwrap();
    assert!(said.contains("503"), "{said}");
    assert!(said.contains("`mfa login dev`"), "{said}");
    assert!(!said.contains("Sign in to"), "{said}");
    assert_eq!(aws.count("StartDeviceAuthorization"), 0);
    assert_eq!(aws.count("GetRoleCredentials"), 1);

    // Signing in where the person is, in the subshell, is what it takes.
    term.send_line(&format!("{} login dev", env!("CARGO_BIN_EXE_mfa")))
        .unwrap();
    term.exp_string("Sign in to SSO session `corp`").unwrap();
    aws.sso_approve();
    term.exp_string("Signed in").unwrap();
    the_cli_is_served_the_latest_role_keys(&mut term, &aws);
    term.send_line("exit").unwrap();
    term.exp_eof().unwrap();
}

#[test]
fn in_a_served_shell_the_hook_signs_in_when_the_token_ends_and_sets_no_keys() {
    let (aws, sandbox) = setup();
    // No refresh token: a sign-in is needed once under a minute is left.
    let (token, written) = signed_in_without_refresh(&aws, &sandbox, 70);
    let token_end = mfa::creds::parse_rfc3339(token["expiresAt"].as_str().unwrap()).unwrap();
    let mut term = served_shell(&sandbox);
    term.send_line(&format!(
        "eval \"$('{}' init bash)\"",
        env!("CARGO_BIN_EXE_mfa")
    ))
    .unwrap();
    // The prompt counts down to the token's end: when the person is needed.
    term.exp_regex(r"\(dev (1m|\d+s)!\) \$ ").unwrap();
    term.send_line("echo \"at=$MFA_EXPIRES_AT\"; mfa prompt --format '{profile}:{state}'")
        .unwrap();
    term.exp_string(&format!("at={token_end}")).unwrap();
    term.exp_string("dev:warn").unwrap();
    term.send_line(
        "mfa status --json | python3 -c 'import json,sys; s=json.load(sys.stdin)[\"shell\"]; print(\"shell:\", s[\"profile\"], s[\"access_key_id\"], s[\"expires_at\"] is not None)'",
    )
    .unwrap();
    term.exp_string("shell: dev None True").unwrap();
    // `mfa use` here renews the served session, and sets no keys to
    // shadow the endpoint.
    term.send_line("mfa use dev; echo \"keys=${AWS_ACCESS_KEY_ID:-none} uri=${AWS_CONTAINER_CREDENTIALS_FULL_URI:+set}\"")
        .unwrap();
    term.exp_string("keys=none uri=set").unwrap();

    // Under a minute left: the hook's renewal signs in here, in the
    // foreground, and the endpoint serves from the new token.
    std::thread::sleep(std::time::Duration::from_secs(12).saturating_sub(written.elapsed()));
    term.send_line("export MFA_RENEW_SECONDS=65").unwrap();
    term.exp_string("Sign in to SSO session `corp`").unwrap();
    aws.sso_approve();
    term.exp_string("Signed in").unwrap();
    term.exp_regex(r"\(dev \d+h\d\dm\) \$ ").unwrap();
    term.send_line("echo \"keys=${AWS_ACCESS_KEY_ID:-none} later=$(( MFA_EXPIRES_AT - $(date +%s) > 7 * 3600 ))\"")
        .unwrap();
    term.exp_string("keys=none later=1").unwrap();
    the_cli_is_served_the_latest_role_keys(&mut term, &aws);
    assert_eq!(aws.count("StartDeviceAuthorization"), 1);
    term.send_line("exit").unwrap();
    term.exp_eof().unwrap();
}
