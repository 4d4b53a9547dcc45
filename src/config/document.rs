//! A lossless model of one AWS profile file (config or credentials).
//!
//! Every line is kept as written, with its own line ending, next to what it
//! means under the rules the AWS SDKs share. Reading profiles uses the
//! meaning; editing (`mfa write`, `mfa setup`) changes only the lines it
//! must and writes every other byte back as it was. Generic INI crates do
//! neither: they flatten sub-properties, keep inline comments in values and
//! drop comments on write, which is why this parser is written by hand.

use std::fmt;
use std::path::{Path, PathBuf};

/// Which of the two files a document is: section names differ between them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// `~/.aws/config`: `[default]`, `[profile NAME]`, `[sso-session X]`, …
    Config,
    /// `~/.aws/credentials`: `[NAME]`.
    Credentials,
}

/// What a section header introduces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Section {
    /// A profile. `bare_default` is true for `[default]` in the config file,
    /// which loses to `[profile default]` when both are present.
    Profile { name: String, bare_default: bool },
    /// `[sso-session NAME]` in the config file: what SSO profiles that name
    /// it with `sso_session` share (start URL, region, scopes). Not a
    /// profile.
    SsoSession { name: String },
    /// A well-formed section that is not a profile (`[services x]`,
    /// `[services x]`, or a profile with a name the SDKs reject). Its
    /// properties are read past and belong to no profile.
    Ignored { reason: String },
}

/// What one line means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    Blank,
    Comment,
    Section(Section),
    /// `key = value`; the key is lower-cased, the value trimmed and without
    /// its inline comment.
    Property {
        key: String,
        value: String,
    },
    /// An indented line that continues the previous property's value;
    /// `text` is trimmed and keeps any `#` in it.
    Continuation {
        text: String,
    },
    /// An indented `key = value` under a property whose own value is empty
    /// (`s3 =` then `  max_concurrent_requests = 10`); `text` is the trimmed
    /// line, kept as written.
    SubProperty {
        text: String,
    },
}

/// One physical line: its text without the line ending, the ending, and its
/// meaning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub text: String,
    /// `"\n"`, `"\r\n"`, or `""` for a last line without one.
    pub ending: &'static str,
    pub item: Item,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub path: PathBuf,
    pub kind: FileKind,
    pub lines: Vec<Line>,
}

/// A line that cannot be parsed. The SDKs refuse the whole file, and so do we.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub path: PathBuf,
    pub line: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} line {}: {}",
            crate::paths::display(&self.path),
            self.line,
            self.message
        )
    }
}

impl std::error::Error for ParseError {}

/// Characters the SDKs allow in profile and property names.
pub fn is_valid_name(name: &str) -> bool {
    // By byte: every allowed character is ASCII, and no byte of a
    // multi-byte character is.
    !name.is_empty()
        && name.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(b, b'-' | b'/' | b'.' | b'%' | b'@' | b'_' | b':' | b'+')
        })
}

/// The text without the spaces and tabs around it (what the SDKs trim;
/// by byte, as this runs over every line).
pub fn trim_blanks(text: &str) -> &str {
    let blank = |b: &u8| *b == b' ' || *b == b'\t';
    let bytes = text.as_bytes();
    let start = bytes.iter().position(|b| !blank(b)).unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !blank(b))
        .map_or(start, |i| i + 1);
    &text[start..end]
}

/// Splits text into lines, keeping each line's ending.
struct SplitLines<'a> {
    rest: &'a str,
}

impl<'a> Iterator for SplitLines<'a> {
    type Item = (&'a str, &'static str);

    fn next(&mut self) -> Option<Self::Item> {
        let rest = self.rest;
        if rest.is_empty() {
            return None;
        }
        match memchr::memchr(b'\n', rest.as_bytes()) {
            Some(i) => {
                self.rest = &rest[i + 1..];
                Some(if i > 0 && rest.as_bytes()[i - 1] == b'\r' {
                    (&rest[..i - 1], "\r\n")
                } else {
                    (&rest[..i], "\n")
                })
            }
            None => {
                self.rest = "";
                Some((rest, ""))
            }
        }
    }
}

fn starts_with_whitespace(line: &str) -> bool {
    line.starts_with([' ', '\t'])
}

/// Cuts an inline comment: `#` or `;` that follows whitespace. A `#`
/// right after a value (`value#1`) is part of the value.
fn strip_inline_comment(value: &str) -> &str {
    // Bytes, not chars: both marks and both spaces are ASCII, which no
    // byte of a multi-byte character can be, so every cut is a char
    // boundary. memchr: this runs over every line of every file, and
    // most lines hold neither mark.
    let bytes = value.as_bytes();
    for i in memchr::memchr2_iter(b'#', b';', bytes) {
        if i > 0 && matches!(bytes[i - 1], b' ' | b'\t') {
            return &value[..i];
        }
    }
    value
}

/// `split_once('=')`, by memchr.
fn split_at_equals(line: &str) -> Option<(&str, &str)> {
    let i = memchr::memchr(b'=', line.as_bytes())?;
    Some((&line[..i], &line[i + 1..]))
}

/// What one line means, borrowed from the text: what [`Scanner`] yields.
/// [`Item`] is its owned form, kept in a [`Document`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemRef<'a> {
    Blank,
    Comment,
    Section(SectionRef<'a>),
    /// The key as written (the SDKs compare keys without case), the value
    /// trimmed and without its inline comment.
    Property {
        key: &'a str,
        value: &'a str,
    },
    Continuation {
        text: &'a str,
    },
    SubProperty {
        text: &'a str,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SectionRef<'a> {
    Profile { name: &'a str, bare_default: bool },
    SsoSession { name: &'a str },
    Ignored { reason: String },
}

impl Item {
    pub fn as_ref(&self) -> ItemRef<'_> {
        match self {
            Item::Blank => ItemRef::Blank,
            Item::Comment => ItemRef::Comment,
            Item::Section(Section::Profile { name, bare_default }) => {
                ItemRef::Section(SectionRef::Profile {
                    name,
                    bare_default: *bare_default,
                })
            }
            Item::Section(Section::SsoSession { name }) => {
                ItemRef::Section(SectionRef::SsoSession { name })
            }
            Item::Section(Section::Ignored { reason }) => ItemRef::Section(SectionRef::Ignored {
                reason: reason.clone(),
            }),
            Item::Property { key, value } => ItemRef::Property { key, value },
            Item::Continuation { text } => ItemRef::Continuation { text },
            Item::SubProperty { text } => ItemRef::SubProperty { text },
        }
    }
}

impl ItemRef<'_> {
    pub fn to_owned(&self) -> Item {
        match self {
            ItemRef::Blank => Item::Blank,
            ItemRef::Comment => Item::Comment,
            ItemRef::Section(SectionRef::Profile { name, bare_default }) => {
                Item::Section(Section::Profile {
                    name: name.to_string(),
                    bare_default: *bare_default,
                })
            }
            ItemRef::Section(SectionRef::SsoSession { name }) => {
                Item::Section(Section::SsoSession {
                    name: name.to_string(),
                })
            }
            ItemRef::Section(SectionRef::Ignored { reason }) => Item::Section(Section::Ignored {
                reason: reason.clone(),
            }),
            ItemRef::Property { key, value } => Item::Property {
                key: key.to_ascii_lowercase(),
                value: value.to_string(),
            },
            ItemRef::Continuation { text } => Item::Continuation {
                text: text.to_string(),
            },
            ItemRef::SubProperty { text } => Item::SubProperty {
                text: text.to_string(),
            },
        }
    }
}

/// The state that decides what an indented line is.
enum Context {
    /// No property yet in this section (or no section).
    None,
    /// After `key = value` with a non-empty value: indented lines continue it.
    Continuable,
    /// After `key =` with an empty value: indented lines must be
    /// sub-properties (`name = value`).
    SubProperties,
}

/// One line as the scanner reads it: its 1-based number, its text (without
/// a leading byte-order mark) and ending, and its meaning.
pub struct ScannedLine<'a> {
    pub number: usize,
    pub raw: &'a str,
    pub ending: &'static str,
    pub item: ItemRef<'a>,
}

/// Reads a profile file line by line without copying it: the one parser
/// behind both [`parse`] (a lossless [`Document`], for editing) and
/// [`super::Profiles::from_texts`] (the profiles alone, for reading, which
/// every run does). After the first error it yields nothing more.
pub struct Scanner<'a> {
    lines: std::iter::Enumerate<SplitLines<'a>>,
    path: &'a Path,
    kind: FileKind,
    in_section: bool,
    context: Context,
    failed: bool,
}

impl<'a> Scanner<'a> {
    /// `text` without its byte-order mark (see [`split_bom`]).
    pub fn new(text: &'a str, path: &'a Path, kind: FileKind) -> Scanner<'a> {
        Scanner {
            lines: SplitLines { rest: text }.enumerate(),
            path,
            kind,
            in_section: false,
            context: Context::None,
            failed: false,
        }
    }

    fn error(&mut self, line: usize, message: &str) -> Option<Result<ScannedLine<'a>, ParseError>> {
        self.failed = true;
        Some(Err(ParseError {
            path: self.path.to_path_buf(),
            line,
            message: message.to_string(),
        }))
    }
}

/// Splits a leading byte-order mark from the text: it is not part of the
/// first line's meaning, but a lossless copy keeps it.
pub fn split_bom(text: &str) -> (&'static str, &str) {
    match text.strip_prefix('\u{feff}') {
        Some(rest) => ("\u{feff}", rest),
        None => ("", text),
    }
}

impl<'a> Iterator for Scanner<'a> {
    type Item = Result<ScannedLine<'a>, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let (index, (raw, ending)) = self.lines.next()?;
        let number = index + 1;
        // Messages never quote a property line: it may hold a secret.
        let trimmed = trim_blanks(raw);
        let item = if trimmed.is_empty() {
            ItemRef::Blank
        } else if trimmed.starts_with(['#', ';']) {
            // Indented comments are comments too, as botocore reads them
            // (the Rust and Java SDKs would take them as continuation text).
            ItemRef::Comment
        } else if raw.starts_with('[') {
            let section = match parse_section(trimmed, self.kind) {
                Ok(section) => section,
                Err(message) => return self.error(number, &message),
            };
            self.in_section = true;
            self.context = Context::None;
            ItemRef::Section(section)
        } else if starts_with_whitespace(raw) {
            match self.context {
                Context::None if !self.in_section => {
                    return self.error(
                        number,
                        "expected a section header such as `[default]` before this indented line",
                    );
                }
                Context::None => {
                    return self.error(
                        number,
                        "an indented line continues a property, but no property comes before it in this section",
                    );
                }
                Context::Continuable => ItemRef::Continuation { text: trimmed },
                Context::SubProperties => {
                    let Some((key, _)) = split_at_equals(strip_inline_comment(trimmed)) else {
                        return self.error(
                            number,
                            "expected a sub-property (`name = value`) on this indented line, under a property with an empty value",
                        );
                    };
                    if key.trim().is_empty() {
                        return self.error(number, "a sub-property needs a name before `=`");
                    }
                    ItemRef::SubProperty { text: trimmed }
                }
            }
        } else {
            if !self.in_section {
                return self.error(
                    number,
                    "a property must follow a section header such as `[default]`",
                );
            }
            let Some((key, value)) = split_at_equals(strip_inline_comment(raw)) else {
                return self.error(
                    number,
                    "expected a property (`name = value`) or a section header (`[name]`)",
                );
            };
            let key = trim_blanks(key);
            if key.is_empty() {
                return self.error(number, "a property needs a name before `=`");
            }
            let value = trim_blanks(value);
            self.context = if value.is_empty() {
                Context::SubProperties
            } else {
                Context::Continuable
            };
            ItemRef::Property { key, value }
        };
        Some(Ok(ScannedLine {
            number,
            raw,
            ending,
            item,
        }))
    }
}

pub fn parse(text: &str, path: &Path, kind: FileKind) -> Result<Document, ParseError> {
    let (bom, body) = split_bom(text);
    let mut lines = Vec::new();
    for scanned in Scanner::new(body, path, kind) {
        let scanned = scanned?;
        let text = if scanned.number == 1 {
            format!("{bom}{}", scanned.raw)
        } else {
            scanned.raw.to_string()
        };
        lines.push(Line {
            text,
            ending: scanned.ending,
            item: scanned.item.to_owned(),
        });
    }
    if lines.is_empty() && !bom.is_empty() {
        // A file that is only a byte-order mark still renders back as it was.
        lines.push(Line {
            text: bom.to_string(),
            ending: "",
            item: Item::Blank,
        });
    }
    Ok(Document {
        path: path.to_path_buf(),
        kind,
        lines,
    })
}

/// Parses a section header line (already trimmed). A comment may follow
/// the `]`, with or without whitespace before it.
fn parse_section(line: &str, kind: FileKind) -> Result<SectionRef<'_>, String> {
    let header = match line.find(['#', ';']) {
        Some(i) => &line[..i],
        None => line,
    }
    .trim_end_matches([' ', '\t']);
    let Some(inner) = header.strip_prefix('[').and_then(|h| h.strip_suffix(']')) else {
        // The line is not quoted: a missing line break may have joined a
        // secret to it.
        return Err("a section header must end with `]`".to_string());
    };
    let inner = trim_blanks(inner);
    // `[prefix name]`: the prefix is what comes before the first whitespace.
    let (prefix, name) = match inner.find([' ', '\t']) {
        Some(i) => (Some(&inner[..i]), trim_blanks(&inner[i..])),
        None => (None, inner),
    };
    let profile = |name, bare_default| {
        if is_valid_name(name) {
            Ok(SectionRef::Profile { name, bare_default })
        } else {
            Ok(SectionRef::Ignored {
                reason: format!("`{name}` is not a valid profile name"),
            })
        }
    };
    let ignored = |reason: String| Ok(SectionRef::Ignored { reason });
    match (kind, prefix) {
        (FileKind::Credentials, None) => profile(name, false),
        (FileKind::Credentials, Some(_)) => ignored(format!(
            "`[{inner}]` is not a profile section of a credentials file (write `[{name}]`)"
        )),
        (FileKind::Config, None) if name == "default" => profile(name, true),
        (FileKind::Config, None) => ignored(format!(
            "`[{inner}]` is not a profile section of a config file (write `[profile {inner}]`)"
        )),
        (FileKind::Config, Some("profile")) => profile(name, false),
        (FileKind::Config, Some("sso-session")) if is_valid_name(name) => {
            Ok(SectionRef::SsoSession { name })
        }
        (FileKind::Config, Some(other)) => {
            ignored(format!("`[{other} …]` sections are not profiles"))
        }
    }
}

impl Document {
    /// The file's text, rebuilt from its lines: equal to what was parsed.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for line in &self.lines {
            out.push_str(&line.text);
            out.push_str(line.ending);
        }
        out
    }
}
