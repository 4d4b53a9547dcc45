//! STS behind a small trait, so the engine can be driven by anything that
//! answers like STS. The real one is the AWS SDK, set up lazily: a cache
//! hit never starts a runtime or reads the SDK's configuration.
//!
//! aws-config's own credential chain is not used: it sends AssumeRole
//! without SerialNumber/TokenCode and ignores `duration_seconds`, so mfa
//! makes these calls itself.

use std::cell::OnceCell;
use std::fmt;
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_sts::config::Region;
use aws_sdk_sts::error::{ProvideErrorMetadata, SdkError};

use crate::creds::Credentials;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssumeRoleRequest {
    pub role_arn: String,
    pub session_name: String,
    pub external_id: Option<String>,
    pub duration: i64,
    pub serial: Option<String>,
    pub code: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StsError {
    /// STS rejected the one-time code.
    InvalidCode(String),
    /// STS answered with an error (code and message as AWS gave them).
    Service { code: String, message: String },
    /// No answer: connection refused, DNS, timeout.
    Unreachable(String),
    /// An answer that is not STS's.
    Other(String),
}

impl fmt::Display for StsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StsError::InvalidCode(message) => write!(f, "the MFA code was not accepted: {message}"),
            StsError::Service { code, message } => write!(f, "STS refused: {code}: {message}"),
            StsError::Unreachable(message) => write!(f, "STS could not be reached: {message}"),
            StsError::Other(message) => write!(f, "STS call failed: {message}"),
        }
    }
}

impl std::error::Error for StsError {}

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
}

pub trait Sts {
    fn get_session_token(
        &self,
        base: &Credentials,
        serial: Option<&str>,
        code: Option<&str>,
        duration: i64,
    ) -> Result<Credentials, StsError>;

    fn assume_role(
        &self,
        base: &Credentials,
        request: &AssumeRoleRequest,
    ) -> Result<Credentials, StsError>;
}

/// The AWS SDK. Endpoint, retries and timeouts come from the SDK's own
/// configuration (`AWS_ENDPOINT_URL_STS`, `AWS_ENDPOINT_URL`, the profile's
/// `endpoint_url`, `AWS_MAX_ATTEMPTS`, …); the region from [`sts_region`].
pub struct SdkSts {
    profile: String,
    region: String,
    state: OnceCell<(tokio::runtime::Runtime, aws_config::SdkConfig)>,
}

impl SdkSts {
    pub fn new(profile: &str, region: &str) -> SdkSts {
        SdkSts {
            profile: profile.to_string(),
            region: region.to_string(),
            state: OnceCell::new(),
        }
    }

    fn state(&self) -> Result<&(tokio::runtime::Runtime, aws_config::SdkConfig), StsError> {
        if let Some(state) = self.state.get() {
            return Ok(state);
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| StsError::Other(format!("cannot start the async runtime: {e}")))?;
        // rustls on ring: one HTTP stack, and no aws-lc start-up cost.
        let http_client = aws_smithy_http_client::Builder::new()
            .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
                aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
            ))
            .build_https();
        // Bounded: an unreachable STS fails in seconds, not minutes.
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(Duration::from_secs(5))
            .read_timeout(Duration::from_secs(15))
            .operation_attempt_timeout(Duration::from_secs(20))
            .operation_timeout(Duration::from_secs(45))
            .build();
        let config = runtime.block_on(
            aws_config::defaults(BehaviorVersion::latest())
                .http_client(http_client)
                .profile_name(&self.profile)
                .region(Region::new(self.region.clone()))
                .timeout_config(timeouts)
                // Credentials are always given per call; never look for any.
                .no_credentials()
                .load(),
        );
        Ok(self.state.get_or_init(|| (runtime, config)))
    }

    fn client(
        &self,
        base: &Credentials,
    ) -> Result<(&tokio::runtime::Runtime, aws_sdk_sts::Client), StsError> {
        let (runtime, config) = self.state()?;
        let credentials = aws_credential_types::Credentials::new(
            base.access_key_id.clone(),
            base.secret_access_key.clone(),
            base.session_token.clone(),
            None,
            "mfa",
        );
        let sts_config = aws_sdk_sts::config::Builder::from(config)
            .credentials_provider(credentials)
            .build();
        Ok((runtime, aws_sdk_sts::Client::from_conf(sts_config)))
    }
}

/// The region STS is called in, in the SDK's order: `AWS_REGION`,
/// `AWS_DEFAULT_REGION`, the profile's `region`, else `us-east-1`. Never
/// the instance metadata service: on a laptop it only costs a timeout.
pub fn sts_region(env: &crate::context::Env, profile_region: Option<&str>) -> String {
    env.get("AWS_REGION")
        .or_else(|| env.get("AWS_DEFAULT_REGION"))
        .or(profile_region)
        .unwrap_or("us-east-1")
        .to_string()
}

fn convert(credentials: Option<&aws_sdk_sts::types::Credentials>) -> Result<Credentials, StsError> {
    let c = credentials.ok_or_else(|| StsError::Other("the answer held no credentials".into()))?;
    Ok(Credentials {
        access_key_id: c.access_key_id().to_string(),
        secret_access_key: c.secret_access_key().to_string(),
        session_token: Some(c.session_token().to_string()),
        expiration: Some(c.expiration().secs()),
    })
}

fn classify<E>(error: SdkError<E, aws_smithy_runtime_api::http::Response>) -> StsError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match &error {
        SdkError::ServiceError(service) => {
            let e = service.err();
            let Some(code) = e.code().map(str::to_string) else {
                return StsError::Other(format!(
                    "STS gave an answer that could not be read (HTTP {})",
                    service.raw().status().as_u16()
                ));
            };
            let message = e.message().unwrap_or("").trim().to_string();
            if code == "AccessDenied" && message.contains("MultiFactorAuthentication failed") {
                StsError::InvalidCode(message)
            } else {
                StsError::Service { code, message }
            }
        }
        SdkError::TimeoutError(_) => StsError::Unreachable("no answer in time".into()),
        SdkError::DispatchFailure(failure) => {
            let detail = std::error::Error::source(&error)
                .map(|s| s.to_string())
                .unwrap_or_else(|| format!("{failure:?}"));
            StsError::Unreachable(detail)
        }
        SdkError::ResponseError(_) => {
            StsError::Other("STS gave an answer that could not be read".into())
        }
        _ => StsError::Other(error_chain(&error)),
    }
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

impl Sts for SdkSts {
    fn get_session_token(
        &self,
        base: &Credentials,
        serial: Option<&str>,
        code: Option<&str>,
        duration: i64,
    ) -> Result<Credentials, StsError> {
        let (runtime, client) = self.client(base)?;
        let request = client
            .get_session_token()
            .set_serial_number(serial.map(str::to_string))
            .set_token_code(code.map(str::to_string))
            .duration_seconds(duration as i32);
        let output = runtime.block_on(request.send()).map_err(classify)?;
        convert(output.credentials())
    }

    fn assume_role(
        &self,
        base: &Credentials,
        r: &AssumeRoleRequest,
    ) -> Result<Credentials, StsError> {
        let (runtime, client) = self.client(base)?;
        let request = client
            .assume_role()
            .role_arn(&r.role_arn)
            .role_session_name(&r.session_name)
            .set_external_id(r.external_id.clone())
            .duration_seconds(r.duration as i32)
            .set_serial_number(r.serial.clone())
            .set_token_code(r.code.clone());
        let output = runtime.block_on(request.send()).map_err(classify)?;
        convert(output.credentials())
    }
}
