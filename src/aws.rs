//! What STS and IAM share: the AWS SDK's configuration (one HTTP stack:
//! rustls on ring, set up lazily), credentials handed per call, and errors
//! sorted into what a person can act on.

use std::cell::OnceCell;
use std::fmt;
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_sts::config::Region;
use aws_sdk_sts::error::{ProvideErrorMetadata, SdkError};

use crate::creds::Credentials;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AwsError {
    /// The one-time code was not accepted.
    InvalidCode(String),
    /// AWS answered with an error (code and message as AWS gave them).
    Service { code: String, message: String },
    /// No answer: connection refused, DNS, timeout.
    Unreachable(String),
    /// An answer that is not AWS's.
    Other(String),
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AwsError::InvalidCode(message) => write!(f, "the MFA code was not accepted: {message}"),
            AwsError::Service { code, message } => write!(f, "AWS refused: {code}: {message}"),
            AwsError::Unreachable(message) => write!(f, "AWS could not be reached: {message}"),
            AwsError::Other(message) => write!(f, "the call failed: {message}"),
        }
    }
}

impl std::error::Error for AwsError {}

/// The AWS SDK's configuration, set up on first use: a cache hit never
/// starts a runtime or reads the SDK's configuration. Endpoints, retries
/// and timeouts come from the SDK's own configuration
/// (`AWS_ENDPOINT_URL_STS`, `AWS_ENDPOINT_URL_IAM`, `AWS_ENDPOINT_URL`, the
/// profile's `endpoint_url`, `AWS_MAX_ATTEMPTS`, …).
pub struct Sdk {
    profile: String,
    region: String,
    state: OnceCell<(tokio::runtime::Runtime, aws_config::SdkConfig)>,
}

impl Sdk {
    pub fn new(profile: &str, region: &str) -> Sdk {
        Sdk {
            profile: profile.to_string(),
            region: region.to_string(),
            state: OnceCell::new(),
        }
    }

    pub fn state(&self) -> Result<&(tokio::runtime::Runtime, aws_config::SdkConfig), AwsError> {
        if let Some(state) = self.state.get() {
            return Ok(state);
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| AwsError::Other(format!("cannot start the async runtime: {e}")))?;
        // rustls on ring: one HTTP stack, and no aws-lc start-up cost.
        let http_client = aws_smithy_http_client::Builder::new()
            .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
                aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
            ))
            .build_https();
        // Bounded: an unreachable STS fails in seconds, not minutes.
        let total = call_timeout();
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(Duration::from_secs(5).min(total))
            .read_timeout(total)
            .operation_attempt_timeout(total)
            .operation_timeout(total)
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
}

/// Default for `MFA_TIMEOUT`: how long one AWS call may take in all,
/// retries included.
pub const DEFAULT_TIMEOUT_SECONDS: u64 = 30;

/// `MFA_TIMEOUT` seconds (read here, at the edge that makes the calls).
fn call_timeout() -> Duration {
    let seconds = std::env::var("MFA_TIMEOUT")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|s| *s > 0)
        .unwrap_or(DEFAULT_TIMEOUT_SECONDS);
    Duration::from_secs(seconds)
}

/// Credentials for one SDK client.
pub fn sdk_credentials(base: &Credentials) -> aws_credential_types::Credentials {
    aws_credential_types::Credentials::new(
        base.access_key_id.clone(),
        base.secret_access_key.clone(),
        base.session_token.clone(),
        None,
        "mfa",
    )
}

pub fn classify<E>(error: SdkError<E, aws_smithy_runtime_api::http::Response>) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match &error {
        SdkError::ServiceError(service) => {
            let e = service.err();
            let Some(code) = e.code().map(str::to_string) else {
                return AwsError::Other(format!(
                    "AWS gave an answer that could not be read (HTTP {})",
                    service.raw().status().as_u16()
                ));
            };
            let message = e.message().unwrap_or("").trim().to_string();
            if code == "AccessDenied" && message.contains("MultiFactorAuthentication failed") {
                AwsError::InvalidCode(message)
            } else {
                AwsError::Service { code, message }
            }
        }
        SdkError::TimeoutError(_) => AwsError::Unreachable("no answer in time".into()),
        SdkError::DispatchFailure(failure) => {
            let detail = std::error::Error::source(&error)
                .map(|s| s.to_string())
                .unwrap_or_else(|| format!("{failure:?}"));
            AwsError::Unreachable(detail)
        }
        SdkError::ResponseError(_) => {
            AwsError::Other("AWS gave an answer that could not be read".into())
        }
        _ => AwsError::Other(error_chain(&error)),
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
