//! Reading the profile files, for 5,000 profiles and for a small config:
//! the profiles straight from the text (every run), and the lossless parse
//! and merge (editing).

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mfa::config::Profiles;

mod support;

fn bench(c: &mut Criterion) {
    for count in [10, 5_000] {
        let files = support::generate(count);
        let mut group = c.benchmark_group(format!("config/{count}_profiles"));
        group.throughput(Throughput::Bytes(
            (files.config.len() + files.credentials.len()) as u64,
        ));
        // What every run does: the profiles straight from the text.
        group.bench_function("from_texts", |b| b.iter(|| black_box(&files).profiles()));
        // What editing does: lossless documents, then (to compare) merged.
        group.bench_function("parse", |b| b.iter(|| black_box(&files).documents()));
        let (config, credentials) = files.documents();
        group.bench_function("from_documents", |b| {
            b.iter(|| {
                Profiles::from_documents(Some(black_box(&config)), Some(black_box(&credentials)))
            })
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
