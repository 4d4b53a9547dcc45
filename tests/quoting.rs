//! Quoting, the heart of `mfa env`: every value reaches bash, zsh, fish
//! and PowerShell byte for byte. Real shells evaluate the output; the
//! PowerShell output, which cannot run here, is parsed with the tree-sitter
//! grammar and its strings decoded by PowerShell's rules.

#[path = "support/powershell.rs"]
mod powershell;
mod support;

use std::path::Path;

use mfa::shell::Shell;
use powershell::{PsStatement, parse_powershell};
use proptest::prelude::*;
use support::*;

const HOSTILE: &[&str] = &[
    "",
    "plain",
    "it's",
    "''",
    "\"double\"",
    "$HOME $(id) ${X} `id` $((1+1))",
    "back\\slash\\\\ \\' \\n",
    "new\nline\n",
    "\r\n\ttab",
    " leading and trailing ",
    "ünïcödé — 日本語 😀",
    "\u{2018}\u{2019}\u{201A}\u{201B} typographic '\u{2019}' quotes",
    "\u{201C}\u{201D}\u{201E} doubles",
    "*?[a-z] ~ ! # ; & | < > ( ) { }",
    "-n",
    "--",
    "%s %% \\x41 \\u0041",
    "\u{7f}\u{1b}[31mred\u{1b}[0m",
    "a\u{85}b\u{2028}c",
    "end with backslash \\",
    "'; rm -rf / #",
];

/// Evaluates `set` statements for `values` in `shell` and returns what
/// each variable holds, read back through files so no byte is lost.
fn round_trip(shell: Shell, values: &[String]) -> Vec<Vec<u8>> {
    let dir = tempfile::tempdir().unwrap();
    let mut script = String::new();
    for (i, value) in values.iter().enumerate() {
        script.push_str(&shell.set_var(&format!("MFA_TEST_{i}"), value));
    }
    for i in 0..values.len() {
        let out = dir.path().join(i.to_string());
        let out = out.display();
        // The same line reads the variable in all three shells.
        script.push_str(&format!("printf '%s' \"$MFA_TEST_{i}\" > '{out}'\n"));
    }
    // Exported: a child process sees the same bytes.
    script.push_str(&format!(
        "env | grep -c '^MFA_TEST_' > '{}'\n",
        dir.path().join("count").display()
    ));
    let output = run_shell(shell.name(), &script);
    assert!(output.status.success(), "{shell}: {}", stderr(&output));
    let count = std::fs::read_to_string(dir.path().join("count")).unwrap();
    assert_eq!(
        count.trim(),
        values.len().to_string(),
        "{shell}: all exported"
    );
    (0..values.len())
        .map(|i| std::fs::read(dir.path().join(i.to_string())).unwrap())
        .collect()
}

fn powershell_round_trip(values: &[String]) -> Vec<String> {
    let script: String = values
        .iter()
        .enumerate()
        .map(|(i, v)| Shell::Powershell.set_var(&format!("MFA_TEST_{i}"), v))
        .collect();
    let statements = parse_powershell(&script).unwrap_or_else(|e| panic!("{e}\n{script}"));
    statements
        .into_iter()
        .enumerate()
        .map(|(i, s)| match s {
            PsStatement::Set { name, value } => {
                assert_eq!(name, format!("MFA_TEST_{i}"));
                value
            }
            other => panic!("unexpected {other:?}"),
        })
        .collect()
}

fn assert_all_shells(values: &[String]) {
    for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
        let got = round_trip(shell, values);
        for (value, bytes) in values.iter().zip(got) {
            assert_eq!(
                String::from_utf8_lossy(&bytes),
                value.as_str(),
                "{shell} changed {value:?}"
            );
            assert_eq!(bytes, value.as_bytes(), "{shell}");
        }
    }
    assert_eq!(powershell_round_trip(values), values);
}

#[test]
fn hostile_values_arrive_byte_for_byte_in_every_shell() {
    let values: Vec<String> = HOSTILE.iter().map(|s| s.to_string()).collect();
    assert_all_shells(&values);
}

#[test]
fn a_lone_typographic_quote_would_break_powershell_if_not_doubled() {
    // The checker itself must catch what PowerShell would do with an
    // undoubled U+2019, or the test above proves nothing for PowerShell.
    assert!(parse_powershell("$env:X = 'a\u{2019}b'\n").is_err());
    assert!(parse_powershell("$env:X = 'a\u{2019}\u{2019}b'\n").is_ok());
}

/// Characters that stress quoting, and now and then any character at all.
fn hostile_string() -> impl Strategy<Value = String> {
    let tricky = prop::sample::select(vec![
        '\'', '"', '\\', '$', '`', '\n', '\r', '\t', ' ', '!', '#', ';', '&', '|', '(', ')', '{',
        '}', '*', '?', '~', '%', '\u{2018}', '\u{2019}', '\u{201A}', '\u{201B}', '\u{201C}',
        '\u{201D}', 'é', '日', '😀', '\u{7f}', '\u{1b}', 'a', 'Z', '0',
    ]);
    // Any scalar value but NUL (no environment variable can hold it) and
    // fish's private-use range, which fish 3 reserves to carry raw bytes.
    let any = any::<char>().prop_filter("storable in an environment variable", |c| {
        *c != '\0' && !('\u{F600}'..='\u{F6FF}').contains(c)
    });
    prop::collection::vec(prop_oneof![4 => tricky, 1 => any], 0..24)
        .prop_map(|chars| chars.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn random_strings_arrive_byte_for_byte(values in prop::collection::vec(hostile_string(), 1..16)) {
        assert_all_shells(&values);
    }
}

/// End to end: a profile whose keys hold every kind of trouble a key may
/// hold (printable ASCII: a region must be a host label, and is checked
/// where it is read), through `mfa env` into each shell.
#[test]
fn mfa_env_output_is_evaluated_exactly_by_each_shell() {
    let aws = FakeAws::start();
    let sandbox = Sandbox::new(&aws);
    let region = "eu-west-1";
    sandbox
        .config(&format!("[profile odd.name@x:y/z+1%]\nregion = {region}\n"))
        .credentials("[odd.name@x:y/z+1%]\naws_access_key_id = AKIAODD\naws_secret_access_key = s3cr'et\\\"$x\naws_session_token = to`ken$(id)'\"$HOME\"\\x;#y\n");
    for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
        let out = sandbox.run(&["env", "odd.name@x:y/z+1%", "--shell", shell.name()]);
        assert!(out.status.success(), "{}", stderr(&out));
        let script = format!(
            "{}\nprintf '%s|%s|%s|%s' \"$AWS_REGION\" \"$MFA_PROFILE\" \"$AWS_SECRET_ACCESS_KEY\" \"$AWS_SESSION_TOKEN\"",
            stdout(&out)
        );
        let evaluated = run_shell(shell.name(), &script);
        assert!(
            evaluated.status.success(),
            "{shell}: {}",
            stderr(&evaluated)
        );
        assert_eq!(
            stdout(&evaluated),
            format!("{region}|odd.name@x:y/z+1%|s3cr'et\\\"$x|to`ken$(id)'\"$HOME\"\\x;#y"),
            "{shell}"
        );
    }
    let out = sandbox.run(&["env", "odd.name@x:y/z+1%", "--shell", "powershell"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let statements = parse_powershell(&stdout(&out)).unwrap_or_else(|e| panic!("{e}"));
    assert!(statements.contains(&PsStatement::Set {
        name: "AWS_REGION".into(),
        value: region.into()
    }));
    assert!(statements.contains(&PsStatement::Remove {
        name: "AWS_PROFILE".into()
    }));
    // In a shell holding this session, --unset removes every variable,
    // the region too (it is the profile's).
    let unset = sandbox
        .mfa()
        .env("MFA_PROFILE", "odd.name@x:y/z+1%")
        .env("AWS_REGION", region)
        .args(["env", "--unset", "--shell", "pwsh"])
        .output()
        .unwrap();
    let statements = parse_powershell(&stdout(&unset)).unwrap_or_else(|e| panic!("{e}"));
    let removed: Vec<String> = statements
        .into_iter()
        .map(|s| match s {
            PsStatement::Remove { name } => name,
            other => panic!("{other:?}"),
        })
        .collect();
    assert!(removed.contains(&"AWS_REGION".to_string()), "{removed:?}");
    assert!(
        !removed.contains(&"AWS_DEFAULT_REGION".to_string()),
        "not set: kept"
    );
    assert_eq!(
        aws.calls().len(),
        0,
        "temporary root keys are handed out as they are"
    );
}

#[test]
fn the_shell_is_taken_from_mfa_shell_then_the_parent_process() {
    let aws = FakeAws::start();
    let sandbox = Sandbox::new(&aws);
    let fish_out = sandbox
        .mfa()
        .env("MFA_SHELL", "fish")
        .args(["env", "--unset"])
        .output()
        .unwrap();
    assert!(
        stdout(&fish_out).starts_with("set -e -g "),
        "{}",
        stdout(&fish_out)
    );
    // Run from a real zsh: the parent process decides.
    let bin = env!("CARGO_BIN_EXE_mfa");
    let out = run_shell("zsh", &format!("'{bin}' env --unset; true"));
    assert!(stdout(&out).starts_with("unset "), "{}", stdout(&out));
    let out = run_shell("fish", &format!("'{bin}' env --unset; true"));
    assert!(stdout(&out).starts_with("set -e -g "), "{}", stdout(&out));
    assert!(Path::new(bin).exists());
}
