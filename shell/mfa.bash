# shellcheck shell=bash
# mfa shell integration for bash 4.4+: eval "$(mfa init bash)" in ~/.bashrc
#
# - `mfa use PROFILE [flags]` sets a session in this shell, `mfa off` removes
#   it; every other subcommand goes to the binary.
# - Before each prompt, MFA_PROMPT holds `prod 42m` (`prod 8m!` inside
#   MFA_WARN_SECONDS, `prod expired` after), shown at the start of PS1.
# - When the session ends (or is within MFA_RENEW_SECONDS of it), the hook
#   renews it in place before the prompt: silently while the cached MFA
#   session lasts, else by asking for a code. Ctrl-C or a failure leaves
#   `expired` and does not ask again until the next `mfa use`.
#   MFA_AUTO_RENEW=0 turns renewal off.
# - With a valid session the hook starts no process: it compares
#   MFA_EXPIRES_AT with the shell's own clock.

# `mfa doctor` runs in a child process, which cannot see this shell's
# functions: the hook's `mfa` tells it that the hook is loaded here
# (MFA_SHELL_HOOK, given to that one command: exported, a child shell
# without the hook would inherit it) and whether completion is
# (MFA_COMPLETION_LOADED).
__mfa_doctor() {
  local loaded=0
  # bash-completion loads a command's completion at its first TAB: now, here.
  complete -p mfa &>/dev/null || __load_completion mfa &>/dev/null || _comp_load mfa &>/dev/null
  complete -p mfa &>/dev/null && loaded=1
  MFA_SHELL_HOOK=bash MFA_COMPLETION_LOADED=$loaded command "$__mfa_bin" doctor "$@"
}

__mfa_bin=__MFA_BIN__
__mfa_show_prompt=__MFA_SHOW_PROMPT__
# Later than any session ends: the time a prompt with none never changes.
__mfa_never=$((1 << 62))
__mfa_key='' __mfa_next=0

mfa() {
  case "${1-}" in
    use) shift; __mfa_use "$@" ;;
    off) shift; __mfa_off ;;
    doctor) shift; __mfa_doctor "$@" ;;
    *) command "$__mfa_bin" "$@" ;;
  esac
}

__mfa_use() {
  local script arg
  # Help is text to read, not code to run. After `--` every word is a
  # value: a profile may be named `-h`.
  for arg; do
    case "$arg" in
      --) break ;;
      -h | --help) command "$__mfa_bin" env "$@"; return ;;
    esac
  done
  script=$(command "$__mfa_bin" env --shell bash "$@") || return
  eval "$script"
  # Renewal repeats what shapes the session, never a one-time code.
  __mfa_renew_flags=()
  while (($#)); do
    case "$1" in
      --) break ;;
      --role-arn | --duration) __mfa_renew_flags+=("$1" "${2-}"); shift ;;
      --role-arn=* | --duration=*) __mfa_renew_flags+=("$1") ;;
    esac
    shift
  done
  __mfa_renew_blocked=
  __mfa_update
}

__mfa_off() {
  local script
  script=$(command "$__mfa_bin" env --unset --shell bash) || return
  eval "$script"
  __mfa_renew_flags=()
  __mfa_renew_blocked=
  __mfa_update
}

# Renews the session; $1 is the renewal window in seconds.
__mfa_renew() {
  # Blocked before trying: Ctrl-C cuts this function short, and a cut-short
  # renewal must not ask again at every prompt.
  __mfa_renew_blocked=1
  local script min_ttl=300
  [[ -n "${MFA_MIN_TTL-}" && "$MFA_MIN_TTL" != *[!0-9]* ]] && min_ttl=$((10#$MFA_MIN_TTL))
  # A cached session inside the window would come back unchanged.
  ((min_ttl < $1 + 60)) && min_ttl=$(($1 + 60))
  script=$(MFA_MIN_TTL=$min_ttl command "$__mfa_bin" env --shell bash "${__mfa_renew_flags[@]}" -- "$MFA_PROFILE") || return 1
  eval "$script"
  __mfa_renew_blocked=
}

# Seconds since the epoch, without a process: EPOCHSECONDS (bash 5), else
# printf's own clock (bash 4.2+).
__mfa_now() {
  if [[ -n "${EPOCHSECONDS-}" ]]; then
    __mfa_clock=$EPOCHSECONDS
  else
    printf -v __mfa_clock '%(%s)T' -1
  fi
}

# Sets MFA_PROMPT and the coloured PS1 segment for a session with $1
# seconds left.
__mfa_render() {
  local left=$1 text colour=32
  if ((left <= 0)); then
    text=expired colour=31
  elif ((left < 60)); then
    text="${left}s"
  elif ((left < 3600)); then
    text="$((left / 60))m"
  else
    printf -v text '%dh%02dm' $((left / 3600)) $((left % 3600 / 60))
  fi
  if ((left > 0 && left <= __mfa_warn)); then
    text+='!' colour=33
  fi
  # Exported, so that starship's env_var module sees it.
  export MFA_PROMPT="$MFA_PROFILE $text"
  if [[ -n "${NO_COLOR-}" || "${TERM-dumb}" == dumb ]]; then
    __mfa_ps1="($MFA_PROMPT) "
  else
    # \001 and \002 tell readline the colour codes take no room.
    __mfa_ps1=$'\001\e['"${colour}"$'m\002'"($MFA_PROMPT)"$'\001\e[0m\002 '
  fi
}

# Sets MFA_PROMPT and the PS1 segment from the environment, renewing the
# session first when it is due.
__mfa_update() {
  unset MFA_PROMPT
  __mfa_ps1=
  __mfa_next=$__mfa_never
  # Only digits reach arithmetic (bash would evaluate anything else as
  # code), read in base 10 (a leading 0 would mean octal). Globs, not
  # =~: bash compiles a regular expression anew at every use.
  [[ -n "${MFA_PROFILE-}" && -n "${MFA_EXPIRES_AT-}" && "$MFA_EXPIRES_AT" != *[!0-9]* ]] || return 0
  local renew=0 left step
  __mfa_warn=600
  [[ -n "${MFA_RENEW_SECONDS-}" && "$MFA_RENEW_SECONDS" != *[!0-9]* ]] && renew=$((10#$MFA_RENEW_SECONDS))
  [[ -n "${MFA_WARN_SECONDS-}" && "$MFA_WARN_SECONDS" != *[!0-9]* ]] && __mfa_warn=$((10#$MFA_WARN_SECONDS))
  __mfa_now
  left=$((10#$MFA_EXPIRES_AT - __mfa_clock))
  if ((left <= renew)) && [[ "${MFA_AUTO_RENEW-1}" != 0 && -z "${__mfa_renew_blocked-}" ]]; then
    # Shown as expired first: Ctrl-C at the code question ends the hook here.
    __mfa_render 0
    if __mfa_renew "$renew" && [[ -n "${MFA_EXPIRES_AT-}" && "$MFA_EXPIRES_AT" != *[!0-9]* ]]; then
      __mfa_now
      left=$((10#$MFA_EXPIRES_AT - __mfa_clock))
      # Sessions no longer than the window: renewing again would not help.
      ((left <= renew)) && __mfa_renew_blocked=1
    fi
  fi
  __mfa_render "$left"
  # The next second at which the prompt differs: the shown minute (or
  # second) ticks over, the warning starts, renewal is due, or the end.
  if ((left > 0)); then
    step=$((left >= 60 ? left % 60 + 1 : 1))
    ((left > __mfa_warn && left - __mfa_warn < step)) && step=$((left - __mfa_warn))
    ((left > renew && left - renew < step)) && step=$((left - renew))
    __mfa_next=$((__mfa_clock + step))
  fi
}

# Puts the segment at the start of PS1, again if a theme rewrote PS1.
__mfa_ensure_ps1() {
  # The literal text `${__mfa_ps1}`: PS1 expands it at each prompt.
  # shellcheck disable=SC2016
  if [[ "$__mfa_show_prompt" == 1 && "${PS1-}" != *'${__mfa_ps1}'* ]]; then
    PS1='${__mfa_ps1}'"${PS1-}"
  fi
}

__mfa_hook() {
  local status=$? now=${EPOCHSECONDS-}
  [[ -n "$now" ]] || printf -v now '%(%s)T' -1
  # Most prompts end at this test, so it is inline (a function call costs
  # as much as the rest): when nothing the prompt depends on changed and
  # the clock is before its next visible change, the prompt stands.
  local inputs="${MFA_PROFILE-}|${MFA_EXPIRES_AT-}|${MFA_RENEW_SECONDS-}|${MFA_WARN_SECONDS-}|${MFA_AUTO_RENEW-}|${__mfa_renew_blocked-}|${NO_COLOR-}|${TERM-}"
  if [[ "$inputs" != "$__mfa_key" ]] || ((now >= __mfa_next)); then
    # A renewal changes the inputs: the next prompt computes again.
    __mfa_update
    __mfa_key=$inputs
  fi
  # shellcheck disable=SC2016 # the literal text, as in __mfa_ensure_ps1
  [[ "$__mfa_show_prompt" == 1 && "${PS1-}" != *'${__mfa_ps1}'* ]] && __mfa_ensure_ps1
  return "$status"
}

# Install once, first in PROMPT_COMMAND (a string or, in bash 5.1+, an
# array), so the user's own prompt commands still see `$?`.
if [[ "$(declare -p PROMPT_COMMAND 2>/dev/null)" == "declare -a"* ]]; then
  if [[ " ${PROMPT_COMMAND[*]} " != *" __mfa_hook "* ]]; then
    PROMPT_COMMAND=(__mfa_hook "${PROMPT_COMMAND[@]}")
  fi
elif [[ ";${PROMPT_COMMAND-};" != *";__mfa_hook;"* ]]; then
  # shellcheck disable=SC2128,SC2178 # here PROMPT_COMMAND is a string
  PROMPT_COMMAND="__mfa_hook${PROMPT_COMMAND:+;$PROMPT_COMMAND}"
fi
declare -p __mfa_renew_flags >/dev/null 2>&1 || __mfa_renew_flags=()
__mfa_update
__mfa_ensure_ps1
