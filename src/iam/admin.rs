//! The IAM calls an administrator's commands make (`mfa enforce`,
//! `mfa onboard`): read users, groups, roles and policies, and change them.
//! Every List call follows IAM's `Marker` to the last page. Documents come
//! back as IAM keeps them (URL-encoded); [`decode_document`] makes them JSON.

use super::{NewKey, SdkIam};
use crate::aws::AwsError;
use crate::creds::Credentials;

/// A user as GetUser describes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub name: String,
    pub arn: String,
    /// The ARN of the user's permissions boundary.
    pub boundary: Option<String>,
}

/// An access key as ListAccessKeys describes it (never the secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessKey {
    pub id: String,
    pub active: bool,
    /// Unix seconds.
    pub created: Option<i64>,
}

/// The tag mfa puts on the managed policies and roles it creates: an
/// existing one without it is updated only when the user says so.
pub const MANAGED_TAG: (&str, &str) = ("managed-by", "mfa");

/// Who a managed policy is attached to (ListEntitiesForPolicy).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicyEntities {
    pub users: Vec<String>,
    pub groups: Vec<String>,
    pub roles: Vec<String>,
}

/// The calls, each with the administrator's credentials. A read of
/// something that does not exist is `Ok(None)`, not an error.
pub trait IamAdmin {
    fn get_user(&self, base: &Credentials, user: &str) -> Result<Option<User>, AwsError>;
    fn list_users(&self, base: &Credentials) -> Result<Vec<String>, AwsError>;
    fn create_user(&self, base: &Credentials, user: &str) -> Result<(), AwsError>;
    fn put_user_boundary(&self, base: &Credentials, user: &str, arn: &str) -> Result<(), AwsError>;
    fn list_access_keys(&self, base: &Credentials, user: &str) -> Result<Vec<AccessKey>, AwsError>;
    /// Unix seconds, when IAM knows.
    fn access_key_last_used(&self, base: &Credentials, id: &str) -> Result<Option<i64>, AwsError>;
    fn create_access_key_for(&self, base: &Credentials, user: &str) -> Result<NewKey, AwsError>;
    fn delete_access_key_of(
        &self,
        base: &Credentials,
        user: &str,
        id: &str,
    ) -> Result<(), AwsError>;
    fn has_console_password(&self, base: &Credentials, user: &str) -> Result<bool, AwsError>;
    fn list_mfa_serials(&self, base: &Credentials, user: &str) -> Result<Vec<String>, AwsError>;
    fn list_groups_for_user(&self, base: &Credentials, user: &str)
    -> Result<Vec<String>, AwsError>;
    fn list_user_policy_arns(
        &self,
        base: &Credentials,
        user: &str,
    ) -> Result<Vec<String>, AwsError>;
    /// The user's inline policies' documents, as IAM returns them.
    fn user_inline_documents(
        &self,
        base: &Credentials,
        user: &str,
    ) -> Result<Vec<String>, AwsError>;

    /// The members of the group; `None` when there is no such group.
    fn group_members(
        &self,
        base: &Credentials,
        group: &str,
    ) -> Result<Option<Vec<String>>, AwsError>;
    fn create_group(&self, base: &Credentials, group: &str) -> Result<(), AwsError>;
    fn add_user_to_group(
        &self,
        base: &Credentials,
        group: &str,
        user: &str,
    ) -> Result<(), AwsError>;
    fn get_group_policy(
        &self,
        base: &Credentials,
        group: &str,
        name: &str,
    ) -> Result<Option<String>, AwsError>;
    fn put_group_policy(
        &self,
        base: &Credentials,
        group: &str,
        name: &str,
        document: &str,
    ) -> Result<(), AwsError>;
    fn group_inline_documents(
        &self,
        base: &Credentials,
        group: &str,
    ) -> Result<Vec<String>, AwsError>;
    /// `None` when there is no such group.
    fn list_group_policy_arns(
        &self,
        base: &Credentials,
        group: &str,
    ) -> Result<Option<Vec<String>>, AwsError>;
    fn attach_group_policy(
        &self,
        base: &Credentials,
        group: &str,
        arn: &str,
    ) -> Result<(), AwsError>;

    /// The trust policy; `None` when there is no such role.
    fn get_role_trust(&self, base: &Credentials, role: &str) -> Result<Option<String>, AwsError>;
    /// The ARN of the role's permissions boundary, if it has one.
    fn get_role_boundary(&self, base: &Credentials, role: &str)
    -> Result<Option<String>, AwsError>;
    fn create_role(&self, base: &Credentials, role: &str, trust: &str) -> Result<(), AwsError>;
    fn update_role_trust(
        &self,
        base: &Credentials,
        role: &str,
        trust: &str,
    ) -> Result<(), AwsError>;
    /// `None` when there is no such role.
    fn list_role_policy_arns(
        &self,
        base: &Credentials,
        role: &str,
    ) -> Result<Option<Vec<String>>, AwsError>;
    fn attach_role_policy(&self, base: &Credentials, role: &str, arn: &str)
    -> Result<(), AwsError>;

    /// The default version's document; `None` when there is no such policy.
    fn get_policy_document(
        &self,
        base: &Credentials,
        arn: &str,
    ) -> Result<Option<String>, AwsError>;
    fn create_policy(&self, base: &Credentials, name: &str, document: &str)
    -> Result<(), AwsError>;
    /// Whether the policy carries [`MANAGED_TAG`].
    fn policy_is_managed(&self, base: &Credentials, arn: &str) -> Result<bool, AwsError>;
    /// Whether the role carries [`MANAGED_TAG`].
    fn role_is_managed(&self, base: &Credentials, role: &str) -> Result<bool, AwsError>;
    fn tag_policy_managed(&self, base: &Credentials, arn: &str) -> Result<(), AwsError>;
    fn tag_role_managed(&self, base: &Credentials, role: &str) -> Result<(), AwsError>;
    /// The users, groups and roles the policy is attached to as a
    /// permissions policy (boundaries are read from the user).
    fn policy_entities(&self, base: &Credentials, arn: &str) -> Result<PolicyEntities, AwsError>;
    /// A new default version; the oldest other version is deleted first
    /// when the policy has IAM's five.
    fn set_policy_document(
        &self,
        base: &Credentials,
        arn: &str,
        document: &str,
    ) -> Result<(), AwsError>;
}

/// IAM keeps at most this many versions of a managed policy.
const MAX_POLICY_VERSIONS: usize = 5;
/// A server that keeps answering "more" cannot keep a List call going for ever.
const MAX_PAGES: usize = 10_000;

/// A read whose subject does not exist is `None`.
fn absent_if_missing<T>(result: Result<T, AwsError>) -> Result<Option<T>, AwsError> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(AwsError::Service { code, .. }) if code == "NoSuchEntity" => Ok(None),
        Err(e) => Err(e),
    }
}

/// A policy document as IAM returns it (URL-encoded, RFC 3986), as JSON.
/// Text that is JSON already (some IAM look-alikes send it plain) is taken
/// as it is.
pub fn decode_document(text: &str) -> Result<serde_json::Value, AwsError> {
    if let Ok(value) = serde_json::from_str(text) {
        return Ok(value);
    }
    let decoded = percent_encoding::percent_decode_str(text)
        .decode_utf8()
        .map_err(|_| AwsError::Other("IAM returned a policy document that is not UTF-8".into()))?;
    serde_json::from_str(&decoded).map_err(|e| {
        AwsError::Other(format!(
            "IAM returned a policy document that is not JSON: {e}"
        ))
    })
}

/// The ARNs of attached policies, as the three List…AttachedPolicies calls give them.
fn arns(policies: &[aws_sdk_iam::types::AttachedPolicy]) -> Vec<String> {
    policies
        .iter()
        .filter_map(|p| p.policy_arn().map(str::to_string))
        .collect()
}

/// [`MANAGED_TAG`] as the SDK takes tags (its builder fails only without a key or value).
fn managed_tags() -> Option<Vec<aws_sdk_iam::types::Tag>> {
    aws_sdk_iam::types::Tag::builder()
        .key(MANAGED_TAG.0)
        .value(MANAGED_TAG.1)
        .build()
        .ok()
        .map(|tag| vec![tag])
}

fn has_managed_tag(tags: &[aws_sdk_iam::types::Tag]) -> bool {
    tags.iter()
        .any(|t| t.key() == MANAGED_TAG.0 && t.value() == MANAGED_TAG.1)
}

/// One member of a ListEntitiesForPolicy page.
enum Entity {
    User(String),
    Group(String),
    Role(String),
}

fn unix(date: &aws_sdk_iam::primitives::DateTime) -> i64 {
    date.secs()
}

/// Every page of a List call: `$call` is the request builder, `$take`
/// turns one page's output into its items.
macro_rules! all_pages {
    ($self:ident, $base:ident, |$client:ident| $call:expr, $take:expr) => {
        (|| -> Result<Vec<_>, AwsError> {
            let mut items = Vec::new();
            let mut marker: Option<String> = None;
            for _ in 0..MAX_PAGES {
                let output =
                    $self.send($base, |$client| $call.set_marker(marker.clone()).send())?;
                items.extend($take(&output));
                match output.marker() {
                    // A marker that does not move would repeat the page.
                    Some(next) if output.is_truncated() && marker.as_deref() != Some(next) => {
                        marker = Some(next.to_string())
                    }
                    _ => break,
                }
            }
            Ok(items)
        })()
    };
}

impl IamAdmin for SdkIam {
    fn get_user(&self, base: &Credentials, user: &str) -> Result<Option<User>, AwsError> {
        let output =
            absent_if_missing(self.send(base, |client| client.get_user().user_name(user).send()))?;
        Ok(output.and_then(|o| {
            o.user().map(|u| User {
                name: u.user_name().to_string(),
                arn: u.arn().to_string(),
                boundary: u
                    .permissions_boundary()
                    .and_then(|b| b.permissions_boundary_arn())
                    .map(str::to_string),
            })
        }))
    }

    fn list_users(&self, base: &Credentials) -> Result<Vec<String>, AwsError> {
        all_pages!(
            self,
            base,
            |client| client.list_users(),
            |o: &aws_sdk_iam::operation::list_users::ListUsersOutput| o
                .users()
                .iter()
                .map(|u| u.user_name().to_string())
                .collect::<Vec<_>>()
        )
    }

    fn create_user(&self, base: &Credentials, user: &str) -> Result<(), AwsError> {
        self.send(base, |client| client.create_user().user_name(user).send())
            .map(|_| ())
    }

    fn put_user_boundary(&self, base: &Credentials, user: &str, arn: &str) -> Result<(), AwsError> {
        self.send(base, |client| {
            client
                .put_user_permissions_boundary()
                .user_name(user)
                .permissions_boundary(arn)
                .send()
        })
        .map(|_| ())
    }

    fn list_access_keys(&self, base: &Credentials, user: &str) -> Result<Vec<AccessKey>, AwsError> {
        all_pages!(
            self,
            base,
            |client| client.list_access_keys().user_name(user),
            |o: &aws_sdk_iam::operation::list_access_keys::ListAccessKeysOutput| o
                .access_key_metadata()
                .iter()
                .filter_map(|k| {
                    Some(AccessKey {
                        id: k.access_key_id()?.to_string(),
                        active: k.status() == Some(&aws_sdk_iam::types::StatusType::Active),
                        created: k.create_date().map(unix),
                    })
                })
                .collect::<Vec<_>>()
        )
    }

    fn access_key_last_used(&self, base: &Credentials, id: &str) -> Result<Option<i64>, AwsError> {
        let output = absent_if_missing(self.send(base, |client| {
            client.get_access_key_last_used().access_key_id(id).send()
        }))?;
        Ok(output
            .as_ref()
            .and_then(|o| o.access_key_last_used())
            .and_then(|u| u.last_used_date())
            .map(unix))
    }

    fn create_access_key_for(&self, base: &Credentials, user: &str) -> Result<NewKey, AwsError> {
        self.create_key(base, Some(user))
    }

    fn delete_access_key_of(
        &self,
        base: &Credentials,
        user: &str,
        id: &str,
    ) -> Result<(), AwsError> {
        self.send(base, |client| {
            client
                .delete_access_key()
                .user_name(user)
                .access_key_id(id)
                .send()
        })
        .map(|_| ())
    }

    fn has_console_password(&self, base: &Credentials, user: &str) -> Result<bool, AwsError> {
        let output = absent_if_missing(self.send(base, |client| {
            client.get_login_profile().user_name(user).send()
        }))?;
        Ok(output.is_some())
    }

    fn list_mfa_serials(&self, base: &Credentials, user: &str) -> Result<Vec<String>, AwsError> {
        all_pages!(
            self,
            base,
            |client| client.list_mfa_devices().user_name(user),
            |o: &aws_sdk_iam::operation::list_mfa_devices::ListMfaDevicesOutput| o
                .mfa_devices()
                .iter()
                .map(|d| d.serial_number().to_string())
                .collect::<Vec<_>>()
        )
    }

    fn list_groups_for_user(
        &self,
        base: &Credentials,
        user: &str,
    ) -> Result<Vec<String>, AwsError> {
        all_pages!(
            self,
            base,
            |client| client.list_groups_for_user().user_name(user),
            |o: &aws_sdk_iam::operation::list_groups_for_user::ListGroupsForUserOutput| o
                .groups()
                .iter()
                .map(|g| g.group_name().to_string())
                .collect::<Vec<_>>()
        )
    }

    fn list_user_policy_arns(
        &self,
        base: &Credentials,
        user: &str,
    ) -> Result<Vec<String>, AwsError> {
        all_pages!(self, base, |client| client.list_attached_user_policies().user_name(user),
            |o: &aws_sdk_iam::operation::list_attached_user_policies::ListAttachedUserPoliciesOutput| arns(o.attached_policies())
        )
    }

    fn user_inline_documents(
        &self,
        base: &Credentials,
        user: &str,
    ) -> Result<Vec<String>, AwsError> {
        let names = all_pages!(
            self,
            base,
            |client| client.list_user_policies().user_name(user),
            |o: &aws_sdk_iam::operation::list_user_policies::ListUserPoliciesOutput| o
                .policy_names()
                .to_vec()
        )?;
        let mut documents = Vec::new();
        for name in names {
            let output = absent_if_missing(self.send(base, |client| {
                client
                    .get_user_policy()
                    .user_name(user)
                    .policy_name(&name)
                    .send()
            }))?;
            documents.extend(output.map(|o| o.policy_document().to_string()));
        }
        Ok(documents)
    }

    fn group_members(
        &self,
        base: &Credentials,
        group: &str,
    ) -> Result<Option<Vec<String>>, AwsError> {
        absent_if_missing(all_pages!(
            self,
            base,
            |client| client.get_group().group_name(group),
            |o: &aws_sdk_iam::operation::get_group::GetGroupOutput| o
                .users()
                .iter()
                .map(|u| u.user_name().to_string())
                .collect::<Vec<_>>()
        ))
    }

    fn create_group(&self, base: &Credentials, group: &str) -> Result<(), AwsError> {
        self.send(base, |client| {
            client.create_group().group_name(group).send()
        })
        .map(|_| ())
    }

    fn add_user_to_group(
        &self,
        base: &Credentials,
        group: &str,
        user: &str,
    ) -> Result<(), AwsError> {
        self.send(base, |client| {
            client
                .add_user_to_group()
                .group_name(group)
                .user_name(user)
                .send()
        })
        .map(|_| ())
    }

    fn get_group_policy(
        &self,
        base: &Credentials,
        group: &str,
        name: &str,
    ) -> Result<Option<String>, AwsError> {
        let output = absent_if_missing(self.send(base, |client| {
            client
                .get_group_policy()
                .group_name(group)
                .policy_name(name)
                .send()
        }))?;
        Ok(output.map(|o| o.policy_document().to_string()))
    }

    fn put_group_policy(
        &self,
        base: &Credentials,
        group: &str,
        name: &str,
        document: &str,
    ) -> Result<(), AwsError> {
        self.send(base, |client| {
            client
                .put_group_policy()
                .group_name(group)
                .policy_name(name)
                .policy_document(document)
                .send()
        })
        .map(|_| ())
    }

    fn group_inline_documents(
        &self,
        base: &Credentials,
        group: &str,
    ) -> Result<Vec<String>, AwsError> {
        let names = all_pages!(
            self,
            base,
            |client| client.list_group_policies().group_name(group),
            |o: &aws_sdk_iam::operation::list_group_policies::ListGroupPoliciesOutput| o
                .policy_names()
                .to_vec()
        )?;
        let mut documents = Vec::new();
        for name in names {
            documents.extend(self.get_group_policy(base, group, &name)?);
        }
        Ok(documents)
    }

    fn list_group_policy_arns(
        &self,
        base: &Credentials,
        group: &str,
    ) -> Result<Option<Vec<String>>, AwsError> {
        absent_if_missing(all_pages!(self, base, |client| client.list_attached_group_policies().group_name(group),
            |o: &aws_sdk_iam::operation::list_attached_group_policies::ListAttachedGroupPoliciesOutput| arns(o.attached_policies())
        ))
    }

    fn attach_group_policy(
        &self,
        base: &Credentials,
        group: &str,
        arn: &str,
    ) -> Result<(), AwsError> {
        self.send(base, |client| {
            client
                .attach_group_policy()
                .group_name(group)
                .policy_arn(arn)
                .send()
        })
        .map(|_| ())
    }

    fn get_role_trust(&self, base: &Credentials, role: &str) -> Result<Option<String>, AwsError> {
        let output =
            absent_if_missing(self.send(base, |client| client.get_role().role_name(role).send()))?;
        Ok(output.and_then(|o| {
            o.role()
                .map(|r| r.assume_role_policy_document().unwrap_or("").to_string())
        }))
    }

    fn get_role_boundary(
        &self,
        base: &Credentials,
        role: &str,
    ) -> Result<Option<String>, AwsError> {
        let output =
            absent_if_missing(self.send(base, |client| client.get_role().role_name(role).send()))?;
        Ok(output
            .as_ref()
            .and_then(|o| o.role())
            .and_then(|r| r.permissions_boundary())
            .and_then(|b| b.permissions_boundary_arn())
            .map(str::to_string))
    }

    fn create_role(&self, base: &Credentials, role: &str, trust: &str) -> Result<(), AwsError> {
        self.send(base, |client| {
            client
                .create_role()
                .role_name(role)
                .assume_role_policy_document(trust)
                .set_tags(managed_tags())
                .send()
        })
        .map(|_| ())
    }

    fn update_role_trust(
        &self,
        base: &Credentials,
        role: &str,
        trust: &str,
    ) -> Result<(), AwsError> {
        self.send(base, |client| {
            client
                .update_assume_role_policy()
                .role_name(role)
                .policy_document(trust)
                .send()
        })
        .map(|_| ())
    }

    fn list_role_policy_arns(
        &self,
        base: &Credentials,
        role: &str,
    ) -> Result<Option<Vec<String>>, AwsError> {
        absent_if_missing(all_pages!(self, base, |client| client.list_attached_role_policies().role_name(role),
            |o: &aws_sdk_iam::operation::list_attached_role_policies::ListAttachedRolePoliciesOutput| arns(o.attached_policies())
        ))
    }

    fn attach_role_policy(
        &self,
        base: &Credentials,
        role: &str,
        arn: &str,
    ) -> Result<(), AwsError> {
        self.send(base, |client| {
            client
                .attach_role_policy()
                .role_name(role)
                .policy_arn(arn)
                .send()
        })
        .map(|_| ())
    }

    fn get_policy_document(
        &self,
        base: &Credentials,
        arn: &str,
    ) -> Result<Option<String>, AwsError> {
        let Some(policy) = absent_if_missing(
            self.send(base, |client| client.get_policy().policy_arn(arn).send()),
        )?
        else {
            return Ok(None);
        };
        let version = policy
            .policy()
            .and_then(|p| p.default_version_id())
            .ok_or_else(|| AwsError::Other(format!("IAM named no default version of {arn}")))?;
        let output = self.send(base, |client| {
            client
                .get_policy_version()
                .policy_arn(arn)
                .version_id(version)
                .send()
        })?;
        Ok(Some(
            output
                .policy_version()
                .and_then(|v| v.document())
                .unwrap_or("")
                .to_string(),
        ))
    }

    fn create_policy(
        &self,
        base: &Credentials,
        name: &str,
        document: &str,
    ) -> Result<(), AwsError> {
        self.send(base, |client| {
            client
                .create_policy()
                .policy_name(name)
                .policy_document(document)
                .set_tags(managed_tags())
                .send()
        })
        .map(|_| ())
    }

    fn policy_is_managed(&self, base: &Credentials, arn: &str) -> Result<bool, AwsError> {
        let tags = all_pages!(
            self,
            base,
            |client| client.list_policy_tags().policy_arn(arn),
            |o: &aws_sdk_iam::operation::list_policy_tags::ListPolicyTagsOutput| o.tags().to_vec()
        )?;
        Ok(has_managed_tag(&tags))
    }

    fn role_is_managed(&self, base: &Credentials, role: &str) -> Result<bool, AwsError> {
        let tags = all_pages!(
            self,
            base,
            |client| client.list_role_tags().role_name(role),
            |o: &aws_sdk_iam::operation::list_role_tags::ListRoleTagsOutput| o.tags().to_vec()
        )?;
        Ok(has_managed_tag(&tags))
    }

    fn tag_policy_managed(&self, base: &Credentials, arn: &str) -> Result<(), AwsError> {
        self.send(base, |client| {
            client
                .tag_policy()
                .policy_arn(arn)
                .set_tags(managed_tags())
                .send()
        })
        .map(|_| ())
    }

    fn tag_role_managed(&self, base: &Credentials, role: &str) -> Result<(), AwsError> {
        self.send(base, |client| {
            client
                .tag_role()
                .role_name(role)
                .set_tags(managed_tags())
                .send()
        })
        .map(|_| ())
    }

    fn policy_entities(&self, base: &Credentials, arn: &str) -> Result<PolicyEntities, AwsError> {
        let entities = all_pages!(
            self,
            base,
            |client| client
                .list_entities_for_policy()
                .policy_arn(arn)
                .policy_usage_filter(aws_sdk_iam::types::PolicyUsageType::PermissionsPolicy),
            |o: &aws_sdk_iam::operation::list_entities_for_policy::ListEntitiesForPolicyOutput| {
                let users = o
                    .policy_users()
                    .iter()
                    .filter_map(|u| u.user_name().map(|n| Entity::User(n.to_string())));
                let groups = o
                    .policy_groups()
                    .iter()
                    .filter_map(|g| g.group_name().map(|n| Entity::Group(n.to_string())));
                let roles = o
                    .policy_roles()
                    .iter()
                    .filter_map(|r| r.role_name().map(|n| Entity::Role(n.to_string())));
                users.chain(groups).chain(roles).collect::<Vec<_>>()
            }
        )?;
        let mut found = PolicyEntities::default();
        for entity in entities {
            match entity {
                Entity::User(name) => found.users.push(name),
                Entity::Group(name) => found.groups.push(name),
                Entity::Role(name) => found.roles.push(name),
            }
        }
        Ok(found)
    }

    fn set_policy_document(
        &self,
        base: &Credentials,
        arn: &str,
        document: &str,
    ) -> Result<(), AwsError> {
        let versions = all_pages!(
            self,
            base,
            |client| client.list_policy_versions().policy_arn(arn),
            |o: &aws_sdk_iam::operation::list_policy_versions::ListPolicyVersionsOutput| o
                .versions()
                .to_vec()
        )?;
        if versions.len() >= MAX_POLICY_VERSIONS {
            let oldest = versions
                .iter()
                .filter(|v| !v.is_default_version())
                .min_by_key(|v| v.create_date().map(unix).unwrap_or(i64::MAX))
                .and_then(|v| v.version_id());
            if let Some(oldest) = oldest {
                self.send(base, |client| {
                    client
                        .delete_policy_version()
                        .policy_arn(arn)
                        .version_id(oldest)
                        .send()
                })?;
            }
        }
        self.send(base, |client| {
            client
                .create_policy_version()
                .policy_arn(arn)
                .policy_document(document)
                .set_as_default(true)
                .send()
        })?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_read_url_encoded_or_plain() {
        let plain = r#"{"Version":"2012-10-17","Statement":[]}"#;
        let encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D";
        assert_eq!(decode_document(plain), decode_document(encoded));
        assert_eq!(
            decode_document(encoded).ok(),
            Some(serde_json::json!({"Version": "2012-10-17", "Statement": []}))
        );
        assert!(decode_document("%7Bnot json").is_err());
        assert!(decode_document("%FF%FE").is_err());
    }

    #[test]
    fn only_a_missing_entity_is_absent() {
        let missing = AwsError::Service {
            code: "NoSuchEntity".into(),
            message: "no".into(),
        };
        assert_eq!(absent_if_missing::<()>(Err(missing)), Ok(None));
        let denied = AwsError::Service {
            code: "AccessDenied".into(),
            message: "no".into(),
        };
        assert!(absent_if_missing::<()>(Err(denied)).is_err());
    }
}
