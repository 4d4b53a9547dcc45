# mfa shell integration for zsh 5: eval "$(mfa init zsh)" in ~/.zshrc
#
# - `mfa use PROFILE [flags]` sets a session in this shell, `mfa off` removes
#   it; every other subcommand goes to the binary.
# - Before each prompt (precmd), MFA_PROMPT holds `prod 42m` (`prod 8m!`
#   inside MFA_WARN_SECONDS, `prod expired` after), shown at the start of
#   PROMPT (this sets the prompt_subst option).
# - When the session ends (or is within MFA_RENEW_SECONDS of it), the hook
#   renews it in place before the prompt: silently while the cached MFA
#   session lasts, else by asking for a code. Ctrl-C or a failure leaves
#   `expired` and does not ask again until the next `mfa use`.
#   MFA_AUTO_RENEW=0 turns renewal off.
# - With a valid session the hook starts no process: it compares
#   MFA_EXPIRES_AT with EPOCHSECONDS (zsh/datetime).

# `mfa doctor` runs in a child process, which cannot see this shell's
# functions: the hook's `mfa` tells it that the hook is loaded here
# (MFA_SHELL_HOOK, given to that one command: exported, a child shell
# without the hook would inherit it) and whether completion is
# (MFA_COMPLETION_LOADED).
__mfa_doctor() {
  local loaded=0
  (( ${+_comps[mfa]} )) && loaded=1
  MFA_SHELL_HOOK=zsh MFA_COMPLETION_LOADED=$loaded command "$__mfa_bin" doctor "$@"
}

typeset -g __mfa_bin=__MFA_BIN__
typeset -g __mfa_show_prompt=__MFA_SHOW_PROMPT__
zmodload -F zsh/datetime p:EPOCHSECONDS 2>/dev/null
# Later than any session ends: the time a prompt with none never changes.
typeset -g __mfa_never=$(( 1 << 62 ))
typeset -g __mfa_key= __mfa_next=0

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
      -h|--help) command "$__mfa_bin" env "$@"; return ;;
    esac
  done
  script=$(command "$__mfa_bin" env --shell zsh "$@") || return
  eval "$script"
  # Renewal repeats what shapes the session, never a one-time code.
  typeset -ga __mfa_renew_flags=()
  while (($#)); do
    case "$1" in
      --) break ;;
      --role-arn|--duration) __mfa_renew_flags+=("$1" "${2-}"); shift ;;
      --role-arn=*|--duration=*) __mfa_renew_flags+=("$1") ;;
    esac
    shift
  done
  typeset -g __mfa_renew_blocked=
  __mfa_update
}

__mfa_off() {
  local script
  script=$(command "$__mfa_bin" env --unset --shell zsh) || return
  eval "$script"
  typeset -ga __mfa_renew_flags=()
  typeset -g __mfa_renew_blocked=
  __mfa_update
}

# Renews the session; $1 is the renewal window in seconds.
__mfa_renew() {
  # Blocked before trying: Ctrl-C cuts this function short, and a cut-short
  # renewal must not ask again at every prompt.
  typeset -g __mfa_renew_blocked=1
  local script min_ttl=300
  [[ "${MFA_MIN_TTL-}" == <-> ]] && min_ttl=$MFA_MIN_TTL
  # A cached session inside the window would come back unchanged.
  (( min_ttl < $1 + 60 )) && min_ttl=$(( $1 + 60 ))
  script=$(MFA_MIN_TTL=$min_ttl command "$__mfa_bin" env --shell zsh "${__mfa_renew_flags[@]}" -- "$MFA_PROFILE") || return 1
  eval "$script"
  typeset -g __mfa_renew_blocked=
}

# Sets MFA_PROMPT and the prompt segment for a session with $1 seconds left.
__mfa_render() {
  local left=$1 text colour minutes
  if (( left <= 0 )); then
    text=expired colour=red
  elif (( left < 60 )); then
    text="${left}s" colour=green
  elif (( left < 3600 )); then
    text="$(( left / 60 ))m" colour=green
  else
    minutes=$(( left % 3600 / 60 ))
    text="$(( left / 3600 ))h${(l:2::0:)minutes}m" colour=green
  fi
  if (( left > 0 && left <= __mfa_warn )); then
    text+='!' colour=yellow
  fi
  # Exported, so that starship's env_var module sees it.
  typeset -gx MFA_PROMPT="$MFA_PROFILE $text"
  # Prompt expansion reads `%` in what it substitutes: profile names may hold one.
  local shown="(${MFA_PROMPT//\%/%%}) "
  if [[ -n "${NO_COLOR-}" || "${TERM-dumb}" == dumb ]]; then
    __mfa_ps1=$shown
  else
    __mfa_ps1="%F{$colour}$shown%f"
  fi
}

# Sets MFA_PROMPT and the prompt segment from the environment, renewing
# the session first when it is due.
__mfa_update() {
  unset MFA_PROMPT
  typeset -g __mfa_ps1=
  typeset -g __mfa_next=$__mfa_never
  # Only digits reach arithmetic: zsh would evaluate anything else as code.
  [[ -n "${MFA_PROFILE-}" && "${MFA_EXPIRES_AT-}" == <-> ]] || return 0
  local renew=0 left step now=$EPOCHSECONDS
  typeset -g __mfa_warn=600
  [[ "${MFA_RENEW_SECONDS-}" == <-> ]] && renew=$MFA_RENEW_SECONDS
  [[ "${MFA_WARN_SECONDS-}" == <-> ]] && __mfa_warn=$MFA_WARN_SECONDS
  left=$(( MFA_EXPIRES_AT - now ))
  if (( left <= renew )) && [[ "${MFA_AUTO_RENEW-1}" != 0 && -z "${__mfa_renew_blocked-}" ]]; then
    # Shown as expired first: Ctrl-C at the code question ends the hook here.
    __mfa_render 0
    if __mfa_renew $renew && [[ "${MFA_EXPIRES_AT-}" == <-> ]]; then
      now=$EPOCHSECONDS
      left=$(( MFA_EXPIRES_AT - now ))
      # Sessions no longer than the window: renewing again would not help.
      (( left <= renew )) && typeset -g __mfa_renew_blocked=1
    fi
  fi
  __mfa_render $left
  # The next second at which the prompt differs: the shown minute (or
  # second) ticks over, the warning starts, renewal is due, or the end.
  if (( left > 0 )); then
    step=$(( left >= 60 ? left % 60 + 1 : 1 ))
    (( left > __mfa_warn && left - __mfa_warn < step )) && step=$(( left - __mfa_warn ))
    (( left > renew && left - renew < step )) && step=$(( left - renew ))
    __mfa_next=$(( now + step ))
  fi
}

# Puts the segment at the start of PROMPT, again if a theme rewrote it.
__mfa_ensure_prompt() {
  if [[ "$__mfa_show_prompt" == 1 && "$PROMPT" != *'${__mfa_ps1}'* ]]; then
    PROMPT='${__mfa_ps1}'"$PROMPT"
  fi
}

__mfa_hook() {
  local exit_status=$?
  # Most prompts end at this test, so it is inline (a function call costs
  # as much as the rest): when nothing the prompt depends on changed and
  # the clock is before its next visible change, the prompt stands.
  local inputs="${MFA_PROFILE-}|${MFA_EXPIRES_AT-}|${MFA_RENEW_SECONDS-}|${MFA_WARN_SECONDS-}|${MFA_AUTO_RENEW-}|${__mfa_renew_blocked-}|${NO_COLOR-}|${TERM-}"
  if [[ "$inputs" != "$__mfa_key" ]] || (( EPOCHSECONDS >= __mfa_next )); then
    # A renewal changes the inputs: the next prompt computes again.
    __mfa_update
    typeset -g __mfa_key=$inputs
  fi
  [[ "$__mfa_show_prompt" == 1 && "$PROMPT" != *'${__mfa_ps1}'* ]] && __mfa_ensure_prompt
  return $exit_status
}

# Install once, first among the precmd functions, so theirs still see `$?`.
typeset -ga precmd_functions
precmd_functions=(__mfa_hook ${precmd_functions:#__mfa_hook})
[[ "$__mfa_show_prompt" == 1 ]] && setopt prompt_subst
(( ${+__mfa_renew_flags} )) || typeset -ga __mfa_renew_flags=()
__mfa_update
__mfa_ensure_prompt
