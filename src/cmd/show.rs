//! `mfa show PROFILE`: one profile's merged properties, secrets masked.

use anyhow::Result;
use serde::Serialize;

use crate::cli::ShowArgs;
use crate::config::Profiles;
use crate::context::Env;
use crate::resolve;

pub const MASK: &str = "********";

/// Properties whose values are never shown.
pub fn is_secret(key: &str) -> bool {
    let key = key.trim().to_ascii_lowercase();
    key.contains("secret") || key.ends_with("_token") || key.contains("password")
}

/// A value as `show` prints it: masked when its key is secret, and each
/// continuation or sub-property line (`name = value`) masked when its own
/// name is.
pub fn masked(key: &str, value: &str) -> String {
    if is_secret(key) {
        return MASK.to_string();
    }
    value
        .split('\n')
        .map(|line| match line.split_once('=') {
            Some((name, _)) if is_secret(name) => format!("{} = {MASK}", name.trim()),
            _ => line.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[derive(Debug, Serialize)]
struct Shown {
    name: String,
    kind: &'static str,
    /// Where the profile's own long-term keys live (see `mfa list`).
    keys: Option<&'static str>,
    key_store: Option<&'static str>,
    /// Written as a JSON object in file order (serde_json's map would sort it).
    #[serde(serialize_with = "ordered_object")]
    properties: Vec<(String, String)>,
}

fn ordered_object<S: serde::Serializer>(
    pairs: &[(String, String)],
    s: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut map = s.serialize_map(Some(pairs.len()))?;
    for (k, v) in pairs {
        map.serialize_entry(k, v)?;
    }
    map.end()
}

fn shown(profiles: &Profiles, name: &str) -> Result<Shown> {
    let profile = profiles
        .get(name)
        .ok_or_else(|| resolve::unknown_profile(profiles, name))?;
    let (keys, key_store) = super::list::keys_location(profile);
    Ok(Shown {
        name: profile.name.clone(),
        kind: resolve::kind(profiles, profile),
        keys,
        key_store,
        properties: profile
            .properties
            .iter()
            .map(|p| (p.key.to_string(), masked(&p.key, &p.value)))
            .collect(),
    })
}

pub fn run(args: ShowArgs, env: &Env) -> Result<()> {
    let files = crate::config::load(env)?;
    let name = resolve::select_profile(args.profile.as_deref(), env);
    crate::output::print(&render(&files.profiles, &name, args.json)?)
}

/// What `mfa show NAME [--json]` prints (pure: the fuzz target's too).
pub fn render(profiles: &Profiles, name: &str, json: bool) -> Result<String> {
    let shown = shown(profiles, name)?;
    if json {
        let mut text = serde_json::to_string_pretty(&shown)?;
        text.push('\n');
        return Ok(text);
    }
    let mut text = format!("{} ({})\n", shown.name, shown.kind);
    if let Some(store) = shown.key_store {
        text.push_str(&format!("  keys in the {store} store\n"));
    }
    for (key, value) in &shown.properties {
        // Sub-properties and continuations: one indented line each.
        let value = value.replace('\n', "\n    ");
        let separator = if value.starts_with('\n') { "" } else { " " };
        text.push_str(&format!("  {key} ={separator}{value}\n"));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_masked_in_values_and_in_their_continuations() {
        assert_eq!(masked("aws_secret_access_key", "x"), MASK);
        assert_eq!(masked("AWS_Session_Token", "x"), MASK);
        assert_eq!(masked("region", "eu-west-1"), "eu-west-1");
        assert_eq!(
            masked(
                "s3",
                "\nmax_concurrent_requests = 10\naws_secret_access_key=leak"
            ),
            "\nmax_concurrent_requests = 10\naws_secret_access_key = ********"
        );
    }
}
