#!/bin/sh
# man.sh - nlp(1) is current and complete: made again from the built nlp by
# man/mkman.sh it is the same page (apart from its date), every option that
# `nlp --help` and each `nlp NAME --help` lists is in the section of that
# command or task, and groff (and mandoc, when installed) render it without
# a warning.
set -u
top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
NLP=${NLP:-$top_builddir/cli/nlp}
unset NLP_PLUGIN_PATH
tmp=$(mktemp -d "${TMPDIR:-/tmp}/nlp_man.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "man.sh: FAIL: $*"; fails=$((fails + 1)); }

page=$top_builddir/man/nlp.1
[ -f "$page" ] || page=$top_srcdir/man/nlp.1
[ -f "$page" ] || { echo "man.sh: FAIL: no man/nlp.1 (run make)"; exit 1; }

# the page is what mkman.sh makes now
plugindir=${NLP_PKGLIBDIR:-$(sed -n 's|^\.I \(.*/nlp\)$|\1|p' "$page" | sed 's/\\-/-/g' | head -1)}
sh "$top_srcdir/man/mkman.sh" "$NLP" "$plugindir" >"$tmp/new.1" ||
    { echo "man.sh: FAIL: man/mkman.sh"; exit 1; }
grep -v '^\.TH ' "$page" >"$tmp/old"
grep -v '^\.TH ' "$tmp/new.1" >"$tmp/new"
cmp -s "$tmp/old" "$tmp/new" || {
    diff "$tmp/old" "$tmp/new" | head -20
    fail "$page differs from what man/mkman.sh makes from $NLP --help (rebuild it)"
}

# every option of every --help, in its own section; an option line is
# indented, may start with "-x, ", and names --option
options() {
    sed -n 's/^ \{1,8\}\(-[A-Za-z0-9?], *\)\{0,1\}\(--[A-Za-z0-9][A-Za-z0-9_-]*\).*/\1 \2/p' |
        sed 's/,//' | tr ' ' '\n' | sed '/^$/d'
}
# the lines of the page's section NAME (.SS NAME up to the next heading);
# a section saying "Same usage and options as NAME" stands for that one
section() {
    want=$(printf '%s' "$1" | sed 's/-/\\\\-/g')
    awk -v s=".SS $want" '$0 == s { on = 1; next } /^\.S[SH] / { on = 0 } on' "$page" >"$tmp/sec"
    other=$(sed -n 's/^Same usage and options as \\fB\(.*\)\\fR\.$/\1/p' "$tmp/sec" | sed 's/\\-/-/g')
    [ -n "$other" ] && section "$other"
    return 0
}
check() {  # NAME HELP_FILE SECTION_FILE
    n=0
    for o in $(options <"$2"); do
        e=$(printf '%s' "$o" | sed 's/-/\\\\-/g')
        grep -q "\\\\fB$e\\\\fR" "$3" || fail "$1: $o is not in the man page"
        n=$((n + 1))
    done
    [ "$n" -gt 0 ] || fail "$1: no option found in its --help"
    checked=$((checked + n))
}
checked=0
"$NLP" --help >"$tmp/top" || fail "nlp --help"
awk '/^\.SH OPTIONS/ { on = 1; next } /^\.S[SH] / { on = 0 } on' "$page" >"$tmp/opts"
check nlp "$tmp/top" "$tmp/opts"
names=$(awk '/^Commands:$/ || /^Tasks.*:$/ { k = 1; next } /^[^ ]/ || /^ *$/ { k = 0; next }
    k && /^  [^ -]/ { print $1 }' "$tmp/top")
[ -n "$names" ] || fail "no command listed by nlp --help"
for name in $names; do
    "$NLP" "$name" --help >"$tmp/help" 2>"$tmp/err" || fail "nlp $name --help: $(cat "$tmp/err")"
    section "$name"
    [ -s "$tmp/sec" ] || { fail "no section .SS $name"; continue; }
    check "$name" "$tmp/help" "$tmp/sec"
done

# rendering
if command -v groff >/dev/null 2>&1; then
    groff -man -Tutf8 -ww -z "$page" >"$tmp/groff.err" 2>&1
    [ -s "$tmp/groff.err" ] && { cat "$tmp/groff.err"; fail "groff warns about $page"; }
    groff -man -Tutf8 "$page" 2>/dev/null | grep -q "huggingface_hub's home folder" || fail "groff renders no ENVIRONMENT"
else
    fail "groff is not installed (./install-deps.sh installs groff-base)"
fi
if command -v mandoc >/dev/null 2>&1; then
    mandoc -T lint -W warning "$page" >"$tmp/mandoc.err" 2>&1
    [ -s "$tmp/mandoc.err" ] && { cat "$tmp/mandoc.err"; fail "mandoc -T lint warns about $page"; }
fi

[ "$fails" -eq 0 ] || exit 1
echo "man.sh: $page is current, holds all $checked options of $(echo $names | wc -w) commands and tasks, renders cleanly"
