//! Lossless editing of profile files: the pure core of `mfa write` and
//! `mfa setup`.
//!
//! An edit changes only the lines of the profile it is about: a key that is
//! present is rewritten on its own line, a missing key is added to the
//! profile's last section, a missing section is appended at the end. Every
//! other line, comment, blank line, line ending and byte-order mark is kept
//! as it was. Nothing here reads or writes a file.
//!
//! Which sections belong to a profile follows the reading rules of
//! [`Profiles`]: in a config file `[profile NAME]` (and `[default]`, unless a
//! `[profile default]` exists, which then shadows every `[default]`), in a
//! credentials file `[NAME]`. Duplicate sections merge and the last value
//! wins, so a key is replaced where its last definition stands.

use std::collections::HashSet;
use std::fmt;

use super::document::{self, Document, FileKind, Item, Line, Section};
use super::profiles::Profiles;

/// Why an edit was refused. The messages name keys and profiles but never
/// quote a value: values may be secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EditError {
    /// The profile name has characters the SDKs reject.
    InvalidProfileName { profile: String },
    /// The property name has characters the SDKs reject.
    InvalidKey { key: String },
    /// The same key (compared without case) is given twice.
    DuplicateKey { key: String },
    /// The value cannot be written so that it reads back as given.
    InvalidValue { key: String, problem: ValueProblem },
    /// The edited text would not read back as intended: a bug, caught
    /// before anything is written.
    NotReadBack { key: Option<String> },
}

/// What is wrong with a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueProblem {
    /// A line break, tab or other control character.
    ControlCharacter,
    /// Whitespace at the start or the end (the reader trims it).
    SurroundingWhitespace,
    /// `#` or `;` first: after `key = ` it would start a comment.
    StartsWithComment,
    /// `#` or `;` after whitespace: the reader cuts it off as a comment.
    CommentAfterWhitespace,
}

const NAME_CHARACTERS: &str = "letters, digits and - / . % @ _ : +";

impl fmt::Display for EditError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EditError::InvalidProfileName { profile } => write!(
                f,
                "`{}` is not a valid profile name (use {NAME_CHARACTERS})",
                profile.escape_debug()
            ),
            EditError::InvalidKey { key } => write!(
                f,
                "`{}` is not a valid property name (use {NAME_CHARACTERS})",
                key.escape_debug()
            ),
            EditError::DuplicateKey { key } => {
                write!(f, "property `{}` is given twice", key.escape_debug())
            }
            EditError::InvalidValue { key, problem } => {
                let problem = match problem {
                    ValueProblem::ControlCharacter => {
                        "holds a line break or another control character"
                    }
                    ValueProblem::SurroundingWhitespace => "starts or ends with whitespace",
                    ValueProblem::StartsWithComment => {
                        "starts with `#` or `;`, which would make it a comment"
                    }
                    ValueProblem::CommentAfterWhitespace => {
                        "holds `#` or `;` after whitespace, which would start a comment"
                    }
                };
                write!(
                    f,
                    "the value for `{}` cannot be written: it {problem}",
                    key.escape_debug()
                )
            }
            EditError::NotReadBack { key: Some(key) } => write!(
                f,
                "the edited file would not read back `{}` as written (a bug in mfa); nothing was changed",
                key.escape_debug()
            ),
            EditError::NotReadBack { key: None } => {
                f.write_str("the edited file would not parse (a bug in mfa); nothing was changed")
            }
        }
    }
}

impl std::error::Error for EditError {}

/// Sets `properties` in `profile`: afterwards reading the document gives
/// exactly these values for these keys, and every line outside the
/// profile's sections is unchanged.
///
/// A key that is present is rewritten where its last definition stands
/// (keeping the key's spelling and an inline comment; its continuation and
/// sub-property lines, which belonged to the old value, are dropped). A
/// missing key is added after the last property line of the profile's last
/// section, before the blank and comment lines that end it. A missing
/// section is appended at the end of the file, after one blank line. New
/// lines use the file's line ending (that of its first line; LF for a file
/// without one).
pub fn set_properties(
    doc: &Document,
    profile: &str,
    properties: &[(&str, &str)],
) -> Result<Document, EditError> {
    if !document::is_valid_name(profile) {
        return Err(EditError::InvalidProfileName {
            profile: profile.to_string(),
        });
    }
    let mut seen = HashSet::new();
    for &(key, value) in properties {
        if !document::is_valid_name(key) {
            return Err(EditError::InvalidKey {
                key: key.to_string(),
            });
        }
        if !seen.insert(key.to_ascii_lowercase()) {
            return Err(EditError::DuplicateKey {
                key: key.to_string(),
            });
        }
        if let Some(problem) = value_problem(value) {
            return Err(EditError::InvalidValue {
                key: key.to_string(),
                problem,
            });
        }
    }

    let eol = line_ending(doc);
    let sections = profile_sections(doc, profile);
    let mut lines = match sections.last() {
        Some(&(last_start, last_end)) => {
            let mut replaced: Vec<(usize, String)> = Vec::new();
            let mut dropped: HashSet<usize> = HashSet::new();
            let mut missing: Vec<(&str, &str)> = Vec::new();
            for &(key, value) in properties {
                let lower = key.to_ascii_lowercase();
                let last_definition = sections
                    .iter()
                    .flat_map(|&(start, end)| (start + 1..end).map(move |i| (i, end)))
                    .rfind(|&(i, _)| is_property(&doc.lines[i], &lower));
                match last_definition {
                    Some((i, end)) => {
                        replaced.push((i, replacement(&doc.lines[i].text, &lower, value)));
                        dropped.extend(value_lines(doc, i, end));
                    }
                    None => missing.push((key, value)),
                }
            }
            // After the last property line (or its continuation) that stays.
            let anchor = (last_start + 1..last_end)
                .rev()
                .find(|i| {
                    !dropped.contains(i)
                        && matches!(
                            doc.lines[*i].item,
                            Item::Property { .. }
                                | Item::Continuation { .. }
                                | Item::SubProperty { .. }
                        )
                })
                .unwrap_or(last_start);
            let mut lines = Vec::with_capacity(doc.lines.len() + missing.len());
            for (i, line) in doc.lines.iter().enumerate() {
                if !dropped.contains(&i) {
                    match replaced.iter().find(|(r, _)| *r == i) {
                        Some((_, text)) => lines.push(Line {
                            text: text.clone(),
                            ending: line.ending,
                            item: line.item.clone(),
                        }),
                        None => lines.push(line.clone()),
                    }
                }
                if i == anchor {
                    lines.extend(
                        missing
                            .iter()
                            .map(|&(key, value)| property_line(key, value, eol)),
                    );
                }
            }
            lines
        }
        None => append_section(doc, profile, properties, eol),
    };
    // Only the old last line can lack an ending; a line now followed by
    // others gets one.
    let count = lines.len();
    for line in lines.iter_mut().take(count.saturating_sub(1)) {
        if line.ending.is_empty() {
            line.ending = eol;
        }
    }

    // Read the result back, as the next reader will: the document returned
    // is exactly what parsing the written file gives, and it holds the
    // values that were set.
    let text: String = lines
        .iter()
        .flat_map(|l| [l.text.as_str(), l.ending])
        .collect();
    let edited = document::parse(&text, &doc.path, doc.kind)
        .map_err(|_| EditError::NotReadBack { key: None })?;
    let read = section_properties(&edited, profile);
    for &(key, value) in properties {
        let lower = key.to_ascii_lowercase();
        if !read.iter().any(|(k, v)| *k == lower && v == value) {
            return Err(EditError::NotReadBack {
                key: Some(key.to_string()),
            });
        }
    }
    Ok(edited)
}

/// Removes `keys` (compared without case), with their continuation and
/// sub-property lines, from every section of `profile`. Nothing else
/// changes.
pub fn remove_properties(doc: &Document, profile: &str, keys: &[&str]) -> Document {
    let keys: Vec<String> = keys.iter().map(|k| k.to_ascii_lowercase()).collect();
    let mut dropped = HashSet::new();
    for (start, end) in profile_sections(doc, profile) {
        for i in start + 1..end {
            if keys.iter().any(|k| is_property(&doc.lines[i], k)) {
                dropped.insert(i);
                dropped.extend(value_lines(doc, i, end));
            }
        }
    }
    Document {
        path: doc.path.clone(),
        kind: doc.kind,
        lines: doc
            .lines
            .iter()
            .enumerate()
            .filter(|(i, _)| !dropped.contains(i))
            .map(|(_, line)| line.clone())
            .collect(),
    }
}

/// The properties of `profile` as this one document defines them (its
/// sections merged, the last value winning), as (lower-case key, value),
/// in the order the keys first appear.
pub fn section_properties(doc: &Document, profile: &str) -> Vec<(String, String)> {
    let profiles = match doc.kind {
        FileKind::Config => Profiles::from_documents(Some(doc), None),
        FileKind::Credentials => Profiles::from_documents(None, Some(doc)),
    };
    profiles
        .get(profile)
        .map(|p| {
            p.properties
                .iter()
                .map(|p| (p.key.to_string(), p.value.clone()))
                .collect()
        })
        .unwrap_or_default()
}

/// What keeps `value` from reading back as written after `key = `.
fn value_problem(value: &str) -> Option<ValueProblem> {
    if value.chars().any(char::is_control) {
        return Some(ValueProblem::ControlCharacter);
    }
    if value.starts_with(char::is_whitespace) || value.ends_with(char::is_whitespace) {
        return Some(ValueProblem::SurroundingWhitespace);
    }
    if value.starts_with(['#', ';']) {
        return Some(ValueProblem::StartsWithComment);
    }
    let mut previous_is_space = false;
    for c in value.chars() {
        if (c == '#' || c == ';') && previous_is_space {
            return Some(ValueProblem::CommentAfterWhitespace);
        }
        previous_is_space = c == ' ' || c == '\t';
    }
    None
}

/// The file's line ending: that of its first line that has one; LF for a
/// file without any.
fn line_ending(doc: &Document) -> &'static str {
    doc.lines
        .iter()
        .map(|l| l.ending)
        .find(|e| !e.is_empty())
        .unwrap_or("\n")
}

/// The sections that make up `profile` when the document is read, as
/// ranges of line indices: the header line to the line before the next
/// header (or the end).
fn profile_sections(doc: &Document, profile: &str) -> Vec<(usize, usize)> {
    // In a config file `[profile default]` shadows every `[default]`.
    let skip_bare_default = doc.kind == FileKind::Config
        && doc.lines.iter().any(|l| {
            matches!(&l.item, Item::Section(Section::Profile { name, bare_default: false }) if name == "default")
        });
    let mut sections = Vec::new();
    let mut open: Option<usize> = None;
    for (i, line) in doc.lines.iter().enumerate() {
        let Item::Section(section) = &line.item else {
            continue;
        };
        if let Some(start) = open.take() {
            sections.push((start, i));
        }
        if let Section::Profile { name, bare_default } = section
            && name == profile
            && !(*bare_default && skip_bare_default)
        {
            open = Some(i);
        }
    }
    if let Some(start) = open {
        sections.push((start, doc.lines.len()));
    }
    sections
}

fn is_property(line: &Line, lower_key: &str) -> bool {
    matches!(&line.item, Item::Property { key, .. } if key == lower_key)
}

/// The continuation and sub-property lines of the property at `index`:
/// every one up to the next property or the end of the section, across
/// blank and comment lines (which do not end a value).
fn value_lines(doc: &Document, index: usize, end: usize) -> impl Iterator<Item = usize> + '_ {
    (index + 1..end)
        .take_while(move |&i| !matches!(doc.lines[i].item, Item::Property { .. }))
        .filter(move |&i| {
            matches!(
                doc.lines[i].item,
                Item::Continuation { .. } | Item::SubProperty { .. }
            )
        })
}

/// The new text of a property line: the key as it was spelled, the new
/// value, and the line's inline comment if it had one.
fn replacement(text: &str, lower_key: &str, value: &str) -> String {
    let Some((key, after)) = text.split_once('=') else {
        return property_text(lower_key, value, "");
    };
    let key = key.trim_matches([' ', '\t']);
    // The inline comment, as the reader finds it: `#` or `;` after
    // whitespace; it is kept with the whitespace before it.
    let mut previous_is_space = false;
    let mut comment = "";
    for (i, c) in after.char_indices() {
        if (c == '#' || c == ';') && previous_is_space {
            let start = after[..i].trim_end_matches([' ', '\t']).len();
            comment = &after[start..];
            break;
        }
        previous_is_space = c == ' ' || c == '\t';
    }
    property_text(key, value, comment)
}

fn property_text(key: &str, value: &str, comment: &str) -> String {
    if value.is_empty() {
        if comment.is_empty() {
            format!("{key} =")
        } else {
            format!("{key} ={comment}")
        }
    } else {
        format!("{key} = {value}{comment}")
    }
}

fn property_line(key: &str, value: &str, ending: &'static str) -> Line {
    Line {
        text: property_text(key, value, ""),
        ending,
        item: Item::Property {
            key: key.to_ascii_lowercase(),
            value: value.to_string(),
        },
    }
}

/// The document with a new section for `profile` at its end.
fn append_section(
    doc: &Document,
    profile: &str,
    properties: &[(&str, &str)],
    eol: &'static str,
) -> Vec<Line> {
    let (header, bare_default) = match doc.kind {
        FileKind::Credentials => (format!("[{profile}]"), false),
        FileKind::Config if profile == "default" => ("[default]".to_string(), true),
        FileKind::Config => (format!("[profile {profile}]"), false),
    };
    let mut header_line = Line {
        text: header,
        ending: eol,
        item: Item::Section(Section::Profile {
            name: profile.to_string(),
            bare_default,
        }),
    };
    let mut lines = doc.lines.clone();
    match lines.as_mut_slice() {
        // A file of only a byte-order mark: the header follows the mark.
        [only] if only.text == "\u{feff}" && only.ending.is_empty() => {
            header_line.text.insert(0, '\u{feff}');
            lines.clear();
        }
        [.., last] => {
            if last.ending.is_empty() {
                last.ending = eol;
            }
            if last.item != Item::Blank {
                lines.push(Line {
                    text: String::new(),
                    ending: eol,
                    item: Item::Blank,
                });
            }
        }
        [] => {}
    }
    lines.push(header_line);
    lines.extend(
        properties
            .iter()
            .map(|&(key, value)| property_line(key, value, eol)),
    );
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn doc(text: &str, kind: FileKind) -> Document {
        let doc = document::parse(text, Path::new("/f"), kind).unwrap();
        assert_eq!(doc.render(), text);
        doc
    }

    fn set(text: &str, kind: FileKind, profile: &str, properties: &[(&str, &str)]) -> String {
        let edited = set_properties(&doc(text, kind), profile, properties).unwrap();
        let again = set_properties(&edited, profile, properties).unwrap();
        assert_eq!(again.render(), edited.render(), "not idempotent");
        edited.render()
    }

    fn creds(text: &str, profile: &str, properties: &[(&str, &str)]) -> String {
        set(text, FileKind::Credentials, profile, properties)
    }

    fn config(text: &str, profile: &str, properties: &[(&str, &str)]) -> String {
        set(text, FileKind::Config, profile, properties)
    }

    fn remove(text: &str, kind: FileKind, profile: &str, keys: &[&str]) -> String {
        remove_properties(&doc(text, kind), profile, keys).render()
    }

    fn error(text: &str, profile: &str, properties: &[(&str, &str)]) -> EditError {
        set_properties(&doc(text, FileKind::Credentials), profile, properties).unwrap_err()
    }

    #[test]
    fn present_key_is_replaced_on_its_own_line() {
        assert_eq!(
            creds("[a]\nx = 1\ny = 2\n[b]\nx = 3\n", "a", &[("x", "9")]),
            "[a]\nx = 9\ny = 2\n[b]\nx = 3\n"
        );
    }

    #[test]
    fn replaced_line_is_written_key_equals_value() {
        assert_eq!(creds("[a]\nx=1\n", "a", &[("x", "9")]), "[a]\nx = 9\n");
        assert_eq!(
            creds("[a]\nx  =\t1  \n", "a", &[("x", "9")]),
            "[a]\nx = 9\n"
        );
    }

    #[test]
    fn key_keeps_its_spelling_when_it_differs_in_case() {
        assert_eq!(
            creds(
                "[a]\nAWS_Access_Key_ID = old\n",
                "a",
                &[("aws_access_key_id", "new")]
            ),
            "[a]\nAWS_Access_Key_ID = new\n"
        );
        // And a key given in capitals matches a lower-case one.
        assert_eq!(
            creds("[a]\nregion = x\n", "a", &[("Region", "y")]),
            "[a]\nregion = y\n"
        );
    }

    #[test]
    fn new_key_is_written_as_given() {
        assert_eq!(
            creds("[a]\nx = 1\n", "a", &[("Region", "y")]),
            "[a]\nx = 1\nRegion = y\n"
        );
    }

    #[test]
    fn inline_comment_of_a_replaced_line_is_kept() {
        assert_eq!(
            creds(
                "[a]\nx = 1  # note\ny = 2 ;n\nz = # empty\n",
                "a",
                &[("x", "9"), ("y", ""), ("z", "3")]
            ),
            "[a]\nx = 9  # note\ny = ;n\nz = 3 # empty\n"
        );
        // `#` glued to the value is part of it, not a comment.
        assert_eq!(creds("[a]\nx = a#b\n", "a", &[("x", "c")]), "[a]\nx = c\n");
    }

    #[test]
    fn continuation_and_sub_property_lines_of_a_replaced_key_are_dropped() {
        assert_eq!(
            creds(
                "[a]\nx = 1\n  more\n# kept\n\n  still x\ny = 2\n  y's\n",
                "a",
                &[("x", "9")]
            ),
            "[a]\nx = 9\n# kept\n\ny = 2\n  y's\n"
        );
        assert_eq!(
            config(
                "[profile a]\ns3 =\n  max = 10\n  ; c\n  other = 2\nregion = r\n",
                "a",
                &[("s3", "flat")]
            ),
            "[profile a]\ns3 = flat\n  ; c\nregion = r\n"
        );
        // A value set to empty gets no sub-properties either.
        assert_eq!(
            config("[profile a]\ns3 =\n  max = 10\n", "a", &[("s3", "")]),
            "[profile a]\ns3 =\n"
        );
    }

    #[test]
    fn missing_key_goes_after_the_last_property_before_trailing_blank_and_comment_lines() {
        assert_eq!(
            creds(
                "[a]\nx = 1\n  more\n\n# about b\n[b]\ny = 2\n",
                "a",
                &[("z", "3")]
            ),
            "[a]\nx = 1\n  more\nz = 3\n\n# about b\n[b]\ny = 2\n"
        );
        // At the end of the file too.
        assert_eq!(
            creds("[a]\nx = 1\n\n# end\n", "a", &[("z", "3")]),
            "[a]\nx = 1\nz = 3\n\n# end\n"
        );
        // In a section without properties, right after the header.
        assert_eq!(
            creds("[a]\n# c\n\n[b]\n", "a", &[("z", "3"), ("w", "4")]),
            "[a]\nz = 3\nw = 4\n# c\n\n[b]\n"
        );
    }

    #[test]
    fn missing_key_follows_the_replaced_key_when_its_continuations_go() {
        assert_eq!(
            creds("[a]\nx = 1\n# c\n  more\n", "a", &[("x", "2"), ("y", "3")]),
            "[a]\nx = 2\ny = 3\n# c\n"
        );
    }

    #[test]
    fn duplicate_sections_change_where_the_last_definition_stands() {
        let text = "[a]\nx = 1\ny = 1\n\n[b]\nx = b\n\n[a]\nx = 2\nz = 1\n\n[c]\n";
        assert_eq!(
            creds(text, "a", &[("x", "9"), ("y", "8"), ("w", "7")]),
            "[a]\nx = 1\ny = 8\n\n[b]\nx = b\n\n[a]\nx = 9\nz = 1\nw = 7\n\n[c]\n"
        );
        // The same key twice in one section: the second one counts.
        assert_eq!(
            creds("[a]\nx = 1\nx = 2\n", "a", &[("x", "3")]),
            "[a]\nx = 1\nx = 3\n"
        );
    }

    #[test]
    fn config_sections_are_profile_name_and_default() {
        assert_eq!(
            config("[a]\n[profile a]\n", "a", &[("x", "1")]),
            "[a]\n[profile a]\nx = 1\n"
        );
        assert_eq!(
            config("[profile b]\n", "a", &[("x", "1")]),
            "[profile b]\n\n[profile a]\nx = 1\n"
        );
        assert_eq!(
            config("[profile b]\n", "default", &[("x", "1")]),
            "[profile b]\n\n[default]\nx = 1\n"
        );
        assert_eq!(
            config("[default]\ny = 2\n", "default", &[("x", "1")]),
            "[default]\ny = 2\nx = 1\n"
        );
    }

    #[test]
    fn profile_default_in_config_is_used_when_present_and_bare_default_is_left_alone() {
        let text = "[default]\nx = bare\n\n[profile default]\ny = 2\n";
        assert_eq!(
            config(text, "default", &[("x", "1")]),
            "[default]\nx = bare\n\n[profile default]\ny = 2\nx = 1\n"
        );
        assert_eq!(
            remove(text, FileKind::Config, "default", &["x", "y"]),
            "[default]\nx = bare\n\n[profile default]\n"
        );
    }

    #[test]
    fn credentials_sections_are_bare_names() {
        assert_eq!(
            creds("[profile a]\nx = 0\n", "a", &[("x", "1")]),
            "[profile a]\nx = 0\n\n[a]\nx = 1\n"
        );
        assert_eq!(
            creds("[ a ] # c\nx = 0\n", "a", &[("x", "1")]),
            "[ a ] # c\nx = 1\n"
        );
    }

    #[test]
    fn new_section_is_separated_by_one_blank_line() {
        assert_eq!(
            creds("[b]\ny = 2\n", "a", &[("x", "1")]),
            "[b]\ny = 2\n\n[a]\nx = 1\n"
        );
        assert_eq!(
            creds("[b]\ny = 2\n\n", "a", &[("x", "1")]),
            "[b]\ny = 2\n\n[a]\nx = 1\n"
        );
        assert_eq!(
            creds("# c\n \t", "a", &[("x", "1")]),
            "# c\n \t\n[a]\nx = 1\n"
        );
        assert_eq!(creds("# c", "a", &[("x", "1")]), "# c\n\n[a]\nx = 1\n");
    }

    #[test]
    fn new_section_in_an_empty_file() {
        assert_eq!(
            creds("", "a", &[("x", "1"), ("y", "2")]),
            "[a]\nx = 1\ny = 2\n"
        );
        assert_eq!(config("", "a", &[]), "[profile a]\n");
        assert_eq!(config("", "default", &[("x", "1")]), "[default]\nx = 1\n");
        assert_eq!(creds("\n", "a", &[("x", "1")]), "\n[a]\nx = 1\n");
    }

    #[test]
    fn file_without_final_newline() {
        assert_eq!(
            creds("[b]\ny = 2", "a", &[("x", "1")]),
            "[b]\ny = 2\n\n[a]\nx = 1\n"
        );
        assert_eq!(
            creds("[a]\ny = 2", "a", &[("x", "1")]),
            "[a]\ny = 2\nx = 1\n"
        );
        // A replaced last line keeps having no ending.
        assert_eq!(creds("[a]\nx = 2", "a", &[("x", "1")]), "[a]\nx = 1");
        assert_eq!(
            creds("[a]\nx = 2\n[b]\ny = 1", "a", &[("x", "1")]),
            "[a]\nx = 1\n[b]\ny = 1"
        );
    }

    #[test]
    fn last_line_ending_in_a_lone_carriage_return_becomes_a_crlf_line() {
        // The reader keeps a lone CR in the value (`1\r`); the LF that must
        // follow it before a new section makes it a CRLF ending, so the
        // value reads `1` afterwards. The only case where an edit changes
        // how a line outside the profile reads.
        assert_eq!(
            creds("[b]\ny = 1\r", "a", &[("x", "1")]),
            "[b]\ny = 1\r\n\n[a]\nx = 1\n"
        );
    }

    #[test]
    fn crlf_files_get_crlf_lines() {
        assert_eq!(
            creds("[a]\r\nx = 1\r\n", "a", &[("x", "2"), ("y", "3")]),
            "[a]\r\nx = 2\r\ny = 3\r\n"
        );
        assert_eq!(
            creds("[b]\r\ny = 1", "a", &[("x", "1")]),
            "[b]\r\ny = 1\r\n\r\n[a]\r\nx = 1\r\n"
        );
        // Decided by the first line ending; other lines keep their own.
        assert_eq!(
            creds("# c\r\n[a]\nx = 1\n", "a", &[("x", "2"), ("y", "3")]),
            "# c\r\n[a]\nx = 2\ny = 3\r\n"
        );
        assert_eq!(
            creds("# c\n[a]\r\nx = 1\r\n", "a", &[("y", "3")]),
            "# c\n[a]\r\nx = 1\r\ny = 3\n"
        );
    }

    #[test]
    fn byte_order_mark_stays_first() {
        assert_eq!(
            creds("\u{feff}[a]\r\nx = 1\r\n", "a", &[("x", "2")]),
            "\u{feff}[a]\r\nx = 2\r\n"
        );
        assert_eq!(
            creds("\u{feff}[b]\n", "a", &[("x", "2")]),
            "\u{feff}[b]\n\n[a]\nx = 2\n"
        );
        assert_eq!(
            creds("\u{feff}", "a", &[("x", "2")]),
            "\u{feff}[a]\nx = 2\n"
        );
        assert_eq!(
            creds("\u{feff}\n", "a", &[("x", "2")]),
            "\u{feff}\n[a]\nx = 2\n"
        );
        assert_eq!(
            creds("\u{feff}# c", "a", &[("x", "2")]),
            "\u{feff}# c\n\n[a]\nx = 2\n"
        );
    }

    #[test]
    fn comments_between_sections_stay_put() {
        let text = "# top\n[a]\n; a's\nx = 1\n# between\n\n[b]\n  # indented\ny = 2\n# end";
        assert_eq!(
            creds(text, "a", &[("x", "2"), ("z", "3")]),
            "# top\n[a]\n; a's\nx = 2\nz = 3\n# between\n\n[b]\n  # indented\ny = 2\n# end"
        );
        assert_eq!(
            creds(text, "b", &[("z", "3")]),
            "# top\n[a]\n; a's\nx = 1\n# between\n\n[b]\n  # indented\ny = 2\nz = 3\n# end"
        );
    }

    #[test]
    fn other_sections_are_never_touched() {
        let text = "[default]\nx = 1\n[sso-session s]\nx = 2\n[a]\n";
        assert_eq!(
            creds(text, "a", &[("x", "3")]),
            "[default]\nx = 1\n[sso-session s]\nx = 2\n[a]\nx = 3\n"
        );
        assert_eq!(
            remove(text, FileKind::Credentials, "a", &["x"]),
            text,
            "nothing of another profile is removed"
        );
    }

    #[test]
    fn remove_takes_the_key_from_every_section_with_its_value_lines() {
        let text =
            "[a]\nx = 1\n  more\n# c\ny = 2\n[b]\nx = 3\n[a]\nX = 4\ns3 =\n  m = 1\n\n  n = 2\n";
        assert_eq!(
            remove(text, FileKind::Credentials, "a", &["x", "s3"]),
            "[a]\n# c\ny = 2\n[b]\nx = 3\n[a]\n\n"
        );
        assert_eq!(remove(text, FileKind::Credentials, "a", &["zz"]), text);
        assert_eq!(remove(text, FileKind::Credentials, "zz", &["x"]), text);
    }

    #[test]
    fn section_properties_merge_the_profile_within_the_document() {
        let d = doc(
            "[a]\nx = 1\ny = 2\n[b]\nx = 0\n[a]\nX = 3\n",
            FileKind::Credentials,
        );
        assert_eq!(
            section_properties(&d, "a"),
            [
                ("x".to_string(), "3".to_string()),
                ("y".to_string(), "2".to_string())
            ]
        );
        assert!(section_properties(&d, "c").is_empty());
    }

    #[test]
    fn invalid_names_are_refused() {
        assert_eq!(
            error("", "a b", &[("x", "1")]),
            EditError::InvalidProfileName {
                profile: "a b".into()
            }
        );
        assert_eq!(
            error("", "", &[]),
            EditError::InvalidProfileName { profile: "".into() }
        );
        assert_eq!(
            error("", "a", &[("x y", "1")]),
            EditError::InvalidKey { key: "x y".into() }
        );
        assert_eq!(
            error("", "a", &[("", "1")]),
            EditError::InvalidKey { key: "".into() }
        );
        assert_eq!(
            error("", "a", &[("x", "1"), ("X", "2")]),
            EditError::DuplicateKey { key: "X".into() }
        );
    }

    #[test]
    fn values_that_would_not_read_back_are_refused() {
        let cases = [
            ("a\nb", ValueProblem::ControlCharacter),
            ("a\r", ValueProblem::ControlCharacter),
            ("a\tb", ValueProblem::ControlCharacter),
            (" a", ValueProblem::SurroundingWhitespace),
            ("a ", ValueProblem::SurroundingWhitespace),
            ("a\u{a0}", ValueProblem::SurroundingWhitespace),
            ("#a", ValueProblem::StartsWithComment),
            (";a", ValueProblem::StartsWithComment),
            ("a #b", ValueProblem::CommentAfterWhitespace),
            ("a ;b", ValueProblem::CommentAfterWhitespace),
        ];
        for (value, problem) in cases {
            assert_eq!(
                error("[a]\n", "a", &[("x", value)]),
                EditError::InvalidValue {
                    key: "x".into(),
                    problem
                },
                "{value:?}"
            );
        }
        // These read back as written.
        for value in ["a#b", "a;b", "a = b", "a b", "", "[x]", "\"q\"", "😂"] {
            assert_eq!(
                creds("[a]\n", "a", &[("x", value)]).lines().nth(1),
                Some(format!("x = {value}").trim_end())
            );
        }
    }

    #[test]
    fn messages_never_quote_a_value() {
        const SECRET: &str = "wJalrXUtnFEMI/K7MDENG";
        for value in [
            format!("{SECRET} #x"),
            format!(" {SECRET}"),
            format!("{SECRET}\n"),
        ] {
            let e = error("[a]\n", "a", &[("aws_secret_access_key", &value)]);
            let message = e.to_string();
            assert!(!message.contains("wJalrX"), "{message}");
            assert!(message.contains("aws_secret_access_key"), "{message}");
        }
    }

    #[test]
    fn returned_document_is_what_reading_the_file_gives() {
        let edited = set_properties(
            &doc("[b]\r\ny = 1", FileKind::Config),
            "a",
            &[("x", "1"), ("s3", "")],
        )
        .unwrap();
        let reparsed = document::parse(&edited.render(), &edited.path, edited.kind).unwrap();
        assert_eq!(edited, reparsed);
    }
}
