//! `mfa credential-process PROFILE`: the JSON the AWS SDKs read from a
//! `credential_process` command.

use anyhow::Result;
use serde::Serialize;

use super::obtain_session;
use crate::cli::CredentialProcessArgs;
use crate::context::Env;
use crate::creds::Credentials;

#[derive(Serialize)]
struct ProcessOutput<'a> {
    #[serde(rename = "Version")]
    version: u32,
    #[serde(flatten)]
    credentials: &'a Credentials,
}

pub fn run(args: CredentialProcessArgs, env: &Env) -> Result<()> {
    let session = obtain_session(Some(&args.profile), &args.session, env)?;
    crate::output::print_json(&ProcessOutput {
        version: 1,
        credentials: &session.credentials,
    })
}
