//! SSO and SSO OIDC through the AWS SDK, in the SSO region, with the same
//! configuration as STS (endpoints from `AWS_ENDPOINT_URL_SSO`,
//! `AWS_ENDPOINT_URL_SSO_OIDC`, `AWS_ENDPOINT_URL` or the profile). Both
//! services are called without AWS credentials: the portal takes the
//! access token as a bearer header, OIDC the client's own secret.

use aws_sdk_ssooidc::error::SdkError;

use super::flow::{DeviceAuthorization, Oidc, Pending};
use super::token::{Grant, Registration};
use crate::aws::{AwsError, Sdk};
use crate::creds::Credentials;

/// The device-code grant type of RFC 8628.
const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

pub struct SdkSso {
    sdk: Sdk,
}

impl SdkSso {
    pub fn new(profile: &str, sso_region: &str) -> SdkSso {
        SdkSso {
            sdk: Sdk::new(profile, sso_region),
        }
    }

    fn oidc(&self) -> Result<(&tokio::runtime::Runtime, aws_sdk_ssooidc::Client), AwsError> {
        let (runtime, config) = self.sdk.state()?;
        let config = aws_sdk_ssooidc::config::Builder::from(config)
            .interceptor(self.sdk.interceptor())
            .build();
        Ok((runtime, aws_sdk_ssooidc::Client::from_conf(config)))
    }

    fn portal(&self) -> Result<(&tokio::runtime::Runtime, aws_sdk_sso::Client), AwsError> {
        let (runtime, config) = self.sdk.state()?;
        let config = aws_sdk_sso::config::Builder::from(config)
            .interceptor(self.sdk.interceptor())
            .build();
        Ok((runtime, aws_sdk_sso::Client::from_conf(config)))
    }

    /// `sso:GetRoleCredentials`. An `UnauthorizedException` (the token was
    /// revoked or ended early) is told apart: a new sign-in fixes it.
    pub fn get_role_credentials(
        &self,
        access_token: &str,
        account_id: &str,
        role_name: &str,
    ) -> Result<Credentials, RoleError> {
        let (runtime, client) = self.portal().map_err(RoleError::Aws)?;
        let request = client
            .get_role_credentials()
            .access_token(access_token)
            .account_id(account_id)
            .role_name(role_name);
        let output = runtime.block_on(request.send()).map_err(|e| {
            if let SdkError::ServiceError(service) = &e
                && service.err().is_unauthorized_exception()
            {
                return RoleError::Unauthorized;
            }
            RoleError::Aws(self.sdk.classify(e))
        })?;
        let missing = || RoleError::Aws(AwsError::Other("the answer held no credentials".into()));
        let c = output.role_credentials().ok_or_else(missing)?;
        let credentials = Credentials {
            access_key_id: c.access_key_id().ok_or_else(missing)?.to_string(),
            secret_access_key: c.secret_access_key().ok_or_else(missing)?.to_string(),
            session_token: Some(c.session_token().ok_or_else(missing)?.to_string()),
            // Milliseconds since the epoch.
            expiration: Some(c.expiration().div_euclid(1000)),
        };
        // They go into HTTP headers and shells: refused as STS's would be
        // (an answer, not the configuration: exit 1), the value not shown.
        match credentials.invalid_part() {
            None => Ok(credentials),
            Some(part) => Err(RoleError::Aws(AwsError::Other(format!(
                "GetRoleCredentials answered with a {part} that is not printable ASCII without spaces; it was not used"
            )))),
        }
    }
}

#[derive(Debug)]
pub enum RoleError {
    Unauthorized,
    Aws(AwsError),
}

fn grant(
    output: &aws_sdk_ssooidc::operation::create_token::CreateTokenOutput,
) -> Result<Grant, AwsError> {
    let access_token = output
        .access_token()
        .filter(|t| !t.is_empty())
        .ok_or_else(|| AwsError::Other("CreateToken answered without an access token".into()))?;
    Ok(Grant {
        access_token: access_token.to_string(),
        expires_in: i64::from(output.expires_in()),
        refresh_token: output.refresh_token().map(str::to_string),
    })
}

impl Oidc for SdkSso {
    fn register_client(&self, name: &str, scopes: &[String]) -> Result<Registration, AwsError> {
        let (runtime, client) = self.oidc()?;
        let request = client
            .register_client()
            .client_name(name)
            .client_type("public")
            .set_scopes((!scopes.is_empty()).then(|| scopes.to_vec()));
        let output = runtime
            .block_on(request.send())
            .map_err(|e| self.sdk.classify(e))?;
        match (output.client_id(), output.client_secret()) {
            (Some(id), Some(secret)) => Ok(Registration {
                client_id: id.to_string(),
                client_secret: secret.to_string(),
                expires_at: output.client_secret_expires_at(),
            }),
            _ => Err(AwsError::Other(
                "RegisterClient answered without a client id and secret".into(),
            )),
        }
    }

    fn start_device_authorization(
        &self,
        registration: &Registration,
        start_url: &str,
    ) -> Result<DeviceAuthorization, AwsError> {
        let (runtime, client) = self.oidc()?;
        let request = client
            .start_device_authorization()
            .client_id(&registration.client_id)
            .client_secret(&registration.client_secret)
            .start_url(start_url);
        let output = runtime
            .block_on(request.send())
            .map_err(|e| self.sdk.classify(e))?;
        let verification_uri = output
            .verification_uri_complete()
            .or(output.verification_uri());
        match (output.device_code(), output.user_code(), verification_uri) {
            (Some(device_code), Some(user_code), Some(uri)) => Ok(DeviceAuthorization {
                device_code: device_code.to_string(),
                user_code: user_code.to_string(),
                verification_uri: uri.to_string(),
                expires_in: i64::from(output.expires_in()),
                interval: i64::from(output.interval()),
            }),
            _ => Err(AwsError::Other(
                "StartDeviceAuthorization answered without a code and a page to open".into(),
            )),
        }
    }

    fn create_token_with_device_code(
        &self,
        registration: &Registration,
        device_code: &str,
    ) -> Result<Grant, Pending> {
        let (runtime, client) = self.oidc().map_err(Pending::Failed)?;
        let request = client
            .create_token()
            .client_id(&registration.client_id)
            .client_secret(&registration.client_secret)
            .grant_type(DEVICE_GRANT)
            .device_code(device_code);
        match runtime.block_on(request.send()) {
            Ok(output) => grant(&output).map_err(Pending::Failed),
            Err(SdkError::ServiceError(service))
                if service.err().is_authorization_pending_exception() =>
            {
                Err(Pending::AuthorizationPending)
            }
            Err(SdkError::ServiceError(service)) if service.err().is_slow_down_exception() => {
                Err(Pending::SlowDown)
            }
            Err(SdkError::ServiceError(service)) if service.err().is_expired_token_exception() => {
                Err(Pending::Failed(AwsError::Other(
                    "the sign-in code expired before it was approved in the browser; run the command again for a new one".into(),
                )))
            }
            Err(e) => Err(Pending::Failed(self.sdk.classify(e))),
        }
    }

    fn create_token_with_refresh_token(
        &self,
        registration: &Registration,
        refresh_token: &str,
    ) -> Result<Grant, AwsError> {
        let (runtime, client) = self.oidc()?;
        let request = client
            .create_token()
            .client_id(&registration.client_id)
            .client_secret(&registration.client_secret)
            .grant_type("refresh_token")
            .refresh_token(refresh_token);
        let output = runtime
            .block_on(request.send())
            .map_err(|e| self.sdk.classify(e))?;
        grant(&output)
    }
}
