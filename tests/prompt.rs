//! The code prompt, through a real pseudo-terminal: asked on the terminal
//! (never stdout), asked again for a malformed code, three tries when STS
//! rejects one.

mod support;

use rexpect::session::spawn_command;
use support::*;

/// `mfa ARGS` in a pseudo-terminal, its stdout to a file, then `EXIT=<status>`.
fn spawn_in_terminal(sandbox: &Sandbox, args: &str) -> rexpect::session::PtySession {
    let bin = env!("CARGO_BIN_EXE_mfa");
    let out = sandbox.path("stdout");
    let mut command = sandbox.command("sh");
    command.arg("-c").arg(format!(
        "'{bin}' {args} > '{}'; echo EXIT=$?",
        out.display()
    ));
    spawn_command(command, Some(30_000)).expect("spawn in a pseudo-terminal")
}

fn setup() -> (FakeAws, Sandbox) {
    let aws = FakeAws::start();
    let sandbox = Sandbox::new(&aws);
    sandbox
        .config(&standard_config())
        .credentials(&standard_credentials());
    aws.set_codes(SERIAL, &["424242"]);
    (aws, sandbox)
}

#[test]
fn the_terminal_is_asked_again_for_a_malformed_code_then_a_rejected_one() {
    let (aws, sandbox) = setup();
    let mut term = spawn_in_terminal(&sandbox, "env admin --shell bash");
    let question = format!("MFA code for {SERIAL} (admin): ");
    term.exp_string(&question).unwrap();
    term.send_line("12 34").unwrap();
    term.exp_string("six digits").unwrap();
    term.exp_string(&question).unwrap();
    term.send_line("111111").unwrap();
    term.exp_string("not accepted; 2 more tries").unwrap();
    term.exp_string(&question).unwrap();
    term.send_line("424242").unwrap();
    term.exp_string("EXIT=0").unwrap();

    let out = std::fs::read_to_string(sandbox.path("stdout")).unwrap();
    assert!(out.contains("export AWS_SESSION_TOKEN="), "{out}");
    assert!(
        !out.contains("MFA code"),
        "the question never goes to stdout"
    );
    let calls = aws.calls();
    let statuses: Vec<_> = calls
        .iter()
        .filter(|c| c["action"] == "GetSessionToken")
        .map(|c| {
            (
                c["token_code"].as_str().unwrap().to_string(),
                c["status"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        vec![("111111".to_string(), 403), ("424242".to_string(), 200)]
    );
    assert_eq!(aws.count("AssumeRole"), 1);
}

#[test]
fn three_rejected_codes_end_the_run_with_empty_stdout() {
    let (aws, sandbox) = setup();
    let mut term = spawn_in_terminal(&sandbox, "credential-process admin");
    for code in ["111111", "222222", "333333"] {
        term.exp_string("MFA code for").unwrap();
        term.send_line(code).unwrap();
    }
    term.exp_string("not accepted").unwrap();
    term.exp_string("EXIT=1").unwrap();
    assert_eq!(std::fs::read_to_string(sandbox.path("stdout")).unwrap(), "");
    assert_eq!(aws.calls().iter().filter(|c| c["status"] == 403).count(), 3);
}

#[test]
fn end_of_input_at_the_question_fails_cleanly() {
    let (_aws, sandbox) = setup();
    let mut term = spawn_in_terminal(&sandbox, "env alice");
    term.exp_string("MFA code for").unwrap();
    term.send_control('d').unwrap();
    term.exp_string("no MFA code given").unwrap();
    term.exp_string("EXIT=1").unwrap();
    assert_eq!(std::fs::read_to_string(sandbox.path("stdout")).unwrap(), "");
}
