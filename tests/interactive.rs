//! Interactive bash and zsh in a real pseudo-terminal: the prompt shows the
//! session; when it expires with no cached MFA session, the next prompt
//! asks for a code on the terminal and the same shell gets fresh
//! credentials; Ctrl-C at that question leaves a working shell showing
//! `expired`, which does not ask again.

mod support;

use rexpect::session::{PtySession, spawn_command};
use support::*;

const FRESH: &str = r"\(admin (59m|1h00m)\) \$ ";

fn interactive(sandbox: &Sandbox, shell: &str) -> PtySession {
    let mut command = sandbox.command(shell);
    match shell {
        "zsh" => command.args(["-f", "-i"]),
        _ => command.args(["--norc", "--noprofile", "-i"]),
    };
    // The terminal is the pseudo-terminal: undo the harness's stdin.
    command
        .stdin(std::process::Stdio::inherit())
        .env("TERM", "dumb")
        .env("PS1", "$ ");
    let mut term =
        spawn_command(command, Some(30_000)).expect("start the shell in a pseudo-terminal");
    if shell == "zsh" {
        // No `%` marks or right prompts in the way.
        term.send_line(
            "unsetopt prompt_sp prompt_cr; unset zle_bracketed_paste; PROMPT='$ '; RPROMPT=",
        )
        .unwrap();
    }
    term.send_line(&format!(
        "eval \"$('{}' init {shell})\"",
        env!("CARGO_BIN_EXE_mfa")
    ))
    .unwrap();
    term
}

fn session_expires_then_renews_with_a_typed_code(shell: &str) {
    let aws = FakeAws::start();
    let sandbox = Sandbox::new(&aws);
    sandbox
        .config(&standard_config())
        .credentials(&standard_credentials());
    let mut term = interactive(&sandbox, shell);
    term.send_line("mfa use admin --token 123456").unwrap();
    term.exp_regex(FRESH).unwrap();

    // The session ends and so does the cached MFA session: the next prompt
    // asks for a code, on the terminal, before it is drawn.
    term.send_line("mfa clear --all; MFA_EXPIRES_AT=1").unwrap();
    term.exp_string(&format!("MFA code for {SERIAL} (admin): "))
        .unwrap();
    term.send_line("654321").unwrap();
    term.exp_regex(FRESH).unwrap();
    term.send_line("echo renewed=$(( MFA_EXPIRES_AT > 1000 ))")
        .unwrap();
    term.exp_string("renewed=1").unwrap();
    assert_eq!(
        aws.calls()
            .iter()
            .filter(|c| c["action"] == "GetSessionToken" && c["token_code"] == "654321")
            .count(),
        1,
        "{shell}: the typed code made the new MFA session"
    );

    // Again, and this time Ctrl-C at the question: the shell goes on,
    // shows `expired`, and does not ask at the next prompts.
    term.send_line("mfa clear --all; MFA_EXPIRES_AT=1").unwrap();
    term.exp_string("MFA code for").unwrap();
    term.send_control('c').unwrap();
    term.exp_regex(r"\(admin expired\) \$ ").unwrap();
    term.send_line("echo still-alive").unwrap();
    term.exp_string("still-alive").unwrap();
    term.exp_regex(r"\(admin expired\) \$ ").unwrap();
    term.send_line("echo and-again").unwrap();
    let (before, _) = term.exp_regex(r"\(admin expired\) \$ ").unwrap();
    assert!(
        !before.contains("MFA code"),
        "{shell}: asked again: {before}"
    );

    // A new `mfa use` lifts the block.
    term.send_line("mfa use admin --token 111222").unwrap();
    term.exp_regex(FRESH).unwrap();
    term.send_line("exit").unwrap();
    term.exp_eof().unwrap();
}

#[test]
fn bash_renews_in_place_and_survives_ctrl_c() {
    session_expires_then_renews_with_a_typed_code("bash");
}

#[test]
fn zsh_renews_in_place_and_survives_ctrl_c() {
    session_expires_then_renews_with_a_typed_code("zsh");
}
