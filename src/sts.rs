//! STS behind a small trait, so the engine can be driven by anything that
//! answers like STS. The real one is the AWS SDK, set up lazily: a cache
//! hit never starts a runtime or reads the SDK's configuration.
//!
//! aws-config's own credential chain is not used: it sends AssumeRole
//! without SerialNumber/TokenCode and ignores `duration_seconds`, so mfa
//! makes these calls itself.

pub use crate::aws::AwsError;
use crate::aws::{Sdk, sdk_credentials};
use crate::creds::Credentials;
use crate::error::UsageError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssumeRoleRequest {
    pub role_arn: String,
    pub session_name: String,
    pub external_id: Option<String>,
    pub duration: i64,
    pub serial: Option<String>,
    pub code: Option<String>,
}

/// Who a set of credentials belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub account: String,
    pub arn: String,
    pub user_id: String,
}

impl Identity {
    /// The IAM user name, when the ARN is a user's (`…:user/path/NAME`).
    pub fn user_name(&self) -> Option<&str> {
        let (_, resource) = self.arn.split_once(":user/")?;
        resource.rsplit('/').next().filter(|n| !n.is_empty())
    }

    /// The role's name, when the ARN is an assumed role's
    /// (`…:assumed-role/NAME/SESSION`).
    pub fn role_name(&self) -> Option<&str> {
        let (_, resource) = self.arn.split_once(":assumed-role/")?;
        resource.split('/').next().filter(|n| !n.is_empty())
    }
}

pub trait Sts {
    fn get_session_token(
        &self,
        base: &Credentials,
        serial: Option<&str>,
        code: Option<&str>,
        duration: i64,
    ) -> Result<Credentials, AwsError>;

    fn assume_role(
        &self,
        base: &Credentials,
        request: &AssumeRoleRequest,
    ) -> Result<Credentials, AwsError>;

    /// Who the credentials belong to (needs no MFA).
    fn get_caller_identity(&self, base: &Credentials) -> Result<Identity, AwsError>;
}

/// STS through the AWS SDK.
pub struct SdkSts {
    sdk: Sdk,
}

impl SdkSts {
    pub fn new(profile: &str, region: &str) -> SdkSts {
        SdkSts {
            sdk: Sdk::new(profile, region),
        }
    }

    fn client(
        &self,
        base: &Credentials,
    ) -> Result<(&tokio::runtime::Runtime, aws_sdk_sts::Client), AwsError> {
        let (runtime, config) = self.sdk.state()?;
        let sts_config = aws_sdk_sts::config::Builder::from(config)
            .credentials_provider(sdk_credentials(base))
            .interceptor(self.sdk.interceptor())
            .build();
        Ok((runtime, aws_sdk_sts::Client::from_conf(sts_config)))
    }
}

/// The session policy GetFederationToken is given: without one a
/// federation session has no permissions at all; with it, the session may
/// do what the IAM user may (the intersection of the two).
pub const FEDERATION_POLICY: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

impl SdkSts {
    /// GetFederationToken with long-term keys: a federation session named
    /// `name`, with the IAM user's permissions, and no MFA (AWS has no MFA
    /// parameter for it). Only `mfa console --federation-token` asks.
    pub fn get_federation_token(
        &self,
        base: &Credentials,
        name: &str,
        duration: i64,
    ) -> Result<Credentials, AwsError> {
        let (runtime, client) = self.client(base)?;
        let request = client
            .get_federation_token()
            .name(name)
            .policy(FEDERATION_POLICY)
            .duration_seconds(duration as i32);
        let output = runtime
            .block_on(request.send())
            .map_err(|e| self.sdk.classify(e))?;
        convert(output.credentials())
    }
}

/// Whether `region` can reach the SDK as a region: host labels joined by
/// dots, each 1 to 63 letters, digits or `-`, not starting with `-` (the
/// SDK's own rule). Checked where the region is read, so that the error
/// can say where it came from instead of failing inside the SDK.
pub fn is_valid_region(region: &str) -> bool {
    region.split('.').all(|label| {
        (1..=63).contains(&label.len())
            && !label.starts_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    })
}

/// The error for a region that is not one, naming where it was read.
pub fn invalid_region(region: &str, place: &str) -> UsageError {
    // Shown as typed, but nothing that could move a terminal's cursor.
    let shown: String = region
        .chars()
        .map(|c| match c {
            ' '..='~' => c.to_string(),
            _ => c.escape_unicode().to_string(),
        })
        .collect();
    UsageError::new(format!(
        "{place}: `{shown}` is not a valid AWS region name (letters, digits and `-`, like eu-west-1)"
    ))
}

/// The region STS is called in, in the SDK's order: `AWS_REGION`,
/// `AWS_DEFAULT_REGION`, the profile's `region` (checked when it was
/// resolved), else `us-east-1`. Never the instance metadata service: on a
/// laptop it only costs a timeout.
pub fn sts_region(
    env: &crate::context::Env,
    profile_region: Option<&str>,
) -> Result<String, UsageError> {
    for var in ["AWS_REGION", "AWS_DEFAULT_REGION"] {
        if let Some(region) = env.get(var) {
            return if is_valid_region(region) {
                Ok(region.to_string())
            } else {
                Err(invalid_region(region, var))
            };
        }
    }
    match profile_region {
        Some(region) if !is_valid_region(region) => {
            Err(invalid_region(region, "the profile's region"))
        }
        Some(region) => Ok(region.to_string()),
        None => Ok("us-east-1".to_string()),
    }
}

fn convert(credentials: Option<&aws_sdk_sts::types::Credentials>) -> Result<Credentials, AwsError> {
    let c = credentials.ok_or_else(|| AwsError::Other("the answer held no credentials".into()))?;
    Ok(Credentials {
        access_key_id: c.access_key_id().to_string(),
        secret_access_key: c.secret_access_key().to_string(),
        session_token: Some(c.session_token().to_string()),
        expiration: Some(c.expiration().secs()),
    })
}

impl Sts for SdkSts {
    fn get_caller_identity(&self, base: &Credentials) -> Result<Identity, AwsError> {
        let (runtime, client) = self.client(base)?;
        let output = runtime
            .block_on(client.get_caller_identity().send())
            .map_err(|e| self.sdk.classify(e))?;
        Ok(Identity {
            account: output.account().unwrap_or_default().to_string(),
            arn: output.arn().unwrap_or_default().to_string(),
            user_id: output.user_id().unwrap_or_default().to_string(),
        })
    }

    fn get_session_token(
        &self,
        base: &Credentials,
        serial: Option<&str>,
        code: Option<&str>,
        duration: i64,
    ) -> Result<Credentials, AwsError> {
        let (runtime, client) = self.client(base)?;
        let request = client
            .get_session_token()
            .set_serial_number(serial.map(str::to_string))
            .set_token_code(code.map(str::to_string))
            .duration_seconds(duration as i32);
        let output = runtime
            .block_on(request.send())
            .map_err(|e| self.sdk.classify(e))?;
        convert(output.credentials())
    }

    fn assume_role(
        &self,
        base: &Credentials,
        r: &AssumeRoleRequest,
    ) -> Result<Credentials, AwsError> {
        let (runtime, client) = self.client(base)?;
        let request = client
            .assume_role()
            .role_arn(&r.role_arn)
            .role_session_name(&r.session_name)
            .set_external_id(r.external_id.clone())
            .duration_seconds(r.duration as i32)
            .set_serial_number(r.serial.clone())
            .set_token_code(r.code.clone());
        let output = runtime
            .block_on(request.send())
            .map_err(|e| self.sdk.classify(e))?;
        convert(output.credentials())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_are_host_labels_as_the_sdk_requires() {
        for good in [
            "eu-west-1",
            "us-gov-west-1",
            "cn-north-1",
            "local",
            "a.b",
            "x-",
        ] {
            assert!(is_valid_region(good), "{good}");
        }
        let long = "a".repeat(64);
        for bad in [
            "it's",
            "",
            "-eu",
            "eu..west",
            "eu.",
            "eu west",
            "eu\u{1}",
            "r\u{e9}gion",
            long.as_str(),
        ] {
            assert!(!is_valid_region(bad), "{bad:?}");
        }
    }
}
