//! Completion in the real shells: subcommands, profile names and role ARNs
//! read from the config at TAB time (a profile added to the config shows
//! up on the next TAB), and the scripts in completions/ kept current.

mod support;

use std::path::Path;

use rexpect::session::spawn_command;
use support::*;

fn bin_dir() -> String {
    Path::new(env!("CARGO_BIN_EXE_mfa"))
        .parent()
        .unwrap()
        .display()
        .to_string()
}

fn sandbox() -> Sandbox {
    // Completion reads files only: no STS needed.
    let sandbox = Sandbox::with_endpoint("http://127.0.0.1:9".into());
    sandbox
        .config(&standard_config())
        .credentials(&standard_credentials());
    sandbox
}

/// A shell with `mfa` on PATH.
fn shell_command(sandbox: &Sandbox, shell: &str) -> std::process::Command {
    let mut command = sandbox.command(shell);
    command.env(
        "PATH",
        format!(
            "{}:{}",
            bin_dir(),
            std::env::var("PATH").unwrap_or_default()
        ),
    );
    command
}

fn bash_complete(sandbox: &Sandbox, line: &str, with_hook: bool) -> Vec<String> {
    let words: Vec<&str> = line.split(' ').collect();
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let hook = if with_hook {
        "eval \"$(mfa init bash)\"\n"
    } else {
        ""
    };
    let script = format!(
        "{hook}eval \"$(mfa completions bash)\"\nCOMP_WORDS=({})\nCOMP_CWORD={}\nCOMP_LINE='{line}'\nCOMP_POINT=${{#COMP_LINE}}\nCOMP_TYPE=9\n\
         _clap_complete_mfa mfa '{}' '{}'\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"",
        quoted.join(" "),
        words.len() - 1,
        words[words.len() - 1],
        words[words.len().saturating_sub(2)],
    );
    let out = shell_command(sandbox, "bash")
        .args(["--norc", "--noprofile", "-c", &script])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out)
        .lines()
        .map(|l| l.trim_end().to_string())
        .collect()
}

#[test]
fn bash_completes_subcommands_profiles_and_role_arns_read_at_tab_time() {
    let sandbox = sandbox();
    for with_hook in [false, true] {
        let subcommands = bash_complete(&sandbox, "mfa cre", with_hook);
        assert_eq!(subcommands, ["credential-process"], "hook: {with_hook}");
        assert_eq!(bash_complete(&sandbox, "mfa env ad", with_hook), ["admin"]);
        let all = bash_complete(&sandbox, "mfa exec ", with_hook);
        assert_eq!(
            all[..3],
            ["alice", "admin", "readonly"],
            "hook: {with_hook}"
        );
        assert!(
            all[3..].iter().all(|w| w.starts_with("--")),
            "then flags: {all:?}"
        );
        let roles = bash_complete(
            &sandbox,
            "mfa env admin --role-arn arn:aws:iam::123456789012:role/r",
            with_hook,
        );
        assert_eq!(roles, [READONLY_ROLE]);
        assert_eq!(
            bash_complete(&sandbox, "mfa env --shell f", with_hook),
            ["fish"]
        );
    }
    // Read at TAB time: a profile added now shows at the next TAB.
    sandbox.config(&format!(
        "{}[profile admin-eu]\nregion = eu-central-1\n",
        standard_config()
    ));
    assert_eq!(
        bash_complete(&sandbox, "mfa env ad", false),
        ["admin", "admin-eu"]
    );
    // AWS_CONFIG_FILE is honoured.
    let other = sandbox.path("other-config");
    std::fs::write(&other, "[profile elsewhere]\n").unwrap();
    let out = shell_command(&sandbox, "bash")
        .env("AWS_CONFIG_FILE", &other)
        .args(["--norc", "-c", "eval \"$(mfa completions bash)\"; COMP_WORDS=(mfa show ''); COMP_CWORD=2; COMP_LINE='mfa show '; COMP_POINT=9; _clap_complete_mfa mfa '' show; printf '%s\\n' \"${COMPREPLY[@]}\""])
        .output()
        .unwrap();
    let listed = stdout(&out);
    assert!(
        listed.contains("elsewhere") && !listed.contains("admin"),
        "{listed}"
    );
}

/// Runs `mfa env <TAB>` in bash under strace; the profiles offered, and
/// whether the run opened the config file.
fn tab_reading_config(sandbox: &Sandbox) -> (Vec<String>, bool) {
    let trace = sandbox.path("tab.trace");
    let script = "eval \"$(mfa completions bash)\"\nCOMP_WORDS=(mfa env '')\nCOMP_CWORD=2\nCOMP_TYPE=9\nCOMP_LINE='mfa env '\nCOMP_POINT=8\n\
         _clap_complete_mfa mfa '' env\nprintf '%s\\n' \"${COMPREPLY[@]}\"";
    let mut command = shell_command(sandbox, "strace");
    command
        .args(["-f", "-qq", "-e", "trace=openat", "-o"])
        .arg(&trace)
        .args(["bash", "--norc", "--noprofile", "-c", script]);
    let out = command.output().expect("strace (apt-get install strace)");
    assert!(out.status.success(), "{}", stderr(&out));
    let opened = std::fs::read_to_string(&trace)
        .unwrap()
        .lines()
        .any(|l| l.contains("/.aws/config\""));
    let names = stdout(&out)
        .lines()
        .filter(|l| !l.starts_with('-'))
        .map(str::to_string)
        .collect();
    (names, opened)
}

/// Sets a file's modification time an hour back (its change time stays now).
fn age(path: &Path) {
    let file = std::fs::File::options().write(true).open(path).unwrap();
    let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    file.set_modified(hour_ago).unwrap();
}

/// Thousands of profiles are remembered between TABs, keyed by the files'
/// identity; any change to the files, even within the same second and
/// size, is seen at the next TAB.
#[test]
fn completion_remembers_profiles_while_the_files_are_unchanged() {
    let sandbox = sandbox();
    let config = sandbox.path(".aws/config");
    // Files changed within the last second are read every time, and no
    // memo is trusted for them.
    let (names, opened) = tab_reading_config(&sandbox);
    assert!(opened, "a just-written config is read");
    assert_eq!(names[..3], ["alice", "admin", "readonly"]);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    // Settled: this TAB reads the files and leaves a memo (0600) ...
    let (first, opened) = tab_reading_config(&sandbox);
    assert!(opened);
    let memo = sandbox.cache_dir().join("completion-profiles");
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&memo).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600);
    // ... which the next TAB answers from, without opening the config.
    let (second, opened) = tab_reading_config(&sandbox);
    assert!(!opened, "the memo answers while the files are unchanged");
    assert_eq!(first, second);
    // A profile renamed to one of the same length, the modification time
    // put back as it was: the change time still tells.
    let before = std::fs::metadata(&config).unwrap().modified().unwrap();
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replace("[profile readonly]", "[profile readwrit]"),
    )
    .unwrap();
    std::fs::File::options()
        .write(true)
        .open(&config)
        .unwrap()
        .set_modified(before)
        .unwrap();
    let (names, opened) = tab_reading_config(&sandbox);
    assert!(opened);
    assert!(
        names.contains(&"readwrit".to_string()) && !names.contains(&"readonly".to_string()),
        "{names:?}"
    );
    // A profile added in the same second as the memo is seen too.
    age(&config);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    tab_reading_config(&sandbox);
    assert!(!tab_reading_config(&sandbox).1, "the memo is back");
    sandbox.config(&format!(
        "{}[profile added-now]\n",
        std::fs::read_to_string(&config).unwrap()
    ));
    let (names, _) = tab_reading_config(&sandbox);
    assert!(names.contains(&"added-now".to_string()), "{names:?}");
    // A profile whose keys went into a key store (its marker) shows too.
    let markers = sandbox.path(".local/share/mfa/keys");
    std::fs::create_dir_all(&markers).unwrap();
    std::fs::write(markers.join("stored-only.secret-service"), b"").unwrap();
    let (names, _) = tab_reading_config(&sandbox);
    assert!(names.contains(&"stored-only".to_string()), "{names:?}");
}

#[test]
fn fish_completes_profiles_and_roles_with_descriptions() {
    let sandbox = sandbox();
    let run = |line: &str| {
        let script = format!("mfa completions fish | source\ncomplete -C '{line}'");
        let out = shell_command(&sandbox, "fish")
            .args(["--no-config", "-c", &script])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        stdout(&out)
    };
    let profiles = run("mfa env a");
    assert!(profiles.contains("alice\tmfa-user"), "{profiles}");
    assert!(profiles.contains("admin\tmfa-role"), "{profiles}");
    assert!(!profiles.contains("readonly"), "{profiles}");
    let roles = run("mfa exec admin --role-arn arn:");
    assert!(roles.contains(&format!("{ADMIN_ROLE}\tadmin")), "{roles}");
    assert!(
        roles.contains(&format!("{READONLY_ROLE}\treadonly")),
        "{roles}"
    );
    // `mfa console` offers the config's roles for a profile without one.
    let console_roles = run("mfa console alice --role-arn arn:");
    assert!(
        console_roles.contains(&format!("{ADMIN_ROLE}\tadmin")),
        "{console_roles}"
    );
}

#[test]
fn zsh_completes_at_a_real_prompt() {
    let sandbox = sandbox();
    let mut command = shell_command(&sandbox, "zsh");
    command
        .args(["-f", "-i"])
        .stdin(std::process::Stdio::inherit())
        .env("TERM", "dumb");
    let mut term = spawn_command(command, Some(30_000)).unwrap();
    term.send_line("unsetopt prompt_sp; unset zle_bracketed_paste; PROMPT='> '; autoload -Uz compinit && compinit -u -D")
        .unwrap();
    term.send_line("eval \"$(mfa completions zsh)\"; echo ready")
        .unwrap();
    term.exp_string("ready").unwrap();
    // TAB completes the profile; then the line is turned into an echo.
    term.send("mfa show readon\t").unwrap();
    term.flush().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(700));
    term.send_control('a').unwrap();
    term.send_line("echo completed: ").unwrap();
    term.exp_string("completed: mfa show readonly").unwrap();

    // A profile added to the config shows up on the next TAB.
    sandbox.config(&format!(
        "{}[profile zebra-team]\nregion = x\n",
        standard_config()
    ));
    term.send("mfa env zeb\t").unwrap();
    term.flush().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(700));
    term.send_control('a').unwrap();
    term.send_line("echo completed: ").unwrap();
    term.exp_string("completed: mfa env zebra-team").unwrap();
    term.send_line("exit").unwrap();
    term.exp_eof().unwrap();
}

/// The scripts in completions/ are what `mfa completions SHELL` prints.
/// `MFA_UPDATE_COMPLETIONS=1 cargo test --test completion` rewrites them.
#[test]
fn completion_scripts_in_the_repository_are_current() {
    let sandbox = sandbox();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("completions");
    for (shell, file) in [
        ("bash", "mfa.bash"),
        ("zsh", "mfa.zsh"),
        ("fish", "mfa.fish"),
        ("powershell", "mfa.ps1"),
    ] {
        let out = sandbox.run(&["completions", shell]);
        assert!(out.status.success(), "{}", stderr(&out));
        let path = dir.join(file);
        if std::env::var_os("MFA_UPDATE_COMPLETIONS").is_some() {
            std::fs::write(&path, &out.stdout).unwrap();
        }
        let saved = std::fs::read(&path).unwrap_or_default();
        assert!(
            saved == out.stdout,
            "{} is out of date: run MFA_UPDATE_COMPLETIONS=1 cargo test --test completion",
            path.display()
        );
    }
}

/// A role ARN that runs three commands if TAB inserts it unescaped (the
/// issue's, with the files in `dir`), and other ARNs and a profile name
/// full of what a shell would read: glob, quotes, history, a backslash.
fn hostile_arn(dir: &Path) -> String {
    let dir = dir.display();
    format!("x;touch${{IFS}}{dir}/p1;$(touch {dir}/p2)`touch {dir}/p3`")
}
const STAR_ARN: &str = "*";
const QUOTES_ARN: &str = "arn:aws:iam::123456789012:role/it's \"q\" $HOME a\\b !x *";
const ODD_PROFILE: &str = "a%b@c:d+e/f.g_h-i";

/// A sandbox whose config holds the hostile values; `dir` is where the
/// shell runs, with a file a glob would find.
fn hostile_sandbox() -> (Sandbox, std::path::PathBuf) {
    let sandbox = sandbox();
    let dir = sandbox.path("work");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("victim"), "").unwrap();
    sandbox.config(&format!(
        "{}[profile prod]\nrole_arn = {}\nsource_profile = alice\n\n\
         [profile star]\nrole_arn = {STAR_ARN}\nsource_profile = alice\n\n\
         [profile quotes]\nrole_arn = {QUOTES_ARN}\nsource_profile = alice\n\n\
         [profile {ODD_PROFILE}]\nregion = eu-west-1\n",
        standard_config(),
        hostile_arn(&dir)
    ));
    (sandbox, dir)
}

/// An interactive shell in a pseudo-terminal with mfa's completion loaded
/// and `record`, which writes the words it gets to a file.
struct Prompt {
    term: rexpect::session::PtySession,
    record: std::path::PathBuf,
}

impl Prompt {
    fn start(sandbox: &Sandbox, shell: &str, dir: &Path) -> Prompt {
        let record = sandbox.path("record");
        let mut command = shell_command(sandbox, shell);
        command
            .current_dir(dir)
            .env("RECORD", &record)
            .env("TERM", "dumb")
            .stdin(std::process::Stdio::inherit());
        let setup = match shell {
            "bash" => {
                command.args(["--norc", "--noprofile", "-i"]);
                "PS1='> '; bind 'set enable-bracketed-paste off'; eval \"$(mfa completions bash)\"\n\
                 record() { printf '%s\\0' \"$@\" > \"$RECORD\"; echo \"$((40+2))-recorded\"; }"
            }
            "zsh" => {
                command.args(["-f", "-i"]);
                "unsetopt prompt_sp; unset zle_bracketed_paste; PROMPT='> '; autoload -Uz compinit && compinit -u -D\n\
                 eval \"$(mfa completions zsh)\"\n\
                 record() { printf '%s\\0' \"$@\" > \"$RECORD\"; echo \"$((40+2))-recorded\"; }"
            }
            _ => {
                command.args(["--no-config", "-i"]).env("NO_COLOR", "1");
                "function fish_prompt; echo -n '> '; end; set -g fish_greeting\n\
                 mfa completions fish | source\n\
                 function record; printf '%s\\0' $argv > $RECORD; echo (math 40 + 2)-recorded; end"
            }
        };
        let mut term = spawn_command(command, Some(30_000)).unwrap();
        for line in setup.lines() {
            term.send_line(line).unwrap();
        }
        term.send_line("echo \"rea\"dy").unwrap();
        term.exp_string("ready").unwrap();
        Prompt { term, record }
    }

    /// Types `line`, presses TAB, then runs the completed line as
    /// `record …`: the words the command would have received.
    fn complete_and_run(&mut self, line: &str) -> Vec<String> {
        let _ = std::fs::remove_file(&self.record);
        self.term.send(line).unwrap();
        self.term.send("\t").unwrap();
        self.term.flush().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(500));
        self.term.send_control('a').unwrap();
        self.term.send_line("record ").unwrap();
        self.term.exp_string("42-recorded").unwrap();
        let recorded = std::fs::read(&self.record).unwrap();
        String::from_utf8(recorded)
            .unwrap()
            .split_terminator('\0')
            .map(str::to_string)
            .collect()
    }
}

/// At a real prompt, TAB then Enter: each candidate reaches the command as
/// the one literal word it is, typed bare, after an ARN's `:`, or inside
/// an open quote; nothing in it runs or expands.
fn tab_inserts_candidates_literally(shell: &str) {
    let (sandbox, dir) = hostile_sandbox();
    let hostile = hostile_arn(&dir);
    let mut prompt = Prompt::start(&sandbox, shell, &dir);
    let mut cases: Vec<(&str, String, &str)> = vec![
        (
            "mfa env prod --token 1 --role-arn x",
            hostile.clone(),
            "bare",
        ),
        (
            "mfa env quotes --role-arn arn:aws:iam::123456789012:role/it",
            QUOTES_ARN.into(),
            "after :",
        ),
        ("mfa show a%b@c:d+", ODD_PROFILE.into(), "profile"),
    ];
    // Inside an open quote, and a bare `*` (clap's registration globbed
    // it): bash only. zsh and fish expand a glob typed on the line at TAB,
    // by design, and clap's scripts for them pass an open quote on as part
    // of the word, which then matches nothing.
    if shell == "bash" {
        cases.extend([
            ("mfa env prod --role-arn 'x;tou", hostile.clone(), "in '"),
            ("mfa env prod --role-arn \"x;tou", hostile.clone(), "in \""),
            ("mfa env star --role-arn '*", STAR_ARN.into(), "in '"),
            ("mfa env star --role-arn *", STAR_ARN.into(), "bare *"),
            (
                "mfa env quotes --role-arn \"arn:aws:iam::123456789012:role/it",
                QUOTES_ARN.into(),
                "in \"",
            ),
            (
                "mfa env quotes --role-arn arn:aws:iam::123456789012:role/'it",
                QUOTES_ARN.into(),
                "in ' after :",
            ),
        ]);
    }
    for (line, expected, how) in cases {
        let words = prompt.complete_and_run(line);
        let (typed_before, _) = line.rsplit_once(' ').unwrap();
        let mut wanted: Vec<&str> = typed_before.split(' ').collect();
        wanted.push(&expected);
        assert_eq!(words, wanted, "{shell}, {how}: typed {line:?}");
    }
    prompt.term.send_line("exit").unwrap();
    prompt.term.exp_eof().unwrap();
    for ran in ["p1", "p2", "p3"] {
        assert!(!dir.join(ran).exists(), "{shell}: {ran} was created");
    }
}

#[test]
fn bash_tab_inserts_hostile_candidates_as_one_literal_word() {
    tab_inserts_candidates_literally("bash");
}

#[test]
fn zsh_tab_inserts_hostile_candidates_as_one_literal_word() {
    tab_inserts_candidates_literally("zsh");
}

#[test]
fn fish_tab_inserts_hostile_candidates_as_one_literal_word() {
    tab_inserts_candidates_literally("fish");
}

/// The memo is trusted only as cache entries are: a regular file, not a
/// link, the user's alone, in a directory that is the user's alone, every
/// name a profile name. A memo someone else could have planted (identity
/// lines copied from a real one: they need only `stat`) is ignored and
/// written anew, and its names never reach TAB.
#[test]
fn a_memo_others_could_have_written_is_ignored_and_rebuilt() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let sandbox = sandbox();
    let dir = sandbox.cache_dir();
    let memo = dir.join("completion-profiles");
    let mode = |path: &Path, mode: u32| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap()
    };
    std::thread::sleep(std::time::Duration::from_millis(1100));
    tab_reading_config(&sandbox);
    let genuine = std::fs::read_to_string(&memo).unwrap();
    assert!(
        !tab_reading_config(&sandbox).1,
        "a memo of the user's own answers"
    );
    let forged = format!("{genuine}planted\tmfa-user\n");
    let me = std::fs::metadata(&dir).unwrap().uid();
    // uid and gid of `nobody`: only root may give a file away.
    let nobody = Some(65534);
    let can_chown = me == 0;

    let plant_file = |text: &str, file_mode: u32| {
        let _ = std::fs::remove_file(&memo);
        std::fs::write(&memo, text).unwrap();
        mode(&memo, file_mode);
    };
    // How a forged memo is planted.
    type Plant<'a> = Box<dyn Fn() + 'a>;
    let cases: Vec<(&str, Plant)> = vec![
        (
            "writable by others",
            Box::new(|| plant_file(&forged, 0o666)),
        ),
        (
            "writable by the group",
            Box::new(|| plant_file(&forged, 0o620)),
        ),
        (
            "a link to a file of the user's",
            Box::new(|| {
                let target = sandbox.path("forged-memo");
                std::fs::write(&target, &forged).unwrap();
                mode(&target, 0o600);
                let _ = std::fs::remove_file(&memo);
                std::os::unix::fs::symlink(&target, &memo).unwrap();
            }),
        ),
        (
            "in a directory the group may write to",
            Box::new(|| {
                plant_file(&forged, 0o600);
                mode(&dir, 0o770);
            }),
        ),
        (
            "a name no profile can have",
            Box::new(|| plant_file(&format!("{genuine}planted;$(id)\tuser\n"), 0o600)),
        ),
        (
            "owned by another user",
            Box::new(|| {
                plant_file(&forged, 0o600);
                if can_chown {
                    std::os::unix::fs::chown(&memo, nobody, nobody).unwrap();
                }
            }),
        ),
    ];
    for (how, plant) in cases {
        plant();
        let (names, opened) = tab_reading_config(&sandbox);
        assert!(opened, "{how}: the memo was believed");
        assert!(
            !names.iter().any(|n| n.contains("planted")),
            "{how}: {names:?}"
        );
        assert_eq!(names[..3], ["alice", "admin", "readonly"], "{how}");
        // Written anew: the user's own, private, and answering again.
        let meta = std::fs::symlink_metadata(&memo).unwrap();
        assert!(meta.is_file(), "{how}: not rebuilt");
        assert_eq!((meta.uid(), meta.mode() & 0o777), (me, 0o600), "{how}");
        assert!(!std::fs::read_to_string(&memo).unwrap().contains("planted"));
        let dir_mode = std::fs::metadata(&dir).unwrap().mode() & 0o777;
        assert_eq!(dir_mode, 0o700, "{how}");
        assert!(
            !tab_reading_config(&sandbox).1,
            "{how}: the new memo answers"
        );
    }

    // A directory that is another user's: the memo in it is ignored (and
    // not rewritten there).
    if can_chown {
        plant_file(&forged, 0o600);
        std::os::unix::fs::chown(&dir, nobody, nobody).unwrap();
        let (names, opened) = tab_reading_config(&sandbox);
        assert!(opened, "a memo in another user's directory was believed");
        assert!(!names.iter().any(|n| n.contains("planted")), "{names:?}");
    }
}
