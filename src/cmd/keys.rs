//! `mfa add / remove / migrate / rotate`: long-term keys out of plaintext
//! (SPEC §7). The key store is picked by `MFA_BACKEND` (see
//! `crate::keystore`); the credentials file is edited losslessly.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};

use crate::cli::{AddArgs, KeyProfileArgs};
use crate::config::{FileKind, Profiles, document, edit};
use crate::context::Env;
use crate::creds::Credentials;
use crate::error::UsageError;
use crate::files::{Access, Locked};
use crate::iam::{Iam, SdkIam};
use crate::keystore::{self, KeyStore};
use crate::resolve::{Overrides, Root};
use crate::sts::{SdkSts, Sts, sts_region};

const KEY_PROPERTIES: [&str; 2] = ["aws_access_key_id", "aws_secret_access_key"];

fn long_term(id: &str, secret: &str) -> Result<Credentials> {
    let (id, secret) = (id.trim(), secret.trim());
    if id.is_empty() || secret.is_empty() {
        bail!(UsageError::new(
            "an access key id and a secret access key are needed"
        ));
    }
    if !id.chars().all(|c| c.is_ascii_alphanumeric()) {
        bail!(UsageError::new(
            "an access key id is letters and digits (AKIA…)"
        ));
    }
    if !crate::creds::is_key_text(secret) {
        bail!(UsageError::new(
            "a secret access key is printable ASCII without spaces or control characters (the value is not shown)"
        ));
    }
    Ok(Credentials {
        access_key_id: id.to_string(),
        secret_access_key: secret.to_string(),
        session_token: None,
        expiration: None,
    })
}

/// Stores the keys and reads them back before anything relies on them.
fn store_verified(
    store: &dyn KeyStore,
    env: &Env,
    profile: &str,
    keys: &Credentials,
) -> Result<()> {
    store
        .set(profile, keys)
        .with_context(|| format!("cannot store the keys in the {} store", store.name()))?;
    let back = store.get(profile)?;
    if back.as_ref() != Some(keys) {
        bail!(
            "the {} store did not give the keys back as stored",
            store.name()
        );
    }
    keystore::mark(env, profile, store.name(), true)?;
    Ok(())
}

fn has_file_keys(profiles: &Profiles, profile: &str) -> bool {
    profiles
        .get(profile)
        .is_some_and(|p| p.get_nonempty("aws_access_key_id").is_some())
}

pub fn add(args: AddArgs, env: &Env) -> Result<()> {
    let profile = args.profile;
    if !document::is_valid_name(&profile) {
        bail!(UsageError::new(format!(
            "`{profile}` cannot be a profile name"
        )));
    }
    let files = crate::config::load(env)?;
    if has_file_keys(&files.profiles, &profile) {
        bail!(UsageError::new(format!(
            "profile `{profile}` has keys in the credentials file, which would win over stored ones: move them with `mfa migrate {profile}`"
        )));
    }
    let keys = if args.from_env {
        match (
            env.get("AWS_ACCESS_KEY_ID"),
            env.get("AWS_SECRET_ACCESS_KEY"),
        ) {
            (Some(id), Some(secret)) => long_term(id, secret)?,
            _ => bail!(UsageError::new(
                "--from-env needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
            )),
        }
    } else {
        let tty = crate::terminal::open()
            .map_err(|_| UsageError::new("no terminal to ask for the keys: use --from-env"))?;
        let id = crate::terminal::ask_line(&tty, "Access key id: ")?.unwrap_or_default();
        let secret = crate::terminal::read_secret(&tty, "Secret access key (not shown): ")?;
        long_term(&id, &secret)?
    };
    let store = keystore::open(env)?;
    store_verified(store.as_ref(), env, &profile, &keys)?;
    eprintln!(
        "mfa: stored the keys of profile `{profile}` ({}) in the {} store",
        keys.access_key_id,
        store.name()
    );
    Ok(())
}

pub fn remove(args: KeyProfileArgs, env: &Env) -> Result<()> {
    let profile = args.profile;
    let Some(store) = keystore::open_for(env, &profile)? else {
        bail!(UsageError::new(format!(
            "no stored keys for profile `{profile}`"
        )));
    };
    store.delete(&profile)?;
    keystore::mark(env, &profile, store.name(), false)?;
    eprintln!(
        "mfa: deleted the keys of profile `{profile}` from the {} store",
        store.name()
    );
    Ok(())
}

/// A profile's key properties (id, secret) as set in one of the files.
/// `profiles` may be merged: only values that come from `file` count.
pub(crate) fn keys_in_file<'a>(
    profiles: &'a Profiles,
    profile: &str,
    file: FileKind,
) -> [Option<&'a str>; 2] {
    let found = profiles.get(profile);
    KEY_PROPERTIES.map(|key| {
        found
            .and_then(|p| p.properties.iter().find(|q| q.key == key))
            .filter(|q| q.origin.file == file)
            .map(|q| q.value.as_str())
    })
}

fn parse_locked(file: &Locked, path: &Path, kind: FileKind) -> Result<document::Document> {
    document::parse(file.text().unwrap_or(""), path, kind)
        .map_err(|e| UsageError::new(e.to_string()).into())
}

/// The file's text without the profile's key lines, when it has any. An
/// error unless every line removed holds exactly the keys being stored: a
/// pair shadowed by a later line, or other keys in the other file, would
/// be lost.
fn without_keys(
    file: &Locked,
    doc: &document::Document,
    profile: &str,
    keys: [&str; 2],
) -> Result<Option<(String, String)>> {
    let Some(old) = file.text() else {
        return Ok(None);
    };
    let edited = edit::remove_properties(doc, profile, &KEY_PROPERTIES);
    // Only lines are dropped, in order: what `edited` lacks was removed.
    let mut kept = edited.lines.iter().peekable();
    for (index, line) in doc.lines.iter().enumerate() {
        if kept.peek() == Some(&line) {
            kept.next();
            continue;
        }
        let stored = matches!(&line.item, document::Item::Property { key, value }
            if KEY_PROPERTIES.iter().zip(keys).any(|(k, v)| key == k && value == v));
        if !stored {
            bail!(UsageError::new(format!(
                "profile `{profile}` has more than one pair of keys (line {} of {} is not the pair being moved): keep one pair, then migrate; nothing was changed",
                index + 1,
                crate::paths::display(&doc.path)
            )));
        }
    }
    let new = edited.render();
    Ok((new != old).then(|| (old.to_string(), new)))
}

/// Puts the store back as it was before `migrate` stored `profile`'s keys.
fn restore_store(
    store: &dyn KeyStore,
    env: &Env,
    profile: &str,
    previous: Option<&Credentials>,
) -> Result<()> {
    match previous {
        Some(keys) => {
            store.set(profile, keys)?;
            keystore::mark(env, profile, store.name(), true)
        }
        None => {
            store.delete(profile)?;
            keystore::mark(env, profile, store.name(), false)
        }
    }
}

/// Whether two paths name the same existing file (links followed).
fn same_file(a: &std::path::Path, b: &std::path::Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(a), Ok(b)) => (a.dev(), a.ino()) == (b.dev(), b.ino()),
        _ => false,
    }
}

pub fn migrate(args: KeyProfileArgs, env: &Env) -> Result<()> {
    let profile = args.profile;
    let store = keystore::open(env)?;
    let credentials_path = crate::config::credentials_path(env);
    let config_path = crate::config::config_path(env);
    // One file named twice (or through a link) would be locked twice by
    // this process, which waits for itself for ever.
    if same_file(&credentials_path, &config_path) {
        bail!(UsageError::new(format!(
            "the config and credentials files are one file ({}); migrate moves keys from the credentials file, so they must be two",
            crate::paths::display(&credentials_path)
        )));
    }
    // Both files stay locked from the first read to the last write
    // (credentials first, config second, always in that order), so the
    // keys removed are exactly the keys stored, whatever else runs.
    let mut credentials = Locked::open(&credentials_path, Access::OwnerOnly)?;
    let mut config = Locked::open(&config_path, Access::KeepMode)?;
    let credentials_doc = parse_locked(&credentials, &credentials_path, FileKind::Credentials)?;
    let config_doc = parse_locked(&config, &config_path, FileKind::Config)?;
    let profiles = Profiles::from_documents(Some(&config_doc), Some(&credentials_doc));
    let Some(found) = profiles.get(&profile) else {
        if keystore::stored_in(env, &profile).is_some() {
            bail!(UsageError::new(format!(
                "profile `{profile}` has no keys in the files to move"
            )));
        }
        return Err(crate::resolve::unknown_profile(&profiles, &profile).into());
    };
    let (Some(id), Some(secret)) = (
        found.scalar("aws_access_key_id")?,
        found.scalar("aws_secret_access_key")?,
    ) else {
        bail!(UsageError::new(format!(
            "profile `{profile}` has no keys in the files to move"
        )));
    };
    if found.get_nonempty("aws_session_token").is_some() {
        bail!(UsageError::new(format!(
            "profile `{profile}` holds temporary keys, which are not worth storing"
        )));
    }
    let new_credentials = without_keys(&credentials, &credentials_doc, &profile, [id, secret])?;
    let new_config = without_keys(&config, &config_doc, &profile, [id, secret])?;
    let keys = long_term(id, secret)?;

    let previous = store.get(&profile).with_context(|| {
        format!(
            "cannot read what the {} store holds for profile `{profile}`; nothing was changed",
            store.name()
        )
    })?;
    // Out of the files only once the store has given them back.
    if let Err(e) = store_verified(store.as_ref(), env, &profile, &keys) {
        let _ = restore_store(store.as_ref(), env, &profile, previous.as_ref());
        return Err(e.context("nothing was changed"));
    }
    let mut config_written = false;
    let mut written = || -> Result<()> {
        if let Some((_, new)) = &new_config {
            config_written = config.replace(new)?;
        }
        if let Some((_, new)) = &new_credentials {
            credentials.replace(new)?;
        }
        Ok(())
    };
    if let Err(e) = written() {
        // Back as it was: the config file if it was written, and the store.
        if let (Some((old, _)), true) = (&new_config, config_written) {
            let _ = config.replace(old);
        }
        let _ = restore_store(store.as_ref(), env, &profile, previous.as_ref());
        return Err(e.context("nothing was moved"));
    }
    let changed: Vec<String> = [
        (&new_config, &config_path),
        (&new_credentials, &credentials_path),
    ]
    .into_iter()
    .filter(|(new, _)| new.is_some())
    .map(|(_, path)| crate::paths::display(path))
    .collect();
    eprintln!(
        "mfa: moved the keys of profile `{profile}` into the {} store and out of {}",
        store.name(),
        changed.join(" and ")
    );
    Ok(())
}

/// Waits until a new key works: IAM takes a few seconds to spread one.
fn until_it_works(sts: &SdkSts, keys: &Credentials) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match sts.get_caller_identity(keys) {
            Ok(_) => return Ok(()),
            Err(e) if Instant::now() >= deadline => return Err(anyhow!(e)),
            Err(_) => std::thread::sleep(Duration::from_secs(2)),
        }
    }
}

pub fn rotate(args: KeyProfileArgs, env: &Env) -> Result<()> {
    let profile = args.profile;
    let files = crate::config::load(env)?;
    let profiles = files.profiles;
    let chain = crate::resolve::resolve(&profiles, &profile, &Overrides::default())?;
    if chain.root.profile() != profile {
        bail!(UsageError::new(format!(
            "profile `{profile}` uses the keys of profile `{}`: rotate that one",
            chain.root.profile()
        )));
    }
    let seen_in_file = keys_in_file(&profiles, &profile, FileKind::Credentials);
    let old = super::fetch_root(env, &chain.root)?;
    if !old.is_long_term() || matches!(chain.root, Root::Process { .. }) {
        bail!(UsageError::new(format!(
            "profile `{profile}` has no long-term keys of its own to rotate"
        )));
    }
    let iam = SdkIam::new(&profile);
    let sts = SdkSts::new(&profile, &sts_region(env, chain.region.as_deref())?);
    let new_key = iam
        .create_access_key(&old)
        .context("CreateAccessKey failed; nothing changed")?;
    let new = long_term(&new_key.access_key_id, &new_key.secret_access_key)?;
    // From here on a working key must stay stored whatever fails.
    let undo = |why: anyhow::Error| -> anyhow::Error {
        match iam.delete_access_key(&old, &new.access_key_id) {
            Ok(()) => why.context(format!("the old key {} is kept; the new one was deleted again", old.access_key_id)),
            Err(e) => why.context(format!(
                "the old key {} is kept; the new key {} could not be deleted again ({e}): delete it in the console",
                old.access_key_id, new.access_key_id
            )),
        }
    };
    if let Err(e) = until_it_works(&sts, &new) {
        return Err(undo(e.context("the new key does not work")));
    }
    let changed_meanwhile = || {
        anyhow!(
            "the keys of profile `{profile}` changed while it was being rotated; they are left as they are"
        )
    };
    let stored = match &chain.root {
        Root::Stored { .. } => match keystore::open_for(env, &profile)? {
            // Replace only the key that was rotated.
            Some(store) => match store.get(&profile) {
                Ok(Some(current)) if current == old => {
                    store_verified(store.as_ref(), env, &profile, &new)
                }
                Ok(_) => Err(changed_meanwhile()),
                Err(e) => Err(e),
            },
            None => Err(anyhow!("the key store holding the keys is gone")),
        },
        _ => crate::config::set_in_file(
            &files.credentials_path,
            FileKind::Credentials,
            &profile,
            &[
                ("aws_access_key_id", new.access_key_id.as_str()),
                ("aws_secret_access_key", new.secret_access_key.as_str()),
            ],
            // Under the lock: the file holds what it held when the old key
            // was read, else someone else's keys would be overwritten.
            |current| {
                if keys_in_file(current, &profile, FileKind::Credentials) == seen_in_file {
                    Ok(())
                } else {
                    Err(changed_meanwhile())
                }
            },
        ),
    };
    if let Err(e) = stored {
        return Err(undo(e.context("cannot store the new key")));
    }
    if let Err(e) = iam.delete_access_key(&new, &old.access_key_id) {
        bail!(
            "the new key {} is stored and works, but the old key {} is still active: DeleteAccessKey failed ({e}); delete it in the console or with `aws iam delete-access-key --access-key-id {}`",
            new.access_key_id,
            old.access_key_id,
            old.access_key_id
        );
    }
    eprintln!(
        "mfa: profile `{profile}` now uses access key {}; the old key {} is deleted",
        new.access_key_id, old.access_key_id
    );
    Ok(())
}
