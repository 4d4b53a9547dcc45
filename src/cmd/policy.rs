//! `mfa policy`: the IAM policies that make MFA mandatory (SPEC §6), with
//! the account and user filled in (the documents are built in
//! `crate::policy`).
//!
//! The account comes from `--account`, else from `sts:GetCallerIdentity`
//! with the profile's keys (it needs no MFA, long-term keys do). The user
//! from `--user`, else the caller when the caller is an IAM user, else the
//! `${aws:username}` policy variable, which IAM fills in for every user.

use anyhow::{Result, anyhow};

use crate::cli::PolicyArgs;
use crate::context::Env;
use crate::error::UsageError;
use crate::policy::{
    Policy, Target, USERNAME_VARIABLE, check_account, check_user, document, list, partition,
};
use crate::sts::Sts;

fn unknown_policy(name: &str) -> UsageError {
    let names: Vec<String> = Policy::ALL
        .iter()
        .map(|p| format!("`{}`", p.name()))
        .collect();
    UsageError::new(format!(
        "no policy named `{name}`: the policies are {} (see `mfa policy --list`)",
        names.join(", ")
    ))
}

/// Who the profile's credentials belong to, from sts:GetCallerIdentity.
fn caller_identity(profile: Option<&str>, env: &Env) -> Result<crate::sts::Identity> {
    let name = crate::resolve::select_profile(profile, env);
    let need_account = |why: String| {
        UsageError::new(format!(
            "cannot find the account: {why}; pass --account ID (and --user NAME)"
        ))
    };
    let files = crate::config::load(env)?;
    let chain = crate::resolve::resolve(&files.profiles, &name, &Default::default())
        .map_err(|e| need_account(e.to_string()))?;
    let credentials = super::fetch_root(env, &chain.root)?;
    let region = crate::sts::sts_region(env, chain.region.as_deref())?;
    crate::sts::SdkSts::new(&name, &region)
        .get_caller_identity(&credentials)
        .map_err(|e| {
            anyhow!(
                "cannot find the account: sts:GetCallerIdentity with the keys of profile `{name}` failed: {e}; pass --account ID (and --user NAME)"
            )
        })
}

/// The account and user the document is filled in with.
fn target(policy: Policy, args: &PolicyArgs, env: &Env) -> Result<Target> {
    if let Some(account) = &args.account {
        check_account(account)?;
    }
    if let Some(user) = &args.user {
        check_user(user)?;
    }
    let (account, identity) = match &args.account {
        Some(account) => (Some(account.clone()), None),
        None if !policy.names_account() => (None, None),
        None => {
            let identity = caller_identity(args.profile.as_deref(), env)?;
            check_account(&identity.account).map_err(|_| {
                anyhow!(
                    "STS gave the account as `{}`, which is no account ID; pass --account ID",
                    identity.account
                )
            })?;
            (Some(identity.account.clone()), Some(identity))
        }
    };
    let partition = identity
        .as_ref()
        .and_then(|i| partition(&i.arn))
        .unwrap_or("aws")
        .to_string();
    // The caller's own name, with the path its ARN shows (`user/dev/alice`).
    let caller = identity.as_ref().and_then(|i| {
        let name = i.user_name()?;
        check_user(name).ok()?;
        let (_, resource) = i.arn.split_once(":user/")?;
        Some((name.to_string(), resource.to_string()))
    });
    let (user, user_resource) = match (&args.user, caller) {
        (Some(user), _) => (user.clone(), user.clone()),
        (None, Some(caller)) => caller,
        (None, None) => (USERNAME_VARIABLE.to_string(), USERNAME_VARIABLE.to_string()),
    };
    Ok(Target {
        partition,
        account,
        user,
        user_resource,
        explicit_user: args.user.is_some(),
    })
}

pub fn run(args: PolicyArgs, env: &Env) -> Result<()> {
    if args.list {
        return crate::output::print(&list());
    }
    let Some(name) = args.name.as_deref() else {
        return Err(UsageError::new("name a policy, or ask for `mfa policy --list`").into());
    };
    let policy = Policy::from_name(name).ok_or_else(|| unknown_policy(name))?;
    if policy == Policy::RoleTrust && args.user.as_deref() == Some(USERNAME_VARIABLE) {
        return Err(UsageError::new(format!(
            "a trust policy's principal cannot be the {USERNAME_VARIABLE} variable: name the user or leave --user out"
        ))
        .into());
    }
    let target = target(policy, &args, env)?;
    let who = match policy {
        Policy::DenyWithoutMfa => "names no account or user".to_string(),
        Policy::RoleTrust if target.explicit_user => format!("for user {}", target.user),
        Policy::RoleTrust => "for every principal of the account".to_string(),
        _ if target.user == USERNAME_VARIABLE => {
            format!("for each user ({USERNAME_VARIABLE}; --user NAME names one)")
        }
        _ => format!("for user {}", target.user),
    };
    match &target.account {
        Some(account) if policy.names_account() => {
            eprintln!("mfa: {}: account {account}, {who}", policy.name())
        }
        _ => eprintln!("mfa: {}: {who}", policy.name()),
    }
    crate::output::print_json(&document(policy, &target))
}
