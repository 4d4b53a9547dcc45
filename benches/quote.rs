//! Quoting for each shell: a realistic session token, and hostile strings
//! (quotes of every kind, expansions, control characters, non-ASCII).

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mfa::shell::Shell;

fn cases() -> Vec<(&'static str, String)> {
    // An STS session token: about 700 characters of base64.
    let token: String = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQ+/="
        .chars()
        .cycle()
        .take(700)
        .collect();
    let hostile = concat!(
        "it's \"quoted\" `cmd` $(rm -rf ~) ${HOME} $HOME \\ \\' '\\'' ",
        "; & | < > * ? [a] {a,b} ~ # ! % ^ \n\r\t \u{7} \u{1b}[31m ",
        "ünïcødé ✓ 🔐 \u{200b} \u{2028} $env:PATH @' '@ \"@ @\" (x) -- ",
    )
    .to_string();
    let quotes: String = "'\"`$\\".repeat(100);
    vec![
        ("access_key_id", "ASIAIOSFODNN7EXAMPLE".to_string()),
        ("session_token", token),
        ("hostile", hostile),
        ("quotes_500", quotes),
    ]
}

fn bench(c: &mut Criterion) {
    for (label, value) in cases() {
        let mut group = c.benchmark_group(format!("quote/{label}"));
        group.throughput(Throughput::Bytes(value.len() as u64));
        for shell in Shell::ALL {
            group.bench_function(format!("{shell}/quote"), |b| {
                b.iter(|| black_box(shell).quote(black_box(&value)))
            });
            group.bench_function(format!("{shell}/set_var"), |b| {
                b.iter(|| black_box(shell).set_var("AWS_SESSION_TOKEN", black_box(&value)))
            });
        }
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
