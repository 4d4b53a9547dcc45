//! The profile files checked whole but merged only for the profiles one
//! chain uses. Every line of both files is scanned (a malformed line
//! anywhere is an error, as the SDKs read the files), but a run that
//! resolves one profile (`mfa env` on a cache hit) builds the few profiles
//! on its chain, not thousands: each section is found again by where its
//! header is, and merged by the same rules as [`Profiles::from_texts`].

use std::path::{Path, PathBuf};

use super::document::{self, FileKind, ItemRef, ParseError, Scanner, SectionRef};
use super::{Profiles, read_text};
use crate::error::UsageError;

/// A section header: where its lines start, and what it names.
struct Header {
    file: FileKind,
    /// Byte offset of the header line (in the text without its byte-order
    /// mark), and its line index there.
    start: usize,
    line: usize,
    /// The profile or sso-session name, as a range of the text.
    name: (usize, usize),
    sso_session: bool,
}

/// One file's text (byte-order mark split off) and path.
struct File {
    text: String,
    bom: usize,
    path: PathBuf,
}

impl File {
    fn body(&self) -> &str {
        &self.text[self.bom..]
    }
}

/// Both files, read and scanned, with their section headers.
pub struct Scanned {
    config: Option<File>,
    credentials: Option<File>,
    stored: Vec<(String, &'static str)>,
    headers: Vec<Header>,
}

impl Scanned {
    /// Reads and scans both files: the same errors as [`super::load`].
    pub fn load(env: &crate::context::Env) -> Result<Scanned, UsageError> {
        let read = |path: PathBuf| -> Result<Option<(String, PathBuf)>, UsageError> {
            Ok(read_text(&path)?.map(|text| (text, path)))
        };
        Scanned::new(
            read(super::config_path(env))?,
            read(super::credentials_path(env))?,
            super::stored_profiles(env),
        )
    }

    /// Scans the files' texts (byte-order marks included).
    pub fn new(
        config: Option<(String, PathBuf)>,
        credentials: Option<(String, PathBuf)>,
        stored: Vec<(String, &'static str)>,
    ) -> Result<Scanned, UsageError> {
        let file = |(text, path): (String, PathBuf)| {
            let bom = text.len() - document::split_bom(&text).1.len();
            File { text, bom, path }
        };
        let mut scanned = Scanned {
            config: config.map(file),
            credentials: credentials.map(file),
            stored,
            headers: Vec::new(),
        };
        let mut headers = Vec::new();
        for (file, kind) in [
            (&scanned.config, FileKind::Config),
            (&scanned.credentials, FileKind::Credentials),
        ] {
            let Some(file) = file else { continue };
            let body = file.body();
            let offset = |part: &str| part.as_ptr() as usize - body.as_ptr() as usize;
            for line in Scanner::new(body, &file.path, kind) {
                let line = line.map_err(|e| UsageError::new(e.to_string()))?;
                let (name, sso_session) = match line.item {
                    ItemRef::Section(SectionRef::Profile { name, .. }) => (name, false),
                    ItemRef::Section(SectionRef::SsoSession { name }) => (name, true),
                    _ => continue,
                };
                headers.push(Header {
                    file: kind,
                    start: offset(line.raw),
                    line: line.number - 1,
                    name: (offset(name), offset(name) + name.len()),
                    sso_session,
                });
            }
        }
        scanned.headers = headers;
        Ok(scanned)
    }

    fn file(&self, kind: FileKind) -> Option<&File> {
        match kind {
            FileKind::Config => self.config.as_ref(),
            FileKind::Credentials => self.credentials.as_ref(),
        }
    }

    fn name_of(&self, header: &Header) -> &str {
        self.file(header.file)
            .map_or("", |file| &file.body()[header.name.0..header.name.1])
    }

    /// Whether either file, or a key store, has the profile `name`.
    pub fn has(&self, name: &str) -> bool {
        self.headers
            .iter()
            .any(|h| !h.sso_session && self.name_of(h) == name)
            || self.stored.iter().any(|(stored, _)| stored == name)
    }

    /// Every profile, as [`super::load`] gives them.
    pub fn all(&self) -> Result<Profiles, UsageError> {
        fn text(file: &Option<File>) -> Option<(&str, &Path)> {
            file.as_ref().map(|f| (f.text.as_str(), f.path.as_path()))
        }
        Ok(
            Profiles::from_texts(text(&self.config), text(&self.credentials))
                .map_err(|e| UsageError::new(e.to_string()))?
                .with_stored(&self.stored),
        )
    }

    /// The profiles `names` (those there are) and every sso-session
    /// section, merged as [`Profiles::from_texts`] merges them: the same
    /// lines, in the same order, so the same values and lines.
    pub fn profiles_of(&self, names: &[&str]) -> Profiles {
        let wanted = |h: &Header| h.sso_session || names.contains(&self.name_of(h));
        let lines = |kind: FileKind| {
            let file = self.file(kind);
            move || {
                file.into_iter().flat_map(move |file| {
                    self.headers
                        .iter()
                        .filter(move |h| h.file == kind && wanted(h))
                        .flat_map(move |h| section_lines(file, kind, h))
                })
            }
        };
        let profiles = Profiles::from_lines(
            self.config.as_ref().map(|_| lines(FileKind::Config)),
            self.credentials
                .as_ref()
                .map(|_| lines(FileKind::Credentials)),
            [&self.config, &self.credentials].map(|f| f.as_ref().map(|f| f.path.clone())),
        );
        match profiles {
            Ok(profiles) => profiles.with_stored(&self.stored),
            // The whole file scanned without error: so does a part of it.
            Err(_) => Profiles::default(),
        }
    }
}

/// The lines of the section whose header is `header`: up to the next
/// header, numbered as in the whole file.
fn section_lines<'a>(
    file: &'a File,
    kind: FileKind,
    header: &'a Header,
) -> impl Iterator<Item = Result<(usize, ItemRef<'a>), ParseError>> + 'a {
    Scanner::new(&file.body()[header.start..], Path::new(&file.path), kind)
        .enumerate()
        .take_while(|(i, line)| {
            *i == 0 || !matches!(line, Ok(line) if matches!(line.item, ItemRef::Section(_)))
        })
        .map(move |(_, line)| line.map(|line| (line.number + header.line, line.item)))
}
