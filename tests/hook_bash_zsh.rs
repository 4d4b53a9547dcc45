//! `mfa init bash|zsh` in the real shells: `mfa use`/`off`, MFA_PROMPT,
//! renewal in place, sourcing twice, `$?`, and the cost of a prompt.

mod support;

use std::path::PathBuf;

use support::*;

const SHELLS: [&str; 2] = ["bash", "zsh"];

fn setup() -> (FakeAws, Sandbox) {
    let aws = FakeAws::start();
    let sandbox = Sandbox::new(&aws);
    sandbox
        .config(&standard_config())
        .credentials(&standard_credentials());
    (aws, sandbox)
}

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_mfa")
}

/// Runs `script` in `shell` (no rc files) with the sandbox's environment,
/// after installing the hook.
fn in_shell(sandbox: &Sandbox, shell: &str, script: &str) -> std::process::Output {
    let full = format!("eval \"$('{}' init {shell})\"\n{script}", bin());
    let mut command = sandbox.command(shell);
    match shell {
        "zsh" => command.args(["-f", "-c", &full]),
        _ => command.args(["--norc", "--noprofile", "-c", &full]),
    };
    support::detach_from_terminal(&mut command);
    command.output().expect("run the shell")
}

fn assert_ok(output: &std::process::Output) -> String {
    assert!(output.status.success(), "stderr: {}", stderr(output));
    stdout(output)
}

/// MFA_PROMPT as the Rust reference computes it for these values.
fn expected_prompt(profile: &str, expires_at: i64, now: i64) -> String {
    let env = mfa::context::Env::from_pairs([
        ("MFA_PROFILE", profile.to_string()),
        ("MFA_EXPIRES_AT", expires_at.to_string()),
    ]);
    mfa::prompt::segment(&env, now).unwrap().text()
}

/// A wrapper for the binary that logs each run, to count them.
fn logging_wrapper(sandbox: &Sandbox) -> (PathBuf, PathBuf) {
    let log = sandbox.path("runs.log");
    let wrapper = sandbox.path("mfa-logged");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\necho \"$*\" >> '{}'\nexec '{}' \"$@\"\n",
            log.display(),
            bin()
        ),
    )
    .unwrap();
    std::fs::set_permissions(
        &wrapper,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    (wrapper, log)
}

fn runs(log: &PathBuf) -> usize {
    std::fs::read_to_string(log)
        .map(|t| t.lines().count())
        .unwrap_or(0)
}

#[test]
fn use_sets_the_session_and_the_hook_keeps_mfa_prompt_current() {
    let (_aws, sandbox) = setup();
    for shell in SHELLS {
        let out = assert_ok(&in_shell(
            &sandbox,
            shell,
            "mfa use admin --token 123456 || exit 9\n__mfa_hook\n\
             printf '%s|%s|%s|%s\\n' \"$MFA_PROMPT\" \"$MFA_PROFILE\" \"$MFA_EXPIRES_AT\" \"${AWS_SESSION_TOKEN:+token}\"\n\
             zmodload zsh/datetime 2>/dev/null; printf '%s\\n' \"$EPOCHSECONDS\"\n\
             sh -c 'printf \"child:%s\\n\" \"${MFA_PROMPT-unset}\"'\n\
             mfa off\n__mfa_hook\nprintf '[%s|%s|%s]\\n' \"${MFA_PROMPT-}\" \"${AWS_ACCESS_KEY_ID-}\" \"${MFA_PROFILE-}\"\n\
             sh -c 'printf \"child:%s\\n\" \"${MFA_PROMPT-unset}\"'",
        ));
        let lines: Vec<&str> = out.lines().collect();
        let fields: Vec<&str> = lines[0].split('|').collect();
        let expires: i64 = fields[2].parse().unwrap();
        let now: i64 = lines[1].parse().unwrap();
        assert_eq!(fields[0], expected_prompt("admin", expires, now), "{shell}");
        assert!(
            ["admin 59m", "admin 1h00m"].contains(&fields[0]),
            "{shell}: a fresh role session"
        );
        assert_eq!((fields[1], fields[3]), ("admin", "token"), "{shell}");
        // Exported: prompt frameworks (starship's env_var) read it.
        assert_eq!(lines[2], format!("child:{}", fields[0]), "{shell}");
        assert_eq!(lines[3], "[||]", "{shell}: `mfa off` removes it all");
        assert_eq!(lines[4], "child:unset", "{shell}");
    }
}

#[test]
fn the_prompt_warns_and_expires_like_the_reference() {
    let (_aws, sandbox) = setup();
    for shell in SHELLS {
        for left in [5_i64, 59, 61, 599, 601, 3599, 3600, 7384, 0, -10] {
            let out = assert_ok(&in_shell(
                &sandbox,
                shell,
                &format!(
                    "zmodload zsh/datetime 2>/dev/null; now=${{EPOCHSECONDS:-$(date +%s)}}\n\
                     export MFA_PROFILE=team/prod@eu MFA_AUTO_RENEW=0 MFA_EXPIRES_AT=$((now + {left}))\n\
                     __mfa_hook\nprintf '%s\\n%s\\n' \"$MFA_PROMPT\" \"$now\""
                ),
            ));
            let (prompt, now) = out.trim_end().split_once('\n').unwrap();
            let now: i64 = now.parse().unwrap();
            assert_eq!(
                prompt,
                expected_prompt("team/prod@eu", now + left, now),
                "{shell} {left}"
            );
        }
        let out = assert_ok(&in_shell(
            &sandbox,
            shell,
            "MFA_PROFILE=x MFA_EXPIRES_AT='1+$(id)'\n__mfa_hook\nprintf '[%s]' \"$MFA_PROMPT\"",
        ));
        assert_eq!(
            out, "[]",
            "{shell}: a non-numeric expiry is no session (and never evaluated)"
        );
    }
}

/// The hook skips its work while nothing it reads has changed and the
/// clock is before the next visible change; each of those must still show.
#[test]
fn the_prompt_follows_the_clock_and_every_input_between_prompts() {
    let (_aws, sandbox) = setup();
    let script = "zmodload zsh/datetime 2>/dev/null\n\
        clock() { now=${EPOCHSECONDS:-$(date +%s)}; }\n\
        show() { __mfa_hook; clock; printf '%s|%s|%s|%s\\n' \"$MFA_PROMPT\" \"$MFA_PROFILE\" \"$MFA_EXPIRES_AT\" \"$now\"; }\n\
        clock; start=$now\n\
        export MFA_PROFILE=p MFA_AUTO_RENEW=0 MFA_WARN_SECONDS=60 MFA_EXPIRES_AT=$((start + 62))\n\
        show\n\
        while clock; ((now < start + 2)); do sleep 0.1; done\n\
        show\n\
        while clock; ((now < start + 3)); do sleep 0.1; done\n\
        show\n\
        MFA_PROFILE=q; show\n\
        MFA_EXPIRES_AT=$((start + 7200)); show\n\
        MFA_WARN_SECONDS=9000; show\n\
        MFA_EXPIRES_AT=0$((start + 3000)); MFA_WARN_SECONDS=0; show\n\
        MFA_EXPIRES_AT=$((start - 1)); show\n\
        TERM=xterm; unset NO_COLOR; __mfa_hook; printf '%s\\n' \"${__mfa_ps1:0:9}\"\n\
        TERM=dumb; __mfa_hook; printf '%s\\n' \"${__mfa_ps1:0:9}\"\n";
    for shell in SHELLS {
        let out = assert_ok(&in_shell(&sandbox, shell, script));
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 10, "{shell}: {out}");
        let mut seen = Vec::new();
        for line in &lines[..8] {
            let fields: Vec<&str> = line.split('|').collect();
            let expires: i64 = fields[2].parse().unwrap();
            let now: i64 = fields[3].parse().unwrap();
            let env = mfa::context::Env::from_pairs([
                ("MFA_PROFILE", fields[1].to_string()),
                ("MFA_EXPIRES_AT", expires.to_string()),
                (
                    "MFA_WARN_SECONDS",
                    (if seen.len() == 5 {
                        "9000"
                    } else if seen.len() >= 6 {
                        "0"
                    } else {
                        "60"
                    })
                    .to_string(),
                ),
            ]);
            let expected = mfa::prompt::segment(&env, now).unwrap().text();
            assert_eq!(
                fields[0],
                expected,
                "{shell}, prompt {}: {out}",
                seen.len() + 1
            );
            seen.push(fields[0].to_string());
        }
        // The minute, then the warning, then the seconds: each shows.
        assert!(seen[0] == "p 1m" || seen[0] == "p 1m!", "{shell}: {seen:?}");
        assert!(
            seen[1].ends_with('!') && seen[1] != seen[0] || seen[0].ends_with('!'),
            "{shell}: {seen:?}"
        );
        assert!(seen[2].ends_with("s!"), "{shell}: {seen:?}");
        assert!(
            seen[3].starts_with("q "),
            "{shell}: a new name shows at once"
        );
        assert!(
            seen[4].starts_with("q 1h"),
            "{shell}: a new expiry shows at once"
        );
        assert!(
            seen[5].ends_with('!'),
            "{shell}: a new warning time shows at once"
        );
        assert!(
            seen[6].starts_with("q 4") && !seen[6].ends_with('!'),
            "{shell}: {seen:?}"
        );
        assert_eq!(seen[7], "q expired", "{shell}");
        // Colour is an escape in bash's PS1 and `%F{…}` in zsh's PROMPT.
        let coloured = |line: &str| line.contains('\x1b') || line.contains("%F{");
        assert!(coloured(lines[8]), "{shell}: a colour terminal gets colour");
        assert!(!coloured(lines[9]), "{shell}: TERM=dumb gets none");
        assert!(lines[9].starts_with("(q exp"), "{shell}: {}", lines[9]);
    }
}

#[test]
fn sourcing_twice_installs_one_hook_and_keeps_the_users_status() {
    let (_aws, sandbox) = setup();
    let bash = assert_ok(&in_shell(
        &sandbox,
        "bash",
        &format!(
            "eval \"$('{}' init bash)\"\nprintf '%s\\n' \"$PROMPT_COMMAND\"\nprintf '%s\\n' \"$PS1\"",
            bin()
        ),
    ));
    let mut lines = bash.lines();
    assert_eq!(lines.next(), Some("__mfa_hook"));
    assert_eq!(bash.matches("${__mfa_ps1}").count(), 1, "{bash}");

    // A user's PROMPT_COMMAND (string or array) stays, after ours, and sees `$?`.
    for setup in [
        "PROMPT_COMMAND='echo user-status=$?'",
        "PROMPT_COMMAND=('echo user-status=$?')",
    ] {
        let full = format!(
            "{setup}\neval \"$('{b}' init bash)\"\neval \"$('{b}' init bash)\"\n\
             declare -p PROMPT_COMMAND\nfalse\nfor c in \"${{PROMPT_COMMAND[@]}}\"; do eval \"$c\"; done",
            b = bin()
        );
        let out = assert_ok(
            &sandbox
                .command("bash")
                .args(["--norc", "-c", &full])
                .output()
                .unwrap(),
        );
        assert_eq!(out.matches("__mfa_hook").count(), 1, "{out}");
        assert!(out.contains("user-status=1"), "{out}");
    }

    let zsh = assert_ok(&in_shell(
        &sandbox,
        "zsh",
        &format!(
            "precmd() {{ print user-precmd; }}\nprecmd_functions+=(user_hook)\nuser_hook() {{ print user-status=$?; }}\n\
             eval \"$('{b}' init zsh)\"\nprint -r -- \"${{precmd_functions[*]}}\"\nprint -r -- \"$PROMPT\"\n\
             false\nfor f in $precmd_functions; do $f; done",
            b = bin()
        ),
    ));
    let mut lines = zsh.lines();
    assert_eq!(lines.next(), Some("__mfa_hook user_hook"));
    assert_eq!(zsh.matches("${__mfa_ps1}").count(), 1, "{zsh}");
    assert!(zsh.contains("user-status=1"), "{zsh}");
}

#[test]
fn an_expired_session_renews_in_place_without_a_code_and_keeps_its_flags() {
    let (aws, sandbox) = setup();
    let extra = "arn:aws:iam::210987654321:role/audit";
    for (shell, flag) in [("bash", "--role-arn "), ("zsh", "--role-arn=")] {
        let _ = sandbox.run(&["clear", "--all"]);
        let (gst, assume) = (aws.count("GetSessionToken"), aws.count("AssumeRole"));
        // MFA_MIN_TTL above a role's hour: the renewal must assume both
        // roles again, from the cached MFA session, without a code.
        let out = assert_ok(&in_shell(
            &sandbox,
            shell,
            &format!(
                "mfa use admin --token 123456 {flag}{extra} || exit 9\nold=$AWS_ACCESS_KEY_ID\n\
                 export MFA_MIN_TTL=4000 MFA_EXPIRES_AT=1\n__mfa_hook\n\
                 [ \"$AWS_ACCESS_KEY_ID\" != \"$old\" ] || echo not-renewed\n\
                 zmodload zsh/datetime 2>/dev/null\nprintf '%s|%s\\n' \"$(( MFA_EXPIRES_AT - ${{EPOCHSECONDS:-$(date +%s)}} ))\" \"$MFA_PROMPT\""
            ),
        ));
        assert!(!out.contains("not-renewed"), "{shell}: {out}");
        let (left, prompt) = out.trim().split_once('|').unwrap();
        let left: i64 = left.parse().unwrap();
        assert!(left > 3000, "{shell}: renewed, {left}s left");
        assert!(
            ["admin 59m", "admin 1h00m"].contains(&prompt),
            "{shell}: {prompt}"
        );
        assert_eq!(
            aws.count("GetSessionToken") - gst,
            1,
            "{shell}: one code, at `mfa use`"
        );
        assert_eq!(
            aws.count("AssumeRole") - assume,
            4,
            "{shell}: two roles, twice"
        );
        let last = aws.last_call("AssumeRole");
        assert_eq!(
            last["role_arn"], extra,
            "{shell}: --role-arn kept for renewal"
        );
        assert_eq!(last["token_code"], serde_json::Value::Null);
    }
}

#[test]
fn a_failed_renewal_shows_expired_and_is_not_tried_again() {
    let (_aws, sandbox) = setup();
    let (wrapper, log) = logging_wrapper(&sandbox);
    for shell in SHELLS {
        let _ = std::fs::remove_file(&log);
        let out = in_shell(
            &sandbox,
            shell,
            &format!(
                "mfa use admin --token 123456 || exit 9\nmfa clear --all 2>/dev/null\n__mfa_bin='{}'\n\
                 MFA_EXPIRES_AT=1\n__mfa_hook 2>/dev/null\nprintf '%s\\n' \"$MFA_PROMPT\"\n__mfa_hook\n__mfa_hook\nprintf '%s\\n' \"$MFA_PROMPT\"",
                wrapper.display()
            ),
        );
        let text = assert_ok(&out);
        assert_eq!(text, "admin expired\nadmin expired\n", "{shell}");
        assert_eq!(
            runs(&log),
            1,
            "{shell}: one attempt, no code source, then quiet"
        );

        // MFA_AUTO_RENEW=0: no attempt at all.
        let _ = std::fs::remove_file(&log);
        let text = assert_ok(&in_shell(
            &sandbox,
            shell,
            &format!(
                "mfa use admin --token 123456 || exit 9\n__mfa_bin='{}'\nMFA_AUTO_RENEW=0 MFA_EXPIRES_AT=1\n__mfa_hook\nprintf '%s\\n' \"$MFA_PROMPT\"",
                wrapper.display()
            ),
        ));
        assert_eq!(text, "admin expired\n", "{shell}");
        assert_eq!(runs(&log), 0, "{shell}");
    }
}

#[test]
fn a_renewal_window_longer_than_a_session_renews_once_not_at_every_prompt() {
    let (aws, sandbox) = setup();
    let (wrapper, log) = logging_wrapper(&sandbox);
    for shell in SHELLS {
        let _ = std::fs::remove_file(&log);
        let _ = sandbox.run(&["clear", "--all"]);
        let assume = aws.count("AssumeRole");
        // Roles last an hour; a window of 4000 s is always open.
        let text = assert_ok(&in_shell(
            &sandbox,
            shell,
            &format!(
                "mfa use admin --token 123456 || exit 9\n__mfa_bin='{}'\nexport MFA_RENEW_SECONDS=4000\n\
                 __mfa_hook\n__mfa_hook\n__mfa_hook\nprintf '%s\\n' \"$MFA_PROMPT\"",
                wrapper.display()
            ),
        ));
        assert!(
            text.starts_with("admin ") && !text.contains("expired"),
            "{shell}: {text}"
        );
        assert_eq!(runs(&log), 1, "{shell}: one renewal, then quiet");
        assert_eq!(
            aws.count("AssumeRole") - assume,
            2,
            "{shell}: `use`, then one real renewal"
        );
    }
}

#[test]
fn a_missing_binary_never_breaks_the_shell() {
    let (_aws, sandbox) = setup();
    for shell in SHELLS {
        let out = in_shell(
            &sandbox,
            shell,
            "__mfa_bin=/nonexistent/mfa\nmfa use admin --token 123456; echo use=$?\n\
             MFA_PROFILE=admin MFA_EXPIRES_AT=1\n__mfa_hook 2>/dev/null; echo hook=$?; printf '%s\\n' \"$MFA_PROMPT\"",
        );
        let text = assert_ok(&out);
        assert!(text.contains("use=127"), "{shell}: {text}");
        assert!(text.contains("hook=0\nadmin expired"), "{shell}: {text}");
    }
}

/// With a valid session, a prompt starts no process: strace counts the
/// processes of a run with 200 prompts and of one with none; they match.
#[test]
fn a_prompt_with_a_valid_session_starts_no_process() {
    let (_aws, sandbox) = setup();
    assert!(
        sandbox
            .run(&["env", "admin", "--token", "123456"])
            .status
            .success()
    );
    for shell in SHELLS {
        let count = |prompts: usize| {
            let trace = sandbox.path(&format!("trace-{shell}-{prompts}"));
            let script = format!(
                "eval \"$('{}' init {shell})\"\neval \"$('{}' env admin --shell {shell})\"\n__mfa_hook\n\
                 i=0; while [ $i -lt {prompts} ]; do __mfa_hook; i=$((i+1)); done\n\
                 case \"$MFA_PROMPT\" in 'admin '*m) ;; *) exit 3 ;; esac",
                bin(),
                bin()
            );
            let mut command = sandbox.command("strace");
            command
                .args([
                    "-f",
                    "-qq",
                    "-e",
                    "trace=execve,fork,vfork,clone,clone3",
                    "-o",
                ])
                .arg(&trace)
                .arg(shell);
            match shell {
                "zsh" => command.args(["-f", "-c", &script]),
                _ => command.args(["--norc", "-c", &script]),
            };
            let out = command.output().expect("strace (apt-get install strace)");
            assert!(out.status.success(), "{shell}: {}", stderr(&out));
            let text = std::fs::read_to_string(&trace).unwrap();
            // A call another process interrupts shows as two lines,
            // `clone(… <unfinished ...>` and `<... clone resumed>`: count the first.
            text.lines()
                .filter(|l| !l.contains("resumed>"))
                .filter(|l| l.contains("execve(") || l.contains("fork(") || l.contains("clone"))
                .count()
        };
        assert_eq!(
            count(200),
            count(0),
            "{shell}: processes started by 200 prompts"
        );
    }
}

/// A profile named `-h` (or `--help`, `-V`) reaches the binary as a value:
/// renewal once ran `mfa env -h` and evaluated clap's help text, and `mfa
/// use -- -h` printed help instead of setting the session.
#[test]
fn option_like_profile_names_are_values_in_use_and_renewal() {
    let (_aws, sandbox) = setup();
    sandbox.config(&option_like_profiles());
    for shell in SHELLS {
        for name in OPTION_LIKE {
            let out = assert_ok(&in_shell(
                &sandbox,
                shell,
                &format!(
                    "eval \"$('{b}' env --shell {shell} --token 123456 -- '{name}')\" || exit 9\n\
                     zmodload zsh/datetime 2>/dev/null\n\
                     MFA_EXPIRES_AT=$(( ${{EPOCHSECONDS:-$(date +%s)}} - 10 ))\n\
                     __mfa_hook\n\
                     printf 'renewed=%s|%s|%s\\n' \"$MFA_PROFILE\" \"$MFA_PROMPT\" \"${{__mfa_renew_blocked-}}\"\n\
                     mfa off\n\
                     mfa use --token 123456 -- '{name}' || exit 8\n\
                     printf 'use=%s|%s\\n' \"$MFA_PROFILE\" \"${{AWS_SESSION_TOKEN:+token}}\"",
                    b = bin()
                ),
            ));
            let lines: Vec<&str> = out.lines().collect();
            let renewed: Vec<&str> = lines[0]
                .strip_prefix("renewed=")
                .unwrap_or_else(|| panic!("{shell} {name}: {out}"))
                .split('|')
                .collect();
            assert_eq!(renewed[0], name, "{shell}: {out}");
            assert!(
                [format!("{name} 59m"), format!("{name} 1h00m")].contains(&renewed[1].to_string()),
                "{shell} {name}: renewed from the cached session: {out}"
            );
            assert_eq!(renewed[2], "", "{shell} {name}: renewal not blocked: {out}");
            assert_eq!(lines[1..], [format!("use={name}|token")], "{shell}: {out}");
        }
    }
}
