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

/// `defer`: each subcommand's arguments are defined only when it is the
/// one run (a cache hit of `mfa env` otherwise builds all of them).
#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum Command {
    /// Print shell statements that put a session in the calling shell
    ///
    /// In a shell that `mfa exec PROFILE --server` or `mfa shell PROFILE --server` serves, for
    /// that profile: renews the session the endpoint serves (a code or an SSO sign-in asked
    /// here) and sets no keys, which would win over the endpoint and end unrenewed.
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
    /// Sign in to an SSO profile's IAM Identity Center in the browser (shared with `aws sso login`)
    Login(LoginArgs),
    /// Print the shell hook: `mfa use`, `mfa off`, the prompt countdown, renewal in place
    Init(InitArgs),
    /// Print one short command per profile (aws-prod, aws-stage, …)
    Alias(AliasArgs),
    /// Print the completion script (profiles and role ARNs read at TAB time)
    Completions(CompletionsArgs),
    /// Print one prompt segment (`prod 42m`) from the environment alone
    Prompt(PromptArgs),
    /// Write a session into the credentials file, for tools that read only files
    Write(WriteArgs),
    /// Open the AWS console signed in with the profile's role session (MFA kept)
    Console(ConsoleArgs),
    /// Add or change an MFA profile in the config file, step by step
    Setup(SetupArgs),
    /// Create, enable and list virtual MFA devices
    #[command(subcommand)]
    Device(DeviceCommand),
    /// Print the IAM policies that make MFA mandatory
    Policy(PolicyArgs),
    /// Make MFA mandatory across the account: plan and apply a recipe, audit the users
    #[command(subcommand)]
    Enforce(EnforceCommand),
    /// Create an IAM user with an access key and print their ready profile
    Onboard(OnboardArgs),
    /// Store a profile's long-term keys in the key store
    Add(AddArgs),
    /// Delete a profile's keys from the key store
    Remove(KeyProfileArgs),
    /// Move a profile's keys from the credentials file into the key store
    Migrate(KeyProfileArgs),
    /// Replace a profile's access key with a new one, then delete the old one
    Rotate(KeyProfileArgs),
    /// Check the set-up and say how to fix each problem
    Doctor(JsonArgs),
    /// Set a session in this shell (needs the hook: see `mfa init`)
    Use(UseArgs),
    /// Remove the session from this shell (needs the hook: see `mfa init`)
    Off,
}

// How a session is obtained: shared by env, exec, shell, credential-process.
// A plain comment, not a doc comment: with `defer`, a flattened struct's
// doc comment would replace the `about` of every subcommand that uses it.
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

// `mfa exec [OPTIONS] PROFILE [--] CMD…`, or `mfa exec [OPTIONS] --
// PROFILE [--] CMD…` for any profile name (`-h` too): after the first `--`
// clap reads every word as a value, so the profile is the first and the
// command the rest (its own leading `--` dropped in `exec::run`). A plain
// comment: a doc comment here would become the subcommand's help.
#[derive(Debug, Args)]
#[command(override_usage = "mfa exec [OPTIONS] PROFILE [--] <CMD>...\n       \
                            mfa exec [OPTIONS] -- PROFILE -- <CMD>...")]
pub struct ExecArgs {
    /// Profile whose session the command gets (after `--` when its name starts with `-`)
    #[arg(add = ArgValueCompleter::new(complete_profiles))]
    pub profile: String,
    #[command(flatten)]
    pub session: SessionArgs,
    /// Serve credentials that renew themselves on 127.0.0.1 instead of
    /// setting keys (AWS_CONTAINER_CREDENTIALS_FULL_URI), for jobs that
    /// outlive a session
    #[arg(long)]
    pub server: bool,
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
    /// Profile whose session the subshell gets (after `--` when its name starts with `-`: `mfa shell -- -h`)
    #[arg(add = ArgValueCompleter::new(complete_profiles))]
    pub profile: String,
    #[command(flatten)]
    pub session: SessionArgs,
    /// Serve credentials that renew themselves on 127.0.0.1 instead of
    /// setting keys (AWS_CONTAINER_CREDENTIALS_FULL_URI), for sessions
    /// longer than one role session
    #[arg(long)]
    pub server: bool,
}

#[derive(Debug, Args)]
pub struct CredentialProcessArgs {
    /// Profile whose session is printed
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
    /// Shell the hook is written for
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
    /// Open the AWS console with the session (`mfa console`)
    Console,
}

#[derive(Debug, Args)]
pub struct AliasArgs {
    /// Shell to write for (default: $MFA_SHELL, the parent shell, $SHELL, bash)
    #[arg(long, value_enum)]
    pub shell: Option<Shell>,
    /// Prefix of each command's name (a profile's mfa_alias replaces the whole name)
    #[arg(long, default_value = "aws-")]
    pub prefix: String,
    /// What each command does
    #[arg(long, value_enum, default_value = "use")]
    pub mode: AliasMode,
    /// With --mode exec: the program the arguments go to (empty: the arguments are the command)
    #[arg(long, default_value = "aws", value_name = "PROGRAM")]
    pub command: String,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// Shell the completion script is written for
    #[arg(value_enum)]
    pub shell: Shell,
}

#[derive(Debug, Args)]
pub struct PromptArgs {
    /// Placeholders: {profile}, {left} (42m, or `expired`), {state} (ok, warn, expired), {expires_at}
    #[arg(long, default_value = "{profile} {left}")]
    pub format: String,
}

#[derive(Debug, Args)]
pub struct WriteArgs {
    /// Profile whose session is written
    #[arg(add = ArgValueCompleter::new(complete_profiles))]
    pub profile: String,
    /// Section of the credentials file to write (default: PROFILE, or
    /// PROFILE-mfa where PROFILE's own section must stay as it is)
    #[arg(long, value_name = "NAME")]
    pub section: Option<String>,
    #[command(flatten)]
    pub session: SessionArgs,
}

#[derive(Debug, Args)]
pub struct ConsoleArgs {
    /// Profile (default: $AWS_PROFILE, else `default`); it needs a role, or --role-arn
    #[arg(add = ArgValueCompleter::new(complete_profiles))]
    pub profile: Option<String>,
    /// Print the sign-in URL (a credential for 15 minutes) on stdout and open nothing
    #[arg(long)]
    pub print: bool,
    /// The console page to open first: a service's name (s3, ec2, iam, …)
    #[arg(long, value_name = "NAME", conflicts_with = "destination")]
    pub service: Option<String>,
    /// The console page to open first, as an https:// URL
    #[arg(long, value_name = "URL")]
    pub destination: Option<String>,
    /// The console's region (default: $AWS_REGION, $AWS_DEFAULT_REGION, the profile's)
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// Assume this role on top of the profile's MFA session and sign in with it
    #[arg(long, value_name = "ARN", add = ArgValueCompleter::new(complete_roles))]
    pub role_arn: Option<String>,
    /// The one-time code (else the profile's mfa_process, else a prompt on the terminal)
    #[arg(long, value_name = "CODE")]
    pub token: Option<String>,
    /// Length of the console session, in seconds (900 to 43200; 3600 at most for a chained role)
    #[arg(long, value_name = "SECS")]
    pub duration: Option<i64>,
    /// Browser command, `{url}` replaced (default: the profile's console_browser, $BROWSER, xdg-open/open)
    #[arg(long, value_name = "CMD", conflicts_with = "print")]
    pub browser: Option<String>,
    /// Sign in a profile's IAM user through GetFederationToken: a console session WITHOUT MFA
    #[arg(long, conflicts_with = "role_arn")]
    pub federation_token: bool,
}

#[derive(Debug, Args)]
pub struct SetupArgs {
    /// Name of the profile to add or change
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// The profile whose keys the new profile uses (for a role profile)
    #[arg(long, value_name = "NAME", add = ArgValueCompleter::new(complete_profiles))]
    pub source_profile: Option<String>,
    /// Store new long-term keys from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY in the credentials file
    #[arg(long)]
    pub keys_from_env: bool,
    /// The MFA device's ARN (arn:aws:iam::ACCOUNT:mfa/NAME)
    #[arg(long, value_name = "ARN")]
    pub mfa_serial: Option<String>,
    /// A role to assume with the MFA session
    #[arg(long, value_name = "ARN", add = ArgValueCompleter::new(complete_roles))]
    pub role_arn: Option<String>,
    /// The profile's region (where STS and the other AWS calls go)
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// Write without asking
    #[arg(long, short = 'y')]
    pub yes: bool,
}

#[derive(Debug, Subcommand)]
pub enum DeviceCommand {
    /// Create a virtual MFA device and show its QR code
    Create(DeviceCreateArgs),
    /// Enable a device with two consecutive codes
    Enable(DeviceEnableArgs),
    /// List the user's MFA devices
    List(DeviceListArgs),
}

#[derive(Debug, Args)]
pub struct DeviceCreateArgs {
    /// Name of the device (usually your IAM user name)
    pub name: String,
    /// Profile whose keys create the device
    #[arg(long, add = ArgValueCompleter::new(complete_profiles))]
    pub profile: Option<String>,
    /// Also write the QR code to this PNG file
    #[arg(long, value_name = "FILE")]
    pub png: Option<std::path::PathBuf>,
    /// Also print the base32 seed (to type into an app by hand)
    #[arg(long)]
    pub secret: bool,
}

#[derive(Debug, Args)]
pub struct DeviceEnableArgs {
    /// The device's serial (ARN); default: the last one `create` made for this profile
    #[arg(long, value_name = "ARN")]
    pub serial: Option<String>,
    /// Profile whose keys enable the device (and that gets its mfa_serial)
    #[arg(long, add = ArgValueCompleter::new(complete_profiles))]
    pub profile: Option<String>,
    /// First code
    #[arg(long, value_name = "CODE", requires = "code2")]
    pub code1: Option<String>,
    /// The next code
    #[arg(long, value_name = "CODE", requires = "code1")]
    pub code2: Option<String>,
    /// Write mfa_serial into the profile without asking
    #[arg(long, short = 'y')]
    pub yes: bool,
}

#[derive(Debug, Args)]
pub struct DeviceListArgs {
    /// Profile whose keys list the devices (and whose IAM user they belong to)
    #[arg(long, add = ArgValueCompleter::new(complete_profiles))]
    pub profile: Option<String>,
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct PolicyArgs {
    /// mfa-boundary, role-trust, self-manage-mfa or deny-without-mfa
    #[arg(
        required_unless_present = "list",
        value_parser = ["mfa-boundary", "role-trust", "self-manage-mfa", "deny-without-mfa"]
    )]
    pub name: Option<String>,
    /// The account (default: the caller's, from sts:GetCallerIdentity)
    #[arg(long, value_name = "ID")]
    pub account: Option<String>,
    /// The IAM user, where a policy names one (default: the caller)
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,
    /// Profile whose credentials find the account and user when not given
    #[arg(long, add = ArgValueCompleter::new(complete_profiles))]
    pub profile: Option<String>,
    /// Say what each policy is for
    #[arg(long)]
    pub list: bool,
}

#[derive(Debug, Args)]
pub struct AddArgs {
    /// Profile whose keys to store
    #[arg(add = ArgValueCompleter::new(complete_profiles))]
    pub profile: String,
    /// Take the keys from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY
    #[arg(long)]
    pub from_env: bool,
}

#[derive(Debug, Args)]
pub struct KeyProfileArgs {
    /// Profile whose keys to act on
    #[arg(add = ArgValueCompleter::new(complete_profiles))]
    pub profile: String,
}

// What the hook's `mfa use` takes: `mfa env`'s profile and session flags
// (a plain comment: see SessionArgs).
#[derive(Debug, Args)]
pub struct UseArgs {
    /// Profile (default: $AWS_PROFILE, else `default`)
    #[arg(add = ArgValueCompleter::new(complete_profiles))]
    pub profile: Option<String>,
    #[command(flatten)]
    pub session: SessionArgs,
}

#[derive(Debug, Args)]
pub struct LoginArgs {
    /// SSO profile to sign in for (default: $AWS_PROFILE, else `default`)
    #[arg(add = ArgValueCompleter::new(complete_profiles))]
    pub profile: Option<String>,
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

#[derive(Debug, Subcommand)]
pub enum EnforceCommand {
    /// Show what the recipe would create or update in IAM, changing nothing
    Plan(EnforceArgs),
    /// Make the recipe's changes in IAM (a second apply changes nothing)
    Apply(EnforceArgs),
    /// List every IAM user and flag those whose access keys work without MFA (exit 1 if any)
    Audit(AuditArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EnforceFormat {
    /// A table of the changes
    Text,
    /// The changes as JSON
    Json,
    /// The desired state as an AWS CloudFormation template (IAM is not called)
    Cloudformation,
    /// The desired state as a Terraform configuration (IAM is not called)
    Terraform,
}

#[derive(Debug, Args)]
pub struct EnforceArgs {
    /// How MFA is made mandatory
    #[arg(long, value_enum)]
    pub recipe: crate::enforce::Recipe,
    /// The role (role: mfa-admin) or managed policy (boundary: mfa-required, deny: deny-without-mfa)
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// The group (role and deny; default: NAME-users)
    #[arg(long, value_name = "G")]
    pub group: Option<String>,
    /// Managed policies the role gets (role recipe)
    #[arg(long = "policy", value_name = "ARN", num_args = 1..)]
    pub policies: Vec<String>,
    /// IAM users added to the group (role, deny) or given the boundary (boundary)
    #[arg(long, value_name = "U", num_args = 1..)]
    pub users: Vec<String>,
    /// Profile whose credentials call IAM
    #[arg(long, add = ArgValueCompleter::new(complete_profiles))]
    pub profile: Option<String>,
    /// Apply changes that restrict you (the caller) without asking
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Update an existing policy or role that mfa did not create (it is tagged managed-by=mfa afterwards)
    #[arg(long)]
    pub adopt: bool,
    /// What is printed
    #[arg(long, value_enum, default_value = "text")]
    pub format: EnforceFormat,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Profile whose credentials read IAM
    #[arg(long, add = ArgValueCompleter::new(complete_profiles))]
    pub profile: Option<String>,
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct OnboardArgs {
    /// The new employee's IAM user name (created if absent)
    pub user: String,
    /// Group the user is added to
    #[arg(long, value_name = "G")]
    pub group: Option<String>,
    /// Profile whose credentials call IAM
    #[arg(long, add = ArgValueCompleter::new(complete_profiles))]
    pub profile: Option<String>,
}
