//! `mfa roles`: every role ARN in the config, with the profiles using it.

use std::collections::HashMap;

use anyhow::Result;
use serde::Serialize;

use crate::cli::JsonArgs;
use crate::config::Profiles;
use crate::context::Env;

#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct RoleRow {
    pub role_arn: String,
    pub profiles: Vec<String>,
}

/// In the order the ARNs first appear.
pub fn roles(profiles: &Profiles) -> Vec<RoleRow> {
    let mut rows: Vec<RoleRow> = Vec::new();
    // The row of each ARN: thousands of distinct ARNs stay linear.
    let mut row_of: HashMap<&str, usize> = HashMap::new();
    for profile in &profiles.list {
        let Some(arn) = profile.get_single("role_arn") else {
            continue;
        };
        match row_of.get(arn) {
            Some(&i) => rows[i].profiles.push(profile.name.clone()),
            None => {
                row_of.insert(arn, rows.len());
                rows.push(RoleRow {
                    role_arn: arn.to_string(),
                    profiles: vec![profile.name.clone()],
                });
            }
        }
    }
    rows
}

pub fn run(args: JsonArgs, env: &Env) -> Result<()> {
    let files = crate::config::load(env)?;
    let rows = roles(&files.profiles);
    if args.json {
        return crate::output::print_json(&rows);
    }
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| vec![r.role_arn.clone(), r.profiles.join(", ")])
        .collect();
    crate::output::print(&crate::output::table(&["ROLE", "PROFILES"], &cells))
}
