//! `mfa enforce plan|apply|audit` and `mfa onboard` (SPEC §10) against
//! moto's IAM behind tests/support/fake_aws.py, which adds what moto lacks
//! (users' permissions boundaries, URL-encoded documents, List pages: every
//! test here reads IAM one member a page).

mod support;

use std::process::Output;

use rexpect::session::spawn_command;
use serde_json::{Value, json};
use support::*;

const ACCOUNT: &str = "123456789012";

/// A fake AWS with an IAM user `admin` whose keys are profile `admin`
/// (no MFA), and profile `admin-mfa` (the same keys, with an MFA device
/// whose code comes from mfa_process).
fn setup() -> (FakeAws, Sandbox) {
    let aws = FakeAws::start();
    aws.iam_page_size(1);
    let sandbox = Sandbox::new(&aws);
    let (id, secret) = create_iam_user(&sandbox, "admin");
    sandbox
        .config(&format!(
            "[profile admin]\nregion = eu-west-1\n\n\
             [profile admin-mfa]\nmfa_serial = arn:aws:iam::{ACCOUNT}:mfa/admin\nmfa_process = echo 123456\n"
        ))
        .credentials(&format!(
            "[admin]\naws_access_key_id = {id}\naws_secret_access_key = {secret}\n\
             [admin-mfa]\naws_access_key_id = {id}\naws_secret_access_key = {secret}\n"
        ));
    (aws, sandbox)
}

fn user(sandbox: &Sandbox, name: &str) {
    iam_admin(sandbox, &["create-user", "--user-name", name]);
}

fn enforce(sandbox: &Sandbox, args: &[&str]) -> Output {
    sandbox.run(&[&["enforce"], args, &["--profile", "admin"]].concat())
}

/// The plan's JSON: (action, kind, resource) of each change.
fn actions(output: &Output) -> Vec<(String, String, String)> {
    assert!(output.status.success(), "{}", stderr(output));
    let plan: Value = serde_json::from_slice(&output.stdout).expect("the plan is JSON");
    plan["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| {
            (
                c["action"].as_str().unwrap_or("").to_string(),
                c["kind"].as_str().unwrap_or("").to_string(),
                c["resource"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

fn all(output: &Output, action: &str) -> bool {
    let changes = actions(output);
    !changes.is_empty() && changes.iter().all(|(a, _, _)| a == action)
}

/// Successful IAM calls by mfa (not by the tests' own `aws iam`) that
/// change something.
fn writes(aws: &FakeAws) -> usize {
    aws.calls()
        .iter()
        .filter(|c| c["service"] == "iam" && c["status"] == 200)
        .filter(|c| c["root_access_key_id"] != "AKIAADMINEXAMPLE")
        .filter(|c| {
            let action = c["action"].as_str().unwrap_or("");
            ["Create", "Put", "Attach", "Add", "Update", "Delete"]
                .iter()
                .any(|verb| action.starts_with(verb))
        })
        .count()
}

/// A new default version of a managed policy, made by hand (`aws iam`).
fn new_default_version(sandbox: &Sandbox, arn: &str, document: &str) {
    iam_admin(
        sandbox,
        &[
            "create-policy-version",
            "--policy-arn",
            arn,
            "--policy-document",
            document,
            "--set-as-default",
        ],
    );
}

fn mfa_condition(document: &Value) -> bool {
    document.to_string().contains("aws:MultiFactorAuthPresent")
}

/// The document of the managed policy's default version.
fn default_document(sandbox: &Sandbox, arn: &str) -> Value {
    let policy = iam_admin(sandbox, &["get-policy", "--policy-arn", arn]);
    let version = iam_admin(
        sandbox,
        &[
            "get-policy-version",
            "--policy-arn",
            arn,
            "--version-id",
            policy["Policy"]["DefaultVersionId"].as_str().unwrap(),
        ],
    );
    version["PolicyVersion"]["Document"].clone()
}

#[test]
fn role_recipe_is_planned_applied_unchanged_then_updated_after_a_hand_change() {
    let (aws, sandbox) = setup();
    user(&sandbox, "alice");
    user(&sandbox, "bob");
    let ops = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}]});
    iam_admin(
        &sandbox,
        &[
            "create-policy",
            "--policy-name",
            "ops",
            "--policy-document",
            &ops.to_string(),
        ],
    );
    let missing = enforce(
        &sandbox,
        &[
            "plan",
            "--recipe",
            "role",
            "--policy",
            "arn:aws:iam::123456789012:policy/nope",
        ],
    );
    assert_fails(
        &missing,
        1,
        "there is no managed policy arn:aws:iam::123456789012:policy/nope",
    );
    let recipe = [
        "--recipe",
        "role",
        "--policy",
        "arn:aws:iam::123456789012:policy/ops",
        "--users",
        "alice",
        "bob",
        "--format",
        "json",
    ];
    let plan = enforce(&sandbox, &[&["plan"], &recipe[..]].concat());
    assert_eq!(
        actions(&plan),
        [
            ("create", "role", "mfa-admin"),
            (
                "create",
                "role-policy-attachment",
                "mfa-admin <- arn:aws:iam::123456789012:policy/ops"
            ),
            ("create", "group", "mfa-admin-users"),
            (
                "create",
                "group-inline-policy",
                "mfa-admin-users/assume-mfa-admin"
            ),
            (
                "create",
                "group-inline-policy",
                "mfa-admin-users/self-manage-mfa"
            ),
            ("create", "group-membership", "alice in mfa-admin-users"),
            ("create", "group-membership", "bob in mfa-admin-users"),
        ]
        .map(|(a, k, r)| (a.to_string(), k.to_string(), r.to_string()))
    );
    assert_eq!(writes(&aws), 0, "plan changes nothing");

    let apply = enforce(&sandbox, &[&["apply"], &recipe[..]].concat());
    assert!(all(&apply, "create"), "{}", stdout(&apply));
    assert!(
        stderr(&apply).contains(&format!("role_arn = arn:aws:iam::{ACCOUNT}:role/mfa-admin")),
        "{}",
        stderr(&apply)
    );
    let role = iam_admin(&sandbox, &["get-role", "--role-name", "mfa-admin"]);
    let trust = &role["Role"]["AssumeRolePolicyDocument"];
    assert_eq!(
        trust["Statement"][0]["Principal"]["AWS"],
        format!("arn:aws:iam::{ACCOUNT}:root")
    );
    assert_eq!(
        trust["Statement"][0]["Condition"]["Bool"]["aws:MultiFactorAuthPresent"],
        "true"
    );
    let attached = iam_admin(
        &sandbox,
        &["list-attached-role-policies", "--role-name", "mfa-admin"],
    );
    assert_eq!(
        attached["AttachedPolicies"][0]["PolicyArn"],
        "arn:aws:iam::123456789012:policy/ops"
    );
    let assume = iam_admin(
        &sandbox,
        &[
            "get-group-policy",
            "--group-name",
            "mfa-admin-users",
            "--policy-name",
            "assume-mfa-admin",
        ],
    );
    assert_eq!(
        assume["PolicyDocument"]["Statement"][0]["Resource"],
        format!("arn:aws:iam::{ACCOUNT}:role/mfa-admin")
    );
    let group = iam_admin(&sandbox, &["get-group", "--group-name", "mfa-admin-users"]);
    let mut members: Vec<&str> = group["Users"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|u| u["UserName"].as_str())
        .collect();
    members.sort();
    assert_eq!(members, ["alice", "bob"]);

    // A second apply finds everything in place and changes nothing.
    let before = writes(&aws);
    let again = enforce(&sandbox, &[&["apply"], &recipe[..]].concat());
    assert!(all(&again, "unchanged"), "{}", stdout(&again));
    assert_eq!(writes(&aws), before);

    // Someone loosens the trust policy by hand: plan shows the difference
    // (compared as JSON), apply puts it back.
    let loose = json!({
        "Version": "2012-10-17",
        "Statement": [{"Sid": "AssumeOnlyWithMfa", "Effect": "Allow",
            "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")},
            "Action": "sts:AssumeRole"}]
    });
    iam_admin(
        &sandbox,
        &[
            "update-assume-role-policy",
            "--role-name",
            "mfa-admin",
            "--policy-document",
            &loose.to_string(),
        ],
    );
    let text = enforce(
        &sandbox,
        &[
            "plan",
            "--recipe",
            "role",
            "--users",
            "alice",
            "bob",
            "--policy",
            "arn:aws:iam::123456789012:policy/ops",
        ],
    );
    assert!(text.status.success(), "{}", stderr(&text));
    let shown = stdout(&text);
    assert!(shown.contains("update     role"), "{shown}");
    assert!(
        shown.contains(
            "    + Statement[0].Condition: {\"Bool\":{\"aws:MultiFactorAuthPresent\":\"true\"}}"
        ),
        "{shown}"
    );
    assert_eq!(shown.matches("unchanged").count(), 6, "{shown}");
    let fix = enforce(&sandbox, &[&["apply"], &recipe[..]].concat());
    assert_eq!(
        actions(&fix)
            .iter()
            .filter(|(a, _, _)| a == "update")
            .count(),
        1
    );
    let role = iam_admin(&sandbox, &["get-role", "--role-name", "mfa-admin"]);
    assert!(mfa_condition(&role["Role"]["AssumeRolePolicyDocument"]));
    assert!(all(
        &enforce(&sandbox, &[&["plan"], &recipe[..]].concat()),
        "unchanged"
    ));
}

#[test]
fn boundary_recipe_sets_the_boundary_of_each_user_once() {
    let (aws, sandbox) = setup();
    user(&sandbox, "carol");
    user(&sandbox, "dave");
    let recipe = [
        "--recipe", "boundary", "--users", "carol", "dave", "--format", "json",
    ];
    let plan = enforce(&sandbox, &[&["plan"], &recipe[..]].concat());
    assert_eq!(
        actions(&plan)
            .iter()
            .map(|(a, k, _)| format!("{a} {k}"))
            .collect::<Vec<_>>(),
        [
            "create policy",
            "create permissions-boundary",
            "create permissions-boundary"
        ]
    );
    assert!(all(
        &enforce(&sandbox, &[&["apply"], &recipe[..]].concat()),
        "create"
    ));
    let arn = format!("arn:aws:iam::{ACCOUNT}:policy/mfa-required");
    for name in ["carol", "dave"] {
        let got = iam_admin(&sandbox, &["get-user", "--user-name", name]);
        assert_eq!(
            got["User"]["PermissionsBoundary"]["PermissionsBoundaryArn"],
            arn.as_str()
        );
    }
    let document = default_document(&sandbox, &arn);
    assert_eq!(document["Statement"][0]["Sid"], "EverythingWithMfa");
    assert!(mfa_condition(&document));

    let before = writes(&aws);
    assert!(all(
        &enforce(&sandbox, &[&["apply"], &recipe[..]].concat()),
        "unchanged"
    ));
    assert_eq!(writes(&aws), before);

    // A user who is not there is named, and nothing is changed.
    let missing = enforce(
        &sandbox,
        &["apply", "--recipe", "boundary", "--users", "nobody"],
    );
    assert_fails(&missing, 1, "no IAM user named `nobody`");
    assert_eq!(writes(&aws), before);
}

#[test]
fn deny_recipe_then_a_hand_edited_policy_is_updated_with_a_new_version() {
    let (aws, sandbox) = setup();
    user(&sandbox, "erin");
    let recipe = [
        "--recipe", "deny", "--group", "staff", "--users", "erin", "--format", "json",
    ];
    assert!(all(
        &enforce(&sandbox, &[&["plan"], &recipe[..]].concat()),
        "create"
    ));
    assert_eq!(writes(&aws), 0);
    assert!(all(
        &enforce(&sandbox, &[&["apply"], &recipe[..]].concat()),
        "create"
    ));
    let arn = format!("arn:aws:iam::{ACCOUNT}:policy/deny-without-mfa");
    let attached = iam_admin(
        &sandbox,
        &["list-attached-group-policies", "--group-name", "staff"],
    );
    assert_eq!(attached["AttachedPolicies"][0]["PolicyArn"], arn.as_str());
    let groups = iam_admin(&sandbox, &["list-groups-for-user", "--user-name", "erin"]);
    assert_eq!(groups["Groups"][0]["GroupName"], "staff");
    assert!(all(
        &enforce(&sandbox, &[&["apply"], &recipe[..]].concat()),
        "unchanged"
    ));

    // The same document with its keys in another order and other spacing
    // is no change; a different one is.
    let version = |id: &str| {
        iam_admin(
            &sandbox,
            &[
                "get-policy-version",
                "--policy-arn",
                &arn,
                "--version-id",
                id,
            ],
        )["PolicyVersion"]["Document"]
            .clone()
    };
    let current = version("v1");
    let reordered = format!(
        "{{ \"Statement\" : {} , \"Version\" : \"2012-10-17\" }}",
        current["Statement"]
    );
    new_default_version(&sandbox, &arn, &reordered);
    assert!(all(
        &enforce(&sandbox, &[&["plan"], &recipe[..]].concat()),
        "unchanged"
    ));
    let mut weakened = current.clone();
    weakened["Statement"][0]["Condition"]["BoolIfExists"]["aws:MultiFactorAuthPresent"] =
        json!("true");
    new_default_version(&sandbox, &arn, &weakened.to_string());
    let plan = enforce(
        &sandbox,
        &[
            "plan", "--recipe", "deny", "--group", "staff", "--users", "erin",
        ],
    );
    assert!(
        stdout(&plan).contains("    ~ Statement[0].Condition.BoolIfExists.aws:MultiFactorAuthPresent: \"true\" -> \"false\""),
        "{}",
        stdout(&plan)
    );
    let fix = enforce(&sandbox, &[&["apply"], &recipe[..]].concat());
    assert_eq!(actions(&fix)[0].0, "update");
    let policy = iam_admin(&sandbox, &["get-policy", "--policy-arn", &arn]);
    let default = policy["Policy"]["DefaultVersionId"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(default, "v4");
    assert_eq!(version(&default), current);
    assert!(all(
        &enforce(&sandbox, &[&["plan"], &recipe[..]].concat()),
        "unchanged"
    ));

    // At IAM's five versions, the oldest that is not the default makes room.
    new_default_version(&sandbox, &arn, &weakened.to_string());
    let fix = enforce(&sandbox, &[&["apply"], &recipe[..]].concat());
    assert_eq!(actions(&fix)[0].0, "update");
    let versions = iam_admin(&sandbox, &["list-policy-versions", "--policy-arn", &arn]);
    let mut ids: Vec<&str> = versions["Versions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v["VersionId"].as_str())
        .collect();
    ids.sort();
    assert_eq!(ids, ["v2", "v3", "v4", "v5", "v6"]);
    assert_eq!(version("v6"), current);
}

#[test]
fn a_failure_midway_says_what_was_done_and_a_rerun_completes_it() {
    let (aws, sandbox) = setup();
    user(&sandbox, "frank");
    aws.fault(json!({"action": "AttachGroupPolicy", "status": 403, "count": 1}));
    let recipe = ["apply", "--recipe", "deny", "--users", "frank"];
    let failed = enforce(&sandbox, &recipe);
    assert_fails(
        &failed,
        1,
        "apply stopped at create group-policy-attachment",
    );
    let err = stderr(&failed);
    for line in [
        "done: create policy deny-without-mfa",
        "done: create group deny-without-mfa-users",
        "done: create group-inline-policy deny-without-mfa-users/self-manage-mfa",
        "not done: create group-policy-attachment",
        "not done: create group-membership frank in deny-without-mfa-users",
        "run the same `mfa enforce apply` again",
    ] {
        assert!(err.contains(line), "{line:?} in {err}");
    }
    assert_eq!(aws.count("AddUserToGroup"), 0, "nothing after the failure");

    let rerun = enforce(&sandbox, &[&recipe[..], &["--format", "json"]].concat());
    assert_eq!(
        actions(&rerun)
            .iter()
            .map(|(a, _, _)| a.as_str())
            .collect::<Vec<_>>(),
        ["unchanged", "unchanged", "unchanged", "create", "create"]
    );
    assert_eq!(aws.count("CreatePolicy"), 1);
    assert_eq!(aws.count("AttachGroupPolicy"), 1);
    assert_eq!(aws.count("AddUserToGroup"), 1);
}

#[test]
fn restricting_yourself_without_mfa_is_asked_and_the_undo_is_shown() {
    let (aws, sandbox) = setup();
    let recipe = ["apply", "--recipe", "deny", "--users", "admin"];
    let undo =
        "aws iam remove-user-from-group --group-name 'deny-without-mfa-users' --user-name 'admin'";

    // plan says so.
    let plan = enforce(&sandbox, &["plan", "--recipe", "deny", "--users", "admin"]);
    assert!(
        stderr(&plan).contains(
            "this restricts you: it adds you (IAM user admin) to group deny-without-mfa-users"
        ),
        "{}",
        stderr(&plan)
    );

    // No terminal, no --yes: refused before any change.
    let refused = enforce(&sandbox, &recipe);
    assert_fails(&refused, 2, "pass --yes");
    assert!(stderr(&refused).contains(undo), "{}", stderr(&refused));
    assert_eq!(writes(&aws), 0);

    // On a terminal: asked; "n" changes nothing.
    let ask = |answer: &str| {
        let mut command = sandbox.command(env!("CARGO_BIN_EXE_mfa"));
        command
            .args(["enforce"])
            .args(recipe)
            .args(["--profile", "admin"])
            .stdin(std::process::Stdio::inherit());
        let mut term = spawn_command(command, Some(30_000)).expect("mfa in a pseudo-terminal");
        term.exp_string("adds you (IAM user admin) to group deny-without-mfa-users")
            .unwrap();
        term.exp_string(undo).unwrap();
        term.exp_string("Apply anyway? [y/N] ").unwrap();
        term.send_line(answer).unwrap();
        let rest = term.exp_eof().unwrap();
        let status = term.process.wait().unwrap();
        (rest, status)
    };
    let (rest, status) = ask("n");
    assert!(rest.contains("nothing was changed"), "{rest}");
    assert!(
        matches!(status, rexpect::process::wait::WaitStatus::Exited(_, 1)),
        "{status:?}"
    );
    assert_eq!(writes(&aws), 0);

    let (rest, status) = ask("y");
    assert!(
        matches!(status, rexpect::process::wait::WaitStatus::Exited(_, 0)),
        "{status:?}: {rest}"
    );
    assert!(rest.contains(&format!("to undo: {undo}")), "{rest}");
    assert_eq!(aws.count("AddUserToGroup"), 1);

    // With MFA in the session, nothing to ask: a boundary on yourself is applied.
    let out = sandbox.run(&[
        "enforce",
        "apply",
        "--recipe",
        "boundary",
        "--users",
        "admin",
        "--profile",
        "admin-mfa",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stderr(&out).contains("restricts you"), "{}", stderr(&out));
}

/// Runs an undo command as apply printed it, in bash, as the admin key.
fn run_undo(sandbox: &Sandbox, undo: &str) {
    let out = sandbox
        .command("bash")
        .args(["--norc", "--noprofile", "-c", undo])
        .env("AWS_ACCESS_KEY_ID", "AKIAADMINEXAMPLE")
        .env("AWS_SECRET_ACCESS_KEY", "admin-secret")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .output()
        .expect("bash runs");
    assert!(out.status.success(), "{undo}: {}", stderr(&out));
}

/// The line of stderr that starts with `prefix`, the prefix taken off.
fn line_after<'a>(text: &'a str, prefix: &str) -> &'a str {
    text.lines()
        .find_map(|l| l.trim_start().strip_prefix(prefix))
        .unwrap_or_else(|| panic!("no `{prefix}` in {text}"))
}

#[test]
fn rewriting_a_policy_that_applies_to_you_is_asked_adopted_only_when_told_and_undone() {
    let (aws, sandbox) = setup();
    let arn = format!("arn:aws:iam::{ACCOUNT}:policy/everything");
    let everything = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]});
    iam_admin(
        &sandbox,
        &[
            "create-policy",
            "--policy-name",
            "everything",
            "--policy-document",
            &everything.to_string(),
        ],
    );
    iam_admin(
        &sandbox,
        &[
            "attach-user-policy",
            "--user-name",
            "admin",
            "--policy-arn",
            &arn,
        ],
    );
    let recipe = ["--recipe", "boundary", "--name", "everything"];

    // plan: someone else's policy, and it applies to the caller.
    let plan = enforce(&sandbox, &[&["plan"][..], &recipe].concat());
    assert!(plan.status.success(), "{}", stderr(&plan));
    assert!(
        stdout(&plan).contains("update (not created by mfa: pass --adopt)  policy"),
        "{}",
        stdout(&plan)
    );
    assert!(
        stderr(&plan).contains(&format!(
            "this restricts you: it rewrites policy {arn}, which applies to you (IAM user admin)"
        )),
        "{}",
        stderr(&plan)
    );
    let json_plan = enforce(
        &sandbox,
        &[&["plan"][..], &recipe, &["--format", "json"]].concat(),
    );
    let parsed: Value = serde_json::from_slice(&json_plan.stdout).expect("JSON");
    assert_eq!(parsed["changes"][0]["not_created_by_mfa"], true);

    // apply without --adopt: refused before any change.
    let refused = enforce(&sandbox, &[&["apply"][..], &recipe].concat());
    assert_fails(&refused, 2, "pass --adopt");
    assert_eq!(writes(&aws), 0);

    // --adopt, no terminal, no --yes (the reviewer's repro): refused, the undo shown.
    let adopt = [&["apply"][..], &recipe, &["--adopt"]].concat();
    let asked = enforce(&sandbox, &adopt);
    assert_fails(&asked, 2, "pass --yes");
    assert_eq!(writes(&aws), 0);
    let undo = line_after(&stderr(&asked), "aws iam create-policy-version").to_string();
    assert!(
        undo.starts_with(&format!(" --policy-arn '{arn}' --policy-document '{{")),
        "{undo}"
    );

    // Attached through a group instead: the same question.
    iam_admin(
        &sandbox,
        &[
            "detach-user-policy",
            "--user-name",
            "admin",
            "--policy-arn",
            &arn,
        ],
    );
    iam_admin(&sandbox, &["create-group", "--group-name", "admins"]);
    iam_admin(
        &sandbox,
        &[
            "add-user-to-group",
            "--group-name",
            "admins",
            "--user-name",
            "admin",
        ],
    );
    iam_admin(
        &sandbox,
        &[
            "attach-group-policy",
            "--group-name",
            "admins",
            "--policy-arn",
            &arn,
        ],
    );
    assert_fails(&enforce(&sandbox, &adopt), 2, "which applies to you");
    assert_eq!(writes(&aws), 0);

    // Told: applied, and tagged as mfa's, so the next run needs no --adopt.
    let applied = enforce(&sandbox, &[&adopt[..], &["--yes"]].concat());
    assert!(applied.status.success(), "{}", stderr(&applied));
    let tags = iam_admin(&sandbox, &["list-policy-tags", "--policy-arn", &arn]);
    assert_eq!(tags["Tags"], json!([{"Key": "managed-by", "Value": "mfa"}]));
    let replan = enforce(
        &sandbox,
        &[&["plan"][..], &recipe, &["--format", "json"]].concat(),
    );
    assert!(all(&replan, "unchanged"), "{}", stdout(&replan));

    // The undo, run as printed, puts the old document back.
    run_undo(
        &sandbox,
        &format!(
            "aws iam create-policy-version{}",
            line_after(
                &stderr(&applied),
                "mfa: to undo: aws iam create-policy-version"
            )
        ),
    );
    let document = default_document(&sandbox, &arn);
    assert_eq!(document, everything);
}

#[test]
fn rewriting_the_trust_of_the_role_you_act_through_is_asked_and_undone() {
    let (aws, sandbox) = setup();
    let foreign = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::210987654321:root"}, "Action": "sts:AssumeRole"}]});
    iam_admin(
        &sandbox,
        &[
            "create-role",
            "--role-name",
            "OrgAccess",
            "--assume-role-policy-document",
            &foreign.to_string(),
        ],
    );
    let config = std::fs::read_to_string(sandbox.home.join(".aws/config")).unwrap();
    sandbox.config(&format!(
        "{config}\n[profile orgadmin]\nrole_arn = arn:aws:iam::{ACCOUNT}:role/OrgAccess\nsource_profile = admin\n"
    ));
    let apply = |extra: &[&str]| {
        sandbox.run(
            &[
                &[
                    "enforce",
                    "apply",
                    "--recipe",
                    "role",
                    "--name",
                    "OrgAccess",
                ][..],
                extra,
                &["--profile", "orgadmin"],
            ]
            .concat(),
        )
    };

    assert_fails(&apply(&[]), 2, "role OrgAccess");
    assert_eq!(writes(&aws), 0);
    let asked = apply(&["--adopt"]);
    assert_fails(
        &asked,
        2,
        "rewrites the trust of role OrgAccess, which you act through",
    );
    assert_eq!(writes(&aws), 0);
    let undo = line_after(&stderr(&asked), "aws iam update-assume-role-policy").to_string();
    assert!(
        undo.starts_with(" --role-name 'OrgAccess' --policy-document '{"),
        "{undo}"
    );

    let applied = apply(&["--adopt", "--yes"]);
    assert!(applied.status.success(), "{}", stderr(&applied));
    let tags = iam_admin(&sandbox, &["list-role-tags", "--role-name", "OrgAccess"]);
    assert_eq!(tags["Tags"], json!([{"Key": "managed-by", "Value": "mfa"}]));
    run_undo(
        &sandbox,
        &format!(
            "aws iam update-assume-role-policy{}",
            line_after(
                &stderr(&applied),
                "mfa: to undo: aws iam update-assume-role-policy"
            )
        ),
    );
    let role = iam_admin(&sandbox, &["get-role", "--role-name", "OrgAccess"]);
    assert_eq!(role["Role"]["AssumeRolePolicyDocument"], foreign);
}

#[test]
fn audit_flags_exactly_the_users_whose_keys_work_without_mfa() {
    let (aws, sandbox) = setup();
    // Keys and nothing requiring MFA: flagged (admin too).
    create_iam_user(&sandbox, "keys-only");
    // Keys, and a boundary / a deny group / an own policy that require MFA.
    create_iam_user(&sandbox, "bounded");
    create_iam_user(&sandbox, "denied");
    create_iam_user(&sandbox, "own-policy");
    // No keys, or only an inactive one.
    user(&sandbox, "console-only");
    iam_admin(
        &sandbox,
        &[
            "create-login-profile",
            "--user-name",
            "console-only",
            "--password",
            "Secret-Pa55word!",
        ],
    );
    let (inactive, _) = create_iam_user(&sandbox, "inactive");
    iam_admin(
        &sandbox,
        &[
            "update-access-key",
            "--user-name",
            "inactive",
            "--access-key-id",
            &inactive,
            "--status",
            "Inactive",
        ],
    );
    assert!(
        enforce(
            &sandbox,
            &["apply", "--recipe", "boundary", "--users", "bounded"]
        )
        .status
        .success()
    );
    assert!(
        enforce(
            &sandbox,
            &["apply", "--recipe", "deny", "--users", "denied"]
        )
        .status
        .success()
    );
    // AWS's own example's shape: everything but named set-up actions denied.
    let own = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Deny",
        "NotAction": ["iam:ListMFADevices", "iam:EnableMFADevice", "sts:GetSessionToken"], "Resource": "*",
        "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}}]});
    let created = iam_admin(
        &sandbox,
        &[
            "create-policy",
            "--policy-name",
            "own",
            "--policy-document",
            &own.to_string(),
        ],
    );
    iam_admin(
        &sandbox,
        &[
            "attach-user-policy",
            "--user-name",
            "own-policy",
            "--policy-arn",
            created["Policy"]["Arn"].as_str().unwrap(),
        ],
    );

    // The role recipe's group: its members' keys reach only a role that
    // needs MFA (roled); bob's keys also have everything allowed by a
    // policy of his own, and the group's Allow-with-MFA changes nothing.
    create_iam_user(&sandbox, "roled");
    create_iam_user(&sandbox, "bob");
    let everything = iam_admin(
        &sandbox,
        &[
            "create-policy",
            "--policy-name",
            "everything",
            "--policy-document",
            r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}"#,
        ],
    );
    iam_admin(
        &sandbox,
        &[
            "attach-user-policy",
            "--user-name",
            "bob",
            "--policy-arn",
            everything["Policy"]["Arn"].as_str().unwrap(),
        ],
    );
    let role = enforce(
        &sandbox,
        &["apply", "--recipe", "role", "--users", "roled", "bob"],
    );
    assert!(role.status.success(), "{}", stderr(&role));

    let out = enforce(&sandbox, &["audit", "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout).expect("the audit is JSON");
    let users = report.as_array().unwrap();
    let mut flagged: Vec<&str> = users
        .iter()
        .filter(|u| u["flagged"] == true)
        .filter_map(|u| u["user"].as_str())
        .collect();
    flagged.sort();
    assert_eq!(flagged, ["admin", "bob", "keys-only"]);
    assert_eq!(users.len(), 9, "every user, across pages: {report}");
    let find = |name: &str| users.iter().find(|u| u["user"] == name).unwrap().clone();
    assert_eq!(
        find("bounded")["mfa_required_by"],
        json!([format!(
            "boundary arn:aws:iam::{ACCOUNT}:policy/mfa-required"
        )])
    );
    assert_eq!(
        find("denied")["mfa_required_by"],
        json!([format!(
            "group deny-without-mfa-users: policy arn:aws:iam::{ACCOUNT}:policy/deny-without-mfa"
        )])
    );
    assert_eq!(
        find("own-policy")["mfa_required_by"],
        json!([format!("policy arn:aws:iam::{ACCOUNT}:policy/own")])
    );
    assert_eq!(
        find("roled")["mfa_required_by"],
        json!([format!(
            "trust of role arn:aws:iam::{ACCOUNT}:role/mfa-admin (all the keys reach)"
        )])
    );
    assert_eq!(find("bob")["mfa_required_by"], json!([]));
    assert_eq!(find("console-only")["console_password"], true);
    assert_eq!(find("console-only")["access_keys"], json!([]));
    assert_eq!(find("inactive")["access_keys"][0]["active"], false);
    assert_eq!(find("keys-only")["access_keys"][0]["age_days"], 0);
    let said = stderr(&out);
    let line = said
        .lines()
        .find_map(|l| l.strip_prefix("mfa: flagged (access keys and nothing requiring MFA): "))
        .unwrap_or_else(|| panic!("{said}"));
    let mut named: Vec<&str> = line.split(", ").collect();
    named.sort();
    assert_eq!(named, ["admin", "bob", "keys-only"], "{said}");

    let text = enforce(&sandbox, &["audit"]);
    assert_eq!(text.status.code(), Some(1));
    let table = stdout(&text);
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("keys-only") && l.contains("FLAGGED")),
        "{table}"
    );
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("denied") && l.contains(" ok ")),
        "{table}"
    );

    // Nothing flagged: exit 0.
    let _ = aws;
    for name in ["admin", "keys-only", "bob"] {
        assert!(
            enforce(
                &sandbox,
                &[
                    "apply",
                    "--recipe",
                    "boundary",
                    "--name",
                    "mfa-required",
                    "--users",
                    name,
                    "--yes"
                ]
            )
            .status
            .success()
        );
    }
    let clean = enforce(&sandbox, &["audit"]);
    assert!(clean.status.success(), "{}", stdout(&clean));
}

#[test]
fn onboard_prints_a_profile_that_works_with_mfa_env_and_writes_nothing() {
    let (aws, sandbox) = setup();
    iam_admin(&sandbox, &["create-group", "--group-name", "staff"]);
    let files = |s: &Sandbox| {
        (
            std::fs::read_to_string(s.home.join(".aws/config")).unwrap(),
            std::fs::read_to_string(s.home.join(".aws/credentials")).unwrap(),
        )
    };
    let before = files(&sandbox);
    let out = sandbox.run(&["onboard", "grace", "--group", "staff", "--profile", "admin"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(files(&sandbox), before, "nothing on disk");
    let printed = stdout(&out);
    let (config, credentials) = printed
        .split_once("# ~/.aws/credentials\n")
        .expect("a credentials block");
    let secret = credentials
        .lines()
        .find_map(|l| l.strip_prefix("aws_secret_access_key = "))
        .expect("the secret");
    let key_id = credentials
        .lines()
        .find_map(|l| l.strip_prefix("aws_access_key_id = "))
        .expect("the key id");
    assert!(!stderr(&out).contains(secret), "the secret on stdout only");
    assert!(
        printed.contains("mfa device create grace --profile grace"),
        "{printed}"
    );
    let groups = iam_admin(&sandbox, &["list-groups-for-user", "--user-name", "grace"]);
    assert_eq!(groups["Groups"][0]["GroupName"], "staff");

    // Grace's machine: the printed blocks, as they are.
    let grace = Sandbox::new(&aws);
    grace.config(config).credentials(credentials);
    let env = grace.run(&["env", "grace", "--shell", "bash"]);
    assert!(env.status.success(), "{}", stderr(&env));
    assert!(
        stdout(&env).contains("export AWS_SESSION_TOKEN="),
        "{}",
        stdout(&env)
    );
    let gst = aws.last_call("GetSessionToken");
    assert_eq!(gst["root_access_key_id"], key_id);
    assert_eq!(gst["status"], 200);

    // A second key is fine; a third is refused before anything changes.
    assert!(
        sandbox
            .run(&["onboard", "grace", "--profile", "admin"])
            .status
            .success()
    );
    let keys = aws.count("CreateAccessKey");
    let refused = sandbox.run(&["onboard", "grace", "--profile", "admin"]);
    assert_fails(&refused, 1, "already has 2 access keys");
    assert_eq!(aws.count("CreateAccessKey"), keys);

    let no_group = sandbox.run(&["onboard", "heidi", "--group", "nope", "--profile", "admin"]);
    assert_fails(&no_group, 1, "no IAM group named `nope`");
    assert_eq!(
        aws.count("CreateUser"),
        2,
        "admin's and grace's; not heidi's"
    );
}

#[test]
fn onboard_deletes_the_new_key_when_its_profile_cannot_be_written() {
    let (aws, sandbox) = setup();
    let keys_of = |user: &str| {
        iam_admin(&sandbox, &["list-access-keys", "--user-name", user])["AccessKeyMetadata"]
            .as_array()
            .map_or(0, Vec::len)
    };
    let onboard = |stdout: std::process::Stdio, close_stdout: bool| {
        let mut command = sandbox.command(env!("CARGO_BIN_EXE_mfa"));
        command
            .args(["onboard", "carol", "--profile", "admin"])
            .stdout(stdout)
            .stderr(std::process::Stdio::piped());
        let mut child = command.spawn().expect("mfa runs");
        if close_stdout {
            // `mfa onboard carol | true`: the reader is gone before the write.
            drop(child.stdout.take());
        }
        child.wait_with_output().expect("mfa ends")
    };

    let (created, deleted) = (aws.count("CreateAccessKey"), aws.count("DeleteAccessKey"));
    let piped_to_nobody = onboard(std::process::Stdio::piped(), true);
    assert_eq!(
        piped_to_nobody.status.code(),
        Some(1),
        "{}",
        stderr(&piped_to_nobody)
    );
    assert!(
        stderr(&piped_to_nobody).contains("was deleted again"),
        "{}",
        stderr(&piped_to_nobody)
    );
    assert_eq!(aws.count("CreateAccessKey"), created + 1);
    assert_eq!(aws.count("DeleteAccessKey"), deleted + 1);
    assert_eq!(keys_of("carol"), 0, "no key left that nobody has");

    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full");
    let disk_full = onboard(full.into(), false);
    assert_eq!(disk_full.status.code(), Some(1), "{}", stderr(&disk_full));
    assert!(
        stderr(&disk_full).contains("was deleted again"),
        "{}",
        stderr(&disk_full)
    );
    assert_eq!(keys_of("carol"), 0);

    // Nothing is left over: two keys can still be made, as IAM allows.
    for _ in 0..2 {
        let out = sandbox.run(&["onboard", "carol", "--profile", "admin"]);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    assert_eq!(keys_of("carol"), 2);
}

#[test]
fn templates_pass_cfn_lint_and_parse_as_hcl_without_calling_aws() {
    // Nothing listens here: a template needs no AWS.
    let sandbox = Sandbox::with_endpoint("http://127.0.0.1:9".into());
    let dir = tempfile::tempdir().unwrap();
    let python = std::env::var("MFA_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    for recipe in [
        vec![
            "--recipe",
            "role",
            "--policy",
            "arn:aws:iam::aws:policy/ReadOnlyAccess",
            "--users",
            "alice",
        ],
        vec!["--recipe", "boundary", "--users", "alice"],
        vec![
            "--recipe", "deny", "--group", "staff", "--users", "alice", "bob",
        ],
    ] {
        let cfn = sandbox.run(
            &[
                &["enforce", "plan"],
                &recipe[..],
                &["--format", "cloudformation"],
            ]
            .concat(),
        );
        assert!(cfn.status.success(), "{}", stderr(&cfn));
        let template: Value = serde_json::from_slice(&cfn.stdout).expect("JSON template");
        assert!(mfa_condition(&template["Resources"]), "{template}");
        let path = dir.path().join(format!("{}.json", recipe[1]));
        std::fs::write(&path, &cfn.stdout).unwrap();
        let lint = std::process::Command::new("cfn-lint")
            .arg(&path)
            .output()
            .expect("cfn-lint (scripts/venv installs it)");
        assert!(
            lint.status.success(),
            "cfn-lint on the {} template: {}{}",
            recipe[1],
            stdout(&lint),
            stderr(&lint)
        );

        let tf = sandbox.run(
            &[
                &["enforce", "plan"],
                &recipe[..],
                &["--format", "terraform"],
            ]
            .concat(),
        );
        assert!(tf.status.success(), "{}", stderr(&tf));
        let path = dir.path().join(format!("{}.tf", recipe[1]));
        std::fs::write(&path, &tf.stdout).unwrap();
        let parsed = std::process::Command::new(&python)
            .args([
                "-c",
                "import hcl2, json, sys; print(json.dumps(hcl2.load(open(sys.argv[1]))))",
            ])
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            parsed.status.success(),
            "python-hcl2 on the {} configuration: {}",
            recipe[1],
            stderr(&parsed)
        );
        let hcl: Value = serde_json::from_slice(&parsed.stdout).unwrap();
        assert!(
            hcl["resource"].as_array().is_some_and(|r| !r.is_empty()),
            "{hcl}"
        );
    }
    let boundary = sandbox.run(&[
        "enforce",
        "plan",
        "--recipe",
        "boundary",
        "--users",
        "alice",
        "--format",
        "terraform",
    ]);
    assert!(
        stderr(&boundary).contains("alice left out"),
        "{}",
        stderr(&boundary)
    );
    let apply = sandbox.run(&[
        "enforce",
        "apply",
        "--recipe",
        "deny",
        "--format",
        "terraform",
    ]);
    assert_fails(&apply, 2, "apply takes --format text or json");
}

#[test]
fn bad_requests_are_usage_errors_before_any_call() {
    let sandbox = Sandbox::with_endpoint("http://127.0.0.1:9".into());
    for (args, needle) in [
        (
            vec!["--recipe", "boundary", "--group", "g"],
            "uses no group",
        ),
        (
            vec![
                "--recipe",
                "deny",
                "--policy",
                "arn:aws:iam::aws:policy/ReadOnlyAccess",
            ],
            "only --recipe role",
        ),
        (
            vec!["--recipe", "role", "--policy", "ReadOnlyAccess"],
            "managed policy's ARN",
        ),
        (
            vec!["--recipe", "role", "--name", "a/b"],
            "--name must be an IAM name",
        ),
        (
            vec!["--recipe", "deny", "--users", "a b"],
            "no IAM user name",
        ),
    ] {
        let out = sandbox.run(&[&["enforce", "plan"], &args[..]].concat());
        assert_fails(&out, 2, needle);
    }
    assert_fails(&sandbox.run(&["onboard", "a:b"]), 2, "no IAM user name");

    // A user named twice is added once.
    let twice = sandbox.run(&[
        "enforce",
        "plan",
        "--recipe",
        "deny",
        "--users",
        "bob",
        "alice",
        "bob",
        "--format",
        "cloudformation",
    ]);
    assert!(twice.status.success(), "{}", stderr(&twice));
    let template: Value = serde_json::from_slice(&twice.stdout).unwrap();
    assert_eq!(
        template["Resources"]["DenyWithoutMfaUsersMembers"]["Properties"]["Users"],
        json!(["bob", "alice"])
    );
}
