//! The IAM policy documents that make MFA mandatory (SPEC §6, §10): built
//! here once, printed by `mfa policy` and applied by `mfa enforce`.
//!
//! Four documents, built from the same list of self-service actions, so
//! that what a user may do before MFA is the same in all of them:
//!
//! * `mfa-boundary`: a permissions boundary that allows everything with
//!   MFA, and without it only the user's own enrolment;
//! * `role-trust`: a role's trust policy: the account's principals may
//!   assume it, with MFA only;
//! * `self-manage-mfa`: the user's own enrolment without MFA, deactivation
//!   with MFA, nothing else;
//! * `deny-without-mfa`: denies everything but that enrolment when the
//!   request was not made with MFA. It names no account or user (IAM
//!   documents policy variables in `Resource`, not in `NotResource`), so
//!   it needs no credentials.
//!
//! `sts:GetSessionToken` appears nowhere: IAM policies cannot control it.

use serde::Serialize;
use serde_json::{Value, json};

use crate::error::UsageError;

/// The policy variable IAM replaces with the name of the calling user.
pub const USERNAME_VARIABLE: &str = "${aws:username}";

/// The condition key that says a request was made with MFA.
pub const MFA_PRESENT: &str = "aws:MultiFactorAuthPresent";

/// What a user may do on their own user without MFA: look at themselves,
/// list, enable and resync their devices (enabling and resyncing take two
/// codes from the device itself).
const OWN_USER_ACTIONS: [&str; 4] = [
    "iam:GetUser",
    "iam:ListMFADevices",
    "iam:EnableMFADevice",
    "iam:ResyncMFADevice",
];

/// What a user may do without MFA on the virtual device named after them:
/// create it, and delete it again while it is not enabled (IAM refuses to
/// delete an enabled device), so that a failed enrolment can be retried.
const OWN_DEVICE_ACTIONS: [&str; 2] = ["iam:CreateVirtualMFADevice", "iam:DeleteVirtualMFADevice"];

/// Self-service that has no resource to scope it to (IAM takes only `*`).
const UNSCOPED_ACTIONS: [&str; 1] = ["iam:ListVirtualMFADevices"];

/// Deactivating a device takes MFA: else stolen keys could remove it.
const DEACTIVATE: &str = "iam:DeactivateMFADevice";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    MfaBoundary,
    RoleTrust,
    SelfManageMfa,
    DenyWithoutMfa,
}

impl Policy {
    pub const ALL: [Policy; 4] = [
        Policy::MfaBoundary,
        Policy::RoleTrust,
        Policy::SelfManageMfa,
        Policy::DenyWithoutMfa,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Policy::MfaBoundary => "mfa-boundary",
            Policy::RoleTrust => "role-trust",
            Policy::SelfManageMfa => "self-manage-mfa",
            Policy::DenyWithoutMfa => "deny-without-mfa",
        }
    }

    /// What it is for, in one line.
    pub fn purpose(self) -> &'static str {
        match self {
            Policy::MfaBoundary => {
                "permissions boundary for a user: everything only with MFA; without MFA, only setting up their own device"
            }
            Policy::RoleTrust => {
                "trust policy for a role: the account's users (or --user) may assume it only with MFA"
            }
            Policy::SelfManageMfa => {
                "for a user or group: set up, list and resync their own MFA device without MFA, deactivate it with MFA, nothing else"
            }
            Policy::DenyWithoutMfa => {
                "for a user or group, beside their permissions: deny everything but setting up their own MFA device until they sign in with MFA"
            }
        }
    }

    pub fn from_name(name: &str) -> Option<Policy> {
        Policy::ALL.into_iter().find(|p| p.name() == name)
    }

    /// Whether the document names the account (and so needs to know it).
    pub fn names_account(self) -> bool {
        self != Policy::DenyWithoutMfa
    }
}

/// Who a document is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// `aws`, `aws-cn`, `aws-us-gov`.
    pub partition: String,
    /// Twelve digits; `None` when the policy names no account and none was
    /// given (an ARN then has the `*` wildcard, which no policy here uses).
    pub account: Option<String>,
    /// The user's name, or [`USERNAME_VARIABLE`].
    pub user: String,
    /// The user's ARN resource after `user/`: the name, behind its path
    /// when the caller's ARN showed one (`dev/alice`).
    pub user_resource: String,
    /// Whether `--user` named the user (the trust policy then names them).
    pub explicit_user: bool,
}

impl Target {
    pub fn arn(&self, resource: &str) -> String {
        let account = self.account.as_deref().unwrap_or("*");
        format!("arn:{}:iam::{account}:{resource}", self.partition)
    }

    fn user_arn(&self) -> String {
        self.arn(&format!("user/{}", self.user_resource))
    }

    /// The virtual device named after the user, as `mfa device create` makes it.
    fn device_arn(&self) -> String {
        self.arn(&format!("mfa/{}", self.user))
    }
}

/// A policy document, its fields in the order AWS writes them (serde_json
/// would sort the keys of a map).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Document {
    pub version: &'static str,
    pub statement: Vec<Statement>,
}

/// One statement: `Action` or `NotAction`, `Resource` or `Principal`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Statement {
    pub sid: &'static str,
    pub effect: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub principal: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_action: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<Value>,
}

impl Statement {
    fn allow(sid: &'static str, action: Value, resource: impl Into<Value>) -> Statement {
        Statement {
            sid,
            effect: "Allow",
            principal: None,
            action: Some(action),
            not_action: None,
            resource: Some(resource.into()),
            condition: None,
        }
    }

    /// Only when the request was made with MFA. `Bool`, not
    /// `BoolIfExists`: long-term keys carry no MultiFactorAuthPresent at
    /// all, and must not match.
    fn with_mfa(mut self) -> Statement {
        self.condition = Some(json!({ "Bool": { MFA_PRESENT: "true" } }));
        self
    }
}

/// The statements that let a user enrol their own device without MFA.
fn self_service(target: &Target) -> Vec<Statement> {
    vec![
        Statement::allow(
            "OwnUserMfaWithoutMfa",
            json!(OWN_USER_ACTIONS),
            target.user_arn(),
        ),
        Statement::allow(
            "OwnVirtualDeviceWithoutMfa",
            json!(OWN_DEVICE_ACTIONS),
            target.device_arn(),
        ),
        Statement::allow("ListVirtualDevicesWithoutMfa", json!(UNSCOPED_ACTIONS), "*"),
    ]
}

/// Every action a user may call without MFA.
pub fn self_service_actions() -> Vec<&'static str> {
    let mut actions: Vec<&str> = OWN_USER_ACTIONS
        .iter()
        .chain(&OWN_DEVICE_ACTIONS)
        .chain(&UNSCOPED_ACTIONS)
        .copied()
        .collect();
    actions.sort_unstable();
    actions
}

fn statements(policy: Policy, target: &Target) -> Vec<Statement> {
    match policy {
        Policy::MfaBoundary => {
            let mut statements =
                vec![Statement::allow("EverythingWithMfa", json!("*"), "*").with_mfa()];
            statements.extend(self_service(target));
            statements
        }
        Policy::RoleTrust => {
            let principal = if target.explicit_user {
                target.user_arn()
            } else {
                target.arn("root")
            };
            vec![
                Statement {
                    sid: "AssumeOnlyWithMfa",
                    effect: "Allow",
                    principal: Some(json!({ "AWS": principal })),
                    action: Some(json!("sts:AssumeRole")),
                    not_action: None,
                    resource: None,
                    condition: None,
                }
                .with_mfa(),
            ]
        }
        Policy::SelfManageMfa => {
            let mut statements = self_service(target);
            statements.push(
                Statement::allow(
                    "DeactivateOwnDeviceWithMfa",
                    json!(DEACTIVATE),
                    target.user_arn(),
                )
                .with_mfa(),
            );
            statements
        }
        // BoolIfExists: requests signed with long-term keys carry no
        // MultiFactorAuthPresent at all, and must be denied as well.
        Policy::DenyWithoutMfa => vec![Statement {
            sid: "DenyAllButMfaSetupWithoutMfa",
            effect: "Deny",
            principal: None,
            action: None,
            not_action: Some(json!(self_service_actions())),
            resource: Some(json!("*")),
            condition: Some(json!({ "BoolIfExists": { MFA_PRESENT: "false" } })),
        }],
    }
}

/// The whole document.
pub fn document(policy: Policy, target: &Target) -> Document {
    Document {
        version: "2012-10-17",
        statement: statements(policy, target),
    }
}

/// `mfa policy --list`: one line per policy.
pub fn list() -> String {
    let width = Policy::ALL
        .iter()
        .map(|p| p.name().len())
        .max()
        .unwrap_or(0);
    Policy::ALL
        .iter()
        .map(|p| format!("{:<width$}  {}\n", p.name(), p.purpose()))
        .collect()
}

/// An AWS account ID: twelve digits.
pub fn check_account(account: &str) -> Result<(), UsageError> {
    if account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(UsageError::new(format!(
            "--account must be a 12-digit AWS account ID, not `{account}`"
        )))
    }
}

/// An IAM user name (1 to 64 of letters, digits and `+=,.@_-`), or the
/// `${aws:username}` variable.
pub fn check_user(user: &str) -> Result<(), UsageError> {
    let valid = user == USERNAME_VARIABLE
        || ((1..=64).contains(&user.len())
            && user
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b)));
    if valid {
        Ok(())
    } else {
        Err(UsageError::new(format!(
            "--user must be an IAM user name (up to 64 letters, digits and +=,.@_-) or {USERNAME_VARIABLE}, not `{user}`"
        )))
    }
}

/// The partition of an ARN (`arn:PARTITION:…`), when it looks like one.
pub fn partition(arn: &str) -> Option<&str> {
    let mut parts = arn.split(':');
    (parts.next() == Some("arn"))
        .then(|| parts.next())
        .flatten()
        .filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(user: &str) -> Target {
        Target {
            partition: "aws".into(),
            account: Some("111122223333".into()),
            user: user.into(),
            user_resource: user.into(),
            explicit_user: false,
        }
    }

    #[test]
    fn names_round_trip() {
        for policy in Policy::ALL {
            assert_eq!(Policy::from_name(policy.name()), Some(policy));
        }
        assert_eq!(Policy::from_name("boundary"), None);
    }

    #[test]
    fn account_and_user_checks() {
        assert!(check_account("123456789012").is_ok());
        for bad in [
            "",
            "12345678901",
            "1234567890123",
            "12345678901a",
            "١٢٣٤٥٦٧٨٩٠١٢",
        ] {
            assert!(check_account(bad).is_err(), "{bad}");
        }
        for good in [
            "alice",
            "a.b@c_d+e=f,g-h",
            USERNAME_VARIABLE,
            &"x".repeat(64),
        ] {
            assert!(check_user(good).is_ok(), "{good}");
        }
        for bad in ["", "a b", "a/b", "${aws:userid}", "a\"b", &"x".repeat(65)] {
            assert!(check_user(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn partition_of_arns() {
        assert_eq!(partition("arn:aws:iam::1:user/a"), Some("aws"));
        assert_eq!(partition("arn:aws-cn:sts::1:x"), Some("aws-cn"));
        assert_eq!(partition("nonsense"), None);
        assert_eq!(partition("arn::iam"), None);
    }

    #[test]
    fn deny_spares_exactly_what_self_manage_allows_without_mfa() {
        let doc = serde_json::to_value(document(Policy::SelfManageMfa, &target("alice")))
            .expect("a document is JSON");
        let mut allowed: Vec<String> = doc["Statement"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|s| s.get("Condition").is_none())
            .flat_map(|s| s["Action"].as_array().cloned().unwrap_or_default())
            .filter_map(|a| a.as_str().map(str::to_string))
            .collect();
        allowed.sort();
        let deny = serde_json::to_value(document(Policy::DenyWithoutMfa, &target("alice")))
            .expect("a document is JSON");
        let spared: Vec<String> = deny["Statement"][0]["NotAction"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|a| a.as_str().map(str::to_string))
            .collect();
        assert_eq!(allowed, spared);
    }

    #[test]
    fn list_has_one_line_each() {
        let text = list();
        assert_eq!(text.lines().count(), 4);
        for policy in Policy::ALL {
            assert!(text.lines().any(|l| l.starts_with(policy.name())));
        }
    }
}
