//! `mfa enforce audit`: every IAM user, what they can sign in with, and
//! whether anything requires MFA of them. A user with an active access key
//! and nothing requiring MFA is flagged: those keys alone are enough.

use std::collections::HashMap;

use anyhow::{Context, Result};
use serde::Serialize;
use serde_json::Value;

use super::plan::Admin;
use super::requires::{allowed_without_mfa, allows_only_with_mfa, denies_without_mfa};
use crate::iam::admin::decode_document;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Key {
    pub id: String,
    pub active: bool,
    /// Whole days since it was made.
    pub age_days: Option<i64>,
    /// RFC 3339, when IAM says.
    pub last_used: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserAudit {
    pub user: String,
    pub mfa_devices: Vec<String>,
    pub access_keys: Vec<Key>,
    pub console_password: bool,
    /// What requires MFA of them: `boundary ARN`, `policy ARN`,
    /// `inline policy`, `group G: policy ARN`, `group G: inline policy`,
    /// `trust of role ARN (all the keys reach)`.
    pub mfa_required_by: Vec<String>,
    pub flagged: bool,
}

/// A user flagged: an active key, and nothing that requires MFA.
pub fn flagged(keys: &[Key], required_by: &[String]) -> bool {
    keys.iter().any(|k| k.active) && required_by.is_empty()
}

/// A policy document of a user's, named as the report names it.
#[derive(Debug, Clone)]
struct Named {
    label: String,
    document: Value,
}

/// Documents read once each, by ARN; groups' documents and roles' trust
/// once each, by name.
struct Documents<'a> {
    admin: &'a Admin<'a>,
    managed: HashMap<String, Option<Value>>,
    groups: HashMap<String, Vec<Named>>,
    trusts: HashMap<String, bool>,
}

impl Documents<'_> {
    fn managed(&mut self, arn: &str) -> Result<Option<Value>> {
        if let Some(known) = self.managed.get(arn) {
            return Ok(known.clone());
        }
        let text = self
            .admin
            .iam
            .get_policy_document(self.admin.credentials, arn)
            .with_context(|| format!("reading policy {arn}"))?;
        let document = text.map(|t| decode_document(&t)).transpose()?;
        self.managed.insert(arn.to_string(), document.clone());
        Ok(document)
    }

    /// The group's managed and inline policies.
    fn group(&mut self, group: &str) -> Result<Vec<Named>> {
        if let Some(known) = self.groups.get(group) {
            return Ok(known.clone());
        }
        let (iam, base) = (self.admin.iam, self.admin.credentials);
        let context = || format!("reading the policies of group {group}");
        let mut found = Vec::new();
        for arn in iam
            .list_group_policy_arns(base, group)
            .with_context(context)?
            .unwrap_or_default()
        {
            if let Some(document) = self.managed(&arn)? {
                found.push(Named {
                    label: format!("group {group}: policy {arn}"),
                    document,
                });
            }
        }
        for text in iam
            .group_inline_documents(base, group)
            .with_context(context)?
        {
            found.push(Named {
                label: format!("group {group}: inline policy"),
                document: decode_document(&text)?,
            });
        }
        self.groups.insert(group.to_string(), found.clone());
        Ok(found)
    }

    /// Whether the role (an ARN in `account`) can be assumed only with MFA.
    /// A role of another account, or none, cannot be read: no.
    fn role_needs_mfa(&mut self, account: &str, role_arn: &str) -> Result<bool> {
        let parts: Vec<&str> = role_arn.splitn(6, ':').collect();
        let name = match parts.as_slice() {
            ["arn", _, "iam", "", acct, resource] if *acct == account => resource
                .strip_prefix("role/")
                .and_then(|path| path.rsplit('/').next()),
            _ => None,
        };
        let Some(name) = name.filter(|n| !n.is_empty()) else {
            return Ok(false);
        };
        if let Some(known) = self.trusts.get(name) {
            return Ok(*known);
        }
        let trust = self
            .admin
            .iam
            .get_role_trust(self.admin.credentials, name)
            .with_context(|| format!("reading role {name}"))?
            .map(|t| decode_document(&t))
            .transpose()?;
        let needs = trust.as_ref().is_some_and(allows_only_with_mfa);
        self.trusts.insert(name.to_string(), needs);
        Ok(needs)
    }
}

/// What requires MFA of a user (see [`super::requires`]): their boundary;
/// an identity policy that denies everything without MFA; or, when their
/// policies allow their keys nothing but the MFA set-up and assuming named
/// roles, those roles' trust, when each needs MFA.
fn required_by(
    documents: &mut Documents,
    account: &str,
    boundary: Option<&str>,
    policies: &[Named],
) -> Result<Vec<String>> {
    let mut found = Vec::new();
    if let Some(arn) = boundary
        && let Some(document) = documents.managed(arn)?
        && (denies_without_mfa(&document) || allows_only_with_mfa(&document))
    {
        found.push(format!("boundary {arn}"));
    }
    found.extend(
        policies
            .iter()
            .filter(|p| denies_without_mfa(&p.document))
            .map(|p| p.label.clone()),
    );
    if !found.is_empty() {
        return Ok(found);
    }
    let mut roles = Vec::new();
    for policy in policies {
        match allowed_without_mfa(&policy.document) {
            Some(reached) => roles.extend(reached),
            None => return Ok(found),
        }
    }
    roles.sort();
    roles.dedup();
    for role in &roles {
        if !documents.role_needs_mfa(account, role)? {
            return Ok(found);
        }
    }
    found.extend(
        roles
            .iter()
            .map(|r| format!("trust of role {r} (all the keys reach)")),
    );
    Ok(found)
}

/// Every user of the account, in IAM's order.
pub fn audit(admin: &Admin, now: i64) -> Result<Vec<UserAudit>> {
    let (iam, base) = (admin.iam, admin.credentials);
    let mut documents = Documents {
        admin,
        managed: HashMap::new(),
        groups: HashMap::new(),
        trusts: HashMap::new(),
    };
    let users = iam.list_users(base).context("listing IAM users")?;
    let mut report = Vec::new();
    for name in users {
        let context = || format!("auditing IAM user {name}");
        let user = iam.get_user(base, &name).with_context(context)?;
        let account = user
            .as_ref()
            .and_then(|u| u.arn.split(':').nth(4))
            .unwrap_or_default()
            .to_string();
        let mut policies = Vec::new();
        for arn in iam
            .list_user_policy_arns(base, &name)
            .with_context(context)?
        {
            if let Some(document) = documents.managed(&arn)? {
                policies.push(Named {
                    label: format!("policy {arn}"),
                    document,
                });
            }
        }
        for text in iam
            .user_inline_documents(base, &name)
            .with_context(context)?
        {
            policies.push(Named {
                label: "inline policy".into(),
                document: decode_document(&text)?,
            });
        }
        for group in iam
            .list_groups_for_user(base, &name)
            .with_context(context)?
        {
            policies.extend(documents.group(&group)?);
        }
        let boundary = user.and_then(|u| u.boundary);
        let mut required_by =
            required_by(&mut documents, &account, boundary.as_deref(), &policies)?;
        required_by.dedup();
        let mut access_keys = Vec::new();
        for key in iam.list_access_keys(base, &name).with_context(context)? {
            let last_used = iam
                .access_key_last_used(base, &key.id)
                .with_context(context)?
                .map(crate::creds::rfc3339);
            access_keys.push(Key {
                age_days: key.created.map(|c| (now - c).max(0) / 86_400),
                id: key.id,
                active: key.active,
                last_used,
            });
        }
        let flagged = flagged(&access_keys, &required_by);
        report.push(UserAudit {
            mfa_devices: iam.list_mfa_serials(base, &name).with_context(context)?,
            console_password: iam
                .has_console_password(base, &name)
                .with_context(context)?,
            user: name,
            access_keys,
            mfa_required_by: required_by,
            flagged,
        });
    }
    Ok(report)
}

/// The report as a table; flagged users marked `FLAGGED`.
pub fn render_text(report: &[UserAudit]) -> String {
    let rows: Vec<Vec<String>> = report
        .iter()
        .map(|u| {
            let keys: Vec<String> = u
                .access_keys
                .iter()
                .map(|k| {
                    format!(
                        "{}{} {}d, used {}",
                        k.id,
                        if k.active { "" } else { " (inactive)" },
                        k.age_days.map_or("?".into(), |d| d.to_string()),
                        k.last_used.as_deref().unwrap_or("never")
                    )
                })
                .collect();
            vec![
                u.user.clone(),
                if u.flagged { "FLAGGED" } else { "ok" }.to_string(),
                u.mfa_devices.len().to_string(),
                if u.console_password { "yes" } else { "no" }.to_string(),
                if keys.is_empty() {
                    "-".into()
                } else {
                    keys.join("; ")
                },
                if u.mfa_required_by.is_empty() {
                    "nothing".into()
                } else {
                    u.mfa_required_by.join("; ")
                },
            ]
        })
        .collect();
    crate::output::table(
        &[
            "USER",
            "STATUS",
            "MFA",
            "PASSWORD",
            "ACCESS KEYS",
            "MFA REQUIRED BY",
        ],
        &rows,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_active_keys_without_anything_requiring_mfa_are_flagged() {
        let key = |active| Key {
            id: "AKIA".into(),
            active,
            age_days: Some(1),
            last_used: None,
        };
        assert!(flagged(&[key(true)], &[]));
        assert!(!flagged(&[key(false)], &[]));
        assert!(!flagged(&[], &[]));
        assert!(!flagged(&[key(true)], &["boundary x".into()]));
    }
}
