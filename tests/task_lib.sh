# task_lib.sh - shell helpers for the end-to-end task tests
# (tests/task_fill_mask.sh, task_sentiment.sh, task_classify.sh, ner.sh,
# qa.sh); sourced.
#
#   task_init                 skip (77) unless $NLP and python3 are there
#   task_cases TASK           the reference cases of data/expected/TASK, run
#                             with the default batch size and with 2
#   task_consistency FILE CMD...
#                             run CMD --json over the lines of FILE with
#                             --batch-size 1 and 16: same results (1e-5),
#                             same errors, one outcome per line
#   task_compare NAME EXPECTED INPUT CMD...
#                             run CMD (with --json) with the file INPUT on
#                             stdin; pass when it exits with 0 and its lines
#                             match EXPECTED (tests/tasks_compare.py)
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

task_consistency() {
    file=$1
    shift
    "$@" --json --batch-size 1 <"$file" >"$task_tmp/b1.out" 2>"$task_tmp/b1.err"
    s1=$?
    "$@" --json --batch-size 16 <"$file" >"$task_tmp/b16.out" 2>"$task_tmp/b16.err"
    s16=$?
    if python3 - "$file" "$task_tmp" "$s1" "$s16" <<'PYEOF'
import json, sys
f, d, s1, s16 = sys.argv[1:]
n = sum(1 for _ in open(f, encoding="utf-8"))
a = [json.loads(l) for l in open(d + "/b1.out", encoding="utf-8")]
b = [json.loads(l) for l in open(d + "/b16.out", encoding="utf-8")]
e1 = open(d + "/b1.err", encoding="utf-8").read().splitlines()
e16 = open(d + "/b16.err", encoding="utf-8").read().splitlines()
assert s1 == s16 and s1 in ("0", "1"), "exit statuses %s / %s" % (s1, s16)
assert e1 == e16, "different stderr"
errs = [l for l in e1 if ": input " in l]
assert len(a) == len(b) and len(a) + len(errs) == n, \
    "%d / %d results + %d errors for %d inputs" % (len(a), len(b), len(errs), n)
def same(x, y):
    if isinstance(x, dict):
        return set(x) == set(y) and all(same(x[k], y[k]) for k in x)
    if isinstance(x, list):
        return len(x) == len(y) and all(same(p, q) for p, q in zip(x, y))
    if isinstance(x, float) or isinstance(y, float):
        return abs(x - y) <= 1e-5
    return x == y
bad = [i for i, (x, y) in enumerate(zip(a, b)) if not same(x, y)]
assert not bad, "results differ from result %d on" % (bad[0] + 1)
print("%d results, %d errors" % (len(a), len(errs)))
PYEOF
    then
        echo "PASS: batch 1 = batch 16: $*"
    else
        echo "FAIL: batch 1 vs batch 16: $*"
        task_failed=$((task_failed + 1))
    fi
}

task_compare() {
    name=$1
    exp=$2
    input=$3
    shift 3
    "$@" <"$input" >"$task_tmp/out" 2>"$task_tmp/err"
    status=$?
    if [ "$status" -ne 0 ]; then
        echo "FAIL: $name: exit status $status: $(cat "$task_tmp/err")"
        task_failed=$((task_failed + 1))
    elif ! python3 "$top_srcdir/tests/tasks_compare.py" "$exp" "$task_tmp/out"; then
        echo "FAIL: $name"
        task_failed=$((task_failed + 1))
    else
        echo "PASS: $name"
    fi
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
