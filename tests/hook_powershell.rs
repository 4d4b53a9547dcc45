//! PowerShell 7 integration, checked without PowerShell (it cannot be
//! installed where the tests run): the scripts `mfa init powershell`,
//! `mfa alias --shell powershell` and `mfa completions powershell` print are
//! parsed with the tree-sitter PowerShell grammar (no ERROR or MISSING node),
//! every verbatim string in them is decoded again with PowerShell's own lexer
//! rule (see support/powershell.rs), and the hook's structure is held to its
//! design: which functions it defines, which commands run under which
//! condition and in which order, and which commands the prompt can reach.
//!
//! What this cannot show is PowerShell running the hook; the arithmetic of
//! the segment and the behaviour at the terminal are checked in the real
//! shells (bash, zsh, fish) only.

#[path = "support/powershell.rs"]
mod powershell;
mod support;

use std::collections::BTreeSet;
use std::path::PathBuf;

use mfa::cli::AliasMode;
use mfa::shell::Shell;
use powershell::*;
use support::*;

/// The functions the hook defines; each must be defined exactly once.
const HOOK_FUNCTIONS: [&str; 8] = [
    "mfa",
    "prompt",
    "__mfa_apply",
    "__mfa_use",
    "__mfa_off",
    "__mfa_renew",
    "__mfa_seconds",
    "__mfa_update",
];

/// Paths the binary may have on some machine, each a way to break quoting.
const ODD_PATHS: [&str; 12] = [
    "C:\\it's \u{2019}odd\\mfa.exe",
    "/opt/my tools/mfa",
    "'\u{2018}\u{2019}\u{201A}\u{201B}",
    "\u{2019}",
    "$(Remove-Item -Recurse ~)/mfa",
    "`n`$x\\mfa",
    "a\"b\u{201C}c\u{201D}d\u{201E}e",
    "#<# @args ; & | { } #>",
    "\\\\server\\share\\mfa.exe",
    "/\u{65E5}\u{672C}/\u{1F511}/mfa",
    "a'\n$env:X = 'b",
    "''",
];

fn offline() -> Sandbox {
    Sandbox::with_endpoint("http://127.0.0.1:9".into())
}

fn mfa_ok(sandbox: &Sandbox, args: &[&str]) -> String {
    let output = sandbox.run(args);
    assert!(
        output.status.success(),
        "mfa {args:?} failed: {}",
        stderr(&output)
    );
    stdout(&output)
}

fn parsed(script: &str) -> PsOutline {
    outline(script).unwrap_or_else(|e| panic!("{e}\n--- script ---\n{script}"))
}

fn this_binary() -> PathBuf {
    std::fs::canonicalize(env!("CARGO_BIN_EXE_mfa")).expect("canonical path of the mfa binary")
}

fn hook(binary: &str, show_prompt: bool) -> String {
    mfa::cmd::init::script(Shell::Powershell, binary, show_prompt)
}

/// The only function definition of `name`.
fn function<'o>(o: &'o PsOutline, name: &str) -> &'o PsFunction {
    match o.function(name).as_slice() {
        [f] => f,
        other => panic!("{} definitions of `{name}`", other.len()),
    }
}

/// Commands directly in function `name`.
fn commands_in<'o>(o: &'o PsOutline, name: &str) -> Vec<&'o PsCommand> {
    o.commands
        .iter()
        .filter(|c| c.place.in_function(name))
        .collect()
}

/// Assignments directly in function `name`.
fn assignments_in<'o>(o: &'o PsOutline, name: &str) -> Vec<&'o PsAssignment> {
    o.assignments
        .iter()
        .filter(|a| a.place.in_function(name))
        .collect()
}

/// The only command or assignment in function `function` whose text (for a
/// command) or `target = value` (for an assignment) satisfies `pick`, as
/// its place.
fn only_place(o: &PsOutline, function: &str, what: &str, pick: impl Fn(&str) -> bool) -> Place {
    let commands = commands_in(o, function)
        .into_iter()
        .filter(|c| pick(&c.text))
        .map(|c| c.place.clone());
    let assignments = assignments_in(o, function)
        .into_iter()
        .filter(|a| pick(&format!("{} {} {}", a.target, a.operator, a.value)))
        .map(|a| a.place.clone());
    let found: Vec<Place> = commands.chain(assignments).collect();
    match found.as_slice() {
        [place] => place.clone(),
        other => panic!("{} matches for {what} in {function}", other.len()),
    }
}

/// The decoded value of the one top-level assignment to `target`.
fn top_level_value(o: &PsOutline, target: &str) -> (String, Option<String>) {
    match o.assignments_to(target).as_slice() {
        [a] => {
            assert!(
                a.place.top_level(),
                "{target} is assigned inside a function"
            );
            (a.value.clone(), a.verbatim.clone())
        }
        other => panic!("{} assignments to {target}", other.len()),
    }
}

/// The hook's invariants whatever the path and prompt flag; returns the
/// outline for further checks.
fn check_hook(script: &str, binary: &str, show_prompt: bool) -> PsOutline {
    let o = parsed(script);

    for name in HOOK_FUNCTIONS {
        let f = function(&o, name);
        assert_eq!(
            f.scope.as_deref(),
            Some("global"),
            "`{name}` must be defined as global:{name}, whatever scope imports the hook"
        );
    }
    for f in &o.functions {
        assert!(
            f.name == "mfa" || f.name == "prompt" || f.name.starts_with("__mfa"),
            "unexpected function `{}`",
            f.name
        );
    }

    // Invoke-Expression runs the hook in the caller's scope: at the top level
    // only globals are set, and every global the hook owns has the prefix.
    for a in &o.assignments {
        if a.place.top_level() {
            assert!(
                a.target.starts_with("$global:"),
                "top-level assignment to {} would land in the importing scope",
                a.target
            );
        }
        if let Some(name) = a.target.strip_prefix("$global:") {
            assert!(
                name.starts_with("__mfa") || name == "MFA_PROMPT" || name == "LASTEXITCODE",
                "global `{name}` without the __mfa prefix"
            );
        }
    }

    // The binary's path, exactly.
    let (_, bin) = top_level_value(&o, "$global:__mfa_bin");
    assert_eq!(bin.as_deref(), Some(binary), "the binary path was mangled");

    // The prompt flag, and the segment written only under it.
    let (flag, _) = top_level_value(&o, "$global:__mfa_show_prompt");
    assert_eq!(flag, if show_prompt { "1" } else { "0" });
    let writes = o.commands_named("Write-Host");
    assert_eq!(writes.len(), 2, "the segment, with and without colour");
    for write in writes {
        assert!(
            write.place.in_function("prompt")
                && write.place.guarded_by("$global:__mfa_show_prompt -ne 0"),
            "the segment must be written only when the prompt is shown: {write:?}"
        );
    }
    o
}

#[test]
fn init_powershell_prints_the_hook_with_this_binary() {
    let sandbox = offline();
    let script = mfa_ok(&sandbox, &["init", "powershell"]);
    let binary = this_binary();
    let binary = binary.to_str().expect("UTF-8 path");
    check_hook(&script, binary, true);
    assert_eq!(script.trim_end(), hook(binary, true).trim_end());
}

#[test]
fn init_pwsh_no_prompt_writes_no_segment() {
    let sandbox = offline();
    let script = mfa_ok(&sandbox, &["init", "pwsh", "--no-prompt"]);
    let binary = this_binary();
    let binary = binary.to_str().expect("UTF-8 path");
    check_hook(&script, binary, false);

    // The same hook, but for the flag: MFA_PROMPT is still kept current.
    let with_prompt = mfa_ok(&sandbox, &["init", "pwsh"]);
    let differ: Vec<(&str, &str)> = script
        .lines()
        .zip(with_prompt.lines())
        .filter(|(a, b)| a != b)
        .collect();
    assert_eq!(
        differ,
        vec![(
            "$global:__mfa_show_prompt = 0",
            "$global:__mfa_show_prompt = 1"
        )]
    );
}

#[test]
fn the_template_holds_each_placeholder_once_as_a_value() {
    let template = mfa::cmd::init::script_template(Shell::Powershell);
    assert_eq!(template.matches("__MFA_BIN__").count(), 1);
    assert_eq!(template.matches("__MFA_SHOW_PROMPT__").count(), 1);
    // The template is itself valid PowerShell: each placeholder stands where
    // its value goes, so the replacement cannot land in a string or comment.
    let o = parsed(template);
    assert_eq!(top_level_value(&o, "$global:__mfa_bin").0, "__MFA_BIN__");
    assert_eq!(
        top_level_value(&o, "$global:__mfa_show_prompt").0,
        "__MFA_SHOW_PROMPT__"
    );
    // ASCII only: PowerShell reads typographic quotes and dashes as syntax.
    assert!(template.is_ascii(), "shell/mfa.ps1 must be ASCII");
}

#[test]
fn the_binary_path_arrives_intact() {
    for path in ODD_PATHS {
        for show_prompt in [true, false] {
            let script = hook(path, show_prompt);
            check_hook(&script, path, show_prompt);
        }
    }
}

#[test]
fn mfa_passes_use_and_off_to_env_and_everything_else_to_the_binary() {
    let o = check_hook(&hook("/usr/bin/mfa", true), "/usr/bin/mfa", true);

    // The binary is only ever called through the saved path: a bare `mfa`
    // inside the hook would call the function itself.
    assert!(o.commands_named("mfa").is_empty());
    for call in o.commands_named("$global:__mfa_bin") {
        assert_eq!(call.invocation.as_deref(), Some("&"));
        assert!(
            call.place.in_function("mfa")
                || call.place.in_function("__mfa_apply")
                || call.place.in_function("__mfa_use"),
            "the binary runs from mfa (pass-through), __mfa_apply (env) and __mfa_use (help) only: {call:?}"
        );
    }

    // mfa: use and off by exact name, then everything else unchanged.
    let dispatch: Vec<(&str, &Place)> = commands_in(&o, "mfa")
        .into_iter()
        .map(|c| (c.text.as_str(), &c.place))
        .collect();
    let find = |text: &str| {
        dispatch
            .iter()
            .find(|(t, _)| *t == text)
            .map(|(_, p)| *p)
            .unwrap_or_else(|| panic!("no `{text}` in mfa: {dispatch:?}"))
    };
    assert!(find("__mfa_use $rest").guarded_by("$command -ceq 'use'"));
    let off = find("__mfa_off");
    assert!(off.guarded_by("$command -ceq 'off'"));
    assert!(
        off.guards.contains(&Guard {
            condition: "$command -ceq 'use'".to_string(),
            holds: false
        }),
        "off runs only when the command is not use: {off:?}"
    );
    let rest = find("& $global:__mfa_bin @args");
    assert!(
        rest.guards.is_empty(),
        "every other subcommand goes to the binary: {rest:?}"
    );

    // use: `env --shell powershell ARGS`; off: `env --unset --shell powershell`.
    let use_args = only_place(&o, "__mfa_use", "the env arguments", |t| {
        t.starts_with("[object[]]$envArgs =")
    });
    let use_value = &assignments_in(&o, "__mfa_use")
        .into_iter()
        .find(|a| a.place == use_args)
        .expect("envArgs")
        .value;
    assert_eq!(use_value, "@('env', '--shell', 'powershell') + @($MfaArgs)");
    only_place(&o, "__mfa_use", "the env run", |t| {
        t == "__mfa_apply $envArgs"
    });
    only_place(&o, "__mfa_off", "the unset run", |t| {
        t == "__mfa_apply @('env', '--unset', '--shell', 'powershell')"
    });

    // __mfa_apply: the binary inside a try (a missing binary is an error
    // message, not a broken shell), and its output run only on exit code 0,
    // through Out-String so that the lines form one script.
    let run = only_place(&o, "__mfa_apply", "the binary", |t| {
        t == "& $global:__mfa_bin @MfaArgs"
    });
    assert!(run.in_try, "the binary must run inside try: {run:?}");
    let iex = only_place(&o, "__mfa_apply", "Invoke-Expression", |t| {
        t == "Invoke-Expression"
    });
    assert!(iex.guarded_by("$LASTEXITCODE -eq 0"), "{iex:?}");
    assert!(iex.start > run.start);
    let pipe = only_place(&o, "__mfa_apply", "the pipeline", |t| {
        t.contains("Invoke-Expression") && t.contains('=')
    });
    let pipe_text = assignments_in(&o, "__mfa_apply")
        .into_iter()
        .find(|a| a.place == pipe)
        .map(|a| a.value.clone())
        .unwrap_or_default();
    assert_eq!(pipe_text, "$code | Out-String | Invoke-Expression");
}

#[test]
fn use_remembers_role_and_duration_for_renewal_but_never_the_code() {
    let script = hook("/usr/bin/mfa", true);
    let o = check_hook(&script, "/usr/bin/mfa", true);
    assert!(
        !script.contains("--token"),
        "the one-time code must never be remembered"
    );
    let body = &function(&o, "__mfa_use").text;
    for test in [
        "$arg -ceq '--role-arn' -or $arg -ceq '--duration'",
        "$arg -clike '--role-arn=*' -or $arg -clike '--duration=*'",
    ] {
        assert!(body.contains(test), "__mfa_use does not test {test}");
    }
    // Set after a successful env only, and renewal unblocked with it.
    let applied = only_place(&o, "__mfa_use", "the env run", |t| {
        t == "__mfa_apply $envArgs"
    });
    for (target, value) in [
        ("$global:__mfa_renew_flags", "$flags.ToArray()"),
        ("$global:__mfa_renew_blocked", "$false"),
    ] {
        let set = only_place(&o, "__mfa_use", target, |t| {
            t == format!("{target} = {value}")
        });
        assert!(set.start > applied.start);
    }
    // off forgets both.
    for target in ["$global:__mfa_renew_flags", "$global:__mfa_renew_blocked"] {
        assert_eq!(
            assignments_in(&o, "__mfa_off")
                .iter()
                .filter(|a| a.target == target)
                .count(),
            1,
            "__mfa_off must reset {target}"
        );
    }
}

/// `mfa use '--' '-h'` sets the `-h` profile: both walks over the
/// arguments stop at `--` (every word after it is a value), the first
/// before it tests for help, the second before it remembers a flag.
#[test]
fn use_reads_every_word_after_a_double_dash_as_a_value() {
    let o = check_hook(&hook("/usr/bin/mfa", true), "/usr/bin/mfa", true);
    let body = &function(&o, "__mfa_use").text;
    let stop = "if ($arg -ceq '--') {\n            break\n        }";
    let stops: Vec<usize> = body.match_indices(stop).map(|(at, _)| at).collect();
    let help = body.find("$arg -ceq '-h'").expect("the help test");
    let flags = body.find("$arg -ceq '--role-arn'").expect("the flag test");
    assert!(
        matches!(stops[..], [first, second] if first < help && help < second && second < flags),
        "{body}"
    );
    let help_run = only_place(&o, "__mfa_use", "the help run", |t| {
        t == "& $global:__mfa_bin env @MfaArgs"
    });
    assert!(help_run.guarded_by("$arg -ceq '-h' -or $arg -ceq '--help'"));
}

#[test]
fn renewal_is_blocked_before_it_tries_and_runs_env_for_the_same_profile() {
    let o = check_hook(&hook("/usr/bin/mfa", true), "/usr/bin/mfa", true);

    let block = only_place(&o, "__mfa_renew", "the block", |t| {
        t == "$global:__mfa_renew_blocked = $true"
    });
    // The profile last, after `--`: a profile named `-h` is not help.
    let args = only_place(&o, "__mfa_renew", "the env arguments", |t| {
        t == "[object[]]$envArgs = @('env', '--shell', 'powershell') \
              + @($global:__mfa_renew_flags) + @('--', $env:MFA_PROFILE)"
    });
    let run = only_place(&o, "__mfa_renew", "the env run", |t| {
        t == "__mfa_apply $envArgs"
    });
    let unblock = only_place(&o, "__mfa_renew", "the unblock", |t| {
        t == "$global:__mfa_renew_blocked = $false"
    });
    assert!(block.start < args.start && args.start < run.start && run.start < unblock.start);
    assert!(run.in_try, "a failing renewal must not escape: {run:?}");
    assert!(block.guards.is_empty(), "the block is set unconditionally");

    // Tried only when due, allowed and not blocked; `expired` shows while it
    // runs, so a Ctrl-C leaves `expired`.
    let call = only_place(&o, "__mfa_update", "the renewal", |t| {
        t == "__mfa_renew $renew"
    });
    let expired = only_place(&o, "__mfa_update", "expired", |t| {
        t == "$global:MFA_PROMPT = $env:MFA_PROFILE + ' expired'"
    });
    for condition in [
        "$left -le $renew",
        "$env:MFA_AUTO_RENEW -cne '0'",
        "-not $global:__mfa_renew_blocked",
    ] {
        assert!(call.guarded_by(condition), "renewal not under {condition}");
        assert!(expired.guarded_by(condition));
    }
    assert!(expired.start < call.start);

    // The clock is .NET's, not a process.
    assert!(
        function(&o, "__mfa_update")
            .text
            .contains("[DateTimeOffset]::UtcNow.ToUnixTimeSeconds()")
    );
}

/// Non-hook commands reachable from `start` through hook functions, each
/// with the chain of functions that leads to it.
fn reachable(o: &PsOutline, start: &str) -> Vec<(Vec<String>, String)> {
    let hook_functions: BTreeSet<&str> = o.functions.iter().map(|f| f.name.as_str()).collect();
    let mut out = Vec::new();
    let mut stack = vec![vec![start.to_string()]];
    while let Some(chain) = stack.pop() {
        let current = chain.last().expect("non-empty chain");
        for command in commands_in(o, current) {
            let name = command.name.as_str();
            if command.invocation.is_none() && hook_functions.contains(name) {
                if !chain.iter().any(|c| c == name) {
                    let mut next = chain.clone();
                    next.push(name.to_string());
                    stack.push(next);
                }
            } else {
                out.push((chain.clone(), command.name.clone()));
            }
        }
    }
    out
}

#[test]
fn the_prompt_starts_no_process_except_to_renew() {
    let o = check_hook(&hook("/usr/bin/mfa", true), "/usr/bin/mfa", true);
    // Cmdlets (no process) and the user's own prompt.
    let in_process: BTreeSet<&str> = ["Get-Variable", "Write-Host", "Write-Error", "$userPrompt"]
        .into_iter()
        .collect();
    let mut renewal_only = BTreeSet::new();
    for (chain, command) in reachable(&o, "prompt") {
        if in_process.contains(command.as_str()) {
            continue;
        }
        assert!(
            chain.iter().any(|f| f == "__mfa_renew"),
            "the prompt reaches `{command}` outside renewal, via {chain:?}"
        );
        renewal_only.insert(command);
    }
    // Renewal: the binary, and running what it printed.
    assert_eq!(
        renewal_only,
        ["$global:__mfa_bin", "Invoke-Expression", "Out-String"]
            .into_iter()
            .map(str::to_string)
            .collect()
    );
}

#[test]
fn the_prompt_wrapper_keeps_status_and_exit_code_and_survives_failures() {
    let o = check_hook(&hook("/usr/bin/mfa", true), "/usr/bin/mfa", true);
    let prompt = function(&o, "prompt");
    let outer = &prompt.place.guards;

    // Everything directly in the prompt, in order.
    let mut items: Vec<(usize, String, &Place)> = commands_in(&o, "prompt")
        .into_iter()
        .map(|c| (c.place.start, c.text.clone(), &c.place))
        .chain(assignments_in(&o, "prompt").into_iter().map(|a| {
            (
                a.place.start,
                format!("{} = {}", a.target, a.value),
                &a.place,
            )
        }))
        .collect();
    items.sort_by_key(|(start, _, _)| *start);
    let texts: Vec<&str> = items.iter().map(|(_, t, _)| t.as_str()).collect();

    // First $?, then the exit code, before anything can change them.
    let status_var = texts[0]
        .strip_suffix(" = $?")
        .unwrap_or_else(|| panic!("the prompt must save $? first: {texts:?}"));
    let code_var = texts[1]
        .split_once(" = ")
        .filter(|(_, value)| value.contains("LASTEXITCODE"))
        .map(|(var, _)| var)
        .unwrap_or_else(|| panic!("the prompt must save LASTEXITCODE second: {texts:?}"));

    // The hook's work cannot break the prompt.
    let update = only_place(&o, "prompt", "the update", |t| t == "__mfa_update");
    assert!(update.in_try, "__mfa_update must run inside try");
    assert!(prompt.text.contains("} catch {"));

    // The user's prompt runs last, with the exit code restored and `$?`
    // handed on by a failing command right before it.
    let (last_start, last, _) = items.last().expect("statements");
    assert_eq!(last, "& $userPrompt", "the user's prompt must run last");
    let restore = format!("$global:LASTEXITCODE = {code_var}");
    let unconditional_restores: Vec<usize> = items
        .iter()
        .filter(|(_, t, p)| *t == restore && &p.guards == outer && !p.in_try)
        .map(|(s, _, _)| *s)
        .collect();
    assert!(
        unconditional_restores
            .iter()
            .any(|s| *s > update.start && s < last_start),
        "LASTEXITCODE must be restored after the update and before the user's prompt: {texts:?}"
    );
    let fail = &items[items.len() - 2];
    assert_eq!(fail.1, "Write-Error -Message '' -ErrorAction Ignore");
    assert!(fail.2.guarded_by(&format!("-not {status_var}")));
    assert!(
        items
            .iter()
            .all(|(s, t, _)| *s < fail.0 || *s >= *last_start || *t == fail.1),
        "nothing may run between the failing command and the user's prompt"
    );

    // The user's prompt, or PowerShell's default when there was none.
    only_place(&o, "prompt", "the saved prompt", |t| {
        t == "$userPrompt = $global:__mfa_user_prompt"
    });
}

#[test]
fn importing_twice_wraps_the_prompt_once_and_keeps_state() {
    let o = check_hook(&hook("/usr/bin/mfa", true), "/usr/bin/mfa", true);
    let wrapped =
        "-not (Get-Variable -Name __mfa_prompt_wrapped -Scope Global -ErrorAction Ignore)";

    let prompt = function(&o, "prompt");
    assert_eq!(
        prompt.place.guards,
        vec![Guard {
            condition: wrapped.to_string(),
            holds: true
        }],
        "the prompt must be wrapped only when it was not yet"
    );
    let mark = o.assignments_to("$global:__mfa_prompt_wrapped");
    let save = o.assignments_to("$global:__mfa_user_prompt");
    assert_eq!((mark.len(), save.len()), (1, 1));
    for a in [mark[0], save[0]] {
        assert!(a.place.top_level() && a.place.guarded_by(wrapped), "{a:?}");
        assert!(a.place.start < prompt.place.start, "{a:?}");
    }
    assert_eq!(save[0].value, "$function:prompt");

    // State survives a second import.
    for name in ["__mfa_renew_flags", "__mfa_renew_blocked"] {
        let init: Vec<&PsAssignment> = o
            .assignments_to(&format!("$global:{name}"))
            .into_iter()
            .filter(|a| a.place.top_level())
            .collect();
        assert_eq!(init.len(), 1, "{name}");
        assert!(
            init[0]
                .place
                .guarded_by(&format!("Get-Variable -Name {name} -Scope Global")),
            "{name} must be initialised only when it does not exist"
        );
    }

    // Importing runs nothing but those checks and one update.
    let top: BTreeSet<&str> = o
        .commands
        .iter()
        .filter(|c| c.place.top_level())
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(top, ["Get-Variable", "__mfa_update"].into_iter().collect());
}

#[test]
fn completion_reaches_the_binary_through_the_hook_function() {
    let sandbox = offline();
    let script = mfa_ok(&sandbox, &["completions", "powershell"]);
    let o = parsed(&script);
    let register = o.commands_named("Register-ArgumentCompleter");
    assert_eq!(register.len(), 1);
    let elements = &register[0].elements;
    assert!(elements.iter().any(|e| e == "-Native"), "{elements:?}");
    let name_at = elements
        .iter()
        .position(|e| e == "-CommandName")
        .expect("-CommandName");
    assert_eq!(elements.get(name_at + 1).map(String::as_str), Some("mfa"));

    // It sets COMPLETE=powershell and runs `mfa -- WORDS`; with the hook,
    // `mfa` is the function, which swallows `--` and must put it back.
    let var = mfa::cmd::completions::VAR;
    let set: Vec<&PsAssignment> = o.assignments_to(&format!("$env:{var}"));
    assert!(set.iter().any(|a| a.value == "\"powershell\""), "{set:?}");
    let hook = check_hook(&hook("/usr/bin/mfa", true), "/usr/bin/mfa", true);
    let pass = only_place(&hook, "mfa", "the completion pass-through", |t| {
        t == "& $global:__mfa_bin '--' @args"
    });
    assert!(pass.guarded_by(&format!("$env:{var} -ceq 'powershell'")));
}

/// A config with profile names that need quoting, and an mfa_alias.
fn odd_profiles() -> String {
    "[profile prod]\nregion = eu-west-1\n\n\
     [profile team/prod@eu]\nregion = eu-west-1\n\n\
     [profile x:1+y%z]\nregion = us-east-1\n\n\
     [profile a.b_c-d]\nregion = us-east-1\n\n\
     [profile deployer]\nregion = us-east-1\nmfa_alias = ship\n\n\
     [profile -h]\nregion = us-east-1\n\n\
     [profile --help]\nregion = us-east-1\n"
        .to_string()
}

const ALIASES: [(&str, &str); 7] = [
    ("aws-prod", "prod"),
    ("aws-team-prod-eu", "team/prod@eu"),
    ("aws-x-1-y-z", "x:1+y%z"),
    ("aws-a.b_c-d", "a.b_c-d"),
    ("ship", "deployer"),
    ("aws--h", "-h"),
    ("aws---help", "--help"),
];

/// Checks one alias definition: `function NAME { <command> }` whose command
/// is `expected` once the verbatim strings are decoded (`@args` stays).
fn check_alias(function: &PsFunction, o: &PsOutline, expected: &[&str], invocation: Option<&str>) {
    let commands = commands_in(o, &function.name);
    let [command] = commands.as_slice() else {
        panic!("`{}` should run one command: {commands:?}", function.name);
    };
    assert_eq!(command.invocation.as_deref(), invocation, "{command:?}");
    let decode = |raw: &str| {
        if raw.starts_with('\'') {
            decode_verbatim_literal(raw).unwrap_or_else(|e| panic!("{e}"))
        } else {
            raw.to_string()
        }
    };
    let mut words = vec![decode(&command.name)];
    words.extend(command.elements.iter().map(|e| decode(e)));
    assert_eq!(words, expected, "{}", function.text);
}

#[test]
fn aliases_parse_in_every_mode_with_odd_profile_names() {
    let sandbox = offline();
    sandbox.config(&odd_profiles());
    let binary = this_binary();
    let binary = binary.to_str().expect("UTF-8 path");
    for (mode, command) in [
        ("use", "aws"),
        ("exec", "aws"),
        ("exec", ""),
        ("shell", "aws"),
    ] {
        let script = mfa_ok(
            &sandbox,
            &[
                "alias",
                "--shell",
                "powershell",
                "--mode",
                mode,
                "--command",
                command,
            ],
        );
        let o = parsed(&script);
        let names: Vec<&str> = o.functions.iter().map(|f| f.name.as_str()).collect();
        let expected: Vec<&str> = ALIASES.iter().map(|(name, _)| *name).collect();
        assert_eq!(names, expected, "--mode {mode}");
        for (f, (_, profile)) in o.functions.iter().zip(ALIASES) {
            assert!(f.place.top_level() && f.scope.is_none(), "{f:?}");
            // The profile always after `--`, so `-h` is a name, not help.
            match mode {
                "use" => check_alias(f, &o, &["mfa", "use", "@args", "--", profile], None),
                "exec" if command.is_empty() => check_alias(
                    f,
                    &o,
                    &[binary, "exec", "--", profile, "--", "@args"],
                    Some("&"),
                ),
                "exec" => check_alias(
                    f,
                    &o,
                    &[binary, "exec", "--", profile, "--", command, "@args"],
                    Some("&"),
                ),
                _ => check_alias(f, &o, &[binary, "shell", "@args", "--", profile], Some("&")),
            }
            // A bare `--` would be swallowed by PowerShell's binder.
            assert!(f.text.contains(" '--' "), "{}", f.text);
        }
    }
}

#[test]
fn alias_definitions_quote_an_odd_binary_path() {
    for path in ODD_PATHS {
        for (mode, expected, invocation) in [
            (
                AliasMode::Use,
                vec!["mfa", "use", "@args", "--", "team/prod@eu"],
                None,
            ),
            (
                AliasMode::Exec,
                vec![path, "exec", "--", "team/prod@eu", "--", "aws", "@args"],
                Some("&"),
            ),
            (
                AliasMode::Shell,
                vec![path, "shell", "@args", "--", "team/prod@eu"],
                Some("&"),
            ),
        ] {
            let line = mfa::cmd::alias::definition(
                Shell::Powershell,
                mode,
                "aws-team-prod-eu",
                "team/prod@eu",
                path,
                "aws",
            );
            let o = parsed(&line);
            check_alias(function(&o, "aws-team-prod-eu"), &o, &expected, invocation);
        }
    }
}

/// PowerShell's function names are case-insensitive: `aws-Prod` replaces
/// `aws-prod` without a word. `mfa alias` compares names case-sensitively.
#[test]
fn alias_names_differ_ignoring_case() {
    let sandbox = offline();
    sandbox.config("[profile prod]\nregion = x\n\n[profile Prod]\nregion = y\n");
    let script = mfa_ok(&sandbox, &["alias", "--shell", "powershell"]);
    let o = parsed(&script);
    let names: BTreeSet<String> = o
        .functions
        .iter()
        .map(|f| f.name.to_ascii_lowercase())
        .collect();
    assert_eq!(names.len(), o.functions.len(), "{script}");
}

#[test]
fn the_checker_rejects_broken_scripts() {
    let good = hook("/usr/bin/mfa", true);
    assert!(syntax_errors(&good).is_empty());

    let broken = |from: &str, to: &str| {
        assert_eq!(good.matches(from).count(), 1, "`{from}` must occur once");
        good.replacen(from, to, 1)
    };
    for (what, script) in [
        (
            "an unclosed brace",
            broken("function global:mfa {", "function global:mfa {{"),
        ),
        (
            "an unclosed brace at the end",
            good.trim_end()
                .strip_suffix("__mfa_update")
                .and_then(|s| s.trim_end().strip_suffix('}'))
                .expect("the hook ends with `}` and `__mfa_update`")
                .to_string(),
        ),
        (
            "an unterminated string",
            broken("$text = 'expired'", "$text = 'expired"),
        ),
        (
            "a missing parenthesis",
            broken("if ($left -le 0) {", "if ($left -le 0 {"),
        ),
        (
            "an undoubled ASCII quote in the path",
            broken("'/usr/bin/mfa'", "'/usr/bin/it's/mfa'"),
        ),
    ] {
        assert!(
            !syntax_errors(&script).is_empty(),
            "{what} was not reported"
        );
        assert!(outline(&script).is_err(), "{what} was outlined");
    }

    // What the grammar cannot see, the second look does: a lone typographic
    // quote ends a verbatim string in PowerShell, and a typographic double
    // quote ends an expandable one.
    for (what, script) in [
        (
            "an undoubled typographic quote in the path",
            broken("'/usr/bin/mfa'", "'/usr/bin/it\u{2019}s/mfa'"),
        ),
        (
            "a typographic double quote in an expandable string",
            format!("{good}$x = \"a\u{201C}b\"\n"),
        ),
    ] {
        assert!(
            syntax_errors(&script).is_empty(),
            "the grammar saw {what} after all"
        );
        let error = outline(&script).expect_err(what);
        assert!(error.contains("PowerShell"), "{what}: {error}");
    }
}

/// The keywords the PowerShell grammar knows (its unnamed, alphabetic
/// tokens): the one list of PowerShell's words this machine can read.
fn grammar_keywords() -> Vec<String> {
    let language: tree_sitter::Language = tree_sitter_powershell::LANGUAGE.into();
    (0..language.node_kind_count() as u16)
        .filter(|&id| !language.node_kind_is_named(id))
        .filter_map(|id| language.node_kind_for_id(id))
        .filter(|kind| !kind.is_empty() && kind.chars().all(|c| c.is_ascii_alphabetic()))
        .map(str::to_string)
        .collect()
}

/// With every name PowerShell reserves (keywords, the aliases and functions
/// a session starts with, the hook's own functions), in two cases, as some
/// profile's `mfa_alias`, no alias takes any of them in any mode, and the
/// aliases after them still arrive.
#[test]
fn no_keyword_alias_or_builtin_function_is_ever_an_alias() {
    let sandbox = offline();
    let hook = parsed(&hook("/usr/bin/mfa", true));
    let mut names: BTreeSet<String> = hook.functions.iter().map(|f| f.name.clone()).collect();
    names.extend(grammar_keywords());
    assert!(
        names.contains("foreach") && names.contains("__mfa_use"),
        "{names:?}"
    );
    names.extend(
        mfa::cmd::alias::reserved_names(Shell::Powershell)
            .iter()
            .map(|n| n.to_string()),
    );
    let lower: BTreeSet<String> = names.iter().map(|n| n.to_ascii_lowercase()).collect();
    let mut config = String::new();
    for (i, name) in names
        .iter()
        .flat_map(|n| [n.clone(), n.to_ascii_uppercase()])
        .enumerate()
    {
        config.push_str(&format!("[profile zz-hostile-{i}]\nmfa_alias = {name}\n\n"));
    }
    config.push_str("[profile zz-safe-1]\nmfa_alias = zz-ok-one\n\n[profile zz-safe-2]\n");
    sandbox.config(&config);
    for mode in ["use", "exec", "shell"] {
        let script = mfa_ok(
            &sandbox,
            &["alias", "--shell", "powershell", "--mode", mode],
        );
        let o = parsed(&script);
        let taken: Vec<&str> = o
            .functions
            .iter()
            .map(|f| f.name.as_str())
            .filter(|name| lower.contains(&name.to_ascii_lowercase()))
            .collect();
        assert!(taken.is_empty(), "--mode {mode} defines {taken:?}");
        let last: Vec<&str> = o
            .functions
            .iter()
            .rev()
            .take(2)
            .map(|f| f.name.as_str())
            .collect();
        assert_eq!(last, ["aws-zz-safe-2", "zz-ok-one"], "--mode {mode}");
    }
}
