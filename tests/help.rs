//! Help a user meets: every subcommand's help starts with its own purpose,
//! and every argument says what it is for. Both walk clap's whole command
//! tree, so a subcommand or flag added later is checked too.

mod support;

use clap::CommandFactory;
use support::*;

/// Every subcommand as the words that name it (`["device", "create"]`),
/// with its own `about` as its variant's doc comment gives it.
///
/// `defer` leaves a subcommand's arguments (and anything a flattened
/// struct sets, such as a doc comment that would replace `about`) to be
/// applied when it is built: `about` is read before that, then the
/// subcommand is built to find the subcommands it holds.
fn subcommands() -> Vec<(Vec<String>, String)> {
    fn walk(command: &clap::Command, path: &[String], out: &mut Vec<(Vec<String>, String)>) {
        for sub in command.get_subcommands() {
            if sub.get_name() == "help" {
                continue;
            }
            let mut words = path.to_vec();
            words.push(sub.get_name().to_string());
            let about = sub
                .get_about()
                .map(|a| a.to_string())
                .unwrap_or_else(|| panic!("`mfa {}` has no about", words.join(" ")));
            out.push((words.clone(), about));
            let mut built = sub.clone();
            built.build();
            walk(&built, &words, out);
        }
    }
    let mut out = Vec::new();
    walk(&mfa::cli::Cli::command(), &[], &mut out);
    out
}

fn first_line(output: &std::process::Output) -> String {
    assert!(output.status.success(), "{}", stderr(output));
    stdout(output).lines().next().unwrap_or("").to_string()
}

#[test]
fn each_subcommands_help_starts_with_its_own_purpose() {
    let aws_free = Sandbox::with_endpoint("http://127.0.0.1:9".into());
    let subcommands = subcommands();
    assert!(subcommands.len() > 20, "{subcommands:?}");
    assert!(subcommands.iter().any(|(w, _)| w == &["device", "create"]));
    let mut first_lines = std::collections::HashMap::new();
    for (words, about) in &subcommands {
        let mut help_flag: Vec<&str> = words.iter().map(String::as_str).collect();
        help_flag.push("--help");
        let mut help_command = vec!["help"];
        help_command.extend(words.iter().map(String::as_str));
        for args in [help_flag, help_command] {
            let line = first_line(&aws_free.run(&args));
            assert_eq!(&line, about, "`mfa {}`", args.join(" "));
        }
        // Two subcommands never open with the same words.
        if let Some(other) = first_lines.insert(about.clone(), words.join(" ")) {
            panic!(
                "`mfa {other}` and `mfa {}` both begin with {about:?}",
                words.join(" ")
            );
        }
    }
}

#[test]
fn every_argument_of_every_command_has_a_description() {
    let mut root = mfa::cli::Cli::command();
    root.build();
    let mut missing = Vec::new();
    fn walk(command: &clap::Command, path: &str, missing: &mut Vec<String>) {
        for arg in command.get_arguments() {
            let id = arg.get_id().as_str();
            if id == "help" || id == "version" {
                continue;
            }
            if arg.get_help().is_none() && arg.get_long_help().is_none() {
                missing.push(format!("{path} {id}"));
            }
        }
        for sub in command.get_subcommands() {
            walk(sub, &format!("{path} {}", sub.get_name()), missing);
        }
    }
    walk(&root, "mfa", &mut missing);
    assert!(
        missing.is_empty(),
        "arguments without a description: {missing:?}"
    );
}
