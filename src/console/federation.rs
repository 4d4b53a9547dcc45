//! The `getSigninToken` call: one GET to the federation endpoint, through
//! hyper-util's client and the rustls connector (ring, the system's roots)
//! that the SDK's HTTP stack already brings. Bounded by `MFA_TIMEOUT`; the
//! request URL holds the Session JSON, so errors name only the endpoint's
//! origin, and nothing of the answer but its status.

use std::time::Duration;

use anyhow::{Result, anyhow, bail};
use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::aws::{AwsError, endpoint_of};

/// The most of an answer that is read: a sign-in token is about 1 KiB.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// Asks the federation endpoint for a sign-in token for the Session JSON
/// in `request_url` (see `super::signin_token_url`).
pub async fn signin_token(request_url: &str, timeout: Duration) -> Result<String> {
    let origin = endpoint_of(request_url);
    let uri: hyper::Uri = request_url
        .parse()
        .map_err(|_| anyhow!("the federation endpoint {origin} is not a usable URL"))?;
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_native_roots(rustls::crypto::ring::default_provider())
        .map_err(|e| anyhow!("no TLS root certificates could be loaded from the system: {e}"))?
        .https_or_http()
        .enable_http1()
        .build();
    let client: Client<_, Empty<Bytes>> = Client::builder(TokioExecutor::new()).build(connector);
    let request = hyper::Request::get(uri)
        .header(
            hyper::header::USER_AGENT,
            concat!("mfa/", env!("CARGO_PKG_VERSION")),
        )
        .body(Empty::new())
        .map_err(|_| anyhow!("the request to {origin} could not be made"))?;
    let exchange = async {
        let response = client.request(request).await.map_err(|e| {
            let why = if e.is_connect() {
                "could not connect (nothing listens there, no DNS, or the TLS handshake failed)"
            } else {
                "the connection failed before an answer came"
            };
            AwsError::Unreachable(format!("{origin}: {why}"))
        })?;
        let status = response.status();
        let body = Limited::new(response.into_body(), MAX_ANSWER_BYTES)
            .collect()
            .await
            .map_err(|_| AwsError::Other(format!("{origin}: the answer could not be read")))?
            .to_bytes();
        Ok::<_, AwsError>((status, body))
    };
    let (status, body) = tokio::time::timeout(timeout, exchange)
        .await
        .map_err(|_| {
            AwsError::Unreachable(format!(
                "{origin}: no answer in time (within {} s; MFA_TIMEOUT sets the bound)",
                timeout.as_secs()
            ))
        })??;
    if !status.is_success() {
        bail!(AwsError::Service {
            code: format!("HTTP {}", status.as_u16()),
            message: format!(
                "the federation endpoint {origin} did not accept the session (credentials it does not know or that expired, or a SessionDuration it does not allow)"
            ),
        });
    }
    read_token(&body).ok_or_else(|| {
        anyhow!(AwsError::Other(format!(
            "{origin} answered without a usable SigninToken"
        )))
    })
}

/// The `SigninToken` of the endpoint's JSON answer, when it is one that can
/// go into a URL.
fn read_token(body: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Answer {
        #[serde(rename = "SigninToken")]
        signin_token: String,
    }
    let answer: Answer = serde_json::from_slice(body).ok()?;
    Some(answer.signin_token).filter(|t| crate::creds::is_key_text(t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_printable_signin_token_is_taken() {
        assert_eq!(
            read_token(br#"{"SigninToken":"abc-_/+="}"#).as_deref(),
            Some("abc-_/+=")
        );
        for bad in [
            &br#"{"SigninToken":""}"#[..],
            br#"{"SigninToken":"a b"}"#,
            br#"{"Other":"x"}"#,
            b"<html>",
            b"",
        ] {
            assert_eq!(read_token(bad), None, "{}", String::from_utf8_lossy(bad));
        }
    }
}
