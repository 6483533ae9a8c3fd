#!/bin/sh
# tests/ner.sh - `nlp ner` end to end on the random-weight fixtures
# data/models/ner-{bert,distilbert} against data/expected/ner/, the output
# of tests/gen/gen_tasks_tok.py (PyTorch logits + a Python port of Hugging
# Face's TokenClassificationPipeline): every aggregation strategy, a long
# text run in overlapping windows (default and explicit --stride),
# --ignore-labels; then the error cases (message and exit status).
# Environment (from make check): NLP, top_srcdir.
set -u
: "${NLP:?}" "${top_srcdir:?}"
D="$top_srcdir/data"
E="$D/expected/ner"
if [ ! -f "$D/models/ner-bert/model.safetensors" ] || [ ! -f "$E/inputs.txt" ]; then
    echo "SKIP: ner fixtures missing (run tests/gen/gen_tasks_tok.py)"
    exit 77
fi
PY=${PYTHON3:-python3}
CMP="$top_srcdir/tests/tasks_compare.py"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0

# check NAME EXPECTED INPUT ARGS...: run nlp ner --json, compare
check() {
    name=$1 exp=$2 input=$3
    shift 3
    "$NLP" ner --json "$@" < "$input" > "$T/out" 2> "$T/err"
    rc=$?
    if [ "$rc" -ne 0 ]; then
        echo "FAIL $name: exit status $rc: $(cat "$T/err")"
        fail=1
    elif ! "$PY" "$CMP" "$exp" "$T/out"; then
        echo "FAIL $name"
        fail=1
    else
        echo "ok   $name"
    fi
}

# expect_error NAME STATUS MESSAGE ARGS...: exit status and a stderr line
expect_error() {
    name=$1 status=$2 msg=$3
    shift 3
    "$NLP" ner "$@" > "$T/out" 2> "$T/err" < /dev/null
    rc=$?
    if [ "$rc" -ne "$status" ]; then
        echo "FAIL $name: exit status $rc, expected $status ($(cat "$T/err"))"
        fail=1
    elif ! grep -qF -- "$msg" "$T/err"; then
        echo "FAIL $name: stderr lacks '$msg': $(cat "$T/err")"
        fail=1
    else
        echo "ok   $name"
    fi
}

for m in ner-bert ner-distilbert; do
    M="$D/models/$m"
    for s in none simple first average max; do
        check "$m $s" "$E/$m-$s.jsonl" "$E/inputs.txt" --model "$M" --aggregation "$s"
        check "$m $s long text (windows)" "$E/$m-$s-long.jsonl" "$E/long.txt" \
            --model "$M" --aggregation "$s"
    done
    check "$m simple --stride 10" "$E/$m-simple-long-stride10.jsonl" "$E/long.txt" \
        --model "$M" --aggregation simple --stride 10
    check "$m first --ignore-labels ''" "$E/$m-first-ignore-none.jsonl" "$E/inputs.txt" \
        --model "$M" --aggregation first --ignore-labels ''
    check "$m simple --ignore-labels PER,O" "$E/$m-simple-ignore-per-o.jsonl" "$E/inputs.txt" \
        --model "$M" --aggregation simple --ignore-labels PER,O
    # a batch size of 1 gives the same answers as the default batches
    check "$m average --batch-size 1" "$E/$m-average.jsonl" "$E/inputs.txt" \
        --model "$M" --aggregation average --batch-size 1
done

M="$D/models/ner-bert"
# An empty text has no entities (Hugging Face returns []).
out=$(printf '\n' | "$NLP" ner --json --model "$M" 2>&1)
if [ "$out" = "[]" ]; then echo "ok   empty text"; else echo "FAIL empty text: $out"; fail=1; fi

expect_error "bad --aggregation" 2 "--aggregation expects one of none|simple|first|average|max" \
    --model "$M" --aggregation bogus text
expect_error "--stride too large" 1 "--stride 62: must be at least 0 and below the window of 62 tokens" \
    --model "$M" --stride 62 text
expect_error "model without a token classifier" 1 "missing tensor classifier.weight" \
    --model "$D/models/qa-bert" text
# One bad input fails alone; the others are still answered.
printf 'good text\n\377 bad\nmore\n' | "$NLP" ner --json --model "$M" > "$T/out" 2> "$T/err"
rc=$?
if [ "$rc" -eq 1 ] && grep -qF "input 2: invalid UTF-8 at byte 0" "$T/err" &&
   [ "$(wc -l < "$T/out")" -eq 2 ]; then
    echo "ok   invalid UTF-8 input"
else
    echo "FAIL invalid UTF-8 input: status $rc, $(cat "$T/err"), $(wc -l < "$T/out") lines"
    fail=1
fi
exit $fail
