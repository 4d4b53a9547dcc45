//! The profile names (and kinds) that completion offers, remembered in the
//! cache directory so that a TAB over thousands of profiles need not read
//! and merge the files again while they are unchanged.
//!
//! The memo names the files it was made from with what identifies their
//! content — device, inode, size, modification and change times — and is
//! trusted only when all of them still match *and* each file was last
//! changed more than a second before the memo was written. The second
//! rule is git's for its index: a file changed within the clock's
//! granularity of the memo could have changed again with the same size
//! and time. A memo that fails either rule is ignored and written anew
//! (once the files are old enough). Failures are not reported: completion
//! must not print errors (the cache directory's own one-time warning,
//! when it was open to others, aside).
//!
//! The identity lines need only `stat` of the user's files, so anyone who
//! can write where the memo lives could forge one and feed TAB any names:
//! it is read only as the cache's entries are trusted (a regular file,
//! not a link, the user's alone, in a directory that is the user's alone),
//! and every name and kind must be a valid profile name.

use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

const HEADER: &str = "mfa completion memo 1";
/// How much older than the memo each file must be, in nanoseconds.
const SETTLED_NS: i128 = 1_000_000_000;

/// One file's identity; `None` for a missing file.
fn identity(path: &Path) -> Option<[i128; 7]> {
    let m = fs::metadata(path).ok()?;
    Some([
        i128::from(m.dev()),
        i128::from(m.ino()),
        i128::from(m.size()),
        i128::from(m.mtime()),
        i128::from(m.mtime_nsec()),
        i128::from(m.ctime()),
        i128::from(m.ctime_nsec()),
    ])
}

/// The latest change of the file, in nanoseconds since the epoch.
fn last_change_ns(id: &[i128; 7]) -> i128 {
    let mtime = id[3] * 1_000_000_000 + id[4];
    let ctime = id[5] * 1_000_000_000 + id[6];
    mtime.max(ctime)
}

fn now_ns() -> i128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as i128)
        .unwrap_or(0)
}

/// The line that records one source file.
fn source_line(path: &Path, id: Option<&[i128; 7]>) -> String {
    let stat = match id {
        Some(id) => id.map(|n| n.to_string()).join(" "),
        None => "missing".to_string(),
    };
    format!("{stat}\t{}", path.display())
}

/// The memo's path for these source files, under the cache directory.
pub fn path(cache_dir: &Path) -> PathBuf {
    cache_dir.join("completion-profiles")
}

/// The remembered `(name, kind)` pairs, if the memo is still true of
/// `sources`.
pub fn read(memo: &Path, sources: &[&Path]) -> Option<Vec<(String, String)>> {
    let text = read_private(memo)?;
    let mut lines = text.lines();
    if lines.next()? != HEADER {
        return None;
    }
    let written: i128 = lines.next()?.parse().ok()?;
    for source in sources {
        let id = identity(source);
        if lines.next()? != source_line(source, id.as_ref()) {
            return None;
        }
        if id.is_some_and(|id| last_change_ns(&id) > written - SETTLED_NS) {
            return None;
        }
    }
    if !lines.next()?.is_empty() {
        return None;
    }
    lines
        .map(|line| {
            let (name, kind) = line.split_once('\t')?;
            let valid = crate::config::document::is_valid_name;
            (valid(name) && valid(kind)).then(|| (name.to_string(), kind.to_string()))
        })
        .collect()
}

/// Whether a file or directory is the user's alone, as the cache's
/// entries and directory must be: the user's own, closed to everyone else.
fn private(meta: &fs::Metadata) -> bool {
    crate::files::check_owner(meta).is_ok() && meta.mode() & 0o077 == 0
}

/// The memo's text, if only the user could have written it: its directory
/// (not a link) and the file (opened without following a link, and not
/// blocking on a FIFO) are [private].
fn read_private(memo: &Path) -> Option<String> {
    let dir = fs::symlink_metadata(memo.parent()?).ok()?;
    if !dir.is_dir() || !private(&dir) {
        return None;
    }
    let mut file = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(memo)
        .ok()?;
    let meta = file.metadata().ok()?;
    if !meta.is_file() || !private(&meta) {
        return None;
    }
    let mut text = String::new();
    file.read_to_string(&mut text).ok()?;
    Some(text)
}

/// Writes the memo (atomically, 0600), unless a source changed too
/// recently for a later run to trust it, or was changed while it was read
/// (`seen` is each source's identity from before reading).
pub fn write(
    memo: &Path,
    sources: &[&Path],
    seen: &[Option<[i128; 7]>],
    profiles: &[(String, String)],
) {
    let written = now_ns();
    let mut text = format!("{HEADER}\n{written}\n");
    for (source, before) in sources.iter().zip(seen) {
        let id = identity(source);
        if id != *before || id.is_some_and(|id| last_change_ns(&id) > written - SETTLED_NS) {
            return;
        }
        text.push_str(&source_line(source, id.as_ref()));
        text.push('\n');
    }
    text.push('\n');
    for (name, kind) in profiles {
        text.push_str(name);
        text.push('\t');
        text.push_str(kind);
        text.push('\n');
    }
    let Some(dir) = memo.parent() else { return };
    let attempt = || -> std::io::Result<()> {
        crate::cache::Cache::new(dir.to_path_buf()).ensure_dir()?;
        let mut file = tempfile::Builder::new()
            .prefix(".completion-")
            .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))
            .tempfile_in(dir)?;
        file.write_all(text.as_bytes())?;
        file.persist(memo).map_err(|e| e.error)?;
        Ok(())
    };
    let _ = attempt();
}

/// Each source's identity now, for [`write`].
pub fn identities(sources: &[&Path]) -> Vec<Option<[i128; 7]>> {
    sources.iter().map(|s| identity(s)).collect()
}
