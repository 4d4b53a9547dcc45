//! What the endpoint answers to one request, decided from the request's
//! parts alone: no I/O, so every refusal is unit-tested.

use subtle::ConstantTimeEq;

use crate::creds::{Credentials, rfc3339};

/// The path the child is given (`AWS_CONTAINER_CREDENTIALS_FULL_URI`).
pub const PATH: &str = "/credentials";

/// What a request gets, before any credentials are looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Answer with the credentials.
    Serve,
    /// Answer with this status and a JSON `{"message": …}`.
    Refuse { status: u16, message: &'static str },
}

/// The parts of a request the verdict depends on.
pub struct Request<'a> {
    pub method: &'a str,
    pub path: &'a str,
    /// Every `Host` header's value (more than one is refused).
    pub hosts: &'a [&'a [u8]],
    /// Every `Authorization` header's value.
    pub authorizations: &'a [&'a [u8]],
}

/// The checks, in the order that tells least to a caller without the
/// token: the Host first (a page in a browser reached through DNS
/// rebinding learns nothing more), then the method, then the token.
pub fn check(request: &Request, port: u16, token: &[u8]) -> Verdict {
    let host_ok = matches!(request.hosts, [host] if host_allowed(host, port));
    if !host_ok {
        return Verdict::Refuse {
            status: 403,
            message: "this endpoint answers only requests for 127.0.0.1 or localhost on its own port",
        };
    }
    if request.method != "GET" {
        return Verdict::Refuse {
            status: 405,
            message: "only GET is allowed",
        };
    }
    let token_ok = matches!(request.authorizations, [given] if token_matches(given, token));
    if !token_ok {
        return Verdict::Refuse {
            status: 401,
            message: "missing or wrong token: send AWS_CONTAINER_AUTHORIZATION_TOKEN in the Authorization header",
        };
    }
    if request.path != PATH {
        return Verdict::Refuse {
            status: 404,
            message: "no such path: use AWS_CONTAINER_CREDENTIALS_FULL_URI as given",
        };
    }
    Verdict::Serve
}

/// `127.0.0.1:PORT` or `localhost:PORT` (any case): a name that a
/// rebinding DNS points at 127.0.0.1 does not pass.
pub fn host_allowed(host: &[u8], port: u16) -> bool {
    let Some(colon) = host.iter().rposition(|b| *b == b':') else {
        return false;
    };
    let (name, given_port) = (&host[..colon], &host[colon + 1..]);
    let port_ok = given_port == port.to_string().as_bytes();
    port_ok && (name == b"127.0.0.1" || name.eq_ignore_ascii_case(b"localhost"))
}

/// The token compared in constant time (its length is not a secret: every
/// token mfa makes has the same).
pub fn token_matches(given: &[u8], token: &[u8]) -> bool {
    !token.is_empty() && bool::from(given.ct_eq(token))
}

/// The 200 answer of the container-credentials protocol.
pub fn credentials_body(credentials: &Credentials) -> Vec<u8> {
    let mut body = serde_json::json!({
        "AccessKeyId": credentials.access_key_id,
        "SecretAccessKey": credentials.secret_access_key,
    });
    if let Some(token) = &credentials.session_token {
        body["Token"] = token.as_str().into();
    }
    if let Some(expiration) = credentials.expiration {
        body["Expiration"] = rfc3339(expiration).into();
    }
    body.to_string().into_bytes()
}

/// `{"message": …}`, the body of every refusal.
pub fn error_body(message: &str) -> Vec<u8> {
    serde_json::json!({ "message": message })
        .to_string()
        .into_bytes()
}

/// A new token: 256 bits from the operating system's generator, as hex.
pub fn new_token() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &[u8] = b"secret-token";

    fn verdict(method: &str, path: &str, hosts: &[&[u8]], auths: &[&[u8]]) -> Verdict {
        check(
            &Request {
                method,
                path,
                hosts,
                authorizations: auths,
            },
            8123,
            TOKEN,
        )
    }

    fn status(v: Verdict) -> u16 {
        match v {
            Verdict::Serve => 200,
            Verdict::Refuse { status, .. } => status,
        }
    }

    #[test]
    fn a_get_for_the_right_host_with_the_token_is_served() {
        for host in [&b"127.0.0.1:8123"[..], b"localhost:8123", b"LocalHost:8123"] {
            assert_eq!(verdict("GET", PATH, &[host], &[TOKEN]), Verdict::Serve);
        }
    }

    #[test]
    fn another_host_is_refused_with_403_before_anything_else() {
        for host in [
            &b"127.0.0.1:8124"[..],
            b"127.0.0.1",
            b"localhost",
            b"evil.example:8123",
            b"127.0.0.1.evil.example:8123",
            b"[::1]:8123",
            b"127.0.0.1:08123",
            b"",
        ] {
            assert_eq!(status(verdict("POST", PATH, &[host], &[])), 403, "{host:?}");
        }
        assert_eq!(status(verdict("GET", PATH, &[], &[TOKEN])), 403);
        let two: &[&[u8]] = &[b"127.0.0.1:8123", b"evil:8123"];
        assert_eq!(status(verdict("GET", PATH, two, &[TOKEN])), 403);
    }

    #[test]
    fn another_method_is_405_even_with_the_token() {
        for method in ["POST", "PUT", "DELETE", "HEAD", "get"] {
            let v = verdict(method, PATH, &[b"127.0.0.1:8123"], &[TOKEN]);
            assert_eq!(status(v), 405, "{method}");
        }
    }

    #[test]
    fn a_missing_wrong_or_doubled_token_is_401() {
        let host: &[&[u8]] = &[b"127.0.0.1:8123"];
        assert_eq!(status(verdict("GET", PATH, host, &[])), 401);
        for wrong in [
            &b"secret-tokem"[..],
            b"secret-token ",
            b"Bearer secret-token",
            b"",
        ] {
            assert_eq!(
                status(verdict("GET", PATH, host, &[wrong])),
                401,
                "{wrong:?}"
            );
        }
        assert_eq!(status(verdict("GET", PATH, host, &[TOKEN, TOKEN])), 401);
        // An empty expected token never matches (no token, no service).
        assert!(!token_matches(b"", b""));
    }

    #[test]
    fn another_path_is_404_only_with_the_token() {
        let host: &[&[u8]] = &[b"127.0.0.1:8123"];
        assert_eq!(status(verdict("GET", "/", host, &[TOKEN])), 404);
        assert_eq!(status(verdict("GET", "/", host, &[])), 401);
    }

    #[test]
    fn bodies_are_the_protocols_json() {
        let credentials = Credentials {
            access_key_id: "ASIAX".into(),
            secret_access_key: "s\"ecret".into(),
            session_token: Some("tok".into()),
            expiration: Some(1_800_000_000),
        };
        let body: serde_json::Value =
            serde_json::from_slice(&credentials_body(&credentials)).unwrap();
        assert_eq!(
            body,
            serde_json::json!({
                "AccessKeyId": "ASIAX",
                "SecretAccessKey": "s\"ecret",
                "Token": "tok",
                "Expiration": "2027-01-15T08:00:00Z",
            })
        );
        let error: serde_json::Value = serde_json::from_slice(&error_body("a \"b\"")).unwrap();
        assert_eq!(error, serde_json::json!({"message": "a \"b\""}));
    }

    #[test]
    fn tokens_are_256_random_bits() {
        let (a, b) = (new_token().unwrap(), new_token().unwrap());
        assert_eq!(a.len(), 64);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }
}
