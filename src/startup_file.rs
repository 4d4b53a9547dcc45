//! The shell's start-up file and the lines that load mfa into it: the hook
//! (`mfa init`) and completion (`mfa completions`), README's lines. `mfa
//! setup` offers to append them; a hook that is never sourced is the most
//! common reason a shell integration "does not work".

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use anyhow::{Result, bail};

use crate::context::Env;
use crate::files::{self, Access};
use crate::shell::Shell;

/// The file the shell reads when it starts interactively: bash
/// `~/.bashrc`, zsh `${ZDOTDIR:-$HOME}/.zshrc`, fish
/// `${XDG_CONFIG_HOME:-~/.config}/fish/config.fish`. `None` when it cannot
/// be known: PowerShell's `$PROFILE` depends on the host and edition, and a
/// relative directory would be relative to wherever mfa runs.
pub fn path(shell: Shell, env: &Env) -> Option<PathBuf> {
    let path = match shell {
        Shell::Bash => env.home().join(".bashrc"),
        Shell::Zsh => env
            .path_var("ZDOTDIR")
            .unwrap_or_else(|| env.home())
            .join(".zshrc"),
        Shell::Fish => env
            .path_var("XDG_CONFIG_HOME")
            .unwrap_or_else(|| env.home().join(".config"))
            .join("fish/config.fish"),
        Shell::Powershell => return None,
    };
    path.is_absolute().then_some(path)
}

/// The line that loads the hook.
pub fn hook_line(shell: Shell) -> &'static str {
    match shell {
        Shell::Bash => r#"eval "$(mfa init bash)""#,
        Shell::Zsh => r#"eval "$(mfa init zsh)""#,
        Shell::Fish => "mfa init fish | source",
        Shell::Powershell => "mfa init powershell | Out-String | Invoke-Expression",
    }
}

/// The line that loads completion.
pub fn completion_line(shell: Shell) -> &'static str {
    match shell {
        Shell::Bash => r#"eval "$(mfa completions bash)""#,
        Shell::Zsh => r#"eval "$(mfa completions zsh)""#,
        Shell::Fish => "mfa completions fish | source",
        Shell::Powershell => "mfa completions powershell | Out-String | Invoke-Expression",
    }
}

/// The first line (counting from 1) that runs `mfa SUBCOMMAND` in any form:
/// `eval "$(mfa init bash)"`, `mfa init fish | source`, `source <(mfa init
/// zsh)`, `$HOME/.cargo/bin/mfa init bash --no-prompt`, also commented out
/// (whoever commented it out decided against it).
pub fn mentions(text: &str, subcommand: &str) -> Option<usize> {
    let is_name_char = |c: char| c.is_ascii_alphanumeric() || "_.-".contains(c);
    let runs_mfa = |word: &str| {
        let word = word.trim_end_matches(['"', '\'']);
        word.rsplit(|c| !is_name_char(c)).next() == Some("mfa")
    };
    let is_subcommand = |word: &str| {
        word.strip_prefix(subcommand)
            .is_some_and(|rest| !rest.starts_with(is_name_char))
    };
    text.lines()
        .position(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            words
                .windows(2)
                .any(|pair| runs_mfa(pair[0]) && is_subcommand(pair[1]))
        })
        .map(|index| index + 1)
}

/// Whether zsh's completion system is loaded before the end of `zshrc`
/// (`compinit`, which oh-my-zsh runs): zsh's completion line needs its
/// `compdef`, and without it would print an error at every start.
fn zsh_completion_ready(zshrc: &str) -> bool {
    zshrc.contains("compinit") || zshrc.contains("oh-my-zsh.sh")
}

/// What the start-up file holding `text` (`None`: no file yet) should get,
/// hook first: nothing when it already runs `mfa init`; the completion line
/// too unless it has one, or (zsh) it could not work there.
pub fn lines_to_add(shell: Shell, text: Option<&str>) -> Vec<&'static str> {
    let text = text.unwrap_or("");
    if mentions(text, "init").is_some() {
        return Vec::new();
    }
    let mut lines = vec![hook_line(shell)];
    let completion_works = shell != Shell::Zsh || zsh_completion_ready(text);
    if completion_works && mentions(text, "completions").is_none() {
        lines.push(completion_line(shell));
    }
    lines
}

/// `text` with `lines` appended, every byte of it kept (a last line without
/// its newline gets one first).
pub fn with_lines(text: Option<&str>, lines: &[&str]) -> String {
    let mut new = text.unwrap_or("").to_string();
    if !new.is_empty() && !new.ends_with('\n') {
        new.push('\n');
    }
    for line in lines {
        new.push_str(line);
        new.push('\n');
    }
    new
}

/// The start-up file's text (`None`: there is none yet). A link to a file
/// that does not exist is an error: writing would replace the link (a
/// dotfile manager's) with a plain file.
pub fn read(path: &Path) -> Result<Option<String>> {
    let shown = crate::paths::display(path);
    match fs::read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => Ok(Some(text)),
            Err(_) => bail!("{shown} is not UTF-8 text"),
        },
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            if fs::symlink_metadata(path).is_ok() {
                bail!("{shown} is a link to a file that does not exist");
            }
            Ok(None)
        }
        Err(e) => bail!("cannot read {shown}: {e}"),
    }
}

/// What [`append`] did.
#[derive(Debug, PartialEq, Eq)]
pub enum Appended {
    Added,
    /// Another writer put an `mfa init` line there (at this line) since the
    /// file was read; nothing was added.
    AlreadyThere(usize),
}

/// Appends `lines` to the start-up file at `path`, under its lock and
/// atomically, keeping its mode (0644 when new) and every byte it had. A
/// link is followed: the file is edited where it lives (the temporary file
/// beside it), as users of stow or chezmoi expect.
pub fn append(path: &Path, lines: &[&str]) -> Result<Appended> {
    let mut outcome = Appended::Added;
    files::update(path, Access::Readable, |text| {
        if let Some(line) = text.and_then(|t| mentions(t, "init")) {
            outcome = Appended::AlreadyThere(line);
            return Ok(None);
        }
        Ok(Some(with_lines(text, lines)))
    })?;
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_shell_reads_its_own_file() {
        let env = Env::from_pairs([("HOME", "/h")]);
        assert_eq!(path(Shell::Bash, &env), Some("/h/.bashrc".into()));
        assert_eq!(path(Shell::Zsh, &env), Some("/h/.zshrc".into()));
        assert_eq!(
            path(Shell::Fish, &env),
            Some("/h/.config/fish/config.fish".into())
        );
        assert_eq!(path(Shell::Powershell, &env), None);
        let env = Env::from_pairs([("HOME", "/h"), ("ZDOTDIR", "/z"), ("XDG_CONFIG_HOME", "/x")]);
        assert_eq!(path(Shell::Zsh, &env), Some("/z/.zshrc".into()));
        assert_eq!(path(Shell::Fish, &env), Some("/x/fish/config.fish".into()));
        // Empty counts as unset, as `${ZDOTDIR:-$HOME}` does; relative is
        // not guessed at.
        let env = Env::from_pairs([("HOME", "/h"), ("ZDOTDIR", ""), ("XDG_CONFIG_HOME", "x")]);
        assert_eq!(path(Shell::Zsh, &env), Some("/h/.zshrc".into()));
        assert_eq!(path(Shell::Fish, &env), None);
    }

    #[test]
    fn a_hook_line_in_any_form_is_found() {
        for line in [
            r#"eval "$(mfa init bash)""#,
            r#"  eval "$(mfa init --no-prompt zsh)"  # mfa"#,
            "mfa init fish | source",
            "source <(mfa init zsh)",
            r#"eval "$("$HOME/.cargo/bin/mfa" init bash)""#,
            r#"eval "$(/usr/local/bin/mfa  init bash)""#,
            "eval `mfa init bash`",
            r#"# eval "$(mfa init bash)""#,
        ] {
            let text = format!("export A=1\n{line}\n");
            assert_eq!(mentions(&text, "init"), Some(2), "{line}");
        }
        for line in [
            r#"eval "$(mfa completions bash)""#,
            "mfa-init bash",
            "notmfa init",
            "mfa initialise",
            "mfa env prod",
            "# mfa is initialised by hand",
        ] {
            assert_eq!(mentions(line, "init"), None, "{line}");
        }
        assert_eq!(
            mentions("eval \"$(mfa completions bash)\"", "completions"),
            Some(1)
        );
    }

    #[test]
    fn lines_are_offered_once_and_zsh_completion_only_after_compinit() {
        assert_eq!(
            lines_to_add(Shell::Bash, None),
            [hook_line(Shell::Bash), completion_line(Shell::Bash)]
        );
        assert_eq!(
            lines_to_add(Shell::Fish, Some("mfa completions fish | source\n")),
            [hook_line(Shell::Fish)]
        );
        assert!(lines_to_add(Shell::Bash, Some("eval \"$(mfa init bash)\"")).is_empty());
        assert_eq!(
            lines_to_add(Shell::Zsh, Some("PS1=x\n")),
            [hook_line(Shell::Zsh)]
        );
        assert_eq!(
            lines_to_add(Shell::Zsh, Some("autoload -Uz compinit && compinit\n")),
            [hook_line(Shell::Zsh), completion_line(Shell::Zsh)]
        );
    }

    #[test]
    fn appending_keeps_every_byte_and_ends_a_last_line() {
        let lines = ["a", "b"];
        assert_eq!(with_lines(None, &lines), "a\nb\n");
        assert_eq!(with_lines(Some(""), &lines), "a\nb\n");
        assert_eq!(with_lines(Some("x\r\n\n"), &lines), "x\r\n\na\nb\n");
        assert_eq!(with_lines(Some("x"), &lines), "x\na\nb\n");
    }

    #[test]
    fn a_line_another_writer_added_meanwhile_is_not_added_twice() {
        let dir = tempfile::tempdir().unwrap();
        let rc = dir.path().join(".bashrc");
        fs::write(&rc, "x\neval \"$(mfa init bash)\"\n").unwrap();
        assert_eq!(append(&rc, &["new"]).unwrap(), Appended::AlreadyThere(2));
        assert_eq!(
            fs::read_to_string(&rc).unwrap(),
            "x\neval \"$(mfa init bash)\"\n"
        );
    }

    #[test]
    fn a_dangling_link_is_not_read_as_a_missing_file() {
        let dir = tempfile::tempdir().unwrap();
        let rc = dir.path().join(".bashrc");
        std::os::unix::fs::symlink(dir.path().join("gone"), &rc).unwrap();
        assert!(read(&rc).is_err());
        assert_eq!(read(&dir.path().join("none")).unwrap(), None);
    }
}
