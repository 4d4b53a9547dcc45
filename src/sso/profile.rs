//! Which profiles sign in with SSO, and where: the profile's
//! `sso_session` and its `[sso-session NAME]` section, or the legacy
//! `sso_start_url` and `sso_region` in the profile itself.

use crate::config::{Profile, Profiles};
use crate::error::UsageError;

/// Where an SSO profile signs in and which role it takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoProfile {
    /// The `[sso-session NAME]` it names; `None` for a legacy profile
    /// (`sso_start_url` and `sso_region` in the profile itself).
    pub session: Option<String>,
    pub start_url: String,
    /// `sso_region`: where the portal and OIDC are called.
    pub region: String,
    pub account_id: String,
    pub role_name: String,
    /// `sso_registration_scopes` as configured (`None`: not set), which
    /// names the cached client registration as the AWS CLI names it.
    pub scopes: Option<Vec<String>>,
}

impl SsoProfile {
    /// The scopes a new client registers for: those configured, else for
    /// an sso-session the one that gives refresh tokens (as the AWS CLI
    /// does), else none (legacy profiles get no refresh token).
    pub fn registration_scopes(&self) -> Vec<String> {
        match (&self.scopes, &self.session) {
            (Some(scopes), _) if !scopes.is_empty() => scopes.clone(),
            (_, Some(_)) => vec![DEFAULT_SCOPE.to_string()],
            (_, None) => Vec::new(),
        }
    }
}

/// The scope the AWS CLI asks for when an sso-session names none: the one
/// that gives refresh tokens.
pub const DEFAULT_SCOPE: &str = "sso:account:access";

/// The profile's SSO settings, or `None` when it is no SSO profile. What
/// is missing or wrong is a configuration error that says what to add.
pub fn from_profile(
    profiles: &Profiles,
    profile: &Profile,
) -> Result<Option<SsoProfile>, UsageError> {
    let name = &profile.name;
    let session = profile.scalar("sso_session")?;
    let legacy_url = profile.scalar("sso_start_url")?;
    if session.is_none() && legacy_url.is_none() {
        return Ok(None);
    }
    let (start_url, region, scopes) = match session {
        Some(session) => {
            let section = profiles.sso_session(session).ok_or_else(|| {
                UsageError::new(format!(
                    "profile `{name}` has sso_session = {session}, but the config file has no [sso-session {session}] section"
                ))
            })?;
            let needed = |key: &str| -> Result<String, UsageError> {
                section.scalar(key)?.map(str::to_string).ok_or_else(|| {
                    UsageError::new(format!(
                        "the [sso-session {session}] section (used by profile `{name}`) has no {key}"
                    ))
                })
            };
            // The AWS CLI's parse_sso_registration_scopes.
            let scopes = section.scalar("sso_registration_scopes")?.map(|scopes| {
                scopes
                    .split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            });
            (needed("sso_start_url")?, needed("sso_region")?, scopes)
        }
        None => {
            let region = profile.scalar("sso_region")?.ok_or_else(|| {
                UsageError::new(format!(
                    "profile `{name}` has sso_start_url but no sso_region (the region of your IAM Identity Center)"
                ))
            })?;
            (
                legacy_url.unwrap_or_default().to_string(),
                region.to_string(),
                None,
            )
        }
    };
    if !crate::sts::is_valid_region(&region) {
        return Err(crate::sts::invalid_region(
            &region,
            &format!("the sso_region of profile `{name}`"),
        ));
    }
    let needed = |key: &str, what: &str| -> Result<String, UsageError> {
        profile.scalar(key)?.map(str::to_string).ok_or_else(|| {
            UsageError::new(format!(
                "profile `{name}` signs in with SSO but has no {key} ({what}): add it, or use it only as a source of sso_session"
            ))
        })
    };
    Ok(Some(SsoProfile {
        session: session.map(str::to_string),
        start_url,
        region,
        account_id: needed("sso_account_id", "the account whose role it takes")?,
        role_name: needed("sso_role_name", "the permission set's role name")?,
        scopes,
    }))
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    pub fn profiles(config: &str) -> Profiles {
        let c = crate::config::document::parse(
            config,
            std::path::Path::new("config"),
            crate::config::FileKind::Config,
        )
        .unwrap();
        Profiles::from_documents(Some(&c), None)
    }

    pub fn sso_of(p: &Profiles, name: &str) -> Result<Option<SsoProfile>, UsageError> {
        from_profile(p, p.get(name).unwrap())
    }

    #[test]
    fn sessions_and_legacy_profiles_are_read_and_what_is_missing_is_named() {
        let p = profiles(
            "[profile dev]\nsso_session = corp\nsso_account_id = 111122223333\nsso_role_name = Dev\n\
             [sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = eu-west-1\n\
             sso_registration_scopes = sso:account:access, extra\n\
             [profile old]\nsso_start_url = https://old.awsapps.com/start\nsso_region = us-east-1\n\
             sso_account_id = 1\nsso_role_name = R\n\
             [profile nosession]\nsso_session = gone\nsso_account_id = 1\nsso_role_name = R\n\
             [profile norole]\nsso_session = corp\nsso_account_id = 1\n\
             [profile plain]\nregion = eu-west-1\n",
        );
        let dev = sso_of(&p, "dev").unwrap().unwrap();
        assert_eq!(dev.session.as_deref(), Some("corp"));
        assert_eq!(dev.start_url, "https://corp.awsapps.com/start");
        assert_eq!(
            (dev.region.as_str(), dev.account_id.as_str()),
            ("eu-west-1", "111122223333")
        );
        assert_eq!(dev.registration_scopes(), ["sso:account:access", "extra"]);
        let old = sso_of(&p, "old").unwrap().unwrap();
        assert_eq!(old.registration_scopes(), Vec::<String>::new());
        assert_eq!((old.session, old.region.as_str()), (None, "us-east-1"));
        let e = sso_of(&p, "nosession").unwrap_err();
        assert!(e.0.contains("no [sso-session gone] section"), "{e}");
        let e = sso_of(&p, "norole").unwrap_err();
        assert!(e.0.contains("no sso_role_name"), "{e}");
        assert_eq!(sso_of(&p, "plain").unwrap(), None);
    }
}
