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
    key.contains("secret") || key.ends_with("_token") || key.contains("password")
}

#[derive(Debug, Serialize)]
struct Shown {
    name: String,
    kind: &'static str,
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
    Ok(Shown {
        name: profile.name.clone(),
        kind: resolve::kind(profiles, profile),
        properties: profile
            .properties
            .iter()
            .map(|p| {
                let value = if is_secret(&p.key) {
                    MASK.to_string()
                } else {
                    p.value.clone()
                };
                (p.key.clone(), value)
            })
            .collect(),
    })
}

pub fn run(args: ShowArgs, env: &Env) -> Result<()> {
    let files = crate::config::load(env)?;
    let name = resolve::select_profile(args.profile.as_deref(), env);
    let shown = shown(&files.profiles(), &name)?;
    if args.json {
        return crate::output::print_json(&shown);
    }
    let mut text = format!("{} ({})\n", shown.name, shown.kind);
    for (key, value) in &shown.properties {
        // Sub-properties and continuations: one indented line each.
        let value = value.replace('\n', "\n    ");
        let separator = if value.starts_with('\n') { "" } else { " " };
        text.push_str(&format!("  {key} ={separator}{value}\n"));
    }
    crate::output::print(&text)
}
