//! What STS and IAM share: the AWS SDK's configuration (one HTTP stack:
//! rustls on ring, set up lazily), credentials handed per call, and errors
//! sorted into what a person can act on.

use std::cell::OnceCell;
use std::error::Error;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_sts::config::Region;
use aws_sdk_sts::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_sts::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::dns::{DnsFuture, ResolveDns, ResolveDnsError};
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::result::ConnectorError;

use crate::creds::Credentials;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AwsError {
    /// The one-time code was not accepted.
    InvalidCode(String),
    /// AWS answered with an error (code and message as AWS gave them).
    Service { code: String, message: String },
    /// No answer: connection refused, DNS, TLS, timeout. One line that
    /// names the endpoint and why: SDKs relay it verbatim
    /// (`credential_process`).
    Unreachable(String),
    /// An answer that is not AWS's.
    Other(String),
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AwsError::InvalidCode(message) => write!(f, "the MFA code was not accepted: {message}"),
            // SSO OIDC's errors carry no message (their text is OAuth's
            // `error_description`).
            AwsError::Service { code, message } if message.is_empty() => {
                write!(f, "AWS refused: {code}")
            }
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
    /// Where the last request went, so that an error can name it.
    endpoint: LastEndpoint,
    timeout: Duration,
}

impl Sdk {
    pub fn new(profile: &str, region: &str) -> Sdk {
        Sdk {
            profile: profile.to_string(),
            region: region.to_string(),
            state: OnceCell::new(),
            endpoint: LastEndpoint::default(),
            timeout: call_timeout(std::env::var("MFA_TIMEOUT").ok().as_deref()),
        }
    }

    /// What a service client adds to the shared configuration: the
    /// interceptor that notes where each request goes.
    pub fn interceptor(&self) -> impl Intercept + 'static {
        self.endpoint.clone()
    }

    /// Where the last request went: scheme, host and port only.
    pub fn last_endpoint(&self) -> Option<String> {
        self.endpoint.0.lock().ok().and_then(|last| last.clone())
    }

    /// An SDK error, sorted into what a person can act on.
    pub fn classify<E>(
        &self,
        error: SdkError<E, aws_smithy_runtime_api::http::Response>,
    ) -> AwsError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let endpoint = self
            .last_endpoint()
            .unwrap_or_else(|| "the AWS endpoint".to_string());
        classify(error, &endpoint, self.timeout)
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
            // The SDK's resolver, through tokio, so that a name that does
            // not resolve is known by its type (ResolveDnsError).
            .build_with_resolver(Resolver);
        // Bounded: an unreachable STS fails in seconds, not minutes.
        let total = self.timeout;
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(Duration::from_secs(CONNECT_TIMEOUT_SECONDS).min(total))
            .read_timeout(total)
            .operation_attempt_timeout(total)
            .operation_timeout(total)
            .build();
        // The SDK reads the profile files for endpoint settings: it is given
        // their text as mfa reads it (bounded, never waiting on a FIFO).
        let files = {
            use aws_runtime::env_config::file::{
                EnvConfigFileKind as ProfileFileKind, EnvConfigFiles as ProfileFiles,
            };
            let env = crate::context::Env::from_process();
            let text = |path: std::path::PathBuf| {
                crate::config::read_text(&path)
                    .ok()
                    .flatten()
                    .unwrap_or_default()
            };
            ProfileFiles::builder()
                .with_contents(
                    ProfileFileKind::Config,
                    text(crate::config::config_path(&env)),
                )
                .with_contents(
                    ProfileFileKind::Credentials,
                    text(crate::config::credentials_path(&env)),
                )
                .build()
        };
        let config = runtime.block_on(
            aws_config::defaults(BehaviorVersion::latest())
                .profile_files(files)
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
/// At most this long to open a connection (within `MFA_TIMEOUT`).
pub const CONNECT_TIMEOUT_SECONDS: u64 = 5;

/// The bound of one AWS call, from `MFA_TIMEOUT` (whole seconds; anything
/// else is the default).
pub fn call_timeout(value: Option<&str>) -> Duration {
    let seconds = value
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|s| *s > 0)
        .unwrap_or(DEFAULT_TIMEOUT_SECONDS)
        // A day at most: the SDK converts it to float seconds and panics
        // on what cannot be a Duration.
        .min(86_400);
    Duration::from_secs(seconds)
}

/// Notes the endpoint of each request (scheme, host and port: nothing
/// that could hold a secret).
#[derive(Debug, Clone, Default)]
struct LastEndpoint(Arc<Mutex<Option<String>>>);

impl Intercept for LastEndpoint {
    fn name(&self) -> &'static str {
        "LastEndpoint"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Ok(mut last) = self.0.lock() {
            *last = Some(endpoint_of(context.request().uri()));
        }
        Ok(())
    }
}

/// `scheme://host:port` of a URI: no user info, path or query.
pub fn endpoint_of(uri: &str) -> String {
    let (scheme, rest) = uri.split_once("://").unwrap_or(("", uri));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit('@').next().unwrap_or(authority);
    if scheme.is_empty() {
        host.to_string()
    } else {
        format!("{scheme}://{host}")
    }
}

/// Host names resolved through tokio (the system's resolver, on a blocking
/// thread, as hyper's own resolver does); a failure is a `ResolveDnsError`.
#[derive(Debug, Clone)]
struct Resolver;

impl ResolveDns for Resolver {
    fn resolve_dns<'a>(&'a self, name: &'a str) -> DnsFuture<'a> {
        DnsFuture::new(async move {
            match tokio::net::lookup_host((name, 0)).await {
                Ok(addresses) => Ok(addresses.map(|a| a.ip()).collect()),
                Err(e) => Err(ResolveDnsError::new(e)),
            }
        })
    }
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

fn classify<E>(
    error: SdkError<E, aws_smithy_runtime_api::http::Response>,
    endpoint: &str,
    timeout: Duration,
) -> AwsError
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
        SdkError::TimeoutError(_) => AwsError::Unreachable(format!(
            "{endpoint}: no answer in time (within {} s; MFA_TIMEOUT sets the bound)",
            timeout.as_secs()
        )),
        SdkError::DispatchFailure(failure) => {
            let why = match failure.as_connector_error() {
                Some(connector) => why_unreachable(connector, timeout),
                // Not a connection's failure: the endpoint URL itself. The
                // error's own text would dump the request, MFA code included.
                None => ENDPOINT_UNUSABLE.to_string(),
            };
            AwsError::Unreachable(format!("{endpoint}: {why}"))
        }
        SdkError::ResponseError(_) => {
            AwsError::Other("AWS gave an answer that could not be read".into())
        }
        // Only the error's own line: its sources may hold the request.
        _ => AwsError::Other(error.to_string()),
    }
}

const ENDPOINT_UNUSABLE: &str = "the request could not be sent (is the endpoint URL valid? \
     AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL or the profile's endpoint_url set it)";

/// Why a request got no answer, from the types in the connector error's
/// chain (never from their wording).
fn why_unreachable(connector: &ConnectorError, timeout: Duration) -> String {
    let chain: Vec<&(dyn Error + 'static)> = causes(connector).collect();
    if chain.iter().any(|e| e.is::<ResolveDnsError>()) {
        return "the host name could not be resolved (no such host, or no DNS)".into();
    }
    if let Some(tls) = chain.iter().find_map(|e| e.downcast_ref::<rustls::Error>()) {
        return format!("the TLS handshake failed ({tls}); is the endpoint really https://?");
    }
    if connector.is_timeout() {
        return format!(
            "no answer in time ({} s to connect, {} s in all; MFA_TIMEOUT sets the bound)",
            CONNECT_TIMEOUT_SECONDS.min(timeout.as_secs()),
            timeout.as_secs()
        );
    }
    let io = chain
        .iter()
        .find_map(|e| e.downcast_ref::<std::io::Error>());
    match io.map(std::io::Error::kind) {
        Some(std::io::ErrorKind::ConnectionRefused) => {
            "connection refused (nothing listens at that address)".into()
        }
        Some(std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::ConnectionAborted) => {
            "the connection was closed before an answer came".into()
        }
        Some(std::io::ErrorKind::TimedOut) => "the connection timed out".into(),
        Some(kind) => format!("network error: {kind}"),
        // Never the causes' own text: the SDK's may dump the request, whose
        // body holds the one-time code (a URL it cannot use does this).
        None => ENDPOINT_UNUSABLE.to_string(),
    }
}

/// An error and each error after it. After an `io::Error` comes its
/// payload (`get_ref`): `io::Error::source` skips it.
fn causes<'a>(error: &'a (dyn Error + 'static)) -> impl Iterator<Item = &'a (dyn Error + 'static)> {
    std::iter::successors(Some(error), |&error| {
        match error.downcast_ref::<std::io::Error>() {
            Some(io) => io.get_ref().map(|inner| inner as &(dyn Error + 'static)),
            None => error.source(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mfa_timeout_bounds_a_call_and_defaults_to_30_seconds() {
        assert_eq!(call_timeout(None), Duration::from_secs(30));
        assert_eq!(call_timeout(Some("7")), Duration::from_secs(7));
        assert_eq!(call_timeout(Some(" 7 ")), Duration::from_secs(7));
        assert_eq!(
            call_timeout(Some("18446744073709551615")),
            Duration::from_secs(86_400)
        );
        for bad in ["0", "-1", "soon", "1.5", ""] {
            assert_eq!(call_timeout(Some(bad)), Duration::from_secs(30), "{bad:?}");
        }
    }

    #[test]
    fn an_endpoint_is_named_without_user_info_path_or_query() {
        assert_eq!(
            endpoint_of("https://sts.eu-west-1.amazonaws.com/"),
            "https://sts.eu-west-1.amazonaws.com"
        );
        assert_eq!(
            endpoint_of("http://user:pw@127.0.0.1:4566/x?Token=t"),
            "http://127.0.0.1:4566"
        );
        assert_eq!(endpoint_of("https://[::1]:8443"), "https://[::1]:8443");
    }
}
