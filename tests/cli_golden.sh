#!/bin/sh
# cli_golden.sh - the CLI's output bytes stay the same: runs every command
# of tests/golden/commands.txt (every task in table, --json and corpus
# mode, and some usage errors) from the data/ folder and compares stdout,
# stderr (with times and rates masked) and the exit status with
# data/expected/cli/NN.out.  The numbers in those files are checked against
# independent references by the task suites; this test pins the rendering
# and the runners' behaviour so that a restructuring cannot change them
# unnoticed.  GOLDEN_UPDATE=1 rewrites the files (only after a deliberate
# change in behaviour, reviewed with git diff).
# Environment (from make check): NLP, top_srcdir.
set -u
: "${NLP:?}" "${top_srcdir:?}"
D="$top_srcdir/data"
E="$D/expected/cli"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
unset NLP_PLUGIN_PATH
failed=0 n=0
mask() { sed -e 's/in [0-9.]* s ([0-9.]* rows\/s)/in T s (R rows\/s)/'; }
while IFS= read -r line; do
    case "$line" in ''|'#'*) continue ;; esac
    n=$((n + 1))
    id=$(printf '%02d' "$n")
    (cd "$D" && eval "\"\$NLP\" $line" >"$T/out" 2>"$T/err" </dev/null)
    st=$?
    {
        echo "\$ nlp $line"
        cat "$T/out"
        echo "--- stderr"
        mask <"$T/err"
        echo "--- exit $st"
    } >"$T/$id.out"
    if [ "${GOLDEN_UPDATE:-0}" = 1 ]; then
        cp "$T/$id.out" "$E/$id.out"
    elif ! cmp -s "$T/$id.out" "$E/$id.out"; then
        echo "FAIL $id: nlp $line"
        diff "$E/$id.out" "$T/$id.out" | head -20
        failed=$((failed + 1))
    fi
done <"$top_srcdir/tests/golden/commands.txt"
echo "$n commands, $failed differ"
[ $failed -eq 0 ]
