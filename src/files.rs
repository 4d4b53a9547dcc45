//! Rewriting the user's own files (SPEC §5): under a lock, so that two
//! writers never lose each other's work, and atomically (temporary file in
//! the same directory, fsync, rename), so that a kill at any point leaves
//! the old file or the new one, never a mix. A file that holds secrets is
//! kept private; any other keeps its mode.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// Mode of a credentials or config file that mfa creates.
pub const NEW_FILE_MODE: u32 = 0o600;

/// Random characters in a temporary file's name (letters and digits).
const TEMP_RANDOM_LEN: usize = 10;

/// Who may read a file once mfa has written it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// It holds secrets (the credentials file): a file that others can read
    /// is made 0600, with a message, before any secret goes into it.
    OwnerOnly,
    /// It holds settings (the config file): it keeps its mode.
    KeepMode,
    /// It holds no secrets and others' tools read it (a shell's start-up
    /// file): it keeps its mode, and a new one is 0644, like the shell's.
    Readable,
}

/// The file behind `path`: a symlinked file (dotfile managers) is edited
/// where it lives, not replaced by a plain file.
fn real_path(path: &Path) -> PathBuf {
    fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".into())
}

/// `.NAME.mfa-lock` beside the file: the file itself is replaced by each
/// write, so a lock on it would not hold across writers.
fn lock_path(path: &Path) -> PathBuf {
    path.with_file_name(format!(".{}.mfa-lock", file_name(path)))
}

/// `.NAME.mfa-` and `.tmp` around a writer's temporary file of NAME: the
/// name says whose file it is, so a writer sweeps only its own file's.
fn temp_affixes(path: &Path) -> (String, &'static str) {
    (format!(".{}.mfa-", file_name(path)), ".tmp")
}

/// Whether `name` is a temporary file of the file that `affixes` belong to
/// (and not of another file whose name merely starts the same way).
fn is_temporary_of(name: &str, (prefix, suffix): &(String, &str)) -> bool {
    name.strip_prefix(prefix.as_str())
        .and_then(|rest| rest.strip_suffix(suffix))
        .is_some_and(|random| {
            random.len() == TEMP_RANDOM_LEN && random.bytes().all(|b| b.is_ascii_alphanumeric())
        })
}

/// A file held under its lock, with its text as read under that lock: what
/// a caller decides from [`Locked::text`] stays true until it is dropped.
pub struct Locked {
    path: PathBuf,
    dir: PathBuf,
    access: Access,
    text: Option<String>,
    mode: u32,
    _lock: File,
}

impl Locked {
    /// Takes the file's lock (waiting for other writers), removes what a
    /// killed writer of this file left, and reads the file (`None` when
    /// missing).
    pub fn open(path: &Path, access: Access) -> Result<Locked> {
        let path = real_path(path);
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf();
        fs::DirBuilder::new()
            .recursive(true)
            .create(&dir)
            .with_context(|| format!("cannot create {}", crate::paths::display(&dir)))?;
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(lock_path(&path))
            .with_context(|| format!("cannot lock {}", crate::paths::display(&path)))?;
        lock.lock()
            .with_context(|| format!("cannot lock {}", crate::paths::display(&path)))?;

        sweep_temporaries(&path, &dir);
        let (text, mode) = match fs::read(&path) {
            Ok(bytes) => {
                let mode = fs::metadata(&path)
                    .with_context(|| format!("cannot read {}", crate::paths::display(&path)))?
                    .mode()
                    & 0o7777;
                let text = String::from_utf8(bytes).map_err(|_| {
                    anyhow::anyhow!("{} is not UTF-8 text", crate::paths::display(&path))
                })?;
                (Some(text), mode)
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => match access {
                Access::Readable => (None, 0o644),
                Access::OwnerOnly | Access::KeepMode => (None, NEW_FILE_MODE),
            },
            Err(e) => {
                return Err(e)
                    .with_context(|| format!("cannot read {}", crate::paths::display(&path)));
            }
        };
        Ok(Locked {
            path,
            dir,
            access,
            text,
            mode,
            _lock: lock,
        })
    }

    /// The file's text as it is now (`None`: there is no file).
    pub fn text(&self) -> Option<&str> {
        self.text.as_deref()
    }

    /// Puts `new` in the file's place, atomically. Returns whether the file
    /// changed (writing what it already holds changes nothing).
    pub fn replace(&mut self, new: &str) -> Result<bool> {
        if self.text.as_deref() == Some(new) {
            return Ok(false);
        }
        let open_to_others = self.mode & 0o077 != 0;
        let mode = match self.access {
            Access::OwnerOnly if open_to_others => NEW_FILE_MODE,
            _ => self.mode,
        };
        write_atomically(&self.path, &self.dir, new.as_bytes(), mode)
            .with_context(|| format!("cannot write {}", crate::paths::display(&self.path)))?;
        if mode != self.mode && self.text.is_some() {
            eprintln!(
                "mfa: {} was readable by others (mode {:04o}); it holds secrets, so it is now {:04o}. Keys that were in it may have been read: consider `mfa rotate`",
                crate::paths::display(&self.path),
                self.mode,
                mode
            );
        }
        self.mode = mode;
        self.text = Some(new.to_string());
        Ok(true)
    }
}

/// Reads the file (`None` when missing), lets `edit` compute the new text
/// (`None`: leave it), and writes that in its place, all under the file's
/// lock. Returns whether the file changed.
pub fn update(
    path: &Path,
    access: Access,
    edit: impl FnOnce(Option<&str>) -> Result<Option<String>>,
) -> Result<bool> {
    let mut file = Locked::open(path, access)?;
    match edit(file.text())? {
        Some(new) => file.replace(&new),
        None => Ok(false),
    }
}

/// Removes what a writer of this file killed between writing and renaming
/// left. Under the file's lock every temporary of this file is such a
/// leftover: each writer makes its own while holding the lock, and a lock
/// dies with its process. Other files' temporaries are theirs to sweep.
fn sweep_temporaries(path: &Path, dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let affixes = temp_affixes(path);
    for entry in entries.flatten() {
        if is_temporary_of(&entry.file_name().to_string_lossy(), &affixes) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Writes `bytes` to a new private temporary file beside `path`, syncs it,
/// gives it `mode` and renames it over `path`. The temporary is 0600 from
/// its creation (O_EXCL, a fresh random name) until just before the
/// rename: a writer killed on the way leaves nothing others can read.
fn write_atomically(path: &Path, dir: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    let mut temp = temporary(path, dir)?;
    temp.write_all(bytes)?;
    temp.as_file().sync_all()?;
    if mode != 0o600 {
        temp.as_file()
            .set_permissions(fs::Permissions::from_mode(mode))?;
    }
    temp.persist(path).map_err(|e| e.error)?;
    // The rename itself reaches the disk with the directory.
    if let Ok(dir) = File::open(dir) {
        let _ = dir.sync_all();
    }
    Ok(())
}

/// A new temporary file for `path` in `dir`, 0600, named for `path`.
fn temporary(path: &Path, dir: &Path) -> io::Result<tempfile::NamedTempFile> {
    let (prefix, suffix) = temp_affixes(path);
    tempfile::Builder::new()
        .prefix(&prefix)
        .suffix(suffix)
        .rand_bytes(TEMP_RANDOM_LEN)
        .permissions(fs::Permissions::from_mode(0o600))
        .tempfile_in(dir)
}

/// Writes a private file (0600) that holds a secret, such as a QR code's
/// seed, without following a link at `path`: a new file made beside it and
/// renamed over it, so a symlink planted there is replaced, never written
/// through.
pub fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    write_atomically(path, dir, bytes, 0o600)
}

/// A directory mfa will not keep secrets in: a symbolic link, or another
/// user's. Whoever planted it would read what is written there, or choose
/// what mfa reads.
#[derive(Debug)]
pub struct RefusedDir(pub String);

impl std::fmt::Display for RefusedDir {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RefusedDir {}

/// The refusal inside an error from [`check_own_dir`] or [`private_dir`].
pub fn refusal(error: &io::Error) -> Option<&RefusedDir> {
    error.get_ref().and_then(|e| e.downcast_ref::<RefusedDir>())
}

fn refuse(dir: &Path, why: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::PermissionDenied,
        RefusedDir(format!("refusing {}: {why}", crate::paths::display(dir))),
    )
}

/// `Err(why)` unless the effective user owns what `meta` describes.
pub fn check_owner(meta: &fs::Metadata) -> Result<(), String> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    if meta.uid() == me {
        Ok(())
    } else {
        Err(format!("it belongs to another user (uid {})", meta.uid()))
    }
}

/// Whether `dir` exists (`Ok(false)`: not yet), refusing ([`RefusedDir`])
/// one that is a symbolic link or another user's.
pub fn check_own_dir(dir: &Path) -> io::Result<bool> {
    let meta = match fs::symlink_metadata(dir) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e),
    };
    if meta.file_type().is_symlink() {
        return Err(refuse(dir, "it is a symbolic link"));
    }
    check_owner(&meta).map_err(|why| refuse(dir, &why))?;
    Ok(true)
}

/// Creates `dir` 0700, or makes an existing one of the user's private (a
/// directory others can write to would let them swap or hold its files).
/// A symbolic link, or another user's directory, is refused and left as it
/// is. The checks and the chmod go through one descriptor opened without
/// following links, so nothing can be swapped in between.
pub fn private_dir(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    check_own_dir(dir)?;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    let opened = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(dir);
    let handle = match opened {
        Ok(handle) => handle,
        Err(e) => {
            check_own_dir(dir)?;
            return Err(e);
        }
    };
    let meta = handle.metadata()?;
    check_owner(&meta).map_err(|why| refuse(dir, &why))?;
    if meta.mode() & 0o077 != 0 {
        eprintln!(
            "mfa: warning: {} was open to others (mode {:o}); made it 0700",
            crate::paths::display(dir),
            meta.mode() & 0o777
        );
        handle.set_permissions(fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_file_is_private_and_an_old_one_keeps_its_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/credentials");
        assert!(
            update(&path, Access::KeepMode, |old| {
                assert_eq!(old, None);
                Ok(Some("[a]\n".into()))
            })
            .unwrap()
        );
        assert_eq!(fs::metadata(&path).unwrap().mode() & 0o777, 0o600);
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        update(&path, Access::KeepMode, |old| {
            Ok(Some(format!("{}[b]\n", old.unwrap())))
        })
        .unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "[a]\n[b]\n");
        assert_eq!(fs::metadata(&path).unwrap().mode() & 0o777, 0o640);
        assert!(!update(&path, Access::KeepMode, |_| Ok(None)).unwrap());
    }

    #[test]
    fn a_symlinked_file_is_edited_where_it_lives() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("dotfiles-credentials");
        fs::write(&real, "[a]\n").unwrap();
        let link = dir.path().join("credentials");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        update(&link, Access::KeepMode, |_| Ok(Some("[b]\n".into()))).unwrap();
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(fs::read_to_string(&real).unwrap(), "[b]\n");
    }

    #[test]
    fn leftovers_of_a_killed_writer_are_swept() {
        let dir = tempfile::tempdir().unwrap();
        let leftover = dir.path().join(".credentials.mfa-abcde12345.tmp");
        fs::write(&leftover, "[half]\naws_secret_access_key = x\n").unwrap();
        update(&dir.path().join("credentials"), Access::OwnerOnly, |_| {
            Ok(Some("[a]\n".into()))
        })
        .unwrap();
        assert!(!leftover.exists());
    }

    #[test]
    fn an_error_in_the_edit_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        fs::write(&path, "keep\n").unwrap();
        assert!(update(&path, Access::KeepMode, |_| anyhow::bail!("no")).is_err());
        assert_eq!(fs::read_to_string(&path).unwrap(), "keep\n");
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert!(
            names.iter().all(|n| !n.to_string_lossy().ends_with(".tmp")),
            "{names:?}"
        );
    }

    #[test]
    fn only_this_files_leftovers_are_swept_not_a_live_writer_of_another() {
        let dir = tempfile::tempdir().unwrap();
        // Another writer in the middle of writing the config file.
        let config = dir.path().join("config");
        let live = temporary(&config, dir.path()).unwrap();
        // A killed writer's leftover of the credentials file, and a
        // temporary of a file whose name starts like it.
        let leftover = dir.path().join(".credentials.mfa-abcde12345.tmp");
        fs::write(&leftover, "[half]\n").unwrap();
        let lookalike = dir.path().join(".credentials.mfa-old.mfa-abcde12345.tmp");
        fs::write(&lookalike, "x").unwrap();
        update(&dir.path().join("credentials"), Access::OwnerOnly, |_| {
            Ok(Some("[a]\n".into()))
        })
        .unwrap();
        assert!(!leftover.exists());
        assert!(live.path().exists(), "the config writer's file is its own");
        assert!(lookalike.exists());
        live.persist(&config).unwrap();
    }

    #[test]
    fn a_file_with_secrets_open_to_others_is_made_private_a_config_is_not() {
        let dir = tempfile::tempdir().unwrap();
        for (name, access, after) in [
            ("credentials", Access::OwnerOnly, 0o600),
            ("config", Access::KeepMode, 0o644),
        ] {
            let path = dir.path().join(name);
            fs::write(&path, "[a]\n").unwrap();
            fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
            update(&path, access, |old| {
                Ok(Some(format!("{}[b]\n", old.unwrap())))
            })
            .unwrap();
            assert_eq!(fs::metadata(&path).unwrap().mode() & 0o777, after, "{name}");
            assert_eq!(fs::read_to_string(&path).unwrap(), "[a]\n[b]\n");
        }
    }

    #[test]
    fn a_private_file_replaces_a_link_and_leaves_its_target_alone() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("important.txt");
        fs::write(&target, "keep").unwrap();
        fs::set_permissions(&target, fs::Permissions::from_mode(0o644)).unwrap();
        let link = dir.path().join("qr.png");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        write_private(&link, b"seed").unwrap();
        assert_eq!(fs::read_to_string(&target).unwrap(), "keep");
        let meta = fs::symlink_metadata(&link).unwrap();
        assert!(meta.file_type().is_file());
        assert_eq!(meta.mode() & 0o777, 0o600);
        assert_eq!(fs::read(&link).unwrap(), b"seed");
    }
}
