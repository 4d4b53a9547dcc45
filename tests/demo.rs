//! scripts/demo as a newcomer runs it: the walk through the commands, and
//! `--shell`, a bash in a pseudo-terminal with the hook, completion and the
//! local STS. The demo is given this build's binary and the tests' python
//! (MFA_DEMO_BIN, MFA_DEMO_PYTHON), so it builds and installs nothing.

mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use rexpect::session::spawn_command;
use support::*;

fn demo() -> Command {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/demo");
    let python = std::env::var("MFA_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let mut command = Command::new(script);
    command
        .env("MFA_DEMO_BIN", env!("CARGO_BIN_EXE_mfa"))
        .env("MFA_DEMO_PYTHON", python)
        .env_remove("AWS_PROFILE")
        .env_remove("MFA_PROFILE");
    command
}

/// The lines a step printed: after its `$ COMMAND` header, up to the next.
fn step_output<'a>(text: &'a str, command: &str) -> Vec<&'a str> {
    text.lines()
        .skip_while(|line| !line.contains(&format!("$ {command}")))
        .skip(1)
        .take_while(|line| !line.contains("$ "))
        .filter(|line| !line.is_empty())
        .collect()
}

#[test]
fn the_walk_runs_every_step_and_its_shortened_secrets_are_still_shell_code() {
    let out = demo().stdin(Stdio::null()).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);

    let listed = step_output(&text, "mfa list").join("\n");
    assert!(
        listed.contains("admin") && listed.contains("readonly"),
        "{text}"
    );

    let readonly = step_output(&text, "mfa env readonly");
    let secrets: Vec<&&str> = readonly
        .iter()
        .filter(|l| l.contains("AWS_SECRET_ACCESS_KEY=") || l.contains("AWS_SESSION_TOKEN="))
        .collect();
    assert_eq!(secrets.len(), 2, "{text}");
    for line in secrets {
        assert!(line.contains('…'), "not cut short: {line}");
    }
    // Each line shown as `mfa env` output is still a whole bash statement
    // (one line alone: two open quotes in a row would pair up).
    for line in &readonly {
        let parsed = Command::new("bash")
            .args(["-n", "-c", line])
            .output()
            .unwrap();
        assert!(parsed.status.success(), "{line}\n{}", stderr(&parsed));
    }

    let exec = step_output(&text, "mfa exec admin").join("\n");
    assert!(exec.starts_with("admin until 20"), "{text}");
    let caller = step_output(&text, "aws sts get-caller-identity").join("\n");
    assert!(caller.contains("assumed-role/admin"), "{text}");
}

#[test]
fn the_shell_shows_the_countdown_completes_profiles_and_exit_stops_the_sts() {
    let mut command = demo();
    command.arg("--shell").env("TERM", "dumb");
    let mut term = spawn_command(command, Some(30_000)).unwrap();
    let (_, endpoint) = term
        .exp_regex(r"http://127\.0\.0\.1:\d+")
        .expect("the banner names the local STS");
    term.exp_string("exit").unwrap();

    term.send_line("mfa use admin").unwrap();
    term.exp_string("MFA code for arn:aws:iam::123456789012:mfa/alice")
        .unwrap();
    term.send_line("123456").unwrap();
    term.exp_regex(r"\(admin (1h00m|59m)\)").unwrap();
    // The AWS CLI runs with the session (and the profile's region) as set.
    term.send_line("aws sts get-caller-identity --query Arn --output text")
        .unwrap();
    term.exp_string("assumed-role/admin/").unwrap();

    // TAB completes the profile; then the line is turned into an echo.
    term.send("mfa env rea\t").unwrap();
    term.flush().unwrap();
    std::thread::sleep(Duration::from_millis(700));
    term.send_control('a').unwrap();
    term.send_line("echo completed: ").unwrap();
    term.exp_string("completed: mfa env readonly").unwrap();

    term.send_line("exit").unwrap();
    term.exp_eof().unwrap();
    let address = endpoint.trim_start_matches("http://");
    let stopped = (0..50).any(|_| {
        std::thread::sleep(Duration::from_millis(100));
        std::net::TcpStream::connect(address).is_err()
    });
    assert!(stopped, "the local STS at {address} still answers");
}
