//! Profiles as the AWS SDKs see them: the config and credentials files
//! merged by the shared rules.

use std::borrow::Cow;
use std::convert::Infallible;
use std::path::{Path, PathBuf};

use super::document::{self, Document, FileKind, ItemRef, ParseError, Scanner, SectionRef};

/// Where a property's value was last set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Origin {
    pub file: FileKind,
    /// 1-based line of the `key = value` line.
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Property {
    /// Lower-case: property names are case-insensitive. The keys mfa and
    /// the SDKs know are not copied (thousands of profiles, each a few).
    pub key: Cow<'static, str>,
    /// Continuation lines are joined with `\n`; a property with
    /// sub-properties holds them as written (`\nname = value` per line).
    pub value: String,
    pub origin: Origin,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Profile {
    pub name: String,
    /// In the order the keys first appear, config file before credentials file.
    pub properties: Vec<Property>,
    /// The key store that holds this profile's long-term keys (`mfa add`),
    /// known from its marker without opening the store.
    pub stored_keys: Option<&'static str>,
}

impl Profile {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.properties
            .iter()
            .find(|p| p.key == key)
            .map(|p| p.value.as_str())
    }

    /// A value that is present and not empty.
    pub fn get_nonempty(&self, key: &str) -> Option<&str> {
        self.get(key).filter(|v| !v.is_empty())
    }

    /// A one-line value that is present and not empty; `None` for a value
    /// continued onto indented lines (for listings, which must not show
    /// what such lines may hold).
    pub fn get_single(&self, key: &str) -> Option<&str> {
        self.get_nonempty(key).filter(|v| !v.contains('\n'))
    }

    /// A one-line value for a key mfa acts on. A value continued onto
    /// indented lines is an error that names the line but quotes nothing:
    /// the joined lines may hold a secret.
    pub fn scalar(&self, key: &str) -> Result<Option<&str>, crate::error::UsageError> {
        let Some(property) = self.properties.iter().find(|p| p.key == key) else {
            return Ok(None);
        };
        if property.value.contains('\n') {
            let file = match property.origin.file {
                super::FileKind::Config => "config",
                super::FileKind::Credentials => "credentials",
            };
            return Err(crate::error::UsageError::new(format!(
                "profile `{}`: {key} (line {} of the {file} file) is followed by indented lines, which continue its value; write it on one line",
                self.name, property.origin.line
            )));
        }
        Ok(Some(property.value.as_str()).filter(|v| !v.is_empty()))
    }

    /// Sets `key` (as written: keys compare without case) and returns the
    /// property's position, for the continuation lines that may follow.
    fn set(&mut self, key: &str, value: &str, origin: Origin) -> usize {
        match self
            .properties
            .iter()
            .position(|p| p.key.eq_ignore_ascii_case(key))
        {
            Some(i) => {
                let existing = &mut self.properties[i];
                existing.value.clear();
                existing.value.push_str(value);
                existing.origin = origin;
                i
            }
            None => {
                self.properties.push(Property {
                    key: lower_case_key(key),
                    value: value.to_string(),
                    origin,
                });
                self.properties.len() - 1
            }
        }
    }
}

/// The keys most profiles hold, as static text.
const KNOWN_KEYS: [&str; 24] = [
    "region",
    "output",
    "mfa_serial",
    "role_arn",
    "source_profile",
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_session_token",
    "aws_security_token",
    "duration_seconds",
    "role_session_name",
    "external_id",
    "credential_process",
    "mfa_process",
    "mfa_session_duration",
    "credential_source",
    "web_identity_token_file",
    "sso_session",
    "sso_start_url",
    "sso_region",
    "sso_account_id",
    "sso_role_name",
    "aws_session_expiration",
    "x_security_token_expires",
];

fn lower_case_key(key: &str) -> Cow<'static, str> {
    match KNOWN_KEYS
        .iter()
        .find(|known| known.eq_ignore_ascii_case(key))
    {
        Some(known) => Cow::Borrowed(known),
        None => Cow::Owned(key.to_ascii_lowercase()),
    }
}

/// Every profile of both files, merged, in file order. Two are equal when
/// their profiles are, wherever the files were read from.
#[derive(Debug, Clone, Default)]
pub struct Profiles {
    pub list: Vec<Profile>,
    /// Position of each name in `list`: lookups stay cheap with thousands
    /// of profiles (a linear search made merging quadratic).
    index: std::collections::HashMap<String, usize>,
    /// The config and credentials files read, for messages that name a
    /// value's file and line.
    paths: [Option<PathBuf>; 2],
    /// `[sso-session NAME]` sections of the config file, merged as profiles
    /// are (duplicates merge, the last value wins). Not profiles.
    sso_sessions: Vec<Profile>,
}

/// The section whose properties the lines being merged set.
#[derive(Clone, Copy)]
enum Target {
    Profile(usize),
    SsoSession(usize),
}

impl PartialEq for Profiles {
    fn eq(&self, other: &Profiles) -> bool {
        self.list == other.list
    }
}

impl Eq for Profiles {}

/// What merging a config file saw of `default`: `[default]` loses to
/// `[profile default]` when both are there, which is known only at the end.
#[derive(Default)]
struct DefaultSections {
    bare: bool,
    prefixed: bool,
}

impl Profiles {
    pub fn from_documents(config: Option<&Document>, credentials: Option<&Document>) -> Profiles {
        fn lines(doc: &Document) -> impl Iterator<Item = Result<(usize, ItemRef<'_>), Infallible>> {
            doc.lines
                .iter()
                .enumerate()
                .map(|(i, line)| Ok((i + 1, line.item.as_ref())))
        }
        let merged = Profiles::merge_files(
            config.map(|doc| move || lines(doc)),
            credentials.map(|doc| move || lines(doc)),
        );
        let mut profiles = match merged {
            Ok(profiles) => profiles,
            Err(never) => match never {},
        };
        profiles.paths = [config, credentials].map(|doc| doc.map(|doc| doc.path.clone()));
        profiles
    }

    /// The profiles of the two files' texts (byte-order marks included),
    /// read without building [`Document`]s: what every run needs, so it
    /// copies only what it keeps. The same rules and errors as
    /// [`document::parse`] then [`Profiles::from_documents`].
    pub fn from_texts(
        config: Option<(&str, &Path)>,
        credentials: Option<(&str, &Path)>,
    ) -> Result<Profiles, ParseError> {
        fn lines<'a>(
            (text, path): (&'a str, &'a Path),
            kind: FileKind,
        ) -> impl Iterator<Item = Result<(usize, ItemRef<'a>), ParseError>> + 'a {
            Scanner::new(document::split_bom(text).1, path, kind)
                .map(|line| line.map(|line| (line.number, line.item)))
        }
        let mut profiles = Profiles::merge_files(
            config.map(|file| move || lines(file, FileKind::Config)),
            credentials.map(|file| move || lines(file, FileKind::Credentials)),
        )?;
        profiles.paths = [config, credentials].map(|file| file.map(|(_, path)| path.to_path_buf()));
        Ok(profiles)
    }

    /// The profiles of lines already scanned (see `super::scanned`), with
    /// the paths of the files they come from.
    pub(super) fn from_lines<'a, C, K>(
        config: Option<impl Fn() -> C>,
        credentials: Option<impl Fn() -> K>,
        paths: [Option<PathBuf>; 2],
    ) -> Result<Profiles, ParseError>
    where
        C: Iterator<Item = Result<(usize, ItemRef<'a>), ParseError>>,
        K: Iterator<Item = Result<(usize, ItemRef<'a>), ParseError>>,
    {
        let mut profiles = Profiles::merge_files(config, credentials)?;
        profiles.paths = paths;
        Ok(profiles)
    }

    /// Where a value was set, as parse errors say it: `~/.aws/config line 3`.
    pub fn place(&self, origin: Origin) -> String {
        let (path, name) = match origin.file {
            FileKind::Config => (&self.paths[0], "config"),
            FileKind::Credentials => (&self.paths[1], "credentials"),
        };
        match path {
            Some(path) => format!("{} line {}", crate::paths::display(path), origin.line),
            None => format!("line {} of the {name} file", origin.line),
        }
    }

    /// Where `key` of `profile` was last set (see [`Profiles::place`]).
    pub fn place_of(&self, profile: &Profile, key: &str) -> String {
        match profile.properties.iter().find(|p| p.key == key) {
            Some(property) => self.place(property.origin),
            None => format!("profile `{}`", profile.name),
        }
    }

    /// Merges the files' lines, config first. Each argument makes a fresh
    /// pass over its file's lines: the config is read twice when it has
    /// both `[default]` and `[profile default]`.
    fn merge_files<'a, E, C, K>(
        config: Option<impl Fn() -> C>,
        credentials: Option<impl Fn() -> K>,
    ) -> Result<Profiles, E>
    where
        C: Iterator<Item = Result<(usize, ItemRef<'a>), E>>,
        K: Iterator<Item = Result<(usize, ItemRef<'a>), E>>,
    {
        let mut profiles = Profiles::default();
        if let Some(config) = &config {
            let seen = profiles.merge(FileKind::Config, false, config())?;
            if seen.bare && seen.prefixed {
                // `[profile default]` wins: the bare one is ignored whole.
                profiles = Profiles::default();
                profiles.merge(FileKind::Config, true, config())?;
            }
        }
        if let Some(credentials) = &credentials {
            profiles.merge(FileKind::Credentials, false, credentials())?;
        }
        Ok(profiles)
    }

    fn merge<'a, E>(
        &mut self,
        file: FileKind,
        skip_bare_default: bool,
        lines: impl Iterator<Item = Result<(usize, ItemRef<'a>), E>>,
    ) -> Result<DefaultSections, E> {
        let mut seen = DefaultSections::default();
        let mut current: Option<Target> = None;
        // The property that continuation lines extend, in `current`.
        let mut last_property: Option<usize> = None;
        for line in lines {
            let (number, item) = line?;
            match item {
                ItemRef::Blank | ItemRef::Comment => {}
                ItemRef::Section(SectionRef::Profile { name, bare_default }) => {
                    last_property = None;
                    if name == "default" {
                        if bare_default {
                            seen.bare = true;
                        } else {
                            seen.prefixed = true;
                        }
                    }
                    current = if bare_default && skip_bare_default {
                        None
                    } else {
                        Some(Target::Profile(self.index_of_or_insert(name)))
                    };
                }
                ItemRef::Section(SectionRef::SsoSession { name }) => {
                    last_property = None;
                    let i = match self.sso_sessions.iter().position(|s| s.name == name) {
                        Some(i) => i,
                        None => {
                            self.sso_sessions.push(Profile {
                                name: name.to_string(),
                                ..Profile::default()
                            });
                            self.sso_sessions.len() - 1
                        }
                    };
                    current = Some(Target::SsoSession(i));
                }
                ItemRef::Section(SectionRef::Ignored { .. }) => {
                    current = None;
                    last_property = None;
                }
                ItemRef::Property { key, value } => {
                    // A key with characters the SDKs reject is ignored, and
                    // so are its continuation lines.
                    last_property = None;
                    if !document::is_valid_name(key) {
                        continue;
                    }
                    if let Some(target) = current {
                        let origin = Origin { file, line: number };
                        last_property = Some(self.section(target).set(key, value, origin));
                    }
                }
                ItemRef::Continuation { text } | ItemRef::SubProperty { text } => {
                    if let (Some(target), Some(p)) = (current, last_property) {
                        let value = &mut self.section(target).properties[p].value;
                        value.push('\n');
                        value.push_str(text);
                    }
                }
            }
        }
        Ok(seen)
    }

    fn section(&mut self, target: Target) -> &mut Profile {
        match target {
            Target::Profile(i) => &mut self.list[i],
            Target::SsoSession(i) => &mut self.sso_sessions[i],
        }
    }

    /// The `[sso-session NAME]` section, if the config file has one.
    pub fn sso_session(&self, name: &str) -> Option<&Profile> {
        self.sso_sessions.iter().find(|s| s.name == name)
    }

    fn index_of_or_insert(&mut self, name: &str) -> usize {
        match self.index.get(name) {
            Some(i) => *i,
            None => {
                self.index.insert(name.to_string(), self.list.len());
                self.list.push(Profile {
                    name: name.to_string(),
                    properties: Vec::new(),
                    stored_keys: None,
                });
                self.list.len() - 1
            }
        }
    }

    /// Where the profile `name` is in `list`.
    pub fn position(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }

    pub fn get(&self, name: &str) -> Option<&Profile> {
        self.index.get(name).map(|i| &self.list[*i])
    }

    /// Notes which profiles have keys in a key store; a profile known only
    /// there (added with `mfa add`) joins the list.
    pub fn with_stored(mut self, stored: &[(String, &'static str)]) -> Profiles {
        for (name, backend) in stored {
            let i = self.index_of_or_insert(name);
            self.list[i].stored_keys = Some(backend);
        }
        self
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.list.iter().map(|p| p.name.as_str())
    }

    /// Names close to `name`, best first, for "did you mean" messages.
    pub fn suggestions(&self, name: &str) -> Vec<&str> {
        let wanted = name.to_lowercase();
        let mut scored: Vec<(f64, &str)> = self
            .names()
            .filter_map(|candidate| {
                #[cfg(test)]
                crate::resolve::WORK.with(|w| w.set(w.get() + 1));
                let lower = candidate.to_lowercase();
                let score = strsim::jaro_winkler(&wanted, &lower);
                let contains = !wanted.is_empty()
                    && (lower.contains(&wanted) || wanted.contains(lower.as_str()));
                (score >= 0.8 || contains).then_some((score, candidate))
            })
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0));
        scored.into_iter().take(3).map(|(_, n)| n).collect()
    }
}
