//! What in a policy document truly requires MFA of a user whose requests
//! are signed with their long-term access keys (what `mfa enforce audit`
//! counts).
//!
//! Requests signed with long-term keys carry no `aws:MultiFactorAuthPresent`
//! at all (AWS: "Bool condition operators don't match when the key is
//! absent"; knowledge-center article mfa-iam-user-aws-cli). So:
//! - a Deny counts only with `BoolIfExists` … `"false"`: a `Bool` `"false"`
//!   never matches those requests and denies them nothing;
//! - an Allow is gated only by `Bool` … `"true"`: `BoolIfExists` `"true"`
//!   matches an absent key, and allows long-term keys.
//!
//! An Allow in an identity policy never makes a user safe by itself: other
//! policies may allow without MFA what it allows with MFA.

use serde_json::Value;

use crate::policy::{MFA_PRESENT, self_service_actions};

/// A statement, or the statements of a document.
fn statements(document: &Value) -> Vec<&Value> {
    match &document["Statement"] {
        Value::Array(items) => items.iter().collect(),
        single @ Value::Object(_) => vec![single],
        _ => vec![],
    }
}

/// A string or a list of strings, as IAM takes `Action`, `Resource`, a
/// condition's values.
fn strings(value: &Value) -> Option<Vec<&str>> {
    match value {
        Value::String(s) => Some(vec![s.as_str()]),
        Value::Array(items) => items.iter().map(Value::as_str).collect(),
        _ => None,
    }
}

/// A condition value as IAM reads a Bool: `"true"`, `true`, or a list of them.
fn bool_values(value: &Value) -> Vec<Option<bool>> {
    let one = |v: &Value| match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    };
    match value {
        Value::Array(items) => items.iter().map(one).collect(),
        other => vec![one(other)],
    }
}

fn effect_is(statement: &Value, effect: &str) -> bool {
    statement["Effect"].as_str() == Some(effect)
}

/// The keys of one condition operator (`"Bool"`, …).
fn operator<'a>(statement: &'a Value, name: &str) -> Option<&'a serde_json::Map<String, Value>> {
    statement["Condition"].as_object()?.get(name)?.as_object()
}

fn mfa_key(keys: &serde_json::Map<String, Value>) -> Option<&Value> {
    keys.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(MFA_PRESENT))
        .map(|(_, v)| v)
}

/// A Deny of everything (`Action` `*`, or `NotAction` sparing only named
/// actions, no wildcard) on every resource, whenever MFA is absent:
/// `BoolIfExists` `aws:MultiFactorAuthPresent` `"false"` and no other
/// condition but AWS's own example's `aws:ViaAWSService` `"false"`.
fn denies_without_mfa_statement(statement: &Value) -> bool {
    if !effect_is(statement, "Deny") {
        return false;
    }
    let everything = match (statement.get("Action"), statement.get("NotAction")) {
        (Some(action), None) => strings(action).is_some_and(|a| a.contains(&"*")),
        // Sparing `iam:*` would leave CreateAccessKey and the like to the keys alone.
        (None, Some(spared)) => strings(spared).is_some_and(|a| a.iter().all(|s| !s.contains('*'))),
        _ => false,
    };
    let all_resources = statement
        .get("Resource")
        .and_then(strings)
        .is_some_and(|r| r.contains(&"*"));
    let Some(conditions) = statement["Condition"].as_object() else {
        return false;
    };
    let only_mfa_absent = !conditions.is_empty()
        && conditions.iter().all(|(op, keys)| {
            op == "BoolIfExists"
                && keys.as_object().is_some_and(|keys| {
                    keys.iter().all(|(key, value)| {
                        let falses = bool_values(value).contains(&Some(false));
                        (key.eq_ignore_ascii_case(MFA_PRESENT)
                            || key.eq_ignore_ascii_case("aws:ViaAWSService"))
                            && falses
                    }) && mfa_key(keys).is_some()
                })
        });
    everything && all_resources && only_mfa_absent
}

/// Whether the document denies everything (but the MFA set-up) to requests
/// without MFA, long-term keys included.
pub fn denies_without_mfa(document: &Value) -> bool {
    statements(document)
        .into_iter()
        .any(denies_without_mfa_statement)
}

/// An Allow that needs MFA: `Bool` `aws:MultiFactorAuthPresent` `"true"`
/// (every value true: a list is any of them).
fn allow_needs_mfa(statement: &Value) -> bool {
    operator(statement, "Bool")
        .and_then(mfa_key)
        .is_some_and(|value| {
            let values = bool_values(value);
            !values.is_empty() && values.iter().all(|v| *v == Some(true))
        })
}

/// An Allow of only the actions a user needs to enrol a device (named, no
/// wildcard).
fn allows_only_self_service(statement: &Value) -> bool {
    let own = self_service_actions();
    statement.get("NotAction").is_none()
        && statement
            .get("Action")
            .and_then(strings)
            .is_some_and(|actions| {
                actions
                    .iter()
                    .all(|a| own.iter().any(|o| o.eq_ignore_ascii_case(a)))
            })
}

/// Whether every Allow of the document (but the self-service MFA set-up)
/// needs MFA: as a permissions boundary, it then requires MFA; as a role's
/// trust policy, the role can be assumed only with MFA.
pub fn allows_only_with_mfa(document: &Value) -> bool {
    let all = statements(document);
    !all.is_empty()
        && all
            .into_iter()
            .filter(|s| effect_is(s, "Allow"))
            .all(|s| allow_needs_mfa(s) || allows_only_self_service(s))
}

/// What an identity policy's Allows let long-term keys do, as far as the
/// audit tells: nothing but the MFA set-up and assuming these roles, or
/// more (`None`).
pub fn allowed_without_mfa(document: &Value) -> Option<Vec<String>> {
    let mut roles = Vec::new();
    for statement in statements(document)
        .into_iter()
        .filter(|s| effect_is(s, "Allow"))
    {
        if allow_needs_mfa(statement) || allows_only_self_service(statement) {
            continue;
        }
        let assume_only = statement.get("NotAction").is_none()
            && statement
                .get("Action")
                .and_then(strings)
                .is_some_and(|a| a.iter().all(|a| a.eq_ignore_ascii_case("sts:AssumeRole")));
        if !assume_only {
            return None;
        }
        // Named roles only: a wildcard or a variable could reach any role.
        let named_roles = statement.get("Resource").and_then(strings).filter(|r| {
            r.iter()
                .all(|arn| arn.contains(":role/") && !arn.contains(['*', '?', '$']))
        })?;
        roles.extend(named_roles.iter().map(|r| r.to_string()));
    }
    Some(roles)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{Policy, document};
    use serde_json::json;

    fn recipe_document(policy: Policy) -> Value {
        let target = crate::enforce::recipe_target("aws", "111122223333");
        serde_json::to_value(document(policy, &target)).unwrap_or_default()
    }

    #[test]
    fn the_recipes_documents_count_for_what_they_do() {
        assert!(denies_without_mfa(&recipe_document(Policy::DenyWithoutMfa)));
        assert!(allows_only_with_mfa(&recipe_document(Policy::MfaBoundary)));
        assert!(allows_only_with_mfa(&recipe_document(Policy::RoleTrust)));
        let self_manage = recipe_document(Policy::SelfManageMfa);
        assert!(!denies_without_mfa(&self_manage));
        assert_eq!(allowed_without_mfa(&self_manage), Some(vec![]));
        for policy in [
            Policy::MfaBoundary,
            Policy::SelfManageMfa,
            Policy::RoleTrust,
        ] {
            assert!(
                !denies_without_mfa(&recipe_document(policy)),
                "{}",
                policy.name()
            );
        }
    }

    #[test]
    fn only_a_deny_of_everything_when_mfa_is_absent_counts() {
        let deny = |action: Value, condition: Value| json!({"Statement": [{"Effect": "Deny", "Action": action, "Resource": "*", "Condition": condition}]});
        let absent = json!({"BoolIfExists": {"aws:multifactorauthpresent": "false"}});
        assert!(denies_without_mfa(&deny(json!("*"), absent.clone())));
        assert!(denies_without_mfa(&deny(
            json!(["s3:*", "*"]),
            absent.clone()
        )));
        // Bool false: long-term keys carry no key, and are not denied.
        assert!(!denies_without_mfa(&deny(
            json!("*"),
            json!({"Bool": {"aws:MultiFactorAuthPresent": "false"}})
        )));
        assert!(!denies_without_mfa(&deny(json!("s3:*"), absent.clone())));
        assert!(!denies_without_mfa(&deny(
            json!("*"),
            json!({"BoolIfExists": {"aws:MultiFactorAuthPresent": "false", "aws:SourceIp": "1.2.3.4/32"}})
        )));
        // AWS's own example: NotAction of named actions, ViaAWSService false.
        let aws_example = json!({"Statement": {"Effect": "Deny", "NotAction": ["iam:ListMFADevices", "sts:GetSessionToken"], "Resource": "*",
            "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false", "aws:ViaAWSService": "false"}}}});
        assert!(denies_without_mfa(&aws_example));
        let spares_iam = json!({"Statement": {"Effect": "Deny", "NotAction": "iam:*", "Resource": "*",
            "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}}});
        assert!(!denies_without_mfa(&spares_iam), "iam:* stays open");
        let allow = json!({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": absent}});
        assert!(!denies_without_mfa(&allow));
        assert!(!denies_without_mfa(&json!("garbage")));
    }

    #[test]
    fn an_allow_needs_mfa_only_with_bool_true() {
        let allow = |condition: Value| json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": condition}]});
        assert!(allows_only_with_mfa(&allow(
            json!({"Bool": {"aws:MultiFactorAuthPresent": "true"}})
        )));
        // BoolIfExists true matches an absent key: long-term keys are allowed.
        assert!(!allows_only_with_mfa(&allow(
            json!({"BoolIfExists": {"aws:MultiFactorAuthPresent": "true"}})
        )));
        assert!(!allows_only_with_mfa(&allow(
            json!({"Bool": {"aws:MultiFactorAuthPresent": ["true", "false"]}})
        )));
        assert!(!allows_only_with_mfa(&json!({"Statement": []})));
    }

    #[test]
    fn an_identity_policy_allows_without_mfa_only_the_setup_and_named_roles() {
        let everything =
            json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]});
        assert_eq!(allowed_without_mfa(&everything), None);
        let assume = json!({"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "arn:aws:iam::1:role/mfa-admin"}]});
        assert_eq!(
            allowed_without_mfa(&assume),
            Some(vec!["arn:aws:iam::1:role/mfa-admin".to_string()])
        );
        let any_role = json!({"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "arn:aws:iam::1:role/*"}]});
        assert_eq!(allowed_without_mfa(&any_role), None);
    }
}
