# mfa shell integration for PowerShell 7. In $PROFILE, last (after any
# prompt theme, whose prompt it wraps):
#   mfa init powershell | Out-String | Invoke-Expression
#
# - `mfa use PROFILE [flags]` sets a session in this shell, `mfa off` removes
#   it; every other subcommand goes to the binary.
# - Before each prompt, $global:MFA_PROMPT holds `prod 42m` (`prod 8m!`
#   inside MFA_WARN_SECONDS, `prod expired` after), written in front of the
#   prompt in colour (none with NO_COLOR). $? and $LASTEXITCODE reach the
#   wrapped prompt unchanged.
# - When the session ends (or is within MFA_RENEW_SECONDS of it), the prompt
#   renews it in place: silently while the cached MFA session lasts, else by
#   asking for a code. Ctrl-C or a failure leaves `expired` and does not ask
#   again until the next `mfa use`. MFA_AUTO_RENEW=0 turns renewal off.
# - With a valid session the prompt starts no process: it compares
#   MFA_EXPIRES_AT with .NET's clock. Renewal is the one process it may start,
#   and a missing binary never breaks the prompt.
# - Importing twice wraps the prompt once. Every name this defines starts
#   with `__mfa` (or is `mfa`, `prompt`, `MFA_PROMPT`).
#
# In PowerShell a function call swallows the first bare `--`, so write
# `mfa exec prod '--' aws s3 ls`, and `mfa use '--' '-h'` for a profile
# named like an option (the `mfa alias` commands already do).

# `mfa doctor` runs in a child process, which cannot see this session's
# functions: the hook says it is loaded by MFA_SHELL_HOOK, set by a call
# (process-wide, whatever scope imports the hook). Which argument completers
# are registered cannot be asked in PowerShell.
[Environment]::SetEnvironmentVariable('MFA_SHELL_HOOK', 'powershell')

$global:__mfa_bin = __MFA_BIN__
$global:__mfa_show_prompt = __MFA_SHOW_PROMPT__

function global:mfa {
    # Tab completion (`mfa completions powershell`) runs `mfa -- WORDS` with
    # COMPLETE set: the call into this function swallowed that `--`, so put
    # it back for the binary.
    if ($env:COMPLETE -ceq 'powershell') {
        & $global:__mfa_bin '--' @args
        return
    }
    $command = ''
    if ($args.Count -gt 0) {
        $command = [string]$args[0]
    }
    if ($command -ceq 'use' -or $command -ceq 'off') {
        [object[]]$rest = @()
        if ($args.Count -gt 1) {
            $rest = $args[1..($args.Count - 1)]
        }
        if ($command -ceq 'use') {
            __mfa_use $rest
        } else {
            __mfa_off
        }
        return
    }
    & $global:__mfa_bin @args
}

# Runs `mfa env ...` and, only when it succeeded, its output here.
function global:__mfa_apply {
    param([object[]]$MfaArgs)
    $code = $null
    try {
        $code = & $global:__mfa_bin @MfaArgs
    } catch {
        # The binary is missing or cannot start (or failed, under
        # $PSNativeCommandUseErrorActionPreference): say so, change nothing.
        Write-Error -ErrorRecord $_
        return $false
    }
    if ($LASTEXITCODE -eq 0) {
        if ($code) {
            $null = $code | Out-String | Invoke-Expression
        }
        return $true
    }
    return $false
}

function global:__mfa_use {
    param([object[]]$MfaArgs)
    $MfaArgs = @($MfaArgs)
    # Help is text to read, not code to run. After '--' every word is a
    # value: a profile may be named `-h`.
    foreach ($arg in $MfaArgs) {
        if ($arg -ceq '--') {
            break
        }
        if ($arg -ceq '-h' -or $arg -ceq '--help') {
            & $global:__mfa_bin env @MfaArgs
            return
        }
    }
    [object[]]$envArgs = @('env', '--shell', 'powershell') + @($MfaArgs)
    if (-not (__mfa_apply $envArgs)) {
        return
    }
    # Renewal repeats what shapes the session, never a one-time code.
    $flags = [System.Collections.Generic.List[string]]::new()
    for ($i = 0; $i -lt $MfaArgs.Count; $i++) {
        $arg = [string]$MfaArgs[$i]
        if ($arg -ceq '--') {
            break
        }
        if ($arg -ceq '--role-arn' -or $arg -ceq '--duration') {
            $flags.Add($arg)
            $value = ''
            if ($i + 1 -lt $MfaArgs.Count) {
                $value = [string]$MfaArgs[$i + 1]
            }
            $flags.Add($value)
            $i++
        } elseif ($arg -clike '--role-arn=*' -or $arg -clike '--duration=*') {
            $flags.Add($arg)
        }
    }
    $global:__mfa_renew_flags = $flags.ToArray()
    $global:__mfa_renew_blocked = $false
    __mfa_update
}

function global:__mfa_off {
    if (-not (__mfa_apply @('env', '--unset', '--shell', 'powershell'))) {
        return
    }
    $global:__mfa_renew_flags = [string[]]@()
    $global:__mfa_renew_blocked = $false
    __mfa_update
}

# Returns $true when the session was renewed. $Window is the renewal
# window in seconds.
function global:__mfa_renew {
    param([long]$Window)
    # Blocked before trying: Ctrl-C stops this function short, and a
    # stopped renewal must not ask again at every prompt.
    $global:__mfa_renew_blocked = $true
    # The profile after '--': a name like `-h` is a value, not an option.
    [object[]]$envArgs = @('env', '--shell', 'powershell') + @($global:__mfa_renew_flags) + @('--', $env:MFA_PROFILE)
    # A cached session inside the window would come back unchanged.
    $savedMinTtl = $env:MFA_MIN_TTL
    $minTtl = __mfa_seconds $env:MFA_MIN_TTL
    if ($null -eq $minTtl) {
        $minTtl = 300
    }
    if ($minTtl -lt $Window + 60) {
        $env:MFA_MIN_TTL = [string]($Window + 60)
    }
    try {
        if (-not (__mfa_apply $envArgs)) {
            return $false
        }
    } catch {
        return $false
    } finally {
        $env:MFA_MIN_TTL = $savedMinTtl
    }
    $global:__mfa_renew_blocked = $false
    return $true
}

# A whole number of seconds from digits only, else $null.
function global:__mfa_seconds {
    param([string]$Text)
    $number = [long]0
    if ($Text -cmatch '\A[0-9]+\z' -and [long]::TryParse($Text, [ref]$number)) {
        return $number
    }
    return $null
}

# Sets $global:MFA_PROMPT and the segment's colour from the environment.
function global:__mfa_update {
    $global:MFA_PROMPT = ''
    $global:__mfa_colour = ''
    $expires = __mfa_seconds $env:MFA_EXPIRES_AT
    if (-not $env:MFA_PROFILE -or $null -eq $expires) {
        return
    }
    $renew = __mfa_seconds $env:MFA_RENEW_SECONDS
    if ($null -eq $renew) {
        $renew = 0
    }
    $warn = __mfa_seconds $env:MFA_WARN_SECONDS
    if ($null -eq $warn) {
        $warn = 600
    }
    $left = $expires - [DateTimeOffset]::UtcNow.ToUnixTimeSeconds()
    if ($left -le $renew -and $env:MFA_AUTO_RENEW -cne '0' -and -not $global:__mfa_renew_blocked) {
        $global:MFA_PROMPT = $env:MFA_PROFILE + ' expired'
        if (__mfa_renew $renew) {
            $expires = __mfa_seconds $env:MFA_EXPIRES_AT
            if ($null -ne $expires) {
                $left = $expires - [DateTimeOffset]::UtcNow.ToUnixTimeSeconds()
            }
            # Sessions no longer than the window: renewing again would not help.
            if ($left -le $renew) {
                $global:__mfa_renew_blocked = $true
            }
        }
    }
    if ($left -le 0) {
        $text = 'expired'
        $colour = 'Red'
    } elseif ($left -lt 60) {
        $text = [string]$left + 's'
        $colour = 'Green'
    } elseif ($left -lt 3600) {
        $text = [string][long][Math]::Floor($left / 60) + 'm'
        $colour = 'Green'
    } else {
        $hours = [long][Math]::Floor($left / 3600)
        $minutes = [long][Math]::Floor(($left % 3600) / 60)
        $text = [string]$hours + 'h' + $minutes.ToString('00') + 'm'
        $colour = 'Green'
    }
    if ($left -gt 0 -and $left -le $warn) {
        $text += '!'
        $colour = 'Yellow'
    }
    $global:MFA_PROMPT = $env:MFA_PROFILE + ' ' + $text
    $global:__mfa_colour = $colour
}

# State survives a second import; the prompt is wrapped only once.
if (-not (Get-Variable -Name __mfa_renew_flags -Scope Global -ErrorAction Ignore)) {
    $global:__mfa_renew_flags = [string[]]@()
}
if (-not (Get-Variable -Name __mfa_renew_blocked -Scope Global -ErrorAction Ignore)) {
    $global:__mfa_renew_blocked = $false
}
if (-not (Get-Variable -Name __mfa_prompt_wrapped -Scope Global -ErrorAction Ignore)) {
    $global:__mfa_prompt_wrapped = $true
    $global:__mfa_user_prompt = $function:prompt

    function global:prompt {
        # First, before any statement changes them.
        $mfaSucceeded = $?
        $mfaExitCode = Get-Variable -Name LASTEXITCODE -Scope Global -ValueOnly -ErrorAction Ignore
        try {
            __mfa_update
            if ($global:__mfa_show_prompt -ne 0 -and $global:MFA_PROMPT) {
                $segment = '(' + $global:MFA_PROMPT + ') '
                if ($env:NO_COLOR) {
                    Write-Host -NoNewline -Object $segment
                } else {
                    Write-Host -NoNewline -ForegroundColor $global:__mfa_colour -Object $segment
                }
            }
        } catch {
            # Whatever failed, the prompt is still drawn.
        } finally {
            # Renewal ran the binary; the user's prompt sees the user's code.
            $global:LASTEXITCODE = $mfaExitCode
        }
        $userPrompt = $global:__mfa_user_prompt
        if ($null -eq $userPrompt) {
            $userPrompt = { 'PS ' + $executionContext.SessionState.Path.CurrentLocation + ('>' * ($nestedPromptLevel + 1)) + ' ' }
        }
        # $? cannot be assigned: a failing command right before the call is
        # what hands `False` on.
        if (-not $mfaSucceeded) {
            Write-Error -Message '' -ErrorAction Ignore
        }
        & $userPrompt
    }
}

__mfa_update
