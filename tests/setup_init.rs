//! Issue 11, item 6: `mfa setup` ends by offering to add the line that
//! loads the hook (and completion's) to the shell's start-up file — asked
//! on the terminal, appended once, every other byte kept, the file's mode
//! kept, a symlinked file edited where it lives — and the line really
//! loads the hook in the real shell. Scripts (`--yes`) get the lines on
//! stderr, and the file is left alone.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Stdio;

use rexpect::session::{PtySession, spawn_command};
use support::*;

const BASH_LINES: &str = "eval \"$(mfa init bash)\"\neval \"$(mfa completions bash)\"\n";
const ADD_QUESTION: &str = "to the end of ";

/// A sandbox whose profile `alice` has keys: setup with every answer given
/// as a flag asks nothing of AWS (no server needed).
fn sandbox() -> Sandbox {
    let sandbox = Sandbox::with_endpoint("http://127.0.0.1:9".into());
    sandbox
        .config(&standard_config())
        .credentials(&standard_credentials());
    sandbox
}

const SETUP: [&str; 9] = [
    "setup",
    "--profile",
    "alice",
    "--role-arn",
    "",
    "--mfa-serial",
    SERIAL,
    "--region",
    "eu-north-1",
];

/// The directory of the binary under test, first on PATH: the lines say
/// `mfa`, and the shells that source them must find it.
fn path_with_mfa() -> String {
    let bin = Path::new(env!("CARGO_BIN_EXE_mfa")).parent().unwrap();
    format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// `mfa setup` in a pseudo-terminal, with a umask of 022 as most users
/// have, past its "Write this?" question.
fn setup_at_terminal(sandbox: &Sandbox, vars: &[(&str, &str)]) -> PtySession {
    let mut command = sandbox.command("sh");
    command
        .args([
            "-c",
            "umask 022 && exec \"$0\" \"$@\"",
            env!("CARGO_BIN_EXE_mfa"),
        ])
        .args(SETUP)
        .env("PATH", path_with_mfa())
        .stdin(Stdio::inherit());
    for (name, value) in vars {
        command.env(name, value);
    }
    let mut term = spawn_command(command, Some(30_000)).expect("start mfa setup");
    term.exp_string("Write this? [Y/n] ").unwrap();
    term.send_line("y").unwrap();
    term.exp_string("profile `alice` is ready").unwrap();
    term
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn yes_appends_the_lines_once_keeping_every_byte_and_the_mode() {
    let sandbox = sandbox();
    let bashrc = sandbox.path(".bashrc");
    // No newline at the end, a CRLF line, text that is not ASCII.
    let before = "# my bashrc — keep\r\nalias ll='ls -l'\n\nexport EDITOR=vi";
    std::fs::write(&bashrc, before).unwrap();
    std::fs::set_permissions(&bashrc, std::fs::Permissions::from_mode(0o640)).unwrap();

    let mut term = setup_at_terminal(&sandbox, &[("MFA_SHELL", "bash")]);
    let (shown, _) = term
        .exp_regex(r"Add these lines to the end of ~/\.bashrc\? \[Y/n\] ")
        .unwrap();
    // The exact lines (the terminal ends each with CR LF).
    assert!(
        shown.contains("  eval \"$(mfa init bash)\"\r\n  eval \"$(mfa completions bash)\"\r\n"),
        "{shown}"
    );
    term.send_line("y").unwrap();
    let rest = term.exp_eof().unwrap();
    assert!(rest.contains("added to ~/.bashrc"), "{rest}");
    assert_eq!(
        std::fs::read_to_string(&bashrc).unwrap(),
        format!("{before}\n{BASH_LINES}")
    );
    assert_eq!(mode(&bashrc), 0o640);

    // Again: not asked, not appended twice.
    let mut term = setup_at_terminal(&sandbox, &[("MFA_SHELL", "bash")]);
    let rest = term.exp_eof().unwrap();
    assert!(
        rest.contains("~/.bashrc already has an `mfa init` line (line 5)"),
        "{rest}"
    );
    assert!(!rest.contains(ADD_QUESTION), "asked again: {rest}");
    assert_eq!(
        std::fs::read_to_string(&bashrc).unwrap(),
        format!("{before}\n{BASH_LINES}")
    );
}

#[test]
fn no_leaves_the_file_as_it_was() {
    let sandbox = sandbox();
    let bashrc = sandbox.path(".bashrc");
    std::fs::write(&bashrc, "PS1='$ '\n").unwrap();
    let mut term = setup_at_terminal(&sandbox, &[("MFA_SHELL", "bash")]);
    term.exp_string("Add these lines to the end of ~/.bashrc? [Y/n] ")
        .unwrap();
    term.send_line("n").unwrap();
    let rest = term.exp_eof().unwrap();
    assert!(rest.contains("~/.bashrc not changed"), "{rest}");
    assert_eq!(std::fs::read_to_string(&bashrc).unwrap(), "PS1='$ '\n");
    assert_eq!(files_in(&sandbox.home), [".aws", ".bashrc"]);
}

/// The written bashrc, sourced by a real interactive bash, makes `mfa` the
/// hook's function and registers completion for it.
#[test]
fn the_written_line_loads_the_hook_in_a_real_bash() {
    let sandbox = sandbox();
    let mut term = setup_at_terminal(&sandbox, &[("MFA_SHELL", "bash")]);
    term.exp_string(ADD_QUESTION).unwrap();
    term.send_line("").unwrap();
    term.exp_eof().unwrap();
    let bashrc = sandbox.path(".bashrc");
    assert_eq!(std::fs::read_to_string(&bashrc).unwrap(), BASH_LINES);
    assert_eq!(mode(&bashrc), 0o644);

    let out = sandbox
        .command("bash")
        .env("PATH", path_with_mfa())
        .arg("--rcfile")
        .arg(&bashrc)
        .args(["-i", "-c", "type -t mfa; complete -p mfa"])
        .output()
        .unwrap();
    let text = stdout(&out);
    assert!(text.starts_with("function\n"), "{text}{}", stderr(&out));
    assert!(
        text.contains(" mfa\n") && text.contains("complete "),
        "{text}"
    );
}

/// zsh's file is `$ZDOTDIR/.zshrc`, the shell found from `$SHELL` as `mfa
/// env` finds it; with no `compinit` there, completion's line (which needs
/// it) is not added.
#[test]
fn zsh_writes_into_zdotdir_and_the_hook_loads() {
    let sandbox = sandbox();
    let zdotdir = sandbox.path("zdot");
    let mut term = setup_at_terminal(
        &sandbox,
        &[
            ("SHELL", "/usr/bin/zsh"),
            ("ZDOTDIR", zdotdir.to_str().unwrap()),
        ],
    );
    term.exp_string(
        "eval \"$(mfa init zsh)\"\r\nAdd this line to the end of ~/zdot/.zshrc? [Y/n] ",
    )
    .unwrap();
    term.send_line("yes").unwrap();
    term.exp_eof().unwrap();
    assert!(!sandbox.path(".zshrc").exists());
    let zshrc = zdotdir.join(".zshrc");
    assert_eq!(
        std::fs::read_to_string(&zshrc).unwrap(),
        "eval \"$(mfa init zsh)\"\n"
    );
    assert_eq!(mode(&zshrc), 0o644);
    assert_eq!(mode(&zdotdir), 0o755);

    let out = sandbox
        .command("zsh")
        .env("PATH", path_with_mfa())
        .env("ZDOTDIR", &zdotdir)
        .args(["-i", "-c", "whence -w mfa"])
        .output()
        .unwrap();
    assert_eq!(stdout(&out), "mfa: function\n", "{}", stderr(&out));
}

/// fish's file is in `~/.config/fish`, made (0755, as fish makes it) when
/// missing; the new file is 0644; fish loads the hook and completion.
#[test]
fn fish_creates_its_config_directory_and_the_hook_loads() {
    let sandbox = sandbox();
    let mut term = setup_at_terminal(&sandbox, &[("MFA_SHELL", "fish")]);
    term.exp_string("Add these lines to the end of ~/.config/fish/config.fish? [Y/n] ")
        .unwrap();
    term.send_line("y").unwrap();
    term.exp_eof().unwrap();
    let config = sandbox.path(".config/fish/config.fish");
    assert_eq!(
        std::fs::read_to_string(&config).unwrap(),
        "mfa init fish | source\nmfa completions fish | source\n"
    );
    assert_eq!(mode(&config), 0o644);
    assert_eq!(mode(&sandbox.path(".config")), 0o755);
    assert_eq!(mode(&sandbox.path(".config/fish")), 0o755);

    let out = sandbox
        .command("fish")
        .env("PATH", path_with_mfa())
        .args(["-i", "-c", "type -t mfa; complete -c mfa"])
        .output()
        .unwrap();
    let text = stdout(&out);
    assert!(text.starts_with("function\n"), "{text}{}", stderr(&out));
    assert!(text.contains("COMPLETE=fish"), "{text}");
}

/// A start-up file that is a link (stow, chezmoi): the lines go into the
/// file it points to, the link stays, and the temporary file and the lock
/// are made beside the real file.
#[test]
fn a_linked_start_up_file_is_edited_where_it_lives() {
    let sandbox = sandbox();
    let dotfiles = sandbox.path("dotfiles");
    std::fs::create_dir(&dotfiles).unwrap();
    let real = dotfiles.join("bashrc");
    std::fs::write(&real, "set -o vi\n").unwrap();
    let link = sandbox.path(".bashrc");
    std::os::unix::fs::symlink(&real, &link).unwrap();

    let mut term = setup_at_terminal(&sandbox, &[("MFA_SHELL", "bash")]);
    term.exp_string(ADD_QUESTION).unwrap();
    term.send_line("y").unwrap();
    term.exp_eof().unwrap();
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(
        std::fs::read_to_string(&real).unwrap(),
        format!("set -o vi\n{BASH_LINES}")
    );
    assert_eq!(files_in(&dotfiles), [".bashrc.mfa-lock", "bashrc"]);
    assert_eq!(files_in(&sandbox.home), [".aws", ".bashrc", "dotfiles"]);
}

/// A script (`--yes`, no terminal) never edits a start-up file: the lines
/// to add are on stderr, and stdout stays empty.
#[test]
fn a_script_gets_the_lines_on_stderr_and_no_file_is_touched() {
    let sandbox = sandbox();
    let out = sandbox
        .mfa()
        .args(SETUP)
        .arg("--yes")
        .env("MFA_SHELL", "bash")
        .env("PATH", sandbox.path("no-bin"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(out.stdout.is_empty(), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(
        err.contains(
            "add to ~/.bashrc:\n  eval \"$(mfa init bash)\"\n  eval \"$(mfa completions bash)\"\n"
        ),
        "{err}"
    );
    assert!(err.contains("`mfa` is not on PATH"), "{err}");
    assert_eq!(files_in(&sandbox.home), [".aws"]);

    // PowerShell's profile path is not guessed: the lines and where they go.
    let out = sandbox
        .mfa()
        .args(SETUP)
        .arg("--yes")
        .env("MFA_SHELL", "pwsh")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(
            "add to your PowerShell profile ($PROFILE):\n  mfa init powershell | Out-String | Invoke-Expression\n"
        ),
        "{}",
        stderr(&out)
    );
}

/// The file cannot be written (here its directory is in /proc, where not
/// even root makes files): the profile is still written, and mfa fails
/// (exit 1) with the lines to add by hand.
#[test]
fn a_start_up_file_that_cannot_be_written_fails_with_the_lines_to_add() {
    let sandbox = sandbox();
    let mut term = setup_at_terminal(&sandbox, &[("SHELL", "zsh"), ("ZDOTDIR", "/proc/self")]);
    term.exp_string(ADD_QUESTION).unwrap();
    term.send_line("y").unwrap();
    let rest = term.exp_eof().unwrap();
    assert!(
        rest.contains("the profile is written, but")
            && rest.contains("(add by hand: eval \"$(mfa init zsh)\")"),
        "{rest}"
    );
    assert_eq!(
        term.process.wait().unwrap(),
        rexpect::process::wait::WaitStatus::Exited(term.process.child_pid, 1)
    );
    assert!(
        std::fs::read_to_string(sandbox.home.join(".aws/config"))
            .unwrap()
            .contains("region = eu-north-1")
    );
}
