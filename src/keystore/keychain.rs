//! The `keychain` key store (SPEC §7): the macOS Keychain, through the
//! `keyring` crate's portable `Entry` API (its `apple-native` store).
//!
//! One generic password per profile: service `mfa`, account the profile
//! name, the password the same JSON keys as the Secret Service item. The
//! code is the same on every platform: on macOS keyring's default store is
//! the Keychain; elsewhere nothing selects this store, and the tests run
//! it against a store they register through keyring's own API, so that
//! what macOS runs is compiled and tested on Linux too.

use anyhow::{Result, anyhow};
use zeroize::Zeroizing;

use super::KeyStore;
use crate::creds::Credentials;

const SERVICE: &str = "mfa";

/// Whether this platform has the Keychain (the store `keychain` opens).
pub const AVAILABLE: bool = cfg!(target_os = "macos");

pub struct Keychain;

fn entry(profile: &str) -> Result<keyring::Entry> {
    keyring::Entry::new(SERVICE, profile).map_err(|e| failed("open the entry of", profile, e))
}

/// The keychain's own message, which names no secret (keyring's errors
/// carry none), and what mfa was doing.
fn failed(what: &str, profile: &str, e: keyring::Error) -> anyhow::Error {
    anyhow!("the Keychain failed to {what} profile `{profile}`: {e}")
}

impl KeyStore for Keychain {
    fn name(&self) -> &'static str {
        "keychain"
    }

    fn get(&self, profile: &str) -> Result<Option<Credentials>> {
        let secret = match entry(profile)?.get_password() {
            Ok(secret) => Zeroizing::new(secret),
            Err(keyring::Error::NoEntry) => return Ok(None),
            Err(e) => return Err(failed("read the keys of", profile, e)),
        };
        super::decode_keys(secret.as_bytes())
            .map(Some)
            .ok_or_else(|| {
                anyhow!(
                    "the Keychain item of profile `{profile}` (service `{SERVICE}`) is not mfa's JSON keys"
                )
            })
    }

    fn set(&self, profile: &str, keys: &Credentials) -> Result<()> {
        let secret = super::encode_keys(keys)?;
        // JSON of two strings is UTF-8: the Keychain stores it as a password.
        let text = std::str::from_utf8(&secret)?;
        entry(profile)?
            .set_password(text)
            .map_err(|e| failed("store the keys of", profile, e))
    }

    fn delete(&self, profile: &str) -> Result<bool> {
        match entry(profile)?.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring::Error::NoEntry) => Ok(false),
            Err(e) => Err(failed("delete the keys of", profile, e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::any::Any;
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex, Once};

    use keyring::credential::{Credential, CredentialApi, CredentialBuilderApi};

    use super::*;

    type Items = Arc<Mutex<HashMap<(String, String), Vec<u8>>>>;

    /// A store kept in memory and shared by every entry, registered as
    /// keyring's default the way the Keychain is on macOS. Profiles named
    /// `broken…` fail as a locked keychain would.
    #[derive(Debug)]
    struct MemoryStore(Items);

    #[derive(Debug)]
    struct MemoryItem {
        items: Items,
        id: (String, String),
    }

    impl CredentialBuilderApi for MemoryStore {
        fn build(
            &self,
            _target: Option<&str>,
            service: &str,
            user: &str,
        ) -> keyring::Result<Box<Credential>> {
            Ok(Box::new(MemoryItem {
                items: self.0.clone(),
                id: (service.to_string(), user.to_string()),
            }))
        }

        fn as_any(&self) -> &dyn Any {
            self
        }
    }

    impl MemoryItem {
        fn check(&self) -> keyring::Result<()> {
            if self.id.1.starts_with("broken") {
                return Err(keyring::Error::NoStorageAccess(
                    "the keychain is locked".into(),
                ));
            }
            Ok(())
        }
    }

    impl CredentialApi for MemoryItem {
        fn set_secret(&self, secret: &[u8]) -> keyring::Result<()> {
            self.check()?;
            self.items
                .lock()
                .unwrap()
                .insert(self.id.clone(), secret.to_vec());
            Ok(())
        }

        fn get_secret(&self) -> keyring::Result<Vec<u8>> {
            self.check()?;
            self.items
                .lock()
                .unwrap()
                .get(&self.id)
                .cloned()
                .ok_or(keyring::Error::NoEntry)
        }

        fn delete_credential(&self) -> keyring::Result<()> {
            self.check()?;
            match self.items.lock().unwrap().remove(&self.id) {
                Some(_) => Ok(()),
                None => Err(keyring::Error::NoEntry),
            }
        }

        fn as_any(&self) -> &dyn Any {
            self
        }
    }

    fn store() -> Items {
        static REGISTER: Once = Once::new();
        static ITEMS: Mutex<Option<Items>> = Mutex::new(None);
        REGISTER.call_once(|| {
            let items = Items::default();
            *ITEMS.lock().unwrap() = Some(items.clone());
            keyring::set_default_credential_builder(Box::new(MemoryStore(items)));
        });
        ITEMS.lock().unwrap().clone().unwrap()
    }

    fn keys() -> Credentials {
        Credentials {
            access_key_id: "AKIAKEYCHAINTEST0001".into(),
            secret_access_key: "keychain/secret+VALUE=0001".into(),
            session_token: None,
            expiration: None,
        }
    }

    #[test]
    fn keys_round_trip_as_one_json_item_per_profile() {
        let items = store();
        let store = Keychain;
        assert_eq!(store.get("team/kc-one").unwrap(), None);
        store.set("team/kc-one", &keys()).unwrap();
        // Stored under service `mfa`, account the profile, as mfa's JSON.
        let raw = items.lock().unwrap()[&("mfa".into(), "team/kc-one".into())].clone();
        let json: serde_json::Value = serde_json::from_slice(&raw).unwrap();
        assert_eq!(json["AccessKeyId"], "AKIAKEYCHAINTEST0001");
        assert_eq!(json["SecretAccessKey"], "keychain/secret+VALUE=0001");
        // A fresh entry (as a later run makes) reads them back.
        assert_eq!(store.get("team/kc-one").unwrap(), Some(keys()));
        // Set again replaces; other profiles are untouched.
        let mut newer = keys();
        newer.access_key_id = "AKIAKEYCHAINTEST0002".into();
        store.set("team/kc-one", &newer).unwrap();
        assert_eq!(store.get("team/kc-one").unwrap(), Some(newer));
        assert_eq!(store.get("kc-other").unwrap(), None);
        assert!(store.delete("team/kc-one").unwrap());
        assert!(
            !store.delete("team/kc-one").unwrap(),
            "nothing left to delete"
        );
        assert_eq!(store.get("team/kc-one").unwrap(), None);
    }

    #[test]
    fn a_foreign_item_and_a_failing_keychain_are_clear_errors_that_quote_nothing() {
        let items = store();
        items.lock().unwrap().insert(
            ("mfa".into(), "kc-foreign".into()),
            b"hunter2-not-json".to_vec(),
        );
        let e = Keychain.get("kc-foreign").unwrap_err().to_string();
        assert!(
            e.contains("kc-foreign") && e.contains("not mfa's JSON keys"),
            "{e}"
        );
        assert!(!e.contains("hunter2"), "{e}");
        for (what, e) in [
            ("read", Keychain.get("broken-kc").unwrap_err()),
            ("store", Keychain.set("broken-kc", &keys()).unwrap_err()),
            ("delete", Keychain.delete("broken-kc").unwrap_err()),
        ] {
            let e = e.to_string();
            assert!(
                e.starts_with(&format!("the Keychain failed to {what}")) && e.contains("locked"),
                "{e}"
            );
            assert!(!e.contains("keychain/secret"), "{e}");
        }
    }
}
