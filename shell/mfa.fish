# mfa shell integration for fish 3: `mfa init fish | source` in
# ~/.config/fish/config.fish
#
# - `mfa use PROFILE [flags]` sets a session in this shell, `mfa off` removes
#   it; every other subcommand goes to the binary.
# - Before each prompt (the fish_prompt event), MFA_PROMPT holds `prod 42m`
#   (`prod 8m!` inside MFA_WARN_SECONDS, `prod expired` after), shown at the
#   start of fish_prompt, which wraps the prompt that was there (kept as
#   __mfa_user_fish_prompt; a prompt defined later is wrapped at the next
#   prompt).
# - When the session ends (or is within MFA_RENEW_SECONDS of it), the hook
#   renews it in place before the prompt: silently while the cached MFA
#   session lasts, else by asking for a code. Ctrl-C or a failure leaves
#   `expired` and does not ask again until the next `mfa use`.
#   MFA_AUTO_RENEW=0 turns renewal off.
# - fish has no clock of its own: with a session the hook starts one
#   process (`date +%s`), without one none; everything else is builtins.

# `mfa doctor` runs in a child process, which cannot see this shell's
# functions: the hook's `mfa` tells it that the hook is loaded here
# (MFA_SHELL_HOOK, given to that one command: exported, a child shell
# without the hook would inherit it) and whether completion is
# (MFA_COMPLETION_LOADED).
function __mfa_doctor
    set -l loaded 0
    complete -c mfa | string length -q; and set loaded 1
    # A completion file fish loads at the first TAB counts as loaded.
    for dir in $fish_complete_path
        test -f $dir/mfa.fish; and set loaded 1
    end
    MFA_SHELL_HOOK=fish MFA_COMPLETION_LOADED=$loaded command $__mfa_bin doctor $argv
end

set -g __mfa_bin __MFA_BIN__
set -g __mfa_show_prompt __MFA_SHOW_PROMPT__

function mfa --description 'mfa: `mfa use PROFILE` and `mfa off` in this shell, the rest to the binary'
    # `use` and `off` change this shell; their help is text, not a script,
    # so it goes to the binary with everything else. After `--` every word
    # is a value: a profile may be named `-h`.
    set -l options $argv
    if set -l end (contains -i -- -- $argv)
        set options $argv[1..$end]
        set -e options[-1]
    end
    if not contains -- -h $options; and not contains -- --help $options
        switch "$argv[1]"
            case use
                set -e argv[1]
                __mfa_use $argv
                return
            case off
                __mfa_off
                return
            case doctor
                set -e argv[1]
                __mfa_doctor $argv
                return
        end
    end
    __mfa_found
    or return
    command $__mfa_bin $argv
end

# A binary that has gone (uninstalled, moved) gets one line, not fish's
# trace of the call.
function __mfa_found
    command -q $__mfa_bin
    and return 0
    printf 'mfa: %s is not there any more; install mfa again and run `mfa init fish | source`\n' "$__mfa_bin" >&2
    return 127
end

function __mfa_use
    __mfa_found
    or return
    # Sourced only when the binary succeeds (it prints nothing on failure).
    set -l script (command $__mfa_bin env --shell fish $argv)
    or return
    string join \n -- $script | source
    # Renewal repeats what shapes the session, never a one-time code.
    set -g __mfa_renew_flags
    set -l take 0
    for arg in $argv
        if test $take = 1
            set -a __mfa_renew_flags $arg
            set take 0
            continue
        end
        switch $arg
            case --
                break
            case --role-arn --duration
                set -a __mfa_renew_flags $arg
                set take 1
            case '--role-arn=*' '--duration=*'
                set -a __mfa_renew_flags $arg
        end
    end
    set -g __mfa_renew_blocked ''
    __mfa_update
end

function __mfa_off
    __mfa_found
    or return
    set -l script (command $__mfa_bin env --unset --shell fish)
    or return
    string join \n -- $script | source
    set -g __mfa_renew_flags
    set -g __mfa_renew_blocked ''
    __mfa_update
end

# Renews the session; $argv[1] is the renewal window in seconds.
function __mfa_renew
    # Blocked before trying: Ctrl-C cuts this function short, and a cut-short
    # renewal must not ask again at every prompt.
    set -g __mfa_renew_blocked 1
    __mfa_found
    or return 1
    set -l min_ttl 300
    string match -qr '^[0-9]{1,18}$' -- "$MFA_MIN_TTL"
    and set min_ttl $MFA_MIN_TTL
    # A cached session inside the window would come back unchanged.
    if test $min_ttl -lt (math $argv[1] + 60)
        set min_ttl (math $argv[1] + 60)
    end
    set -l script (MFA_MIN_TTL=$min_ttl command $__mfa_bin env --shell fish $__mfa_renew_flags -- "$MFA_PROFILE")
    or return 1
    string join \n -- $script | source
    set -g __mfa_renew_blocked ''
    # Said outright: `set` keeps the status before it, and the sourced
    # script ends with `set -e` of variables that may not be there (status 4).
    return 0
end

# Prints the seconds the session has left; fails without a session. The one
# process of a prompt: `date`.
function __mfa_seconds_left
    test -n "$MFA_PROFILE"
    and string match -qr '^[0-9]+$' -- "$MFA_EXPIRES_AT"
    or return 1
    set -l expires (string replace -r '^0+(?=[0-9])' '' -- "$MFA_EXPIRES_AT")
    # math counts in doubles: exact to 15 digits, far beyond any real expiry.
    test (string length -- "$expires") -le 15
    or return 1
    set -l now (command date +%s 2>/dev/null)
    and string match -qr '^[0-9]+$' -- "$now"
    or return 1
    math "$expires - $now"
end

# Sets MFA_PROMPT and the segment's colour from the environment, renewing
# the session first when it is due.
function __mfa_update
    set -e -g MFA_PROMPT
    set -g __mfa_segment_colour normal
    set -l left (__mfa_seconds_left)
    or return 0
    set -l renew 0
    string match -qr '^[0-9]{1,18}$' -- "$MFA_RENEW_SECONDS"
    and set renew $MFA_RENEW_SECONDS
    # As `mfa prompt` reads it: an integer, spaces around allowed.
    set -l warn 600
    set -l given (string trim -- "$MFA_WARN_SECONDS")
    string match -qr '^[+-]?[0-9]{1,18}$' -- "$given"
    and set warn (string replace -r '^\+' '' -- "$given")
    if test $left -le $renew; and test "$MFA_AUTO_RENEW" != 0; and test -z "$__mfa_renew_blocked"
        set -gx MFA_PROMPT "$MFA_PROFILE expired"
        set -g __mfa_segment_colour red
        if __mfa_renew $renew
            set -e -g MFA_PROMPT
            set -g __mfa_segment_colour normal
            set left (__mfa_seconds_left)
            or return 0
            # Sessions no longer than the window: renewing again would not help.
            test $left -le $renew
            and set -g __mfa_renew_blocked 1
        end
    end
    set -l text
    set -l colour green
    if test $left -le 0
        set text expired
        set colour red
    else if test $left -lt 60
        set text "$left"s
    else if test $left -lt 3600
        set text (math "floor($left / 60)")m
    else
        set text (printf '%dh%02dm' (math "floor($left / 3600)") (math "floor($left % 3600 / 60)"))
    end
    if test $left -gt 0 -a $left -le $warn
        set text "$text!"
        set colour yellow
    end
    set -gx MFA_PROMPT "$MFA_PROFILE $text"
    set -g __mfa_segment_colour $colour
    return 0
end

function __mfa_print_segment
    test "$__mfa_show_prompt" = 1 -a -n "$MFA_PROMPT"
    or return 0
    if test -n "$NO_COLOR"; or not set -q TERM; or test "$TERM" = dumb
        printf '(%s) ' "$MFA_PROMPT"
    else
        set_color $__mfa_segment_colour
        printf '(%s)' "$MFA_PROMPT"
        set_color normal
        printf ' '
    end
end

# Returns its argument: gives the wrapped prompt the `$status` it would
# have seen.
function __mfa_return
    return $argv[1]
end

# Makes fish_prompt show the segment, then the prompt it replaces. Ours is
# known by its body (it calls the copy), so it is never wrapped twice, and
# a prompt defined after `mfa init` is wrapped at the next prompt.
function __mfa_wrap_prompt
    test "$__mfa_show_prompt" = 1
    or return 0
    if functions -q fish_prompt
        string match -q '*__mfa_user_fish_prompt*' -- (functions fish_prompt)
        and return 0
        functions -e __mfa_user_fish_prompt
        functions -c fish_prompt __mfa_user_fish_prompt
    else
        # What fish shows when there is no fish_prompt.
        function __mfa_user_fish_prompt
            echo -n "$USER@$hostname $PWD "'> '
        end
    end
    function fish_prompt --description 'mfa: the session segment, then the prompt it wraps'
        set -l saved $status
        __mfa_print_segment
        __mfa_return $saved
        __mfa_user_fish_prompt $argv
    end
    return 0
end

# Redefining a function replaces its event handler: sourcing twice leaves one.
function __mfa_hook --on-event fish_prompt
    set -l saved $status
    __mfa_update
    __mfa_wrap_prompt
    return $saved
end

set -q __mfa_renew_flags
or set -g __mfa_renew_flags
set -q __mfa_renew_blocked
or set -g __mfa_renew_blocked ''
__mfa_wrap_prompt
__mfa_update
