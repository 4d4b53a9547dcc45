//! The desired state as a template, for those who keep IAM in
//! CloudFormation or Terraform. The account and partition are left to the
//! template (`AWS::AccountId`, `aws_caller_identity`): the documents are
//! built with placeholders for them, which each renderer replaces.
//!
//! Neither tool can set the permissions boundary of a user it did not
//! create: those are left out, and [`unrepresentable`] says which.

use serde_json::{Map, Value, json};

use super::{Recipe, Resource, recipe_target};
use crate::policy::Target;

const PARTITION_SLOT: &str = "{{partition}}";
const ACCOUNT_SLOT: &str = "{{account}}";

/// The target whose ARNs hold the placeholders.
pub fn template_target() -> Target {
    recipe_target(PARTITION_SLOT, ACCOUNT_SLOT)
}

/// What a template cannot hold (a boundary on an existing user), one line each.
pub fn unrepresentable(resources: &[Resource]) -> Vec<String> {
    resources
        .iter()
        .filter_map(|r| match r {
            Resource::Boundary { user, .. } => Some(user.clone()),
            _ => None,
        })
        .collect()
}

/// `mfa-admin-users` -> `MfaAdminUsers`: a logical ID (letters and digits).
fn pascal(name: &str) -> String {
    name.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// `mfa-admin-users` -> `mfa_admin_users`: a Terraform resource name.
fn snake(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if !out.starts_with(|c: char| c.is_ascii_alphabetic()) {
        out.insert(0, 'r');
    }
    out
}

// ---- CloudFormation -------------------------------------------------------

/// A string with placeholders becomes `Fn::Sub` (its other `${` escaped as
/// `${!`, so that `${aws:username}` reaches IAM as written).
fn cfn_string(text: &str) -> Value {
    if !text.contains(PARTITION_SLOT) && !text.contains(ACCOUNT_SLOT) {
        return Value::String(text.to_string());
    }
    let sub = text
        .replace("${", "${!")
        .replace(PARTITION_SLOT, "${AWS::Partition}")
        .replace(ACCOUNT_SLOT, "${AWS::AccountId}");
    json!({ "Fn::Sub": sub })
}

fn cfn_value(value: &Value) -> Value {
    match value {
        Value::String(s) => cfn_string(s),
        Value::Array(items) => Value::Array(items.iter().map(cfn_value).collect()),
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), cfn_value(v))).collect())
        }
        other => other.clone(),
    }
}

/// A policy ARN: a `Ref` to the template's own policy, else the ARN.
fn cfn_policy_ref(arn: &str, resources: &[Resource]) -> Value {
    let own = resources.iter().find_map(|r| match r {
        Resource::Policy { name, arn: a, .. } if a == arn => Some(name),
        _ => None,
    });
    match own {
        Some(name) => json!({ "Ref": format!("{}Policy", pascal(name)) }),
        None => cfn_string(arn),
    }
}

/// An AWS CloudFormation template (JSON).
pub fn cloudformation(recipe: Recipe, resources: &[Resource]) -> Value {
    let mut out = Map::new();
    let mut add = |id: String, kind: &str, properties: Value| {
        out.insert(id, json!({ "Type": kind, "Properties": properties }));
    };
    for resource in resources {
        match resource {
            Resource::Policy { name, document, .. } => add(
                format!("{}Policy", pascal(name)),
                "AWS::IAM::ManagedPolicy",
                json!({ "ManagedPolicyName": name, "PolicyDocument": cfn_value(document) }),
            ),
            Resource::Role { name, trust } => {
                let arns: Vec<Value> = resources
                    .iter()
                    .filter_map(|r| match r {
                        Resource::RoleAttachment { role, policy_arn } if role == name => {
                            Some(cfn_policy_ref(policy_arn, resources))
                        }
                        _ => None,
                    })
                    .collect();
                let mut properties =
                    json!({ "RoleName": name, "AssumeRolePolicyDocument": cfn_value(trust) });
                if !arns.is_empty() {
                    properties["ManagedPolicyArns"] = Value::Array(arns);
                }
                add(
                    format!("{}Role", pascal(name)),
                    "AWS::IAM::Role",
                    properties,
                );
            }
            Resource::Group { name } => {
                let inline: Vec<Value> = resources
                    .iter()
                    .filter_map(|r| match r {
                        Resource::GroupPolicy {
                            group,
                            name: policy,
                            document,
                        } if group == name => Some(json!({
                            "PolicyName": policy,
                            "PolicyDocument": cfn_value(document),
                        })),
                        _ => None,
                    })
                    .collect();
                let arns: Vec<Value> = resources
                    .iter()
                    .filter_map(|r| match r {
                        Resource::GroupAttachment { group, policy_arn } if group == name => {
                            Some(cfn_policy_ref(policy_arn, resources))
                        }
                        _ => None,
                    })
                    .collect();
                let mut properties = json!({ "GroupName": name });
                if !inline.is_empty() {
                    properties["Policies"] = Value::Array(inline);
                }
                if !arns.is_empty() {
                    properties["ManagedPolicyArns"] = Value::Array(arns);
                }
                add(
                    format!("{}Group", pascal(name)),
                    "AWS::IAM::Group",
                    properties,
                );
                let users: Vec<&String> = resources
                    .iter()
                    .filter_map(|r| match r {
                        Resource::Membership { group, user } if group == name => Some(user),
                        _ => None,
                    })
                    .collect();
                if !users.is_empty() {
                    add(
                        format!("{}Members", pascal(name)),
                        "AWS::IAM::UserToGroupAddition",
                        json!({
                            "GroupName": { "Ref": format!("{}Group", pascal(name)) },
                            "Users": users,
                        }),
                    );
                }
            }
            // Folded into the role or group above, or not representable.
            Resource::RoleAttachment { .. }
            | Resource::GroupPolicy { .. }
            | Resource::GroupAttachment { .. }
            | Resource::Membership { .. }
            | Resource::Boundary { .. } => {}
        }
    }
    json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": format!("MFA made mandatory (mfa enforce --recipe {})", recipe.name()),
        "Resources": out,
    })
}

// ---- Terraform ------------------------------------------------------------

/// A quoted HCL string: escapes, and `${`/`%{` doubled so that nothing is
/// interpolated; then the placeholders become references.
fn hcl_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out.replace("${", "$${")
        .replace("%{", "%%{")
        .replace(PARTITION_SLOT, "${data.aws_partition.current.partition}")
        .replace(
            ACCOUNT_SLOT,
            "${data.aws_caller_identity.current.account_id}",
        )
}

/// A JSON value as an HCL expression (for `jsonencode`).
fn hcl_value(value: &Value, indent: usize) -> String {
    let pad = "  ".repeat(indent + 1);
    let end = "  ".repeat(indent);
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => hcl_string(s),
        Value::Array(items) if items.is_empty() => "[]".into(),
        Value::Array(items) => {
            let lines: Vec<String> = items
                .iter()
                .map(|v| format!("{pad}{},\n", hcl_value(v, indent + 1)))
                .collect();
            format!("[\n{}{end}]", lines.concat())
        }
        Value::Object(map) if map.is_empty() => "{}".into(),
        Value::Object(map) => {
            let lines: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{pad}{} = {}\n", hcl_string(k), hcl_value(v, indent + 1)))
                .collect();
            format!("{{\n{}{end}}}", lines.concat())
        }
    }
}

/// A policy ARN: a reference to the configuration's own policy, else the ARN.
fn hcl_policy_ref(arn: &str, resources: &[Resource]) -> String {
    resources
        .iter()
        .find_map(|r| match r {
            Resource::Policy { name, arn: a, .. } if a == arn => {
                Some(format!("aws_iam_policy.{}.arn", snake(name)))
            }
            _ => None,
        })
        .unwrap_or_else(|| hcl_string(arn))
}

/// A Terraform configuration (HCL) for the AWS provider.
pub fn terraform(recipe: Recipe, resources: &[Resource]) -> String {
    let mut out = format!(
        "# MFA made mandatory (mfa enforce --recipe {}).\n\n\
         data \"aws_partition\" \"current\" {{}}\n\n\
         data \"aws_caller_identity\" \"current\" {{}}\n",
        recipe.name()
    );
    let mut block = |kind: &str, name: String, body: Vec<(&str, String)>| {
        out.push_str(&format!("\nresource \"{kind}\" \"{name}\" {{\n"));
        for (key, value) in body {
            out.push_str(&format!("  {key} = {value}\n"));
        }
        out.push_str("}\n");
    };
    for resource in resources {
        match resource {
            Resource::Policy { name, document, .. } => block(
                "aws_iam_policy",
                snake(name),
                vec![
                    ("name", hcl_string(name)),
                    ("policy", format!("jsonencode({})", hcl_value(document, 1))),
                ],
            ),
            Resource::Role { name, trust } => block(
                "aws_iam_role",
                snake(name),
                vec![
                    ("name", hcl_string(name)),
                    (
                        "assume_role_policy",
                        format!("jsonencode({})", hcl_value(trust, 1)),
                    ),
                ],
            ),
            Resource::RoleAttachment { role, policy_arn } => block(
                "aws_iam_role_policy_attachment",
                snake(&format!(
                    "{role}-{}",
                    policy_arn.rsplit('/').next().unwrap_or("")
                )),
                vec![
                    ("role", format!("aws_iam_role.{}.name", snake(role))),
                    ("policy_arn", hcl_policy_ref(policy_arn, resources)),
                ],
            ),
            Resource::Group { name } => block(
                "aws_iam_group",
                snake(name),
                vec![("name", hcl_string(name))],
            ),
            Resource::GroupPolicy {
                group,
                name,
                document,
            } => block(
                "aws_iam_group_policy",
                snake(&format!("{group}-{name}")),
                vec![
                    ("name", hcl_string(name)),
                    ("group", format!("aws_iam_group.{}.name", snake(group))),
                    ("policy", format!("jsonencode({})", hcl_value(document, 1))),
                ],
            ),
            Resource::GroupAttachment { group, policy_arn } => block(
                "aws_iam_group_policy_attachment",
                snake(&format!(
                    "{group}-{}",
                    policy_arn.rsplit('/').next().unwrap_or("")
                )),
                vec![
                    ("group", format!("aws_iam_group.{}.name", snake(group))),
                    ("policy_arn", hcl_policy_ref(policy_arn, resources)),
                ],
            ),
            // Not exclusive: the user's other groups are left alone.
            Resource::Membership { group, user } => block(
                "aws_iam_user_group_membership",
                snake(&format!("{user}-in-{group}")),
                vec![
                    ("user", hcl_string(user)),
                    ("groups", format!("[aws_iam_group.{}.name]", snake(group))),
                ],
            ),
            Resource::Boundary { .. } => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::enforce::{Request, desired};

    fn resources(recipe: Recipe) -> Vec<Resource> {
        let request = Request {
            recipe,
            name: None,
            group: None,
            policies: vec!["arn:aws:iam::aws:policy/ReadOnlyAccess".into()],
            users: vec!["alice".into()],
        };
        desired(&request, &template_target())
    }

    #[test]
    fn cloudformation_names_the_account_through_pseudo_parameters() {
        let template = cloudformation(Recipe::Role, &resources(Recipe::Role));
        let trust =
            &template["Resources"]["MfaAdminRole"]["Properties"]["AssumeRolePolicyDocument"];
        assert_eq!(
            trust["Statement"][0]["Principal"]["AWS"],
            json!({ "Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root" })
        );
        let group = &template["Resources"]["MfaAdminUsersGroup"]["Properties"];
        let self_manage = &group["Policies"][1]["PolicyDocument"]["Statement"][0]["Resource"];
        assert_eq!(
            self_manage,
            &json!({ "Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:user/${!aws:username}" })
        );
        assert_eq!(
            template["Resources"]["MfaAdminUsersMembers"]["Properties"]["Users"],
            json!(["alice"])
        );
        let deny = cloudformation(Recipe::Deny, &resources(Recipe::Deny));
        assert_eq!(
            deny["Resources"]["DenyWithoutMfaUsersGroup"]["Properties"]["ManagedPolicyArns"],
            json!([{ "Ref": "DenyWithoutMfaPolicy" }])
        );
    }

    #[test]
    fn hcl_strings_interpolate_only_the_placeholders() {
        assert_eq!(
            hcl_string("arn:{{partition}}:iam::{{account}}:user/${aws:username} %{x} \"q\" \\"),
            "\"arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:user/$${aws:username} %%{x} \\\"q\\\" \\\\\""
        );
        let text = terraform(Recipe::Deny, &resources(Recipe::Deny));
        assert!(text.contains("resource \"aws_iam_group_policy_attachment\" \"deny_without_mfa_users_deny_without_mfa\" {\n  group = aws_iam_group.deny_without_mfa_users.name\n  policy_arn = aws_iam_policy.deny_without_mfa.arn\n}"), "{text}");
    }

    #[test]
    fn boundaries_of_existing_users_are_named_as_left_out() {
        assert_eq!(unrepresentable(&resources(Recipe::Boundary)), ["alice"]);
        assert!(unrepresentable(&resources(Recipe::Deny)).is_empty());
        assert_eq!(pascal("mfa-admin.users_2"), "MfaAdminUsers2");
        assert_eq!(snake("9-lives"), "r9_lives");
    }
}
