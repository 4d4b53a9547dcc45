# mfa completion for bash: `eval "$(mfa completions bash)"`, or this file in
# /usr/share/bash-completion/completions/mfa. The binary quotes each reply.
_clap_complete_mfa() {
    local IFS=$'\013' globbing=1 spacing=
    [[ $- == *f* ]] && globbing=
    # Readline appends a space unless the reply ends in = / : (bash 4+).
    compopt +o nospace 2>/dev/null && spacing=1
    set -f
    # Split on \v alone with globbing off: mapfile is ~25 ms slower over
    # 5,000 replies.
    # shellcheck disable=SC2207
    COMPREPLY=($(
        _MFA_COMPLETE_LINE="${COMP_LINE:0:COMP_POINT}" \
        _MFA_COMPLETE_WORD="$2" \
        COMPLETE=bash 'mfa' -- 'mfa'
    ))
    local status=$?
    [[ $globbing ]] && set +f
    if ((status != 0)); then
        COMPREPLY=()
    elif [[ $spacing && ${#COMPREPLY[@]} == 1 && ${COMPREPLY[0]} == *[=/:] ]]; then
        compopt -o nospace
    fi
}
if ((BASH_VERSINFO[0] > 4 || BASH_VERSINFO[0] == 4 && BASH_VERSINFO[1] >= 4)); then
    complete -o nospace -o bashdefault -o nosort -F _clap_complete_mfa 'mfa'
else
    complete -o nospace -o bashdefault -F _clap_complete_mfa 'mfa'
fi
