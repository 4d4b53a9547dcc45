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
    /// A well-formed section that is not a profile (`[sso-session x]`,
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
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-/.%@_:+".contains(c))
}

/// Splits text into lines, keeping each line's ending.
fn split_lines(text: &str) -> impl Iterator<Item = (&str, &'static str)> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        match rest.find('\n') {
            Some(i) => {
                let (line, ending) = if i > 0 && rest.as_bytes()[i - 1] == b'\r' {
                    (&rest[..i - 1], "\r\n")
                } else {
                    (&rest[..i], "\n")
                };
                rest = &rest[i + 1..];
                Some((line, ending))
            }
            None => {
                let line = rest;
                rest = "";
                Some((line, ""))
            }
        }
    })
}

fn starts_with_whitespace(line: &str) -> bool {
    line.starts_with([' ', '\t'])
}

/// Cuts an inline comment: `#` or `;` that follows whitespace. A `#`
/// right after a value (`value#1`) is part of the value.
fn strip_inline_comment(value: &str) -> &str {
    let mut previous_is_space = false;
    for (i, c) in value.char_indices() {
        if (c == '#' || c == ';') && previous_is_space {
            return &value[..i];
        }
        previous_is_space = c == ' ' || c == '\t';
    }
    value
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

pub fn parse(text: &str, path: &Path, kind: FileKind) -> Result<Document, ParseError> {
    // A byte-order mark is not part of the first line.
    let (bom, body) = match text.strip_prefix('\u{feff}') {
        Some(rest) => ("\u{feff}", rest),
        None => ("", text),
    };
    let error = |line: usize, message: &str| ParseError {
        path: path.to_path_buf(),
        line,
        message: message.to_string(),
    };
    let mut lines = Vec::new();
    let mut in_section = false;
    let mut context = Context::None;
    for (index, (raw, ending)) in split_lines(body).enumerate() {
        let number = index + 1;
        let text = if index == 0 {
            format!("{bom}{raw}")
        } else {
            raw.to_string()
        };
        // Messages never quote a property line: it may hold a secret.
        let trimmed = raw.trim_matches([' ', '\t']);
        let item = if trimmed.is_empty() {
            Item::Blank
        } else if trimmed.starts_with(['#', ';']) {
            // Indented comments are comments too, as botocore reads them
            // (the Rust and Java SDKs would take them as continuation text).
            Item::Comment
        } else if raw.starts_with('[') {
            let section = parse_section(trimmed, kind).map_err(|m| error(number, &m))?;
            in_section = true;
            context = Context::None;
            Item::Section(section)
        } else if starts_with_whitespace(raw) {
            match context {
                Context::None if !in_section => {
                    return Err(error(
                        number,
                        "expected a section header such as `[default]` before this indented line",
                    ));
                }
                Context::None => {
                    return Err(error(
                        number,
                        "an indented line continues a property, but no property comes before it in this section",
                    ));
                }
                Context::Continuable => Item::Continuation {
                    text: trimmed.to_string(),
                },
                Context::SubProperties => {
                    let Some((key, _)) = strip_inline_comment(trimmed).split_once('=') else {
                        return Err(error(
                            number,
                            "expected a sub-property (`name = value`) on this indented line, under a property with an empty value",
                        ));
                    };
                    if key.trim().is_empty() {
                        return Err(error(number, "a sub-property needs a name before `=`"));
                    }
                    Item::SubProperty {
                        text: trimmed.to_string(),
                    }
                }
            }
        } else {
            if !in_section {
                return Err(error(
                    number,
                    "a property must follow a section header such as `[default]`",
                ));
            }
            let Some((key, value)) = strip_inline_comment(raw).split_once('=') else {
                return Err(error(
                    number,
                    "expected a property (`name = value`) or a section header (`[name]`)",
                ));
            };
            let key = key.trim_matches([' ', '\t']);
            if key.is_empty() {
                return Err(error(number, "a property needs a name before `=`"));
            }
            let value = value.trim_matches([' ', '\t']).to_string();
            context = if value.is_empty() {
                Context::SubProperties
            } else {
                Context::Continuable
            };
            Item::Property {
                key: key.to_ascii_lowercase(),
                value,
            }
        };
        lines.push(Line { text, ending, item });
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
fn parse_section(line: &str, kind: FileKind) -> Result<Section, String> {
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
    let inner = inner.trim_matches([' ', '\t']);
    // `[prefix name]`: the prefix is what comes before the first whitespace.
    let (prefix, name) = match inner.find([' ', '\t']) {
        Some(i) => (Some(&inner[..i]), inner[i..].trim_matches([' ', '\t'])),
        None => (None, inner),
    };
    let profile = |name: &str, bare_default: bool| {
        if is_valid_name(name) {
            Ok(Section::Profile {
                name: name.to_string(),
                bare_default,
            })
        } else {
            Ok(Section::Ignored {
                reason: format!("`{name}` is not a valid profile name"),
            })
        }
    };
    let ignored = |reason: String| Ok(Section::Ignored { reason });
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
