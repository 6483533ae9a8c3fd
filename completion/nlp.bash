# nlp.bash - bash completion for nlp: command and task names, each one's
# options, the values of options whose metavar lists them (A|B|C), and file
# or folder names where an option or argument takes one.  All of it is read
# from the --help of the nlp being completed, so plugin tasks and new
# options appear by themselves.  Installed as "nlp" in bash-completion's
# completions folder; it works as well when sourced on its own.

# _nlp_run NLP [ARG...]: NLP's output, without plugin warnings
_nlp_run() {
    "$@" 2>/dev/null
}

# _nlp_names NLP: the command and task names listed by `nlp --help`
# (indented words under "Commands:" and "Tasks ...:")
_nlp_names() {
    _nlp_run "$1" --help | awk '
        /^Commands:$/ || /^Tasks.*:$/ { k = 1; next }
        /^[^ ]/ || /^ *$/ { k = 0; next }
        k && /^  [^ -]/ { print $1 }'
}

# _nlp_parse: read a --help text on stdin and print what completion needs:
#   o NAME [META]   an option line: indented 1 to 8 spaces, an optional
#                   "-x, ", --name, an optional metavar, then two or more
#                   spaces and the description (one space after a metavar
#                   with a '|' or without lower-case letters)
#   u NAME META     "--name META" in the usage lines
#   p WORD          an argument in the usage lines: a word to type as it
#                   is ("rm") or an upper-case placeholder (IN_DIR, FILE)
_nlp_parse() {
    awk '
    function indent(s) { match(s, /^ */); return RLENGTH }
    function usage(s,    n, w, i, t) {
        sub(/^usage:/, "", s)
        if (!sub(/^ *nlp +[^ ]+/, "", s)) sub(/^ */, "", s)
        n = split(s, w, / +/)
        for (i = 1; i <= n; i++) {
            t = w[i]
            if (t ~ /^\(/) break
            sub(/^\[+/, "", t)
            if (t ~ /^--/) {
                if (t ~ /\]$/ || i == n) continue
                sub(/\]+$/, "", t)
                if (w[i + 1] ~ /^[^-[(]/) { m = w[++i]; sub(/\]+$/, "", m); print "u", t, m }
                continue
            }
            if (t ~ /^-/) continue
            gsub(/[][]|\.\.\./, "", t)
            # an optional lower-case word is a placeholder ("[options]")
            if (t != "" && !(w[i] ~ /^\[/ && t !~ /[A-Z]/)) print "p", t
        }
    }
    NR == 1 && /^usage: / { u = 1; usage($0); next }
    u && /^ / { usage($0); next }
    { u = 0 }
    {
        n = indent($0)
        if (n < 1 || n > 8) next
        rest = substr($0, n + 1)
        if (match(rest, /^-[A-Za-z0-9?](, *| *$|  )/)) {
            print "o", substr(rest, 1, 2)
            rest = substr(rest, RLENGTH + 1)
        }
        if (!match(rest, /^--[A-Za-z0-9][A-Za-z0-9_-]*/)) next
        name = substr(rest, 1, RLENGTH)
        rest = substr(rest, RLENGTH + 1)
        meta = ""
        if (rest ~ /^=/ || rest ~ /^ [^ ]/) {
            t = substr(rest, 2)
            match(t, /^[^ ]+/)
            meta = substr(t, 1, RLENGTH)
            t = substr(t, RLENGTH + 1)
            if (t ~ /^ [^ ]/ && meta !~ /\|/ && meta ~ /[a-z]/) meta = ""
        }
        print "o", name, meta
    }'
}

# _nlp_values OPTION METAVAR CUR: the values offered after OPTION
_nlp_values() {
    local opt=$1 meta=$2 cur=$3 alt words= files=
    local IFS='|'
    for alt in $meta; do
        if [[ $alt != *[A-Z]* ]]; then
            words+=" $alt"
        elif [[ $alt == *FILE* || $alt == *PATH* || $alt == *.[a-z]* ]]; then
            files=f
        elif [[ $alt == *DIR* && $files != f ]]; then
            files=d
        fi
    done
    IFS=$' \t\n'
    case $opt in
        --input | --output | --errors) files=f ;;
        --model | --plugin-dir | --cache-dir) [[ $files ]] || files=d ;;
    esac
    [[ $words ]] && COMPREPLY+=($(compgen -W "$words" -- "$cur"))
    if [[ $files ]]; then
        local IFS=$'\n'
        COMPREPLY+=($(compgen -"$files" -- "$cur"))
        compopt -o filenames 2>/dev/null
    fi
    return 0
}

_nlp() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev= nlp=${COMP_WORDS[0]}
    local cmd= at=0 i opt= lead= table
    ((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
    COMPREPLY=()
    [[ $nlp == "~/"* ]] && nlp=$HOME/${nlp#"~/"}
    type -P -- "$nlp" >/dev/null 2>&1 || nlp=nlp

    # the command or task: the first word that is not an option
    for ((i = 1; i < COMP_CWORD; i++)); do
        if [[ ${COMP_WORDS[i]} != -* ]]; then
            cmd=${COMP_WORDS[i]} at=$i
            break
        fi
    done
    if [[ -z $cmd ]]; then
        if [[ $cur == -* ]]; then
            COMPREPLY=($(compgen -W "$(_nlp_run "$nlp" --help | _nlp_parse |
                awk '$1 == "o" { print $2 }')" -- "$cur"))
        else
            COMPREPLY=($(compgen -W "$(_nlp_names "$nlp") help" -- "$cur"))
        fi
        return 0
    fi
    if [[ $cmd == help ]]; then
        ((COMP_CWORD == at + 1)) &&
            COMPREPLY=($(compgen -W "$(_nlp_names "$nlp")" -- "$cur"))
        return 0
    fi

    table=$(_nlp_run "$nlp" "$cmd" --help | _nlp_parse)
    [[ $table ]] || return 0

    # the option whose value is being completed: "--opt VALUE", or
    # "--opt=VALUE" (split at '=' by bash, or not)
    if [[ $cur == --*=* ]]; then
        opt=${cur%%=*} lead=${cur%%=*}= cur=${cur#*=}
    elif [[ $cur == = && $prev == -* ]]; then
        opt=$prev cur=
    elif [[ $prev == = && COMP_CWORD -ge 2 ]]; then
        opt=${COMP_WORDS[COMP_CWORD - 2]}
    elif [[ $prev == -* ]]; then
        opt=$prev
    fi
    if [[ $opt ]]; then
        local meta enum
        meta=$(awk -v o="$opt" '$1 == "o" && $2 == o { print $3; exit }' <<<"$table")
        if [[ $meta ]]; then
            # a metavar without choices may have them in the usage lines
            if [[ $meta != *'|'* ]]; then
                enum=$(awk -v o="$opt" '$1 == "u" && $2 == o && $3 ~ /\|/ { print $3; exit }' <<<"$table")
                [[ $enum ]] && meta=$enum
            fi
            _nlp_values "$opt" "$meta" "$cur"
            if [[ $lead ]]; then
                for i in "${!COMPREPLY[@]}"; do COMPREPLY[i]=$lead${COMPREPLY[i]}; done
            fi
            return 0
        fi
    fi

    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$(awk '$1 == "o" { print $2 }' <<<"$table")" -- "$cur"))
        return 0
    fi

    # arguments named in the usage: words such as "rm" right after the
    # command, folders or files for DIR and FILE placeholders
    local words= files= w
    for w in $(awk '$1 == "p" { print $2 }' <<<"$table"); do
        if [[ $w != *[A-Z]* ]]; then
            ((COMP_CWORD == at + 1)) && words+=" $w"
        elif [[ $w == *FILE* ]]; then
            files=f
        elif [[ $w == *DIR* && $files != f ]]; then
            files=d
        fi
    done
    [[ $words ]] && COMPREPLY+=($(compgen -W "$words" -- "$cur"))
    if [[ $files ]]; then
        local IFS=$'\n'
        COMPREPLY+=($(compgen -"$files" -- "$cur"))
        compopt -o filenames 2>/dev/null
    fi
    return 0
}

complete -F _nlp nlp
