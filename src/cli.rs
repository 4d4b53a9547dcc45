//! The command line, as SPEC §3 lists it. Each subcommand's work is in
//! `src/cmd/<name>.rs`.

use clap::{Args, Parser, Subcommand};
use clap_complete::engine::ArgValueCompleter;

use crate::cmd::completions::{complete_profiles, complete_roles};

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
    /// Print the shell hook: `mfa use`, `mfa off`, the prompt countdown, renewal in place
    Init(InitArgs),
    /// Print one short command per profile (aws-prod, aws-stage, …)
    Alias(AliasArgs),
    /// Print the completion script (profiles and role ARNs read at TAB time)
    Completions(CompletionsArgs),
    /// Print one prompt segment (`prod 42m`) from the environment alone
    Prompt(PromptArgs),
    /// Set a session in this shell (needs the hook: see `mfa init`)
    Use(UseArgs),
    /// Remove the session from this shell (needs the hook: see `mfa init`)
    Off,
}

/// How a session is obtained: shared by env, exec, shell, credential-process.
#[derive(Debug, Args, Clone, Default)]
pub struct SessionArgs {
    /// The one-time code (else the profile's mfa_process, else a prompt on the terminal)
    #[arg(long, value_name = "CODE")]
    pub token: Option<String>,
    /// Assume this role on top of what the profile gives
    #[arg(long, value_name = "ARN", add = ArgValueCompleter::new(complete_roles))]
    pub role_arn: Option<String>,
    /// Lifetime of the final session, in seconds (asks STS for a new one)
    #[arg(long, value_name = "SECS")]
    pub duration: Option<i64>,
    /// Get a new session even when the cached one is still good
    #[arg(long)]
    pub refresh: bool,
}

#[derive(Debug, Args)]
pub struct EnvArgs {
    /// Profile (default: $AWS_PROFILE, else `default`)
    #[arg(add = ArgValueCompleter::new(complete_profiles))]
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
    #[arg(add = ArgValueCompleter::new(complete_profiles))]
    pub profile: String,
    #[command(flatten)]
    pub session: SessionArgs,
    /// The command and its arguments (after `--`, which may be left out:
    /// PowerShell drops it when calling a function)
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        required = true,
        value_name = "CMD"
    )]
    pub command: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ShellArgs {
    #[arg(add = ArgValueCompleter::new(complete_profiles))]
    pub profile: String,
    #[command(flatten)]
    pub session: SessionArgs,
}

#[derive(Debug, Args)]
pub struct CredentialProcessArgs {
    #[arg(add = ArgValueCompleter::new(complete_profiles))]
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
    #[arg(add = ArgValueCompleter::new(complete_profiles))]
    pub profile: Option<String>,
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    #[arg(value_enum)]
    pub shell: Shell,
    /// Keep MFA_PROMPT current but leave the prompt itself alone
    #[arg(long)]
    pub no_prompt: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AliasMode {
    /// Set the session in the current shell (needs `mfa init`)
    Use,
    /// Run a command with the session: `aws-prod s3 ls`
    Exec,
    /// Open a subshell with the session
    Shell,
}

#[derive(Debug, Args)]
pub struct AliasArgs {
    /// Shell to write for (default: $MFA_SHELL, the parent shell, $SHELL, bash)
    #[arg(long, value_enum)]
    pub shell: Option<Shell>,
    /// Prefix of each command's name (a profile's mfa_alias replaces the whole name)
    #[arg(long, default_value = "aws-")]
    pub prefix: String,
    #[arg(long, value_enum, default_value = "use")]
    pub mode: AliasMode,
    /// With --mode exec: the program the arguments go to (empty: the arguments are the command)
    #[arg(long, default_value = "aws", value_name = "PROGRAM")]
    pub command: String,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    #[arg(value_enum)]
    pub shell: Shell,
}

#[derive(Debug, Args)]
pub struct PromptArgs {
    /// Placeholders: {profile}, {left} (42m, or `expired`), {state} (ok, warn, expired), {expires_at}
    #[arg(long, default_value = "{profile} {left}")]
    pub format: String,
}

/// What the hook's `mfa use` takes: `mfa env`'s profile and session flags.
#[derive(Debug, Args)]
pub struct UseArgs {
    /// Profile (default: $AWS_PROFILE, else `default`)
    #[arg(add = ArgValueCompleter::new(complete_profiles))]
    pub profile: Option<String>,
    #[command(flatten)]
    pub session: SessionArgs,
}

#[derive(Debug, Args)]
pub struct ClearArgs {
    /// Profiles whose cached sessions to delete
    #[arg(add = ArgValueCompleter::new(complete_profiles))]
    pub profiles: Vec<String>,
    /// Delete every cached session
    #[arg(long, conflicts_with = "profiles")]
    pub all: bool,
}
