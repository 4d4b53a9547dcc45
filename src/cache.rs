//! The session cache (SPEC §2): one JSON file per credential in a 0700
//! directory, 0600 files written atomically, and a lock per entry so that
//! concurrent runs that need the same expired session make one STS call.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::context::Env;
use crate::creds::Credentials;
use crate::error::UsageError;
use crate::files;

pub const ENTRY_VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EntryKind {
    /// GetSessionToken with an MFA code.
    MfaSession,
    /// GetSessionToken without MFA (a profile without `mfa_serial`).
    Session,
    /// AssumeRole.
    Role,
    /// GetRoleCredentials of an SSO profile (and the lock on its token).
    Sso,
}

impl EntryKind {
    fn prefix(self) -> &'static str {
        match self {
            EntryKind::MfaSession => "mfa-session",
            EntryKind::Session => "session",
            EntryKind::Role => "role",
            EntryKind::Sso => "sso",
        }
    }
}

/// One cached credential, with what it is for, so that `mfa status` can
/// describe it without the config.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub version: u32,
    pub kind: EntryKind,
    /// The profile whose run created the entry.
    pub profile: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mfa_serial: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    pub credentials: Credentials,
}

/// Names an entry. Built from what identifies the credential (the root
/// access key id and the serial, or the parent entry and the role); the
/// file name is a hash of that, so no identifier shows in a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    pub kind: EntryKind,
    pub id: String,
}

impl Key {
    pub fn new(kind: EntryKind, parts: &[&str]) -> Key {
        let mut hasher = Sha256::new();
        for part in parts {
            // Length-prefixed, so that ("ab","c") and ("a","bc") differ.
            hasher.update((part.len() as u64).to_le_bytes());
            hasher.update(part.as_bytes());
        }
        let digest = hasher.finalize();
        // `mfa list` makes thousands of keys: hex digits by hand, one allocation.
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut id = String::with_capacity(kind.prefix().len() + 25);
        id.push_str(kind.prefix());
        id.push('-');
        for byte in &digest[..12] {
            id.push(char::from(HEX[usize::from(byte >> 4)]));
            id.push(char::from(HEX[usize::from(byte & 0xf)]));
        }
        Key { kind, id }
    }
}

pub struct Cache {
    pub dir: PathBuf,
    /// How long to wait for another run's lock before going on without it
    /// (`MFA_LOCK_WAIT`): a run left at a code question must not hang
    /// every other shell and SDK call for good.
    pub lock_wait: std::time::Duration,
}

/// Default for `MFA_LOCK_WAIT`, in seconds.
pub const DEFAULT_LOCK_WAIT: u64 = 60;

/// Holds an entry's lock until dropped.
pub struct Lock {
    _file: Option<File>,
}

impl Cache {
    /// `MFA_CACHE_DIR`, else `$XDG_CACHE_HOME/mfa`, else `~/.cache/mfa`.
    pub fn from_env(env: &Env) -> Cache {
        let dir = env
            .path_var("MFA_CACHE_DIR")
            .or_else(|| env.path_var("XDG_CACHE_HOME").map(|p| p.join("mfa")))
            .unwrap_or_else(|| env.home().join(".cache").join("mfa"));
        let lock_wait = env
            .get("MFA_LOCK_WAIT")
            .and_then(|w| w.trim().parse::<u64>().ok())
            .unwrap_or(DEFAULT_LOCK_WAIT)
            // A day at most: beyond, the clock's arithmetic would overflow.
            .min(86_400);
        Cache {
            dir,
            lock_wait: std::time::Duration::from_secs(lock_wait),
        }
    }

    pub fn new(dir: PathBuf) -> Cache {
        Cache {
            dir,
            lock_wait: std::time::Duration::from_secs(DEFAULT_LOCK_WAIT),
        }
    }

    fn path(&self, key: &Key) -> PathBuf {
        self.dir.join(format!("{}.json", key.id))
    }

    /// The ids of the entries in the directory, read once: listing
    /// thousands of profiles then opens only the entries that exist.
    /// `None` when the directory cannot be read (then each is tried).
    pub fn entry_ids(&self) -> Option<std::collections::HashSet<String>> {
        match self.check_existing_dir() {
            Ok(true) => {}
            Ok(false) | Err(_) => return Some(Default::default()),
        }
        let entries = match fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Some(Default::default()),
            Err(_) => return None,
        };
        Some(
            entries
                .flatten()
                .filter_map(|e| {
                    let name = e.file_name().into_string().ok()?;
                    name.strip_suffix(".json").map(str::to_string)
                })
                .collect(),
        )
    }

    /// The entry, if there is a usable one. A damaged entry, or one that
    /// others could read, is passed over with a warning and later replaced;
    /// a directory mfa refuses holds none.
    pub fn read(&self, key: &Key) -> Option<Entry> {
        match self.check_existing_dir() {
            Ok(true) => read_entry(&self.path(key)),
            Ok(false) | Err(_) => None,
        }
    }

    /// Whether the directory exists (`Ok(false)`: not yet), refusing one
    /// that is a symbolic link or another user's (see [`files::private_dir`]).
    fn check_existing_dir(&self) -> io::Result<bool> {
        files::check_own_dir(&self.dir).map_err(with_hint)
    }

    /// Creates the directory 0700, or makes an existing one of the user's
    /// private; a symbolic link, or another user's directory, is refused and
    /// left as it is (see [`files::private_dir`]).
    pub fn ensure_dir(&self) -> io::Result<()> {
        files::private_dir(&self.dir).map_err(with_hint)
    }

    /// Waits for the entry's lock. Without a usable cache directory the run
    /// goes on unlocked, with a warning: credentials matter more than the
    /// cache. A directory refused as planted stops the run (exit 2): going
    /// on would hide that someone set it up.
    pub fn lock(&self, key: &Key) -> Result<Lock, UsageError> {
        let attempt = || -> io::Result<File> {
            self.ensure_dir()?;
            let file = OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .mode(0o600)
                .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
                .open(self.dir.join(format!("{}.lock", key.id)))?;
            let deadline = std::time::Instant::now() + self.lock_wait;
            let mut told = false;
            loop {
                match file.try_lock() {
                    Ok(()) => return Ok(file),
                    Err(fs::TryLockError::WouldBlock) => {}
                    Err(fs::TryLockError::Error(e)) => return Err(e),
                }
                if !told {
                    eprintln!("mfa: waiting for another mfa run that is getting the same session…");
                    told = true;
                }
                if std::time::Instant::now() >= deadline {
                    return Err(io::Error::other(format!(
                        "another mfa run held it for more than {} s",
                        self.lock_wait.as_secs()
                    )));
                }
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
        };
        match attempt() {
            Ok(file) => Ok(Lock { _file: Some(file) }),
            Err(e) if files::refusal(&e).is_some() => Err(UsageError::new(e.to_string())),
            Err(e) => {
                eprintln!(
                    "mfa: warning: cannot lock the session cache in {}: {e}",
                    crate::paths::display(&self.dir)
                );
                Ok(Lock { _file: None })
            }
        }
    }

    /// Stores an entry atomically (temporary file, fsync, rename). A cache
    /// that cannot be written is a warning, not a failure.
    pub fn write(&self, key: &Key, entry: &Entry) {
        if let Err(e) = self.try_write(key, entry) {
            eprintln!(
                "mfa: warning: cannot save the session in {}: {e}; the next run will need a new one",
                crate::paths::display(&self.dir)
            );
        }
    }

    fn try_write(&self, key: &Key, entry: &Entry) -> io::Result<()> {
        self.ensure_dir()?;
        let json = serde_json::to_vec_pretty(entry).map_err(io::Error::other)?;
        // tempfile creates the file 0600 in the same directory, so the
        // rename is atomic and the secret is never readable by others.
        let mut temp = tempfile::Builder::new()
            .prefix(".tmp-")
            .suffix(".json")
            .tempfile_in(&self.dir)?;
        temp.write_all(&json)?;
        temp.as_file().sync_all()?;
        temp.persist(self.path(key)).map_err(|e| e.error)?;
        Ok(())
    }

    pub fn remove(&self, key: &Key) -> io::Result<bool> {
        if !self.check_existing_dir()? {
            return Ok(false);
        }
        match fs::remove_file(self.path(key)) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Deletes every entry, and temporary files a killed run may have left.
    pub fn clear(&self) -> io::Result<usize> {
        if !self.check_existing_dir()? {
            return Ok(0);
        }
        let Ok(dir) = fs::read_dir(&self.dir) else {
            return Ok(0);
        };
        let mut removed = 0;
        for entry in dir.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.ends_with(".json") {
                fs::remove_file(entry.path())?;
                if !name.starts_with(".tmp-") {
                    removed += 1;
                }
            }
        }
        Ok(removed)
    }

    /// Every entry file, with what could be read of it.
    pub fn entries(&self) -> Vec<(PathBuf, Option<Entry>)> {
        match self.check_existing_dir() {
            Ok(true) => {}
            Ok(false) => return Vec::new(),
            Err(e) => {
                eprintln!("mfa: warning: {e}");
                return Vec::new();
            }
        }
        let Ok(dir) = fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut paths: Vec<PathBuf> = dir
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.extension().is_some_and(|x| x == "json")
                    && p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| !n.starts_with('.'))
            })
            .collect();
        paths.sort();
        paths
            .into_iter()
            .map(|p| {
                let entry = read_entry(&p);
                (p, entry)
            })
            .collect()
    }
}

/// A refused directory's error, with what to do about it.
fn with_hint(error: io::Error) -> io::Error {
    match files::refusal(&error) {
        Some(refused) => io::Error::new(
            error.kind(),
            files::RefusedDir(format!(
                "{refused}; remove it, or set MFA_CACHE_DIR to a directory of your own"
            )),
        ),
        None => error,
    }
}

/// Whether a cache directory or entry with this mode lets group or others
/// in: the one rule the cache keeps (and `mfa doctor` checks).
pub fn open_to_others(mode: u32) -> bool {
    mode & 0o077 != 0
}

fn read_entry(path: &Path) -> Option<Entry> {
    let opened = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path);
    let mut file = match opened {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return None,
        Err(e) => {
            eprintln!(
                "mfa: warning: cannot read {}: {e}",
                crate::paths::display(path)
            );
            return None;
        }
    };
    let Ok(meta) = file.metadata() else {
        return None;
    };
    if let Err(why) = files::check_owner(&meta) {
        eprintln!(
            "mfa: warning: ignoring {}: {why}; a new session replaces it",
            crate::paths::display(path)
        );
        return None;
    }
    let mode = meta.mode();
    if open_to_others(mode) {
        eprintln!(
            "mfa: warning: ignoring {}: it is readable by others (mode {:o}); a new session replaces it",
            crate::paths::display(path),
            mode & 0o777
        );
        return None;
    }
    let mut text = String::new();
    let parsed = file
        .read_to_string(&mut text)
        .ok()
        .and_then(|_| serde_json::from_str::<Entry>(&text).ok())
        .filter(|e| e.version == ENTRY_VERSION);
    if parsed.is_none() {
        eprintln!(
            "mfa: warning: ignoring the damaged cache entry {}; a new session replaces it",
            crate::paths::display(path)
        );
    }
    parsed
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn entry(expiration: i64) -> Entry {
        Entry {
            version: ENTRY_VERSION,
            kind: EntryKind::MfaSession,
            profile: "p".into(),
            mfa_serial: Some("arn:aws:iam::1:mfa/u".into()),
            role_arn: None,
            credentials: Credentials {
                access_key_id: "ASIA1".into(),
                secret_access_key: "s".into(),
                session_token: Some("t".into()),
                expiration: Some(expiration),
            },
        }
    }

    #[test]
    fn entries_round_trip_with_private_modes() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path().join("mfa"));
        let key = Key::new(EntryKind::MfaSession, &["AKIA", "serial"]);
        assert_eq!(cache.read(&key), None);
        cache.write(&key, &entry(2_000_000_000));
        assert_eq!(cache.read(&key), Some(entry(2_000_000_000)));
        let dir_mode = fs::metadata(&cache.dir).unwrap().mode() & 0o777;
        let file_mode = fs::metadata(cache.path(&key)).unwrap().mode() & 0o777;
        assert_eq!((dir_mode, file_mode), (0o700, 0o600));
        assert_eq!(cache.entries().len(), 1);
    }

    #[test]
    fn damaged_or_exposed_entries_are_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path().to_path_buf());
        let key = Key::new(EntryKind::Role, &["x"]);
        cache.write(&key, &entry(1));
        fs::write(cache.path(&key), "{not json").unwrap();
        assert_eq!(cache.read(&key), None);
        cache.write(&key, &entry(1));
        fs::set_permissions(
            cache.path(&key),
            std::os::unix::fs::PermissionsExt::from_mode(0o644),
        )
        .unwrap();
        assert_eq!(cache.read(&key), None);
    }

    #[test]
    fn an_existing_directory_open_to_others_is_made_private() {
        let dir = tempfile::tempdir().unwrap();
        let open = dir.path().join("open");
        fs::create_dir(&open).unwrap();
        fs::set_permissions(&open, fs::Permissions::from_mode(0o755)).unwrap();
        let cache = Cache::new(open.clone());
        cache.write(&Key::new(EntryKind::Role, &["x"]), &entry(1));
        assert_eq!(fs::metadata(&open).unwrap().mode() & 0o777, 0o700);
    }

    #[test]
    fn a_directory_that_is_a_link_is_refused_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target");
        fs::create_dir(&target).unwrap();
        fs::set_permissions(&target, fs::Permissions::from_mode(0o755)).unwrap();
        let link = dir.path().join("mfa");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let cache = Cache::new(link);
        let key = Key::new(EntryKind::Role, &["x"]);
        let refused = cache.lock(&key).err().expect("refused");
        assert!(refused.0.contains("symbolic link"), "{refused}");
        cache.write(&key, &entry(1));
        assert!(cache.clear().is_err());
        assert_eq!(cache.read(&key), None);
        assert_eq!(fs::metadata(&target).unwrap().mode() & 0o777, 0o755);
        assert_eq!(fs::read_dir(&target).unwrap().count(), 0);
    }

    #[test]
    fn a_held_lock_is_waited_for_only_so_long() {
        let dir = tempfile::tempdir().unwrap();
        let mut cache = Cache::new(dir.path().to_path_buf());
        cache.lock_wait = std::time::Duration::from_millis(300);
        let key = Key::new(EntryKind::Role, &["held"]);
        let held = cache.lock(&key).unwrap();
        assert!(held._file.is_some());
        let started = std::time::Instant::now();
        let second = cache.lock(&key).unwrap();
        assert!(second._file.is_none(), "goes on without the lock");
        assert!(started.elapsed() < std::time::Duration::from_secs(3));
        drop(held);
        assert!(cache.lock(&key).unwrap()._file.is_some());
    }

    #[test]
    fn clear_removes_entries_and_leftover_temporary_files() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path().to_path_buf());
        cache.write(&Key::new(EntryKind::Role, &["a"]), &entry(1));
        fs::write(dir.path().join(".tmp-abc.json"), "{}").unwrap();
        assert_eq!(cache.clear().unwrap(), 1);
        assert_eq!(
            fs::read_dir(dir.path())
                .unwrap()
                .flatten()
                .filter(|e| e.file_name().to_string_lossy().ends_with(".json"))
                .count(),
            0
        );
    }

    #[test]
    fn keys_differ_by_every_part_and_hide_them() {
        let a = Key::new(EntryKind::Role, &["ab", "c"]);
        let b = Key::new(EntryKind::Role, &["a", "bc"]);
        assert_ne!(a, b);
        assert!(a.id.starts_with("role-") && !a.id.contains("ab"));
    }
}
