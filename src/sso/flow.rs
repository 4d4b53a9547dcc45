//! The OAuth parts of an SSO sign-in, over a small trait so that they run
//! against anything that answers like SSO OIDC: the device authorization
//! flow (RFC 8628: poll at the interval, slower on `slow_down`, never past
//! the code's expiry) and the refresh grant. The clock and the sleep are
//! passed in.

use std::time::Duration;

use super::token::{Grant, Registration};
use crate::aws::AwsError;
use crate::context::Clock;

/// StartDeviceAuthorization's answer.
#[derive(Clone, PartialEq, Eq)]
pub struct DeviceAuthorization {
    pub device_code: String,
    pub user_code: String,
    /// The page to open: with the code filled in when the service gives one.
    pub verification_uri: String,
    pub expires_in: i64,
    pub interval: i64,
}

/// Why a device-code CreateToken gave no token (yet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pending {
    /// The person has not approved yet: ask again after the interval.
    AuthorizationPending,
    /// Asked too often: ask again, 5 s slower (RFC 8628 §3.5).
    SlowDown,
    /// The code ended, or was denied: this sign-in is over.
    Failed(AwsError),
}

pub trait Oidc {
    fn register_client(&self, name: &str, scopes: &[String]) -> Result<Registration, AwsError>;

    fn start_device_authorization(
        &self,
        registration: &Registration,
        start_url: &str,
    ) -> Result<DeviceAuthorization, AwsError>;

    fn create_token_with_device_code(
        &self,
        registration: &Registration,
        device_code: &str,
    ) -> Result<Grant, Pending>;

    fn create_token_with_refresh_token(
        &self,
        registration: &Registration,
        refresh_token: &str,
    ) -> Result<Grant, AwsError>;
}

/// RFC 8628's default interval, when the service names none.
pub const DEFAULT_INTERVAL: i64 = 5;
/// What `slow_down` adds to the interval.
pub const SLOW_DOWN_STEP: i64 = 5;

/// Polls CreateToken at the interval until the person approves, the code
/// expires, or the service refuses. Returns the grant.
pub fn poll(
    oidc: &dyn Oidc,
    registration: &Registration,
    authorization: &DeviceAuthorization,
    clock: &dyn Clock,
    sleep: &mut dyn FnMut(Duration),
) -> Result<Grant, AwsError> {
    let deadline = clock.now() + authorization.expires_in.max(0);
    let mut interval = if authorization.interval > 0 {
        authorization.interval
    } else {
        DEFAULT_INTERVAL
    };
    loop {
        if clock.now() + interval > deadline {
            return Err(expired());
        }
        sleep(Duration::from_secs(interval.unsigned_abs()));
        match oidc.create_token_with_device_code(registration, &authorization.device_code) {
            Ok(grant) => return Ok(grant),
            Err(Pending::AuthorizationPending) => {}
            Err(Pending::SlowDown) => interval += SLOW_DOWN_STEP,
            Err(Pending::Failed(e)) => return Err(e),
        }
    }
}

fn expired() -> AwsError {
    AwsError::Other(
        "the sign-in code expired before it was approved in the browser; run the command again for a new one".into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::{Cell, RefCell};

    /// A clock that the fake sleep moves.
    struct SteppedClock(Cell<i64>);

    impl Clock for SteppedClock {
        fn now(&self) -> i64 {
            self.0.get()
        }
    }

    struct ScriptedOidc {
        answers: RefCell<Vec<Result<Grant, Pending>>>,
        asked: Cell<usize>,
    }

    impl Oidc for ScriptedOidc {
        fn register_client(&self, _: &str, _: &[String]) -> Result<Registration, AwsError> {
            unreachable!()
        }
        fn start_device_authorization(
            &self,
            _: &Registration,
            _: &str,
        ) -> Result<DeviceAuthorization, AwsError> {
            unreachable!()
        }
        fn create_token_with_device_code(
            &self,
            _: &Registration,
            code: &str,
        ) -> Result<Grant, Pending> {
            assert_eq!(code, "device");
            self.asked.set(self.asked.get() + 1);
            let mut answers = self.answers.borrow_mut();
            if answers.is_empty() {
                Err(Pending::AuthorizationPending)
            } else {
                answers.remove(0)
            }
        }
        fn create_token_with_refresh_token(
            &self,
            _: &Registration,
            _: &str,
        ) -> Result<Grant, AwsError> {
            unreachable!()
        }
    }

    fn grant() -> Grant {
        Grant {
            access_token: "t".into(),
            expires_in: 28_800,
            refresh_token: None,
        }
    }

    fn run(
        answers: Vec<Result<Grant, Pending>>,
        expires_in: i64,
    ) -> (Result<Grant, AwsError>, Vec<i64>, usize) {
        let oidc = ScriptedOidc {
            answers: RefCell::new(answers),
            asked: Cell::new(0),
        };
        let clock = SteppedClock(Cell::new(1000));
        let mut waits = Vec::new();
        let registration = Registration {
            client_id: "c".into(),
            client_secret: "s".into(),
            expires_at: 10_000,
        };
        let authorization = DeviceAuthorization {
            device_code: "device".into(),
            user_code: "ABCD-EFGH".into(),
            verification_uri: "https://device".into(),
            expires_in,
            interval: 1,
        };
        let result = poll(&oidc, &registration, &authorization, &clock, &mut |d| {
            waits.push(d.as_secs() as i64);
            clock.0.set(clock.0.get() + d.as_secs() as i64);
        });
        (result, waits, oidc.asked.get())
    }

    #[test]
    fn polling_waits_the_interval_and_slows_down_when_told() {
        let (result, waits, asked) = run(
            vec![
                Err(Pending::AuthorizationPending),
                Err(Pending::SlowDown),
                Err(Pending::AuthorizationPending),
                Ok(grant()),
            ],
            600,
        );
        assert_eq!(result.unwrap(), grant());
        assert_eq!(waits, [1, 1, 6, 6]);
        assert_eq!(asked, 4);
    }

    #[test]
    fn polling_stops_at_the_codes_expiry_and_on_a_refusal() {
        let (result, waits, _) = run(Vec::new(), 10);
        assert!(result.unwrap_err().to_string().contains("expired"));
        assert_eq!(waits.iter().sum::<i64>(), 10);
        let denied = AwsError::Service {
            code: "AccessDeniedException".into(),
            message: "denied".into(),
        };
        let (result, _, asked) = run(vec![Err(Pending::Failed(denied.clone()))], 600);
        assert_eq!(result.unwrap_err(), denied);
        assert_eq!(asked, 1);
    }
}
