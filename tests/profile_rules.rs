//! The rules for reading `~/.aws/config` and `~/.aws/credentials`.
//!
//! Each test states one rule in its name. The cases of the AWS SDKs' shared
//! parser test suite are translated here (marked `suite N`), together with the
//! choices this project makes where the SDKs disagree. Every input that parses
//! is also checked to render back byte for byte.

use std::path::Path;

use mfa::config::Profiles;
use mfa::config::document::{Document, FileKind, ParseError, parse};
use mfa::config::profiles::Origin;
use proptest::prelude::*;

const CONFIG: &str = "/home/u/.aws/config";
const CREDENTIALS: &str = "/home/u/.aws/credentials";

// The project's error messages, one per kind of error.
const PROPERTY_BEFORE_SECTION: &str = "a property must follow a section header such as `[default]`";
const INDENTED_BEFORE_SECTION: &str =
    "expected a section header such as `[default]` before this indented line";
const CONTINUATION_WITHOUT_PROPERTY: &str =
    "an indented line continues a property, but no property comes before it in this section";
const PROPERTY_WITHOUT_EQUALS: &str =
    "expected a property (`name = value`) or a section header (`[name]`)";
const PROPERTY_WITHOUT_NAME: &str = "a property needs a name before `=`";
const SUB_PROPERTY_WITHOUT_EQUALS: &str = "expected a sub-property (`name = value`) on this indented line, under a property with an empty value";
const SUB_PROPERTY_WITHOUT_NAME: &str = "a sub-property needs a name before `=`";

/// The message for a header that does not end with `]`. The header is
/// not quoted (a secret may share its line); the argument names what the
/// parser saw, for the reader of the test.
fn header_without_bracket(_header: &str) -> String {
    "a section header must end with `]`".to_string()
}

fn path_of(kind: FileKind) -> &'static Path {
    match kind {
        FileKind::Config => Path::new(CONFIG),
        FileKind::Credentials => Path::new(CREDENTIALS),
    }
}

/// Parses a file that must be valid, and checks that it renders back as is.
fn document(text: &str, kind: FileKind) -> Document {
    let doc = parse(text, path_of(kind), kind)
        .unwrap_or_else(|e| panic!("{text:?} should parse, got {e:?}"));
    assert_eq!(doc.render(), text, "render() must give back the input");
    doc
}

/// Parses a file that must be invalid, and checks the error names the file.
fn parse_error(text: &str, kind: FileKind) -> ParseError {
    let error = parse(text, path_of(kind), kind).expect_err(&format!("{text:?} should not parse"));
    assert_eq!(error.path, path_of(kind));
    let file = Some((text, path_of(kind)));
    let direct = match kind {
        FileKind::Config => Profiles::from_texts(file, None),
        FileKind::Credentials => Profiles::from_texts(None, file),
    };
    assert_eq!(direct.err().as_ref(), Some(&error), "from_texts, {text:?}");
    error
}

/// The 1-based line and message of the error a config file gives.
fn config_error(text: &str) -> (usize, String) {
    let e = parse_error(text, FileKind::Config);
    (e.line, e.message)
}

/// The 1-based line and message of the error a credentials file gives.
fn credentials_error(text: &str) -> (usize, String) {
    let e = parse_error(text, FileKind::Credentials);
    (e.line, e.message)
}

fn error(line: usize, message: &str) -> (usize, String) {
    (line, message.to_string())
}

/// The merged profiles, by both roads: documents (what editing uses) and
/// the texts read directly (what every run uses); they must agree.
fn load(config: Option<&str>, credentials: Option<&str>) -> Profiles {
    let path = std::path::Path::new("/p");
    let direct = Profiles::from_texts(config.map(|t| (t, path)), credentials.map(|t| (t, path)))
        .expect("the texts parse");
    let config = config.map(|t| document(t, FileKind::Config));
    let credentials = credentials.map(|t| document(t, FileKind::Credentials));
    let merged = Profiles::from_documents(config.as_ref(), credentials.as_ref());
    assert_eq!(direct, merged, "from_texts and from_documents disagree");
    merged
}

fn config(text: &str) -> Profiles {
    load(Some(text), None)
}

fn credentials(text: &str) -> Profiles {
    load(None, Some(text))
}

fn both(config: &str, credentials: &str) -> Profiles {
    load(Some(config), Some(credentials))
}

type Summary<'a> = Vec<(&'a str, Vec<(&'a str, &'a str)>)>;

/// Every profile in order, with every property in order.
fn summary(profiles: &Profiles) -> Summary<'_> {
    profiles
        .list
        .iter()
        .map(|p| {
            let properties = p
                .properties
                .iter()
                .map(|q| (q.key.as_ref(), q.value.as_str()))
                .collect();
            (p.name.as_str(), properties)
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Files, profiles and properties
// ---------------------------------------------------------------------------

#[test]
fn empty_file_has_no_profiles() {
    // suite 1
    assert_eq!(summary(&config("")), vec![]);
    assert_eq!(summary(&credentials("")), vec![]);
    assert_eq!(summary(&load(None, None)), vec![]);
}

#[test]
fn file_of_only_blank_and_comment_lines_has_no_profiles() {
    assert_eq!(summary(&config("\n \t\n# one\n; two\n  # three\n")), vec![]);
}

#[test]
fn empty_profile_has_no_properties() {
    // suite 2, 18
    assert_eq!(summary(&config("[profile foo]")), vec![("foo", vec![])]);
    assert_eq!(
        summary(&config("[profile foo]\n[profile bar]")),
        vec![("foo", vec![]), ("bar", vec![])]
    );
}

#[test]
fn profiles_hold_their_properties_in_file_order() {
    // suite 8, 12, 19
    assert_eq!(
        summary(&config("[profile foo]\nname = value")),
        vec![("foo", vec![("name", "value")])]
    );
    assert_eq!(
        summary(&config(
            "[profile foo]\nname = value\nname2 = value2\n[profile bar]\nzeta = 1\nalpha = 2\n"
        )),
        vec![
            ("foo", vec![("name", "value"), ("name2", "value2")]),
            ("bar", vec![("zeta", "1"), ("alpha", "2")]),
        ]
    );
}

#[test]
fn profile_and_property_lookup() {
    let profiles = config("[default]\nregion = eu-west-1\n[profile foo]\nName = Value\n");
    let foo = profiles.get("foo").expect("foo");
    assert_eq!(foo.get("name"), Some("Value"));
    assert_eq!(foo.get("region"), None);
    assert_eq!(
        profiles.get("default").and_then(|p| p.get("region")),
        Some("eu-west-1")
    );
    assert!(profiles.get("bar").is_none());
    assert_eq!(profiles.names().collect::<Vec<_>>(), ["default", "foo"]);
}

#[test]
fn property_before_any_section_is_an_error() {
    // suite 7
    assert_eq!(
        config_error("name = value"),
        error(1, PROPERTY_BEFORE_SECTION)
    );
    assert_eq!(
        credentials_error("# c\n\nname = value\n[default]\n"),
        error(3, PROPERTY_BEFORE_SECTION)
    );
}

#[test]
fn equals_signs_after_the_first_belong_to_the_value() {
    // suite 10
    assert_eq!(
        summary(&config("[profile foo]\nname = val=ue\nb==c")),
        vec![("foo", vec![("name", "val=ue"), ("b", "=c")])]
    );
}

#[test]
fn unicode_values_are_kept() {
    // suite 11
    assert_eq!(
        summary(&config("[profile foo]\nname = 😂\nother = naïve ☃")),
        vec![("foo", vec![("name", "😂"), ("other", "naïve ☃")])]
    );
}

#[test]
fn keys_and_values_are_trimmed_of_spaces_and_tabs() {
    // suite 14
    assert_eq!(
        summary(&config("[profile foo]\nname \t=  \tvalue \t\nb\t=\tc\t")),
        vec![("foo", vec![("name", "value"), ("b", "c")])]
    );
}

#[test]
fn quotes_are_part_of_the_value() {
    assert_eq!(
        summary(&config("[profile foo]\na = \"x y\"\nb = 'z'")),
        vec![("foo", vec![("a", "\"x y\""), ("b", "'z'")])]
    );
}

#[test]
fn property_value_may_be_empty() {
    // suite 15
    assert_eq!(
        summary(&config("[profile foo]\nname =\nother =   \t")),
        vec![("foo", vec![("name", ""), ("other", "")])]
    );
}

#[test]
fn property_needs_a_name() {
    // suite 16
    assert_eq!(
        config_error("[profile foo]\n= value"),
        error(2, PROPERTY_WITHOUT_NAME)
    );
    assert_eq!(
        config_error("[profile foo]\n \t= value"),
        error(2, CONTINUATION_WITHOUT_PROPERTY)
    );
    assert_eq!(
        config_error("[profile foo]\nname = v\n=value"),
        error(3, PROPERTY_WITHOUT_NAME)
    );
}

#[test]
fn property_needs_an_equals_sign() {
    // suite 17
    assert_eq!(
        config_error("[profile foo]\nkey : value"),
        error(2, PROPERTY_WITHOUT_EQUALS)
    );
    assert_eq!(
        config_error("[profile foo]\njunk"),
        error(2, PROPERTY_WITHOUT_EQUALS)
    );
    // The `=` inside a comment does not count.
    assert_eq!(
        config_error("[profile foo]\nname # = value"),
        error(2, PROPERTY_WITHOUT_EQUALS)
    );
}

#[test]
fn property_names_are_lower_cased_values_keep_their_case() {
    // suite 38, 44 (Rust and Ruby behaviour)
    assert_eq!(
        summary(&config(
            "[profile foo]\nName = value\n[profile foo]\nname = value2"
        )),
        vec![("foo", vec![("name", "value2")])]
    );
    assert_eq!(
        summary(&config(
            "[profile foo]\nABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_/.%@:+ = MiXeD"
        )),
        vec![(
            "foo",
            vec![(
                "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz0123456789-_/.%@:+",
                "MiXeD"
            )]
        )]
    );
}

#[test]
fn invalid_property_names_are_dropped_with_their_continuations() {
    // suite 42
    assert_eq!(
        summary(&config("[profile foo]\nin valid = value")),
        vec![("foo", vec![])]
    );
    assert_eq!(
        summary(&config(
            "[profile foo]\na = 1\nin valid = x\n -more\n\tand more\nname! = y\ns3 =\n b = 2\nb = 3\n"
        )),
        vec![("foo", vec![("a", "1"), ("s3", "\nb = 2"), ("b", "3")])]
    );
    // An invalid sub-property parent takes its sub-properties with it.
    assert_eq!(
        summary(&config("[profile foo]\nin valid =\n x = 1\nname = v")),
        vec![("foo", vec![("name", "v")])]
    );
}

// ---------------------------------------------------------------------------
// Blank lines and comments
// ---------------------------------------------------------------------------

#[test]
fn blank_lines_of_spaces_and_tabs_are_ignored() {
    // suite 20
    assert_eq!(
        summary(&config(
            "\t \n[profile foo]\n\t\n \nname = value\n\t \n[profile bar]\n \t"
        )),
        vec![("foo", vec![("name", "value")]), ("bar", vec![])]
    );
}

#[test]
fn pound_and_semicolon_comment_lines_are_ignored() {
    // suite 21, 22, 23, 24
    let expected = vec![("foo", vec![("name", "value")])];
    for text in [
        "# Comment\n[profile foo] # Comment\nname = value # Comment with # sign",
        "; Comment\n[profile foo] ; Comment\nname = value ; Comment with ; sign",
        "# Comment\n[profile foo] ; Comment\nname = value # Comment with ; sign",
        ";\n[profile foo];\nname = value ;\n",
        "#\n[profile foo]#\nname = value #\n",
    ] {
        assert_eq!(summary(&config(text)), expected, "{text:?}");
    }
}

#[test]
fn inline_comment_needs_whitespace_before_it() {
    // suite 26
    assert_eq!(
        summary(&config(
            "[profile foo]\nname = value; Adjacent semicolons\nname2 = value# Adjacent pound signs\nurl = https://x/#frag\n"
        )),
        vec![(
            "foo",
            vec![
                ("name", "value; Adjacent semicolons"),
                ("name2", "value# Adjacent pound signs"),
                ("url", "https://x/#frag"),
            ]
        )]
    );
}

#[test]
fn inline_comment_may_follow_a_tab() {
    assert_eq!(
        summary(&config(
            "[profile foo]\na = value\t# c\nb = value\t;c\nc=x ;"
        )),
        vec![("foo", vec![("a", "value"), ("b", "value"), ("c", "x")])]
    );
}

#[test]
fn value_that_is_only_a_comment_is_empty() {
    // After the comment is cut the value is empty, so the property takes
    // sub-properties.
    assert_eq!(
        summary(&config("[profile foo]\nname = #x\nother = ;y\n a = 1")),
        vec![("foo", vec![("name", ""), ("other", "\na = 1")])]
    );
}

#[test]
fn indented_comment_lines_are_comments() {
    // Project choice (botocore): an indented `#` or `;` line is a comment,
    // not continuation text, in every position.
    assert_eq!(
        summary(&config(
            "  # before any section\n[profile foo]\n\t; after a header\nname = value\n  # between continuations\n -continued\n ; again\ns3 =\n  # inside sub-properties\n  a = 1\n\t; c\n  b = 2\n"
        )),
        vec![(
            "foo",
            vec![("name", "value\n-continued"), ("s3", "\na = 1\nb = 2")]
        )]
    );
}

// ---------------------------------------------------------------------------
// Section headers
// ---------------------------------------------------------------------------

#[test]
fn profile_names_allow_alphanumerics_and_dash_slash_dot_percent_at_underscore_colon_plus() {
    // suite 3, 43
    assert_eq!(
        summary(&config(
            "[profile some-thing:long/the_one%only.foo@bar+]\n[profile foo!bar]\nx = 1\n[profile ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_]"
        )),
        vec![
            ("some-thing:long/the_one%only.foo@bar+", vec![]),
            (
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
                vec![]
            ),
        ]
    );
}

#[test]
fn invalid_profile_names_are_ignored_with_their_properties() {
    // suite 41, 62
    assert_eq!(
        summary(&both(
            "[profile in valid]\nname = value",
            "[in valid 2]\nname2 = value2"
        )),
        vec![]
    );
    assert_eq!(
        summary(&config(
            "[profile foo]\nname = value\n[profile in valid]\nx = 1\n -more\n[profile bar]\nname = value2"
        )),
        vec![
            ("foo", vec![("name", "value")]),
            ("bar", vec![("name", "value2")])
        ]
    );
    assert_eq!(
        summary(&credentials("[foo!]\nx = 1\n[foo]\ny = 2\n[foo]]\nz = 3")),
        vec![("foo", vec![("y", "2")])]
    );
}

#[test]
fn syntax_is_checked_under_ignored_sections() {
    // As in the Rust SDK: every line's syntax is checked before names are.
    assert_eq!(
        config_error("[profile in valid]\nkey : value"),
        error(2, PROPERTY_WITHOUT_EQUALS)
    );
    assert_eq!(
        credentials_error("[profile foo]\nname = v\n[bar]\n -orphan"),
        error(4, CONTINUATION_WITHOUT_PROPERTY)
    );
}

#[test]
fn empty_profile_names_are_ignored() {
    // Project choice: no profile named "" (the SDKs accept `[]` in credentials).
    assert_eq!(
        summary(&credentials("[]\nname = value\n[   ]\nx = 1\n[\t]\ny = 2")),
        vec![]
    );
    assert_eq!(
        summary(&config(
            "[]\nname = value\n[profile]\nx = 1\n[profile   ]\ny = 2\n[profile foo]"
        )),
        vec![("foo", vec![])]
    );
}

#[test]
fn profile_names_are_case_sensitive() {
    // `[Default]` is neither `[default]` nor `[profile NAME]`.
    let profiles = config("[Default]\na = 1\n[profile Foo]\nb = 2\n[profile foo]\nc = 3");
    assert_eq!(
        summary(&profiles),
        vec![("Foo", vec![("b", "2")]), ("foo", vec![("c", "3")])]
    );
    assert!(profiles.get("FOO").is_none());
}

#[test]
fn header_must_end_with_a_bracket() {
    // suite 4
    assert_eq!(
        config_error("[profile foo"),
        error(1, &header_without_bracket("[profile foo"))
    );
    assert_eq!(
        credentials_error("[foo\nname = v"),
        error(1, &header_without_bracket("[foo"))
    );
}

#[test]
fn header_followed_by_text_is_an_error() {
    assert_eq!(
        config_error("[profile foo]\n[profile bar] junk\nname = v"),
        error(2, &header_without_bracket("[profile bar] junk"))
    );
    assert_eq!(
        credentials_error("[foo]x"),
        error(1, &header_without_bracket("[foo]x"))
    );
}

#[test]
fn comment_character_inside_header_brackets_cuts_the_header() {
    assert_eq!(
        config_error("[profile f;oo]"),
        error(1, &header_without_bracket("[profile f"))
    );
    assert_eq!(
        config_error("[profile foo #bar]"),
        error(1, &header_without_bracket("[profile foo"))
    );
}

#[test]
fn comment_may_be_glued_to_the_closing_bracket() {
    // suite 25, 57
    assert_eq!(
        summary(&config(
            "[profile foo]; Adjacent semicolons\n[profile bar]# Adjacent pound signs\nname = v"
        )),
        vec![("foo", vec![]), ("bar", vec![("name", "v")])]
    );
    assert_eq!(
        summary(&credentials("[foo];c\nname = v\n[bar] \t#c")),
        vec![("foo", vec![("name", "v")]), ("bar", vec![])]
    );
}

#[test]
fn profile_name_is_trimmed_inside_the_brackets() {
    // suite 5, 60, 61
    assert_eq!(
        summary(&config("[profile \tfoo \t]")),
        vec![("foo", vec![])]
    );
    assert_eq!(
        summary(&config("[   profile foo    ]\nname = value\n[profile bar]")),
        vec![("foo", vec![("name", "value")]), ("bar", vec![])]
    );
    assert_eq!(
        summary(&credentials("[   foo    ]\nname = value\n[profile bar]")),
        vec![("foo", vec![("name", "value")])]
    );
    // An indented header is not a header (see
    // `indented_header_is_continuation_text`).
    assert_eq!(
        config_error("  [profile foo]\nname = value"),
        error(1, INDENTED_BEFORE_SECTION)
    );
}

#[test]
fn header_may_be_followed_by_trailing_whitespace() {
    assert_eq!(
        summary(&config("[profile foo]  \t\nname = value")),
        vec![("foo", vec![("name", "value")])]
    );
}

#[test]
fn tab_or_several_spaces_may_separate_prefix_and_name() {
    // suite 6
    assert_eq!(summary(&config("[profile\tfoo]")), vec![("foo", vec![])]);
    assert_eq!(
        summary(&config("[profile    foo]\na = 1\n[profile \t bar]\nb = 2")),
        vec![("foo", vec![("a", "1")]), ("bar", vec![("b", "2")])]
    );
}

#[test]
fn prefix_glued_to_the_name_is_not_a_profile() {
    // suite 59
    assert_eq!(
        summary(&config("[profilefoo]\nname = value\n[profile bar]")),
        vec![("bar", vec![])]
    );
}

#[test]
fn config_sections_without_prefix_other_than_default_are_ignored() {
    // suite 55
    assert_eq!(summary(&config("[foo]\nname = value")), vec![]);
    assert_eq!(
        summary(&config("[default]\na = 1\n[foo]\nname = value\n -more")),
        vec![("default", vec![("a", "1")])]
    );
}

#[test]
fn credentials_sections_with_a_prefix_are_ignored() {
    // suite 56, 64
    assert_eq!(summary(&credentials("[profile foo]\nname = value")), vec![]);
    assert_eq!(
        summary(&credentials(
            "[foo]\na = 1\n[profile foo]\nb = 2\n[sso-session s]\nc = 3\n[services x]\nd = 4"
        )),
        vec![("foo", vec![("a", "1")])]
    );
    assert_eq!(
        summary(&credentials("[sso-sessionfoo]\nname = value\n[bar]")),
        vec![("sso-sessionfoo", vec![("name", "value")]), ("bar", vec![])]
    );
}

#[test]
fn non_profile_sections_own_their_properties() {
    // suite 63: `[sso-session x]`, `[services x]` and unknown prefixes are
    // not profiles, and their properties do not fall into the profile
    // before them.
    assert_eq!(
        summary(&config("[sso-session foo]\nname = value\n[profile bar]")),
        vec![("bar", vec![])]
    );
    assert_eq!(
        summary(&config(
            "[profile a]\nk = 1\n[sso-session s]\nk = 2\nsso_start_url = https://x\n[services my-services]\ns3 =\n\tendpoint_url = https://s3.local\n[foobar custom]\napple =\n\tbanana = cherry\n[profile b]\nservices = my-services\n"
        )),
        vec![
            ("a", vec![("k", "1")]),
            ("b", vec![("services", "my-services")])
        ]
    );
    // A profile and an sso-session may share a name.
    assert_eq!(
        summary(&config(
            "[sso-session foo]\nname = value1\n[profile foo]\nname2 = value2\n"
        )),
        vec![("foo", vec![("name2", "value2")])]
    );
    assert_eq!(summary(&config("[sso-session]\nname = value\n")), vec![]);
}

#[test]
fn section_prefix_is_case_sensitive() {
    assert_eq!(
        summary(&config(
            "[Profile foo]\nname = value\n[PROFILE bar]\n[profile baz]"
        )),
        vec![("baz", vec![])]
    );
}

// ---------------------------------------------------------------------------
// [default] and [profile default]
// ---------------------------------------------------------------------------

#[test]
fn profile_default_shadows_bare_default_when_it_comes_first() {
    // suite 39
    assert_eq!(
        summary(&config(
            "[profile default]\nname = value\n[default]\nname2 = value2"
        )),
        vec![("default", vec![("name", "value")])]
    );
}

#[test]
fn profile_default_shadows_bare_default_when_it_comes_last() {
    // suite 40
    assert_eq!(
        summary(&config(
            "[default]\nname2 = value2\n[profile default]\nname = value"
        )),
        vec![("default", vec![("name", "value")])]
    );
    // The shadowed section is skipped whole, so `default` takes its place
    // where `[profile default]` is.
    assert_eq!(
        summary(&config(
            "[default]\nx = 1\n -more\n[profile a]\n[profile default]\ny = 2"
        )),
        vec![("a", vec![]), ("default", vec![("y", "2")])]
    );
}

#[test]
fn repeated_profile_default_sections_merge_and_every_bare_default_is_ignored() {
    // suite 52
    assert_eq!(
        summary(&config(
            "[profile default]\nname = value\n[default]\nname2 = value2\n[profile default]\nname3 = value3"
        )),
        vec![("default", vec![("name", "value"), ("name3", "value3")])]
    );
}

#[test]
fn bare_default_sections_merge_when_there_is_no_profile_default() {
    assert_eq!(
        summary(&config(
            "[default]\na = 1\n[profile x]\n[default]\nb = 2\na = 3"
        )),
        vec![("default", vec![("a", "3"), ("b", "2")]), ("x", vec![])]
    );
}

#[test]
fn credentials_default_merges_with_config_profile_default() {
    // suite 53
    assert_eq!(
        summary(&both(
            "[profile default]\nname = value\n[default]\nname2 = value2\n[profile default]\nname3 = value3",
            "[default]\nsecret=foo"
        )),
        vec![(
            "default",
            vec![("name", "value"), ("name3", "value3"), ("secret", "foo")]
        )]
    );
}

#[test]
fn credentials_default_merges_with_config_bare_default() {
    assert_eq!(
        summary(&both(
            "[default]\nregion = eu-west-1\noutput = json",
            "[default]\naws_access_key_id = AKIDEXAMPLE\nregion = us-east-1"
        )),
        vec![(
            "default",
            vec![
                ("region", "us-east-1"),
                ("output", "json"),
                ("aws_access_key_id", "AKIDEXAMPLE")
            ]
        )]
    );
}

#[test]
fn profile_default_in_credentials_is_ignored_and_shadows_nothing() {
    assert_eq!(
        summary(&both("[default]\na = 1", "[profile default]\nb = 2")),
        vec![("default", vec![("a", "1")])]
    );
}

// ---------------------------------------------------------------------------
// Duplicates and merging
// ---------------------------------------------------------------------------

#[test]
fn duplicate_sections_merge_and_the_last_value_wins() {
    // suite 35, 36, 37
    assert_eq!(
        summary(&config(
            "[profile foo]\nname = value\n[profile foo]\nname2 = value2"
        )),
        vec![("foo", vec![("name", "value"), ("name2", "value2")])]
    );
    assert_eq!(
        summary(&config("[profile foo]\nname = value\nname = value2")),
        vec![("foo", vec![("name", "value2")])]
    );
    assert_eq!(
        summary(&config(
            "[profile foo]\nname = value\n[profile foo]\nname = value2"
        )),
        vec![("foo", vec![("name", "value2")])]
    );
}

#[test]
fn headers_differing_only_in_spacing_merge_in_file_order() {
    // The Rust SDK keys raw sections by header text; this project merges by
    // profile name in file order, so the last value always wins.
    for _ in 0..3 {
        assert_eq!(
            summary(&config(
                "[profile foo]\na = 1\nb = 1\n[profile   foo ]\na = 2\n[ profile\tfoo]\nb = 3\n[profile foo]\na = 4"
            )),
            vec![("foo", vec![("a", "4"), ("b", "3")])]
        );
    }
}

#[test]
fn redefined_property_restarts_its_value() {
    assert_eq!(
        summary(&config(
            "[profile foo]\nname = a\n -b\nname = c\n -d\ns3 =\n x = 1\ns3 =\n y = 2"
        )),
        vec![("foo", vec![("name", "c\n-d"), ("s3", "\ny = 2")])]
    );
}

#[test]
fn profiles_in_both_files_merge_per_property() {
    // suite 51
    assert_eq!(
        summary(&both(
            "[profile foo]\nname = value",
            "[foo]\nname2 = value2"
        )),
        vec![("foo", vec![("name", "value"), ("name2", "value2")])]
    );
}

#[test]
fn credentials_value_wins_over_config_value() {
    // suite 54
    let profiles = both(
        "[profile foo]\n# c\nname = value\nregion = eu-west-1",
        "\n[foo]\nname = value2",
    );
    assert_eq!(
        summary(&profiles),
        vec![("foo", vec![("name", "value2"), ("region", "eu-west-1")])]
    );
    let foo = profiles.get("foo").expect("foo");
    assert_eq!(
        foo.properties[0].origin,
        Origin {
            file: FileKind::Credentials,
            line: 3
        }
    );
    assert_eq!(
        foo.properties[1].origin,
        Origin {
            file: FileKind::Config,
            line: 4
        }
    );
}

#[test]
fn credentials_value_wins_even_when_empty() {
    assert_eq!(
        summary(&both(
            "[profile foo]\nregion = eu-west-1",
            "[foo]\nregion ="
        )),
        vec![("foo", vec![("region", "")])]
    );
    let profiles = both("[profile foo]\nregion = eu-west-1", "[foo]\nregion =");
    assert_eq!(profiles.get("foo").unwrap().get_nonempty("region"), None);
}

#[test]
fn profiles_are_listed_config_first_then_credentials_only_ones() {
    assert_eq!(
        summary(&both(
            "[profile b]\n[default]\n[profile a]",
            "[c]\n[a]\nk = 1\n[default]\n[d]"
        )),
        vec![
            ("b", vec![]),
            ("default", vec![]),
            ("a", vec![("k", "1")]),
            ("c", vec![]),
            ("d", vec![]),
        ]
    );
}

#[test]
fn properties_keep_first_appearance_order_config_before_credentials() {
    assert_eq!(
        summary(&both(
            "[profile p]\nz = 1\ny = 2\n[profile p]\nw = 0",
            "[p]\nx = 3\nz = 9\ny = 8"
        )),
        vec![("p", vec![("z", "9"), ("y", "8"), ("w", "0"), ("x", "3")])]
    );
}

// ---------------------------------------------------------------------------
// Continuation lines
// ---------------------------------------------------------------------------

#[test]
fn indented_line_continues_the_previous_value() {
    // suite 27, 28, 29
    assert_eq!(
        summary(&config("[profile foo]\nname = value\n -continued")),
        vec![("foo", vec![("name", "value\n-continued")])]
    );
    assert_eq!(
        summary(&config(
            "[profile foo]\nname = value\n -continued\n -and-continued"
        )),
        vec![("foo", vec![("name", "value\n-continued\n-and-continued")])]
    );
    assert_eq!(
        summary(&config("[profile foo]\nname = value\n \t -continued \t ")),
        vec![("foo", vec![("name", "value\n-continued")])]
    );
}

#[test]
fn continuation_keeps_comment_characters() {
    // suite 30, 31
    assert_eq!(
        summary(&config(
            "[profile foo]\nname = value\n -continued # Comment\nname2 = value\n -continued ; Comment"
        )),
        vec![(
            "foo",
            vec![
                ("name", "value\n-continued # Comment"),
                ("name2", "value\n-continued ; Comment")
            ]
        )]
    );
}

#[test]
fn continuation_text_is_not_parsed() {
    // KT K2: ` value2 = 12` under a non-empty value is plain text.
    assert_eq!(
        summary(&config(
            "[default]\nname = value1\n value2 = 12 \n value3\nname2 = value2\nname3 =\n name3_0 = 1"
        )),
        vec![(
            "default",
            vec![
                ("name", "value1\nvalue2 = 12\nvalue3"),
                ("name2", "value2"),
                ("name3", "\nname3_0 = 1")
            ]
        )]
    );
}

#[test]
fn indented_header_is_continuation_text() {
    assert_eq!(
        summary(&config("[profile foo]\nname = v\n  [profile bar]\n\tx = 1")),
        vec![("foo", vec![("name", "v\n[profile bar]\nx = 1")])]
    );
}

#[test]
fn blank_lines_do_not_end_a_continuation() {
    assert_eq!(
        summary(&config("[profile foo]\nname = a\n\n \t\n b\n# c\n c")),
        vec![("foo", vec![("name", "a\nb\nc")])]
    );
}

#[test]
fn tabs_and_spaces_both_indent() {
    assert_eq!(
        summary(&config(
            "[profile foo]\nname = a\n\tb\n c\n\t \td\ns3 =\n\tx = 1\n  y = 2"
        )),
        vec![(
            "foo",
            vec![("name", "a\nb\nc\nd"), ("s3", "\nx = 1\ny = 2")]
        )]
    );
}

#[test]
fn continuation_before_any_section_is_an_error() {
    // suite 32
    assert_eq!(
        config_error(" -continued"),
        error(1, INDENTED_BEFORE_SECTION)
    );
    assert_eq!(
        credentials_error("\n# c\n\t-continued\n[foo]"),
        error(3, INDENTED_BEFORE_SECTION)
    );
}

#[test]
fn continuation_before_any_property_of_its_section_is_an_error() {
    // suite 33, 34, 58: a header resets the current property, even when it
    // repeats the same profile.
    assert_eq!(
        config_error("[profile foo]\n -continued"),
        error(2, CONTINUATION_WITHOUT_PROPERTY)
    );
    assert_eq!(
        config_error("[profile foo]\nname = value\n[profile foo]\n -continued"),
        error(4, CONTINUATION_WITHOUT_PROPERTY)
    );
    // An indented property straight after a header is a continuation too.
    assert_eq!(
        config_error("[profile foo]\n  name = value"),
        error(2, CONTINUATION_WITHOUT_PROPERTY)
    );
}

// ---------------------------------------------------------------------------
// Sub-properties
// ---------------------------------------------------------------------------

#[test]
fn empty_value_takes_sub_properties_as_raw_text() {
    // suite 45, 47, 49
    assert_eq!(
        summary(&config("[profile foo]\ns3 =\n name = value")),
        vec![("foo", vec![("s3", "\nname = value")])]
    );
    assert_eq!(
        summary(&config("[profile foo]\ns3 =\n name =")),
        vec![("foo", vec![("s3", "\nname =")])]
    );
    assert_eq!(
        summary(&config(
            "[profile foo]\ns3 =\n in valid = value\n valid = value"
        )),
        vec![("foo", vec![("s3", "\nin valid = value\nvalid = value")])]
    );
}

#[test]
fn sub_property_lines_are_kept_as_written_with_comments() {
    assert_eq!(
        summary(&config(
            "[profile foo]\ns3 =\n  name  =  value # Comment  \n\tname2=value2 ; c\nregion = x"
        )),
        vec![(
            "foo",
            vec![
                ("s3", "\nname  =  value # Comment\nname2=value2 ; c"),
                ("region", "x")
            ]
        )]
    );
}

#[test]
fn blank_lines_between_sub_properties_are_ignored() {
    // suite 50
    assert_eq!(
        summary(&config(
            "[profile foo]\ns3 =\n name = value\n\t \n name2 = value2"
        )),
        vec![("foo", vec![("s3", "\nname = value\nname2 = value2")])]
    );
}

#[test]
fn sub_property_needs_an_equals_sign() {
    // suite 46; an empty value cannot be continued with plain text.
    assert_eq!(
        config_error("[profile foo]\ns3 =\n invalid"),
        error(3, SUB_PROPERTY_WITHOUT_EQUALS)
    );
    assert_eq!(
        config_error("[profile foo]\ns3 =\n a = 1\n\n b # = 2"),
        error(5, SUB_PROPERTY_WITHOUT_EQUALS)
    );
}

#[test]
fn sub_property_needs_a_name() {
    // suite 48
    assert_eq!(
        config_error("[profile foo]\ns3 =\n = value"),
        error(3, SUB_PROPERTY_WITHOUT_NAME)
    );
    assert_eq!(
        credentials_error("[foo]\ns3 =\n\t \t= value"),
        error(3, SUB_PROPERTY_WITHOUT_NAME)
    );
}

// ---------------------------------------------------------------------------
// Line endings, BOM, line numbers
// ---------------------------------------------------------------------------

#[test]
fn crlf_line_endings_are_accepted() {
    // suite 9
    assert_eq!(
        summary(&config("[profile foo]\r\nname = value")),
        vec![("foo", vec![("name", "value")])]
    );
    assert_eq!(
        summary(&config(
            "# c\r\n[profile foo] ; c\r\nname = value \r\n -more\r\ns3 =\r\n a = 1\r\n\r\n"
        )),
        vec![("foo", vec![("name", "value\n-more"), ("s3", "\na = 1")])]
    );
}

#[test]
fn mixed_line_endings_are_accepted_and_kept() {
    let text = "[profile foo]\r\na = 1\nb = 2\r\n c\n[bar]\r\n";
    let doc = document(text, FileKind::Config);
    let endings: Vec<&str> = doc.lines.iter().map(|l| l.ending).collect();
    assert_eq!(endings, ["\r\n", "\n", "\r\n", "\n", "\r\n"]);
    assert_eq!(
        summary(&config(text)),
        vec![("foo", vec![("a", "1"), ("b", "2\nc")])]
    );
}

#[test]
fn lone_carriage_return_is_not_a_line_break() {
    let doc = document("[profile foo]\nname = a\rb\n", FileKind::Config);
    assert_eq!(doc.lines.len(), 2);
    assert_eq!(
        summary(&config("[profile foo]\nname = a\rb\n")),
        vec![("foo", vec![("name", "a\rb")])]
    );
}

#[test]
fn last_line_needs_no_newline() {
    let with = document("[profile foo]\nname = value\n", FileKind::Config);
    let without = document("[profile foo]\nname = value", FileKind::Config);
    assert_eq!(
        with.lines.iter().map(|l| l.ending).collect::<Vec<_>>(),
        ["\n", "\n"]
    );
    assert_eq!(
        without.lines.iter().map(|l| l.ending).collect::<Vec<_>>(),
        ["\n", ""]
    );
    assert_eq!(
        Profiles::from_documents(Some(&with), None),
        Profiles::from_documents(Some(&without), None)
    );
    assert_eq!(
        summary(&config("[profile foo]\r\nname = value")),
        summary(&config("[profile foo]\nname = value\n"))
    );
}

#[test]
fn leading_byte_order_mark_is_accepted_and_kept() {
    let text = "\u{feff}[profile foo]\r\nname = value\r\n";
    let doc = document(text, FileKind::Config);
    assert_eq!(doc.lines[0].text, "\u{feff}[profile foo]");
    assert_eq!(
        summary(&config(text)),
        vec![("foo", vec![("name", "value")])]
    );
    assert_eq!(
        summary(&credentials("\u{feff}# c\n[foo]\nk = v")),
        vec![("foo", vec![("k", "v")])]
    );
    assert_eq!(
        config_error("\u{feff}name = value"),
        error(1, PROPERTY_BEFORE_SECTION)
    );
}

#[test]
fn byte_order_mark_alone_renders_back() {
    for text in ["\u{feff}", "\u{feff}\n"] {
        let doc = document(text, FileKind::Config);
        assert_eq!(doc.render(), text);
    }
}

#[test]
fn byte_order_mark_after_the_start_is_not_stripped() {
    // Only a leading BOM is special: later, U+FEFF is an ordinary character,
    // so here it makes an invalid property name, which is dropped.
    assert_eq!(
        summary(&config("[profile foo]\n\u{feff}name = value\nok = 1")),
        vec![("foo", vec![("ok", "1")])]
    );
}

#[test]
fn error_line_numbers_count_blank_and_comment_lines() {
    let text = "# c\n\n; c\n[profile foo]\n\n  # indented\nname = v\n -more\nbad line\n";
    assert_eq!(config_error(text), error(9, PROPERTY_WITHOUT_EQUALS));
    // The same with CRLF endings and a BOM.
    let crlf = format!("\u{feff}{}", text.replace('\n', "\r\n"));
    assert_eq!(config_error(&crlf), error(9, PROPERTY_WITHOUT_EQUALS));
    // The first line is line 1.
    assert_eq!(config_error("junk"), error(1, PROPERTY_BEFORE_SECTION));
}

#[test]
fn error_in_credentials_file_names_that_file() {
    let e = parse_error("[foo]\nname = v\noops\n", FileKind::Credentials);
    assert_eq!(e.path, Path::new(CREDENTIALS));
    assert_eq!((e.line, e.message.as_str()), (3, PROPERTY_WITHOUT_EQUALS));
    assert_eq!(
        e.to_string(),
        format!(
            "{} line 3: {PROPERTY_WITHOUT_EQUALS}",
            mfa::paths::display(Path::new(CREDENTIALS))
        )
    );
    let e = parse_error("[profile foo\n", FileKind::Config);
    assert_eq!(e.path, Path::new(CONFIG));
}

/// Whether `message` holds any 6 characters of `secret` in a row.
fn quotes_part_of(message: &str, secret: &str) -> bool {
    let chars: Vec<char> = secret.chars().collect();
    chars
        .windows(6)
        .any(|w| message.contains(&w.iter().collect::<String>()))
}

#[test]
fn error_messages_never_quote_a_property_line() {
    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYFAKESECRET";
    let cases = [
        (
            format!("aws_secret_access_key = {SECRET}"),
            FileKind::Credentials,
        ),
        (
            format!("[foo]\naws_secret_access_key {SECRET}"),
            FileKind::Credentials,
        ),
        (
            format!("[foo]\naws_secret_access_key: {SECRET}"),
            FileKind::Credentials,
        ),
        (format!("[foo]\n= {SECRET}"), FileKind::Credentials),
        (format!(" {SECRET}"), FileKind::Credentials),
        (format!("[foo]\n {SECRET}"), FileKind::Credentials),
        (format!("[foo]\ns3 =\n {SECRET}"), FileKind::Credentials),
        (format!("[foo]\ns3 =\n = {SECRET}"), FileKind::Credentials),
        (format!("[profile foo]\nkey {SECRET}"), FileKind::Config),
    ];
    for (text, kind) in cases {
        let e = parse_error(&text, kind);
        assert!(!quotes_part_of(&e.to_string(), SECRET), "{text:?}: {e}");
        assert!(!e.message.contains("aws_secret"), "{text:?}: {e}");
    }
}

#[test]
fn error_messages_never_quote_a_secret_on_a_malformed_header_line() {
    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYFAKESECRET";
    for text in [
        format!("[default] aws_secret_access_key = {SECRET}"),
        format!("[default aws_secret_access_key = {SECRET}"),
    ] {
        let e = parse_error(&text, FileKind::Credentials);
        assert!(!quotes_part_of(&e.to_string(), SECRET), "{text:?}: {e}");
    }
}

// ---------------------------------------------------------------------------
// Suggestions
// ---------------------------------------------------------------------------

#[test]
fn misspelled_profile_name_gets_close_suggestions_best_first() {
    let profiles = both(
        "[profile production]\n[profile staging]\n[default]",
        "[prod-admin]\n[dev]",
    );
    assert_eq!(
        profiles.suggestions("prodution"),
        ["production", "prod-admin"]
    );
    assert_eq!(profiles.suggestions("Staging"), ["staging"]);
    // Equal scores keep profile order (config first).
    assert_eq!(profiles.suggestions("prod"), ["production", "prod-admin"]);
    assert_eq!(profiles.suggestions("zzz"), Vec::<&str>::new());
}

// ---------------------------------------------------------------------------
// Round trip, over generated files
// ---------------------------------------------------------------------------

#[test]
fn render_gives_back_the_exact_input_of_every_valid_case() {
    let texts = [
        "",
        "\n",
        "\r\n",
        " \t",
        "\u{feff}[default]\r\nregion = eu-west-1",
        "[profile foo] ; c\r\nname = value # c\n -more\ns3 =\n\ta = 1\r\n\r\n",
        "# only\n; comments",
        "[profile foo]\nname = a\rb",
        "[profile foo]\nname = value\r",
    ];
    for text in texts {
        for kind in [FileKind::Config, FileKind::Credentials] {
            let doc = document(text, kind);
            assert_eq!(doc.render(), text);
        }
    }
}

/// Lines the generated files are made of: valid and invalid, with fake
/// secrets only where a header cannot be.
const FRAGMENTS: &[&str] = &[
    "",
    " \t",
    "# comment",
    "  ; indented comment",
    "[default]",
    "[profile default]",
    "[profile foo]",
    "[   profile  bar ] # c",
    "[profile\tfoo];c",
    "[foo]",
    "[sso-session s]",
    "[]",
    "[profile in valid]",
    "[profile foo",
    "[profile foo] junk",
    "name = value",
    "Name=value2 ;c",
    "url = a#b",
    "s3 =",
    "  max_concurrent_requests = 10",
    "\t-continued # x",
    "  [profile baz]",
    " = x",
    "= x",
    "junk",
    "in valid = x",
    "aws_secret_access_key = FAKESECRET",
    "aws_secret_access_key FAKESECRET",
    "  FAKESECRET",
    "= FAKESECRET",
    "val\rue = x",
    "😂 = 😂",
];

fn outcome(text: &str, kind: FileKind) -> Result<Profiles, (usize, String)> {
    match parse(text, path_of(kind), kind) {
        Ok(doc) => Ok(match kind {
            FileKind::Config => Profiles::from_documents(Some(&doc), None),
            FileKind::Credentials => Profiles::from_documents(None, Some(&doc)),
        }),
        Err(e) => Err((e.line, e.message)),
    }
}

proptest! {
    #[test]
    fn generated_files_render_back_and_line_endings_do_not_change_meaning(
        lines in prop::collection::vec((0..FRAGMENTS.len(), any::<bool>()), 0..12),
        final_newline in any::<bool>(),
        bom in any::<bool>(),
        credentials_file in any::<bool>(),
    ) {
        let kind = if credentials_file { FileKind::Credentials } else { FileKind::Config };
        let mut text = String::new();
        let mut plain = String::new();
        for (i, &(fragment, crlf)) in lines.iter().enumerate() {
            text.push_str(FRAGMENTS[fragment]);
            plain.push_str(FRAGMENTS[fragment]);
            if i + 1 < lines.len() || final_newline {
                text.push_str(if crlf { "\r\n" } else { "\n" });
                plain.push('\n');
            }
        }
        if bom {
            text.insert(0, '\u{feff}');
        }
        match parse(&text, path_of(kind), kind) {
            Ok(doc) => prop_assert_eq!(doc.render(), text.clone()),
            Err(e) => {
                prop_assert_eq!(e.path.as_path(), path_of(kind));
                prop_assert!(e.line >= 1 && e.line <= lines.len(), "line {} of {}", e.line, lines.len());
                prop_assert!(!quotes_part_of(&e.to_string(), "FAKESECRET"), "{}", e);
            }
        }
        // CRLF endings and a BOM change nothing but the bytes.
        prop_assert_eq!(outcome(&text, kind), outcome(&plain, kind));
    }
}
