//! The freedesktop Secret Service over D-Bus (skeleton).

use anyhow::{Result, bail};

use super::KeyStore;
use crate::creds::Credentials;

pub struct SecretService {}

impl SecretService {
    pub fn connect() -> Result<SecretService> {
        bail!("the Secret Service store is not built yet")
    }
}

impl KeyStore for SecretService {
    fn name(&self) -> &'static str {
        "secret-service"
    }
    fn get(&self, _profile: &str) -> Result<Option<Credentials>> {
        bail!("the Secret Service store is not built yet")
    }
    fn set(&self, _profile: &str, _keys: &Credentials) -> Result<()> {
        bail!("the Secret Service store is not built yet")
    }
    fn delete(&self, _profile: &str) -> Result<bool> {
        bail!("the Secret Service store is not built yet")
    }
}
