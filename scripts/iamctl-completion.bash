# bash completion for iamctl: command names, each command's flags, and the
# values of a few flags. The names and flags come from iamctl itself
# (`iamctl __complete [COMMAND]`), so they always match the installed binary.
# Installed by `make install` into bash-completion's completions directory;
# to try it by hand: source scripts/iamctl-completion.bash

_iamctl() {
    local cur=${COMP_WORDS[COMP_CWORD]}
    local prev=""
    ((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
    local command="" i
    for ((i = 1; i < COMP_CWORD; i++)); do
        case ${COMP_WORDS[i]} in
        --output | --cacert | --timeout) ((i++)) ;;
        -*) ;;
        *)
            command=${COMP_WORDS[i]}
            break
            ;;
        esac
    done
    case $prev in
    --output)
        mapfile -t COMPREPLY < <(compgen -W "table json" -- "$cur")
        return
        ;;
    --outcome)
        mapfile -t COMPREPLY < <(compgen -W "success failure pending" -- "$cur")
        return
        ;;
    --duration)
        mapfile -t COMPREPLY < <(compgen -W "24h 168h 720h 2160h 8760h" -- "$cur")
        return
        ;;
    --file | --cacert)
        mapfile -t COMPREPLY < <(compgen -f -- "$cur")
        return
        ;;
    --apikey)
        # @FILE reads a downloaded key file.
        if [[ $cur == @* ]]; then
            mapfile -t COMPREPLY < <(compgen -f -P @ -- "${cur#@}")
        fi
        return
        ;;
    esac
    if [[ -z $command || $command == help ]]; then
        if [[ $cur == -* ]]; then
            mapfile -t COMPREPLY < <(compgen -W "$(iamctl __complete _ 2>/dev/null)" -- "$cur")
        elif [[ -z $command || $COMP_CWORD -eq $((i + 1)) ]]; then
            mapfile -t COMPREPLY < <(compgen -W "$(iamctl __complete 2>/dev/null)" -- "$cur")
        fi
        return
    fi
    if [[ $cur == -* ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$(iamctl __complete "$command" 2>/dev/null)" -- "$cur")
    fi
}

complete -o default -F _iamctl iamctl
