//! `mfa completions SHELL`: the registration script of clap_complete's
//! dynamic completion. At TAB time the shell calls `COMPLETE=<shell> mfa --
//! <words>`, and the binary answers from the command definition and, for
//! profile and role arguments, from the config files as they are then.

use std::ffi::OsStr;

use anyhow::Result;
use clap_complete::engine::CompletionCandidate;
use clap_complete::env::Shells;

use crate::cli::CompletionsArgs;
use crate::context::Env;
use crate::shell::Shell;

/// The environment variable that switches the binary into completion mode.
pub const VAR: &str = "COMPLETE";

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
    let shells = Shells::builtins();
    let completer = shells
        .completer(name)
        .ok_or_else(|| anyhow::anyhow!("no completion support for {name}"))?;
    let mut buf = Vec::new();
    completer.write_registration(VAR, "mfa", "mfa", "mfa", &mut buf)?;
    Ok(String::from_utf8(buf)?)
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
