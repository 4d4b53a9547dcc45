//! The generated profile files the benches read: the same shape as the
//! ones `scripts/bench` writes (groups of ten profiles: an MFA user, four
//! roles on it, two roles chained through the first role, a role with its
//! own `mfa_serial` on a plain user, and two plain users).

#![allow(dead_code)]

use std::fmt::Write;
use std::path::Path;

use mfa::config::Profiles;
use mfa::config::document::{Document, FileKind, parse};

pub struct Files {
    pub config: String,
    pub credentials: String,
}

impl Files {
    /// Both files as lossless documents (the road editing takes).
    pub fn documents(&self) -> (Document, Document) {
        let config =
            parse(&self.config, Path::new("config"), FileKind::Config).expect("the config parses");
        let credentials = parse(
            &self.credentials,
            Path::new("credentials"),
            FileKind::Credentials,
        )
        .expect("the credentials parse");
        (config, credentials)
    }

    /// The merged profiles straight from the text (the road every run takes).
    pub fn profiles(&self) -> Profiles {
        Profiles::from_texts(
            Some((&self.config, Path::new("config"))),
            Some((&self.credentials, Path::new("credentials"))),
        )
        .expect("the files parse")
    }
}

/// `count` profiles (a multiple of ten).
pub fn generate(count: usize) -> Files {
    let mut config = String::new();
    let mut credentials = String::new();
    for i in 0..count {
        let group = i - i % 10;
        let account = 100_000_000_000u64 + (group / 10) as u64;
        match i % 10 {
            0 => {
                let _ = write!(
                    config,
                    "[profile user-{i:04}]\nmfa_serial = arn:aws:iam::{account}:mfa/user-{i:04}\nregion = eu-west-1\n\n"
                );
                let _ = write!(
                    credentials,
                    "[user-{i:04}]\naws_access_key_id = AKIA{i:016}\naws_secret_access_key = {}\n\n",
                    secret(i)
                );
            }
            1..=4 => {
                let _ = write!(
                    config,
                    "[profile role-{i:04}]\nrole_arn = arn:aws:iam::{account}:role/role-{i:04}\nsource_profile = user-{group:04}\n\n"
                );
            }
            5 | 6 => {
                let _ = write!(
                    config,
                    "[profile chain-{i:04}]\nrole_arn = arn:aws:iam::{account}:role/chain-{i:04}\nsource_profile = role-{:04}\nduration_seconds = 1800\n\n",
                    group + 1
                );
            }
            7 => {
                let _ = write!(
                    config,
                    "[profile mfarole-{i:04}]\nrole_arn = arn:aws:iam::{account}:role/mfarole-{i:04}\nmfa_serial = arn:aws:iam::{account}:mfa/plain-{:04}\nsource_profile = plain-{:04}\n\n",
                    group + 8,
                    group + 8
                );
            }
            _ => {
                let _ = write!(config, "[profile plain-{i:04}]\nregion = us-west-2\n\n");
                let _ = write!(
                    credentials,
                    "[plain-{i:04}]\naws_access_key_id = AKIA{i:016}\naws_secret_access_key = {}\n\n",
                    secret(i)
                );
            }
        }
    }
    Files {
        config,
        credentials,
    }
}

fn secret(i: usize) -> String {
    format!("{i:040}")
}
