//! The `file` key store (SPEC §7), for machines without an OS key store:
//! one file per profile in `keys/` of mfa's data directory, mode 0600 in a
//! 0700 directory, written atomically.
//!
//! Each file is a line of JSON:
//!
//! ```text
//! {"version":1,"kdf":"argon2id","m_kib":65536,"t":2,"p":1,"salt":"…",
//!  "aead":"xchacha20poly1305","nonce":"…","ciphertext":"…"}
//! ```
//!
//! The key is derived from the passphrase by argon2id with a random 16-byte
//! salt and the parameters written in the file; the keys (`{"AccessKeyId",
//! "SecretAccessKey"}` as JSON) are sealed with XChaCha20-Poly1305 under a
//! random 24-byte nonce, with the profile name as associated data, so a
//! file copied to another profile's name is refused. The file must be
//! exactly as written (canonical JSON): any byte changed is refused, by the
//! parser, the canonical check, or the AEAD tag. All files share one
//! passphrase: `MFA_FILE_PASSPHRASE`, else asked on the terminal.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{Context, Result, anyhow, bail};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use chacha20poly1305::aead::{Aead, Generate, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::KeyStore;
use crate::context::Env;
use crate::creds::Credentials;
use crate::error::UsageError;
use crate::paths::display;

const FORMAT_VERSION: u32 = 1;
const KDF: &str = "argon2id";
const AEAD: &str = "xchacha20poly1305";

/// argon2id cost for new files: 64 MiB, 2 passes, 1 lane (above OWASP's
/// 46 MiB × 1 and 19 MiB × 2): about 0.2 s for a release build on a
/// 2-core machine, 0.5 s when it is busy.
pub const M_KIB: u32 = 64 * 1024;
pub const T_COST: u32 = 2;
pub const P_COST: u32 = 1;

/// Bounds on the cost read from a file, so a changed file cannot make mfa
/// allocate gigabytes or spin for minutes (below OWASP's minimum is
/// refused as well: such a file was not written by mfa).
const MIN_M_KIB: u32 = 19 * 1024;
const MAX_M_KIB: u32 = 1024 * 1024;
const MAX_T_COST: u32 = 16;
const MAX_P_COST: u32 = 8;

const SALT_LEN: usize = 16;
const NONCE_LEN: usize = 24;
const KEY_LEN: usize = 32;
/// A key file is a few hundred bytes; anything much larger is not one.
const MAX_FILE_LEN: u64 = 64 * 1024;

const PROMPT: &str = "Passphrase for mfa's key file: ";
const PROMPT_AGAIN: &str = "The same passphrase again: ";

/// One key file, field by field, in the order written.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyFile {
    version: u32,
    kdf: String,
    m_kib: u32,
    t: u32,
    p: u32,
    salt: String,
    aead: String,
    nonce: String,
    ciphertext: String,
}

/// What the key derivation depends on: a derived key is reused only for
/// the same salt and cost.
#[derive(Clone, PartialEq, Eq)]
struct KdfInput {
    salt: [u8; SALT_LEN],
    m_kib: u32,
    t: u32,
    p: u32,
}

type Key = Zeroizing<[u8; KEY_LEN]>;

pub struct FileStore {
    dir: PathBuf,
    env_passphrase: Option<Zeroizing<String>>,
    /// The passphrase once asked, so one command asks once.
    asked: Mutex<Option<Zeroizing<String>>>,
    /// The last key derived, so reading back a file just written (as `mfa
    /// add` and `mfa migrate` do) costs no second derivation.
    last_key: Mutex<Option<(KdfInput, Key)>>,
}

impl FileStore {
    pub fn new(env: &Env) -> FileStore {
        FileStore {
            dir: super::keys_dir(env),
            env_passphrase: env
                .get("MFA_FILE_PASSPHRASE")
                .map(|p| Zeroizing::new(p.to_string())),
            asked: Mutex::new(None),
            last_key: Mutex::new(None),
        }
    }

    /// The file that holds a profile's keys.
    pub fn path(&self, profile: &str) -> PathBuf {
        self.dir.join(format!("{}.file", super::file_stem(profile)))
    }

    /// The passphrase: `MFA_FILE_PASSPHRASE`, else asked on the terminal
    /// (twice when `new` is set: it is about to lock the first file).
    fn passphrase(&self, new: bool) -> Result<Zeroizing<String>> {
        if let Some(p) = &self.env_passphrase {
            return Ok(p.clone());
        }
        let mut asked = self.asked.lock().map_err(|_| anyhow!("lock poisoned"))?;
        if let Some(p) = asked.as_ref() {
            return Ok(p.clone());
        }
        let tty = crate::terminal::open().map_err(|_| {
            UsageError::new(
                "the file key store needs a passphrase: there is no terminal to ask on, so set MFA_FILE_PASSPHRASE",
            )
        })?;
        let first = Zeroizing::new(crate::terminal::read_secret(&tty, PROMPT)?);
        if first.is_empty() {
            bail!(UsageError::new("the passphrase cannot be empty"));
        }
        if new {
            let again = Zeroizing::new(crate::terminal::read_secret(&tty, PROMPT_AGAIN)?);
            if *again != *first {
                bail!(UsageError::new(
                    "the two passphrases differ: nothing was stored"
                ));
            }
        }
        *asked = Some(first.clone());
        Ok(first)
    }

    /// The key for these KDF inputs: derived, or the last one if the same.
    fn key(&self, passphrase: &str, input: &KdfInput) -> Result<Key> {
        let mut last = self.last_key.lock().map_err(|_| anyhow!("lock poisoned"))?;
        if let Some((cached, key)) = last.as_ref()
            && cached == input
        {
            return Ok(key.clone());
        }
        let key = derive(passphrase, input)?;
        *last = Some((input.clone(), key.clone()));
        Ok(key)
    }

    /// Other key files (any profile's) that the passphrase must open, so all
    /// files share one passphrase.
    fn existing_files(&self, profile: &str) -> Vec<PathBuf> {
        let own = self.path(profile);
        let mut files: Vec<PathBuf> = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "file") && p.is_file())
                .collect(),
            Err(_) => Vec::new(),
        };
        files.sort();
        // The profile's own file first: that is the one being replaced.
        if let Some(i) = files.iter().position(|p| *p == own) {
            let own = files.remove(i);
            files.insert(0, own);
        }
        files
    }

    fn open(&self, path: &Path, profile: &str, passphrase: &str) -> Result<Credentials> {
        let text = read_private(path)?;
        let (file, input, nonce, ciphertext) = parse(&text, path)?;
        let key = self.key(passphrase, &input)?;
        let cipher = cipher(&key)?;
        let plaintext = Zeroizing::new(
            cipher
                .decrypt(
                    &nonce,
                    Payload {
                        msg: &ciphertext,
                        aad: &associated_data(file.version, profile),
                    },
                )
                .map_err(|_| refused(path))?,
        );
        serde_json::from_slice(&plaintext).map_err(|_| refused(path))
    }
}

impl KeyStore for FileStore {
    fn name(&self) -> &'static str {
        "file"
    }

    fn get(&self, profile: &str) -> Result<Option<Credentials>> {
        let path = self.path(profile);
        match std::fs::symlink_metadata(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(e).with_context(|| format!("cannot read {}", display(&path)));
            }
            Ok(_) => {}
        }
        let passphrase = self.passphrase(false)?;
        self.open(&path, profile, &passphrase).map(Some)
    }

    fn set(&self, profile: &str, keys: &Credentials) -> Result<()> {
        let path = self.path(profile);
        let existing = self.existing_files(profile);
        let passphrase = self.passphrase(existing.is_empty())?;
        // One passphrase for all files: check it opens one already there.
        if let Some(other) = existing.first() {
            let other_profile = profile_of(other);
            self.open(other, &other_profile, &passphrase)
                .with_context(|| {
                    format!(
                        "nothing was stored: the passphrase must open the key files already in {}",
                        display(&self.dir)
                    )
                })?;
        }
        let input = KdfInput {
            salt: random()?,
            m_kib: M_KIB,
            t: T_COST,
            p: P_COST,
        };
        let nonce: [u8; NONCE_LEN] = random()?;
        let key = self.key(&passphrase, &input)?;
        // Sized up front: no reallocation leaves a copy of the keys behind.
        let mut plaintext = Zeroizing::new(Vec::with_capacity(1024));
        serde_json::to_writer(&mut *plaintext, &LongTerm::from(keys))?;
        let cipher = cipher(&key)?;
        let ciphertext = cipher
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: &plaintext,
                    aad: &associated_data(FORMAT_VERSION, profile),
                },
            )
            .map_err(|_| anyhow!("cannot encrypt the keys"))?;
        let file = KeyFile {
            version: FORMAT_VERSION,
            kdf: KDF.to_string(),
            m_kib: input.m_kib,
            t: input.t,
            p: input.p,
            salt: BASE64.encode(input.salt),
            aead: AEAD.to_string(),
            nonce: BASE64.encode(nonce),
            ciphertext: BASE64.encode(&ciphertext),
        };
        let mut text = serde_json::to_string(&file)?;
        text.push('\n');
        // Not into a link or another user's directory planted here.
        crate::files::private_dir(&self.dir)
            .with_context(|| format!("cannot create {}", display(&self.dir)))?;
        crate::files::write_private(&path, text.as_bytes())
            .with_context(|| format!("cannot write {}", display(&path)))
    }

    fn delete(&self, profile: &str) -> Result<bool> {
        let path = self.path(profile);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e).with_context(|| format!("cannot delete {}", display(&path))),
        }
    }
}

/// What is sealed: the long-term keys only.
#[derive(Serialize)]
struct LongTerm<'a> {
    #[serde(rename = "AccessKeyId")]
    access_key_id: &'a str,
    #[serde(rename = "SecretAccessKey")]
    secret_access_key: &'a str,
}

impl<'a> From<&'a Credentials> for LongTerm<'a> {
    fn from(keys: &'a Credentials) -> LongTerm<'a> {
        LongTerm {
            access_key_id: &keys.access_key_id,
            secret_access_key: &keys.secret_access_key,
        }
    }
}

/// Binds the ciphertext to the format and the profile it was written for.
fn associated_data(version: u32, profile: &str) -> Vec<u8> {
    format!("mfa key file v{version}\0{profile}").into_bytes()
}

fn refused(path: &Path) -> anyhow::Error {
    anyhow!(
        "wrong passphrase for {}, or the file was changed",
        display(path)
    )
}

/// The profile a key file is for, from its name.
fn profile_of(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
        .replace("%2F", "/")
        .replace("%25", "%")
}

fn random<const N: usize>() -> Result<[u8; N]> {
    <[u8; N]>::try_generate().map_err(|e| anyhow!("no randomness from the system: {e}"))
}

/// The AEAD keyed with the derived key (borrowed, not copied: the cipher
/// zeroes its own copy when dropped).
fn cipher(key: &Key) -> Result<XChaCha20Poly1305> {
    let key: &chacha20poly1305::Key = key
        .as_slice()
        .try_into()
        .map_err(|_| anyhow!("bad key length"))?;
    Ok(XChaCha20Poly1305::new(key))
}

fn derive(passphrase: &str, input: &KdfInput) -> Result<Key> {
    let params = Params::new(input.m_kib, input.t, input.p, Some(KEY_LEN))
        .map_err(|e| anyhow!("bad key derivation parameters: {e}"))?;
    let mut key = Zeroizing::new([0u8; KEY_LEN]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(passphrase.as_bytes(), &input.salt, key.as_mut())
        .map_err(|e| anyhow!("cannot derive the key: {e}"))?;
    Ok(key)
}

/// Reads a key file that only its owner can read or write, as ssh insists
/// for private keys.
fn read_private(path: &Path) -> Result<String> {
    use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
    // A key file is never a link: one planted there is not followed.
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
        .with_context(|| format!("cannot read {}", display(path)))?;
    let meta = file
        .metadata()
        .with_context(|| format!("cannot read {}", display(path)))?;
    if !meta.is_file() {
        bail!("{} is not a file", display(path));
    }
    let mode = meta.mode() & 0o7777;
    if mode & 0o077 != 0 {
        bail!(
            "{} is open to others (mode {mode:04o}): key files must be private, refusing to use it; `chmod 600` it if no one else could have read it, else rotate the keys (`mfa rotate`)",
            display(path)
        );
    }
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    if meta.uid() != me {
        bail!(
            "{} belongs to another user (uid {}): refusing to use it",
            display(path),
            meta.uid()
        );
    }
    if meta.len() > MAX_FILE_LEN {
        return Err(refused(path));
    }
    let mut text = String::new();
    file.take(MAX_FILE_LEN + 1)
        .read_to_string(&mut text)
        .map_err(|_| refused(path))?;
    Ok(text)
}

/// Parses a key file, refusing anything but what mfa writes, byte for byte.
fn parse(text: &str, path: &Path) -> Result<(KeyFile, KdfInput, XNonce, Vec<u8>)> {
    let file: KeyFile = serde_json::from_str(text).map_err(|_| refused(path))?;
    if file.version != FORMAT_VERSION {
        bail!(
            "{} is a key file of format {}, which this mfa does not know: a newer mfa wrote it, or the file was changed",
            display(path),
            file.version
        );
    }
    let canonical = serde_json::to_string(&file).map_err(|_| refused(path))? + "\n";
    if canonical != text
        || file.kdf != KDF
        || file.aead != AEAD
        || !(MIN_M_KIB..=MAX_M_KIB).contains(&file.m_kib)
        || !(1..=MAX_T_COST).contains(&file.t)
        || !(1..=MAX_P_COST).contains(&file.p)
    {
        return Err(refused(path));
    }
    let salt: [u8; SALT_LEN] = decode(&file.salt, path)?
        .try_into()
        .map_err(|_| refused(path))?;
    let nonce: [u8; NONCE_LEN] = decode(&file.nonce, path)?
        .try_into()
        .map_err(|_| refused(path))?;
    let ciphertext = decode(&file.ciphertext, path)?;
    let input = KdfInput {
        salt,
        m_kib: file.m_kib,
        t: file.t,
        p: file.p,
    };
    Ok((file, input, XNonce::from(nonce), ciphertext))
}

fn decode(text: &str, path: &Path) -> Result<Vec<u8>> {
    BASE64.decode(text).map_err(|_| refused(path))
}
