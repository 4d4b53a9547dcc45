//! `mfa add / remove / migrate / rotate`: long-term keys out of plaintext
//! (SPEC §7). The key store is picked by `MFA_BACKEND` (see
//! `crate::keystore`); the credentials file is edited losslessly.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};

use crate::cli::{AddArgs, KeyProfileArgs};
use crate::config::{FileKind, Profiles, document, edit};
use crate::context::Env;
use crate::creds::Credentials;
use crate::error::UsageError;
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

/// Removes the profile's keys from one file, losslessly, under its lock.
fn remove_from_file(path: &std::path::Path, kind: FileKind, profile: &str) -> Result<bool> {
    crate::files::update(path, |old| {
        let Some(old) = old else { return Ok(None) };
        let doc = document::parse(old, path, kind).map_err(|e| UsageError::new(e.to_string()))?;
        Ok(Some(
            edit::remove_properties(&doc, profile, &KEY_PROPERTIES).render(),
        ))
    })
}

pub fn migrate(args: KeyProfileArgs, env: &Env) -> Result<()> {
    let profile = args.profile;
    let files = crate::config::load(env)?;
    let profiles = files.profiles;
    let Some(found) = profiles.get(&profile) else {
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
    let keys = long_term(id, secret)?;
    let store = keystore::open(env)?;
    // Out of the file only once the store has given them back.
    store_verified(store.as_ref(), env, &profile, &keys)?;
    let mut changed = Vec::new();
    if remove_from_file(&files.credentials_path, FileKind::Credentials, &profile)? {
        changed.push(crate::paths::display(&files.credentials_path));
    }
    if remove_from_file(&files.config_path, FileKind::Config, &profile)? {
        changed.push(crate::paths::display(&files.config_path));
    }
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
    let stored = match &chain.root {
        Root::Stored { .. } => match keystore::open_for(env, &profile)? {
            Some(store) => store_verified(store.as_ref(), env, &profile, &new),
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
            |_| Ok(()),
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
