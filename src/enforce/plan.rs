//! What IAM has, compared with what a recipe wants: each resource is to be
//! created, updated (with the difference) or left unchanged.

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use super::Resource;
use super::diff::difference;
use crate::aws::AwsError;
use crate::creds::Credentials;
use crate::iam::admin::{IamAdmin, decode_document};

/// IAM, with the credentials of the administrator who runs the command.
pub struct Admin<'a> {
    pub iam: &'a dyn IamAdmin,
    pub credentials: &'a Credentials,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Create,
    /// The lines of the difference (see `diff::difference`).
    Update(Vec<String>),
    Unchanged,
}

impl Action {
    pub fn name(&self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update(_) => "update",
            Action::Unchanged => "unchanged",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub resource: Resource,
    pub action: Action,
    /// What IAM had (see `observe`): what an undo puts back.
    pub current: Option<Value>,
    /// An update of a managed policy or role that exists without mfa's
    /// tag: someone else's, changed only with `--adopt`.
    pub not_created_by_mfa: bool,
}

impl Change {
    /// The action as plan shows it.
    pub fn label(&self) -> String {
        if self.not_created_by_mfa {
            format!("{} (not created by mfa: pass --adopt)", self.action.name())
        } else {
            self.action.name().to_string()
        }
    }
}

/// Whether an update would change a managed policy or role mfa did not
/// create (it tags what it creates).
fn not_created_by_mfa(admin: &Admin, resource: &Resource, action: &Action) -> Result<bool> {
    if !matches!(action, Action::Update(_)) {
        return Ok(false);
    }
    let (iam, base) = (admin.iam, admin.credentials);
    Ok(match resource {
        Resource::Policy { arn, .. } => !iam
            .policy_is_managed(base, arn)
            .with_context(|| format!("reading the tags of policy {arn}"))?,
        Resource::Role { name, .. } => !iam
            .role_is_managed(base, name)
            .with_context(|| format!("reading the tags of role {name}"))?,
        _ => false,
    })
}

/// What IAM has of the resource: `None` when it is not there, else what
/// `Resource::content` compares it with.
pub fn observe(admin: &Admin, resource: &Resource) -> Result<Option<Value>> {
    let (iam, base) = (admin.iam, admin.credentials);
    let read = |what: String| move |e: AwsError| anyhow::Error::new(e).context(what);
    let document = |text: Option<String>| -> Result<Option<Value>> {
        text.map(|t| decode_document(&t).map_err(anyhow::Error::new))
            .transpose()
    };
    let present = |yes: bool| yes.then_some(Value::Null);
    let user_must_exist = |user: &str| -> Result<Option<crate::iam::admin::User>> {
        let found = iam
            .get_user(base, user)
            .map_err(read(format!("reading IAM user {user}")))?;
        if found.is_none() {
            bail!(
                "there is no IAM user named `{user}` (create it first, e.g. with `mfa onboard {user}`)"
            );
        }
        Ok(found)
    };
    Ok(match resource {
        Resource::Policy { arn, .. } => document(
            iam.get_policy_document(base, arn)
                .map_err(read(format!("reading policy {arn}")))?,
        )?,
        Resource::Role { name, .. } => document(
            iam.get_role_trust(base, name)
                .map_err(read(format!("reading role {name}")))?,
        )?,
        Resource::RoleAttachment { role, policy_arn } => {
            let attached = iam
                .list_role_policy_arns(base, role)
                .map_err(read(format!("listing the policies of role {role}")))?
                .is_some_and(|arns| arns.contains(policy_arn));
            // A --policy that is not there is found now, not halfway through apply.
            if !attached
                && iam
                    .get_policy_document(base, policy_arn)
                    .map_err(read(format!("reading policy {policy_arn}")))?
                    .is_none()
            {
                bail!("there is no managed policy {policy_arn}");
            }
            present(attached)
        }
        Resource::Group { name } => present(
            iam.group_members(base, name)
                .map_err(read(format!("reading group {name}")))?
                .is_some(),
        ),
        Resource::GroupPolicy { group, name, .. } => document(
            iam.get_group_policy(base, group, name)
                .map_err(read(format!("reading policy {name} of group {group}")))?,
        )?,
        Resource::GroupAttachment { group, policy_arn } => present(
            iam.list_group_policy_arns(base, group)
                .map_err(read(format!("listing the policies of group {group}")))?
                .is_some_and(|arns| arns.contains(policy_arn)),
        ),
        Resource::Membership { group, user } => {
            user_must_exist(user)?;
            present(
                iam.list_groups_for_user(base, user)
                    .map_err(read(format!("listing the groups of user {user}")))?
                    .contains(group),
            )
        }
        Resource::Boundary { user, .. } => user_must_exist(user)?
            .and_then(|u| u.boundary)
            .map(Value::String),
    })
}

/// The action that takes IAM's copy to the desired one.
pub fn compare(resource: &Resource, current: Option<Value>) -> Action {
    match current {
        None => Action::Create,
        Some(current) => {
            let lines = difference(&current, &resource.content());
            if lines.is_empty() {
                Action::Unchanged
            } else {
                Action::Update(lines)
            }
        }
    }
}

/// Reads IAM for each resource; changes nothing.
pub fn plan(admin: &Admin, resources: Vec<Resource>) -> Result<Vec<Change>> {
    resources
        .into_iter()
        .map(|resource| {
            let current = observe(admin, &resource)
                .with_context(|| format!("cannot plan {} {}", resource.kind(), resource.id()))?;
            let action = compare(&resource, current.clone());
            let not_created_by_mfa = not_created_by_mfa(admin, &resource, &action)?;
            Ok(Change {
                resource,
                action,
                current,
                not_created_by_mfa,
            })
        })
        .collect()
}

/// One line per resource, the difference indented under an update.
pub fn render_text(changes: &[Change]) -> String {
    let rows: Vec<Vec<String>> = changes
        .iter()
        .map(|c| vec![c.label(), c.resource.kind().to_string(), c.resource.id()])
        .collect();
    let table = crate::output::table(&["ACTION", "KIND", "RESOURCE"], &rows);
    let mut out = String::new();
    for (line, change) in table
        .lines()
        .zip(std::iter::once(None).chain(changes.iter().map(Some)))
    {
        out.push_str(line);
        out.push('\n');
        if let Some(Change {
            action: Action::Update(lines),
            ..
        }) = change
        {
            for diff in lines {
                out.push_str("    ");
                out.push_str(diff);
                out.push('\n');
            }
        }
    }
    out
}

/// The plan as JSON: `{"recipe", "account", "changes": [{"action", "kind",
/// "resource", "difference", "not_created_by_mfa"}]}`.
pub fn render_json(recipe: super::Recipe, account: &str, changes: &[Change]) -> Value {
    json!({
        "recipe": recipe,
        "account": account,
        "changes": changes.iter().map(|c| json!({
            "action": c.action.name(),
            "kind": c.resource.kind(),
            "resource": c.resource.id(),
            "difference": match &c.action {
                Action::Update(lines) => json!(lines),
                _ => json!([]),
            },
            "not_created_by_mfa": c.not_created_by_mfa,
        })).collect::<Vec<_>>(),
    })
}

/// `N to create, N to update, N unchanged`.
pub fn summary(changes: &[Change]) -> String {
    let count = |name: &str| changes.iter().filter(|c| c.action.name() == name).count();
    format!(
        "{} to create, {} to update, {} unchanged",
        count("create"),
        count("update"),
        count("unchanged")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_is_created_equal_is_unchanged_else_updated() {
        let group = Resource::Group { name: "g".into() };
        assert_eq!(compare(&group, None), Action::Create);
        assert_eq!(compare(&group, Some(Value::Null)), Action::Unchanged);
        let boundary = Resource::Boundary {
            user: "u".into(),
            policy_arn: "arn:new".into(),
        };
        assert_eq!(
            compare(&boundary, Some(json!("arn:old"))),
            Action::Update(vec!["~ (whole): \"arn:old\" -> \"arn:new\"".into()])
        );
    }

    #[test]
    fn text_shows_each_resource_and_the_lines_of_an_update() {
        let changes = vec![
            Change {
                resource: Resource::Group { name: "g".into() },
                action: Action::Unchanged,
                current: Some(Value::Null),
                not_created_by_mfa: false,
            },
            Change {
                resource: Resource::Role {
                    name: "r".into(),
                    trust: json!({}),
                },
                action: Action::Update(vec!["~ a: 1 -> 2".into()]),
                current: Some(json!({"a": 1})),
                not_created_by_mfa: true,
            },
        ];
        assert_eq!(
            render_text(&changes),
            "ACTION                                     KIND   RESOURCE\nunchanged                                  group  g\nupdate (not created by mfa: pass --adopt)  role   r\n    ~ a: 1 -> 2\n"
        );
        assert_eq!(summary(&changes), "0 to create, 1 to update, 1 unchanged");
    }
}
