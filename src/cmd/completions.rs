//! `mfa completions SHELL`: the registration script of clap_complete's
//! dynamic completion. At TAB time the shell calls `COMPLETE=<shell> mfa --
//! <words>`, and the binary answers from the command definition and, for
//! profile and role arguments, from the config files as they are then.
//!
//! bash's half is ours ([`Bash`]): clap's splits the answer with globbing
//! on and bash inserts what it is given as it is, so a role ARN of
//! `x;$(touch p)` or `*` ran or expanded at TAB, Enter. Ours sends the line
//! to the binary, which answers with each candidate already quoted for the
//! place the cursor is in (outside quotes, in `'…`, in `"…`).

use std::ffi::{OsStr, OsString};

use anyhow::Result;
use clap_complete::engine::CompletionCandidate;
use clap_complete::env::{EnvCompleter, Shells};

use crate::cli::CompletionsArgs;
use crate::context::Env;
use crate::shell::Shell;

/// The environment variable that switches the binary into completion mode.
pub const VAR: &str = "COMPLETE";

/// The shells `COMPLETE` answers: clap's, but bash's own.
pub const SHELLS: Shells<'static> = Shells(&[
    &Bash,
    &clap_complete::env::Zsh,
    &clap_complete::env::Fish,
    &clap_complete::env::Powershell,
    &clap_complete::env::Elvish,
]);

/// The shell asking, noted by [`note_shell`]: clap removes `VAR` from the
/// environment before it calls the completers.
static SHELL: std::sync::OnceLock<std::ffi::OsString> = std::sync::OnceLock::new();

/// Notes which shell (if any) asks for completions; call before clap does.
pub fn note_shell() {
    if let Some(shell) = std::env::var_os(VAR) {
        let _ = SHELL.set(shell);
    }
}

pub fn registration(shell: Shell) -> Result<String> {
    let name = match shell {
        Shell::Powershell => "powershell",
        other => other.name(),
    };
    let completer = SHELLS
        .completer(name)
        .ok_or_else(|| anyhow::anyhow!("no completion support for {name}"))?;
    let mut buf = Vec::new();
    completer.write_registration(VAR, "mfa", "mfa", "mfa", &mut buf)?;
    Ok(String::from_utf8(buf)?)
}

/// bash's registration. The line up to the cursor and the part of it
/// readline replaces (`$2`: after the last of `COMP_WORDBREAKS`, such as
/// the `:` of an ARN, or after an open quote) go to the binary in the
/// environment (not argv, which every user can read). The answer is split
/// on `\v` only, with globbing off: each field is one reply, inserted as
/// it is. `_clap_complete_mfa` keeps clap's name (scripts/bench calls it).
const BASH_REGISTRATION: &str = r#"# mfa completion for bash: `eval "$(mfa completions bash)"`, or this file in
# /usr/share/bash-completion/completions/mfa. The binary quotes each reply.
_clap_complete_mfa() {
    local IFS=$'\013' globbing=1 spacing=
    [[ $- == *f* ]] && globbing=
    # Readline appends a space unless the reply ends in = / : (bash 4+).
    compopt +o nospace 2>/dev/null && spacing=1
    set -f
    # Split on \v alone with globbing off: mapfile is ~25 ms slower over
    # 5,000 replies.
    # shellcheck disable=SC2207
    COMPREPLY=($(
        _MFA_COMPLETE_LINE="${COMP_LINE:0:COMP_POINT}" \
        _MFA_COMPLETE_WORD="$2" \
        @VAR@=bash @COMPLETER@ -- @BIN@
    ))
    local status=$?
    [[ $globbing ]] && set +f
    if ((status != 0)); then
        COMPREPLY=()
    elif [[ $spacing && ${#COMPREPLY[@]} == 1 && ${COMPREPLY[0]} == *[=/:] ]]; then
        compopt -o nospace
    fi
}
if ((BASH_VERSINFO[0] > 4 || BASH_VERSINFO[0] == 4 && BASH_VERSINFO[1] >= 4)); then
    complete -o nospace -o bashdefault -o nosort -F _clap_complete_mfa @BIN@
else
    complete -o nospace -o bashdefault -F _clap_complete_mfa @BIN@
fi
"#;

/// bash: the registration above, and the answer to it.
struct Bash;

impl EnvCompleter for Bash {
    fn name(&self) -> &'static str {
        "bash"
    }

    fn is(&self, name: &str) -> bool {
        name == "bash"
    }

    fn write_registration(
        &self,
        var: &str,
        _name: &str,
        bin: &str,
        completer: &str,
        buf: &mut dyn std::io::Write,
    ) -> std::io::Result<()> {
        let script = BASH_REGISTRATION
            .replace("@VAR@", var)
            .replace("@COMPLETER@", &Shell::Bash.quote(completer))
            .replace("@BIN@", &Shell::Bash.quote(bin));
        buf.write_all(script.as_bytes())
    }

    fn write_complete(
        &self,
        cmd: &mut clap::Command,
        _args: Vec<OsString>,
        current_dir: Option<&std::path::Path>,
        buf: &mut dyn std::io::Write,
    ) -> std::io::Result<()> {
        let (Ok(line), Ok(replaced)) = (
            std::env::var("_MFA_COMPLETE_LINE"),
            std::env::var("_MFA_COMPLETE_WORD"),
        ) else {
            return Ok(());
        };
        let Some(kept) = line.strip_suffix(replaced.as_str()) else {
            return Ok(());
        };
        let typed = bash_line::lex(&line);
        let before = bash_line::lex(kept);
        if before.words.len() != typed.words.len() {
            return Ok(());
        }
        let index = typed.words.len() - 1;
        let words = typed.words.into_iter().map(OsString::from).collect();
        let candidates = clap_complete::engine::complete(cmd, words, index, current_dir)?;
        let values: Vec<String> = candidates
            .iter()
            .map(|c| c.get_value().to_string_lossy().into_owned())
            .collect();
        let replies = bash_line::replies(&values, &before);
        buf.write_all(replies.join("\x0b").as_bytes())
    }
}

/// How bash reads the line being completed, and what to give readline to
/// put in it: the quoting is the quoting layer's (`Shell::Bash.quote`),
/// fitted to where the cursor is.
mod bash_line {
    use crate::shell::Shell;

    /// What encloses the end of the line.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Quote {
        None,
        Single,
        Double,
    }

    /// The words of a line as bash will see them (quotes removed; nothing
    /// expanded), the last being the one under the cursor (empty after a
    /// blank), and the quote left open at its end.
    #[derive(Debug, PartialEq, Eq)]
    pub struct Typed {
        pub words: Vec<String>,
        pub quote: Quote,
    }

    pub fn lex(line: &str) -> Typed {
        let mut words = vec![String::new()];
        let mut in_word = false;
        let mut quote = Quote::None;
        let mut chars = line.chars();
        while let Some(c) = chars.next() {
            let Some(word) = words.last_mut() else { break };
            match (quote, c) {
                (Quote::Single, '\'') | (Quote::Double, '"') => quote = Quote::None,
                (Quote::Single, c) => word.push(c),
                (Quote::Double, '\\') => match chars.next() {
                    Some(e @ ('$' | '`' | '"' | '\\')) => word.push(e),
                    Some('\n') | None => {}
                    Some(e) => {
                        word.push('\\');
                        word.push(e);
                    }
                },
                (Quote::Double, c) => word.push(c),
                (Quote::None, ' ' | '\t' | '\n') => {
                    if in_word {
                        words.push(String::new());
                        in_word = false;
                    }
                }
                (Quote::None, c) => {
                    in_word = true;
                    match c {
                        '\'' => quote = Quote::Single,
                        '"' => quote = Quote::Double,
                        '\\' => match chars.next() {
                            Some('\n') | None => {}
                            Some(e) => word.push(e),
                        },
                        c => word.push(c),
                    }
                }
            }
        }
        Typed { words, quote }
    }

    /// Characters that are themselves outside quotes, anywhere in a word.
    fn plain_outside(c: char) -> bool {
        c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c)
    }

    /// Characters that are themselves inside double quotes (`!` is not,
    /// in an interactive shell: history expansion).
    fn plain_in_double(c: char) -> bool {
        !"$`\"\\!".contains(c)
    }

    /// What readline is to put in place of the replaced part for each
    /// candidate, so that the word becomes exactly the candidate. `before`
    /// is the line up to that part: the word so far and its open quote.
    /// Candidates that do not extend the word, or that this answer cannot
    /// carry (`\v` separates replies; no value from the files holds one,
    /// nor a newline or NUL), are left out.
    pub fn replies(candidates: &[String], before: &Typed) -> Vec<String> {
        let so_far = before.words.last().map_or("", String::as_str);
        let rests: Vec<&str> = candidates
            .iter()
            .filter(|c| !c.contains(['\x0b', '\n', '\0']))
            .filter_map(|c| c.strip_prefix(so_far))
            .collect();
        let plain = |rest: &str| match before.quote {
            Quote::None => rest.chars().all(plain_outside),
            Quote::Double => rest.chars().all(plain_in_double),
            Quote::Single => !rest.contains('\''),
        };
        // Quoted alike, the candidates keep a common beginning for readline
        // to insert (`'a` of `'a b'` and `'a$c'`): quote all if any needs it.
        let quote_all = rests.len() > 1 && !rests.iter().all(|r| plain(r));
        let open = match before.quote {
            Quote::None => None,
            Quote::Single => Some('\''),
            Quote::Double => Some('"'),
        };
        rests
            .into_iter()
            .map(|rest| {
                let reply = if !quote_all && plain(rest) && !rest.is_empty() {
                    rest.to_string()
                } else {
                    let quoted = Shell::Bash.quote(rest);
                    match before.quote {
                        // Readline closes the open quote after a sole reply.
                        Quote::Single => quoted[1..quoted.len() - 1].to_string(),
                        Quote::Double => format!("\"{quoted}\""),
                        Quote::None => quoted,
                    }
                };
                let Some(quote) = open else { return reply };
                // Readline lets a reply that begins with the open quote
                // replace it, and closes the quote after a sole reply only
                // if it does not end with one: give it one more of each.
                let mut reply = if reply.starts_with(quote) {
                    format!("{quote}{reply}")
                } else {
                    reply
                };
                if reply.ends_with(quote) {
                    reply.push(quote);
                }
                reply
            })
            .collect()
    }
}

pub fn run(args: CompletionsArgs) -> Result<()> {
    crate::output::print(&registration(args.shell)?)
}

fn profiles_now() -> Option<crate::config::Profiles> {
    crate::config::load(&Env::from_process())
        .ok()
        .map(|files| files.profiles)
}

/// Every profile's name and kind: from the memo while the files are
/// unchanged, else from the files (and the memo written anew).
fn names_and_kinds() -> Option<Vec<(String, String)>> {
    let env = Env::from_process();
    let config = crate::config::config_path(&env);
    let credentials = crate::config::credentials_path(&env);
    // The key store's markers add profiles known only there.
    let markers = crate::keystore::keys_dir(&env);
    let sources = [config.as_path(), credentials.as_path(), markers.as_path()];
    let memo = super::completion_memo::path(&crate::cache::Cache::from_env(&env).dir);
    if let Some(found) = super::completion_memo::read(&memo, &sources) {
        return Some(found);
    }
    let seen = super::completion_memo::identities(&sources);
    let profiles = crate::config::load(&env).ok()?.profiles;
    let pairs: Vec<(String, String)> = profiles
        .list
        .iter()
        .map(|p| {
            (
                p.name.clone(),
                crate::resolve::kind(&profiles, p).to_string(),
            )
        })
        .collect();
    super::completion_memo::write(&memo, &sources, &seen, &pairs);
    Some(pairs)
}

/// Profile names starting with what has been typed.
pub fn complete_profiles(current: &OsStr) -> Vec<CompletionCandidate> {
    let current = current.to_string_lossy();
    let Some(profiles) = names_and_kinds() else {
        return Vec::new();
    };
    // bash shows no descriptions.
    let with_help = SHELL.get().is_none_or(|shell| shell != "bash");
    profiles
        .into_iter()
        .filter(|(name, _)| name.starts_with(current.as_ref()))
        .map(|(name, kind)| {
            // With a tag of ours, clap does not format the argument anew
            // for each of thousands of candidates to tag them.
            let candidate = CompletionCandidate::new(name).tag(Some("profile".into()));
            if with_help {
                candidate.help(Some(kind.into()))
            } else {
                candidate
            }
        })
        .collect()
}

/// Role ARNs from the config, with the profiles that use them as help.
pub fn complete_roles(current: &OsStr) -> Vec<CompletionCandidate> {
    let current = current.to_string_lossy();
    let Some(profiles) = profiles_now() else {
        return Vec::new();
    };
    super::roles::roles(&profiles)
        .into_iter()
        .filter(|r| r.role_arn.starts_with(current.as_ref()))
        .map(|r| {
            CompletionCandidate::new(r.role_arn)
                .help(Some(r.profiles.join(", ").into()))
                .tag(Some("role".into()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::bash_line::{Quote, Typed, lex, replies};

    fn typed(words: &[&str], quote: Quote) -> Typed {
        Typed {
            words: words.iter().map(|w| w.to_string()).collect(),
            quote,
        }
    }

    #[test]
    fn the_line_is_read_as_bash_reads_it() {
        assert_eq!(lex(""), typed(&[""], Quote::None));
        assert_eq!(lex("mfa env "), typed(&["mfa", "env", ""], Quote::None));
        assert_eq!(lex("  mfa  en"), typed(&["mfa", "en"], Quote::None));
        assert_eq!(lex(r"mfa a\ b\;c"), typed(&["mfa", "a b;c"], Quote::None));
        assert_eq!(lex("mfa 'a b"), typed(&["mfa", "a b"], Quote::Single));
        assert_eq!(
            lex("mfa 'a'\\''b' "),
            typed(&["mfa", "a'b", ""], Quote::None)
        );
        assert_eq!(
            lex(r#"mfa "a\$b\c\"d"#),
            typed(&["mfa", r#"a$b\c"d"#], Quote::Double)
        );
        assert_eq!(lex("mfa ''"), typed(&["mfa", ""], Quote::None));
        // A lone backslash at the end escapes what is not typed yet.
        assert_eq!(lex("mfa a\\"), typed(&["mfa", "a"], Quote::None));
    }

    fn reply(candidates: &[&str], before: &str) -> Vec<String> {
        let candidates: Vec<String> = candidates.iter().map(|c| c.to_string()).collect();
        replies(&candidates, &lex(before))
    }

    #[test]
    fn replies_are_quoted_for_where_the_cursor_is() {
        // Plain names stay as they are.
        assert_eq!(
            reply(&["admin", "admin-eu"], "mfa env "),
            ["admin", "admin-eu"]
        );
        // After an ARN's `:` (readline replaces only what follows it).
        assert_eq!(
            reply(&["arn:aws:iam::1:role/r"], "mfa --role-arn arn:aws:iam::1:"),
            ["role/r"]
        );
        // Outside quotes: single-quoted, all alike when any needs it.
        assert_eq!(reply(&["*"], "mfa --role-arn "), ["'*'"]);
        assert_eq!(
            reply(&["x;$(id)`id`", "xy"], "mfa --role-arn "),
            ["'x;$(id)`id`'", "'xy'"]
        );
        assert_eq!(reply(&["it's"], "mfa --role-arn "), [r"'it'\''s'"]);
        // In an open single quote readline closes it after the reply.
        assert_eq!(reply(&["a b'c"], "mfa --role-arn '"), [r"a b'\''c"]);
        // A reply that begins with the open quote replaces it, one that
        // ends with it is not closed (readline): one more of each.
        assert_eq!(reply(&["'x"], "mfa --role-arn '"), [r"''\''x"]);
        assert_eq!(reply(&["x'"], "mfa --role-arn '"), [r"x'\'''"]);
        // In an open double quote: out of it, single-quoted, back in.
        assert_eq!(reply(&["a$b !c"], "mfa --role-arn \""), [r#"""'a$b !c'"""#]);
        assert_eq!(reply(&["a b"], "mfa --role-arn \""), ["a b"]);
        // What the word already holds is kept, and must match.
        assert_eq!(reply(&["a b*", "ab"], "mfa --role-arn 'a b'"), ["'*'"]);
        // Nothing a reply cannot carry.
        assert!(reply(&["a\nb", "a\x0bb", "a\0b"], "mfa ").is_empty());
    }
}
