//! Rewriting the user's own files (SPEC §5): under a lock, so that two
//! writers never lose each other's work, and atomically (temporary file in
//! the same directory, fsync, rename), keeping the file's mode, so that a
//! kill at any point leaves the old file or the new one, never a mix.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// Mode of a credentials or config file that mfa creates.
pub const NEW_FILE_MODE: u32 = 0o600;

/// The file behind `path`: a symlinked file (dotfile managers) is edited
/// where it lives, not replaced by a plain file.
fn real_path(path: &Path) -> PathBuf {
    fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// `.NAME.mfa-lock` beside the file: the file itself is replaced by each
/// write, so a lock on it would not hold across writers.
fn lock_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".into());
    path.with_file_name(format!(".{name}.mfa-lock"))
}

/// Reads the file (`None` when missing), lets `edit` compute the new text
/// (`None`: leave it), and writes that in its place. Returns whether the
/// file changed.
pub fn update(
    path: &Path,
    edit: impl FnOnce(Option<&str>) -> Result<Option<String>>,
) -> Result<bool> {
    let path = real_path(path);
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::DirBuilder::new()
        .recursive(true)
        .create(dir)
        .with_context(|| format!("cannot create {}", crate::paths::display(dir)))?;
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(lock_path(&path))
        .with_context(|| format!("cannot lock {}", crate::paths::display(&path)))?;
    lock.lock()
        .with_context(|| format!("cannot lock {}", crate::paths::display(&path)))?;

    sweep_temporaries(dir);
    let (old, mode) = match fs::read(&path) {
        Ok(bytes) => {
            let mode = fs::metadata(&path)?.mode() & 0o7777;
            let text = String::from_utf8(bytes).map_err(|_| {
                anyhow::anyhow!("{} is not UTF-8 text", crate::paths::display(&path))
            })?;
            (Some(text), mode)
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => (None, NEW_FILE_MODE),
        Err(e) => {
            return Err(e).with_context(|| format!("cannot read {}", crate::paths::display(&path)));
        }
    };
    let Some(new) = edit(old.as_deref())? else {
        return Ok(false);
    };
    if old.as_deref() == Some(new.as_str()) {
        return Ok(false);
    }
    write_atomically(&path, dir, new.as_bytes(), mode)
        .with_context(|| format!("cannot write {}", crate::paths::display(&path)))?;
    Ok(true)
}

/// Removes what a writer killed between writing and renaming left: under
/// the lock, every `.mfa-*.tmp` is such a leftover (and may hold keys).
fn sweep_temporaries(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with(".mfa-") && name.ends_with(".tmp") {
            let _ = fs::remove_file(entry.path());
        }
    }
}

fn write_atomically(path: &Path, dir: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    // Created 0600 by tempfile, then given the file's own mode: the new
    // content is never readable by more people than the old one was.
    let mut temp = tempfile::Builder::new()
        .prefix(".mfa-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    temp.write_all(bytes)?;
    temp.as_file()
        .set_permissions(fs::Permissions::from_mode(mode))?;
    temp.as_file().sync_all()?;
    temp.persist(path).map_err(|e| e.error)?;
    // The rename itself reaches the disk with the directory.
    if let Ok(dir) = File::open(dir) {
        let _ = dir.sync_all();
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
            update(&path, |old| {
                assert_eq!(old, None);
                Ok(Some("[a]\n".into()))
            })
            .unwrap()
        );
        assert_eq!(fs::metadata(&path).unwrap().mode() & 0o777, 0o600);
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        update(&path, |old| Ok(Some(format!("{}[b]\n", old.unwrap())))).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "[a]\n[b]\n");
        assert_eq!(fs::metadata(&path).unwrap().mode() & 0o777, 0o640);
        assert!(!update(&path, |_| Ok(None)).unwrap());
    }

    #[test]
    fn a_symlinked_file_is_edited_where_it_lives() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("dotfiles-credentials");
        fs::write(&real, "[a]\n").unwrap();
        let link = dir.path().join("credentials");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        update(&link, |_| Ok(Some("[b]\n".into()))).unwrap();
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
        let leftover = dir.path().join(".mfa-abc123.tmp");
        fs::write(&leftover, "[half]\naws_secret_access_key = x\n").unwrap();
        update(&dir.path().join("credentials"), |_| {
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
        assert!(update(&path, |_| anyhow::bail!("no")).is_err());
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
}
