//! Long-term keys out of plaintext (SPEC §7): one small trait, stores
//! behind it — the platform's key store (Secret Service on Linux, Keychain
//! on macOS, Credential Manager on Windows) and an encrypted file store for
//! machines without one. `MFA_BACKEND` picks; by default the platform's,
//! falling back to `file` with a clear message when none answers.

pub mod file;
pub mod keychain;
pub mod secret_service;

use std::path::PathBuf;

use anyhow::Result;

use crate::context::Env;
use crate::creds::Credentials;
use crate::error::UsageError;

/// Long-term keys of one profile, stored and fetched by profile name.
pub trait KeyStore {
    /// `secret-service`, `keychain`, `wincred` or `file`.
    fn name(&self) -> &'static str;
    fn get(&self, profile: &str) -> Result<Option<Credentials>>;
    fn set(&self, profile: &str, keys: &Credentials) -> Result<()>;
    /// Whether there was an entry to delete.
    fn delete(&self, profile: &str) -> Result<bool>;
}

/// What the platform stores hold for a profile: the long-term keys only,
/// as JSON (`{"AccessKeyId": …, "SecretAccessKey": …}`).
#[derive(serde::Serialize, serde::Deserialize)]
struct LongTerm {
    #[serde(rename = "AccessKeyId")]
    access_key_id: String,
    #[serde(rename = "SecretAccessKey")]
    secret_access_key: String,
}

fn encode_keys(keys: &Credentials) -> Result<zeroize::Zeroizing<Vec<u8>>> {
    Ok(zeroize::Zeroizing::new(serde_json::to_vec(&LongTerm {
        access_key_id: keys.access_key_id.clone(),
        secret_access_key: keys.secret_access_key.clone(),
    })?))
}

/// `None` when the secret is not mfa's JSON keys.
fn decode_keys(secret: &[u8]) -> Option<Credentials> {
    let keys: LongTerm = serde_json::from_slice(secret).ok()?;
    Some(Credentials {
        access_key_id: keys.access_key_id,
        secret_access_key: keys.secret_access_key,
        session_token: None,
        expiration: None,
    })
}

/// Where mfa keeps what it stores: `MFA_DATA_DIR`, else
/// `$XDG_DATA_HOME/mfa`, else `~/.local/share/mfa`. The file store's files
/// live in `keys/` there; for other stores, an empty marker file per
/// profile says where its keys are without opening the store (so `mfa list`
/// stays fast and a cache hit never touches the store).
pub fn data_dir(env: &Env) -> PathBuf {
    env.path_var("MFA_DATA_DIR")
        .or_else(|| env.path_var("XDG_DATA_HOME").map(|p| p.join("mfa")))
        .unwrap_or_else(|| env.home().join(".local").join("share").join("mfa"))
}

pub fn keys_dir(env: &Env) -> PathBuf {
    data_dir(env).join("keys")
}

/// A profile name as a file name: `/` and `%` escaped.
pub fn file_stem(profile: &str) -> String {
    profile.replace('%', "%25").replace('/', "%2F")
}

/// Which store holds a profile's keys, from the markers alone: `None` when
/// no store has them.
pub fn stored_in(env: &Env, profile: &str) -> Option<&'static str> {
    let dir = keys_dir(env);
    let stem = file_stem(profile);
    ["file", "secret-service", "keychain", "wincred"]
        .into_iter()
        .find(|backend| dir.join(format!("{stem}.{backend}")).exists())
}

/// Records (or forgets) which store holds a profile's keys.
pub fn mark(env: &Env, profile: &str, backend: &str, present: bool) -> Result<()> {
    let dir = keys_dir(env);
    let path = dir.join(format!("{}.{backend}", file_stem(profile)));
    if present {
        create_private_dir(&dir)?;
        if backend != "file" {
            crate::files::write_private(&path, b"")?;
        }
    } else if backend != "file" {
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
            _ => {}
        }
    }
    Ok(())
}

pub fn create_private_dir(dir: &std::path::Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

/// The store `MFA_BACKEND` names, else the platform's, else `file`.
pub fn open(env: &Env) -> Result<Box<dyn KeyStore>> {
    match env.get("MFA_BACKEND") {
        Some("file") => Ok(Box::new(file::FileStore::new(env))),
        Some("secret-service") => Ok(Box::new(secret_service::SecretService::connect()?)),
        Some("keychain") if keychain::AVAILABLE => Ok(Box::new(keychain::Keychain)),
        Some(other @ ("keychain" | "wincred")) => Err(UsageError::new(format!(
            "MFA_BACKEND={other} is not available on this platform"
        ))
        .into()),
        Some(other) => Err(UsageError::new(format!(
            "MFA_BACKEND is `{other}`; it must be secret-service, keychain, wincred or file"
        ))
        .into()),
        None if keychain::AVAILABLE => Ok(Box::new(keychain::Keychain)),
        None => match secret_service::SecretService::connect() {
            Ok(store) => Ok(Box::new(store)),
            Err(e) => {
                eprintln!(
                    "mfa: no Secret Service answers ({e:#}); using the encrypted file store in {} (MFA_BACKEND=file)",
                    crate::paths::display(&keys_dir(env))
                );
                Ok(Box::new(file::FileStore::new(env)))
            }
        },
    }
}

/// The store that holds a profile's keys, by its marker.
pub fn open_for(env: &Env, profile: &str) -> Result<Option<Box<dyn KeyStore>>> {
    Ok(match stored_in(env, profile) {
        None => None,
        Some("file") => Some(Box::new(file::FileStore::new(env))),
        Some("secret-service") => Some(Box::new(secret_service::SecretService::connect()?)),
        Some("keychain") if keychain::AVAILABLE => Some(Box::new(keychain::Keychain)),
        Some(other) => {
            return Err(anyhow::anyhow!(
                "profile `{profile}`'s keys are in the {other} store, which this platform does not have"
            ));
        }
    })
}
