//! The fish hook (`mfa init fish | source`, shell/mfa.fish) in real fish:
//! `mfa use` and `mfa off`, MFA_PROMPT against the Rust segment, the
//! wrapped fish_prompt and its `$status`, renewal in place (silent, failed,
//! turned off, typed at the terminal, cut short by Ctrl-C), one process per
//! prompt, sourcing twice, and a binary that has gone.

mod support;

use std::path::Path;
use std::process::{Command, Output, Stdio};

use mfa::context::Env;
use mfa::shell::Shell;
use support::*;

const BIN: &str = env!("CARGO_BIN_EXE_mfa");

fn setup() -> (FakeAws, Sandbox) {
    let aws = FakeAws::start();
    let sandbox = Sandbox::new(&aws);
    sandbox
        .config(&standard_config())
        .credentials(&standard_credentials());
    (aws, sandbox)
}

/// A sandbox with no AWS behind it, for what needs none.
fn offline() -> Sandbox {
    Sandbox::with_endpoint("http://127.0.0.1:9".into())
}

/// The line that installs the hook.
fn hook(args: &str) -> String {
    format!("{} init fish {args} | source\n", Shell::Fish.quote(BIN))
}

/// `fish --no-config -c SCRIPT` with the sandbox's environment and no
/// controlling terminal, so nothing can stop to ask for a code.
fn fish_command(sandbox: &Sandbox, script: &str) -> Command {
    let mut command = sandbox.command("fish");
    command.args(["--no-config", "-c", script]);
    detach_from_terminal(&mut command);
    command
}

fn fish(sandbox: &Sandbox, script: &str) -> Output {
    let out = fish_command(sandbox, script).output().expect("run fish");
    assert!(
        out.status.success(),
        "fish failed: {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        stdout(&out),
        stderr(&out)
    );
    out
}

/// Every value printed as `key=value`, in order.
fn values<'a>(out: &'a str, key: &str) -> Vec<&'a str> {
    let prefix = format!("{key}=");
    out.lines()
        .filter_map(|l| l.strip_prefix(&prefix))
        .collect()
}

/// The one value printed as `key=value`.
fn value<'a>(out: &'a str, key: &str) -> &'a str {
    match values(out, key)[..] {
        [v] => v,
        _ => panic!("expected one `{key}=` line in:\n{out}"),
    }
}

fn number(out: &str, key: &str) -> i64 {
    value(out, key)
        .parse()
        .unwrap_or_else(|_| panic!("{key} is not a number in:\n{out}"))
}

/// What `mfa::prompt::Segment::text` says at each second from `before` to
/// `after`: fish read its clock somewhere in between.
fn rust_texts(vars: &[(&str, &str)], before: i64, after: i64) -> Vec<Option<String>> {
    let env = Env::from_pairs(vars.iter().copied());
    (before..=after)
        .map(|now| mfa::prompt::segment(&env, now).map(|s| s.text()))
        .collect()
}

/// Prints MFA_PROMPT (as `prompt=`) and the clock around one prompt.
const PROMPT: &str = "set -l before (date +%s); emit fish_prompt; set -l after (date +%s)
echo before=$before; echo after=$after; echo prompt=$MFA_PROMPT; echo expires=$MFA_EXPIRES_AT\n";

/// Checks the `prompt=` of PROMPT against the Rust segment.
fn assert_prompt(out: &str, profile: &str) {
    let text = value(out, "prompt");
    let expires = value(out, "expires");
    let texts = rust_texts(
        &[("MFA_PROFILE", profile), ("MFA_EXPIRES_AT", expires)],
        number(out, "before"),
        number(out, "after"),
    );
    assert!(
        texts.contains(&Some(text.to_string())),
        "MFA_PROMPT {text:?}, Rust says one of {texts:?}"
    );
}

#[test]
fn use_sets_the_session_and_the_prompt_and_off_clears_them() {
    let (aws, sandbox) = setup();
    let script = format!(
        "{}mfa use admin --token 123456; echo use=$status
{PROMPT}echo key=$AWS_ACCESS_KEY_ID; echo profile=$MFA_PROFILE
echo child=(env | string match -r '^AWS_SESSION_TOKEN=.' | count)
echo child_prompt=(sh -c 'printf %s \"${{MFA_PROMPT-unset}}\"')
mfa use --help >/dev/null; echo use_help=$status; mfa off -h | head -1; echo still=$MFA_PROFILE
mfa no-such-command 2>/dev/null; echo passed=$status
mfa off; echo off=$status; echo after_off=\"[$MFA_PROMPT]\"
emit fish_prompt; echo child_after_off=(sh -c 'printf %s \"${{MFA_PROMPT-unset}}\"')
set -q AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN MFA_PROFILE MFA_EXPIRES_AT
echo unset=$status\n",
        hook("")
    );
    let out = stdout(&fish(&sandbox, &script));
    assert_eq!(value(&out, "use"), "0", "{out}");
    assert_eq!(value(&out, "profile"), "admin");
    assert!(value(&out, "key").starts_with("ASIA"), "{out}");
    assert_eq!(value(&out, "child"), "1", "exported to children: {out}");
    assert_prompt(&out, "admin");
    assert!(
        ["admin 1h00m", "admin 59m"].contains(&value(&out, "prompt")),
        "{out}"
    );
    // Help is shown, not sourced; other subcommands keep their status.
    assert_eq!(value(&out, "use_help"), "0");
    assert!(
        out.contains("\nRemove the session from this shell"),
        "{out}"
    );
    assert_eq!(value(&out, "still"), "admin");
    assert_eq!(value(&out, "passed"), "2");
    assert_eq!(value(&out, "off"), "0");
    assert_eq!(value(&out, "after_off"), "[]");
    // Exported: prompt frameworks (starship's env_var) read it.
    assert_eq!(value(&out, "child_prompt"), value(&out, "prompt"), "{out}");
    assert_eq!(value(&out, "child_after_off"), "unset", "{out}");
    assert_eq!(value(&out, "unset"), "5", "all five unset: {out}");
    assert_eq!(aws.count("GetSessionToken"), 1);
    assert_eq!(aws.count("AssumeRole"), 1);
}

#[test]
fn the_countdown_is_the_rust_segment_at_every_boundary() {
    let sandbox = offline();
    let deltas = [
        -100, -1, 0, 1, 59, 60, 61, 599, 600, 601, 3599, 3600, 3659, 3660, 7325, 86400, 1_000_000,
    ];
    let warns = ["", "30", " 30 ", "+30", "-5", "0", "0600", "abc", "4000"];
    let mut script = hook("");
    script.push_str("set -gx MFA_AUTO_RENEW 0; set -gx MFA_PROFILE prod\n");
    for warn in warns {
        for delta in deltas {
            script.push_str(&format!(
                "set -gx MFA_WARN_SECONDS '{warn}'; set -l before (date +%s)
set -gx MFA_EXPIRES_AT (math $before + {delta}); __mfa_update; set -l after (date +%s)
echo case=$MFA_EXPIRES_AT,$before,$after,$MFA_PROMPT\n"
            ));
        }
    }
    // Leading zeros are still a number.
    script.push_str(
        "set -e MFA_WARN_SECONDS; set -l before (date +%s)
set -gx MFA_EXPIRES_AT 000(math $before + 125); __mfa_update; set -l after (date +%s)
echo case=$MFA_EXPIRES_AT,$before,$after,$MFA_PROMPT\n",
    );
    let out = stdout(&fish(&sandbox, &script));
    let cases = values(&out, "case");
    assert_eq!(cases.len(), deltas.len() * warns.len() + 1, "{out}");
    let warn_of_case = warns
        .iter()
        .flat_map(|w| deltas.iter().map(move |_| Some(*w)))
        .chain([None]);
    for (case, warn) in cases.iter().zip(warn_of_case) {
        let [expires, before, after, text]: [&str; 4] =
            case.splitn(4, ',').collect::<Vec<_>>().try_into().unwrap();
        let mut vars = vec![("MFA_PROFILE", "prod"), ("MFA_EXPIRES_AT", expires)];
        if let Some(warn) = warn {
            vars.push(("MFA_WARN_SECONDS", warn));
        }
        let texts = rust_texts(&vars, before.parse().unwrap(), after.parse().unwrap());
        assert!(
            texts.contains(&Some(text.to_string())),
            "warn {warn:?}, expires {expires}: fish {text:?}, Rust {texts:?}"
        );
    }
}

#[test]
fn no_session_means_an_empty_prompt() {
    let sandbox = offline();
    let script = format!(
        "{}set -gx MFA_PROFILE prod
for expires in '' soon 12a ' 5' -5 1e9 99999999999999999999
    set -gx MFA_EXPIRES_AT $expires; emit fish_prompt; echo \"case=[$MFA_PROMPT]\"
end
set -gx MFA_EXPIRES_AT 9999999999; set -gx MFA_PROFILE ''; emit fish_prompt; echo \"case=[$MFA_PROMPT]\"
set -e MFA_PROFILE; emit fish_prompt; echo \"case=[$MFA_PROMPT]\"\n",
        hook("")
    );
    let out = stdout(&fish(&sandbox, &script));
    assert_eq!(values(&out, "case"), vec!["[]"; 9], "{out}");
}

#[test]
fn sourcing_twice_wraps_once_and_handles_once() {
    let sandbox = offline();
    let count_handlers = "echo handlers=(functions --handlers-type generic | string match -r '^fish_prompt\\s+__mfa_hook$' | count)
echo copies=(functions __mfa_user_fish_prompt | string match -e __mfa_user_fish_prompt | count)
echo shown=(fish_prompt)\n";
    let script = format!(
        "function fish_prompt; echo -n 'user> '; end
{hook}{hook}set -gx MFA_PROFILE prod; set -gx MFA_EXPIRES_AT (math (date +%s) + 7230)
emit fish_prompt; emit fish_prompt
{count_handlers}{hook}emit fish_prompt
{count_handlers}function fish_prompt; echo -n 'theme> '; end
emit fish_prompt; emit fish_prompt
{count_handlers}",
        hook = hook("")
    );
    let out = stdout(&fish(&sandbox, &script));
    assert_eq!(values(&out, "handlers"), ["1", "1", "1"], "{out}");
    // The copy is the user's prompt (its own definition line only), never
    // the wrapper, which would call itself.
    assert_eq!(values(&out, "copies"), ["1", "1", "1"], "{out}");
    let shown = values(&out, "shown");
    assert_eq!(shown[..2], ["(prod 2h00m) user> "; 2], "{out}");
    // A prompt defined after the hook is wrapped at the next prompt.
    assert_eq!(
        shown[2].strip_suffix("theme> "),
        shown[0].strip_suffix("user> "),
        "{out}"
    );
}

#[test]
fn no_prompt_keeps_mfa_prompt_but_leaves_the_prompt_alone() {
    let sandbox = offline();
    let script = format!(
        "function fish_prompt; echo -n 'user> '; end
{}set -gx MFA_PROFILE prod; set -gx MFA_EXPIRES_AT (math (date +%s) + 7200)
emit fish_prompt; echo shown=(fish_prompt); echo prompt=$MFA_PROMPT
functions -q __mfa_user_fish_prompt; echo copied=$status\n",
        hook("--no-prompt")
    );
    let out = stdout(&fish(&sandbox, &script));
    assert_eq!(value(&out, "shown"), "user> ");
    assert!(value(&out, "prompt").starts_with("prod "), "{out}");
    assert_eq!(value(&out, "copied"), "1");
}

#[test]
fn the_users_prompt_sees_the_status_and_follows_the_segment() {
    let (_aws, sandbox) = setup();
    let script = format!(
        "function fish_prompt; echo -n \"user[$status]> \"; end
{}false; fish_prompt; echo
mfa use admin --token 123456
false; __mfa_hook; echo hook_status=$status
false; fish_prompt; echo
true; fish_prompt; echo
sh -c 'exit 7'; fish_prompt; echo\n",
        hook("")
    );
    let out = stdout(&fish(&sandbox, &script));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "user[1]> ", "no session, no segment: {out}");
    assert_eq!(value(&out, "hook_status"), "1");
    let segment = lines[2].strip_suffix("user[1]> ").expect(&out);
    assert!(
        ["(admin 1h00m) ", "(admin 59m) "].contains(&segment),
        "{out}"
    );
    assert_eq!(lines[3], format!("{segment}user[0]> "));
    assert_eq!(lines[4], format!("{segment}user[7]> "));
}

#[test]
fn the_segment_is_green_then_yellow_then_red_unless_no_color() {
    let sandbox = offline();
    let script = format!(
        "function fish_prompt; echo -n 'user> '; end
{}set -gx MFA_AUTO_RENEW 0; set -gx MFA_PROFILE prod
for left in 7200 300 -5
    set -gx MFA_EXPIRES_AT (math (date +%s) + $left); emit fish_prompt; fish_prompt; echo
end
set -gx NO_COLOR 1; fish_prompt; echo
set -e NO_COLOR; set -gx TERM dumb; fish_prompt; echo\n",
        hook("")
    );
    let mut command = fish_command(&sandbox, &script);
    command.env("TERM", "xterm-256color");
    let out = command.output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let out = stdout(&out);
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0].starts_with("\x1b[32m(prod 1h59m)")
            || lines[0].starts_with("\x1b[32m(prod 2h00m)"),
        "{out:?}"
    );
    assert!(
        lines[1].starts_with("\x1b[33m(prod 4m!)") || lines[1].starts_with("\x1b[33m(prod 5m!)"),
        "{out:?}"
    );
    assert!(lines[2].starts_with("\x1b[31m(prod expired)"), "{out:?}");
    assert!(
        lines[0].ends_with(" user> ") && lines[0].contains("\x1b[m"),
        "{out:?}"
    );
    assert_eq!(lines[3], "(prod expired) user> ");
    assert_eq!(lines[4], "(prod expired) user> ");
}

/// Removes the cached role sessions (not the MFA session), so that a
/// renewal has to call AssumeRole and shows up in the calls.
const FORGET_ROLES: &str = "command rm -f $HOME/.cache/mfa/role-*\n";

#[test]
fn an_expired_session_renews_from_the_cached_mfa_session_without_a_code() {
    let (aws, sandbox) = setup();
    let script = format!(
        "{}mfa use admin --token 123456; set -l old $AWS_ACCESS_KEY_ID
{FORGET_ROLES}set -gx MFA_EXPIRES_AT 1
{PROMPT}echo fresh=(test $old != $AWS_ACCESS_KEY_ID; and echo yes)
echo blocked=[$__mfa_renew_blocked]\n",
        hook("")
    );
    let out = fish(&sandbox, &script);
    let (err, out) = (stderr(&out), stdout(&out));
    assert_eq!(value(&out, "fresh"), "yes", "{out}{err}");
    assert_eq!(value(&out, "blocked"), "[]");
    assert!(number(&out, "expires") > number(&out, "after") + 3000);
    assert_prompt(&out, "admin");
    assert_eq!(aws.count("GetSessionToken"), 1, "no new code: {err}");
    assert_eq!(aws.count("AssumeRole"), 2);
    assert!(!err.contains("MFA code"), "{err}");
}

#[test]
fn renewal_repeats_role_arn_and_duration_never_the_token() {
    let (aws, sandbox) = setup();
    let script = format!(
        "{}mfa use alice --token 123456 --role-arn {READONLY_ROLE} --duration=1800
echo flags=(string join ' ' -- $__mfa_renew_flags)
{FORGET_ROLES}set -gx MFA_EXPIRES_AT 1
{PROMPT}mfa use admin --token=123456 --duration 900
echo flags=(string join ' ' -- $__mfa_renew_flags)\n",
        hook("")
    );
    let out = stdout(&fish(&sandbox, &script));
    assert_eq!(
        values(&out, "flags"),
        [
            format!("--role-arn {READONLY_ROLE} --duration=1800"),
            "--duration 900".to_string()
        ]
    );
    assert_prompt(&out, "alice");
    let roles: Vec<(String, i64)> = aws
        .calls()
        .iter()
        .filter(|c| c["action"] == "AssumeRole" && c["status"] == 200)
        .map(|c| {
            (
                c["role_arn"].as_str().unwrap().to_string(),
                c["duration"].as_i64().unwrap(),
            )
        })
        .collect();
    let role = |arn: &str, duration| (arn.to_string(), duration);
    assert_eq!(
        roles,
        [
            role(READONLY_ROLE, 1800),
            role(READONLY_ROLE, 1800),
            role(ADMIN_ROLE, 900)
        ],
        "the renewal assumed the same role for as long"
    );
}

#[test]
fn a_failed_renewal_shows_expired_and_does_not_try_again_until_use() {
    let (aws, sandbox) = setup();
    let script = format!(
        "function fish_prompt; echo -n \"user[$status]> \"; end
{}mfa use admin --token 123456
mfa clear --all >/dev/null 2>&1; set -gx MFA_EXPIRES_AT 1
emit fish_prompt; echo first=$MFA_PROMPT; echo blocked=$__mfa_renew_blocked
emit fish_prompt; echo second=$MFA_PROMPT
false; fish_prompt; echo
mfa use admin --token 123456; {FORGET_ROLES}set -gx MFA_EXPIRES_AT 1
emit fish_prompt; echo third=$MFA_PROMPT\n",
        hook("")
    );
    let out = fish(&sandbox, &script);
    let (err, out) = (stderr(&out), stdout(&out));
    assert_eq!(value(&out, "first"), "admin expired");
    assert_eq!(value(&out, "blocked"), "1");
    assert_eq!(value(&out, "second"), "admin expired");
    assert!(out.contains("\n(admin expired) user[1]> \n"), "{out}");
    assert_eq!(
        err.matches("no terminal to ask for the MFA code").count(),
        1,
        "asked once: {err}"
    );
    // `mfa use` lifts the block: the next expiry renews again.
    assert!(value(&out, "third").starts_with("admin "), "{out}");
    assert_ne!(value(&out, "third"), "admin expired", "{out}{err}");
    assert_eq!(aws.count("GetSessionToken"), 2);
    assert_eq!(aws.count("AssumeRole"), 3);
}

#[test]
fn auto_renew_off_leaves_it_expired_and_renew_seconds_renews_early() {
    let (aws, sandbox) = setup();
    let script = format!(
        "{}mfa use admin --token 123456; {FORGET_ROLES}
set -gx MFA_AUTO_RENEW 0; set -gx MFA_RENEW_SECONDS 4000; emit fish_prompt
echo early_off=$MFA_PROMPT,[$__mfa_renew_blocked]
set -gx MFA_EXPIRES_AT 1; emit fish_prompt; echo off=$MFA_PROMPT,[$__mfa_renew_blocked]
set -gx MFA_AUTO_RENEW 1; set -gx MFA_EXPIRES_AT (math (date +%s) + 3000); emit fish_prompt
echo early=$MFA_PROMPT,[$__mfa_renew_blocked]\n",
        hook("")
    );
    let out = stdout(&fish(&sandbox, &script));
    let early_off = value(&out, "early_off");
    assert!(
        ["admin 1h00m,[]", "admin 59m,[]"].contains(&early_off),
        "{out}"
    );
    assert_eq!(value(&out, "off"), "admin expired,[]", "not even tried");
    // Inside MFA_RENEW_SECONDS of the end: renewed (a role assumed again);
    // a session no longer than the window is not renewed again and again.
    assert!(value(&out, "early").ends_with(",[1]"), "{out}");
    assert_eq!(aws.count("AssumeRole"), 2);
    assert_eq!(aws.count("GetSessionToken"), 1);
}

/// A prompt with a session and one without, between marker commands.
fn prompts_between_markers() -> String {
    format!(
        "function fish_prompt; echo -n 'user> '; end
{}mfa use admin --token 123456
command true mfa-mark-1
emit fish_prompt; fish_prompt
command true mfa-mark-2
mfa off
command true mfa-mark-3
emit fish_prompt; fish_prompt
command true mfa-mark-4\n",
        hook("")
    )
}

#[test]
fn a_prompt_starts_one_process_with_a_session_and_none_without_strace() {
    if !Path::new("/usr/bin/strace").exists() {
        eprintln!("skipped: no /usr/bin/strace (the PATH-wrapper test still counts)");
        return;
    }
    let (_aws, sandbox) = setup();
    let trace = sandbox.path("trace");
    let mut command = sandbox.command("/usr/bin/strace");
    command
        .args(["-f", "-qq", "-e", "trace=execve", "-o"])
        .arg(&trace)
        .args(["fish", "--no-config", "-c", &prompts_between_markers()]);
    detach_from_terminal(&mut command);
    let out = command.output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let trace = std::fs::read_to_string(&trace).unwrap();
    let execs: Vec<&str> = trace.lines().filter(|l| l.contains(" execve(")).collect();
    let mark = |n: u32| {
        let needle = format!("\"mfa-mark-{n}\"");
        execs
            .iter()
            .position(|l| l.contains(&needle))
            .unwrap_or_else(|| panic!("no marker {n} in:\n{trace}"))
    };
    let with_session = &execs[mark(1) + 1..mark(2)];
    assert_eq!(with_session.len(), 1, "{with_session:#?}");
    assert!(
        with_session[0].contains("[\"date\", \"+%s\"]"),
        "{with_session:#?}"
    );
    let without = &execs[mark(3) + 1..mark(4)];
    assert!(without.is_empty(), "{without:#?}");
}

#[test]
fn a_prompt_starts_one_process_with_a_session_and_none_without_path_wrapper() {
    let (_aws, sandbox) = setup();
    let bin = sandbox.path("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let log = sandbox.path("runs");
    let real_date = ["/usr/bin/date", "/bin/date"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect("date");
    let wrapper = bin.join("date");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\necho date >> '{}'\nexec {real_date} \"$@\"\n",
            log.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    // The markers log themselves, so the log shows what ran between them.
    let script = prompts_between_markers().replace(
        "command true mfa-mark-",
        &format!("echo mark >> '{}'; echo ", log.display()),
    );
    let mut command = fish_command(&sandbox, &script);
    command.env(
        "PATH",
        format!("{}:{}", bin.display(), std::env::var("PATH").unwrap()),
    );
    let out = command.output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let runs = std::fs::read_to_string(&log).unwrap();
    let between: Vec<usize> = runs
        .split("mark\n")
        .map(|part| part.lines().count())
        .collect();
    // Before 1, 1-2 (with a session), 2-3 (off), 3-4 (without), after 4.
    assert_eq!(between.len(), 5, "{runs}");
    assert_eq!(between[1], 1, "one `date` with a session: {runs}");
    assert_eq!(between[3], 0, "none without: {runs}");
}

#[test]
fn the_script_parses_with_and_without_the_prompt() {
    let sandbox = offline();
    for args in [&["init", "fish"][..], &["init", "fish", "--no-prompt"]] {
        let out = sandbox.run(args);
        assert!(out.status.success(), "{}", stderr(&out));
        let script = stdout(&out);
        assert!(!script.contains("__MFA_"), "placeholders left: {script}");
        assert!(script.contains(&format!("set -g __mfa_bin {}\n", Shell::Fish.quote(BIN))));
        let show = if args.len() == 3 { "0" } else { "1" };
        assert!(script.contains(&format!("set -g __mfa_show_prompt {show}\n")));
        let file = sandbox.path("init.fish");
        std::fs::write(&file, &script).unwrap();
        let check = sandbox
            .command("fish")
            .arg("--no-execute")
            .arg(&file)
            .output()
            .unwrap();
        assert!(check.status.success(), "{}", stderr(&check));
    }
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("shell/mfa.fish");
    let indent = sandbox
        .command("fish_indent")
        .arg("--check")
        .arg(&source)
        .output()
        .unwrap();
    assert!(
        indent.status.success(),
        "shell/mfa.fish is not fish_indent-clean"
    );
}

#[test]
fn a_missing_binary_never_breaks_the_shell() {
    let (_aws, sandbox) = setup();
    let script = format!(
        "function fish_prompt; echo -n \"user[$status]> \"; end
{}mfa use admin --token 123456
set -g __mfa_bin /nonexistent/mfa; set -gx MFA_EXPIRES_AT 1
emit fish_prompt; echo prompt=$MFA_PROMPT
emit fish_prompt
false; fish_prompt; echo
mfa use admin; echo use=$status
mfa off; echo off=$status
mfa status; echo status=$status
echo alive\n",
        hook("")
    );
    let out = fish(&sandbox, &script);
    let (err, out) = (stderr(&out), stdout(&out));
    assert_eq!(value(&out, "prompt"), "admin expired");
    assert!(out.contains("\n(admin expired) user[1]> \n"), "{out}");
    assert_eq!(value(&out, "use"), "127");
    assert_eq!(value(&out, "off"), "127");
    assert_eq!(value(&out, "status"), "127");
    assert!(out.ends_with("alive\n"), "{out}");
    // One line per attempt (renewal once, then use, off, status).
    assert_eq!(
        err.matches("/nonexistent/mfa is not there").count(),
        4,
        "{err}"
    );
    assert_eq!(err.lines().count(), 4, "no fish trace: {err}");
}

/// An interactive fish in a pseudo-terminal: the session expires, the next
/// prompt asks for a code, it is typed, and the same shell has fresh
/// credentials; Ctrl-C at the question leaves `expired` and no second ask.
#[test]
fn interactive_renewal_asks_on_the_terminal_and_survives_ctrl_c() {
    let (aws, sandbox) = setup();
    let init = format!(
        "function fish_prompt; echo -n \"user[$status]> \"; end; {}",
        hook("")
    );
    let mut command = sandbox.command("fish");
    command
        .args(["--no-config", "-i", "-C", &init])
        .env("TERM", "xterm")
        .env("NO_COLOR", "1")
        // rexpect puts the terminal on 0, 1 and 2; the sandbox's null stdin
        // would replace it.
        .stdin(Stdio::inherit());
    let mut term = rexpect::session::spawn_command(command, Some(20_000)).unwrap();
    term.exp_string("user[0]> ").unwrap();
    term.send_line(
        "mfa use admin --token 123456; set -g old $AWS_ACCESS_KEY_ID; mfa clear --all; set -gx MFA_EXPIRES_AT 1; false",
    )
    .unwrap();
    term.exp_string("MFA code for").unwrap();
    term.send_line("654321").unwrap();
    term.exp_regex(r"\(admin (1h00m|59m)\) user\[1\]> ")
        .unwrap();
    term.send_line("test $old != $AWS_ACCESS_KEY_ID; and echo fresh-$__mfa_renew_blocked-end")
        .unwrap();
    term.exp_string("fresh--end").unwrap();
    assert_eq!(aws.count("GetSessionToken"), 2);

    term.send_line("mfa clear --all; set -gx MFA_EXPIRES_AT 1")
        .unwrap();
    term.exp_string("MFA code for").unwrap();
    term.send_control('c').unwrap();
    term.exp_string("(admin expired) user[").unwrap();
    term.send_line("echo blocked-$__mfa_renew_blocked-end")
        .unwrap();
    let seen = term.exp_string("(admin expired) user[").unwrap();
    assert!(seen.contains("blocked-1-end"), "{seen}");
    assert!(!seen.contains("MFA code"), "asked again: {seen}");
    term.send_line("exit").unwrap();
    term.exp_eof().unwrap();
    assert_eq!(aws.count("GetSessionToken"), 2, "Ctrl-C sent nothing");
    assert_eq!(aws.count("AssumeRole"), 2);
}

/// Profiles whose names look like options, as roles on the usual MFA user.
const OPTION_LIKE: [&str; 3] = ["-h", "--help", "-V"];

/// A profile named `-h` (or `--help`, `-V`) reaches the binary as a value,
/// in `mfa use -- NAME` (once sent to the binary as help) and in renewal.
#[test]
fn option_like_profile_names_are_values_in_use_and_renewal() {
    let (_aws, sandbox) = setup();
    let mut config = standard_config();
    for name in OPTION_LIKE {
        config.push_str(&format!(
            "\n[profile {name}]\nrole_arn = {ADMIN_ROLE}\nsource_profile = alice\n"
        ));
    }
    sandbox.config(&config);
    for name in OPTION_LIKE {
        let quoted = Shell::Fish.quote(name);
        let out = fish(
            &sandbox,
            &format!(
                "{hook}mfa use --token 123456 -- {quoted}; or exit 8\n\
                 printf 'use=%s|%s\\n' $MFA_PROFILE (set -q AWS_SESSION_TOKEN; and echo token)\n\
                 set -gx MFA_EXPIRES_AT (math (date +%s) - 10); __mfa_update\n\
                 printf 'renewed=%s|%s|%s\\n' $MFA_PROFILE $MFA_PROMPT \"$__mfa_renew_blocked\"\n",
                hook = hook(""),
            ),
        );
        let out = stdout(&out);
        assert_eq!(value(&out, "use"), format!("{name}|token"), "{out}");
        let renewed: Vec<&str> = value(&out, "renewed").split('|').collect();
        assert_eq!(renewed[0], name, "{out}");
        assert!(
            [format!("{name} 59m"), format!("{name} 1h00m")].contains(&renewed[1].to_string()),
            "{name}: renewed from the cached session: {out}"
        );
        assert_eq!(renewed[2], "", "{name}: renewal not blocked: {out}");
    }
}
