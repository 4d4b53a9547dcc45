//! Paths as people read them in messages.

use std::path::Path;

/// A path for a message: `~/…` under the home directory.
pub fn display(path: &Path) -> String {
    if let Some(home) = std::env::var_os("HOME")
        && !home.is_empty()
        && let Ok(rest) = path.strip_prefix(&home)
    {
        return format!("~/{}", rest.display());
    }
    path.display().to_string()
}
