//! The command line, as SPEC §3 lists it. Each subcommand's work is in
//! `src/cmd/<name>.rs`.

use clap::{Args, Parser, Subcommand};

use crate::shell::Shell;

#[derive(Debug, Parser)]
#[command(
    name = "mfa",
    version,
    about = "AWS multi-factor authentication at the command line",
    long_about = "Turns the long-term keys of an IAM user plus a one-time code into temporary \
STS credentials, and puts them in your shell (`eval \"$(mfa env prod)\"`), a child process \
(`mfa exec`), any AWS SDK (`credential_process`) or the credentials file.",
    arg_required_else_help = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print shell statements that put a session in the calling shell
    Env(EnvArgs),
    /// Run a command with a session in its environment
    Exec(ExecArgs),
    /// Start an interactive subshell with a session
    Shell(ShellArgs),
    /// Print credentials in the AWS `credential_process` JSON format
    CredentialProcess(CredentialProcessArgs),
    /// List every profile: kind, MFA device, role, region, cached session
    List(JsonArgs),
    /// Show one profile's merged properties (secrets masked)
    Show(ShowArgs),
    /// List every role ARN in the config, with the profiles that use it
    Roles(JsonArgs),
    /// Show the session in this shell and the cached sessions
    Status(JsonArgs),
    /// Delete cached sessions
    Clear(ClearArgs),
}

/// How a session is obtained: shared by env, exec, shell, credential-process.
#[derive(Debug, Args, Clone, Default)]
pub struct SessionArgs {
    /// The one-time code (else the profile's mfa_process, else a prompt on the terminal)
    #[arg(long, value_name = "CODE")]
    pub token: Option<String>,
    /// Assume this role on top of what the profile gives
    #[arg(long, value_name = "ARN")]
    pub role_arn: Option<String>,
    /// Lifetime of the final session, in seconds
    #[arg(long, value_name = "SECS")]
    pub duration: Option<i64>,
    /// Get a new session even when the cached one is still good
    #[arg(long)]
    pub refresh: bool,
}

#[derive(Debug, Args)]
pub struct EnvArgs {
    /// Profile (default: $AWS_PROFILE, else `default`)
    pub profile: Option<String>,
    /// Shell to write for (default: $MFA_SHELL, the parent shell, $SHELL, bash)
    #[arg(long, value_enum)]
    pub shell: Option<Shell>,
    /// Print statements that remove everything `mfa env` sets
    #[arg(long, conflicts_with_all = ["profile", "token", "role_arn", "duration", "refresh"])]
    pub unset: bool,
    #[command(flatten)]
    pub session: SessionArgs,
}

#[derive(Debug, Args)]
pub struct ExecArgs {
    pub profile: String,
    #[command(flatten)]
    pub session: SessionArgs,
    /// The command and its arguments, after `--`
    #[arg(last = true, required = true, value_name = "CMD")]
    pub command: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ShellArgs {
    pub profile: String,
    #[command(flatten)]
    pub session: SessionArgs,
}

#[derive(Debug, Args)]
pub struct CredentialProcessArgs {
    pub profile: String,
    #[command(flatten)]
    pub session: SessionArgs,
}

#[derive(Debug, Args)]
pub struct JsonArgs {
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Profile (default: $AWS_PROFILE, else `default`)
    pub profile: Option<String>,
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ClearArgs {
    /// Profiles whose cached sessions to delete
    pub profiles: Vec<String>,
    /// Delete every cached session
    #[arg(long, conflicts_with = "profiles")]
    pub all: bool,
}
