//! What the fuzz targets in `fuzz/` found (run them with `scripts/fuzz`),
//! as plain tests: each input inline, checked by the same code as the
//! target (`fuzz/src/checks.rs`, included here by path). The committed
//! corpora of the `parse`, `resolve` and `quote` targets replay here too, so every
//! input that once reached new code stays checked on each `cargo test`.

#[allow(dead_code)]
#[path = "../fuzz/src/checks.rs"]
mod checks;

use std::path::{Path, PathBuf};

use mfa::config::FileKind;

fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut inputs: Vec<(PathBuf, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            (path, bytes)
        })
        .collect();
    inputs.sort();
    assert!(!inputs.is_empty(), "{} is empty", dir.display());
    inputs
}

/// Runs `check` on each input, naming the file of one that fails.
fn replay(target: &str, check: impl Fn(&[u8]) + std::panic::RefUnwindSafe) {
    for (path, bytes) in corpus(target) {
        if std::panic::catch_unwind(|| check(&bytes)).is_err() {
            panic!("{} fails its target's checks", path.display());
        }
    }
}

#[test]
fn parse_corpus_holds() {
    replay("parse", checks::parse_bytes);
}

#[test]
fn resolve_corpus_holds() {
    replay("resolve", checks::whole_path);
}

#[test]
fn quote_corpus_holds() {
    // The target takes its string as `arbitrary` does: the longest valid
    // UTF-8 prefix of the bytes.
    replay("quote", |bytes| {
        let text = match std::str::from_utf8(bytes) {
            Ok(text) => text,
            Err(e) => std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap(),
        };
        checks::quote(text);
    });
}

// The checks catch what they are meant to: a decoder that accepted
// anything would make the quote target pass on broken quoting.

#[test]
fn fish_decoder_follows_fish_single_quotes() {
    assert_eq!(checks::decode_fish(r"'a\\b\'c'").as_deref(), Ok(r"a\b'c"));
    assert_eq!(checks::decode_fish(r"'a\b'").as_deref(), Ok(r"a\b"));
    assert!(checks::decode_fish("'a'b'").is_err());
    assert!(checks::decode_fish(r"'a\'").is_err());
    assert!(checks::decode_fish("a").is_err());
}

#[test]
fn powershell_decoder_ends_at_any_single_quote() {
    assert_eq!(checks::decode_powershell("'it''s'").as_deref(), Ok("it's"));
    assert_eq!(
        checks::decode_powershell("'\u{2019}\u{2018}x'").as_deref(),
        Ok("\u{2018}x")
    );
    assert!(checks::decode_powershell("'a\u{2019}b'").is_err());
    assert!(checks::decode_powershell("'a'").is_ok());
    assert!(checks::decode_powershell("'a").is_err());
}

#[test]
fn secret_check_sees_a_quoted_value() {
    let text = "[a]\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG\n";
    checks::assert_quotes_no_value(text, "line 2: a bad line", &[]);
    let quoted = std::panic::catch_unwind(|| {
        checks::assert_quotes_no_value(text, "line 2: `wJalrXUtn` is bad", &[])
    });
    assert!(quoted.is_err());
    assert_eq!(
        checks::with_canary("[a\r\nk = v\n").as_deref(),
        Some(format!("[a\r\nk = {}\n", checks::CANARY).as_str())
    );
}

// The inputs the targets stopped on. Both were mistakes of the checks, not
// of mfa; they stay as tests so the checks keep getting them right.

#[test]
fn edit_leaves_a_lone_cr_alone_when_it_writes_nothing_after_it() {
    // `edit` found (simplified): the check took a lone CR at the end of
    // the file as always becoming a CRLF, but an edit that writes nothing
    // after that line keeps it, and `y` keeps reading `2\r`.
    checks::edit(
        "[a]\nx = 1\ny = 2\r",
        FileKind::Credentials,
        "a",
        &[("x", "3")],
    );
    checks::edit(
        "[b]\n[a]\nx = 1\n[b]\ny = 2\r",
        FileKind::Credentials,
        "a",
        &[("z", "3")],
    );
}

#[test]
fn edit_errors_may_name_a_key_that_looks_like_a_value() {
    // `edit` found: an InvalidKey message names the key, and a value of
    // another property shared a run with it; the key is no secret.
    checks::edit(
        "",
        FileKind::Config,
        "a",
        &[
            ("CCCCCCCCCC", ""),
            ("CCCCCCCCCPPPPPPPPPPPPPPPPCCCCCCCCCCCBC&C", ""),
            ("region", "CCCCCCCPPPPPPPPPPX"),
        ],
    );
}

#[test]
fn edit_checks_hold_on_the_documented_cases() {
    // The lone CR of an unterminated last line, which an edit turns into a
    // CRLF ending (the one change to another profile that edit.rs allows).
    checks::edit("[b]\ny = 1\r", FileKind::Credentials, "a", &[("x", "1")]);
    checks::edit(
        "[default]\nx = bare\n\n[profile default]\ny = 2\n",
        FileKind::Config,
        "default",
        &[("x", "1")],
    );
    checks::edit("\u{feff}", FileKind::Config, "a", &[("x", "")]);
}

/// Without libFuzzer (a machine that cannot build the instrumented crate
/// in time): the `resolve` target's check on random mutations of its
/// corpus for `MFA_FUZZ_SECONDS` (default 60). Not guided by coverage, so
/// no replacement for `scripts/fuzz`; a crash is written to
/// fuzz/artifacts/resolve/ for a regression test here.
/// `MFA_FUZZ_SECONDS=300 cargo test --test fuzz_regressions -- --ignored`
#[test]
#[ignore]
fn resolve_check_holds_on_random_mutations() {
    const TOKENS: [&str; 24] = [
        "[profile ",
        "]\n",
        "[default]\n",
        "[profile default]\n",
        "\0",
        " = ",
        "\n",
        "\r\n",
        "  ",
        "\t",
        "\u{1}",
        "aws_access_key_id",
        "aws_secret_access_key",
        "aws_session_token",
        "source_profile",
        "role_arn = arn:aws:iam::1:role/r",
        "mfa_serial",
        "region",
        "credential_process",
        "duration_seconds",
        "mfa_session_duration",
        "sso_session",
        "external_id",
        "it's",
    ];
    let seconds: u64 = std::env::var("MFA_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let seeds: Vec<Vec<u8>> = corpus("resolve").into_iter().map(|(_, b)| b).collect();
    let mut state: u64 = std::env::var("MFA_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x9e37_79b9_7f4a_7c15);
    let mut next = move |below: usize| -> usize {
        // xorshift64*
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        (state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as usize % below.max(1)
    };
    let started = std::time::Instant::now();
    let mut runs = 0u64;
    while started.elapsed().as_secs() < seconds {
        let mut input = seeds[next(seeds.len())].clone();
        for _ in 0..=next(8) {
            let at = next(input.len() + 1);
            match next(6) {
                0 => input.insert(at, next(256) as u8),
                1 if at < input.len() => {
                    input.remove(at);
                }
                2 if at < input.len() => input[at] = next(256) as u8,
                3 => {
                    let token = TOKENS[next(TOKENS.len())].as_bytes();
                    input.splice(at..at, token.iter().copied());
                }
                4 => {
                    // Repeat a stretch: long chains, many sections.
                    let end = (at + next(200)).min(input.len());
                    let stretch = input[at..end].to_vec();
                    for _ in 0..next(50) {
                        input.splice(at..at, stretch.iter().copied());
                    }
                }
                _ => {
                    let other = &seeds[next(seeds.len())];
                    let from = next(other.len());
                    let end = (from + next(400)).min(other.len());
                    input.splice(at..at, other[from..end].iter().copied());
                }
            }
        }
        input.truncate(64 * 1024);
        if std::panic::catch_unwind(|| checks::whole_path(&input)).is_err() {
            let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/artifacts/resolve");
            std::fs::create_dir_all(&dir).unwrap();
            let path = dir.join(format!("crash-{runs}"));
            std::fs::write(&path, &input).unwrap();
            panic!("whole_path failed; the input is in {}", path.display());
        }
        runs += 1;
    }
    eprintln!("{runs} mutated inputs held in {seconds}s");
}
