//! Lossless editing of the profile files, over generated files.
//!
//! The files are made of random comments (`#`, `;`, indented), blank lines
//! of spaces and tabs, trailing whitespace, sections (several profiles,
//! duplicates, `[default]` and `[profile default]`, sections that are not
//! profiles), properties with inline comments, continuation lines and
//! sub-properties, LF or CRLF per line, with or without a final newline
//! and a byte-order mark, read as a config and as a credentials file. For
//! random profiles (present or new) and random keys and values, an edit
//! must:
//!
//! 1. give a document that is exactly what parsing its text gives;
//! 2. make the profile read back with exactly the values set (its other
//!    keys and every other profile reading as before);
//! 3. change nothing but that profile's lines: the output is the original,
//!    section by section, where a section of another profile (and the
//!    lines before the first section) is unchanged line for line, a section
//!    of the profile is unchanged once the lines of the edited keys (their
//!    `key = value` lines and the indented lines that continue them) are
//!    left out of both, and at most one section is added at the end (after
//!    one blank line, and a line ending on a last line that had none);
//! 4. be idempotent;
//! 5. for removal: leave none of the keys, and change nothing else.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::path::Path;

use mfa::config::Profiles;
use mfa::config::document::{Document, FileKind, Item, Line, Section, parse};
use mfa::config::edit::{EditError, remove_properties, section_properties, set_properties};
use proptest::prelude::*;

const BOM: char = '\u{feff}';

fn path_of(kind: FileKind) -> &'static Path {
    match kind {
        FileKind::Config => Path::new("/home/u/.aws/config"),
        FileKind::Credentials => Path::new("/home/u/.aws/credentials"),
    }
}

fn document(text: &str, kind: FileKind) -> Document {
    let doc = parse(text, path_of(kind), kind).unwrap_or_else(|e| panic!("{text:?}: {e}"));
    assert_eq!(doc.render(), text);
    doc
}

// ---------------------------------------------------------------------------
// Generated files
// ---------------------------------------------------------------------------

#[derive(Debug, Clone)]
enum Token {
    /// A blank or comment line.
    Trivia(String),
    /// `key = value` as written; `empty` when its value reads as empty.
    Property { text: String, empty: bool },
    /// An indented line: a continuation after a property with a value, a
    /// sub-property after one without, left out where neither can be.
    Indented {
        indent: &'static str,
        continuation: &'static str,
        sub_property: &'static str,
    },
}

fn trivia() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec!["", " ", "\t", "  \t "]).prop_map(String::from),
        (
            prop::sample::select(vec!["", " ", "\t", "   "]),
            prop::sample::select(vec!["#", ";"]),
            prop::sample::select(vec![
                "",
                " comment",
                " [profile a]",
                " key = value # c",
                "#;",
                " trailing  ",
            ]),
        )
            .prop_map(|(indent, mark, text)| format!("{indent}{mark}{text}")),
    ]
}

const FILE_KEYS: &[&str] = &[
    "region",
    "Region",
    "REGION",
    "output",
    "aws_access_key_id",
    "AWS_Session_Token",
    "s3",
    "x",
    "mfa_serial",
    "in valid",
];

fn property() -> impl Strategy<Value = Token> {
    (
        prop::sample::select(FILE_KEYS.to_vec()),
        prop::sample::select(vec!["=", " = ", "  =\t", "= ", " ="]),
        prop::sample::select(vec![
            "",
            "v1",
            "us-east-1",
            "a#b",
            "a=b",
            "AKIA/+=",
            "😂",
            "a b",
            "[x]",
        ]),
        prop::sample::select(vec!["", " # c", "\t; c", "  #", " ;"]),
        prop::sample::select(vec!["", " ", "\t "]),
    )
        .prop_map(|(key, sep, value, comment, trailing)| Token::Property {
            text: format!("{key}{sep}{value}{comment}{trailing}"),
            empty: value.is_empty(),
        })
}

fn indented() -> impl Strategy<Value = Token> {
    (
        prop::sample::select(vec![" ", "  ", "\t", " \t"]),
        prop::sample::select(vec!["more", "-x # y", "[profile a]", "= z ", "a = b"]),
        prop::sample::select(vec!["max = 10", "foo=bar # c", "a = ", "b=😂"]),
    )
        .prop_map(|(indent, continuation, sub_property)| Token::Indented {
            indent,
            continuation,
            sub_property,
        })
}

fn token() -> impl Strategy<Value = Token> {
    prop_oneof![
        3 => trivia().prop_map(Token::Trivia),
        4 => property(),
        2 => indented(),
    ]
}

/// Headers of a config file: mostly profiles of a few names, so that
/// edits often meet the profile, duplicates and both spellings of the
/// default profile; and sections that are not profiles in this file.
const CONFIG_HEADERS: &[&str] = &[
    "[default]",
    "[default]",
    "[ default ] ;c",
    "[profile default]",
    "[profile a]",
    "[profile a]",
    "[ profile  a ] # c",
    "[profile\ta];c",
    "[profile b]",
    "[profile b]",
    "[a]",
    "[sso-session x]",
    "[services s]",
    "[profile in valid]",
];

/// Headers of a credentials file, likewise.
const CREDENTIALS_HEADERS: &[&str] = &[
    "[default]",
    "[default]",
    "[ default ]",
    "[a]",
    "[a]",
    "[ a ] # c",
    "[a];c",
    "[b]",
    "[b]",
    "[profile a]",
    "[profile default]",
    "[sso-session x]",
    "[in valid]",
];

#[derive(Debug, Clone)]
struct File {
    credentials: bool,
    preamble: Vec<String>,
    sections: Vec<(&'static str, &'static str, Vec<Token>)>,
    crlf: Vec<bool>,
    final_newline: bool,
    bom: bool,
}

impl File {
    fn kind(&self) -> FileKind {
        if self.credentials {
            FileKind::Credentials
        } else {
            FileKind::Config
        }
    }

    fn text(&self) -> String {
        let mut lines: Vec<String> = self.preamble.clone();
        for (header, trailing, tokens) in &self.sections {
            lines.push(format!("{header}{trailing}"));
            // None: no property yet; Some(empty): after a property.
            let mut after: Option<bool> = None;
            for token in tokens {
                match token {
                    Token::Trivia(text) => lines.push(text.clone()),
                    Token::Property { text, empty } => {
                        lines.push(text.clone());
                        after = Some(*empty);
                    }
                    Token::Indented {
                        indent,
                        continuation,
                        sub_property,
                    } => match after {
                        None => {}
                        Some(false) => lines.push(format!("{indent}{continuation}")),
                        Some(true) => lines.push(format!("{indent}{sub_property}")),
                    },
                }
            }
        }
        let mut text = String::new();
        if self.bom {
            text.push(BOM);
        }
        let count = lines.len();
        for (i, line) in lines.iter().enumerate() {
            text.push_str(line);
            if i + 1 < count || self.final_newline {
                text.push_str(if self.crlf[i % self.crlf.len()] {
                    "\r\n"
                } else {
                    "\n"
                });
            }
        }
        text
    }

    fn document(&self) -> Document {
        document(&self.text(), self.kind())
    }
}

fn file() -> impl Strategy<Value = File> {
    any::<bool>().prop_flat_map(|credentials| {
        let headers = if credentials {
            CREDENTIALS_HEADERS
        } else {
            CONFIG_HEADERS
        };
        (
            prop::collection::vec(trivia(), 0..3),
            prop::collection::vec(
                (
                    prop::sample::select(headers.to_vec()),
                    prop::sample::select(vec!["", " ", "\t"]),
                    prop::collection::vec(token(), 0..7),
                ),
                0..7,
            ),
            prop::collection::vec(any::<bool>(), 1..8),
            any::<bool>(),
            any::<bool>(),
        )
            .prop_map(move |(preamble, sections, crlf, final_newline, bom)| File {
                credentials,
                preamble,
                sections,
                crlf,
                final_newline,
                bom,
            })
    })
}

/// Target profiles: mostly ones the files have, and new ones.
const PROFILES: &[&str] = &["default", "default", "a", "a", "b", "new", "x.y@z"];
const EDIT_KEYS: &[&str] = &[
    "region",
    "Region",
    "output",
    "aws_access_key_id",
    "aws_session_token",
    "s3",
    "x",
    "mfa_serial",
];
const EDIT_VALUES: &[&str] = &[
    "v2",
    "us-west-2",
    "",
    "a#b",
    "x=y",
    "😂 z",
    "tok/+=",
    "a;b",
    "[profile a]",
];

/// Keys and values to set: no key twice (compared without case).
fn edits() -> impl Strategy<Value = Vec<(&'static str, &'static str)>> {
    prop::collection::vec(
        (
            prop::sample::select(EDIT_KEYS.to_vec()),
            prop::sample::select(EDIT_VALUES.to_vec()),
        ),
        0..5,
    )
    .prop_map(|pairs| {
        let mut seen = BTreeSet::new();
        pairs
            .into_iter()
            .filter(|(k, _)| seen.insert(k.to_ascii_lowercase()))
            .collect()
    })
}

// ---------------------------------------------------------------------------
// What an edit may change
// ---------------------------------------------------------------------------

type Merged = BTreeMap<String, BTreeMap<String, String>>;

/// Every profile of the document, merged, as name → key → value.
fn merged(doc: &Document) -> Merged {
    let profiles = match doc.kind {
        FileKind::Config => Profiles::from_documents(Some(doc), None),
        FileKind::Credentials => Profiles::from_documents(None, Some(doc)),
    };
    profiles
        .list
        .iter()
        .map(|p| {
            let properties = p
                .properties
                .iter()
                .map(|p| (p.key.to_string(), p.value.clone()))
                .collect();
            (p.name.clone(), properties)
        })
        .collect()
}

/// The lines before the first header, then each section from its header on.
fn chunks(lines: &[Line]) -> Vec<Range<usize>> {
    let mut starts = vec![0];
    starts.extend(
        lines
            .iter()
            .enumerate()
            .filter(|(i, l)| *i > 0 && matches!(l.item, Item::Section(_)))
            .map(|(i, _)| i),
    );
    if matches!(lines.first().map(|l| &l.item), Some(Item::Section(_))) {
        // The first line is a header: the lines before it are none.
        starts.insert(1, 0);
    }
    let mut ends: Vec<usize> = starts[1..].to_vec();
    ends.push(lines.len());
    starts.into_iter().zip(ends).map(|(s, e)| s..e).collect()
}

/// Whether the section starting at this line is one the profile is read from.
fn is_section_of(lines: &[Line], kind: FileKind, start: usize, profile: &str) -> bool {
    let prefixed_default = kind == FileKind::Config
        && lines.iter().any(|l| {
            matches!(&l.item, Item::Section(Section::Profile { name, bare_default: false }) if name == "default")
        });
    matches!(
        &lines[start].item,
        Item::Section(Section::Profile { name, bare_default })
            if name == profile && !(*bare_default && prefixed_default)
    )
}

/// The lines of a section that are neither a property among `keys` nor
/// an indented line continuing one.
fn untouched(lines: &[Line], range: Range<usize>, keys: &BTreeSet<String>) -> Vec<usize> {
    let mut dropping = false;
    range
        .filter(|&i| match &lines[i].item {
            Item::Property { key, .. } => {
                dropping = keys.contains(key);
                !dropping
            }
            Item::Continuation { .. } | Item::SubProperty { .. } => !dropping,
            _ => true,
        })
        .collect()
}

/// The lines without the byte-order mark, and whether there was one. A
/// file of only the mark has no lines.
fn without_bom(doc: &Document) -> (Vec<Line>, bool) {
    let mut lines = doc.lines.clone();
    let mut bom = false;
    if let Some(first) = lines.first_mut()
        && let Some(rest) = first.text.strip_prefix(BOM)
    {
        first.text = rest.to_string();
        bom = true;
    }
    if let [only] = lines.as_slice()
        && only.text.is_empty()
        && only.ending.is_empty()
    {
        lines.clear();
    }
    (lines, bom)
}

/// Checks statement 3 (see the top of the file). `added` gives the lines
/// a new section must consist of, when one may be added.
fn only_the_profile_changed(
    old: &Document,
    new: &Document,
    profile: &str,
    keys: &BTreeSet<String>,
    added: Option<&[String]>,
) -> Result<(), TestCaseError> {
    let (old_lines, old_bom) = without_bom(old);
    let (new_lines, new_bom) = without_bom(new);
    prop_assert_eq!(old_bom, new_bom, "the byte-order mark is kept");
    let old_chunks = chunks(&old_lines);
    let new_chunks = chunks(&new_lines);
    let last = old_lines.len().checked_sub(1);
    // A line is unchanged; only the last line of the file may gain an ending.
    let same = |o: usize, n: usize| {
        let (a, b) = (&old_lines[o], &new_lines[n]);
        a.text == b.text && (a.ending == b.ending || (Some(o) == last && a.ending.is_empty()))
    };
    let had_section = (1..old_chunks.len())
        .any(|c| is_section_of(&old_lines, old.kind, old_chunks[c].start, profile));
    let appended = match added {
        Some(_) if !had_section => {
            prop_assert_eq!(
                new_chunks.len(),
                old_chunks.len() + 1,
                "one section is added"
            );
            true
        }
        _ => {
            prop_assert_eq!(
                new_chunks.len(),
                old_chunks.len(),
                "no section added or removed"
            );
            false
        }
    };
    for (c, (o, n)) in old_chunks.iter().zip(&new_chunks).enumerate() {
        let target = c > 0 && is_section_of(&old_lines, old.kind, o.start, profile);
        let (o_kept, n_kept): (Vec<usize>, Vec<usize>) = if target {
            (
                untouched(&old_lines, o.clone(), keys),
                untouched(&new_lines, n.clone(), keys),
            )
        } else {
            let mut n_kept: Vec<usize> = n.clone().collect();
            // An added section follows one blank line: the file's last
            // line, or a new one.
            if appended
                && c + 1 == old_chunks.len()
                && old_lines.last().is_some_and(|l| l.item != Item::Blank)
            {
                let blank = n_kept.pop();
                prop_assert!(
                    blank.is_some_and(|i| new_lines[i].text.is_empty()),
                    "no blank line before the new section: {:?}",
                    new.render()
                );
            }
            (o.clone().collect(), n_kept)
        };
        prop_assert_eq!(
            o_kept.len(),
            n_kept.len(),
            "section {} ({}): lines added or removed\nold: {:?}\nnew: {:?}",
            c,
            if target { "edited" } else { "not edited" },
            &old_lines[o.clone()],
            &new_lines[n.clone()]
        );
        for (&a, &b) in o_kept.iter().zip(&n_kept) {
            prop_assert!(
                same(a, b),
                "section {}: line {:?} became {:?}",
                c,
                old_lines[a],
                new_lines[b]
            );
        }
    }
    // A file with one line ending keeps it, in new lines too.
    let endings: BTreeSet<&str> = old_lines
        .iter()
        .map(|l| l.ending)
        .filter(|e| !e.is_empty())
        .collect();
    if endings.len() <= 1 {
        let eol = endings.first().copied().unwrap_or("\n");
        prop_assert!(
            new_lines
                .iter()
                .all(|l| l.ending.is_empty() || l.ending == eol),
            "{:?} in a file of {:?} endings",
            new.render(),
            eol
        );
    }
    if appended && let (Some(added), Some(range)) = (added, new_chunks.last()) {
        let texts: Vec<&str> = new_lines[range.clone()]
            .iter()
            .map(|l| l.text.as_str())
            .collect();
        prop_assert_eq!(texts, added.iter().map(String::as_str).collect::<Vec<_>>());
        let eol = old_lines
            .iter()
            .map(|l| l.ending)
            .find(|e| !e.is_empty())
            .unwrap_or("\n");
        prop_assert!(new_lines[range.clone()].iter().all(|l| l.ending == eol));
    }
    Ok(())
}

/// The section a new profile gets.
fn new_section(kind: FileKind, profile: &str, properties: &[(&str, &str)]) -> Vec<String> {
    let header = match kind {
        FileKind::Credentials => format!("[{profile}]"),
        FileKind::Config if profile == "default" => "[default]".to_string(),
        FileKind::Config => format!("[profile {profile}]"),
    };
    std::iter::once(header)
        .chain(properties.iter().map(|(k, v)| {
            if v.is_empty() {
                format!("{k} =")
            } else {
                format!("{k} = {v}")
            }
        }))
        .collect()
}

/// Statement 1: the document is what parsing its text gives.
fn reads_as_itself(doc: &Document) -> Result<(), TestCaseError> {
    let text = doc.render();
    match parse(&text, &doc.path, doc.kind) {
        Ok(reparsed) => prop_assert_eq!(&reparsed, doc),
        Err(e) => prop_assert!(false, "{:?} does not parse: {}", text, e),
    }
    Ok(())
}

fn lower_keys<'a>(keys: impl IntoIterator<Item = &'a str>) -> BTreeSet<String> {
    keys.into_iter().map(|k| k.to_ascii_lowercase()).collect()
}

/// Whether a value can be written so that it reads back as given: one line
/// without control characters, no surrounding whitespace, nothing the
/// reader takes for a comment.
fn writable(value: &str) -> bool {
    !value.chars().any(char::is_control)
        && value.trim() == value
        && !value.starts_with(['#', ';'])
        && !value.contains(" #")
        && !value.contains(" ;")
}

proptest! {
    // 256 cases each (proptest's default; PROPTEST_CASES changes it).

    #[test]
    fn set_changes_only_the_profile_and_reads_back(
        file in file(),
        profile in prop::sample::select(PROFILES.to_vec()),
        properties in edits(),
    ) {
        let old = file.document();
        let new = set_properties(&old, profile, &properties)
            .map_err(|e| TestCaseError::fail(format!("refused: {e}")))?;
        // 1
        reads_as_itself(&new)?;
        // 2
        let before = merged(&old);
        let after = merged(&new);
        let mut expected = before.clone();
        let target = expected.entry(profile.to_string()).or_default();
        for (key, value) in &properties {
            target.insert(key.to_ascii_lowercase(), value.to_string());
        }
        prop_assert_eq!(&after, &expected);
        let read: BTreeMap<String, String> = section_properties(&new, profile).into_iter().collect();
        prop_assert_eq!(&read, &expected[profile]);
        // 3
        let keys = lower_keys(properties.iter().map(|(k, _)| *k));
        let added = new_section(old.kind, profile, &properties);
        only_the_profile_changed(&old, &new, profile, &keys, Some(&added))?;
        // 4
        let again = set_properties(&new, profile, &properties)
            .map_err(|e| TestCaseError::fail(format!("refused the second time: {e}")))?;
        prop_assert_eq!(again.render(), new.render());
    }

    #[test]
    fn remove_takes_only_the_keys_of_the_profile(
        file in file(),
        profile in prop::sample::select(PROFILES.to_vec()),
        keys in prop::collection::vec(prop::sample::select(EDIT_KEYS.to_vec()), 0..4),
    ) {
        let old = file.document();
        let new = remove_properties(&old, profile, &keys);
        reads_as_itself(&new)?;
        let lower = lower_keys(keys.iter().copied());
        let mut expected = merged(&old);
        if let Some(target) = expected.get_mut(profile) {
            target.retain(|k, _| !lower.contains(k));
        }
        prop_assert_eq!(merged(&new), expected);
        only_the_profile_changed(&old, &new, profile, &lower, None)?;
        prop_assert_eq!(remove_properties(&new, profile, &keys).render(), new.render());
    }

    #[test]
    fn set_then_remove_leaves_none_of_the_keys(
        file in file(),
        profile in prop::sample::select(PROFILES.to_vec()),
        properties in edits(),
    ) {
        let old = file.document();
        let set = set_properties(&old, profile, &properties)
            .map_err(|e| TestCaseError::fail(format!("refused: {e}")))?;
        let keys: Vec<&str> = properties.iter().map(|(k, _)| *k).collect();
        let removed = remove_properties(&set, profile, &keys);
        let lower = lower_keys(keys.iter().copied());
        let read = section_properties(&removed, profile);
        prop_assert!(read.iter().all(|(k, _)| !lower.contains(k)), "{:?}", read);
        let mut expected = merged(&old);
        expected.entry(profile.to_string()).or_default();
        for (name, properties) in expected.iter_mut() {
            if name == profile {
                properties.retain(|k, _| !lower.contains(k));
            }
        }
        prop_assert_eq!(merged(&removed), expected);
    }

    #[test]
    fn any_value_is_either_refused_or_read_back_exactly(
        file in file(),
        profile in prop::sample::select(PROFILES.to_vec()),
        key in prop::sample::select(EDIT_KEYS.to_vec()),
        value in "[a #;=\\t\\r\\n\u{a0}😂\\[\\]]{0,6}",
    ) {
        let old = file.document();
        match set_properties(&old, profile, &[(key, value.as_str())]) {
            Ok(new) => {
                prop_assert!(writable(&value), "{:?} was written", value);
                reads_as_itself(&new)?;
                let read = section_properties(&new, profile);
                let lower = key.to_ascii_lowercase();
                prop_assert_eq!(
                    read.iter().find(|(k, _)| *k == lower).map(|(_, v)| v.as_str()),
                    Some(value.as_str())
                );
            }
            Err(e) => {
                prop_assert!(!writable(&value), "{:?} was refused: {}", value, e);
                prop_assert!(matches!(e, EditError::InvalidValue { .. }), "{:?}", e);
            }
        }
    }
}

// ---------------------------------------------------------------------------
// The known failures of other tools
// ---------------------------------------------------------------------------

const CREDENTIALS: &str = "\
# Personal AWS keys. Rotate every 90 days!
; managed by hand

[default]
# long-term keys of the IAM user
aws_access_key_id = AKIAIOSFODNN7EXAMPLE
aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY   ; do not share

[work]   # the other account
aws_access_key_id=AKIAWORKEXAMPLE
aws_secret_access_key=workSECRET
  # indented comment
region = eu-west-1

; trailing comment at the end";

const SESSION: &[(&str, &str)] = &[
    ("aws_access_key_id", "ASIATEMPORARY"),
    ("aws_secret_access_key", "tempSECRET/+="),
    ("aws_session_token", "FwoGZXIvYXdzEBYaDEXAMPLETOKEN=="),
    ("x_security_token_expires", "2025-01-01T12:00:00Z"),
];

#[test]
fn writing_a_session_keeps_every_comment_section_and_default() {
    let old = document(CREDENTIALS, FileKind::Credentials);
    let new = set_properties(&old, "default-mfa", SESSION).unwrap();
    let text = new.render();
    // Everything that was there is still there, as it was, first.
    assert_eq!(
        text,
        format!(
            "{CREDENTIALS}\n\n[default-mfa]\n\
             aws_access_key_id = ASIATEMPORARY\n\
             aws_secret_access_key = tempSECRET/+=\n\
             aws_session_token = FwoGZXIvYXdzEBYaDEXAMPLETOKEN==\n\
             x_security_token_expires = 2025-01-01T12:00:00Z\n"
        )
    );
    // Writing again replaces the section in place.
    let renewed: Vec<(&str, &str)> = SESSION
        .iter()
        .map(|&(k, v)| {
            (
                k,
                if k == "aws_session_token" {
                    "NEWTOKEN"
                } else {
                    v
                },
            )
        })
        .collect();
    let again = set_properties(&new, "default-mfa", &renewed).unwrap();
    assert_eq!(
        again.render(),
        text.replace("FwoGZXIvYXdzEBYaDEXAMPLETOKEN==", "NEWTOKEN")
    );
    let profiles = Profiles::from_documents(None, Some(&again));
    assert_eq!(
        profiles.names().collect::<Vec<_>>(),
        ["default", "work", "default-mfa"]
    );
    assert_eq!(
        profiles.get("default").unwrap().get("aws_access_key_id"),
        Some("AKIAIOSFODNN7EXAMPLE")
    );
}

#[test]
fn editing_one_profile_keeps_comments_inside_it() {
    let old = document(CREDENTIALS, FileKind::Credentials);
    let new = set_properties(&old, "work", &[("region", "us-east-1"), ("output", "json")]).unwrap();
    assert_eq!(
        new.render(),
        CREDENTIALS.replace(
            "region = eu-west-1\n",
            "region = us-east-1\noutput = json\n"
        )
    );
}

#[test]
fn default_is_never_dropped() {
    let old = document(CREDENTIALS, FileKind::Credentials);
    for profile in ["work", "default-mfa", "new"] {
        let set = set_properties(&old, profile, SESSION).unwrap();
        let removed = remove_properties(&set, profile, &["aws_access_key_id"]);
        for doc in [&set, &removed] {
            let text = doc.render();
            assert!(
                text.contains(
                    "[default]\n# long-term keys of the IAM user\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n"
                ),
                "{text}"
            );
        }
    }
    // Nor in a config file, either way it is spelled.
    for config in [
        "[default]\nregion = eu-west-1\n",
        "[profile default]\nregion = eu-west-1\n",
    ] {
        let old = document(config, FileKind::Config);
        let new =
            set_properties(&old, "default", &[("mfa_serial", "arn:aws:iam::1:mfa/u")]).unwrap();
        assert_eq!(
            new.render(),
            format!("{config}mfa_serial = arn:aws:iam::1:mfa/u\n")
        );
        let other = set_properties(&old, "dev", &[("region", "x")]).unwrap();
        assert_eq!(
            other.render(),
            format!("{config}\n[profile dev]\nregion = x\n")
        );
    }
}

#[test]
fn sections_not_edited_are_never_deleted() {
    let config = "\
[profile dev]
region = eu-west-1
[sso-session corp]
sso_start_url = https://x.awsapps.com/start
[services local]
s3 =
  endpoint_url = http://localhost:9000
[profile dev]
output = json
";
    let old = document(config, FileKind::Config);
    let new = set_properties(&old, "dev", &[("region", "us-east-1"), ("mfa_serial", "m")]).unwrap();
    assert_eq!(
        new.render(),
        config
            .replace("region = eu-west-1", "region = us-east-1")
            .replace("output = json\n", "output = json\nmfa_serial = m\n")
    );
    let removed = remove_properties(&old, "dev", &["region", "output", "s3"]);
    assert_eq!(
        removed.render(),
        config
            .replace("region = eu-west-1\n", "")
            .replace("output = json\n", "")
    );
}

#[test]
fn generated_file_check_accepts_a_known_edit_and_rejects_a_foreign_change() {
    // The checker itself: a change outside the profile is caught.
    let old = document("[a]\nx = 1\n# c\n[b]\ny = 2\n", FileKind::Credentials);
    let keys = lower_keys(["x"]);
    let good = set_properties(&old, "a", &[("x", "2")]).unwrap();
    assert!(only_the_profile_changed(&old, &good, "a", &keys, Some(&[][..])).is_ok());
    let bad = document("[a]\nx = 2\n[b]\ny = 2\n", FileKind::Credentials);
    assert!(only_the_profile_changed(&old, &bad, "a", &keys, Some(&[][..])).is_err());
    let bad = document("[a]\nx = 2\n# c\n[b]\ny = 3\n", FileKind::Credentials);
    assert!(only_the_profile_changed(&old, &bad, "a", &keys, Some(&[][..])).is_err());
}
