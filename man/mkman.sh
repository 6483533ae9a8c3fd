#!/bin/sh
# mkman.sh - write the nlp(1) manual page (troff, man macros) to stdout,
# made from the --help output of a built nlp: `nlp --help`, then
# `nlp NAME --help` for every command and task that it lists, so the page
# says what the binary says.  Only ENVIRONMENT, EXIT STATUS, FILES and SEE
# ALSO are written here.
#
# Usage: man/mkman.sh NLP PLUGIN_DIR
#   NLP         the nlp to ask (the build tree's cli/nlp)
#   PLUGIN_DIR  the installed plugin folder, named under FILES
# SOURCE_DATE_EPOCH, when set, gives the page's date (else today).
#
# What is read from a --help text (see parse() below):
#   usage: nlp ...          the usage, with indented lines continuing it
#   Heading:                a line of its own ending in ':' opens a group
#   -x, --name META  text   an option: indented 1 to 8 spaces, optional
#                           short form, --name, an optional metavar, then
#                           two or more spaces and the description (one
#                           space is enough after a metavar that has a '|'
#                           or no lower-case letter); lines indented deeper
#                           continue the description
#   name  text              under Commands: and Tasks ...: in nlp --help
#   anything else           running text, paragraphs split by blank lines;
#                           a line starting with a capital letter after a
#                           line ending in '.' or ':', or after a line
#                           "Label: value", starts a new line
set -eu
[ $# -eq 2 ] || { echo "usage: $0 NLP PLUGIN_DIR" >&2; exit 2; }
nlp=$1
plugindir=$2
LC_ALL=C
export LC_ALL
# only the plugins that come with this nlp
unset NLP_PLUGIN_PATH

tmp=$(mktemp -d "${TMPDIR:-/tmp}/nlp_mkman.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

"$nlp" --help >"$tmp/top"
# the installed folder of built-in models, as nlp models --help names it
modelsdir=$("$nlp" models --help | sed -n 's/.*installed model folder (\([^)]*\)).*/\1/p')
version=$("$nlp" --version | sed -n '1s/^nlp //p')
if [ -n "${SOURCE_DATE_EPOCH:-}" ]; then
    date=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%d 2>/dev/null ||
        date -u -r "$SOURCE_DATE_EPOCH" +%Y-%m-%d)
else
    date=$(date -u +%Y-%m-%d)
fi

# parse() turns one --help text into troff.  WANT picks what is written:
# "synopsis" (the usage lines), "name" (the first line of description),
# "text" (running text), "options", or "all" (usage, text, groups and
# options, for a command's own section).
parse() {
    awk -v want="$1" '
    function esc(s) {
        gsub(/\\/, "\\e", s)
        gsub(/-/, "\\-", s)
        return guard(s)
    }
    # a line must not start with a control character
    function guard(s) { return s ~ /^[.\047]/ ? "\\&" s : s }
    # running text: escaped, in lines of at most 78 bytes
    function fill(s,    w, n, i, line, out) {
        n = split(esc(s), w, / +/)
        line = ""; out = ""
        for (i = 1; i <= n; i++) {
            if (line != "" && length(line) + 1 + length(w[i]) > 78) {
                out = out guard(line) "\n"; line = w[i]
            } else {
                line = line == "" ? w[i] : line " " w[i]
            }
        }
        return out guard(line)
    }
    function trim(s) { sub(/^ +/, "", s); sub(/ +$/, "", s); return s }
    function indent(s) { match(s, /^ */); return RLENGTH }
    # no paragraph macro right after the section heading
    function emit(kind, s) {
        if (want != kind && (want != "all" || kind == "name")) return
        if (s == ".PP" && !started) return
        print s; started = 1
    }
    # a metavar written with one space before the description
    function tight_metavar(t) { return t ~ /\|/ || t !~ /[a-z]/ }
    # an option line: sets o_short, o_long, o_meta, o_desc
    function option(line,    rest, t, n) {
        n = indent(line)
        if (n < 1 || n > 8) return 0
        rest = substr(line, n + 1)
        o_short = ""
        if (match(rest, /^-[A-Za-z0-9?](, *| *$|  )/)) {
            o_short = substr(rest, 1, 2)
            rest = substr(rest, RLENGTH + 1)
            if (rest !~ /^--/) {
                o_long = ""; o_meta = ""; o_desc = trim(rest)
                return 1
            }
        }
        if (!match(rest, /^--[A-Za-z0-9][A-Za-z0-9_-]*/)) return 0
        o_long = substr(rest, 1, RLENGTH)
        rest = substr(rest, RLENGTH + 1)
        o_meta = ""; o_desc = ""
        if (rest ~ /^=/ || rest ~ /^ [^ ]/) {
            t = substr(rest, 2)
            match(t, /^[^ ]+/)
            o_meta = substr(t, 1, RLENGTH)
            t = substr(t, RLENGTH + 1)
            if (t ~ /^ [^ ]/ && !tight_metavar(o_meta)) {
                o_desc = trim(rest); o_meta = ""
            } else {
                o_desc = trim(t)
            }
        } else {
            o_desc = trim(rest)
        }
        return 1
    }
    function close_usage() { if (state == "usage") { emit("synopsis", ".fi"); state = "" } }
    BEGIN { state = ""; first_text = 1; started = 0 }
    NR == 1 && /^usage: / {
        state = "usage"
        emit("synopsis", ".nf")
        s = esc(substr($0, 8)); sub(/^nlp/, "\\fBnlp\\fR", s)
        emit("synopsis", s)
        next
    }
    state == "usage" && /^ / {
        s = substr($0, 8); lead = s; sub(/[^ ].*/, "", lead)
        s = esc(trim(s)); sub(/^nlp/, "\\fBnlp\\fR", s)
        emit("synopsis", lead s)
        next
    }
    { close_usage() }
    /^ *$/ { state = ""; next }
    /^[A-Za-z][^:]*:$/ && split($0, words, " ") <= 3 && state != "text" {
        group = $0
        if (group ~ /^Commands:$/ || group ~ /^Tasks/) { state = "list"; next }
        state = "options"
        emit("group", ".PP\n.B " esc(group))
        next
    }
    state == "list" && /^ / { next }
    option($0) {
        state = "option"; o_indent = indent($0)
        s = ""
        if (o_short != "") s = "\\fB" esc(o_short) "\\fR"
        if (o_short != "" && o_long != "") s = s ", "
        if (o_long != "") s = s "\\fB" esc(o_long) "\\fR"
        if (o_meta != "") s = s " \\fI" esc(o_meta) "\\fR"
        emit("options", ".TP\n" s)
        if (o_desc != "") emit("options", fill(o_desc))
        next
    }
    state == "option" && indent($0) > o_indent { emit("options", fill(trim($0))); next }
    {
        if (first_text) { emit("name", trim($0)); first_text = 0 }
        line = trim($0)
        if (state != "text") emit("text", ".PP")
        else if (line ~ /^[A-Z]/ && (prev ~ /[.:]$/ || prev ~ /^[A-Z][a-z]*( [a-z]+)*: [^ ]+$/))
            emit("text", ".br")
        state = "text"; prev = line
        emit("text", fill(line))
    }
    END { close_usage() }
    ' "$2"
}

# the names under "Commands:" (kind c) and "Tasks ...:" (kind t), with
# their one-line summaries: "KIND NAME SUMMARY"
awk '
    /^Commands:$/ { k = "c"; next }
    /^Tasks.*:$/ { k = "t"; next }
    /^[^ ]/ || /^ *$/ { k = ""; next }
    k != "" && /^  [^ -]/ {
        name = $1; s = $0; sub(/^ *[^ ]+ */, "", s)
        print k, name, s
    }' "$tmp/top" >"$tmp/list"

# one section per command or task; a task whose help (past its usage and
# summary) matches an earlier one is another name for it
section() {
    kind=$1 name=$2 summary=$3
    "$nlp" "$name" --help >"$tmp/help.$name" ||
        { echo "mkman.sh: $nlp $name --help failed" >&2; exit 1; }
    sed '1,/^$/d' "$tmp/help.$name" >"$tmp/body.$name"
    printf '.SS %s\n' "$(echo "$name" | sed 's/-/\\-/g')"
    if [ "$kind" = t ]; then
        for prev in $(cat "$tmp/seen"); do
            if cmp -s "$tmp/body.$prev" "$tmp/body.$name"; then
                printf '%s.\nSame usage and options as \\fB%s\\fR.\n' \
                    "$(echo "$summary" | sed 's/\\/\\e/g; s/-/\\-/g')" \
                    "$(echo "$prev" | sed 's/-/\\-/g')"
                return 0
            fi
        done
        echo "$name" >>"$tmp/seen"
    fi
    parse all "$tmp/help.$name"
}

: >"$tmp/seen"
name_line=$(parse name "$tmp/top" | awk '{ sub(/\.$/, ""); print tolower(substr($0, 1, 1)) substr($0, 2) }')
{
    printf '.\\" nlp.1 - the manual page of nlp, made by man/mkman.sh from nlp --help\n'
    printf '.TH NLP 1 "%s" "nlp %s" "User Commands"\n' "$date" "$version"
    # no hyphenation (option names, ids and paths stay whole), ragged right
    printf '.nh\n.ad l\n'
    echo '.SH NAME'
    printf 'nlp \\- %s\n' "$(echo "$name_line" | sed 's/-/\\-/g')"
    echo '.SH SYNOPSIS'
    parse synopsis "$tmp/top"
    echo '.SH DESCRIPTION'
    parse text "$tmp/top"
    cat <<'EOF'
.PP
The commands are built in; the tasks come from plugins.
Each is described below as its own \fB\-\-help\fR describes it.
.SH OPTIONS
EOF
    parse options "$tmp/top"
    echo '.SH COMMANDS'
    while read -r kind name summary; do
        [ "$kind" = c ] && section c "$name" "$summary"
    done <"$tmp/list"
    cat <<'EOF'
.SH TASKS
These tasks are served by the plugins that come with nlp;
\fBnlp plugins\fR lists those found, including any others.
EOF
    while read -r kind name summary; do
        [ "$kind" = t ] && section t "$name" "$summary"
    done <"$tmp/list"
    sed -e "s|@PLUGINDIR@|$(echo "$plugindir" | sed 's/-/\\\\-/g')|g" \
        -e "s|@MODELSDIR@|$(echo "$modelsdir" | sed 's/-/\\\\-/g')|g" <<'EOF'
.SH ENVIRONMENT
.TP
.B NLP_PLUGIN_PATH
Colon\-separated folders searched for task plugins, after
\fB\-\-plugin\-dir\fR and before the installed plugin folder.
.TP
.B NLP_MODELS_PATH
Colon\-separated folders, each holding \fINAME\fR/ folders, searched for
built\-in models before the installed model folder.
.TP
.B NLP_NUM_THREADS
Worker threads when \fB\-\-threads\fR is not given (default: all online cores).
.TP
.B NLP_KERNEL
\fBgeneric\fR, \fBavx2\fR or \fBavx512\fR: use at most this GEMM kernel
instead of the best one the CPU supports.
.TP
.B HF_ENDPOINT
The Hugging Face Hub's address (default: https://huggingface.co).
.TP
.B HF_TOKEN
Access token for gated or private repositories, sent as
\fBAuthorization: Bearer\fR to the endpoint's host only (default: the file
\fB$HF_HOME/token\fR, if any).
.TP
.B HF_HOME
huggingface_hub's home folder (default: \fB$XDG_CACHE_HOME/huggingface\fR,
else \fB~/.cache/huggingface\fR).
.TP
.B HF_HUB_CACHE
The model cache (default: \fB$HF_HOME/hub\fR);
\fB\-\-cache\-dir\fR overrides it.
.TP
.B HF_HUB_OFFLINE
\fB1\fR (or \fBtrue\fR, \fByes\fR, \fBon\fR): never open a connection, as
\fB\-\-offline\fR does.
.TP
.B HF_HUB_DOWNLOAD_TIMEOUT
Seconds without data before a transfer is retried (default: 10).
.SH EXIT STATUS
.TP
.B 0
Success.
.TP
.B 1
A runtime failure, or some inputs failed (each reported on standard error
as \fBnlp\fR \fITASK\fR\fB: input\fR \fIN\fR\fB:\fR \fIreason\fR; the
others are still processed).
.TP
.B 2
A usage error: an unknown option, a missing or malformed value.
.PP
Every diagnostic is one line on standard error.
.SH FILES
.TP
.I @PLUGINDIR@
The task plugins installed with nlp (found relative to the \fBnlp\fR
binary, so a moved installation uses its own).
.TP
.I @MODELSDIR@
The built\-in models, one folder each in Hugging Face layout, which tasks
run without \fB\-\-model\fR (found relative to the \fBnlp\fR binary too).
.TP
.I $HF_HUB_CACHE
The models fetched from the Hub, laid out as Python's huggingface_hub lays
them out, so either finds what the other fetched.
.TP
.I $XDG_CACHE_HOME/nlp/bench
The random\-weight checkpoints written by \fBnlp bench\fR
(else \fI~/.cache/nlp/bench\fR).
.SH SEE ALSO
The files README.md (models, corpus mode, the library, task plugins) and
docs/corpus.md (corpus mode in detail) of the nlp source distribution;
\fBpkg\-config\fR(1) with the \fBnlp\fR package for building plugins and
programs against libnlp.
EOF
}
