//! The hostile-input suite: hostile profile names, role ARNs, regions,
//! aliases, prompt formats and files, through every generator (env, alias
//! in every mode, init's hooks, completion, prompt) in the real shells, and
//! through every command. It asserts what a user trusting mfa with AWS keys
//! relies on: nothing runs (every payload would create `./pwned` in the
//! shell's directory), a value arrives as one literal value, exit 0, 1 or 2
//! and never a panic or a hang, stdout empty on failure, no secret in a
//! message.
//!
//! To extend it: add a string to `NAMES` (valid profile names) or
//! `PAYLOADS` (anything else), a file to `hostile_files`, or a command to
//! `commands`; every check runs every entry.

#[path = "support/powershell.rs"]
mod powershell;
mod support;

use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use powershell::{PsStatement, parse_powershell};
use support::*;

/// Valid profile names (SPEC §1: `A-Za-z0-9 - / . % @ _ : +`) that look like
/// options, prompt escapes, format directives or paths.
const NAMES: &[&str] = &[
    "-h",
    "--help",
    "-V",
    "--version",
    "-",
    "-n",
    "-e",
    "%F%n%B%U%K%m%%",
    "%s%%%n",
    "+x",
    "@",
    ":",
    ".",
    "..",
    "a/../../b",
    "x@y:z/w+1%_",
];

/// Strings that run something if any shell ever reads them as code (each
/// would create `./pwned`), or that break words, globs and prompts.
const PAYLOADS: &[&str] = &[
    "x;touch pwned",
    "$(touch pwned)",
    "`touch pwned`",
    "';touch pwned;'",
    "\";touch pwned;\"",
    "x\ntouch pwned\n",
    "x\rtouch pwned",
    "x|touch pwned",
    "x&&touch pwned",
    "(touch pwned)",
    "{touch,pwned}",
    "\u{2019};touch pwned;\u{2018}",
    "%F{red}$(touch pwned)%f",
    "\\$(touch pwned)",
    "*",
    "?",
    "[a-z]*",
    "~",
    "$HOME",
    "${IFS}",
    "!!",
    "x #",
    " ",
    "",
    "'",
    "\"",
    "\\",
    "\u{1b}]0;title\u{7}\u{1b}[2J",
    "\u{7f}\u{1}\u{2}",
    "a b",
    "ünï 日本 😀",
];

/// Marks every secret in the files: no message may ever contain it.
const SECRET_MARK: &str = "SeCrEtMaRk";
const TOKEN_MARK: &str = "ToKeNMaRk";

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_mfa")
}

/// A sandbox, a local STS, stub programs that record what they were given,
/// and a jail directory that shells run in: a payload that ran leaves
/// `pwned` there.
struct Lab {
    _aws: FakeAws,
    sandbox: Sandbox,
    stubs: PathBuf,
    jail: PathBuf,
    out: PathBuf,
}

/// Records `MFA_PROFILE` and its arguments, NUL-separated, to $MFA_TEST_OUT.
const RECORDER: &str = "#!/bin/sh\n{ printf '%s\\000' \"${MFA_PROFILE-<unset>}\"; for a; do printf '%s\\000' \"$a\"; done; } > \"$MFA_TEST_OUT\"\n";

impl Lab {
    fn new() -> Lab {
        let aws = FakeAws::start();
        let sandbox = Sandbox::new(&aws);
        let stubs = sandbox.path("stubs");
        let jail = sandbox.path("jail");
        let out = sandbox.path("out");
        for dir in [&stubs, &jail, &out] {
            std::fs::create_dir_all(dir).unwrap();
        }
        for name in ["aws", "record", "fake-shell"] {
            let path = stubs.join(name);
            std::fs::write(&path, RECORDER).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        Lab {
            _aws: aws,
            sandbox,
            stubs,
            jail,
            out,
        }
    }

    fn path_var(&self) -> String {
        let bin_dir = Path::new(bin()).parent().unwrap();
        format!(
            "{}:{}:{}",
            self.stubs.display(),
            bin_dir.display(),
            std::env::var("PATH").unwrap_or_default()
        )
    }

    /// `mfa ARGS` in the jail, bounded in time, with the sandbox's files.
    fn mfa(&self, args: &[&str]) -> Output {
        self.mfa_with(args, &[])
    }

    fn mfa_with(&self, args: &[&str], vars: &[(&str, &str)]) -> Output {
        let mut command = self.sandbox.command("timeout");
        command
            .args(["--kill-after=5", "60", bin()])
            .args(args)
            .current_dir(&self.jail)
            .env("PATH", self.path_var())
            .env("MFA_TEST_OUT", self.out.join("record"))
            .env("MFA_TIMEOUT", "10")
            .env("MFA_LOCK_WAIT", "10");
        for (name, value) in vars {
            command.env(name, value);
        }
        detach_from_terminal(&mut command);
        let output = command.output().expect("run mfa");
        self.assert_nothing_ran(&format!("mfa {args:?}"));
        output
    }

    /// A script in a real shell, in the jail, without rc files, with the
    /// hook's renewal off.
    fn shell(&self, shell: &str, script: &str) -> Output {
        let output = self
            .shell_command(shell, script, false)
            .output()
            .expect("run the shell");
        self.assert_nothing_ran(&format!("{shell}: {script}"));
        output
    }

    /// A real shell as `shell` makes it, renewal on or off.
    fn shell_command(&self, shell: &str, script: &str, renew: bool) -> Command {
        let mut command = self.sandbox.command(shell);
        match shell {
            "fish" => command.args(["--no-config", "-c", script]),
            "zsh" => command.args(["-f", "-c", script]),
            _ => command.args(["--norc", "--noprofile", "-c", script]),
        };
        command
            .current_dir(&self.jail)
            .env("PATH", self.path_var())
            .env("MFA_TEST_OUT", self.out.join("record"))
            .env("MFA_AUTO_RENEW", if renew { "1" } else { "0" });
        detach_from_terminal(&mut command);
        command
    }

    fn assert_nothing_ran(&self, what: &str) {
        let left: Vec<_> = std::fs::read_dir(&self.jail)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert!(
            left.is_empty(),
            "something ran: {left:?} appeared in the jail after {what}"
        );
    }

    /// What the last recorder stub received: MFA_PROFILE, then its arguments.
    fn recorded(&self) -> Vec<String> {
        let path = self.out.join("record");
        let bytes = std::fs::read(&path).unwrap_or_default();
        let _ = std::fs::remove_file(&path);
        bytes
            .split(|b| *b == 0)
            .map(|s| String::from_utf8_lossy(s).into_owned())
            .collect::<Vec<_>>()
            .split_last()
            .map(|(_, init)| init.to_vec())
            .unwrap_or_default()
    }

    fn out_file(&self, name: &str) -> PathBuf {
        self.out.join(name)
    }
}

/// Profiles that need no code: `base` has long-term keys and no MFA
/// device, and each hostile name is a role on top of it.
fn config_with_names(names: &[&str], extra: &str) -> String {
    let mut config = String::from("[profile base]\nregion = eu-west-1\n\n");
    for name in names {
        config.push_str(&format!(
            "[profile {name}]\nrole_arn = {ADMIN_ROLE}\nsource_profile = base\n\n"
        ));
    }
    config.push_str(extra);
    config
}

fn base_credentials() -> String {
    format!(
        "[base]\naws_access_key_id = AKIABASEEXAMPLE\naws_secret_access_key = {SECRET_MARK}base\n"
    )
}

fn assert_clean_exit(output: &Output, what: &str) {
    let err = stderr(output);
    assert!(
        !err.contains("panicked") && !err.contains("RUST_BACKTRACE"),
        "{what} panicked: {err}"
    );
    let code = output.status.code();
    assert!(
        matches!(code, Some(0..=2)),
        "{what}: exit {:?} (124 is a hang); stderr: {err}",
        output.status
    );
    // `mfa doctor` exits 1 when a check fails, its report being the product.
    let report = what.contains("doctor") && code == Some(1);
    if code != Some(0) && !report {
        assert!(
            output.stdout.is_empty(),
            "{what} failed but printed on stdout: {}",
            stdout(output)
        );
    }
    for mark in [SECRET_MARK, TOKEN_MARK] {
        assert!(!err.contains(mark), "{what}: a secret in a message: {err}");
    }
}

const SHELLS: [&str; 3] = ["bash", "zsh", "fish"];

/// `mfa env` for every hostile name, evaluated in every shell: MFA_PROFILE
/// holds the name byte for byte and nothing ran. PowerShell's output is
/// parsed and decoded by its own rules.
#[test]
fn hostile_names_reach_every_shell_as_one_value() {
    let lab = Lab::new();
    lab.sandbox
        .config(&config_with_names(NAMES, ""))
        .credentials(&base_credentials());
    for shell in SHELLS {
        let mut script = String::new();
        for (i, name) in NAMES.iter().enumerate() {
            let out = lab.mfa(&["env", "--shell", shell, "--", name]);
            assert_clean_exit(&out, &format!("env -- {name}"));
            assert!(out.status.success(), "env {name}: {}", stderr(&out));
            script.push_str(&stdout(&out));
            script.push_str(&format!(
                "\nprintf '%s' \"$MFA_PROFILE\" > '{}'\n",
                lab.out_file(&format!("{shell}-{i}")).display()
            ));
        }
        let evaluated = lab.shell(shell, &script);
        assert!(
            evaluated.status.success(),
            "{shell}: {}",
            stderr(&evaluated)
        );
        for (i, name) in NAMES.iter().enumerate() {
            let got = std::fs::read(lab.out_file(&format!("{shell}-{i}"))).unwrap();
            assert_eq!(got, name.as_bytes(), "{shell}: MFA_PROFILE for {name:?}");
        }
    }
    for name in NAMES {
        let out = lab.mfa(&["env", "--shell", "powershell", "--", name]);
        assert!(out.status.success(), "{}", stderr(&out));
        let statements = parse_powershell(&stdout(&out)).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            statements.contains(&PsStatement::Set {
                name: "MFA_PROFILE".into(),
                value: name.to_string()
            }),
            "{name:?}: {statements:?}"
        );
    }
}

/// Payloads where a profile name, a role ARN or a shell is expected: a clean
/// refusal (stdout empty), never code.
#[test]
fn payloads_as_arguments_are_refused_cleanly() {
    let lab = Lab::new();
    lab.sandbox
        .config(&config_with_names(&["safe"], ""))
        .credentials(&base_credentials());
    for payload in PAYLOADS {
        for args in [
            vec!["env", "--", payload],
            vec!["credential-process", "--", payload],
            vec!["show", "--", payload],
            vec!["clear", "--", payload],
            vec!["write", "--", payload],
            vec!["exec", "--", payload, "--", "record"],
            vec!["env", "safe", "--role-arn", payload],
            vec!["env", "safe", "--duration", payload],
            vec!["env", "safe", "--token", payload],
            vec!["env", "safe", "--shell", payload],
            vec!["alias", "--prefix", payload],
            vec!["init", payload],
            vec!["completions", payload],
        ] {
            let out = lab.mfa(&args);
            let what = format!("mfa {args:?}");
            assert_clean_exit(&out, &what);
            // A payload may be harmless where it is not needed (a code for
            // a profile without a device, a prefix made safe): then what
            // was printed is evaluated, and still nothing may run.
            if out.status.success() && !out.stdout.is_empty() {
                assert!(
                    matches!(args[0], "env" | "alias"),
                    "{what} succeeded: {}",
                    stdout(&out)
                );
                let evaluated = lab.shell("bash", &stdout(&out));
                assert!(evaluated.status.success(), "{what}: {}", stderr(&evaluated));
            }
        }
    }
}

/// `mfa alias` in every mode and shell with hostile names, hostile
/// `mfa_alias` values and names of builtins: the output evaluates in the
/// real shell to the end, nothing runs, and each command passes its profile
/// on as one literal value.
#[test]
fn aliases_pass_hostile_names_as_values_in_every_mode_and_shell() {
    let lab = Lab::new();
    // t0, t1, …: hostile profile names under plain alias names; then
    // payloads and builtins as alias names; `safe` last must survive them.
    let mut extra = String::new();
    for (i, payload) in PAYLOADS.iter().enumerate() {
        if payload.contains('\n') || payload.contains('\r') || payload.is_empty() {
            continue; // not representable as one config value
        }
        extra.push_str(&format!(
            "[profile p{i}]\nrole_arn = {ADMIN_ROLE}\nsource_profile = base\nmfa_alias = {payload}\n\n"
        ));
    }
    for builtin in [
        "cd", "eval", "coproc", "function", "exec", "set", "source", "exit",
    ] {
        extra.push_str(&format!(
            "[profile b-{builtin}]\nrole_arn = {ADMIN_ROLE}\nsource_profile = base\nmfa_alias = {builtin}\n\n"
        ));
    }
    extra.push_str(&format!(
        "[profile safe]\nrole_arn = {ADMIN_ROLE}\nsource_profile = base\n"
    ));
    let mut config = String::from("[profile base]\nregion = eu-west-1\n\n");
    for (i, name) in NAMES.iter().enumerate() {
        config.push_str(&format!(
            "[profile {name}]\nrole_arn = {ADMIN_ROLE}\nsource_profile = base\nmfa_alias = t{i}\n\n"
        ));
    }
    config.push_str(&extra);
    lab.sandbox.config(&config).credentials(&base_credentials());

    for shell in SHELLS {
        for mode in ["use", "exec", "shell"] {
            let out = lab.mfa(&["alias", "--shell", shell, "--mode", mode]);
            assert_clean_exit(&out, &format!("alias {shell} {mode}"));
            assert!(out.status.success(), "{}", stderr(&out));
            let definitions = lab.out_file(&format!("alias-{shell}-{mode}"));
            std::fs::write(&definitions, stdout(&out)).unwrap();
            let load = match shell {
                "fish" => format!(
                    "mfa init fish | source; source '{}'; or exit 7",
                    definitions.display()
                ),
                _ => format!(
                    "eval \"$(mfa init {shell})\"; . '{}' || exit 7",
                    definitions.display()
                ),
            };
            // Every builtin is still the shell's own.
            let sentinel = match shell {
                "fish" => "cd /; and test (pwd) = /; or exit 8; echo loaded",
                _ => "cd / && [ \"$(pwd)\" = / ] || exit 8; echo loaded",
            };
            let out = lab.shell(
                shell,
                &format!("{load}\n{sentinel}\ntype aws-safe >/dev/null || exit 9"),
            );
            assert!(
                out.status.success() && stdout(&out).contains("loaded"),
                "{shell} {mode}: {}\n{}",
                stderr(&out),
                stdout(&out)
            );
            // A user's own shell alias of the same name (Ubuntu's `ll`) is
            // no reason for the eval to stop: the definitions are not
            // alias-expanded.
            if shell != "fish" {
                let user_aliases = match shell {
                    "bash" => "shopt -s expand_aliases; alias aws-safe='echo mine' t0='echo mine'",
                    _ => "alias aws-safe='echo mine' t0='echo mine'",
                };
                let out = lab.shell(
                    shell,
                    &format!(
                        "{user_aliases}\n{load}\necho loaded\nunalias aws-safe; type aws-safe"
                    ),
                );
                assert!(
                    out.status.success() && stdout(&out).contains("loaded"),
                    "{shell} {mode} beside a user's aliases: {}\n{}",
                    stderr(&out),
                    stdout(&out)
                );
                assert!(
                    stdout(&out).contains("function"),
                    "{shell}: {}",
                    stdout(&out)
                );
            }
            for (i, name) in NAMES.iter().enumerate() {
                let call = match (shell, mode) {
                    ("fish", "use") => format!(
                        "t{i}; or exit 3; printf '%s' \"$MFA_PROFILE\" > '{}'",
                        lab.out_file("use").display()
                    ),
                    (_, "use") => format!(
                        "t{i} || exit 3; printf '%s' \"$MFA_PROFILE\" > '{}'",
                        lab.out_file("use").display()
                    ),
                    ("fish", "shell") => format!(
                        "set -x SHELL '{}'; t{i}",
                        lab.stubs.join("fake-shell").display()
                    ),
                    (_, "shell") => {
                        format!("SHELL='{}' t{i}", lab.stubs.join("fake-shell").display())
                    }
                    _ => format!("t{i} --flag 'a b' '$(touch pwned)'"),
                };
                let out = lab.shell(shell, &format!("{load}\n{call}"));
                assert!(
                    out.status.success(),
                    "{shell} {mode} t{i} ({name:?}): {}",
                    stderr(&out)
                );
                let profile = if mode == "use" {
                    String::from_utf8(std::fs::read(lab.out_file("use")).unwrap()).unwrap()
                } else {
                    let recorded = lab.recorded();
                    if mode == "exec" {
                        assert_eq!(
                            recorded[1..],
                            ["--flag", "a b", "$(touch pwned)"],
                            "{shell}: the arguments arrive as given"
                        );
                    }
                    recorded.first().cloned().unwrap_or_default()
                };
                assert_eq!(
                    &profile, name,
                    "{shell} {mode}: t{i} used the wrong profile"
                );
            }
        }
    }
    // PowerShell, which cannot run here: every mode parses without an
    // error, every function has a plain name, and each t{i} runs one
    // command whose word after the first `'--'` is its profile, decoded by
    // PowerShell's own rules.
    for mode in ["use", "exec", "shell"] {
        let out = lab.mfa(&["alias", "--shell", "powershell", "--mode", mode]);
        assert_clean_exit(&out, &format!("alias powershell {mode}"));
        let text = stdout(&out);
        assert_eq!(
            powershell::syntax_errors(&text),
            Vec::<String>::new(),
            "{text}"
        );
        let o = powershell::outline(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        for f in &o.functions {
            assert!(
                f.name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)),
                "powershell {mode}: function {:?}",
                f.name
            );
        }
        for (i, name) in NAMES.iter().enumerate() {
            let alias = format!("t{i}");
            assert_eq!(o.function(&alias).len(), 1, "powershell {mode}: {alias}");
            let commands: Vec<_> = o
                .commands
                .iter()
                .filter(|c| c.place.in_function(&alias))
                .collect();
            let [command] = commands.as_slice() else {
                panic!("powershell {mode}: {alias} runs {commands:?}");
            };
            let words: Vec<String> = command
                .elements
                .iter()
                .map(|e| {
                    if e.starts_with('\'') {
                        powershell::decode_verbatim_literal(e).unwrap_or_else(|e| panic!("{e}"))
                    } else {
                        e.clone()
                    }
                })
                .collect();
            let dashes = words.iter().position(|w| w == "--");
            assert_eq!(
                dashes.and_then(|at| words.get(at + 1)),
                Some(&name.to_string()),
                "powershell {mode}: {alias} passes {words:?}"
            );
        }
    }
}

/// The hooks with hostile values in the variables they read: the shell
/// survives, nothing runs, and the prompt shows the profile literally
/// (bash's `${PS1@P}`, zsh's prompt expansion with prompt_subst, fish's
/// prompt function).
#[test]
fn hooks_and_prompts_show_hostile_values_literally() {
    let lab = Lab::new();
    lab.sandbox
        .config(&config_with_names(&[], ""))
        .credentials(&base_credentials());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let later = (now + 3000).to_string();
    let expiries: Vec<String> = vec![
        later.clone(),
        "0".into(),
        "08".into(),
        "-5".into(),
        "1e3".into(),
        "99999999999999999999999".into(),
        "$(touch pwned)".into(),
        "a[$(touch pwned)]".into(),
        "x[0$(touch pwned)]".into(),
        String::new(),
    ];
    let values: Vec<&str> = NAMES.iter().chain(PAYLOADS).copied().collect();
    for shell in SHELLS {
        let mut script = match shell {
            "fish" => "mfa init fish | source\n".to_string(),
            _ => format!("eval \"$(mfa init {shell})\"\n"),
        };
        let render = match shell {
            "bash" => "eval \"${PROMPT_COMMAND[*]}\"; printf '%s' \"${PS1@P}\"",
            "zsh" => {
                "setopt prompt_subst; for f in $precmd_functions; do $f; done; print -rnP -- \"$PROMPT\""
            }
            _ => "emit fish_prompt; fish_prompt",
        };
        for (i, value) in values.iter().enumerate() {
            for (j, expiry) in expiries.iter().enumerate() {
                let file = lab.out_file(&format!("prompt-{shell}-{i}-{j}"));
                let set = match shell {
                    "fish" => format!(
                        "set -gx MFA_PROFILE {}; set -gx MFA_EXPIRES_AT {}",
                        mfa::shell::Shell::Fish.quote(value),
                        mfa::shell::Shell::Fish.quote(expiry)
                    ),
                    _ => format!(
                        "export MFA_PROFILE={} MFA_EXPIRES_AT={}",
                        mfa::shell::Shell::Bash.quote(value),
                        mfa::shell::Shell::Bash.quote(expiry)
                    ),
                };
                script.push_str(&format!("{set}\n{render} > '{}'\n", file.display()));
            }
        }
        script.push_str("echo survived\n");
        let out = lab.shell(shell, &script);
        assert!(
            stdout(&out).ends_with("survived\n"),
            "{shell}: {}\n{}",
            stderr(&out),
            stdout(&out)
        );
        for (i, value) in values.iter().enumerate() {
            if value.contains(['\n', '\r', '\u{1b}', '\u{7}', '\u{7f}', '\u{1}', '\u{2}'])
                || value.is_empty()
            {
                continue; // the prompt may show these escaped, or nothing
            }
            let file = lab.out_file(&format!("prompt-{shell}-{i}-0"));
            let prompt = String::from_utf8_lossy(&std::fs::read(&file).unwrap()).into_owned();
            assert!(
                prompt.contains(&format!("{value} 50m"))
                    || prompt.contains(&format!("{value} 49m")),
                "{shell}: the prompt for {value:?} is {prompt:?}"
            );
        }
    }
}

/// The hook renews an expired session of a profile whose name looks like
/// an option, and evaluates the session, never help text.
#[test]
fn hooks_renew_profiles_named_like_options() {
    let lab = Lab::new();
    let names = ["-h", "--help", "-V", "--version"];
    lab.sandbox
        .config(&config_with_names(&names, ""))
        .credentials(&base_credentials());
    let past = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        - 10)
        .to_string();
    for shell in SHELLS {
        for name in names {
            let (load, set, hook) = match shell {
                "fish" => (
                    "mfa init fish | source",
                    format!(
                        "set -gx MFA_PROFILE {}; set -gx MFA_EXPIRES_AT {past}",
                        mfa::shell::Shell::Fish.quote(name)
                    ),
                    "emit fish_prompt",
                ),
                "zsh" => (
                    "eval \"$(mfa init zsh)\"",
                    format!(
                        "export MFA_PROFILE={} MFA_EXPIRES_AT={past}",
                        mfa::shell::Shell::Bash.quote(name)
                    ),
                    "for f in $precmd_functions; do $f; done",
                ),
                _ => (
                    "eval \"$(mfa init bash)\"",
                    format!(
                        "export MFA_PROFILE={} MFA_EXPIRES_AT={past}",
                        mfa::shell::Shell::Bash.quote(name)
                    ),
                    "eval \"${PROMPT_COMMAND[*]}\"",
                ),
            };
            let script = format!(
                "{load}\n{set}\n{hook}\nprintf '%s|%s|%s' \"$MFA_PROFILE\" \"$MFA_EXPIRES_AT\" \"$MFA_PROMPT\""
            );
            let out = lab.shell_command(shell, &script, true).output().unwrap();
            lab.assert_nothing_ran(shell);
            let text = stdout(&out);
            let fields: Vec<&str> = text.split('|').collect();
            assert_eq!(fields.len(), 3, "{shell} {name}: {text}\n{}", stderr(&out));
            assert_eq!(fields[0], name, "{shell}");
            assert!(
                fields[1].parse::<u64>().unwrap_or(0) > past.parse::<u64>().unwrap() + 600,
                "{shell} {name}: not renewed: {text}\n{}",
                stderr(&out)
            );
            assert!(
                !stderr(&out).contains("command not found") && !stderr(&out).contains("Usage"),
                "{shell} {name}: {}",
                stderr(&out)
            );
        }
    }
}

/// Completion candidates are the config's values exactly, whatever they
/// hold: bash receives them as words to insert that stay one literal word
/// each; fish receives the raw values (fish escapes what it inserts).
#[test]
fn completion_candidates_stay_literal() {
    let lab = Lab::new();
    let mut roles: Vec<String> = PAYLOADS
        .iter()
        // What a config line can hold as one value: no line break, and no
        // ` #` or ` ;`, which start a comment there.
        .filter(|p| {
            !p.contains(['\n', '\r'])
                && !p.trim().is_empty()
                && !p.contains(" #")
                && !p.contains(" ;")
        })
        .map(|p| format!("x{}", p.trim()))
        .collect();
    roles.sort();
    roles.dedup();
    let mut config = config_with_names(NAMES, "");
    for (i, role) in roles.iter().enumerate() {
        config.push_str(&format!(
            "[profile r{i}]\nrole_arn = {role}\nsource_profile = base\n\n"
        ));
    }
    lab.sandbox.config(&config).credentials(&base_credentials());

    // fish: `complete -C` lists the candidates as fish holds them.
    let out = lab.shell(
        "fish",
        "mfa completions fish | source; complete -C 'mfa env base --role-arn x'",
    );
    let got: BTreeSet<String> = stdout(&out)
        .lines()
        .map(|l| l.split('\t').next().unwrap_or("").to_string())
        .collect();
    for role in &roles {
        assert!(
            got.contains(role),
            "fish lacks {role:?}: {got:?}\n{}",
            stderr(&out)
        );
    }
    let out = lab.shell(
        "fish",
        "mfa completions fish | source; complete -C 'mfa env -'",
    );
    assert!(out.status.success(), "{}", stderr(&out));

    // bash: each COMPREPLY entry is what bash puts on the line; evaluated
    // as the rest of a command line it must be exactly one literal word.
    let script = format!(
        "eval \"$(mfa completions bash)\"\n\
         spec=$(complete -p mfa) || exit 4\n\
         fn=${{spec#*-F }}; fn=${{fn%% *}}\n\
         COMP_WORDS=(mfa env base --role-arn x); COMP_CWORD=4\n\
         COMP_LINE='mfa env base --role-arn x'; COMP_POINT=${{#COMP_LINE}}\n\
         \"$fn\" mfa x --role-arn\n\
         for c in \"${{COMPREPLY[@]}}\"; do printf '%s\\n' \"$c\"; done > '{}'",
        lab.out_file("compreply").display()
    );
    let out = lab.shell("bash", &script);
    assert!(out.status.success(), "{}", stderr(&out));
    let replies = std::fs::read_to_string(lab.out_file("compreply")).unwrap();
    let mut received = BTreeSet::new();
    for reply in replies.lines() {
        let out = lab.shell("bash", &format!("record {reply}"));
        assert!(
            out.status.success(),
            "inserting {reply:?}: {}",
            stderr(&out)
        );
        let words = lab.recorded();
        assert_eq!(words.len(), 2, "{reply:?} became {:?}", &words[1..]);
        received.insert(words[1].clone());
    }
    for role in &roles {
        assert!(
            received.contains(role),
            "bash never offered {role:?} as itself: {received:?}"
        );
    }
}

/// `mfa prompt` takes its format and the environment literally.
#[test]
fn prompt_formats_and_values_are_literal() {
    let lab = Lab::new();
    let later = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 3000)
        .to_string();
    for value in NAMES.iter().chain(PAYLOADS) {
        if value.is_empty() {
            continue;
        }
        // A profile holding other placeholders is shown as it is.
        let tricky = format!("{value}{{left}}{{state}}");
        let out = lab.mfa_with(
            &["prompt", "--format", "[{profile}]"],
            &[("MFA_PROFILE", &tricky), ("MFA_EXPIRES_AT", &later)],
        );
        assert_clean_exit(&out, "prompt");
        assert_eq!(stdout(&out), format!("[{tricky}]\n"));
        let out = lab.mfa_with(
            &["prompt", &format!("--format={value}")],
            &[("MFA_PROFILE", "p"), ("MFA_EXPIRES_AT", &later)],
        );
        assert_clean_exit(&out, "prompt --format");
        assert_eq!(stdout(&out), format!("{value}\n"), "format {value:?}");
    }
    for expiry in [
        "",
        "x",
        "-1",
        "1e9",
        "99999999999999999999999",
        "9223372036854775807",
        "-9223372036854775808",
        "$(touch pwned)",
    ] {
        let out = lab.mfa_with(
            &["prompt"],
            &[("MFA_PROFILE", "p"), ("MFA_EXPIRES_AT", expiry)],
        );
        assert_clean_exit(&out, &format!("prompt with MFA_EXPIRES_AT={expiry:?}"));
    }
}

/// Files a user could have, by accident or by someone else's hand.
fn hostile_files(lab: &Lab) -> Vec<(&'static str, Vec<u8>, Vec<u8>)> {
    let keys =
        format!("aws_access_key_id = AKIATARGETEXAMPLE\naws_secret_access_key = {SECRET_MARK}t\n");
    let target_keys = format!("[target]\n{keys}");
    let process = lab.stubs.join("process");
    std::fs::write(
        &process,
        format!(
            "#!/bin/sh\nprintf '{{\"Version\":1,\"AccessKeyId\":\"AKIAPROCESS\",\"SecretAccessKey\":\"{SECRET_MARK}p\",\"SessionToken\":\"{TOKEN_MARK}p\",\"Expiration\":\"2001-01-01T00:00:00Z\"}}'\n"
        ),
    )
    .unwrap();
    std::fs::set_permissions(&process, std::fs::Permissions::from_mode(0o755)).unwrap();
    let garbage_process = lab.stubs.join("garbage");
    std::fs::write(
        &garbage_process,
        format!("#!/bin/sh\nprintf '{SECRET_MARK}\\001\\377 not json'\nexit 3\n"),
    )
    .unwrap();
    std::fs::set_permissions(&garbage_process, std::fs::Permissions::from_mode(0o755)).unwrap();

    let mut deep = String::from(
        "[profile target]\nsource_profile = c1\nrole_arn = arn:aws:iam::123456789012:role/r\n",
    );
    for i in 1..3000 {
        deep.push_str(&format!(
            "[profile c{i}]\nsource_profile = c{}\nrole_arn = arn:aws:iam::123456789012:role/r\n",
            i + 1
        ));
    }
    deep.push_str("[profile c3000]\nregion = us-east-1\n");
    let deep_credentials = format!("[c3000]\n{keys}");

    let s = |t: &str| t.as_bytes().to_vec();
    vec![
        ("empty", vec![], vec![]),
        (
            "control in key id",
            s("[profile target]\n"),
            s(&format!(
                "[target]\naws_access_key_id = AKIA\u{1}X\naws_secret_access_key = {SECRET_MARK}\n"
            )),
        ),
        (
            "newline escape in key",
            s("[profile target]\n"),
            s(&format!(
                "[target]\naws_access_key_id = AKIA\\nX\naws_secret_access_key = {SECRET_MARK} with space\n"
            )),
        ),
        (
            "DEL in secret",
            s("[profile target]\n"),
            s(&format!(
                "[target]\naws_access_key_id = AKIAX\naws_secret_access_key = {SECRET_MARK}\u{7f}\n"
            )),
        ),
        (
            "token with control",
            s("[profile target]\n"),
            s(&format!(
                "[target]\naws_access_key_id = ASIAX\naws_secret_access_key = {SECRET_MARK}\naws_session_token = {TOKEN_MARK}\u{1b}[2J\n"
            )),
        ),
        (
            "continued secret",
            s("[profile target]\n"),
            s(&format!(
                "[target]\naws_access_key_id = AKIAX\naws_secret_access_key =\n  {SECRET_MARK}\n"
            )),
        ),
        (
            "invalid utf-8",
            vec![
                b'[', b'p', b'r', b'o', b'f', b'i', b'l', b'e', b' ', 0xff, 0xfe, b']', b'\n',
            ],
            s(&target_keys),
        ),
        (
            "NUL bytes",
            s("[profile target]\nregion = us-\0east-1\n\0\0"),
            s(&target_keys),
        ),
        (
            "CR only",
            s("[profile target]\rregion = us-east-1\r"),
            s(&target_keys.replace('\n', "\r")),
        ),
        (
            "BOM and CRLF",
            s("\u{feff}[profile target]\r\nregion = us-east-1\r\n"),
            s(&target_keys.replace('\n', "\r\n")),
        ),
        (
            "unterminated section",
            s("[profile target\nregion = x\n"),
            s(&target_keys),
        ),
        (
            "long line",
            s(&format!(
                "[profile target]\nregion = {}\n",
                "a".repeat(1 << 20)
            )),
            s(&target_keys),
        ),
        (
            "region payload",
            s("[profile target]\nregion = it's $(touch pwned)\n"),
            s(&target_keys),
        ),
        (
            "region with slash",
            s("[profile target]\nregion = ../../etc\n"),
            s(&target_keys),
        ),
        (
            "role payload",
            s(
                "[profile target]\nrole_arn = x;touch pwned;$(touch pwned)`touch pwned`\nsource_profile = base\n[profile base]\n",
            ),
            s(&format!("[base]\n{keys}")),
        ),
        (
            "serial payload",
            s("[profile target]\nmfa_serial = $(touch pwned)\n"),
            s(&target_keys),
        ),
        (
            "duration garbage",
            s(
                "[profile target]\nmfa_session_duration = 1e99\nduration_seconds = -1\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = base\n[profile base]\n",
            ),
            s(&format!("[base]\n{keys}")),
        ),
        (
            "self loop",
            s("[profile target]\nsource_profile = target\nrole_arn = arn:aws:iam::1:role/r\n"),
            vec![],
        ),
        (
            "two-profile loop",
            s(
                "[profile target]\nsource_profile = b\nrole_arn = arn:aws:iam::1:role/r\n[profile b]\nsource_profile = target\nrole_arn = arn:aws:iam::1:role/r\n",
            ),
            vec![],
        ),
        ("3000 deep", s(&deep), s(&deep_credentials)),
        (
            "expired process",
            s(&format!(
                "[profile target]\ncredential_process = {}\n",
                process.display()
            )),
            vec![],
        ),
        (
            "garbage process",
            s(&format!(
                "[profile target]\ncredential_process = {}\n",
                garbage_process.display()
            )),
            vec![],
        ),
        (
            "mfa_process payload",
            s(&format!(
                "[profile target]\nmfa_serial = {SERIAL}\nmfa_process = printf '$(touch pwned)'\n"
            )),
            s(&target_keys),
        ),
        (
            "credential_source",
            s(
                "[profile target]\nrole_arn = arn:aws:iam::1:role/r\ncredential_source = Environment\n",
            ),
            vec![],
        ),
        (
            "mfa_alias payloads",
            s(
                "[profile target]\nmfa_alias = $(touch pwned)\n[profile t2]\nmfa_alias = ;touch pwned\n",
            ),
            s(&target_keys),
        ),
        (
            "names",
            s(&config_with_names(NAMES, "[profile target]\n")),
            s(&target_keys),
        ),
    ]
}

/// Every command against every hostile file.
fn commands() -> Vec<Vec<&'static str>> {
    [
        "env target",
        "env --shell fish target",
        "env --shell powershell target",
        "env --unset",
        "exec target -- record",
        "shell target",
        "credential-process target",
        "list",
        "list --json",
        "show target",
        "show target --json",
        "roles",
        "roles --json",
        "status",
        "status --json",
        "clear target",
        "alias",
        "alias --mode exec --shell zsh",
        "alias --mode shell --shell fish",
        "alias --shell powershell",
        "init bash",
        "prompt",
        "write target",
        "setup --profile target --yes",
        "device list --profile target",
        "policy mfa-boundary --account 123456789012 --user u",
        "policy role-trust --profile target",
        "enforce plan --recipe deny --users u --profile target",
        "enforce apply --recipe boundary --users u --profile target --yes",
        "enforce audit --json --profile target",
        "onboard newbie --group g --profile target",
        "add target --from-env",
        "remove target",
        "migrate target",
        "rotate target",
        "clear --all",
    ]
    .iter()
    .map(|c| c.split(' ').collect())
    .collect()
}

#[test]
fn every_command_survives_every_hostile_file() {
    let lab = Lab::new();
    let files = hostile_files(&lab);
    for (label, config, credentials) in &files {
        for args in commands() {
            std::fs::write(lab.sandbox.path(".aws/config"), config).unwrap();
            std::fs::write(lab.sandbox.path(".aws/credentials"), credentials).unwrap();
            let out = lab.mfa_with(
                &args,
                &[
                    ("SHELL", "/bin/true"),
                    ("MFA_BACKEND", "file"),
                    ("MFA_FILE_PASSPHRASE", "pass phrase"),
                    ("MFA_PROFILE", "target"),
                ],
            );
            assert_clean_exit(&out, &format!("{label}: mfa {}", args.join(" ")));
        }
        // TAB in any shell: the completer reads the same files.
        for (shell, words) in [
            ("fish", vec!["mfa", "env", ""]),
            ("fish", vec!["mfa", "env", "target", "--role-arn", ""]),
            ("zsh", vec!["mfa", "show", ""]),
        ] {
            let mut args = vec!["--"];
            args.extend(words);
            let out = lab.mfa_with(&args, &[("COMPLETE", shell), ("_CLAP_COMPLETE_INDEX", "2")]);
            assert_clean_exit(&out, &format!("{label}: completion in {shell}"));
        }
    }
}

/// The numbers mfa reads from the environment, at and past their limits.
#[test]
fn numeric_variables_at_any_value_never_panic() {
    let lab = Lab::new();
    lab.sandbox
        .config(&config_with_names(&["safe"], ""))
        .credentials(&base_credentials());
    let values = [
        "18446744073709551615",
        "9223372036854775807",
        "-9223372036854775808",
        "-1",
        "0",
        "1e9",
        " 5",
        "",
        "x",
    ];
    for variable in [
        "MFA_TIMEOUT",
        "MFA_LOCK_WAIT",
        "MFA_MIN_TTL",
        "MFA_WARN_SECONDS",
        "MFA_RENEW_SECONDS",
        "MFA_EXPIRES_AT",
    ] {
        for value in values {
            for args in [
                vec!["env", "safe", "--refresh"],
                vec!["credential-process", "safe"],
                vec!["status"],
                vec!["prompt"],
                vec!["doctor"],
            ] {
                let out = lab.mfa_with(&args, &[(variable, value), ("MFA_PROFILE", "safe")]);
                assert_clean_exit(&out, &format!("{variable}={value:?} mfa {args:?}"));
            }
        }
    }
}

/// Profile files that are no files: a FIFO nobody writes, an endless
/// device, a directory. Every command answers, none hangs or fills memory.
#[test]
fn profile_paths_that_are_not_files_never_hang() {
    let lab = Lab::new();
    let fifo = lab.sandbox.path("fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let dir = lab.sandbox.path("a-directory");
    std::fs::create_dir_all(&dir).unwrap();
    for path in [fifo.as_path(), Path::new("/dev/zero"), dir.as_path()] {
        for args in [
            vec!["list"],
            vec!["env", "target"],
            vec!["show", "target"],
            vec!["doctor"],
        ] {
            let path = path.to_str().unwrap();
            let out = lab.mfa_with(&args, &[("AWS_CONFIG_FILE", path), ("MFA_TIMEOUT", "5")]);
            assert_clean_exit(&out, &format!("AWS_CONFIG_FILE={path} mfa {args:?}"));
        }
    }
}
