//! The `secret-service` key store (SPEC §7): the freedesktop Secret Service
//! (GNOME Keyring, KWallet, KeePassXC…) over the D-Bus session bus, in pure
//! Rust (zbus on the current-thread tokio runtime; secrets travel over the
//! bus encrypted with the protocol's dh-ietf1024-sha256-aes128-cbc-pkcs7).
//!
//! One item per profile, attributes `{service: "mfa", profile: NAME}`,
//! label `mfa: NAME`, the secret `{"AccessKeyId", "SecretAccessKey"}` as
//! JSON, stored in the default collection (unlocked first if locked: the
//! keyring may prompt for its password).

use std::collections::HashMap;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use secret_service::{EncryptionType, Item};
use zeroize::Zeroizing;

use super::KeyStore;
use crate::creds::Credentials;

/// The well-known bus name of the Secret Service.
const BUS_NAME: &str = "org.freedesktop.secrets";
/// No D-Bus method call waits longer (a prompt's answer is a signal, not a
/// call, so a person typing a keyring password is not cut short).
const METHOD_TIMEOUT: Duration = Duration::from_secs(10);
const SERVICE: &str = "mfa";
const CONTENT_TYPE: &str = "application/json";

pub struct SecretService {
    // Dropped before the runtime that drives its connection.
    service: secret_service::SecretService<'static>,
    runtime: tokio::runtime::Runtime,
}

impl SecretService {
    /// Connects to the Secret Service on the session bus. Fails at once,
    /// saying which, when there is no session bus or nothing on it owns or
    /// can start `org.freedesktop.secrets`.
    pub fn connect() -> Result<SecretService> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start the D-Bus client")?;
        let service = runtime.block_on(connect())?;
        Ok(SecretService { service, runtime })
    }

    async fn items(&self, profile: &str) -> Result<Vec<Item<'_>>> {
        let found = self
            .service
            .search_items(attributes(profile))
            .await
            .map_err(|e| failed("search", e))?;
        if !found.locked.is_empty() {
            let locked: Vec<&Item<'_>> = found.locked.iter().collect();
            self.service
                .unlock_all(&locked)
                .await
                .map_err(|e| failed("unlock", e))?;
        }
        Ok(found.unlocked.into_iter().chain(found.locked).collect())
    }
}

async fn connect() -> Result<secret_service::SecretService<'static>> {
    let conn = zbus::connection::Builder::session()
        .map_err(no_bus)?
        .method_timeout(METHOD_TIMEOUT)
        .build()
        .await
        .map_err(no_bus)?;
    let dbus = zbus::fdo::DBusProxy::new(&conn)
        .await
        .map_err(|e| anyhow!("the D-Bus session bus does not answer: {e}"))?;
    let name = zbus::names::BusName::try_from(BUS_NAME)?;
    let owned = dbus
        .name_has_owner(name)
        .await
        .map_err(|e| anyhow!("the D-Bus session bus does not answer: {e}"))?;
    if !owned {
        let activatable = dbus
            .list_activatable_names()
            .await
            .map_err(|e| anyhow!("the D-Bus session bus does not answer: {e}"))?;
        if !activatable.iter().any(|n| n.as_str() == BUS_NAME) {
            bail!(
                "no Secret Service on the D-Bus session bus (no keyring daemon such as gnome-keyring owns or can start {BUS_NAME})"
            );
        }
    }
    secret_service::SecretService::connect_with_existing(EncryptionType::Dh, conn)
        .await
        .map_err(|e| anyhow!("the Secret Service does not answer: {e}"))
}

fn no_bus(e: zbus::Error) -> anyhow::Error {
    let address = std::env::var("DBUS_SESSION_BUS_ADDRESS").unwrap_or_default();
    let which = if address.is_empty() {
        String::from("DBUS_SESSION_BUS_ADDRESS is not set")
    } else {
        format!("DBUS_SESSION_BUS_ADDRESS={address}")
    };
    anyhow!("cannot reach the D-Bus session bus ({which}): {e}")
}

fn failed(what: &str, e: secret_service::Error) -> anyhow::Error {
    match e {
        secret_service::Error::Prompt => {
            anyhow!(
                "the keyring is locked, and its unlock prompt was dismissed or could not be shown (no display?)"
            )
        }
        secret_service::Error::Locked => anyhow!("the keyring is locked"),
        e => anyhow!("the Secret Service failed to {what}: {e}"),
    }
}

fn attributes(profile: &str) -> HashMap<&str, &str> {
    HashMap::from([("service", SERVICE), ("profile", profile)])
}

impl KeyStore for SecretService {
    fn name(&self) -> &'static str {
        "secret-service"
    }

    fn get(&self, profile: &str) -> Result<Option<Credentials>> {
        self.runtime.block_on(async {
            let items = self.items(profile).await?;
            let Some(item) = items.first() else {
                return Ok(None);
            };
            let secret = Zeroizing::new(
                item.get_secret()
                    .await
                    .map_err(|e| failed("read an item", e))?,
            );
            let keys = super::decode_keys(&secret).ok_or_else(|| {
                anyhow!(
                    "the Secret Service item of profile `{profile}` (label `mfa: {profile}`) is not mfa's JSON keys"
                )
            })?;
            Ok(Some(keys))
        })
    }

    fn set(&self, profile: &str, keys: &Credentials) -> Result<()> {
        let secret = super::encode_keys(keys)?;
        self.runtime.block_on(async {
            let collection = match self.service.get_default_collection().await {
                Ok(c) => c,
                Err(secret_service::Error::NoResult) => bail!(
                    "the Secret Service has no default keyring to store the keys in: create one (e.g. with seahorse), or use MFA_BACKEND=file"
                ),
                Err(e) => return Err(failed("find the default keyring", e)),
            };
            collection
                .ensure_unlocked()
                .await
                .map_err(|e| failed("unlock the default keyring", e))?;
            // Replaced in the default collection; copies elsewhere (another
            // collection once default) go, so one item per profile remains.
            let created = collection
                .create_item(
                    &format!("mfa: {profile}"),
                    attributes(profile),
                    &secret,
                    true,
                    CONTENT_TYPE,
                )
                .await
                .map_err(|e| failed("store the keys", e))?;
            for item in self.items(profile).await? {
                if item.item_path != created.item_path {
                    item.delete()
                        .await
                        .map_err(|e| failed("delete an older item", e))?;
                }
            }
            Ok(())
        })
    }

    fn delete(&self, profile: &str) -> Result<bool> {
        self.runtime.block_on(async {
            let items = self.items(profile).await?;
            for item in &items {
                item.delete()
                    .await
                    .map_err(|e| failed("delete an item", e))?;
            }
            Ok(!items.is_empty())
        })
    }
}
