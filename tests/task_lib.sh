# task_lib.sh - shell helpers for the end-to-end task tests
# (tests/task_fill_mask.sh, task_sentiment.sh, task_classify.sh); sourced.
#
#   task_init                 skip (77) unless $NLP and python3 are there
#   task_cases TASK           the reference cases of data/expected/TASK, run
#                             with the default batch size and with 2
#   expect STATUS MSG INPUT CMD...
#                             run CMD with INPUT on stdin (printf format, ""
#                             for none); pass when it exits with STATUS and
#                             stderr contains MSG
# Failures are counted in $task_failed; finish with `task_done`.

task_failed=0

task_init() {
    : "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
    if [ -z "${NLP:-}" ] || [ ! -x "$NLP" ]; then
        echo "SKIP: the nlp CLI (\$NLP) is not built"
        exit 77
    fi
    if ! command -v python3 >/dev/null 2>&1; then
        echo "SKIP: python3 is needed to compare JSON outputs"
        exit 77
    fi
    task_tmp=$(mktemp -d "${TMPDIR:-/tmp}/nlp-task.XXXXXX") || exit 99
    trap 'rm -rf "$task_tmp"' EXIT
}

task_cases() {
    python3 "$top_srcdir/tests/task_cases.py" "$1" || task_failed=$((task_failed + 1))
    TASK_EXTRA_ARGS="--batch-size 2" python3 "$top_srcdir/tests/task_cases.py" "$1" \
        >"$task_tmp/b2.log" || { cat "$task_tmp/b2.log"; echo "FAIL (with --batch-size 2)"; \
                                 task_failed=$((task_failed + 1)); }
}

expect() {
    want_status=$1
    want_msg=$2
    input=$3
    shift 3
    # shellcheck disable=SC2059
    printf "$input" | "$@" >"$task_tmp/out" 2>"$task_tmp/err"
    status=$?
    if [ "$status" -ne "$want_status" ]; then
        echo "FAIL: $*: exit status $status, expected $want_status"
        sed 's/^/    stderr: /' "$task_tmp/err"
        task_failed=$((task_failed + 1))
    elif ! grep -qF -- "$want_msg" "$task_tmp/err"; then
        echo "FAIL: $*: stderr lacks '$want_msg'"
        sed 's/^/    stderr: /' "$task_tmp/err"
        task_failed=$((task_failed + 1))
    else
        echo "PASS: $* -> $status: $want_msg"
    fi
}

task_done() {
    if [ "$task_failed" -ne 0 ]; then
        echo "$task_failed check(s) failed"
        exit 1
    fi
    exit 0
}
