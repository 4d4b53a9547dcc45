//! `mfa setup`: adds or changes an MFA profile in the config file, asking
//! what it needs on the terminal — or taking it all from flags — and
//! showing what it will write before it writes it, with the same lossless,
//! atomic editing as `mfa write`.

use std::fs::File;

use anyhow::{Context, Result, bail};

use crate::cli::SetupArgs;
use crate::config::{FileKind, Profiles, document};
use crate::context::Env;
use crate::creds::Credentials;
use crate::error::UsageError;
use crate::iam::{Iam, SdkIam};
use crate::shell::{Shell, parent_process_name};
use crate::startup_file;
use crate::sts::{SdkSts, Sts, sts_region};

/// What setup will write.
#[derive(Debug, Default)]
struct Plan {
    profile: String,
    /// The profile whose credentials section gets new keys, if any.
    keys_profile: Option<String>,
    keys: Option<Credentials>,
    /// `(key, value)` for `[profile NAME]` in the config file.
    config: Vec<(&'static str, String)>,
}

fn ask(tty: Option<&File>, prompt: &str, default: Option<&str>) -> Result<Option<String>> {
    let Some(tty) = tty else {
        return Ok(default.map(str::to_string));
    };
    let shown = match default {
        Some(d) => format!("{prompt} [{d}]: "),
        None => format!("{prompt}: "),
    };
    let answer = crate::terminal::ask_line(tty, &shown)?.unwrap_or_default();
    Ok(if answer.is_empty() {
        default.map(str::to_string)
    } else {
        Some(answer)
    })
}

fn has_keys(profiles: &Profiles, name: &str) -> bool {
    profiles.get(name).is_some_and(|p| {
        p.get_single("aws_access_key_id").is_some()
            && p.get_single("aws_secret_access_key").is_some()
    })
}

fn keys_from_env(env: &Env) -> Result<Credentials> {
    match (
        env.get("AWS_ACCESS_KEY_ID"),
        env.get("AWS_SECRET_ACCESS_KEY"),
    ) {
        (Some(id), Some(secret)) => {
            for (var, value) in [("AWS_ACCESS_KEY_ID", id), ("AWS_SECRET_ACCESS_KEY", secret)] {
                if !crate::creds::is_key_text(value) {
                    bail!(UsageError::new(format!(
                        "{var} is not a valid key: keys are printable ASCII without spaces or control characters (the value is not shown)"
                    )));
                }
            }
            Ok(Credentials {
                access_key_id: id.to_string(),
                secret_access_key: secret.to_string(),
                session_token: None,
                expiration: None,
            })
        }
        _ => bail!(UsageError::new(
            "--keys-from-env needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        )),
    }
}

fn keys_from_terminal(tty: &File) -> Result<Credentials> {
    let id = crate::terminal::ask_line(tty, "Access key id: ")?.unwrap_or_default();
    let secret = crate::terminal::read_secret(tty, "Secret access key (not shown): ")?;
    if id.is_empty() || secret.trim().is_empty() {
        bail!("no keys given");
    }
    let keys = Credentials {
        access_key_id: id,
        secret_access_key: secret.trim().to_string(),
        session_token: None,
        expiration: None,
    };
    if let Some(part) = keys.invalid_part() {
        bail!(UsageError::new(format!(
            "the {part} typed is not a valid key: keys are printable ASCII without spaces or control characters"
        )));
    }
    Ok(keys)
}

/// The user's MFA devices, when the keys may list them.
fn devices(keys: &Credentials, profile: &str, env: &Env) -> Vec<String> {
    let Ok(region) = sts_region(env, None) else {
        return Vec::new();
    };
    let who = SdkSts::new(profile, &region).get_caller_identity(keys);
    let Some(user) = who.ok().and_then(|w| w.user_name().map(str::to_string)) else {
        return Vec::new();
    };
    SdkIam::new(profile)
        .list_mfa_devices(keys, &user)
        .map(|list| {
            list.into_iter()
                .filter(|d| d.enabled_at.is_some())
                .map(|d| d.serial)
                .collect()
        })
        .unwrap_or_default()
}

fn plan(args: &SetupArgs, profiles: &Profiles, env: &Env, tty: Option<&File>) -> Result<Plan> {
    let profile = match &args.profile {
        Some(p) => p.clone(),
        None => ask(tty, "Name of the profile to add or change", Some("default"))?
            .ok_or_else(|| UsageError::new("name the profile with --profile"))?,
    };
    if !document::is_valid_name(&profile) {
        bail!(UsageError::new(format!(
            "`{profile}` cannot be a profile name"
        )));
    }
    let existing = profiles.get(&profile);
    let current = |key: &str| existing.and_then(|p| p.get_single(key)).map(str::to_string);

    let role_arn = match &args.role_arn {
        Some(arn) => Some(arn.clone()),
        None => ask(
            tty,
            "Role to assume (ARN, empty for none)",
            current("role_arn").as_deref(),
        )?,
    }
    .filter(|a| !a.is_empty());
    // Whose keys: the profile's own, or (for a role) a source profile's.
    let keys_profile = match (&role_arn, &args.source_profile) {
        (_, Some(source)) => source.clone(),
        (Some(_), None) => ask(
            tty,
            "Profile whose keys assume the role",
            current("source_profile").as_deref().or(Some("default")),
        )?
        .ok_or_else(|| UsageError::new("name the source profile with --source-profile"))?,
        (None, None) => profile.clone(),
    };
    let mut new_keys = None;
    if args.keys_from_env {
        new_keys = Some(keys_from_env(env)?);
    } else if !has_keys(profiles, &keys_profile) {
        match tty {
            Some(tty) => {
                crate::terminal::say(&format!("Profile `{keys_profile}` has no keys yet.\n"));
                new_keys = Some(keys_from_terminal(tty)?);
            }
            None => bail!(UsageError::new(format!(
                "profile `{keys_profile}` has no keys: pass --keys-from-env with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY set"
            ))),
        }
    }
    let serial = match &args.mfa_serial {
        Some(serial) => serial.clone(),
        None => {
            let keys = match &new_keys {
                Some(k) => Some(k.clone()),
                None => super::root_keys(Some(&keys_profile), env)
                    .ok()
                    .map(|k| k.credentials),
            };
            let found = keys
                .map(|k| devices(&k, &keys_profile, env))
                .unwrap_or_default();
            let default = current("mfa_serial").or_else(|| found.first().cloned());
            if tty.is_some() && !found.is_empty() {
                crate::terminal::say(&format!("Your MFA devices: {}\n", found.join(", ")));
            }
            match ask(tty, "MFA device (serial ARN)", default.as_deref())? {
                Some(serial) if !serial.is_empty() => serial,
                _ => bail!(UsageError::new(
                    "no MFA device: pass --mfa-serial ARN (create one with `mfa device create`)"
                )),
            }
        }
    };
    if !serial.starts_with("arn:") && !serial.chars().all(|c| c.is_ascii_alphanumeric()) {
        bail!(UsageError::new(format!(
            "`{serial}` is not an MFA device's serial (arn:aws:iam::ACCOUNT:mfa/NAME)"
        )));
    }
    let region = match &args.region {
        Some(r) => Some(r.clone()),
        None => ask(tty, "Region (empty for none)", current("region").as_deref())?,
    }
    .filter(|r| !r.is_empty());
    if let Some(region) = region
        .as_deref()
        .filter(|r| !crate::sts::is_valid_region(r))
    {
        bail!(crate::sts::invalid_region(region, "the region"));
    }

    let mut config: Vec<(&'static str, String)> = vec![("mfa_serial", serial)];
    if let Some(arn) = role_arn {
        config.push(("role_arn", arn));
        config.push(("source_profile", keys_profile.clone()));
    }
    if let Some(region) = region {
        config.push(("region", region));
    }
    Ok(Plan {
        profile,
        keys_profile: new_keys.as_ref().map(|_| keys_profile),
        keys: new_keys,
        config,
    })
}

fn show(plan: &Plan, env: &Env) -> String {
    let header = if plan.profile == "default" {
        "[default]".to_string()
    } else {
        format!("[profile {}]", plan.profile)
    };
    let mut text = format!(
        "In {}:\n{header}\n",
        crate::paths::display(&crate::config::config_path(env))
    );
    for (k, v) in &plan.config {
        text.push_str(&format!("{k} = {v}\n"));
    }
    if let (Some(name), Some(keys)) = (&plan.keys_profile, &plan.keys) {
        text.push_str(&format!(
            "In {}:\n[{name}]\naws_access_key_id = {}\naws_secret_access_key = ********\n",
            crate::paths::display(&crate::config::credentials_path(env)),
            keys.access_key_id
        ));
    }
    text
}

pub fn run(args: SetupArgs, env: &Env) -> Result<()> {
    let files = crate::config::load(env)?;
    let profiles = files.profiles;
    let tty = crate::terminal::open().ok();
    let plan = plan(&args, &profiles, env, tty.as_ref())?;
    let summary = show(&plan, env);
    let go = if args.yes {
        true
    } else {
        match &tty {
            Some(tty) => {
                crate::terminal::say(&format!("\n{summary}\n"));
                crate::terminal::confirm(tty, "Write this?", true)?
            }
            None => bail!(UsageError::new(format!(
                "not writing without a terminal to confirm on: add --yes\n{summary}"
            ))),
        }
    };
    if !go {
        eprintln!("mfa: nothing written");
        return Ok(());
    }
    if let (Some(name), Some(keys)) = (&plan.keys_profile, &plan.keys) {
        // The plan was made from the files as read before the lock: keys
        // another run put there since then must not be overwritten unseen.
        let seen = super::keys::keys_in_file(&profiles, name, FileKind::Credentials);
        crate::config::set_in_file(
            &files.credentials_path,
            FileKind::Credentials,
            name,
            &[
                ("aws_access_key_id", keys.access_key_id.as_str()),
                ("aws_secret_access_key", keys.secret_access_key.as_str()),
            ],
            |current| {
                if super::keys::keys_in_file(current, name, FileKind::Credentials) == seen {
                    return Ok(());
                }
                bail!(UsageError::new(format!(
                    "the keys of profile `{name}` in {} changed while setup ran; nothing was written: run mfa setup again",
                    crate::paths::display(&files.credentials_path)
                )))
            },
        )?;
    }
    let properties: Vec<(&str, &str)> = plan.config.iter().map(|(k, v)| (*k, v.as_str())).collect();
    crate::config::set_in_file(
        &files.config_path,
        FileKind::Config,
        &plan.profile,
        &properties,
        |_| Ok(()),
    )?;
    eprintln!(
        "mfa: profile `{}` is ready: eval \"$(mfa env {})\"",
        plan.profile, plan.profile
    );
    offer_shell_hook(args.yes, env, tty.as_ref())
}

/// The last step: offers to append the line that loads the hook (and
/// completion's) to the start-up file of the shell `mfa env` would write
/// for. Asked on the terminal only: with `--yes` (a script) the file is
/// left alone and the lines are shown on stderr instead.
fn offer_shell_hook(yes: bool, env: &Env, tty: Option<&File>) -> Result<()> {
    let shell = match Shell::detect(env, parent_process_name().as_deref()) {
        Ok(shell) => shell,
        Err(e) => {
            eprintln!("mfa: {e}; `mfa init SHELL` prints the shell hook");
            return Ok(());
        }
    };
    let mfa_missing = which::which_in("mfa", env.get("PATH"), "/").is_err();
    let add_by_hand = |lines: &[&str], place: &str| {
        eprintln!("mfa: to load the shell hook, add to {place}:");
        for line in lines {
            eprintln!("  {line}");
        }
        if mfa_missing {
            eprintln!("mfa: (`mfa` is not on PATH: the line needs it there)");
        }
    };
    let Some(path) = startup_file::path(shell, env) else {
        let place = match shell {
            Shell::Powershell => "your PowerShell profile ($PROFILE)".to_string(),
            other => format!("{other}'s start-up file"),
        };
        add_by_hand(
            &[
                startup_file::hook_line(shell),
                startup_file::completion_line(shell),
            ],
            &place,
        );
        return Ok(());
    };
    let shown = crate::paths::display(&path);
    let text = match startup_file::read(&path) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("mfa: {e:#}");
            add_by_hand(&[startup_file::hook_line(shell)], &shown);
            return Ok(());
        }
    };
    if let Some(line) = text
        .as_deref()
        .and_then(|t| startup_file::mentions(t, "init"))
    {
        eprintln!("mfa: {shown} already has an `mfa init` line (line {line})");
        return Ok(());
    }
    let lines = startup_file::lines_to_add(shell, text.as_deref());
    let tty = match tty {
        Some(tty) if !yes => tty,
        _ => {
            add_by_hand(&lines, &shown);
            return Ok(());
        }
    };
    let mut offer =
        String::from("\nThe shell hook (`mfa use`, the time left in the prompt, renewal)");
    offer.push_str(if lines.len() > 1 {
        " and completion load"
    } else {
        " loads"
    });
    offer.push_str(&format!(" from {shown} with:\n"));
    for line in &lines {
        offer.push_str(&format!("  {line}\n"));
    }
    if mfa_missing {
        offer.push_str("(`mfa` is not on PATH here: the line needs it there.)\n");
    }
    crate::terminal::say(&offer);
    let what = if lines.len() > 1 {
        "these lines"
    } else {
        "this line"
    };
    if !crate::terminal::confirm(tty, &format!("Add {what} to the end of {shown}?"), true)? {
        eprintln!("mfa: {shown} not changed");
        return Ok(());
    }
    let appended = startup_file::append(&path, &lines).with_context(|| {
        format!(
            "the profile is written, but {shown} is not changed (add by hand: {})",
            lines.join(" and ")
        )
    })?;
    match appended {
        startup_file::Appended::Added => eprintln!(
            "mfa: added to {shown}: new shells load the hook; for this one, run: {}",
            startup_file::hook_line(shell)
        ),
        startup_file::Appended::AlreadyThere(line) => {
            eprintln!("mfa: {shown} got an `mfa init` line meanwhile (line {line}); not added")
        }
    }
    Ok(())
}
