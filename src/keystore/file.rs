//! The encrypted file store (skeleton).

use anyhow::{Result, bail};

use super::KeyStore;
use crate::context::Env;
use crate::creds::Credentials;

pub struct FileStore {
    _env: Env,
}

impl FileStore {
    pub fn new(env: &Env) -> FileStore {
        FileStore { _env: env.clone() }
    }
}

impl KeyStore for FileStore {
    fn name(&self) -> &'static str {
        "file"
    }
    fn get(&self, _profile: &str) -> Result<Option<Credentials>> {
        bail!("the file store is not built yet")
    }
    fn set(&self, _profile: &str, _keys: &Credentials) -> Result<()> {
        bail!("the file store is not built yet")
    }
    fn delete(&self, _profile: &str) -> Result<bool> {
        bail!("the file store is not built yet")
    }
}
