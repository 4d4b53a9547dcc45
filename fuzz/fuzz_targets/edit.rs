//! `set_properties` on an arbitrary file, profile and properties: never
//! panics, never refuses its own edit; the result reads back as set, other
//! profiles and lines are unchanged, and a second identical edit is a no-op.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use mfa::config::document::{self, FileKind, Item, Section};

/// A name: most often one the file already has, so edits reach existing
/// sections and keys; otherwise any string.
#[derive(Arbitrary, Debug)]
enum Name<'a> {
    Existing(u8),
    Given(&'a str),
}

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    credentials: bool,
    profile: Name<'a>,
    properties: Vec<(Name<'a>, &'a str)>,
    text: &'a str,
}

fuzz_target!(|input: Input<'_>| {
    let kind = if input.credentials {
        FileKind::Credentials
    } else {
        FileKind::Config
    };
    // The names the file has, to pick from.
    let (sections, keys) = match document::parse(input.text, std::path::Path::new("/f"), kind) {
        Ok(doc) => {
            let mut sections = Vec::new();
            let mut keys = Vec::new();
            for line in doc.lines {
                match line.item {
                    Item::Section(Section::Profile { name, .. }) => sections.push(name),
                    Item::Property { key, .. } => keys.push(key),
                    _ => {}
                }
            }
            (sections, keys)
        }
        Err(_) => return,
    };
    let pick = |name: &Name<'_>, from: &[String], fallback: &'static str| -> String {
        match *name {
            Name::Existing(_) if from.is_empty() => fallback.to_string(),
            Name::Existing(i) => from[usize::from(i) % from.len()].clone(),
            Name::Given(s) => s.to_string(),
        }
    };
    let profile = pick(&input.profile, &sections, "default");
    let owned: Vec<(String, &str)> = input
        .properties
        .iter()
        .take(8)
        .map(|(key, value)| (pick(key, &keys, "region"), *value))
        .collect();
    let properties: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    mfa_fuzz::checks::edit(input.text, kind, &profile, &properties);
});
