//! The properties the fuzz targets check, as plain functions that panic on
//! a violation. `tests/fuzz_regressions.rs` includes this file by path, so
//! an input the fuzzer finds replays there as an ordinary test, checked by
//! the very same code. Depends only on `mfa` and `shell-words` (both
//! available to the main crate's tests).

use std::path::Path;

use mfa::config::Profiles;
use mfa::config::document::{self, Document, FileKind, Item, Section};
use mfa::config::edit::{self, EditError};
use mfa::shell::Shell;

/// The path every document is parsed with (lower-case letters only, so it
/// cannot look like a secret in a message).
pub const PATH: &str = "/fuzz/aws/config";

/// A secret access key, put on every `=` line to see whether an error
/// message quotes it.
pub const CANARY: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY";

// ---------------------------------------------------------------- parse --

/// Target `parse`: arbitrary bytes; only UTF-8 text is a profile file.
pub fn parse_bytes(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        parse_text(text);
        // The same lines with a secret after every `=`: errors must not
        // quote it.
        if let Some(masked) = with_canary(text) {
            parse_text(&masked);
        }
    }
}

/// Parsing never panics; a parse renders back exactly the text; errors
/// name a real line and quote no value; merging never panics.
pub fn parse_text(text: &str) {
    let config = parse_as(text, FileKind::Config);
    let credentials = parse_as(text, FileKind::Credentials);
    let both = Profiles::from_documents(config.as_ref(), credentials.as_ref());
    let alone = [
        Profiles::from_documents(config.as_ref(), None),
        Profiles::from_documents(None, credentials.as_ref()),
    ];
    // Every profile of either file is a profile of the merge.
    for profiles in &alone {
        for name in profiles.names() {
            assert!(
                both.get(name).is_some(),
                "profile {name:?} lost in the merge"
            );
        }
    }
    // Lookups over what was read.
    for profile in &both.list {
        for property in &profile.properties {
            // A value on several lines is refused naming its line, quoting
            // nothing.
            if let Err(e) = profile.scalar(&property.key) {
                let line = format!("line {}", property.origin.line);
                let named = [profile.name.as_str(), &property.key, &line];
                assert_no_run(&property.value, &e.to_string(), &named);
            }
            let _ = profile.get_single(&property.key);
        }
    }
    if let Some(first) = both.list.first() {
        let _ = both.suggestions(&first.name);
    }
    // Reading the texts directly (what every run does) gives what the
    // documents give, or the same first error.
    let path = Path::new(PATH);
    let direct = |config: bool, credentials: bool| {
        Profiles::from_texts(
            config.then_some((text, path)),
            credentials.then_some((text, path)),
        )
    };
    let first_error = |docs: &[(bool, FileKind)]| {
        docs.iter()
            .filter(|(used, _)| *used)
            .find_map(|(_, kind)| document::parse(text, path, *kind).err())
    };
    for (use_config, use_credentials) in [(true, true), (true, false), (false, true)] {
        let expected = match first_error(&[
            (use_config, FileKind::Config),
            (use_credentials, FileKind::Credentials),
        ]) {
            Some(error) => Err(error),
            None => Ok(Profiles::from_documents(
                config.as_ref().filter(|_| use_config),
                credentials.as_ref().filter(|_| use_credentials),
            )),
        };
        assert_eq!(
            direct(use_config, use_credentials),
            expected,
            "from_texts differs from from_documents (config {use_config}, credentials {use_credentials})"
        );
    }
}

fn parse_as(text: &str, kind: FileKind) -> Option<Document> {
    match document::parse(text, Path::new(PATH), kind) {
        Ok(doc) => {
            assert_eq!(
                doc.render(),
                text,
                "render() is not the parsed text ({kind:?})"
            );
            assert_eq!(doc.kind, kind);
            Some(doc)
        }
        Err(e) => {
            let lines = text.split('\n').count();
            assert!(
                (1..=lines).contains(&e.line),
                "error on line {} of a {lines}-line text",
                e.line
            );
            let shown = e.to_string();
            // What follows `… line N: `: the path is ours, and the line
            // number has digits a value may have too.
            let marker = format!(" line {}: ", e.line);
            let message = shown.split_once(&marker).map_or(shown.as_str(), |(_, m)| m);
            assert_quotes_no_value(text, message, &[]);
            None
        }
    }
}

/// Panics when `message` holds a 6-character run of what follows `=` on a
/// line of `text`. Only runs with an upper-case letter, a digit or a
/// non-ASCII character count (a secret has them; the fixed wording of a
/// message has none). The parts of the message that are one of `named` (a
/// profile or key a message may name) are cut out first.
pub fn assert_quotes_no_value(text: &str, message: &str, named: &[&str]) {
    let parts = message_parts(message, named);
    // A run that counts has an upper-case letter, a digit or a non-ASCII
    // character: a message without one (the fixed wording) quotes none.
    if !parts.iter().any(|p| p.chars().any(secret_like)) {
        return;
    }
    for line in text.split('\n') {
        if let Some((_, value)) = line.split_once('=') {
            assert_no_run_in(value, &parts, message);
        }
    }
}

fn assert_no_run(value: &str, message: &str, named: &[&str]) {
    assert_no_run_in(value, &message_parts(message, named), message);
}

/// `message` without every occurrence of each of `named`: the pieces left.
fn message_parts<'a>(message: &'a str, named: &[&str]) -> Vec<&'a str> {
    let mut named_byte = vec![false; message.len()];
    for name in named.iter().filter(|n| !n.is_empty()) {
        for (at, _) in message.match_indices(name) {
            named_byte[at..at + name.len()].fill(true);
        }
    }
    let mut parts = Vec::new();
    let mut start = None;
    for (i, &named) in named_byte.iter().chain([&true]).enumerate() {
        match (named, start) {
            (false, None) => start = Some(i),
            (true, Some(from)) => {
                parts.push(&message[from..i]);
                start = None;
            }
            _ => {}
        }
    }
    parts
}

fn assert_no_run_in(value: &str, parts: &[&str], message: &str) {
    if !parts.iter().any(|p| p.chars().any(secret_like)) {
        return;
    }
    let chars: Vec<(usize, char)> = value.char_indices().collect();
    for window in chars.windows(6) {
        if !window.iter().any(|&(_, c)| secret_like(c)) {
            continue;
        }
        let from = window[0].0;
        let to = window[5].0 + window[5].1.len_utf8();
        let run = &value[from..to];
        assert!(
            !parts.iter().any(|p| p.contains(run)),
            "message {message:?} quotes {run:?}, part of a value"
        );
    }
}

/// An upper-case letter, a digit or a non-ASCII character.
fn secret_like(c: char) -> bool {
    c.is_ascii_uppercase() || c.is_ascii_digit() || !c.is_ascii()
}

/// `text` with what follows the first `=` of every line replaced by
/// ` CANARY` (line endings kept); `None` when no line has a `=`.
pub fn with_canary(text: &str) -> Option<String> {
    if !text.contains('=') {
        return None;
    }
    let mut out = String::with_capacity(text.len() + 64);
    for piece in text.split_inclusive('\n') {
        let (body, ending) = match piece.strip_suffix("\r\n") {
            Some(body) => (body, "\r\n"),
            None => match piece.strip_suffix('\n') {
                Some(body) => (body, "\n"),
                None => (piece, ""),
            },
        };
        match body.find('=') {
            Some(i) => {
                out.push_str(&body[..=i]);
                out.push(' ');
                out.push_str(CANARY);
            }
            None => out.push_str(body),
        }
        out.push_str(ending);
    }
    Some(out)
}

// ----------------------------------------------------------------- edit --

/// Target `edit`: `set_properties` on a parsed file. Never panics; never
/// fails to read back its own edit; on success the result parses to
/// itself, holds the values set, leaves every other profile, every other
/// key of the profile and every line outside the profile as they read
/// before, and a second identical edit changes nothing.
pub fn edit(text: &str, kind: FileKind, profile: &str, properties: &[(&str, &str)]) {
    let Ok(doc) = document::parse(text, Path::new(PATH), kind) else {
        return;
    };
    let edited = match edit::set_properties(&doc, profile, properties) {
        Ok(edited) => edited,
        Err(e) => {
            assert!(
                !matches!(e, EditError::NotReadBack { .. }),
                "set_properties refused its own edit: {e} ({e:?})"
            );
            let mut named: Vec<String> = vec![profile.escape_debug().to_string()];
            named.extend(properties.iter().map(|(k, _)| k.escape_debug().to_string()));
            let named: Vec<&str> = named.iter().map(String::as_str).collect();
            let message = e.to_string();
            for (_, value) in properties {
                assert_no_run(value, &message, &named);
            }
            return;
        }
    };
    let rendered = edited.render();

    // What it returns is what reading the written file gives.
    let reparsed = document::parse(&rendered, Path::new(PATH), kind)
        .unwrap_or_else(|e| panic!("the edited text does not parse: {e}\n{rendered:?}"));
    assert_eq!(
        reparsed, edited,
        "returned document differs from its own parse"
    );

    // The values read back as set.
    let after = profiles(&edited);
    let Some(read) = after.get(profile) else {
        panic!("profile {profile:?} missing after the edit:\n{rendered:?}");
    };
    for &(key, value) in properties {
        let key = key.to_ascii_lowercase();
        assert_eq!(
            read.get(&key),
            Some(value),
            "{key} does not read back in {rendered:?}"
        );
    }

    // Everything else reads as before. A last line that ends in a lone CR
    // reads differently once a line follows it (documented in edit.rs):
    // when the edit wrote after it, it may read as with a line break added.
    let before = profiles(&doc);
    let before_with_break = text
        .ends_with('\r')
        .then(|| document::parse(&format!("{text}\n"), Path::new(PATH), kind))
        .map(|parsed| {
            profiles(&parsed.expect("a text that parsed parses with a final line break"))
        });
    for old in &before.list {
        let new = after
            .get(&old.name)
            .unwrap_or_else(|| panic!("profile {:?} lost in {rendered:?}", old.name));
        let set: Vec<String> = if old.name == profile {
            properties
                .iter()
                .map(|(k, _)| k.to_ascii_lowercase())
                .collect()
        } else {
            Vec::new()
        };
        let kv = |p: &mfa::config::Profile| -> Vec<(String, String)> {
            p.properties
                .iter()
                .filter(|p| !set.iter().any(|k| *k == p.key))
                .map(|p| (p.key.to_string(), p.value.clone()))
                .collect()
        };
        let also = before_with_break
            .as_ref()
            .and_then(|b| b.get(&old.name))
            .map(kv);
        if also.is_none_or(|also| also != kv(new)) {
            assert_eq!(
                kv(new),
                kv(old),
                "profile {:?} changed by an edit of {profile:?}: {rendered:?}",
                old.name
            );
        }
    }
    // Lines outside the profile's sections are kept, byte for byte (only
    // the old last line may gain a line ending); a new section goes after
    // the whole old text.
    let old_outside = outside(&doc, profile);
    if old_outside.len() == doc.lines.len() {
        assert!(
            rendered.starts_with(text),
            "a new section does not follow the old text: {rendered:?}"
        );
    } else {
        let new_outside = outside(&edited, profile);
        let last = doc.lines.len() - 1;
        assert_eq!(
            new_outside.len(),
            old_outside.len(),
            "lines outside the profile added or removed: {rendered:?}"
        );
        for ((i, old), (_, new)) in old_outside.iter().zip(&new_outside) {
            assert_eq!(old.text, new.text, "line {} changed: {rendered:?}", i + 1);
            assert!(
                old.ending == new.ending || (*i == last && old.ending.is_empty()),
                "the ending of line {} changed: {rendered:?}",
                i + 1
            );
        }
    }

    // Idempotent.
    let again = edit::set_properties(&edited, profile, properties)
        .unwrap_or_else(|e| panic!("a second identical edit fails: {e}"));
    assert_eq!(
        again.render(),
        rendered,
        "a second identical edit changes the text"
    );
}

fn profiles(doc: &Document) -> Profiles {
    match doc.kind {
        FileKind::Config => Profiles::from_documents(Some(doc), None),
        FileKind::Credentials => Profiles::from_documents(None, Some(doc)),
    }
}

/// The lines (with their indices) outside the sections that make up
/// `profile`, by the reading rules: in a config file a `[profile default]`
/// shadows every `[default]`.
fn outside<'a>(doc: &'a Document, profile: &str) -> Vec<(usize, &'a document::Line)> {
    let shadowed = doc.kind == FileKind::Config
        && doc.lines.iter().any(|l| {
            matches!(&l.item, Item::Section(Section::Profile { name, bare_default: false }) if name == "default")
        });
    let mut inside = false;
    let mut out = Vec::new();
    for (i, line) in doc.lines.iter().enumerate() {
        if let Item::Section(section) = &line.item {
            inside = matches!(section, Section::Profile { name, bare_default }
                if name == profile && !(*bare_default && shadowed));
        }
        if !inside {
            out.push((i, line));
        }
    }
    out
}

// ---------------------------------------------------------------- quote --

/// Target `quote`: every shell's quoting of any string without NUL reads
/// back as exactly that string, in one word.
pub fn quote(value: &str) {
    if value.contains('\0') {
        return;
    }
    for shell in [Shell::Bash, Shell::Zsh] {
        let quoted = shell.quote(value);
        match shell_words::split(&quoted) {
            Ok(words) => assert_eq!(words, [value], "{shell}: {quoted:?}"),
            Err(e) => panic!("{shell}: {quoted:?} does not split: {e}"),
        }
        let statement = shell.set_var("MFA_FUZZ", value);
        let assignment = format!("MFA_FUZZ={value}");
        match shell_words::split(&statement) {
            Ok(words) => assert_eq!(words, ["export", assignment.as_str()], "{statement:?}"),
            Err(e) => panic!("{shell}: {statement:?} does not split: {e}"),
        }
    }
    let quoted = Shell::Fish.quote(value);
    assert_eq!(
        decode_fish(&quoted).as_deref(),
        Ok(value),
        "fish: {quoted:?}"
    );
    let quoted = Shell::Powershell.quote(value);
    assert_eq!(
        decode_powershell(&quoted).as_deref(),
        Ok(value),
        "powershell: {quoted:?}"
    );
}

/// A fish single-quoted word: inside `'…'` only `\\` and `\'` are escapes
/// (any other backslash is itself); an unescaped `'` ends it, and must be
/// the last character.
pub fn decode_fish(quoted: &str) -> Result<String, &'static str> {
    let mut chars = quoted.chars();
    if chars.next() != Some('\'') {
        return Err("does not start with '");
    }
    let mut out = String::new();
    loop {
        match chars.next() {
            None => return Err("no closing '"),
            Some('\\') => match chars.clone().next() {
                Some(c @ ('\\' | '\'')) => {
                    chars.next();
                    out.push(c);
                }
                _ => out.push('\\'),
            },
            Some('\'') => {
                return match chars.next() {
                    None => Ok(out),
                    Some(_) => Err("an unescaped ' ends the word before its end"),
                };
            }
            Some(c) => out.push(c),
        }
    }
}

/// PowerShell's single-quote characters: each of them opens and ends a
/// verbatim string.
pub fn is_powershell_quote(c: char) -> bool {
    matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}')
}

/// A PowerShell verbatim string: a quote character followed by another
/// stands for the second; a quote character alone ends the string, and
/// must be the last character.
pub fn decode_powershell(quoted: &str) -> Result<String, &'static str> {
    let mut chars = quoted.chars().peekable();
    if !chars.next().is_some_and(is_powershell_quote) {
        return Err("does not start with a quote");
    }
    let mut out = String::new();
    loop {
        match chars.next() {
            None => return Err("no closing quote"),
            Some(c) if is_powershell_quote(c) => match chars.peek() {
                Some(&next) if is_powershell_quote(next) => {
                    chars.next();
                    out.push(next);
                }
                _ => {
                    return match chars.next() {
                        None => Ok(out),
                        Some(_) => Err("a single quote ends the string before its end"),
                    };
                }
            },
            Some(c) => out.push(c),
        }
    }
}

// ------------------------------------------------------------ resolve --

/// The kinds `mfa list` may show (SPEC §3).
pub const KINDS: [&str; 8] = [
    "mfa-user", "user", "role", "mfa-role", "session", "process", "sso", "other",
];

/// Target `resolve`: the whole road from the files to what mfa prints.
/// The bytes before the first NUL are the config file, those after it the
/// credentials file. Both files are read as every run reads them; every
/// profile is resolved (alone and with a `--role-arn`), its session
/// rendered for every shell, listed, shown and completed. Nothing panics;
/// a chain never exceeds the bound; a resolved chain holds only keys and
/// a region that can reach AWS; no message or output of `show` holds a
/// secret of the files.
pub fn whole_path(data: &[u8]) {
    let (config, credentials) = match data.iter().position(|b| *b == 0) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[][..]),
    };
    let (Ok(config), Ok(credentials)) = (
        std::str::from_utf8(config),
        std::str::from_utf8(credentials),
    ) else {
        return;
    };
    let (config_path, credentials_path) = (Path::new(PATH), Path::new("/fuzz/aws/credentials"));
    let Ok(profiles) = Profiles::from_texts(
        Some((config, config_path)),
        Some((credentials, credentials_path)),
    ) else {
        return;
    };
    let text = format!("{config}\n{credentials}");
    let secrets = secret_values(&profiles, &text);
    let cache = mfa::cache::Cache::new(std::path::PathBuf::from("/nonexistent/fuzz-cache"));
    let rows = mfa::cmd::list::rows(&profiles, &cache, 0);
    assert_eq!(rows.len(), profiles.list.len());
    for (profile, row) in profiles.list.iter().zip(&rows) {
        let kind = mfa::resolve::kind(&profiles, profile);
        assert!(KINDS.contains(&kind), "kind {kind:?}");
        assert_eq!(
            row.kind, kind,
            "list and completion disagree on {:?}",
            profile.name
        );
        for json in [false, true] {
            match mfa::cmd::show::render(&profiles, &profile.name, json) {
                Ok(shown) => assert_holds_none(&shown, &secrets, "show"),
                Err(e) => panic!("show {:?} failed: {e:#}", profile.name),
            }
        }
        let overrides = [
            mfa::resolve::Overrides::default(),
            mfa::resolve::Overrides {
                role_arn: Some("arn:aws:iam::123456789012:role/extra".into()),
                duration: Some(900),
            },
        ];
        for overrides in &overrides {
            match mfa::resolve::resolve(&profiles, &profile.name, overrides) {
                Ok(chain) => check_chain(&chain, overrides),
                Err(e) => assert_holds_none(&e.to_string(), &secrets, "error"),
            }
        }
    }
    let _ = mfa::cmd::roles::roles(&profiles);
}

/// A resolved chain is one that can be sent: bounded, valid keys and region.
fn check_chain(chain: &mfa::resolve::Chain, overrides: &mfa::resolve::Overrides) {
    use mfa::resolve::{MAX_CHAIN, Root};
    let extra = usize::from(overrides.role_arn.is_some());
    assert!(
        chain.roles.len() < MAX_CHAIN + extra,
        "{} roles",
        chain.roles.len()
    );
    if let Some(region) = &chain.region {
        assert!(mfa::sts::is_valid_region(region), "region {region:?}");
    }
    let credentials = match &chain.root {
        Root::Keys { credentials, .. } => {
            assert_eq!(credentials.invalid_part(), None, "keys not checked");
            credentials.clone()
        }
        _ => mfa::creds::Credentials {
            access_key_id: "ASIAFUZZ".into(),
            secret_access_key: "secret".into(),
            session_token: Some("token".into()),
            expiration: Some(1_800_000_000),
        },
    };
    let session = mfa::cmd::Session {
        profile: chain.profile.clone(),
        region: chain.region.clone(),
        credentials,
        renewable_until: None,
    };
    if let Ok(vars) = mfa::cmd::env::session_vars(&session) {
        for shell in Shell::ALL {
            let script = mfa::cmd::env::render(shell, &vars);
            assert!(!script.is_empty());
        }
    }
}

/// The values of the secret properties (`aws_secret_access_key`,
/// `aws_session_token`, …) that are long enough to tell and appear in the
/// files only where they are set.
fn secret_values(profiles: &Profiles, text: &str) -> Vec<String> {
    let mut secrets = Vec::new();
    for profile in &profiles.list {
        for property in &profile.properties {
            let value = property.value.trim();
            if mfa::cmd::show::is_secret(&property.key)
                && value.len() >= 8
                && value.chars().any(secret_like)
                && text.matches(value).count() == 1
            {
                secrets.push(value.to_string());
            }
        }
    }
    secrets
}

fn assert_holds_none(output: &str, secrets: &[String], what: &str) {
    for secret in secrets {
        assert!(
            !output.contains(secret.as_str()),
            "{what} shows a secret: {output}"
        );
    }
}
