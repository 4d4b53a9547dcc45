//! The AWS profile files: where they are, how they read, what they hold.

pub mod document;
pub mod edit;
pub mod profiles;
pub mod scanned;

use std::path::PathBuf;

use crate::context::Env;
use crate::error::UsageError;
pub use document::{Document, FileKind};
pub use profiles::{Profile, Profiles};
pub use scanned::Scanned;

/// The two files, as found on disk (either may be missing), and their
/// profiles.
#[derive(Debug, Clone)]
pub struct Files {
    pub config_path: PathBuf,
    pub credentials_path: PathBuf,
    /// Merged, with the profiles whose keys are in a key store noted.
    pub profiles: Profiles,
}

/// The key store markers (see `crate::keystore`): one directory listing.
fn stored_profiles(env: &Env) -> Vec<(String, &'static str)> {
    let Ok(entries) = std::fs::read_dir(crate::keystore::keys_dir(env)) else {
        return Vec::new();
    };
    let mut stored: Vec<(String, &'static str)> = entries
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            let (stem, backend) = name.rsplit_once('.')?;
            let backend = ["file", "secret-service", "keychain", "wincred"]
                .into_iter()
                .find(|b| *b == backend)?;
            let profile = stem.replace("%2F", "/").replace("%25", "%");
            document::is_valid_name(&profile).then_some((profile, backend))
        })
        .collect();
    stored.sort();
    stored
}

pub fn config_path(env: &Env) -> PathBuf {
    env.path_var("AWS_CONFIG_FILE")
        .unwrap_or_else(|| env.home().join(".aws").join("config"))
}

pub fn credentials_path(env: &Env) -> PathBuf {
    env.path_var("AWS_SHARED_CREDENTIALS_FILE")
        .unwrap_or_else(|| env.home().join(".aws").join("credentials"))
}

/// Reads and parses both files. A missing file is no error; an unreadable
/// or malformed one is, naming the file (and line).
pub fn load(env: &Env) -> Result<Files, UsageError> {
    let config_path = config_path(env);
    let credentials_path = credentials_path(env);
    let config = read_text(&config_path)?;
    let credentials = read_text(&credentials_path)?;
    let profiles = Profiles::from_texts(
        config.as_deref().map(|text| (text, config_path.as_path())),
        credentials
            .as_deref()
            .map(|text| (text, credentials_path.as_path())),
    )
    .map_err(|e| UsageError::new(e.to_string()))?
    .with_stored(&stored_profiles(env));
    Ok(Files {
        config_path,
        credentials_path,
        profiles,
    })
}

/// A profile file larger than this is refused: real ones are kilobytes,
/// and `/dev/zero` never ends.
const MAX_FILE_BYTES: u64 = 64 << 20;

/// The file's text; `None` when there is no file. Opened without waiting
/// for a writer (a FIFO with none reads as empty, never hangs) and read
/// up to `MAX_FILE_BYTES`.
pub(crate) fn read_text(path: &std::path::Path) -> Result<Option<String>, UsageError> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let shown = crate::paths::display(path);
    let cannot = |e: std::io::Error| UsageError::new(format!("cannot read {shown}: {e}"));
    let file = match std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
    {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(cannot(e)),
    };
    // Blocking again for the reads: a pipe's writer, if any, is waited for.
    // SAFETY: fcntl on a descriptor this function owns; no memory is passed.
    unsafe {
        let flags = libc::fcntl(std::os::fd::AsRawFd::as_raw_fd(&file), libc::F_GETFL);
        if flags >= 0 {
            libc::fcntl(
                std::os::fd::AsRawFd::as_raw_fd(&file),
                libc::F_SETFL,
                flags & !libc::O_NONBLOCK,
            );
        }
    }
    // Sized from the file's length (a hint: a pipe has none), so that a
    // large file is not copied each time the buffer grows.
    let hint = file
        .metadata()
        .map_or(0, |m| m.len().min(MAX_FILE_BYTES + 1));
    let mut bytes = Vec::with_capacity(usize::try_from(hint).unwrap_or(0) + 1);
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(cannot)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(UsageError::new(format!(
            "{shown} is larger than {} MiB: not a profile file",
            MAX_FILE_BYTES >> 20
        )));
    }
    String::from_utf8(bytes).map(Some).map_err(|e| {
        UsageError::new(format!(
            "{shown} is not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        ))
    })
}

/// Sets `properties` in `profile`'s section of the file at `path`, under
/// the file's lock and atomically (see `crate::files`), after `guard` has
/// seen the file's profiles as they are under the lock.
pub fn set_in_file(
    path: &std::path::Path,
    kind: FileKind,
    profile: &str,
    properties: &[(&str, &str)],
    guard: impl FnOnce(&Profiles) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let access = match kind {
        FileKind::Credentials => crate::files::Access::OwnerOnly,
        FileKind::Config => crate::files::Access::KeepMode,
    };
    crate::files::update(path, access, |old| {
        let doc = document::parse(old.unwrap_or(""), path, kind)
            .map_err(|e| UsageError::new(e.to_string()))?;
        let current = match kind {
            FileKind::Config => Profiles::from_documents(Some(&doc), None),
            FileKind::Credentials => Profiles::from_documents(None, Some(&doc)),
        };
        guard(&current)?;
        let edited = edit::set_properties(&doc, profile, properties).map_err(|e| match e {
            // Our own edit did not read back: a failure, not the user's input.
            edit::EditError::NotReadBack { .. } => anyhow::anyhow!("{e}"),
            _ => UsageError::new(e.to_string()).into(),
        })?;
        Ok(Some(edited.render()))
    })?;
    Ok(())
}
