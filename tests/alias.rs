//! `mfa alias` evaluated in the real shells: the three modes, odd profile
//! names, a profile's own `mfa_alias`, and names that would hide a command.

mod support;

use std::path::PathBuf;

use support::*;

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_mfa")
}

fn setup() -> (FakeAws, Sandbox, PathBuf) {
    let aws = FakeAws::start();
    let sandbox = Sandbox::new(&aws);
    sandbox
        .config(&format!(
            "{}\n[profile team/prod@eu:1]\nrole_arn = {ADMIN_ROLE}\nsource_profile = alice\n\
             [profile long-name]\nrole_arn = {READONLY_ROLE}\nsource_profile = alice\nmfa_alias = ro\n",
            standard_config()
        ))
        .credentials(&standard_credentials());
    // A command on PATH that `aws-readonly` would hide.
    let path_dir = sandbox.path("bin");
    std::fs::create_dir_all(&path_dir).unwrap();
    let taken = path_dir.join("aws-readonly");
    std::fs::write(&taken, "#!/bin/sh\necho the real aws-readonly\n").unwrap();
    std::fs::set_permissions(&taken, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    (aws, sandbox, path_dir)
}

fn shell_with_path(
    sandbox: &Sandbox,
    shell: &str,
    path_dir: &std::path::Path,
    script: &str,
) -> std::process::Output {
    let mut command = sandbox.command(shell);
    command.env(
        "PATH",
        format!(
            "{}:{}",
            path_dir.display(),
            std::env::var("PATH").unwrap_or_default()
        ),
    );
    match shell {
        "fish" => command.args(["--no-config", "-c", script]),
        "zsh" => command.args(["-f", "-c", script]),
        _ => command.args(["--norc", "--noprofile", "-c", script]),
    };
    detach_from_terminal(&mut command);
    command.output().unwrap()
}

#[test]
fn alias_names_are_safe_and_never_hide_a_command() {
    let (_aws, sandbox, path_dir) = setup();
    let out = sandbox
        .mfa()
        .env(
            "PATH",
            format!("{}:{}", path_dir.display(), std::env::var("PATH").unwrap()),
        )
        .args(["alias", "--shell", "bash"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let names: Vec<&str> = text.lines().map(|l| l.split(' ').nth(1).unwrap()).collect();
    assert_eq!(
        names,
        ["aws-alice", "aws-admin", "aws-team-prod-eu-1", "ro"]
    );
    assert!(
        stderr(&out).contains("skipping `aws-readonly`"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("aws-readonly` for profile `readonly`: it would hide"));

    let out = sandbox.run(&["alias", "--shell", "bash", "--prefix", ""]);
    assert!(
        stdout(&out).contains("function admin {"),
        "{}",
        stdout(&out)
    );
    let out = sandbox
        .mfa()
        .env("PATH", "/usr/bin:/bin")
        .args(["alias", "--shell", "fish", "--prefix", "", "--mode", "exec"])
        .output()
        .unwrap();
    assert!(
        stdout(&out).starts_with("function alice;"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn use_mode_sets_the_session_in_the_current_shell() {
    let (_aws, sandbox, path_dir) = setup();
    for shell in ["bash", "zsh"] {
        let script = format!(
            "eval \"$('{b}' init {shell})\"\neval \"$('{b}' alias --shell {shell})\"\n\
             aws-team-prod-eu-1 --token 123456 || exit 9\nprintf '%s|%s\\n' \"$MFA_PROFILE\" \"${{AWS_SESSION_TOKEN:+token}}\"\n\
             ro; printf '%s\\n' \"$MFA_PROFILE\"\naws-readonly",
            b = bin()
        );
        let out = shell_with_path(&sandbox, shell, &path_dir, &script);
        assert!(out.status.success(), "{shell}: {}", stderr(&out));
        assert_eq!(
            stdout(&out),
            "team/prod@eu:1|token\nlong-name\nthe real aws-readonly\n",
            "{shell}"
        );
    }
    let script = format!(
        "'{b}' init fish | source\n'{b}' alias --shell fish | source\n\
         aws-team-prod-eu-1 --token 123456; or exit 9\nprintf '%s|%s\\n' \"$MFA_PROFILE\" (set -q AWS_SESSION_TOKEN; and echo token)\n\
         ro; printf '%s\\n' \"$MFA_PROFILE\"\naws-readonly",
        b = bin()
    );
    let out = shell_with_path(&sandbox, "fish", &path_dir, &script);
    assert!(out.status.success(), "fish: {}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "team/prod@eu:1|token\nlong-name\nthe real aws-readonly\n"
    );
}

#[test]
fn exec_mode_runs_a_command_with_the_session() {
    let (_aws, sandbox, path_dir) = setup();
    assert!(
        sandbox
            .run(&["env", "admin", "--token", "123456"])
            .status
            .success()
    );
    for shell in ["bash", "zsh", "fish"] {
        // The default program is the AWS CLI: `aws-admin sts get-caller-identity`.
        let eval = if shell == "fish" {
            format!("'{}' alias --shell fish --mode exec | source", bin())
        } else {
            format!("eval \"$('{}' alias --shell {shell} --mode exec)\"", bin())
        };
        let script = format!(
            "{eval}\naws-admin sts get-caller-identity --query Arn --output text --region us-east-1"
        );
        let out = shell_with_path(&sandbox, shell, &path_dir, &script);
        assert!(out.status.success(), "{shell}: {}", stderr(&out));
        assert!(
            stdout(&out).contains("assumed-role/admin/mfa-alice"),
            "{shell}: {}",
            stdout(&out)
        );

        // With --command '' the arguments are the command, and its status comes back.
        let eval = eval.replace("--mode exec", "--mode exec --command ''");
        let script = format!(
            "{eval}\naws-admin sh -c 'printf \"%s\" \"$MFA_PROFILE\"; exit 3'\necho \" status=$status$?\""
        );
        let out = shell_with_path(
            &sandbox,
            shell,
            &path_dir,
            &script.replace("$status$?", if shell == "fish" { "$status" } else { "$?" }),
        );
        assert_eq!(
            stdout(&out),
            "admin status=3\n",
            "{shell}: {}",
            stderr(&out)
        );
    }
}

#[test]
fn shell_mode_opens_a_subshell_with_the_session() {
    let (_aws, sandbox, path_dir) = setup();
    assert!(
        sandbox
            .run(&["env", "readonly", "--token", "123456"])
            .status
            .success()
    );
    let fake_shell = sandbox.path("fake-shell");
    std::fs::write(
        &fake_shell,
        "#!/bin/sh\nprintf 'subshell:%s\\n' \"$MFA_PROFILE\"\n",
    )
    .unwrap();
    std::fs::set_permissions(
        &fake_shell,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    for shell in ["bash", "zsh", "fish"] {
        let eval = if shell == "fish" {
            format!("'{}' alias --shell fish --mode shell | source", bin())
        } else {
            format!("eval \"$('{}' alias --shell {shell} --mode shell)\"", bin())
        };
        let script = format!("{eval}\nSHELL='{}' ro", fake_shell.display());
        let script = if shell == "fish" {
            format!("{eval}\nset -x SHELL '{}'; ro", fake_shell.display())
        } else {
            script
        };
        let out = shell_with_path(&sandbox, shell, &path_dir, &script);
        assert!(out.status.success(), "{shell}: {}", stderr(&out));
        assert_eq!(stdout(&out), "subshell:long-name\n", "{shell}");
    }
}

/// Every name `shell` gives a meaning of its own, read from the shell itself
/// after the hook is installed (so the hook's own functions count): bash
/// `compgen -k -b` and its functions; zsh's `reswords`, `builtins` and
/// `functions`; fish `builtin -n` and `functions -an` (its shipped
/// functions). mfa's own list is added, so every name it knows is tried too.
fn names_the_shell_reserves(sandbox: &Sandbox, shell: &str) -> Vec<String> {
    let list = match shell {
        "bash" => "compgen -k -b -A function",
        "zsh" => {
            "zmodload zsh/parameter; print -rl -- ${(k)reswords} ${(k)builtins} ${(k)functions}"
        }
        _ => "builtin -n; functions -an",
    };
    let init = if shell == "fish" {
        format!("'{}' init fish | source", bin())
    } else {
        format!("eval \"$('{}' init {shell})\"", bin())
    };
    let out = shell_with_path(
        sandbox,
        shell,
        &sandbox.path("bin"),
        &format!("{init}\n{list}"),
    );
    assert!(out.status.success(), "{shell}: {}", stderr(&out));
    let shell_kind = mfa::shell::Shell::from_name(shell).unwrap();
    let mut names: Vec<String> = stdout(&out)
        .lines()
        .map(str::to_string)
        .chain(
            mfa::cmd::alias::reserved_names(shell_kind)
                .iter()
                .map(|n| n.to_string()),
        )
        .filter(|n| !n.is_empty())
        .collect();
    names.sort();
    names.dedup();
    for known in ["coproc", "mfa", "__mfa_hook"] {
        let known = if shell == "fish" && known == "coproc" {
            "while"
        } else {
            known
        };
        assert!(
            names.iter().any(|n| n == known),
            "{shell} did not list `{known}`"
        );
    }
    names
}

/// What each name is in the shell (keyword, builtin, function and its
/// body), one record per name, from a file of names.
fn snapshot_command(shell: &str, names: &std::path::Path) -> String {
    let names = names.display();
    match shell {
        "bash" => format!(
            "mapfile -t __names < '{names}'\n\
             snap() {{ local n; for n in \"${{__names[@]}}\"; do printf '==%s\\n' \"$n\"; type -- \"$n\" 2>&1; done; }}"
        ),
        "zsh" => format!(
            "__names=(\"${{(@f)$(<'{names}')}}\")\n\
             snap() {{ local n; for n in \"${{__names[@]}}\"; do print -r -- \"==$n\"; whence -w -- \"$n\"; whence -c -- \"$n\"; done 2>&1; }}"
        ),
        _ => format!(
            "set -g __names (cat '{names}')\n\
             function snap; for n in $__names; printf '==%s\\n' $n; type -- $n 2>&1; end; end"
        ),
    }
}

fn records(text: &str) -> std::collections::BTreeMap<String, String> {
    text.split("\n==")
        .map(|r| r.strip_prefix("==").unwrap_or(r))
        .filter_map(|r| r.split_once('\n').or(Some((r, ""))))
        .map(|(name, what)| (name.to_string(), what.to_string()))
        .collect()
}

/// With EVERY name a shell reserves as some profile's `mfa_alias`, `mfa
/// alias` output (every mode) evaluates in that shell to the end, redefines
/// none of them, and the aliases after them still arrive; each usable name
/// is skipped with a warning.
#[test]
fn no_keyword_builtin_or_shell_function_is_ever_an_alias() {
    let (_aws, sandbox, _path_dir) = setup();
    for shell in ["bash", "zsh", "fish"] {
        let names = names_the_shell_reserves(&sandbox, shell);
        let mut config = String::new();
        for (i, name) in names.iter().enumerate() {
            config.push_str(&format!("[profile zz-hostile-{i}]\nmfa_alias = {name}\n\n"));
        }
        config.push_str("[profile zz-safe-1]\nmfa_alias = zz-ok-one\n\n[profile zz-safe-2]\n");
        sandbox.config(&config);
        let names_file = sandbox.path("names");
        std::fs::write(&names_file, names.join("\n") + "\n").unwrap();

        for mode in ["use", "exec", "shell"] {
            let (before, after) = (sandbox.path("before"), sandbox.path("after"));
            let (init, eval, status, kinds) = if shell == "fish" {
                (
                    format!("'{}' init fish | source", bin()),
                    format!(
                        "'{}' alias --shell fish --mode {mode} 2>/dev/null | source",
                        bin()
                    ),
                    "$status",
                    "type -t zz-ok-one aws-zz-safe-2",
                )
            } else {
                (
                    format!("eval \"$('{}' init {shell})\"", bin()),
                    format!(
                        "eval \"$('{}' alias --shell {shell} --mode {mode} 2>/dev/null)\"",
                        bin()
                    ),
                    "$?",
                    if shell == "bash" {
                        "type -t zz-ok-one aws-zz-safe-2"
                    } else {
                        "whence -w zz-ok-one aws-zz-safe-2"
                    },
                )
            };
            let script = format!(
                "{init}\n{snap}\nsnap > '{before}'\n{eval}\nprintf 'eval=%s\\n' {status}\n\
                 snap > '{after}'\n{kinds}\necho sentinel",
                snap = snapshot_command(shell, &names_file),
                before = before.display(),
                after = after.display(),
            );
            let out = shell_with_path(&sandbox, shell, &sandbox.path("bin"), &script);
            let text = stdout(&out);
            let kinds = if shell == "zsh" {
                "zz-ok-one: function\naws-zz-safe-2: function\n"
            } else {
                "function\nfunction\n"
            };
            assert_eq!(
                text,
                format!("eval=0\n{kinds}sentinel\n"),
                "{shell} {mode}: the eval stopped early or lost the aliases after the hostile ones: {}",
                stderr(&out)
            );
            let before = records(&std::fs::read_to_string(&before).unwrap());
            let after = records(&std::fs::read_to_string(&after).unwrap());
            assert_eq!(before.len(), names.len(), "{shell}: {before:?}");
            let changed: Vec<&String> = names
                .iter()
                .filter(|n| before.get(*n) != after.get(*n))
                .collect();
            assert!(
                changed.is_empty(),
                "{shell} {mode}: redefined {changed:?}: {:?}",
                changed.iter().map(|n| after.get(*n)).collect::<Vec<_>>()
            );

            let out = sandbox.run(&["alias", "--shell", shell, "--mode", mode]);
            assert!(out.status.success(), "{shell} {mode}: {}", stderr(&out));
            for name in &names {
                if mfa::cmd::alias::command_name("", name) == *name && !name.starts_with(['-', '.'])
                {
                    assert!(
                        stderr(&out)
                            .contains(&format!("skipping `{name}` for profile `zz-hostile-")),
                        "{shell} {mode}: no warning for `{name}`: {}",
                        stderr(&out)
                    );
                }
            }
        }
    }
}

/// Profiles whose names look like options: their aliases pass the name as
/// a value (after `--`) in every mode and shell, where `mfa use -h` printed
/// help and `mfa exec -h` ran no command.
#[test]
fn aliases_pass_option_like_profile_names_as_values() {
    let (_aws, sandbox, path_dir) = setup();
    let mut config = standard_config();
    for name in ["-h", "--help", "-V"] {
        config.push_str(&format!(
            "\n[profile {name}]\nrole_arn = {ADMIN_ROLE}\nsource_profile = alice\n"
        ));
    }
    sandbox.config(&config);
    let fake_shell = sandbox.path("fake-shell");
    std::fs::write(
        &fake_shell,
        "#!/bin/sh\nprintf 'subshell:%s\\n' \"$MFA_PROFILE\"\n",
    )
    .unwrap();
    std::fs::set_permissions(
        &fake_shell,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let aliases = [("aws--h", "-h"), ("aws---help", "--help"), ("aws--V", "-V")];
    for shell in ["bash", "zsh", "fish"] {
        let load = |mode: &str| {
            if shell == "fish" {
                format!(
                    "'{b}' init fish | source\n'{b}' alias --shell fish --mode {mode} --command '' | source",
                    b = bin()
                )
            } else {
                format!(
                    "eval \"$('{b}' init {shell})\"\neval \"$('{b}' alias --shell {shell} --mode {mode} --command '')\"",
                    b = bin()
                )
            }
        };
        let mut script = load("use");
        for (alias, _) in aliases {
            script.push_str(&format!(
                "\n{alias} --token 123456; printf 'use=%s\\n' \"$MFA_PROFILE\""
            ));
        }
        let mut exec = load("exec");
        for (alias, _) in aliases {
            exec.push_str(&format!(
                "\n{alias} sh -c 'printf \"exec=%s|%s\\n\" \"$MFA_PROFILE\" \"$1\"' sh -h"
            ));
        }
        let mut subshell = load("shell");
        let set_shell = if shell == "fish" {
            format!("set -x SHELL '{}'", fake_shell.display())
        } else {
            format!("export SHELL='{}'", fake_shell.display())
        };
        subshell.push_str(&format!("\n{set_shell}"));
        for (alias, _) in aliases {
            subshell.push_str(&format!("\n{alias}"));
        }
        let mut expected = String::new();
        for (_, name) in aliases {
            expected.push_str(&format!("use={name}\n"));
        }
        for (_, name) in aliases {
            expected.push_str(&format!("exec={name}|-h\n"));
        }
        for (_, name) in aliases {
            expected.push_str(&format!("subshell:{name}\n"));
        }
        let mut got = String::new();
        for script in [script, exec, subshell] {
            let out = shell_with_path(&sandbox, shell, &path_dir, &script);
            got.push_str(&stdout(&out));
            assert!(out.status.success(), "{shell}: {}\n{}", got, stderr(&out));
        }
        assert_eq!(got, expected, "{shell}");
    }
}
