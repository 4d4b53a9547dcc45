//! `mfa enforce audit`: every IAM user, what they can sign in with, and
//! whether anything requires MFA of them. A user with an active access key
//! and nothing requiring MFA is flagged: those keys alone are enough.

use std::collections::HashMap;

use anyhow::{Context, Result};
use serde::Serialize;
use serde_json::Value;

use super::plan::Admin;
use crate::iam::admin::decode_document;
use crate::policy::MFA_PRESENT;

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
    /// `inline policy`, `group G: policy ARN`, `group G: inline policy`.
    pub mfa_required_by: Vec<String>,
    pub flagged: bool,
}

/// Whether a statement of the document has a condition on
/// `aws:MultiFactorAuthPresent` (IAM's condition keys are case-insensitive).
pub fn requires_mfa(document: &Value) -> bool {
    let statements = match &document["Statement"] {
        Value::Array(items) => items.iter().collect(),
        single @ Value::Object(_) => vec![single],
        _ => vec![],
    };
    statements.iter().any(|s| {
        s.get("Condition")
            .and_then(Value::as_object)
            .is_some_and(|operators| {
                operators.values().any(|keys| {
                    keys.as_object().is_some_and(|keys| {
                        keys.keys().any(|k| k.eq_ignore_ascii_case(MFA_PRESENT))
                    })
                })
            })
    })
}

/// A user flagged: an active key, and nothing that requires MFA.
pub fn flagged(keys: &[Key], required_by: &[String]) -> bool {
    keys.iter().any(|k| k.active) && required_by.is_empty()
}

/// Documents read once each, by ARN, and groups once each, by name.
struct Documents<'a> {
    admin: &'a Admin<'a>,
    managed: HashMap<String, bool>,
    groups: HashMap<String, Vec<String>>,
}

impl Documents<'_> {
    /// What in the group's policies requires MFA of its members.
    fn group_requires_mfa(&mut self, group: &str) -> Result<Vec<String>> {
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
            if self.managed_requires_mfa(&arn)? {
                found.push(format!("group {group}: policy {arn}"));
            }
        }
        if Self::inline_requires_mfa(
            &iam.group_inline_documents(base, group)
                .with_context(context)?,
        )? {
            found.push(format!("group {group}: inline policy"));
        }
        self.groups.insert(group.to_string(), found.clone());
        Ok(found)
    }

    fn managed_requires_mfa(&mut self, arn: &str) -> Result<bool> {
        if let Some(known) = self.managed.get(arn) {
            return Ok(*known);
        }
        let text = self
            .admin
            .iam
            .get_policy_document(self.admin.credentials, arn)
            .with_context(|| format!("reading policy {arn}"))?;
        let requires = match text {
            Some(text) => requires_mfa(&decode_document(&text)?),
            None => false,
        };
        self.managed.insert(arn.to_string(), requires);
        Ok(requires)
    }

    fn inline_requires_mfa(texts: &[String]) -> Result<bool> {
        for text in texts {
            if requires_mfa(&decode_document(text)?) {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

/// Every user of the account, in IAM's order.
pub fn audit(admin: &Admin, now: i64) -> Result<Vec<UserAudit>> {
    let (iam, base) = (admin.iam, admin.credentials);
    let mut documents = Documents {
        admin,
        managed: HashMap::new(),
        groups: HashMap::new(),
    };
    let users = iam.list_users(base).context("listing IAM users")?;
    let mut report = Vec::new();
    for name in users {
        let context = || format!("auditing IAM user {name}");
        let mut required_by = Vec::new();
        if let Some(boundary) = iam
            .get_user(base, &name)
            .with_context(context)?
            .and_then(|u| u.boundary)
            && documents.managed_requires_mfa(&boundary)?
        {
            required_by.push(format!("boundary {boundary}"));
        }
        for arn in iam
            .list_user_policy_arns(base, &name)
            .with_context(context)?
        {
            if documents.managed_requires_mfa(&arn)? {
                required_by.push(format!("policy {arn}"));
            }
        }
        if Documents::inline_requires_mfa(
            &iam.user_inline_documents(base, &name)
                .with_context(context)?,
        )? {
            required_by.push("inline policy".into());
        }
        for group in iam
            .list_groups_for_user(base, &name)
            .with_context(context)?
        {
            required_by.extend(documents.group_requires_mfa(&group)?);
        }
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
    use crate::policy::{Policy, document};
    use serde_json::json;

    #[test]
    fn the_recipes_documents_require_mfa_and_plain_ones_do_not() {
        let target = crate::enforce::recipe_target("aws", "111122223333");
        for policy in [
            Policy::MfaBoundary,
            Policy::DenyWithoutMfa,
            Policy::SelfManageMfa,
            Policy::RoleTrust,
        ] {
            let doc = serde_json::to_value(document(policy, &target)).unwrap_or_default();
            assert!(requires_mfa(&doc), "{}", policy.name());
        }
        assert!(!requires_mfa(
            &json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
        ));
        assert!(requires_mfa(
            &json!({"Statement": {"Condition": {"BoolIfExists": {"aws:multifactorauthpresent": "false"}}}})
        ));
        assert!(!requires_mfa(
            &json!({"Statement": [{"Condition": {"Bool": {"aws:SecureTransport": "true"}}}]})
        ));
        assert!(!requires_mfa(&json!("garbage")));
    }

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
