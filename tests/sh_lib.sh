# tests/sh_lib.sh - the helpers of the end-to-end shell tests, sourced after
# they set $tmp (a scratch folder):
#   fail MSG                 count a failure of check $n and say why
#   run STATUS CMD...        run CMD with no stdin, stdout in $tmp/out and
#                            stderr in $tmp/err; a failure unless it exits
#                            with STATUS (then its stderr is shown)
#   expect_err PATTERN       stderr of the last run matches PATTERN (grep -E)
# Counters: $n checks, $fails failures.

fails=0
n=0

fail() {
    echo "FAIL $n: $*"
    fails=$((fails + 1))
}

run() {
    want=$1
    shift
    n=$((n + 1))
    "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
    got=$?
    if [ "$got" != "$want" ]; then
        fail "exit $got, expected $want: $*"
        sed 's/^/  stderr: /' "$tmp/err"
        return 1
    fi
    return 0
}

expect_err() {
    grep -Eq "$1" "$tmp/err" || { fail "stderr lacks /$1/"; sed 's/^/  stderr: /' "$tmp/err"; }
}
