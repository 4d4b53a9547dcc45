//! `mfa use` and `mfa off` change the calling shell, which no program can
//! do: the shell function from `mfa init` handles them. Reaching the binary
//! means the hook is not installed, so say how to install it.

use anyhow::Result;

use crate::error::UsageError;

pub fn run(name: &str) -> Result<()> {
    Err(UsageError::new(format!(
        "`mfa {name}` changes the calling shell, so it needs the shell hook. Install it with\n  \
         bash:       eval \"$(mfa init bash)\"      (in ~/.bashrc)\n  \
         zsh:        eval \"$(mfa init zsh)\"       (in ~/.zshrc)\n  \
         fish:       mfa init fish | source       (in ~/.config/fish/config.fish)\n  \
         PowerShell: mfa init powershell | Out-String | Invoke-Expression   (in $PROFILE)\n\
         or, without it: eval \"$(mfa env{})\"",
        if name == "off" {
            " --unset"
        } else {
            " PROFILE"
        }
    ))
    .into())
}
