//! Making MFA mandatory across an account (SPEC §10): the desired IAM
//! state of a recipe, compared with what IAM has ([`plan`]), changed in a
//! safe order ([`apply`]) or printed as a template ([`template`]); the
//! account's users audited ([`audit`]); a new user onboarded ([`onboard`]).
//!
//! Every document comes from [`crate::policy`], the builders `mfa policy`
//! prints. The pure parts take plain data; IAM is passed in as
//! [`crate::iam::admin::IamAdmin`].

pub mod apply;
pub mod audit;
pub mod diff;
pub mod onboard;
pub mod plan;
pub mod requires;
pub mod template;

use serde_json::{Value, json};

use crate::error::UsageError;
use crate::policy::{self, Policy, Target, USERNAME_VARIABLE};

/// What a recipe makes mandatory, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Recipe {
    /// A role that can be assumed only with MFA, and a group that may assume it
    Role,
    /// A permissions boundary that allows everything only with MFA, on each user
    Boundary,
    /// A policy that denies everything without MFA, on a group
    Deny,
}

impl Recipe {
    pub fn name(self) -> &'static str {
        match self {
            Recipe::Role => "role",
            Recipe::Boundary => "boundary",
            Recipe::Deny => "deny",
        }
    }

    /// The name of the role (role) or managed policy (boundary, deny).
    pub fn default_name(self) -> &'static str {
        match self {
            Recipe::Role => "mfa-admin",
            Recipe::Boundary => "mfa-required",
            Recipe::Deny => "deny-without-mfa",
        }
    }
}

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub recipe: Recipe,
    pub name: Option<String>,
    pub group: Option<String>,
    /// Managed policies the role gets (role recipe).
    pub policies: Vec<String>,
    pub users: Vec<String>,
}

/// The name of the inline policy that lets the role recipe's group assume the role.
pub fn assume_policy_name(role: &str) -> String {
    format!("assume-{role}")
}

/// The inline policy that lets the group's members set up their own device.
pub const SELF_MANAGE_POLICY: &str = "self-manage-mfa";

/// An IAM name: letters, digits and `+=,.@_-`, up to `max` of them.
pub fn check_name(what: &str, name: &str, max: usize) -> Result<(), UsageError> {
    let valid = (1..=max).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b));
    if valid {
        Ok(())
    } else {
        Err(UsageError::new(format!(
            "{what} must be an IAM name (up to {max} letters, digits and +=,.@_-), not `{name}`"
        )))
    }
}

/// A managed policy's ARN, as `--policy` takes it.
fn check_policy_arn(arn: &str) -> Result<(), UsageError> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let valid = parts.len() == 6
        && parts[0] == "arn"
        && parts[2] == "iam"
        && parts[5].starts_with("policy/")
        && parts[5].len() > "policy/".len()
        && policy::partition(arn).is_some()
        && arn.bytes().all(|b| b.is_ascii_graphic());
    if valid {
        Ok(())
    } else {
        Err(UsageError::new(format!(
            "--policy must be a managed policy's ARN (arn:aws:iam::ACCOUNT:policy/NAME), not `{arn}`"
        )))
    }
}

impl Request {
    pub fn name(&self) -> &str {
        self.name
            .as_deref()
            .unwrap_or_else(|| self.recipe.default_name())
    }

    /// The group the recipe uses: `--group`, else `NAME-users`; the
    /// boundary recipe has none.
    pub fn group(&self) -> Option<String> {
        match self.recipe {
            Recipe::Boundary => None,
            Recipe::Role | Recipe::Deny => Some(
                self.group
                    .clone()
                    .unwrap_or_else(|| format!("{}-users", self.name())),
            ),
        }
    }

    /// Usage errors before anything is asked of IAM.
    pub fn check(&self) -> Result<(), UsageError> {
        let max = match self.recipe {
            Recipe::Role => 64,
            Recipe::Boundary | Recipe::Deny => 128,
        };
        check_name("--name", self.name(), max)?;
        if self.recipe == Recipe::Boundary && self.group.is_some() {
            return Err(UsageError::new(
                "--recipe boundary uses no group: the boundary is set on each of --users",
            ));
        }
        if let Some(group) = self.group() {
            check_name("--group", &group, 128)?;
        }
        if self.recipe != Recipe::Role && !self.policies.is_empty() {
            return Err(UsageError::new(
                "--policy names the managed policies of the role: only --recipe role takes it",
            ));
        }
        for arn in &self.policies {
            check_policy_arn(arn)?;
        }
        for user in &self.users {
            if user == USERNAME_VARIABLE {
                return Err(UsageError::new("--users takes IAM user names"));
            }
            policy::check_user(user)
                .map_err(|_| UsageError::new(format!("--users: `{user}` is no IAM user name")))?;
        }
        Ok(())
    }
}

/// One thing in IAM a recipe wants.
#[derive(Debug, Clone, PartialEq)]
pub enum Resource {
    /// A customer managed policy.
    Policy {
        name: String,
        arn: String,
        document: Value,
    },
    /// A role and its trust policy.
    Role {
        name: String,
        trust: Value,
    },
    RoleAttachment {
        role: String,
        policy_arn: String,
    },
    Group {
        name: String,
    },
    /// An inline policy of a group.
    GroupPolicy {
        group: String,
        name: String,
        document: Value,
    },
    GroupAttachment {
        group: String,
        policy_arn: String,
    },
    Membership {
        group: String,
        user: String,
    },
    /// A user's permissions boundary.
    Boundary {
        user: String,
        policy_arn: String,
    },
}

impl Resource {
    /// The kind, as plan and JSON name it.
    pub fn kind(&self) -> &'static str {
        match self {
            Resource::Policy { .. } => "policy",
            Resource::Role { .. } => "role",
            Resource::RoleAttachment { .. } => "role-policy-attachment",
            Resource::Group { .. } => "group",
            Resource::GroupPolicy { .. } => "group-inline-policy",
            Resource::GroupAttachment { .. } => "group-policy-attachment",
            Resource::Membership { .. } => "group-membership",
            Resource::Boundary { .. } => "permissions-boundary",
        }
    }

    /// Which one: a name, or the two names it joins.
    pub fn id(&self) -> String {
        match self {
            Resource::Policy { name, .. }
            | Resource::Role { name, .. }
            | Resource::Group { name } => name.clone(),
            Resource::RoleAttachment { role, policy_arn } => format!("{role} <- {policy_arn}"),
            Resource::GroupPolicy { group, name, .. } => format!("{group}/{name}"),
            Resource::GroupAttachment { group, policy_arn } => format!("{group} <- {policy_arn}"),
            Resource::Membership { group, user } => format!("{user} in {group}"),
            Resource::Boundary { user, policy_arn } => format!("{user} <- {policy_arn}"),
        }
    }

    /// What is compared with IAM's copy: a document, a boundary's ARN, or
    /// nothing (the resource exists or not).
    pub fn content(&self) -> Value {
        match self {
            Resource::Policy { document, .. } | Resource::GroupPolicy { document, .. } => {
                document.clone()
            }
            Resource::Role { trust, .. } => trust.clone(),
            Resource::Boundary { policy_arn, .. } => Value::String(policy_arn.clone()),
            _ => Value::Null,
        }
    }
}

/// A document as JSON.
fn document(policy: Policy, target: &Target) -> Value {
    serde_json::to_value(policy::document(policy, target)).unwrap_or(Value::Null)
}

/// The target a recipe's documents are filled in with: every user of the
/// account (the `${aws:username}` variable), the account's principals.
pub fn recipe_target(partition: &str, account: &str) -> Target {
    Target {
        partition: partition.to_string(),
        account: Some(account.to_string()),
        user: USERNAME_VARIABLE.to_string(),
        user_resource: USERNAME_VARIABLE.to_string(),
        explicit_user: false,
    }
}

/// Everything the recipe wants, in the order it is safe to make: what is
/// referred to before what refers to it, and what restricts users last.
pub fn desired(request: &Request, target: &Target) -> Vec<Resource> {
    let name = request.name().to_string();
    let group = request.group();
    let members = |group: &str| -> Vec<Resource> {
        request
            .users
            .iter()
            .map(|user| Resource::Membership {
                group: group.to_string(),
                user: user.clone(),
            })
            .collect()
    };
    let self_manage = |group: &str| Resource::GroupPolicy {
        group: group.to_string(),
        name: SELF_MANAGE_POLICY.to_string(),
        document: document(Policy::SelfManageMfa, target),
    };
    let mut resources = Vec::new();
    match (request.recipe, group) {
        (Recipe::Role, Some(group)) => {
            let role_arn = target.arn(&format!("role/{name}"));
            resources.push(Resource::Role {
                name: name.clone(),
                trust: document(Policy::RoleTrust, target),
            });
            resources.extend(request.policies.iter().map(|arn| Resource::RoleAttachment {
                role: name.clone(),
                policy_arn: arn.clone(),
            }));
            resources.push(Resource::Group {
                name: group.clone(),
            });
            resources.push(Resource::GroupPolicy {
                group: group.clone(),
                name: assume_policy_name(&name),
                document: json!({
                    "Version": "2012-10-17",
                    "Statement": [{
                        "Sid": "AssumeRoleThatNeedsMfa",
                        "Effect": "Allow",
                        "Action": "sts:AssumeRole",
                        "Resource": role_arn,
                    }],
                }),
            });
            resources.push(self_manage(&group));
            resources.extend(members(&group));
        }
        (Recipe::Deny, Some(group)) => {
            let arn = target.arn(&format!("policy/{name}"));
            resources.push(Resource::Policy {
                name,
                arn: arn.clone(),
                document: document(Policy::DenyWithoutMfa, target),
            });
            resources.push(Resource::Group {
                name: group.clone(),
            });
            // The deny spares the enrolment; this allows it.
            resources.push(self_manage(&group));
            resources.push(Resource::GroupAttachment {
                group: group.clone(),
                policy_arn: arn,
            });
            resources.extend(members(&group));
        }
        (Recipe::Boundary, _) | (_, None) => {
            let arn = target.arn(&format!("policy/{name}"));
            resources.push(Resource::Policy {
                name,
                arn: arn.clone(),
                document: document(Policy::MfaBoundary, target),
            });
            resources.extend(request.users.iter().map(|user| Resource::Boundary {
                user: user.clone(),
                policy_arn: arn.clone(),
            }));
        }
    }
    resources
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(recipe: Recipe) -> Request {
        Request {
            recipe,
            name: None,
            group: None,
            policies: vec![],
            users: vec!["alice".into()],
        }
    }

    #[test]
    fn each_recipe_wants_what_spec_10_says_in_a_safe_order() {
        let target = recipe_target("aws", "111122223333");
        let kinds =
            |r: &Request| -> Vec<&str> { desired(r, &target).iter().map(Resource::kind).collect() };
        let mut role = request(Recipe::Role);
        role.policies = vec!["arn:aws:iam::aws:policy/AdministratorAccess".into()];
        assert_eq!(
            kinds(&role),
            [
                "role",
                "role-policy-attachment",
                "group",
                "group-inline-policy",
                "group-inline-policy",
                "group-membership"
            ]
        );
        assert_eq!(
            kinds(&request(Recipe::Boundary)),
            ["policy", "permissions-boundary"]
        );
        assert_eq!(
            kinds(&request(Recipe::Deny)),
            [
                "policy",
                "group",
                "group-inline-policy",
                "group-policy-attachment",
                "group-membership"
            ]
        );
        let deny = desired(&request(Recipe::Deny), &target);
        assert_eq!(
            deny[0],
            Resource::Policy {
                name: "deny-without-mfa".into(),
                arn: "arn:aws:iam::111122223333:policy/deny-without-mfa".into(),
                document: document(Policy::DenyWithoutMfa, &target),
            }
        );
        assert_eq!(
            deny[4].id(),
            "alice in deny-without-mfa-users",
            "the group defaults to NAME-users"
        );
    }

    #[test]
    fn the_role_group_may_assume_exactly_the_role() {
        let target = recipe_target("aws", "111122223333");
        let resources = desired(&request(Recipe::Role), &target);
        let assume = resources
            .iter()
            .find(|r| matches!(r, Resource::GroupPolicy { name, .. } if name == "assume-mfa-admin"))
            .map(Resource::content);
        assert_eq!(
            assume
                .as_ref()
                .map(|d| d["Statement"][0]["Resource"].clone()),
            Some(json!("arn:aws:iam::111122223333:role/mfa-admin"))
        );
    }

    #[test]
    fn requests_are_checked_before_iam_is_asked() {
        assert!(request(Recipe::Role).check().is_ok());
        let mut bad = request(Recipe::Boundary);
        bad.group = Some("g".into());
        assert!(bad.check().is_err(), "boundary takes no group");
        let mut bad = request(Recipe::Deny);
        bad.policies = vec!["arn:aws:iam::aws:policy/ReadOnlyAccess".into()];
        assert!(bad.check().is_err(), "only the role takes --policy");
        for arn in [
            "ReadOnlyAccess",
            "arn:aws:s3:::b",
            "arn:aws:iam::1:policy/",
            "arn:aws:iam::1:role/x",
        ] {
            let mut bad = request(Recipe::Role);
            bad.policies = vec![arn.into()];
            assert!(bad.check().is_err(), "{arn}");
        }
        for name in ["", "a b", "a/b", &"x".repeat(65)] {
            let mut bad = request(Recipe::Role);
            bad.name = Some(name.to_string());
            assert!(bad.check().is_err(), "{name}");
        }
        let mut bad = request(Recipe::Role);
        bad.users = vec!["${aws:username}".into()];
        assert!(bad.check().is_err());
    }
}
