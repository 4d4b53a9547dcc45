//! The man pages in man/ are what the command line says: generated from
//! the clap definitions by clap_mangen, `mfa.1` and one page per
//! subcommand, nested ones included (`mfa-env.1`, `mfa-device-create.1`).
//! `MFA_UPDATE_MAN=1 cargo test --test man` rewrites them (and deletes the
//! pages of subcommands that are gone).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use clap::CommandFactory;

/// Every `*.1` file in `dir`, by name.
fn pages_in(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return BTreeMap::new();
    };
    entries
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "1"))
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).unwrap())
        })
        .collect()
}

fn generated_pages() -> BTreeMap<String, Vec<u8>> {
    let dir = tempfile::tempdir().unwrap();
    clap_mangen::generate_to(versioned(mfa::cli::Cli::command()), dir.path()).unwrap();
    pages_in(dir.path())
}

/// Each subcommand's page names the version as the main page does
/// (clap_mangen shows the command's own version, and only `mfa` has one),
/// without a `--version` flag the subcommand does not have.
fn versioned(command: clap::Command) -> clap::Command {
    command.mut_subcommands(|sub| {
        versioned(sub)
            .version(env!("CARGO_PKG_VERSION"))
            .disable_version_flag(true)
    })
}

#[test]
fn man_pages_in_the_repository_are_current() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("man");
    let pages = generated_pages();
    if std::env::var_os("MFA_UPDATE_MAN").is_some() {
        std::fs::create_dir_all(&dir).unwrap();
        for name in pages_in(&dir).keys().filter(|n| !pages.contains_key(*n)) {
            std::fs::remove_file(dir.join(name)).unwrap();
        }
        for (name, text) in &pages {
            std::fs::write(dir.join(name), text).unwrap();
        }
    }
    let saved = pages_in(&dir);
    let differ: BTreeSet<&String> = pages
        .keys()
        .chain(saved.keys())
        .filter(|name| pages.get(*name) != saved.get(*name))
        .collect();
    assert!(
        differ.is_empty(),
        "man/ is out of date ({differ:?}): run MFA_UPDATE_MAN=1 cargo test --test man"
    );
}

/// A page per subcommand, nested ones included, none for clap's `help`;
/// each names its command and version.
#[test]
fn pages_cover_nested_subcommands_and_name_the_version() {
    let pages = generated_pages();
    for name in ["mfa.1", "mfa-env.1", "mfa-device.1", "mfa-device-create.1"] {
        assert!(pages.contains_key(name), "{name}: {:?}", pages.keys());
    }
    assert!(
        !pages.keys().any(|name| name.contains("help")),
        "{:?}",
        pages.keys()
    );
    let version = env!("CARGO_PKG_VERSION");
    let env_page = String::from_utf8_lossy(&pages["mfa-env.1"]).into_owned();
    assert!(
        env_page.contains(&format!(".TH mfa-env 1  \"env {version}\"")),
        "{env_page}"
    );
    assert!(env_page.contains("\\fB\\-\\-token\\fR"), "{env_page}");
    assert!(!env_page.contains("\\-\\-version"), "{env_page}");
}
