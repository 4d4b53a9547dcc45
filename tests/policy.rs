//! `mfa policy` (SPEC §6): the documents parse, follow the IAM grammar,
//! hold the MFA conditions exactly, and are filled in with the account and
//! user from the flags or from sts:GetCallerIdentity against the local STS;
//! the local IAM (moto validates policy syntax) accepts them.

mod support;

use std::collections::BTreeSet;

use serde_json::{Value, json};
use support::*;

const ACCOUNT: &str = "111122223333";
/// What moto answers GetCallerIdentity with for keys it does not know.
const MOTO_ACCOUNT: &str = "123456789012";
const VARIABLE: &str = "${aws:username}";
const MFA_KEY: &str = "aws:MultiFactorAuthPresent";

/// Everything a user may do before they have MFA: set up their own device.
const SELF_SERVICE: [&str; 7] = [
    "iam:CreateVirtualMFADevice",
    "iam:DeleteVirtualMFADevice",
    "iam:EnableMFADevice",
    "iam:GetUser",
    "iam:ListMFADevices",
    "iam:ListVirtualMFADevices",
    "iam:ResyncMFADevice",
];

fn offline() -> Sandbox {
    // Nothing listens on port 9: any call to AWS would fail.
    Sandbox::with_endpoint("http://127.0.0.1:9".into())
}

/// Runs `mfa policy ARGS`, checks the output is one pretty document with
/// `Version` first, and returns it.
fn policy(sandbox: &Sandbox, args: &[&str]) -> Value {
    let mut all = vec!["policy"];
    all.extend_from_slice(args);
    let out = sandbox.run(&all);
    assert!(out.status.success(), "mfa {all:?} failed: {}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.starts_with("{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": ["),
        "not a pretty document with Version first:\n{text}"
    );
    assert!(text.ends_with("}\n"), "{text:?}");
    let doc: Value = serde_json::from_str(&text).expect("stdout is JSON");
    check_grammar(&doc, args.first() == Some(&"role-trust"));
    doc
}

fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().expect("a list of strings").to_string())
            .collect(),
        other => panic!("expected a string or a list of strings, got {other}"),
    }
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// The IAM policy grammar, as far as these documents go: every statement
/// has a unique alphanumeric Sid, Effect Allow or Deny, exactly one of
/// Action/NotAction, exactly one of Resource/NotResource (a trust policy:
/// a Principal and no Resource), actions `service:Name`, ARNs that name a
/// partition and a 12-digit account, and known condition operators on
/// known keys with string values.
fn check_grammar(doc: &Value, trust: bool) {
    let top: BTreeSet<&str> = doc
        .as_object()
        .expect("a JSON object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(top, BTreeSet::from(["Version", "Statement"]), "{doc}");
    assert_eq!(doc["Version"], "2012-10-17");
    let statements = doc["Statement"].as_array().expect("Statement is a list");
    assert!(!statements.is_empty());
    let mut sids = BTreeSet::new();
    for s in statements {
        let keys: BTreeSet<&str> = s
            .as_object()
            .expect("a statement is an object")
            .keys()
            .map(String::as_str)
            .collect();
        let allowed = BTreeSet::from([
            "Sid",
            "Effect",
            "Principal",
            "Action",
            "NotAction",
            "Resource",
            "NotResource",
            "Condition",
        ]);
        assert!(keys.is_subset(&allowed), "unknown element in {s}");
        let sid = s["Sid"].as_str().expect("every statement has a Sid");
        assert!(
            !sid.is_empty() && sid.chars().all(|c| c.is_ascii_alphanumeric()),
            "{sid}"
        );
        assert!(sids.insert(sid.to_string()), "duplicate Sid {sid}");
        assert!(
            s["Effect"] == "Allow" || s["Effect"] == "Deny",
            "Effect in {s}"
        );
        assert!(
            keys.contains("Action") ^ keys.contains("NotAction"),
            "Action or NotAction in {s}"
        );
        let actions = strings(s.get("Action").or(s.get("NotAction")).unwrap());
        assert!(!actions.is_empty());
        for action in &actions {
            let valid = action == "*"
                || action.split_once(':').is_some_and(|(service, name)| {
                    !service.is_empty()
                        && service.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')
                        && !name.is_empty()
                        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'*')
                });
            assert!(valid, "action {action:?}");
        }
        if trust {
            assert!(keys.contains("Principal"), "trust needs a Principal: {s}");
            assert!(!keys.contains("Resource") && !keys.contains("NotResource"));
            let principal = s["Principal"].as_object().expect("Principal object");
            for (kind, who) in principal {
                assert_eq!(kind, "AWS");
                strings(who).iter().for_each(|arn| check_arn(arn));
            }
        } else {
            assert!(
                !keys.contains("Principal"),
                "identity policy with a Principal"
            );
            assert!(
                keys.contains("Resource") ^ keys.contains("NotResource"),
                "Resource or NotResource in {s}"
            );
            let resources = strings(s.get("Resource").or(s.get("NotResource")).unwrap());
            for resource in resources.iter().filter(|r| *r != "*") {
                check_arn(resource);
            }
        }
        if let Some(condition) = s.get("Condition") {
            let condition = condition.as_object().expect("Condition object");
            assert!(!condition.is_empty());
            for (operator, tests) in condition {
                assert!(
                    ["Bool", "BoolIfExists", "NumericLessThan"].contains(&operator.as_str()),
                    "operator {operator}"
                );
                for (key, value) in tests.as_object().expect("operator takes an object") {
                    assert!(
                        [MFA_KEY, "aws:MultiFactorAuthAge"].contains(&key.as_str()),
                        "condition key {key}"
                    );
                    let values = strings(value);
                    if operator.starts_with("Bool") {
                        assert!(
                            values.iter().all(|v| v == "true" || v == "false"),
                            "{values:?}"
                        );
                    }
                }
            }
        }
    }
}

/// `arn:PARTITION:iam::ACCOUNT:RESOURCE`, the account 12 digits.
fn check_arn(arn: &str) {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    assert_eq!(parts.len(), 6, "{arn}");
    assert_eq!(parts[0], "arn", "{arn}");
    assert!(parts[1].starts_with("aws"), "{arn}");
    assert_eq!(parts[2], "iam", "{arn}");
    assert_eq!(parts[3], "", "IAM ARNs have no region: {arn}");
    assert!(
        parts[4].len() == 12 && parts[4].bytes().all(|b| b.is_ascii_digit()),
        "{arn}"
    );
    assert!(!parts[5].is_empty(), "{arn}");
}

fn statements(doc: &Value) -> &Vec<Value> {
    doc["Statement"].as_array().expect("Statement list")
}

fn mfa(present: bool) -> Value {
    json!({ "Bool": { MFA_KEY: present.to_string() } })
}

/// The actions a document allows without any condition, i.e. without MFA.
fn allowed_without_mfa(doc: &Value) -> BTreeSet<String> {
    statements(doc)
        .iter()
        .filter(|s| s["Effect"] == "Allow" && s.get("Condition").is_none())
        .flat_map(|s| strings(&s["Action"]))
        .collect()
}

fn user_arn(account: &str, user: &str) -> String {
    format!("arn:aws:iam::{account}:user/{user}")
}

fn device_arn(account: &str, user: &str) -> String {
    format!("arn:aws:iam::{account}:mfa/{user}")
}

/// What the self-service statements must say, for `account` and `user`.
fn self_service_statements(account: &str, user: &str) -> Vec<Value> {
    vec![
        json!({
            "Sid": "OwnUserMfaWithoutMfa",
            "Effect": "Allow",
            "Action": ["iam:GetUser", "iam:ListMFADevices", "iam:EnableMFADevice", "iam:ResyncMFADevice"],
            "Resource": user_arn(account, user),
        }),
        json!({
            "Sid": "OwnVirtualDeviceWithoutMfa",
            "Effect": "Allow",
            "Action": ["iam:CreateVirtualMFADevice", "iam:DeleteVirtualMFADevice"],
            "Resource": device_arn(account, user),
        }),
        json!({
            "Sid": "ListVirtualDevicesWithoutMfa",
            "Effect": "Allow",
            "Action": ["iam:ListVirtualMFADevices"],
            "Resource": "*",
        }),
    ]
}

fn expected_boundary(account: &str, user: &str) -> Value {
    let mut statements = vec![json!({
        "Sid": "EverythingWithMfa",
        "Effect": "Allow",
        "Action": "*",
        "Resource": "*",
        "Condition": mfa(true),
    })];
    statements.extend(self_service_statements(account, user));
    json!({ "Version": "2012-10-17", "Statement": statements })
}

fn expected_self_manage(account: &str, user: &str) -> Value {
    let mut statements = self_service_statements(account, user);
    statements.push(json!({
        "Sid": "DeactivateOwnDeviceWithMfa",
        "Effect": "Allow",
        "Action": "iam:DeactivateMFADevice",
        "Resource": user_arn(account, user),
        "Condition": mfa(true),
    }));
    json!({ "Version": "2012-10-17", "Statement": statements })
}

fn expected_trust(principal: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "AssumeOnlyWithMfa",
            "Effect": "Allow",
            "Principal": { "AWS": principal },
            "Action": "sts:AssumeRole",
            "Condition": mfa(true),
        }],
    })
}

fn expected_deny() -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "DenyAllButMfaSetupWithoutMfa",
            "Effect": "Deny",
            "NotAction": SELF_SERVICE,
            "Resource": "*",
            "Condition": { "BoolIfExists": { MFA_KEY: "false" } },
        }],
    })
}

/// The properties that matter, whatever the exact wording: checked on
/// every document the tests produce.
fn check_semantics(name: &str, doc: &Value, account: &str, user: &str) {
    let all: Vec<&Value> = statements(doc).iter().collect();
    let self_service = set(&SELF_SERVICE);
    match name {
        "mfa-boundary" => {
            // Everything, but only with MFA: Bool (absent on long-term keys
            // means no match), never BoolIfExists.
            let everything: Vec<&&Value> = all
                .iter()
                .filter(|s| strings(&s["Action"]) == ["*"])
                .collect();
            assert_eq!(everything.len(), 1, "{doc}");
            assert_eq!(everything[0]["Resource"], "*");
            assert_eq!(everything[0]["Condition"], mfa(true));
            assert!(all.iter().all(|s| s["Effect"] == "Allow"));
            assert_eq!(allowed_without_mfa(doc), self_service);
        }
        "self-manage-mfa" => {
            assert!(all.iter().all(|s| s["Effect"] == "Allow"));
            assert!(
                all.iter()
                    .flat_map(|s| strings(&s["Action"]))
                    .all(|a| !a.contains('*')),
                "no wildcard actions: {doc}"
            );
            assert_eq!(allowed_without_mfa(doc), self_service);
            let deactivate: Vec<&&Value> = all
                .iter()
                .filter(|s| strings(&s["Action"]).contains(&"iam:DeactivateMFADevice".into()))
                .collect();
            assert_eq!(deactivate.len(), 1);
            assert_eq!(deactivate[0]["Condition"], mfa(true));
            // Only the user's own user and device, and `*` only for the
            // one action IAM cannot scope.
            for s in &all {
                for resource in strings(&s["Resource"]) {
                    if resource == "*" {
                        assert_eq!(strings(&s["Action"]), ["iam:ListVirtualMFADevices"]);
                    } else {
                        // The user's ARN shows its path; the device is
                        // named after the user alone.
                        let name = user.rsplit('/').next().unwrap_or(user);
                        assert!(
                            resource == user_arn(account, user)
                                || resource == device_arn(account, name),
                            "{resource}"
                        );
                    }
                }
            }
        }
        "deny-without-mfa" => {
            assert_eq!(all.len(), 1);
            let s = all[0];
            assert_eq!(s["Effect"], "Deny");
            assert_eq!(
                strings(&s["NotAction"])
                    .into_iter()
                    .collect::<BTreeSet<_>>(),
                self_service
            );
            assert_eq!(s["Resource"], "*");
            // BoolIfExists: requests with long-term keys have no such key
            // at all and must be denied too.
            assert_eq!(
                s["Condition"],
                json!({ "BoolIfExists": { MFA_KEY: "false" } })
            );
        }
        "role-trust" => {
            assert_eq!(all.len(), 1);
            let s = all[0];
            assert_eq!(s["Effect"], "Allow");
            assert_eq!(s["Action"], "sts:AssumeRole");
            assert_eq!(s["Condition"], mfa(true));
            let principal = s["Principal"]["AWS"].as_str().unwrap();
            assert!(principal.starts_with(&format!("arn:aws:iam::{account}:")));
        }
        _ => panic!("no policy {name}"),
    }
}

#[test]
fn the_four_documents_filled_in_from_the_flags() {
    let sandbox = offline();
    let flags = ["--account", ACCOUNT, "--user", "alice"];
    let run = |name: &str| {
        let mut args = vec![name];
        args.extend_from_slice(&flags);
        policy(&sandbox, &args)
    };

    let boundary = run("mfa-boundary");
    assert_eq!(boundary, expected_boundary(ACCOUNT, "alice"));
    check_semantics("mfa-boundary", &boundary, ACCOUNT, "alice");

    let self_manage = run("self-manage-mfa");
    assert_eq!(self_manage, expected_self_manage(ACCOUNT, "alice"));
    check_semantics("self-manage-mfa", &self_manage, ACCOUNT, "alice");

    let deny = run("deny-without-mfa");
    assert_eq!(deny, expected_deny());
    check_semantics("deny-without-mfa", &deny, ACCOUNT, "alice");

    // --user names the one user who may assume the role.
    let trust = run("role-trust");
    assert_eq!(trust, expected_trust(&user_arn(ACCOUNT, "alice")));
    check_semantics("role-trust", &trust, ACCOUNT, "alice");

    // The two that go together agree: what the deny spares is exactly
    // what self-manage-mfa allows without MFA.
    assert_eq!(
        allowed_without_mfa(&self_manage),
        strings(&deny["Statement"][0]["NotAction"])
            .into_iter()
            .collect()
    );
}

#[test]
fn without_a_user_the_policy_variable_stands_for_every_user() {
    let sandbox = offline();
    let boundary = policy(&sandbox, &["mfa-boundary", "--account", ACCOUNT]);
    assert_eq!(boundary, expected_boundary(ACCOUNT, VARIABLE));
    let self_manage = policy(&sandbox, &["self-manage-mfa", "--account", ACCOUNT]);
    assert_eq!(self_manage, expected_self_manage(ACCOUNT, VARIABLE));
    check_semantics("self-manage-mfa", &self_manage, ACCOUNT, VARIABLE);
    // Asked for explicitly, too.
    let explicit = policy(
        &sandbox,
        &["self-manage-mfa", "--account", ACCOUNT, "--user", VARIABLE],
    );
    assert_eq!(explicit, self_manage);
    // The trust policy lets the whole account in (each user still needs
    // sts:AssumeRole in their own policies).
    let trust = policy(&sandbox, &["role-trust", "--account", ACCOUNT]);
    assert_eq!(
        trust,
        expected_trust(&format!("arn:aws:iam::{ACCOUNT}:root"))
    );
    // A principal cannot be a policy variable.
    let out = sandbox.run(&[
        "policy",
        "role-trust",
        "--account",
        ACCOUNT,
        "--user",
        VARIABLE,
    ]);
    assert_fails(&out, 2, "principal");
    // deny-without-mfa names neither, and needs no credentials at all.
    let deny = policy(&sandbox, &["deny-without-mfa"]);
    assert_eq!(deny, expected_deny());
}

#[test]
fn list_says_what_each_is_for() {
    let out = offline().run(&["policy", "--list"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    let names = [
        "mfa-boundary",
        "role-trust",
        "self-manage-mfa",
        "deny-without-mfa",
    ];
    assert_eq!(lines.len(), names.len(), "{text}");
    for (line, name) in lines.iter().zip(names) {
        let (first, purpose) = line.split_once(' ').expect("name and purpose");
        assert_eq!(first, name);
        assert!(purpose.trim().len() > 20, "say what it is for: {line}");
    }
    assert!(text.contains("boundary") && text.contains("trust"));
}

#[test]
fn usage_errors_exit_2_and_print_nothing() {
    let sandbox = offline();
    let out = sandbox.run(&["policy", "boundary", "--account", ACCOUNT]);
    assert_fails(&out, 2, "invalid value 'boundary'");
    for name in [
        "mfa-boundary",
        "role-trust",
        "self-manage-mfa",
        "deny-without-mfa",
    ] {
        assert!(
            stderr(&out).contains(name),
            "lists {name}: {}",
            stderr(&out)
        );
    }
    for bad in [
        "12345",
        "1234567890123",
        "12345678901x",
        "",
        "1234-5678-9012",
    ] {
        let out = sandbox.run(&["policy", "mfa-boundary", "--account", bad]);
        assert_fails(&out, 2, "12-digit");
    }
    // Even for the policy that names no account.
    let out = sandbox.run(&["policy", "deny-without-mfa", "--account", "42"]);
    assert_fails(&out, 2, "12-digit");
    for bad in ["a/b", "with space", "", "${aws:userid}"] {
        let out = sandbox.run(&[
            "policy",
            "self-manage-mfa",
            "--account",
            ACCOUNT,
            "--user",
            bad,
        ]);
        assert_fails(&out, 2, "--user");
    }
    // No name and no --list: clap's usage error.
    let out = sandbox.run(&["policy"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
}

#[test]
fn without_credentials_or_account_it_says_to_pass_account() {
    // No files at all.
    let sandbox = offline();
    for name in ["mfa-boundary", "role-trust", "self-manage-mfa"] {
        let out = sandbox.run(&["policy", name]);
        assert_fails(&out, 2, "--account");
    }
    // A profile without keys, and a profile that does not exist.
    sandbox.config("[profile nokeys]\nregion = eu-west-1\n");
    let out = sandbox.run(&["policy", "mfa-boundary", "--profile", "nokeys"]);
    assert_fails(&out, 2, "--account");
    let out = sandbox.run(&["policy", "mfa-boundary", "--profile", "ghost"]);
    assert_fails(&out, 2, "--account");
    // With --account nothing is asked of AWS (nothing listens here).
    policy(
        &sandbox,
        &["mfa-boundary", "--profile", "ghost", "--account", ACCOUNT],
    );
}

#[test]
fn an_unreachable_sts_fails_and_says_to_pass_account() {
    let sandbox = offline();
    sandbox
        .config(&standard_config())
        .credentials(&standard_credentials());
    let out = sandbox
        .mfa()
        .args(["policy", "self-manage-mfa", "--profile", "alice"])
        .env("AWS_MAX_ATTEMPTS", "1")
        .output()
        .expect("run mfa");
    assert_fails(&out, 1, "--account");
}

/// The AWS CLI against the local IAM/STS, as an administrator moto does
/// not check.
fn aws_cli(sandbox: &Sandbox, args: &[&str]) -> Value {
    let out = sandbox
        .command("aws")
        .args(args)
        .args(["--output", "json"])
        .env("AWS_ACCESS_KEY_ID", "AKIAPOLICYTESTADMIN1")
        .env("AWS_SECRET_ACCESS_KEY", "admin-secret")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .output()
        .expect("run the AWS CLI (`aws`)");
    assert!(out.status.success(), "aws {args:?}: {}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
}

/// Creates an IAM user (with a path) and an access key, and writes the key
/// into the sandbox's credentials file as profile `name`.
fn iam_user(sandbox: &Sandbox, name: &str, path: &str) -> String {
    let user = aws_cli(
        sandbox,
        &["iam", "create-user", "--user-name", name, "--path", path],
    );
    let key = aws_cli(sandbox, &["iam", "create-access-key", "--user-name", name]);
    let id = key["AccessKey"]["AccessKeyId"].as_str().expect("key id");
    let secret = key["AccessKey"]["SecretAccessKey"]
        .as_str()
        .expect("secret");
    sandbox.credentials(&format!(
        "[{name}]\naws_access_key_id = {id}\naws_secret_access_key = {secret}\n"
    ));
    user["User"]["Arn"].as_str().expect("user ARN").to_string()
}

#[test]
fn account_and_user_from_get_caller_identity() {
    let aws = FakeAws::start();
    let sandbox = Sandbox::new(&aws);
    sandbox
        .config(&standard_config())
        .credentials(&standard_credentials());

    // Keys moto does not know: it answers `arn:aws:sts::123456789012:user/moto`.
    let doc = policy(&sandbox, &["self-manage-mfa", "--profile", "alice"]);
    assert_eq!(doc, expected_self_manage(MOTO_ACCOUNT, "moto"));
    check_semantics("self-manage-mfa", &doc, MOTO_ACCOUNT, "moto");
    assert_eq!(aws.count("GetCallerIdentity"), 1);

    // The profile from AWS_PROFILE; a role profile asks with its source keys.
    let out = sandbox
        .mfa()
        .args(["policy", "mfa-boundary"])
        .env("AWS_PROFILE", "admin")
        .output()
        .expect("run mfa");
    assert!(out.status.success(), "{}", stderr(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc, expected_boundary(MOTO_ACCOUNT, "moto"));
    assert!(stderr(&out).contains(MOTO_ACCOUNT), "{}", stderr(&out));

    // The trust policy: the caller's account, whoever the caller is.
    let doc = policy(&sandbox, &["role-trust", "--profile", "alice"]);
    assert_eq!(
        doc,
        expected_trust(&format!("arn:aws:iam::{MOTO_ACCOUNT}:root"))
    );

    // --user wins over the caller; --account saves the call.
    let doc = policy(
        &sandbox,
        &["self-manage-mfa", "--profile", "alice", "--user", "zed"],
    );
    assert_eq!(doc, expected_self_manage(MOTO_ACCOUNT, "zed"));
    let before = aws.count("GetCallerIdentity");
    policy(
        &sandbox,
        &[
            "self-manage-mfa",
            "--profile",
            "alice",
            "--account",
            ACCOUNT,
        ],
    );
    assert_eq!(aws.count("GetCallerIdentity"), before);

    // deny-without-mfa names no account: no call.
    policy(&sandbox, &["deny-without-mfa", "--profile", "alice"]);
    assert_eq!(aws.count("GetCallerIdentity"), before);

    // Keys STS refuses: a failure that says what to do instead.
    aws.fault(json!({ "action": "GetCallerIdentity", "status": 403,
        "code": "InvalidClientTokenId", "message": "The security token included in the request is invalid." }));
    let out = sandbox.run(&["policy", "mfa-boundary", "--profile", "alice"]);
    assert_fails(&out, 1, "--account");
    assert!(
        stderr(&out).contains("InvalidClientTokenId"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_real_iam_user_fills_in_their_name_and_path() {
    let aws = FakeAws::start();
    let sandbox = Sandbox::new(&aws);
    let arn = iam_user(&sandbox, "carol", "/dev/");
    assert_eq!(arn, format!("arn:aws:iam::{MOTO_ACCOUNT}:user/dev/carol"));

    let doc = policy(&sandbox, &["self-manage-mfa", "--profile", "carol"]);
    // The user's ARN keeps the path; the device is named after the user,
    // as `mfa device create carol` makes it.
    let text = doc.to_string();
    assert!(text.contains(&format!("\"{arn}\"")), "{text}");
    assert!(text.contains(&device_arn(MOTO_ACCOUNT, "carol")), "{text}");
    assert!(!text.contains(VARIABLE), "{text}");
    check_semantics("self-manage-mfa", &doc, MOTO_ACCOUNT, "dev/carol");
    assert_eq!(doc["Statement"][0]["Resource"], arn);
    assert_eq!(
        doc["Statement"][1]["Resource"],
        device_arn(MOTO_ACCOUNT, "carol")
    );

    let boundary = policy(&sandbox, &["mfa-boundary", "--profile", "carol"]);
    check_semantics("mfa-boundary", &boundary, MOTO_ACCOUNT, "dev/carol");
    assert!(boundary.to_string().contains(&format!("\"{arn}\"")));

    // Through the environment's profile, too.
    let out = sandbox
        .mfa()
        .args(["policy", "role-trust"])
        .env("AWS_PROFILE", "carol")
        .output()
        .expect("run mfa");
    assert!(out.status.success(), "{}", stderr(&out));
    let trust: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        trust,
        expected_trust(&format!("arn:aws:iam::{MOTO_ACCOUNT}:root"))
    );
}

#[test]
fn keys_from_credential_process_find_the_account() {
    let aws = FakeAws::start();
    let sandbox = Sandbox::new(&aws);
    sandbox.config(
        "[profile proc]\ncredential_process = printf '{\"Version\": 1, \"AccessKeyId\": \"AKIAPOLICYPROCESS001\", \"SecretAccessKey\": \"s\"}'\n",
    );
    let doc = policy(&sandbox, &["mfa-boundary", "--profile", "proc"]);
    assert_eq!(doc, expected_boundary(MOTO_ACCOUNT, "moto"));
    let calls = aws.calls();
    assert!(
        calls
            .iter()
            .any(|c| c["action"] == "GetCallerIdentity"
                && c["access_key_id"] == "AKIAPOLICYPROCESS001"),
        "{calls:?}"
    );
}

#[test]
fn the_local_iam_accepts_the_documents() {
    let aws = FakeAws::start();
    let sandbox = Sandbox::new(&aws);
    iam_user(&sandbox, "dave", "/");
    let dir = tempfile::tempdir().unwrap();
    let write = |doc: &Value, file: &str| {
        let path = dir.path().join(file);
        std::fs::write(&path, serde_json::to_string_pretty(doc).unwrap()).unwrap();
        format!("file://{}", path.display())
    };
    // moto checks the syntax of managed policies (MalformedPolicyDocument).
    let mut arns = Vec::new();
    for (i, args) in [
        vec!["mfa-boundary", "--profile", "dave"],
        vec!["mfa-boundary", "--account", MOTO_ACCOUNT],
        vec!["self-manage-mfa", "--profile", "dave"],
        vec!["self-manage-mfa", "--account", MOTO_ACCOUNT],
        vec!["deny-without-mfa"],
    ]
    .into_iter()
    .enumerate()
    {
        let doc = policy(&sandbox, &args);
        let uri = write(&doc, &format!("{i}.json"));
        let name = format!("{}-{i}", args[0]);
        let created = aws_cli(
            &sandbox,
            &[
                "iam",
                "create-policy",
                "--policy-name",
                &name,
                "--policy-document",
                &uri,
            ],
        );
        arns.push(created["Policy"]["Arn"].as_str().unwrap().to_string());
    }
    // A role that trusts the account's users with MFA, bounded by the boundary.
    let trust = policy(&sandbox, &["role-trust", "--profile", "dave"]);
    let uri = write(&trust, "trust.json");
    aws_cli(
        &sandbox,
        &[
            "iam",
            "create-role",
            "--role-name",
            "mfa-only",
            "--assume-role-policy-document",
            &uri,
            "--permissions-boundary",
            &arns[0],
        ],
    );
    let role = aws_cli(&sandbox, &["iam", "get-role", "--role-name", "mfa-only"]);
    assert_eq!(role["Role"]["AssumeRolePolicyDocument"], trust);
    assert_eq!(
        role["Role"]["PermissionsBoundary"]["PermissionsBoundaryArn"],
        arns[0].as_str()
    );
    // The group policies attach, as they are meant to be used together.
    aws_cli(&sandbox, &["iam", "create-group", "--group-name", "humans"]);
    for arn in &arns[3..] {
        aws_cli(
            &sandbox,
            &[
                "iam",
                "attach-group-policy",
                "--group-name",
                "humans",
                "--policy-arn",
                arn,
            ],
        );
    }
    // And the local IAM does refuse a broken document, so the above means
    // something.
    let broken = dir.path().join("broken.json");
    std::fs::write(
        &broken,
        r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"Boool": {"aws:MultiFactorAuthPresent": "true"}}}]}"#,
    )
    .unwrap();
    let out = sandbox
        .command("aws")
        .args([
            "iam",
            "create-policy",
            "--policy-name",
            "broken",
            "--policy-document",
        ])
        .arg(format!("file://{}", broken.display()))
        .env("AWS_ACCESS_KEY_ID", "AKIAPOLICYTESTADMIN1")
        .env("AWS_SECRET_ACCESS_KEY", "admin-secret")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .output()
        .expect("run aws");
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("MalformedPolicyDocument"),
        "{}",
        stderr(&out)
    );
}
