//! `mfa onboard USER` (SPEC §10): wires the command line to
//! `crate::enforce::onboard`. The new key's secret goes to stdout only.

use anyhow::Result;

use crate::cli::OnboardArgs;
use crate::context::Env;
use crate::enforce::onboard::{hand_over, onboard, profile_text};
use crate::enforce::plan::Admin;
use crate::error::UsageError;
use crate::iam::SdkIam;

pub fn run(args: OnboardArgs, env: &Env) -> Result<()> {
    if args.user == crate::policy::USERNAME_VARIABLE {
        return Err(UsageError::new("name the IAM user to onboard").into());
    }
    crate::policy::check_user(&args.user).map_err(|_| {
        UsageError::new(format!(
            "`{}` is no IAM user name (up to 64 letters, digits and +=,.@_-)",
            args.user
        ))
    })?;
    if let Some(group) = &args.group {
        crate::enforce::check_name("--group", group, 128)?;
    }
    let session = super::enforce::admin_session(args.profile.as_deref(), env)?;
    let iam = SdkIam::new(&session.profile);
    let admin = Admin {
        iam: &iam,
        credentials: &session.credentials,
    };
    let done = onboard(&admin, &args.user, args.group.as_deref())?;
    eprintln!(
        "mfa: {} IAM user {}{}, new access key {}: its profile is below (the secret is shown only now)",
        if done.created_user {
            "created"
        } else {
            "found"
        },
        args.user,
        args.group
            .as_deref()
            .map(|g| format!(", in group {g}"))
            .unwrap_or_default(),
        done.key.access_key_id
    );
    let text = profile_text(&args.user, &done.key, session.region.as_deref());
    hand_over(
        &admin,
        &args.user,
        &done.key,
        &text,
        crate::output::print_or_fail,
    )
}
