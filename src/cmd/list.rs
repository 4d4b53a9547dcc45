//! `mfa list`: every profile, with its kind and cached session.

use std::collections::HashMap;

use anyhow::Result;
use serde::Serialize;

use crate::cache::Cache;
use crate::cli::JsonArgs;
use crate::config::Profiles;
use crate::context::{Clock, Env, SystemClock};
use crate::creds::{human_duration, rfc3339};
use crate::resolve;

#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Row {
    pub name: String,
    pub kind: &'static str,
    pub mfa_serial: Option<String>,
    pub role_arn: Option<String>,
    pub source_profile: Option<String>,
    pub region: Option<String>,
    /// When the cached session this profile would use expires (absent
    /// when there is none, or it has expired).
    pub session_expires_at: Option<String>,
    /// Where the profile's own long-term keys live: `file` (the AWS files)
    /// or `keychain` (a key store: `key_store` names which).
    pub keys: Option<&'static str>,
    pub key_store: Option<&'static str>,
    /// The KEYS column: where the keys are (see `keys_place`).
    #[serde(skip)]
    pub keys_place: Option<String>,
    #[serde(skip)]
    pub seconds_left: Option<i64>,
}

/// Where a profile's own keys live: the files first, else a key store.
pub fn keys_location(
    profile: &crate::config::Profile,
) -> (Option<&'static str>, Option<&'static str>) {
    if profile.get_single("aws_access_key_id").is_some() {
        (Some("file"), None)
    } else if let Some(store) = profile.stored_keys {
        (Some("keychain"), Some(store))
    } else {
        (None, None)
    }
}

/// Where a profile's own keys are, for people: `credentials-file` or
/// `config-file`, else `store:NAME` (`store:file` is the encrypted key
/// store, never the credentials file).
pub fn keys_place(profile: &crate::config::Profile) -> Option<String> {
    use crate::config::FileKind;
    match keys_location(profile) {
        (Some(_), Some(store)) => Some(format!("store:{store}")),
        (Some(_), None) => {
            let origin = profile
                .properties
                .iter()
                .find(|p| p.key == "aws_access_key_id")
                .map(|p| p.origin.file);
            let file = match origin {
                Some(FileKind::Config) => "config-file",
                _ => "credentials-file",
            };
            Some(file.to_string())
        }
        _ => None,
    }
}

pub fn rows(profiles: &Profiles, cache: &Cache, now: i64) -> Vec<Row> {
    // Thousands of profiles share a few cache entries: the directory is
    // read once, and each entry at most once.
    let present = cache.entry_ids();
    let mut expirations: HashMap<String, Option<i64>> = HashMap::new();
    let mut expiration_of = |key: crate::cache::Key| -> Option<i64> {
        if present.as_ref().is_some_and(|ids| !ids.contains(&key.id)) {
            return None;
        }
        *expirations
            .entry(key.id.clone())
            .or_insert_with(|| cache.read(&key).and_then(|e| e.credentials.expiration))
    };
    // Each source followed once, and each shared key made once, with no
    // error worded: linear in the number of profiles whatever their chains.
    let mut chains = resolve::EveryChain::new(profiles);
    let mut keys = crate::session::FinalKeys::default();
    profiles
        .list
        .iter()
        .enumerate()
        .map(|(index, profile)| {
            let chain = chains.resolve(index);
            let expiration = chain
                .as_ref()
                .and_then(|chain| keys.final_key(chain))
                .and_then(&mut expiration_of)
                .filter(|e| *e > now);
            let own = |key: &str| profile.get_single(key).map(str::to_string);
            let (keys, key_store) = keys_location(profile);
            Row {
                name: profile.name.clone(),
                kind: resolve::kind_with_chain(
                    profile,
                    chain.as_ref().map(|c| c.mfa_serial.is_some()),
                ),
                mfa_serial: chain
                    .as_ref()
                    .and_then(|c| c.mfa_serial.map(str::to_string))
                    .or_else(|| own("mfa_serial")),
                role_arn: own("role_arn"),
                source_profile: own("source_profile"),
                region: own("region"),
                session_expires_at: expiration.map(rfc3339),
                keys,
                key_store,
                keys_place: keys_place(profile),
                seconds_left: expiration.map(|e| e.saturating_sub(now)),
            }
        })
        .collect()
}

pub fn run(args: JsonArgs, env: &Env) -> Result<()> {
    let files = crate::config::load(env)?;
    let rows = rows(&files.profiles, &Cache::from_env(env), SystemClock.now());
    if args.json {
        return crate::output::print_json(&rows);
    }
    let dash = || "-".to_string();
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.name.clone(),
                r.kind.to_string(),
                r.mfa_serial.clone().unwrap_or_else(dash),
                r.role_arn.clone().unwrap_or_else(dash),
                r.region.clone().unwrap_or_else(dash),
                r.keys_place.clone().unwrap_or_else(dash),
                r.seconds_left.map(human_duration).unwrap_or_else(dash),
            ]
        })
        .collect();
    crate::output::print(&crate::output::table(
        &[
            "PROFILE", "KIND", "MFA", "ROLE", "REGION", "KEYS", "SESSION",
        ],
        &cells,
    ))?;
    if rows.is_empty() {
        eprintln!("mfa: no profiles yet: `mfa setup` adds one, step by step");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolve::{MAX_CHAIN, WORK};
    use std::path::Path;

    const KEYS: &str = "aws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = secret\n";

    /// Config files of `n` profiles in each shape that once made listing
    /// quadratic (or overflowed the stack).
    fn shapes(n: usize) -> Vec<(&'static str, String)> {
        let role = |i: usize, source: String| {
            format!(
                "[profile p{i}]\nrole_arn = arn:aws:iam::1:role/r{i}\nsource_profile = {source}\n"
            )
        };
        let mut flat = format!("[profile p0]\n{KEYS}");
        let mut chain = flat.clone();
        let mut shared_tail = flat.clone();
        let mut looped = String::new();
        let mut dangling = String::new();
        for i in 1..n {
            flat.push_str(&role(i, "p0".into()));
            chain.push_str(&role(i, format!("p{}", i - 1)));
            // Branches of ten that all end on the chain p20 -> … -> p0.
            let source = if i > 20 && (i - 21) % 10 == 0 {
                20
            } else {
                i - 1
            };
            shared_tail.push_str(&role(i, format!("p{source}")));
            looped.push_str(&role(i, format!("p{}", if i + 1 < n { i + 1 } else { 1 })));
            dangling.push_str(&role(i, format!("ghost{i}")));
        }
        vec![
            ("flat", flat),
            ("one long chain", chain),
            ("chains sharing a tail", shared_tail),
            ("one long loop", looped),
            ("dangling sources", dangling),
        ]
    }

    /// Work done to list the profiles and to compute every kind (what
    /// completion does), counted in profiles visited and names compared.
    fn work(config: &str) -> usize {
        let profiles = Profiles::from_texts(Some((config, Path::new("config"))), None).unwrap();
        let cache = Cache::new(Path::new("/nonexistent/mfa-cache").to_path_buf());
        WORK.with(|w| w.set(0));
        let rows = rows(&profiles, &cache, 0);
        for profile in &profiles.list {
            resolve::kind(&profiles, profile);
        }
        assert_eq!(rows.len(), profiles.list.len());
        WORK.with(|w| w.get())
    }

    #[test]
    fn listing_is_linear_in_the_number_of_profiles_whatever_their_shape() {
        let (small, large) = (1_000, 8_000);
        for ((shape, small_config), (_, large_config)) in
            shapes(small).into_iter().zip(shapes(large))
        {
            let (a, b) = (work(&small_config), work(&large_config));
            // Eight times the profiles, eight times the work (give or
            // take the first profiles of a chain, which walk fewer steps;
            // quadratic work would be 64 times), and at most a chain's
            // worth per profile, twice: list and kind.
            assert!(
                b <= 8 * (a + MAX_CHAIN * MAX_CHAIN),
                "{shape}: {a} then {b}"
            );
            assert!(b <= 2 * MAX_CHAIN * large, "{shape}: {b}");
        }
    }

    #[test]
    fn listing_follows_each_profile_at_most_twice() {
        // Once chosen, once as a source: no chain is walked again.
        for (shape, config) in shapes(5_000) {
            let profiles =
                Profiles::from_texts(Some((&config, Path::new("config"))), None).unwrap();
            let cache = Cache::new(Path::new("/nonexistent/mfa-cache").to_path_buf());
            WORK.with(|w| w.set(0));
            rows(&profiles, &cache, 0);
            let work = WORK.with(|w| w.get());
            assert!(work <= 2 * profiles.list.len(), "{shape}: {work}");
        }
    }

    /// What `rows` knows of each profile's chain, from walking each chain
    /// (`try_resolve`) and from resolving them together: the same.
    /// Returns how many resolve.
    fn assert_every_chain_is_walked_alike(config: &str) -> usize {
        let profiles = Profiles::from_texts(Some((config, Path::new("config"))), None).unwrap();
        let mut chains = resolve::EveryChain::new(&profiles);
        let mut keys = crate::session::FinalKeys::default();
        let mut resolved = 0;
        for (index, profile) in profiles.list.iter().enumerate() {
            let walked = resolve::try_resolve(&profiles, &profile.name).map(|chain| {
                let key = crate::session::final_key(&chain).map(|k| k.id);
                (chain.root, chain.mfa_serial, key)
            });
            let together = chains.resolve(index).map(|chain| {
                let key = keys.final_key(&chain).map(|k| k.id);
                let serial = chain.mfa_serial.map(str::to_string);
                ((*chain.root).clone(), serial, key)
            });
            assert_eq!(walked, together, "profile {}", profile.name);
            resolved += usize::from(walked.is_some());
        }
        resolved
    }

    #[test]
    fn resolving_every_chain_together_gives_what_walking_each_gives() {
        // 20 of the 42 profiles resolve: the rest fail in every way there is.
        assert_eq!(
            assert_every_chain_is_walked_alike(resolve::tests::EDGES),
            20
        );
        for (shape, config) in shapes(300) {
            let resolved = assert_every_chain_is_walked_alike(&config);
            eprintln!("{shape}: {resolved} resolve");
        }
        // Chains of 31 to 33 profiles, each profile chosen in turn.
        for n in [31, 32, 33, 34] {
            let (_, chain) = shapes(n).swap_remove(1);
            assert_eq!(assert_every_chain_is_walked_alike(&chain), n.min(MAX_CHAIN));
        }
    }
}
