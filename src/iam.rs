//! IAM behind a small trait, for `mfa device`: the calls that create,
//! enable and list virtual MFA devices. The real one is the AWS SDK with
//! the same HTTP stack as STS (`AWS_ENDPOINT_URL_IAM` works).

use crate::aws::{AwsError, Sdk, sdk_credentials};
use crate::creds::Credentials;

pub mod admin;

/// A device as `CreateVirtualMFADevice` returns it.
#[derive(Clone, PartialEq, Eq)]
pub struct NewDevice {
    pub serial: String,
    /// The TOTP seed, base32: a secret, shown only on request.
    pub seed_base32: String,
}

impl std::fmt::Debug for NewDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewDevice")
            .field("serial", &self.serial)
            .field("seed_base32", &"********")
            .finish()
    }
}

/// A device as the list calls return it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Device {
    pub serial: String,
    pub user: Option<String>,
    /// Unix seconds; `None` for a device that was created but not enabled.
    #[serde(serialize_with = "enabled_at")]
    pub enabled_at: Option<i64>,
}

fn enabled_at<S: serde::Serializer>(value: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(unix) => s.serialize_str(&crate::creds::rfc3339(*unix)),
        None => s.serialize_none(),
    }
}

/// A new access key: the secret is shown to no one.
#[derive(Clone, PartialEq, Eq)]
pub struct NewKey {
    pub access_key_id: String,
    pub secret_access_key: String,
}

pub trait Iam {
    /// A new access key for the caller.
    fn create_access_key(&self, base: &Credentials) -> Result<NewKey, AwsError>;
    /// Deletes one of the caller's access keys.
    fn delete_access_key(&self, base: &Credentials, access_key_id: &str) -> Result<(), AwsError>;
    fn create_virtual_mfa_device(
        &self,
        base: &Credentials,
        name: &str,
    ) -> Result<NewDevice, AwsError>;
    fn enable_mfa_device(
        &self,
        base: &Credentials,
        user: &str,
        serial: &str,
        code1: &str,
        code2: &str,
    ) -> Result<(), AwsError>;
    /// The user's devices: enabled ones, and virtual ones made for them but
    /// not yet enabled.
    fn list_mfa_devices(&self, base: &Credentials, user: &str) -> Result<Vec<Device>, AwsError>;
}

pub struct SdkIam {
    sdk: Sdk,
}

impl SdkIam {
    /// IAM is global: its calls are signed for us-east-1.
    pub fn new(profile: &str) -> SdkIam {
        SdkIam {
            sdk: Sdk::new(profile, "us-east-1"),
        }
    }

    fn client(
        &self,
        base: &Credentials,
    ) -> Result<(&tokio::runtime::Runtime, aws_sdk_iam::Client), AwsError> {
        let (runtime, config) = self.sdk.state()?;
        let iam_config = aws_sdk_iam::config::Builder::from(config)
            .credentials_provider(sdk_credentials(base))
            .interceptor(self.sdk.interceptor())
            .build();
        Ok((runtime, aws_sdk_iam::Client::from_conf(iam_config)))
    }
}

impl SdkIam {
    /// One IAM call: `request` builds it on the client and sends it.
    fn send<T, E, F>(
        &self,
        base: &Credentials,
        request: impl FnOnce(aws_sdk_iam::Client) -> F,
    ) -> Result<T, AwsError>
    where
        F: std::future::Future<
                Output = Result<
                    T,
                    aws_sdk_iam::error::SdkError<E, aws_smithy_runtime_api::http::Response>,
                >,
            >,
        E: aws_sdk_iam::error::ProvideErrorMetadata + std::error::Error + 'static,
    {
        let (runtime, client) = self.client(base)?;
        runtime
            .block_on(request(client))
            .map_err(|e| self.sdk.classify(e))
    }

    /// A new access key for `user`, or for the caller.
    fn create_key(&self, base: &Credentials, user: Option<&str>) -> Result<NewKey, AwsError> {
        let output = self.send(base, |client| {
            client
                .create_access_key()
                .set_user_name(user.map(str::to_string))
                .send()
        })?;
        let key = output
            .access_key()
            .ok_or_else(|| AwsError::Other("the answer held no key".into()))?;
        Ok(NewKey {
            access_key_id: key.access_key_id().to_string(),
            secret_access_key: key.secret_access_key().to_string(),
        })
    }
}

impl Iam for SdkIam {
    fn create_access_key(&self, base: &Credentials) -> Result<NewKey, AwsError> {
        self.create_key(base, None)
    }

    fn delete_access_key(&self, base: &Credentials, access_key_id: &str) -> Result<(), AwsError> {
        let (runtime, client) = self.client(base)?;
        runtime
            .block_on(
                client
                    .delete_access_key()
                    .access_key_id(access_key_id)
                    .send(),
            )
            .map_err(|e| self.sdk.classify(e))?;
        Ok(())
    }

    fn create_virtual_mfa_device(
        &self,
        base: &Credentials,
        name: &str,
    ) -> Result<NewDevice, AwsError> {
        let (runtime, client) = self.client(base)?;
        let output = runtime
            .block_on(
                client
                    .create_virtual_mfa_device()
                    .virtual_mfa_device_name(name)
                    .send(),
            )
            .map_err(|e| self.sdk.classify(e))?;
        let device = output
            .virtual_mfa_device()
            .ok_or_else(|| AwsError::Other("the answer held no device".into()))?;
        // The seed arrives as the bytes of its base32 text.
        let seed_base32 = device
            .base32_string_seed()
            .and_then(|blob| String::from_utf8(blob.as_ref().to_vec()).ok())
            .filter(|seed| !seed.is_empty())
            .ok_or_else(|| AwsError::Other("the answer held no seed".into()))?;
        Ok(NewDevice {
            serial: device.serial_number().to_string(),
            seed_base32,
        })
    }

    fn enable_mfa_device(
        &self,
        base: &Credentials,
        user: &str,
        serial: &str,
        code1: &str,
        code2: &str,
    ) -> Result<(), AwsError> {
        let (runtime, client) = self.client(base)?;
        runtime
            .block_on(
                client
                    .enable_mfa_device()
                    .user_name(user)
                    .serial_number(serial)
                    .authentication_code1(code1)
                    .authentication_code2(code2)
                    .send(),
            )
            .map_err(|e| self.sdk.classify(e))?;
        Ok(())
    }

    fn list_mfa_devices(&self, base: &Credentials, user: &str) -> Result<Vec<Device>, AwsError> {
        let (runtime, client) = self.client(base)?;
        let enabled = runtime
            .block_on(client.list_mfa_devices().user_name(user).send())
            .map_err(|e| self.sdk.classify(e))?;
        let mut devices: Vec<Device> = enabled
            .mfa_devices()
            .iter()
            .map(|d| Device {
                serial: d.serial_number().to_string(),
                user: Some(d.user_name().to_string()),
                enabled_at: Some(d.enable_date().secs()),
            })
            .collect();
        // Created for this user (named after them) but not enabled yet:
        // listing every virtual device may be refused; that is no failure.
        if let Ok(unassigned) = runtime.block_on(
            client
                .list_virtual_mfa_devices()
                .assignment_status(aws_sdk_iam::types::AssignmentStatusType::Unassigned)
                .send(),
        ) {
            for d in unassigned.virtual_mfa_devices() {
                let serial = d.serial_number();
                let named_for_user = serial.rsplit('/').next() == Some(user);
                if named_for_user && !devices.iter().any(|x| x.serial == serial) {
                    devices.push(Device {
                        serial: serial.to_string(),
                        user: None,
                        enabled_at: None,
                    });
                }
            }
        }
        Ok(devices)
    }
}
