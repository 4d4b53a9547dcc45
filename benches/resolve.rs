//! From a profile name to a chain: a role on an MFA user, a role chained
//! through another role, and a plain user; at the start and at the end of
//! a 5,000-profile config (lookups by name go through a hash index, so
//! both ends cost the same).

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use mfa::config::Profiles;
use mfa::resolve::{Overrides, resolve};

mod support;

fn profiles(count: usize) -> Profiles {
    support::generate(count).profiles()
}

fn bench(c: &mut Criterion) {
    let overrides = Overrides::default();
    let with_role = Overrides {
        role_arn: Some("arn:aws:iam::123456789012:role/extra".to_string()),
        duration: Some(900),
    };
    for (count, cases) in [
        (
            10,
            vec!["user-0000", "role-0001", "chain-0005", "mfarole-0007"],
        ),
        (
            5_000,
            vec!["role-0001", "chain-0005", "chain-4995", "plain-4999"],
        ),
    ] {
        let profiles = profiles(count);
        let mut group = c.benchmark_group(format!("resolve/{count}_profiles"));
        for name in cases {
            let chain = resolve(&profiles, name, &overrides).expect("resolves");
            assert!(chain.roles.len() <= 2);
            group.bench_function(name, |b| {
                b.iter(|| resolve(black_box(&profiles), black_box(name), &overrides))
            });
        }
        group.bench_function("chain-0005+role-arn", |b| {
            b.iter(|| resolve(black_box(&profiles), black_box("chain-0005"), &with_role))
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
