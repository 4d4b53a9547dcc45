//! `mfa onboard`: a new employee's IAM user, group and access key, and the
//! profile they paste into their AWS files.

use anyhow::{Context, Result, bail};

use super::plan::Admin;
use crate::iam::NewKey;

/// IAM allows two access keys per user.
pub const MAX_ACCESS_KEYS: usize = 2;

/// What was done for the user.
pub struct Onboarded {
    pub created_user: bool,
    pub key: NewKey,
}

/// Creates the user if absent, adds them to `group`, and makes an access
/// key; refuses a user who already has two keys before changing anything.
pub fn onboard(admin: &Admin, user: &str, group: Option<&str>) -> Result<Onboarded> {
    let (iam, base) = (admin.iam, admin.credentials);
    let existing = iam
        .get_user(base, user)
        .with_context(|| format!("reading IAM user {user}"))?;
    if existing.is_some() {
        let keys = iam
            .list_access_keys(base, user)
            .with_context(|| format!("listing the access keys of {user}"))?;
        if keys.len() >= MAX_ACCESS_KEYS {
            let ids: Vec<&str> = keys.iter().map(|k| k.id.as_str()).collect();
            bail!(
                "IAM user {user} already has {} access keys ({}), IAM's limit: delete one first (aws iam delete-access-key --user-name {user} --access-key-id ID)",
                keys.len(),
                ids.join(", ")
            );
        }
    }
    if let Some(group) = group
        && iam
            .group_members(base, group)
            .with_context(|| format!("reading group {group}"))?
            .is_none()
    {
        bail!(
            "there is no IAM group named `{group}` (`mfa enforce apply --recipe role|deny` makes one)"
        );
    }
    let created_user = existing.is_none();
    if created_user {
        iam.create_user(base, user)
            .with_context(|| format!("creating IAM user {user}"))?;
    }
    if let Some(group) = group {
        super::apply::with_retry(&super::apply::RETRY_DELAYS, &std::thread::sleep, || {
            iam.add_user_to_group(base, group, user)
        })
        .with_context(|| format!("adding {user} to group {group}"))?;
    }
    let key = super::apply::with_retry(&super::apply::RETRY_DELAYS, &std::thread::sleep, || {
        iam.create_access_key_for(base, user)
    })
    .with_context(|| format!("creating an access key for {user}"))?;
    Ok(Onboarded { created_user, key })
}

/// Hands the new key's profile to `write` (stdout); when that fails (a
/// closed pipe, a full disk) nobody has the secret, so the key is deleted
/// again: the user is not left with a key nobody holds, and the next
/// onboard is not refused for IAM's two-key limit.
pub fn hand_over(
    admin: &Admin,
    user: &str,
    key: &NewKey,
    text: &str,
    write: impl FnOnce(&str) -> std::io::Result<()>,
) -> Result<()> {
    let Err(error) = write(text) else {
        return Ok(());
    };
    let id = &key.access_key_id;
    match admin.iam.delete_access_key_of(admin.credentials, user, id) {
        Ok(()) => bail!(
            "the profile of {user} could not be written ({error}), so nobody has its secret: access key {id} was deleted again; run `mfa onboard {user}` again with stdout going somewhere you can read"
        ),
        Err(delete) => bail!(
            "the profile of {user} could not be written ({error}), and deleting its access key {id} failed ({delete}): delete it yourself: aws iam delete-access-key --user-name {user} --access-key-id {id}"
        ),
    }
}

/// The config and credentials blocks for the new user, and what to do next.
pub fn profile_text(user: &str, key: &NewKey, region: Option<&str>) -> String {
    let region = region
        .map(|r| format!("region = {r}\n"))
        .unwrap_or_default();
    format!(
        "# ~/.aws/config\n\
         [profile {user}]\n\
         {region}\n\
         # ~/.aws/credentials\n\
         [{user}]\n\
         aws_access_key_id = {id}\n\
         aws_secret_access_key = {secret}\n\
         \n\
         # Next, as {user}:\n\
         #   mfa device create {user} --profile {user}   (scan the QR code)\n\
         #   mfa device enable --profile {user}          (two codes; writes mfa_serial)\n\
         #   mfa migrate {user}                          (keys out of the plaintext file)\n",
        id = key.access_key_id,
        secret = key.secret_access_key,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_profile_holds_the_key_and_the_next_steps() {
        let key = NewKey {
            access_key_id: "AKIANEW".into(),
            secret_access_key: "s3cret".into(),
        };
        let text = profile_text("bob", &key, Some("eu-west-1"));
        assert!(text.starts_with("# ~/.aws/config\n[profile bob]\nregion = eu-west-1\n\n# ~/.aws/credentials\n[bob]\naws_access_key_id = AKIANEW\naws_secret_access_key = s3cret\n"), "{text}");
        for step in [
            "mfa device create bob",
            "mfa device enable --profile bob",
            "mfa migrate bob",
        ] {
            assert!(text.contains(step), "{step}");
        }
        assert!(!profile_text("bob", &key, None).contains("region"));
    }
}
