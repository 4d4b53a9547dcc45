//! `mfa enforce plan|apply|audit` (SPEC §10): wires the command line to
//! the engine in `crate::enforce`.

use anyhow::{Result, anyhow, bail};

use crate::cli::{AuditArgs, EnforceArgs, EnforceCommand, EnforceFormat, SessionArgs};
use crate::context::{Clock, Env, SystemClock};
use crate::enforce::apply::{Caller, RETRY_DELAYS, apply, policies_on_caller, restrictions};
use crate::enforce::plan::{Admin, plan, render_json, render_text, summary};
use crate::enforce::{Request, audit, desired, recipe_target, template};
use crate::error::{ChildExit, EXIT_FAILURE, UsageError};
use crate::iam::SdkIam;
use crate::iam::admin::MANAGED_TAG;
use crate::sts::{SdkSts, Sts, sts_region};

pub fn run(command: EnforceCommand, env: &Env) -> Result<()> {
    match command {
        EnforceCommand::Plan(args) => plan_or_apply(args, false, env),
        EnforceCommand::Apply(args) => plan_or_apply(args, true, env),
        EnforceCommand::Audit(args) => run_audit(args, env),
    }
}

fn request(args: &EnforceArgs) -> Result<Request, UsageError> {
    let request = Request {
        recipe: args.recipe,
        name: args.name.clone(),
        group: args.group.clone(),
        policies: args.policies.clone(),
        // Each user once, in the order given (IAM ignores the case of names).
        users: args.users.iter().fold(Vec::new(), |mut users, user| {
            if !users.iter().any(|u: &String| u.eq_ignore_ascii_case(user)) {
                users.push(user.clone());
            }
            users
        }),
    };
    request.check()?;
    Ok(request)
}

/// A template of the desired state: no credentials, no IAM call.
fn print_template(request: &Request, format: EnforceFormat) -> Result<()> {
    let resources = desired(request, &template::template_target());
    let left_out = template::unrepresentable(&resources);
    if !left_out.is_empty() {
        eprintln!(
            "mfa: a template cannot set the permissions boundary of users it does not create: {} left out; set it with `mfa enforce apply --recipe boundary --users {}`",
            left_out.join(", "),
            left_out.join(" ")
        );
    }
    match format {
        EnforceFormat::Terraform => {
            crate::output::print(&template::terraform(request.recipe, &resources))
        }
        _ => crate::output::print_json(&template::cloudformation(request.recipe, &resources)),
    }
}

fn plan_or_apply(args: EnforceArgs, make_changes: bool, env: &Env) -> Result<()> {
    let request = request(&args)?;
    if matches!(
        args.format,
        EnforceFormat::Cloudformation | EnforceFormat::Terraform
    ) {
        if make_changes {
            return Err(UsageError::new(
                "a template is printed by `mfa enforce plan --format cloudformation|terraform`; apply takes --format text or json",
            )
            .into());
        }
        return print_template(&request, args.format);
    }
    let session = admin_session(args.profile.as_deref(), env)?;
    let identity = SdkSts::new(
        &session.profile,
        &sts_region(env, session.region.as_deref())?,
    )
    .get_caller_identity(&session.credentials)
    .map_err(|e| anyhow!("cannot find the account: sts:GetCallerIdentity failed: {e}"))?;
    crate::policy::check_account(&identity.account).map_err(|_| {
        anyhow!(
            "STS gave the account as `{}`, which is no account ID",
            identity.account
        )
    })?;
    let partition = crate::policy::partition(&identity.arn).unwrap_or("aws");
    let resources = desired(&request, &recipe_target(partition, &identity.account));
    let iam = SdkIam::new(&session.profile);
    let admin = Admin {
        iam: &iam,
        credentials: &session.credentials,
    };
    let changes = plan(&admin, resources)?;
    let rendered = match args.format {
        EnforceFormat::Json => {
            let mut text = serde_json::to_string_pretty(&render_json(
                request.recipe,
                &identity.account,
                &changes,
            ))?;
            text.push('\n');
            text
        }
        _ => render_text(&changes),
    };
    let caller = caller(&admin, &identity, &changes, session.with_mfa)?;
    let restricting = restrictions(&changes, &caller);
    if !make_changes {
        eprintln!(
            "mfa: plan for account {}: {}",
            identity.account,
            summary(&changes)
        );
        for restriction in &restricting {
            eprintln!(
                "mfa: this restricts you: it {} (apply asks first)",
                restriction.what
            );
        }
        return crate::output::print(&rendered);
    }
    let adopted: Vec<String> = changes
        .iter()
        .filter(|c| c.not_created_by_mfa)
        .map(|c| format!("{} {}", c.resource.kind(), c.resource.id()))
        .collect();
    if !adopted.is_empty() && !args.adopt {
        return Err(UsageError::new(format!(
            "refusing to update what mfa did not create ({}): it may be someone else's; pass --adopt to take it over (it is tagged {}={} afterwards)",
            adopted.join(", "),
            MANAGED_TAG.0,
            MANAGED_TAG.1
        ))
        .into());
    }
    if !restricting.is_empty() {
        confirm_restrictions(&restricting, session.with_mfa, args.yes)?;
    }
    apply(&admin, &changes, &RETRY_DELAYS, &std::thread::sleep)?;
    eprintln!(
        "mfa: applied to account {}: {}",
        identity.account,
        summary(&changes)
    );
    for restriction in &restricting {
        eprintln!("mfa: to undo: {}", restriction.undo);
    }
    let new_role = changes.iter().find_map(|c| match (&c.resource, &c.action) {
        (crate::enforce::Resource::Role { name, .. }, crate::enforce::plan::Action::Create) => {
            Some(name)
        }
        _ => None,
    });
    if let Some(role) = new_role {
        // IAM is eventually consistent: STS may not know the role yet.
        eprintln!(
            "mfa: role {role} is new: AssumeRole can be refused for a few seconds until IAM has it everywhere; its members use it with a profile that has role_arn = arn:{partition}:iam::{}:role/{role} and their own mfa_serial",
            identity.account
        );
    }
    crate::output::print(&rendered)
}

/// Who runs the command, and what of theirs the plan touches.
fn caller(
    admin: &Admin,
    identity: &crate::sts::Identity,
    changes: &[crate::enforce::plan::Change],
    with_mfa: bool,
) -> Result<Caller> {
    let (iam, base) = (admin.iam, admin.credentials);
    let user = identity.user_name().map(str::to_string);
    let role = identity.role_name().map(str::to_string);
    let (groups, boundary) = match (&user, &role) {
        (Some(user), _) => (
            iam.list_groups_for_user(base, user)
                .map_err(|e| anyhow!("listing your own groups ({user}): {e}"))?,
            iam.get_user(base, user)
                .map_err(|e| anyhow!("reading your own IAM user ({user}): {e}"))?
                .and_then(|u| u.boundary),
        ),
        (None, Some(role)) => (
            Vec::new(),
            iam.get_role_boundary(base, role)
                .map_err(|e| anyhow!("reading the role you act through ({role}): {e}"))?,
        ),
        (None, None) => (Vec::new(), None),
    };
    let mut caller = Caller {
        user,
        groups,
        boundary,
        role,
        attached: Vec::new(),
        with_mfa,
    };
    caller.attached = policies_on_caller(admin, changes, &caller)
        .map_err(|e| anyhow!("finding who the policies to update are attached to: {e}"))?;
    Ok(caller)
}

/// The credentials IAM is called with, and whether they carry MFA.
pub struct AdminSession {
    pub profile: String,
    pub region: Option<String>,
    pub credentials: crate::creds::Credentials,
    pub with_mfa: bool,
}

/// A profile with an `mfa_serial` or a role gets its session (a code is
/// asked for as usual); a profile of plain keys calls IAM with those keys,
/// since IAM refuses the calls of a GetSessionToken session made without
/// MFA.
pub fn admin_session(profile: Option<&str>, env: &Env) -> Result<AdminSession> {
    let profiles = crate::config::load(env)?.profiles;
    let name = crate::resolve::select_profile(profile, env);
    let chain = crate::resolve::resolve(&profiles, &name, &Default::default())?;
    if chain.mfa_serial.is_none() && chain.roles.is_empty() {
        let keys = super::root_keys(Some(&name), env)?;
        return Ok(AdminSession {
            profile: keys.profile,
            region: keys.region,
            credentials: keys.credentials,
            with_mfa: false,
        });
    }
    let session = super::obtain_session(Some(&name), &SessionArgs::default(), env)?;
    Ok(AdminSession {
        profile: session.profile,
        region: session.region,
        credentials: session.credentials,
        with_mfa: chain.mfa_serial.is_some(),
    })
}

/// Says what would lock the caller out, and asks (or takes `--yes`).
fn confirm_restrictions(
    restricting: &[crate::enforce::apply::Restriction],
    with_mfa: bool,
    yes: bool,
) -> Result<()> {
    let mut message = String::from(if with_mfa {
        "This apply restricts you, the identity running it:\n"
    } else {
        "This apply restricts you, and your session has no MFA (the profile has no mfa_serial):\n"
    });
    for restriction in restricting {
        message.push_str(&format!("  - it {}\n", restriction.what));
    }
    message.push_str(
        "You may be denied nearly everything afterwards. To undo it (with MFA, or as another administrator):\n",
    );
    for restriction in restricting {
        message.push_str(&format!("  {}\n", restriction.undo));
    }
    crate::terminal::say(&message);
    if yes {
        return Ok(());
    }
    let Ok(tty) = crate::terminal::open() else {
        return Err(UsageError::new(
            "refusing to restrict you without asking, and there is no terminal to ask on: pass --yes (or use a profile with MFA, if MFA is what you lack)",
        )
        .into());
    };
    if !crate::terminal::confirm(&tty, "Apply anyway?", false)? {
        bail!("nothing was changed");
    }
    Ok(())
}

fn run_audit(args: AuditArgs, env: &Env) -> Result<()> {
    let session = admin_session(args.profile.as_deref(), env)?;
    let iam = SdkIam::new(&session.profile);
    let admin = Admin {
        iam: &iam,
        credentials: &session.credentials,
    };
    let report = audit::audit(&admin, SystemClock.now())?;
    if args.json {
        crate::output::print_json(&report)?;
    } else {
        crate::output::print(&audit::render_text(&report))?;
    }
    let flagged: Vec<&str> = report
        .iter()
        .filter(|u| u.flagged)
        .map(|u| u.user.as_str())
        .collect();
    if flagged.is_empty() {
        eprintln!("mfa: {} users, none flagged", report.len());
        return Ok(());
    }
    eprintln!(
        "mfa: flagged (access keys and nothing requiring MFA): {}",
        flagged.join(", ")
    );
    Err(ChildExit(EXIT_FAILURE).into())
}
