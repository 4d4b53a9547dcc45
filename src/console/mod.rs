//! Console sign-in that keeps MFA (SPEC §9): a role session (assumed with
//! MFA) or, on request, a federation session becomes a sign-in token from
//! the partition's federation endpoint (`getSigninToken`), then a `login`
//! URL. This module is the pure part: partitions, the Session JSON, the
//! SessionDuration rules and the URLs. `federation` makes the HTTP call and
//! `redirect` serves the one-time local address the browser is given.
//!
//! The Session JSON and the sign-in token are bearer secrets: they are
//! never put in argv, logs or errors (errors name the endpoint's origin).

pub mod federation;
pub mod redirect;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::context::Env;
use crate::creds::Credentials;
use crate::error::UsageError;
use crate::resolve::{Chain, Root};

/// What AWS allows for a console session (`SessionDuration`, and the
/// `--duration` of a federation session), in seconds.
pub const CONSOLE_SECONDS: (i64, i64) = (900, 43_200);
/// Role chaining caps a role session, and the console session made from
/// it, at one hour.
pub const CHAINED_ROLE_MAX_SECONDS: i64 = 3_600;
/// A federation session's length when `--duration` is not given: short,
/// since it carries no MFA.
pub const DEFAULT_FEDERATION_SECONDS: i64 = 3_600;
/// The `Issuer` of the login URL: where AWS sends a user whose console
/// session has ended. mfa has no page of its own, so it names itself.
pub const ISSUER: &str = "mfa";

/// The AWS partitions with a console, and their documented hosts (IAM User
/// Guide, "Enable custom identity broker access to the AWS console"; the
/// GovCloud and China guides for theirs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Partition {
    Aws,
    AwsUsGov,
    AwsCn,
}

impl Partition {
    /// The partition an ARN names (`arn:aws-us-gov:iam::…`).
    pub fn from_arn(arn: &str) -> Option<Partition> {
        let mut parts = arn.split(':');
        if parts.next() != Some("arn") {
            return None;
        }
        match parts.next()? {
            "aws" => Some(Partition::Aws),
            "aws-us-gov" => Some(Partition::AwsUsGov),
            "aws-cn" => Some(Partition::AwsCn),
            _ => None,
        }
    }

    /// The partition a region belongs to (`us-gov-west-1`, `cn-north-1`).
    pub fn from_region(region: &str) -> Partition {
        if region.starts_with("us-gov-") {
            Partition::AwsUsGov
        } else if region.starts_with("cn-") {
            Partition::AwsCn
        } else {
            Partition::Aws
        }
    }

    pub fn federation_endpoint(self) -> &'static str {
        match self {
            Partition::Aws => "https://signin.aws.amazon.com/federation",
            Partition::AwsUsGov => "https://signin.amazonaws-us-gov.com/federation",
            Partition::AwsCn => "https://signin.amazonaws.cn/federation",
        }
    }

    pub fn console(self) -> &'static str {
        match self {
            Partition::Aws => "https://console.aws.amazon.com",
            Partition::AwsUsGov => "https://console.amazonaws-us-gov.com",
            Partition::AwsCn => "https://console.amazonaws.cn",
        }
    }
}

/// The partition the console session belongs to: the signing role's ARN
/// says; without one (an SSO profile's own role), the console's region,
/// else the IAM Identity Center's region (a GovCloud portal signs in to
/// GovCloud).
pub fn partition(chain: &Chain, console_region: Option<&str>) -> Partition {
    let sso_region = match &chain.root {
        Root::Sso { sso, .. } => Some(sso.region.as_str()),
        _ => None,
    };
    chain
        .roles
        .last()
        .and_then(|role| Partition::from_arn(&role.role_arn))
        .or_else(|| console_region.or(sso_region).map(Partition::from_region))
        .unwrap_or(Partition::Aws)
}

/// Where the console session's credentials came from: what the federation
/// endpoint allows depends on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionKind {
    /// AssumeRole; `chained` when the role was assumed with another role's
    /// credentials (role chaining).
    Role { chained: bool },
    /// GetFederationToken (no MFA).
    Federation,
}

/// Which credentials sign in. A role session keeps MFA: the profile's role
/// (or `--role-arn`'s), assumed with MFA, or an SSO profile's own role
/// credentials (IAM Identity Center's `AWSReservedSSO_…` role session,
/// signed in through the portal's own MFA). A role assumed on top of
/// another role session is chained. A session from GetSessionToken alone
/// cannot sign in, so a profile with neither is refused unless
/// `--federation-token` asks for a federation session without MFA.
pub fn session_kind(chain: &Chain, federation_token: bool) -> Result<SessionKind, UsageError> {
    let sso = matches!(chain.root, Root::Sso { .. });
    if federation_token {
        if sso {
            return Err(UsageError::new(format!(
                "profile `{}` signs in through IAM Identity Center, whose role session signs in to the console (`mfa console {}`); --federation-token is only for an IAM user's long-term keys",
                chain.profile, chain.profile
            )));
        }
        if !chain.roles.is_empty() {
            return Err(UsageError::new(format!(
                "profile `{}` has a role: the console signs in with its role session (with MFA); --federation-token is only for a profile without a role",
                chain.profile
            )));
        }
        return Ok(SessionKind::Federation);
    }
    if chain.roles.is_empty() && !sso {
        return Err(UsageError::new(format!(
            "profile `{}` has no role, and a session from GetSessionToken cannot sign in to the console: name a role to assume with MFA, `mfa console {} --role-arn ARN` (`mfa roles` lists those in your config), or give the profile a role_arn; --federation-token signs in without MFA",
            chain.profile, chain.profile
        )));
    }
    // The role sessions below the last one: the SSO role, then each role.
    let parents = chain.roles.len() + usize::from(sso);
    Ok(SessionKind::Role {
        chained: parents > 1,
    })
}

/// The `SessionDuration` to send for `--duration`, checked before any
/// call: 900 to 43200 seconds for a role, at most an hour for a chained
/// role; never for federation credentials (AWS refuses it there: their
/// console session lasts as long as the credentials, which `--duration`
/// sets instead).
pub fn session_duration(
    kind: SessionKind,
    requested: Option<i64>,
) -> Result<Option<i64>, UsageError> {
    let Some(seconds) = requested else {
        return Ok(None);
    };
    check_console_duration(seconds)?;
    match kind {
        SessionKind::Role { chained: true } if seconds > CHAINED_ROLE_MAX_SECONDS => {
            Err(UsageError::new(format!(
                "--duration of {seconds} seconds cannot be used: this role is assumed with another role's credentials (role chaining), which AWS caps at {CHAINED_ROLE_MAX_SECONDS} seconds"
            )))
        }
        SessionKind::Role { .. } => Ok(Some(seconds)),
        SessionKind::Federation => Ok(None),
    }
}

/// `--duration` within what AWS allows for any console session.
pub fn check_console_duration(seconds: i64) -> Result<(), UsageError> {
    crate::resolve::check_duration("--duration for the console", seconds, CONSOLE_SECONDS)
}

/// The Session JSON `getSigninToken` takes. Only temporary credentials can
/// sign in: long-term keys (no session token) are refused.
pub fn session_json(credentials: &Credentials) -> anyhow::Result<String> {
    let Some(token) = &credentials.session_token else {
        anyhow::bail!("long-term keys cannot sign in to the console: only temporary credentials");
    };
    Ok(serde_json::json!({
        "sessionId": credentials.access_key_id,
        "sessionKey": credentials.secret_access_key,
        "sessionToken": token,
    })
    .to_string())
}

/// What a query value keeps as it is: RFC 3986's unreserved characters.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A query value, percent-encoded.
fn encode(value: &str) -> String {
    utf8_percent_encode(value, QUERY_VALUE).to_string()
}

/// The first console page: `--destination` as given (an https URL), else
/// the `--service`'s home, else the console home; in `region` when known.
pub fn destination(
    partition: Partition,
    service: Option<&str>,
    destination: Option<&str>,
    region: Option<&str>,
) -> Result<String, UsageError> {
    if let Some(url) = destination {
        let ok = url
            .strip_prefix("https://")
            .is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/'))
            && url.bytes().all(|b| b.is_ascii_graphic());
        if !ok {
            return Err(UsageError::new(format!(
                "--destination must be an https:// URL without spaces, like {}/s3/home, not `{}`",
                partition.console(),
                url.escape_debug()
            )));
        }
        return Ok(url.to_string());
    }
    let page = match service {
        Some(name) => {
            let valid = !name.is_empty()
                && name.len() <= 64
                && name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if !valid {
                return Err(UsageError::new(format!(
                    "--service takes a console service name such as s3, ec2 or iam (lower-case letters, digits and -), not `{}`",
                    name.escape_debug()
                )));
            }
            format!("{name}/home")
        }
        None => "console/home".to_string(),
    };
    let mut url = format!("{}/{page}", partition.console());
    if let Some(region) = region {
        url.push_str(&format!("?region={}", encode(region)));
    }
    Ok(url)
}

/// The federation endpoint: `AWS_ENDPOINT_URL_SIGNIN` (a base URL, to which
/// `/federation` is added when it has no path), else the partition's.
pub fn federation_endpoint(env: &Env, partition: Partition) -> Result<String, UsageError> {
    let Some(base) = env.get("AWS_ENDPOINT_URL_SIGNIN") else {
        return Ok(partition.federation_endpoint().to_string());
    };
    let parsed: Option<hyper::Uri> = base.parse().ok();
    let usable = parsed.as_ref().is_some_and(|uri| {
        matches!(uri.scheme_str(), Some("http" | "https"))
            && uri.host().is_some_and(|h| !h.is_empty())
            && uri.query().is_none()
    });
    if !usable {
        return Err(UsageError::new(format!(
            "AWS_ENDPOINT_URL_SIGNIN must be an http:// or https:// URL without a query, not `{}`",
            base.escape_debug()
        )));
    }
    let trimmed = base.trim_end_matches('/');
    let has_path = parsed.is_some_and(|uri| !uri.path().trim_matches('/').is_empty());
    Ok(if has_path {
        trimmed.to_string()
    } else {
        format!("{trimmed}/federation")
    })
}

/// The `getSigninToken` request (its query holds the Session JSON: a
/// secret, sent only to the endpoint, never shown).
pub fn signin_token_url(endpoint: &str, session_json: &str, duration: Option<i64>) -> String {
    let mut url = format!("{endpoint}?Action=getSigninToken");
    if let Some(seconds) = duration {
        url.push_str(&format!("&SessionDuration={seconds}"));
    }
    url.push_str("&Session=");
    url.push_str(&encode(session_json));
    url
}

/// The sign-in URL: a bearer credential for 15 minutes.
pub fn login_url(endpoint: &str, destination: &str, signin_token: &str) -> String {
    format!(
        "{endpoint}?Action=login&Issuer={}&Destination={}&SigninToken={}",
        encode(ISSUER),
        encode(destination),
        encode(signin_token)
    )
}

/// The console's region: `--region`, else `AWS_REGION`, `AWS_DEFAULT_REGION`,
/// the profile's; none leaves the console's own choice.
pub fn console_region(
    flag: Option<&str>,
    env: &Env,
    profile_region: Option<&str>,
) -> Result<Option<String>, UsageError> {
    if let Some(region) = flag {
        return if crate::sts::is_valid_region(region) {
            Ok(Some(region.to_string()))
        } else {
            Err(crate::sts::invalid_region(region, "--region"))
        };
    }
    if env.get("AWS_REGION").is_none()
        && env.get("AWS_DEFAULT_REGION").is_none()
        && profile_region.is_none()
    {
        return Ok(None);
    }
    crate::sts::sts_region(env, profile_region).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The chain of `name` in `config`.
    fn chain_of(config: &str, name: &str, role_arn: Option<&str>) -> Chain {
        let document = crate::config::document::parse(
            config,
            std::path::Path::new("config"),
            crate::config::FileKind::Config,
        )
        .unwrap();
        let profiles = crate::config::profiles::Profiles::from_documents(Some(&document), None);
        let overrides = crate::resolve::Overrides {
            role_arn: role_arn.map(str::to_string),
            duration: None,
        };
        crate::resolve::resolve(&profiles, name, &overrides).unwrap()
    }

    const SSO_CONFIG: &str = "[sso-session corp]\nsso_start_url = https://corp/start\nsso_region = us-gov-west-1\n\
        [profile dev]\nsso_session = corp\nsso_account_id = 1\nsso_role_name = Dev\n\
        [profile ops]\nrole_arn = arn:aws:iam::123456789012:role/ops\nsource_profile = dev\n";

    #[test]
    fn an_sso_profiles_own_role_session_signs_in_and_a_role_on_top_is_chained() {
        let dev = chain_of(SSO_CONFIG, "dev", None);
        assert_eq!(
            session_kind(&dev, false),
            Ok(SessionKind::Role { chained: false })
        );
        let ops = chain_of(SSO_CONFIG, "ops", None);
        assert_eq!(
            session_kind(&ops, false),
            Ok(SessionKind::Role { chained: true })
        );
        let via_flag = chain_of(SSO_CONFIG, "dev", Some("arn:aws:iam::1:role/x"));
        assert_eq!(
            session_kind(&via_flag, false),
            Ok(SessionKind::Role { chained: true })
        );
        for chain in [&dev, &ops] {
            let refused = session_kind(chain, true).unwrap_err().to_string();
            assert!(refused.contains("IAM Identity Center"), "{refused}");
        }
        // No role ARN: the console's region, else the portal's, says.
        assert_eq!(partition(&dev, None), Partition::AwsUsGov);
        assert_eq!(partition(&dev, Some("cn-north-1")), Partition::AwsCn);
        assert_eq!(partition(&ops, None), Partition::Aws);
    }

    #[test]
    fn a_profile_of_keys_needs_a_role_or_federation_token() {
        let config = "[profile alice]\naws_access_key_id = AKIAX\naws_secret_access_key = s\n";
        let alice = chain_of(config, "alice", None);
        let refused = session_kind(&alice, false).unwrap_err().to_string();
        assert!(refused.contains("--role-arn"), "{refused}");
        assert_eq!(session_kind(&alice, true), Ok(SessionKind::Federation));
        let role = chain_of(config, "alice", Some("arn:aws:iam::1:role/x"));
        assert_eq!(
            session_kind(&role, false),
            Ok(SessionKind::Role { chained: false })
        );
        assert!(session_kind(&role, true).is_err());
    }

    #[test]
    fn partitions_come_from_the_arn_then_the_region() {
        assert_eq!(
            Partition::from_arn("arn:aws-us-gov:iam::1:role/a"),
            Some(Partition::AwsUsGov)
        );
        assert_eq!(
            Partition::from_arn("arn:aws-cn:iam::1:role/a"),
            Some(Partition::AwsCn)
        );
        assert_eq!(
            Partition::from_arn("arn:aws:iam::1:role/a"),
            Some(Partition::Aws)
        );
        assert_eq!(Partition::from_arn("arn:aws-iso:iam::1:role/a"), None);
        assert_eq!(Partition::from_arn("role/a"), None);
        assert_eq!(Partition::from_region("us-gov-west-1"), Partition::AwsUsGov);
        assert_eq!(Partition::from_region("cn-northwest-1"), Partition::AwsCn);
        assert_eq!(Partition::from_region("eu-west-1"), Partition::Aws);
        assert_eq!(
            Partition::AwsUsGov.federation_endpoint(),
            "https://signin.amazonaws-us-gov.com/federation"
        );
        assert_eq!(
            Partition::AwsCn.federation_endpoint(),
            "https://signin.amazonaws.cn/federation"
        );
    }

    #[test]
    fn session_duration_follows_what_the_federation_endpoint_allows() {
        let role = SessionKind::Role { chained: false };
        let chained = SessionKind::Role { chained: true };
        assert_eq!(session_duration(role, None), Ok(None));
        assert_eq!(session_duration(role, Some(900)), Ok(Some(900)));
        assert_eq!(session_duration(role, Some(43_200)), Ok(Some(43_200)));
        for bad in [899, 43_201, 0, -1] {
            let e = session_duration(role, Some(bad)).unwrap_err();
            assert!(e.0.contains("AWS allows 900 to 43200 seconds"), "{e}");
        }
        assert_eq!(session_duration(chained, Some(3_600)), Ok(Some(3_600)));
        let e = session_duration(chained, Some(3_601)).unwrap_err();
        assert!(e.0.contains("role chaining"), "{e}");
        // Federation credentials: never a SessionDuration, but still bounded.
        assert_eq!(
            session_duration(SessionKind::Federation, Some(7_200)),
            Ok(None)
        );
        assert!(session_duration(SessionKind::Federation, Some(50_000)).is_err());
    }

    #[test]
    fn the_session_json_holds_the_three_parts_and_needs_a_token() {
        let mut c = Credentials {
            access_key_id: "ASIA1".into(),
            secret_access_key: "s/\"1".into(),
            session_token: Some("t+1".into()),
            expiration: None,
        };
        let json: serde_json::Value = serde_json::from_str(&session_json(&c).unwrap()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"sessionId": "ASIA1", "sessionKey": "s/\"1", "sessionToken": "t+1"})
        );
        c.session_token = None;
        assert!(session_json(&c).is_err());
    }

    #[test]
    fn destinations_name_the_service_and_region_or_are_taken_as_given() {
        let d = |s, d, r| destination(Partition::Aws, s, d, r);
        assert_eq!(
            d(None, None, None).unwrap(),
            "https://console.aws.amazon.com/console/home"
        );
        assert_eq!(
            d(Some("s3"), None, Some("eu-west-1")).unwrap(),
            "https://console.aws.amazon.com/s3/home?region=eu-west-1"
        );
        assert_eq!(
            destination(Partition::AwsCn, Some("ec2"), None, None).unwrap(),
            "https://console.amazonaws.cn/ec2/home"
        );
        let given = "https://console.aws.amazon.com/iam/home#/roles";
        assert_eq!(d(None, Some(given), Some("x")).unwrap(), given);
        for bad in [
            "http://evil",
            "javascript:alert(1)",
            "https://",
            "https:///x",
        ] {
            assert!(d(None, Some(bad), None).is_err(), "{bad}");
        }
        for bad in ["S3", "s3/../x", "", "a b"] {
            assert!(d(Some(bad), None, None).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_endpoint_is_the_partitions_or_aws_endpoint_url_signin() {
        let none = Env::default();
        assert_eq!(
            federation_endpoint(&none, Partition::Aws).unwrap(),
            "https://signin.aws.amazon.com/federation"
        );
        let at = |v: &str| Env::from_pairs([("AWS_ENDPOINT_URL_SIGNIN", v)]);
        assert_eq!(
            federation_endpoint(&at("http://127.0.0.1:5000"), Partition::AwsCn).unwrap(),
            "http://127.0.0.1:5000/federation"
        );
        assert_eq!(
            federation_endpoint(&at("http://127.0.0.1:5000/"), Partition::Aws).unwrap(),
            "http://127.0.0.1:5000/federation"
        );
        assert_eq!(
            federation_endpoint(&at("https://proxy.example/sign/federation"), Partition::Aws)
                .unwrap(),
            "https://proxy.example/sign/federation"
        );
        for bad in ["ftp://x", "not a url", "http://x/?a=b", "/federation"] {
            assert!(
                federation_endpoint(&at(bad), Partition::Aws).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn urls_carry_every_value_percent_encoded() {
        let url = signin_token_url("https://e/federation", "{\"a\":\"b&c\"}", Some(900));
        assert_eq!(
            url,
            "https://e/federation?Action=getSigninToken&SessionDuration=900&Session=%7B%22a%22%3A%22b%26c%22%7D"
        );
        assert_eq!(
            signin_token_url("https://e/federation", "x", None),
            "https://e/federation?Action=getSigninToken&Session=x"
        );
        let login = login_url("https://e/federation", "https://c/s3/home?region=r", "t/+=");
        assert_eq!(
            login,
            "https://e/federation?Action=login&Issuer=mfa&Destination=https%3A%2F%2Fc%2Fs3%2Fhome%3Fregion%3Dr&SigninToken=t%2F%2B%3D"
        );
    }

    #[test]
    fn the_console_region_is_the_flags_then_the_environments_then_the_profiles() {
        let env = Env::from_pairs([("AWS_REGION", "eu-central-1")]);
        assert_eq!(
            console_region(Some("us-west-2"), &env, Some("eu-west-1")).unwrap(),
            Some("us-west-2".into())
        );
        assert_eq!(
            console_region(None, &env, Some("eu-west-1")).unwrap(),
            Some("eu-central-1".into())
        );
        assert_eq!(
            console_region(None, &Env::default(), Some("eu-west-1")).unwrap(),
            Some("eu-west-1".into())
        );
        assert_eq!(console_region(None, &Env::default(), None).unwrap(), None);
        assert!(console_region(Some("it's"), &env, None).is_err());
    }
}
