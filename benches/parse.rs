//! Reading the profile files: the lossless parse of both files and the
//! merge into profiles, for 5,000 profiles and for a small config.

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mfa::config::Profiles;
use mfa::config::document::{FileKind, parse};

mod support;

fn bench(c: &mut Criterion) {
    for count in [10, 5_000] {
        let files = support::generate(count);
        let mut group = c.benchmark_group(format!("config/{count}_profiles"));
        group.throughput(Throughput::Bytes(
            (files.config.len() + files.credentials.len()) as u64,
        ));
        group.bench_function("parse", |b| {
            b.iter(|| {
                let config = parse(
                    black_box(&files.config),
                    Path::new("config"),
                    FileKind::Config,
                )
                .expect("config parses");
                let credentials = parse(
                    black_box(&files.credentials),
                    Path::new("credentials"),
                    FileKind::Credentials,
                )
                .expect("credentials parse");
                (config, credentials)
            })
        });
        let config = parse(&files.config, Path::new("config"), FileKind::Config).expect("parses");
        let credentials = parse(
            &files.credentials,
            Path::new("credentials"),
            FileKind::Credentials,
        )
        .expect("parses");
        group.bench_function("from_documents", |b| {
            b.iter(|| {
                Profiles::from_documents(Some(black_box(&config)), Some(black_box(&credentials)))
            })
        });
        group.bench_function("parse_and_merge", |b| {
            b.iter(|| {
                let config = parse(
                    black_box(&files.config),
                    Path::new("config"),
                    FileKind::Config,
                )
                .expect("config parses");
                let credentials = parse(
                    black_box(&files.credentials),
                    Path::new("credentials"),
                    FileKind::Credentials,
                )
                .expect("credentials parse");
                Profiles::from_documents(Some(&config), Some(&credentials))
            })
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
