//! Making the planned changes, in the plan's order (what is referred to
//! before what refers to it), with lock-out safety: the changes that would
//! restrict the identity running them are found first, so that the
//! command can ask and say how to undo them.

use std::fmt;
use std::time::Duration;

use super::Resource;
use super::plan::{Action, Admin, Change};
use crate::aws::AwsError;
use crate::shell::Shell;

/// Who runs the command.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Caller {
    /// The IAM user, when the credentials are a user's.
    pub user: Option<String>,
    /// The groups that user is in now.
    pub groups: Vec<String>,
    /// That user's permissions boundary (its ARN).
    pub boundary: Option<String>,
    /// The role, when the credentials are an assumed role's.
    pub role: Option<String>,
    /// The managed policies the plan updates that are attached to the
    /// caller, one of their groups or their role (see [`policies_on_caller`]).
    pub attached: Vec<String>,
    /// Whether this session was made with MFA.
    pub with_mfa: bool,
}

impl Caller {
    fn is(&self, user: &str) -> bool {
        // IAM user, group and role names are unique whatever their case.
        self.user
            .as_deref()
            .is_some_and(|me| me.eq_ignore_ascii_case(user))
    }

    fn in_group(&self, group: &str) -> bool {
        self.groups.iter().any(|g| g.eq_ignore_ascii_case(group))
    }

    fn acts_through(&self, role: &str) -> bool {
        self.role
            .as_deref()
            .is_some_and(|mine| mine.eq_ignore_ascii_case(role))
    }

    fn who(&self) -> String {
        match (&self.user, &self.role) {
            (Some(user), _) => format!("IAM user {user}"),
            (None, Some(role)) => format!("role {role}"),
            (None, None) => "the caller".to_string(),
        }
    }
}

/// Which of the managed policies the plan updates apply to the caller:
/// attached to them, to a group they are in or to the role they act
/// through (IAM's ListEntitiesForPolicy), or set as their boundary.
pub fn policies_on_caller(
    admin: &Admin,
    changes: &[Change],
    caller: &Caller,
) -> Result<Vec<String>, AwsError> {
    let mut found = Vec::new();
    for change in changes {
        let Resource::Policy { arn, .. } = &change.resource else {
            continue;
        };
        if !matches!(change.action, Action::Update(_)) {
            continue;
        }
        if caller.boundary.as_deref() == Some(arn.as_str()) {
            found.push(arn.clone());
            continue;
        }
        let entities = admin.iam.policy_entities(admin.credentials, arn)?;
        if entities.users.iter().any(|u| caller.is(u))
            || entities.groups.iter().any(|g| caller.in_group(g))
            || entities.roles.iter().any(|r| caller.acts_through(r))
        {
            found.push(arn.clone());
        }
    }
    Ok(found)
}

/// A change that would restrict the caller, and the command that undoes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restriction {
    pub what: String,
    pub undo: String,
}

/// `aws iam SUBCOMMAND --flag 'value'…`, each value quoted for the shell.
fn aws_command(subcommand: &str, options: &[(&str, &str)]) -> String {
    let mut command = format!("aws iam {subcommand}");
    for (flag, value) in options {
        command.push_str(&format!(" {flag} {}", Shell::Bash.quote(value)));
    }
    command
}

/// The document IAM had, as the undo of its update puts it back.
fn previous_document(change: &Change) -> String {
    change
        .current
        .as_ref()
        .map(serde_json::Value::to_string)
        .unwrap_or_default()
}

/// The changes that would restrict the caller.
///
/// Whatever the session: rewriting a managed policy that applies to them
/// (the new document may allow less, or only with MFA), or the trust of
/// the role they act through (it may no longer trust where they come
/// from). Without MFA: a boundary on them, a policy attached to a group
/// they are in (or are being added to), or adding them to a group that
/// has (or gets) a policy attached; the recipes attach only the MFA
/// boundary and the deny policy, so each of these cuts off a session
/// without MFA.
pub fn restrictions(changes: &[Change], caller: &Caller) -> Vec<Restriction> {
    let without_mfa = !caller.with_mfa;
    let who = caller.who();
    let joins = |group: &str| {
        changes.iter().any(|c| {
            matches!(&c.resource, Resource::Membership { group: g, user } if g == group && caller.is(user))
        })
    };
    let attached = |group: &str| {
        changes.iter().any(
            |c| matches!(&c.resource, Resource::GroupAttachment { group: g, .. } if g == group),
        )
    };
    changes
        .iter()
        .filter(|c| c.action != Action::Unchanged)
        .filter_map(|c| match &c.resource {
            Resource::Policy { arn, .. }
                if matches!(c.action, Action::Update(_)) && caller.attached.contains(arn) =>
            {
                Some(Restriction {
                    what: format!("rewrites policy {arn}, which applies to you ({who})"),
                    undo: format!(
                        "{} --set-as-default",
                        aws_command(
                            "create-policy-version",
                            &[("--policy-arn", arn), ("--policy-document", &previous_document(c))],
                        )
                    ),
                })
            }
            Resource::Role { name, .. }
                if matches!(c.action, Action::Update(_)) && caller.acts_through(name) =>
            {
                Some(Restriction {
                    what: format!(
                        "rewrites the trust of role {name}, which you act through: you may not be able to assume it again"
                    ),
                    undo: aws_command(
                        "update-assume-role-policy",
                        &[("--role-name", name), ("--policy-document", &previous_document(c))],
                    ),
                })
            }
            Resource::Boundary { user, policy_arn } if without_mfa && caller.is(user) => {
                Some(Restriction {
                    what: format!("sets the permissions boundary {policy_arn} on you ({who})"),
                    // Put back the boundary it replaces, if any.
                    undo: match c.current.as_ref().and_then(|v| v.as_str()) {
                        Some(previous) => aws_command(
                            "put-user-permissions-boundary",
                            &[("--user-name", user), ("--permissions-boundary", previous)],
                        ),
                        None => aws_command(
                            "delete-user-permissions-boundary",
                            &[("--user-name", user)],
                        ),
                    },
                })
            }
            Resource::GroupAttachment { group, policy_arn }
                if without_mfa
                    && caller.user.is_some()
                    && (caller.in_group(group) || joins(group)) =>
            {
                Some(Restriction {
                    what: format!(
                        "attaches {policy_arn} to group {group}, which you ({who}) are in or join"
                    ),
                    undo: aws_command(
                        "detach-group-policy",
                        &[("--group-name", group), ("--policy-arn", policy_arn)],
                    ),
                })
            }
            Resource::Membership { group, user }
                if without_mfa && caller.is(user) && attached(group) =>
            {
                Some(Restriction {
                    what: format!(
                        "adds you ({who}) to group {group}, whose policy denies what is done without MFA"
                    ),
                    undo: aws_command(
                        "remove-user-from-group",
                        &[("--group-name", group), ("--user-name", user)],
                    ),
                })
            }
            _ => None,
        })
        .collect()
}

/// Waits between tries for IAM's eventual consistency: a group, role or
/// policy made a moment ago may not be found yet by the next call.
pub const RETRY_DELAYS: [Duration; 4] = [
    Duration::from_secs(1),
    Duration::from_secs(2),
    Duration::from_secs(4),
    Duration::from_secs(8),
];

/// The calls that name something an earlier change may just have made.
fn refers_to_others(resource: &Resource) -> bool {
    !matches!(
        resource,
        Resource::Policy { .. } | Resource::Role { .. } | Resource::Group { .. }
    )
}

/// Runs `call`, again after each of `delays` while IAM says what it names
/// does not exist (yet).
pub fn with_retry<T>(
    delays: &[Duration],
    sleep: &dyn Fn(Duration),
    mut call: impl FnMut() -> Result<T, AwsError>,
) -> Result<T, AwsError> {
    let mut delays = delays.iter();
    loop {
        match call() {
            Err(AwsError::Service { code, message }) if code == "NoSuchEntity" => {
                match delays.next() {
                    Some(delay) => sleep(*delay),
                    None => return Err(AwsError::Service { code, message }),
                }
            }
            other => return other,
        }
    }
}

fn text(document: &serde_json::Value) -> String {
    document.to_string()
}

/// One change, made. What is adopted (`--adopt`) gets mfa's tag, so that
/// the next run updates it without asking again.
fn make(admin: &Admin, change: &Change) -> Result<(), AwsError> {
    let (iam, base) = (admin.iam, admin.credentials);
    let update = matches!(change.action, Action::Update(_));
    let adopt = update && change.not_created_by_mfa;
    match &change.resource {
        Resource::Policy { arn, document, .. } if update => {
            iam.set_policy_document(base, arn, &text(document))?;
            if adopt {
                iam.tag_policy_managed(base, arn)?;
            }
            Ok(())
        }
        Resource::Policy { name, document, .. } => iam.create_policy(base, name, &text(document)),
        Resource::Role { name, trust } if update => {
            iam.update_role_trust(base, name, &text(trust))?;
            if adopt {
                iam.tag_role_managed(base, name)?;
            }
            Ok(())
        }
        Resource::Role { name, trust } => iam.create_role(base, name, &text(trust)),
        Resource::RoleAttachment { role, policy_arn } => {
            iam.attach_role_policy(base, role, policy_arn)
        }
        Resource::Group { name } => iam.create_group(base, name),
        Resource::GroupPolicy {
            group,
            name,
            document,
        } => iam.put_group_policy(base, group, name, &text(document)),
        Resource::GroupAttachment { group, policy_arn } => {
            iam.attach_group_policy(base, group, policy_arn)
        }
        Resource::Membership { group, user } => iam.add_user_to_group(base, group, user),
        Resource::Boundary { user, policy_arn } => iam.put_user_boundary(base, user, policy_arn),
    }
}

/// A change that failed: what was done before it and what was not.
#[derive(Debug)]
pub struct Incomplete {
    pub done: Vec<String>,
    pub failed: String,
    pub error: AwsError,
    pub not_done: Vec<String>,
}

impl fmt::Display for Incomplete {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "apply stopped at {}: {}", self.failed, self.error)?;
        if self.done.is_empty() {
            writeln!(f, "  done: nothing")?;
        }
        for line in &self.done {
            writeln!(f, "  done: {line}")?;
        }
        writeln!(f, "  not done: {}", self.failed)?;
        for line in &self.not_done {
            writeln!(f, "  not done: {line}")?;
        }
        write!(
            f,
            "run the same `mfa enforce apply` again to complete it (what is done shows as unchanged)"
        )
    }
}

impl std::error::Error for Incomplete {}

fn describe(change: &Change) -> String {
    format!(
        "{} {} {}",
        change.action.name(),
        change.resource.kind(),
        change.resource.id()
    )
}

/// Makes every change that is not `unchanged`, in order; stops at the
/// first failure and says what was and was not done.
pub fn apply(
    admin: &Admin,
    changes: &[Change],
    delays: &[Duration],
    sleep: &dyn Fn(Duration),
) -> Result<(), Incomplete> {
    let pending: Vec<&Change> = changes
        .iter()
        .filter(|c| c.action != Action::Unchanged)
        .collect();
    for (i, change) in pending.iter().enumerate() {
        let delays = if refers_to_others(&change.resource) {
            delays
        } else {
            &[]
        };
        if let Err(error) = with_retry(delays, sleep, || make(admin, change)) {
            return Err(Incomplete {
                done: pending[..i].iter().map(|c| describe(c)).collect(),
                failed: describe(change),
                error,
                not_done: pending[i + 1..].iter().map(|c| describe(c)).collect(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    fn change(resource: Resource, action: Action) -> Change {
        Change {
            resource,
            action,
            current: None,
            not_created_by_mfa: false,
        }
    }

    fn deny_changes(user_action: Action) -> Vec<Change> {
        vec![
            change(
                Resource::GroupAttachment {
                    group: "g".into(),
                    policy_arn: "arn:p".into(),
                },
                Action::Create,
            ),
            change(
                Resource::Membership {
                    group: "g".into(),
                    user: "admin".into(),
                },
                user_action,
            ),
        ]
    }

    fn caller(groups: &[&str], with_mfa: bool) -> Caller {
        Caller {
            user: Some("admin".into()),
            groups: groups.iter().map(|g| g.to_string()).collect(),
            with_mfa,
            ..Caller::default()
        }
    }

    #[test]
    fn the_caller_is_found_whatever_the_case_iam_ignores() {
        let shouting = Caller {
            user: Some("ADMIN".into()),
            ..caller(&[], false)
        };
        assert_eq!(
            restrictions(&deny_changes(Action::Create), &shouting).len(),
            2
        );
    }

    #[test]
    fn rewriting_a_policy_on_the_caller_or_the_trust_of_their_role_restricts_them_even_with_mfa() {
        let previous =
            serde_json::json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]});
        let policy = Change {
            current: Some(previous.clone()),
            ..change(
                Resource::Policy {
                    name: "everything".into(),
                    arn: "arn:aws:iam::1:policy/everything".into(),
                    document: serde_json::json!({}),
                },
                Action::Update(vec![]),
            )
        };
        let on_me = Caller {
            attached: vec!["arn:aws:iam::1:policy/everything".into()],
            ..caller(&[], true)
        };
        let found = restrictions(std::slice::from_ref(&policy), &on_me);
        assert_eq!(
            found.first().map(|r| r.undo.as_str()),
            Some(
                r#"aws iam create-policy-version --policy-arn 'arn:aws:iam::1:policy/everything' --policy-document '{"Statement":[{"Action":"*","Effect":"Allow","Resource":"*"}]}' --set-as-default"#
            )
        );
        assert!(restrictions(std::slice::from_ref(&policy), &caller(&[], false)).is_empty());

        let role = Change {
            current: Some(serde_json::json!({"Statement": [{"Sid": "it's"}]})),
            ..change(
                Resource::Role {
                    name: "OrgAccess".into(),
                    trust: serde_json::json!({}),
                },
                Action::Update(vec![]),
            )
        };
        let through_role = Caller {
            role: Some("orgaccess".into()),
            with_mfa: true,
            ..Caller::default()
        };
        let found = restrictions(std::slice::from_ref(&role), &through_role);
        assert_eq!(
            found.first().map(|r| r.undo.as_str()),
            Some(
                r#"aws iam update-assume-role-policy --role-name 'OrgAccess' --policy-document '{"Statement":[{"Sid":"it'\''s"}]}'"#
            )
        );
        assert!(restrictions(&[role], &caller(&[], false)).is_empty());
    }

    #[test]
    fn a_deny_on_a_group_the_caller_joins_or_is_in_restricts_them_without_mfa() {
        let found = restrictions(&deny_changes(Action::Create), &caller(&[], false));
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(
            found[0].undo,
            "aws iam detach-group-policy --group-name 'g' --policy-arn 'arn:p'"
        );
        assert_eq!(
            found[1].undo,
            "aws iam remove-user-from-group --group-name 'g' --user-name 'admin'"
        );
        let member = restrictions(&deny_changes(Action::Unchanged), &caller(&["g"], false));
        assert_eq!(member.len(), 1);
        assert!(restrictions(&deny_changes(Action::Create), &caller(&[], true)).is_empty());
        let other = Caller {
            user: Some("root-ish".into()),
            ..caller(&[], false)
        };
        assert!(restrictions(&deny_changes(Action::Create), &other).is_empty());
    }

    #[test]
    fn a_boundary_on_the_caller_restricts_them_unless_it_is_already_there() {
        let boundary = |action| {
            vec![change(
                Resource::Boundary {
                    user: "admin".into(),
                    policy_arn: "arn:b".into(),
                },
                action,
            )]
        };
        let found = restrictions(&boundary(Action::Create), &caller(&[], false));
        assert_eq!(
            found.first().map(|r| r.undo.as_str()),
            Some("aws iam delete-user-permissions-boundary --user-name 'admin'")
        );
        assert!(restrictions(&boundary(Action::Unchanged), &caller(&[], false)).is_empty());
        let mut replaced = boundary(Action::Update(vec![]));
        replaced[0].current = Some(serde_json::json!("arn:old"));
        assert_eq!(
            restrictions(&replaced, &caller(&[], false))[0].undo,
            "aws iam put-user-permissions-boundary --user-name 'admin' --permissions-boundary 'arn:old'"
        );
    }

    #[test]
    fn a_missing_entity_is_tried_again_a_bounded_number_of_times() {
        let slept = RefCell::new(Vec::new());
        let sleep = |d: Duration| slept.borrow_mut().push(d);
        let missing = || AwsError::Service {
            code: "NoSuchEntity".into(),
            message: "not yet".into(),
        };
        let mut calls = 0;
        let result = with_retry(&RETRY_DELAYS, &sleep, || {
            calls += 1;
            if calls < 3 { Err(missing()) } else { Ok(calls) }
        });
        assert_eq!(result, Ok(3));
        assert_eq!(slept.borrow().len(), 2);
        let mut calls = 0;
        let result: Result<(), _> = with_retry(&RETRY_DELAYS, &sleep, || {
            calls += 1;
            Err(missing())
        });
        assert_eq!(result, Err(missing()));
        assert_eq!(calls, RETRY_DELAYS.len() + 1);
        let mut calls = 0;
        let denied: Result<(), _> = with_retry(&RETRY_DELAYS, &sleep, || {
            calls += 1;
            Err(AwsError::Service {
                code: "AccessDenied".into(),
                message: "no".into(),
            })
        });
        assert!(denied.is_err());
        assert_eq!(calls, 1, "other errors are not tried again");
    }
}
