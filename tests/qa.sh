#!/bin/sh
# tests/qa.sh - `nlp qa` end to end on the random-weight fixtures
# data/models/qa-{bert,distilbert} against data/expected/qa/, the output of
# tests/gen/gen_tasks_tok.py (PyTorch logits + a Python port of Hugging
# Face's QuestionAnsweringPipeline): SQuAD contexts spread over many
# windows, --top-k, --handle-impossible-answer, --max-answer-len,
# --max-seq-len / --doc-stride; then the error cases.
# Environment (from make check): NLP, top_srcdir.
set -u
: "${NLP:?}" "${top_srcdir:?}"
D="$top_srcdir/data"
E="$D/expected/qa"
if [ ! -f "$D/models/qa-bert/model.safetensors" ] || [ ! -f "$E/inputs.jsonl" ]; then
    echo "SKIP: qa fixtures missing (run tests/gen/gen_tasks_tok.py)"
    exit 77
fi
PY=${PYTHON3:-python3}
CMP="$top_srcdir/tests/tasks_compare.py"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0

check() {
    name=$1 exp=$2
    shift 2
    "$NLP" qa --json "$@" < "$E/inputs.jsonl" > "$T/out" 2> "$T/err"
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

expect_error() {
    name=$1 status=$2 msg=$3
    shift 3
    "$NLP" qa "$@" > "$T/out" 2> "$T/err" < /dev/null
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

for m in qa-bert qa-distilbert; do
    M="$D/models/$m"
    check "$m defaults" "$E/$m-default.jsonl" --model "$M"
    check "$m --top-k 3" "$E/$m-topk3.jsonl" --model "$M" --top-k 3
    check "$m --handle-impossible-answer" "$E/$m-impossible.jsonl" --model "$M" \
        --handle-impossible-answer
    check "$m --max-answer-len 3" "$E/$m-maxans3.jsonl" --model "$M" --max-answer-len 3
    check "$m --max-seq-len 48 --doc-stride 8" "$E/$m-seq48-stride8.jsonl" --model "$M" \
        --max-seq-len 48 --doc-stride 8
    check "$m --max-question-len 4" "$E/$m-maxq4.jsonl" --model "$M" --max-question-len 4
    check "$m --batch-size 1" "$E/$m-default.jsonl" --model "$M" --batch-size 1
done

M="$D/models/qa-bert"
# --question / --context give the same answer as the JSON line
line=$(sed -n 4p "$E/inputs.jsonl")
"$NLP" qa --json --model "$M" --question "Where does Wolfgang live?" \
    --context "My name is Wolfgang and I live in Berlin." > "$T/out" 2> "$T/err"
sed -n 4p "$E/qa-bert-default.jsonl" > "$T/exp"
if "$PY" "$CMP" "$T/exp" "$T/out"; then echo "ok   --question/--context"; else
    echo "FAIL --question/--context: $(cat "$T/err")"; fail=1; fi

expect_error "empty question" 1 "input 1: the question is empty" \
    --model "$M" --question "" --context "Some context."
expect_error "empty context" 1 "input 1: the context is empty" \
    --model "$M" --question "Who?" --context ""
expect_error "--top-k 0" 1 "--top-k 0: must be at least 1" \
    --model "$M" --top-k 0 --question "Who?" --context "Me."
expect_error "--max-answer-len 0" 1 "--max-answer-len 0: must be at least 1" \
    --model "$M" --max-answer-len 0 --question "Who?" --context "Me."
expect_error "--max-seq-len beyond the model" 1 "--max-seq-len 100: the model accepts at most 64 tokens" \
    --model "$M" --max-seq-len 100 --question "Who?" --context "Me."
expect_error "--doc-stride above --max-seq-len" 1 "--doc-stride 41 is larger than --max-seq-len 40" \
    --model "$M" --max-seq-len 40 --doc-stride 41 --question "Who?" --context "Me."
expect_error "model without a QA head" 1 "missing tensor qa_outputs.weight" \
    --model "$D/models/ner-bert" --question "Who?" --context "Me."
q=$(yes word | head -70 | tr '\n' ' ')
c=$(yes context | head -70 | tr '\n' ' ')
expect_error "question leaves no room" 1 "input 1: the question takes 64 tokens, leaving 0 context tokens" \
    --model "$M" --question "$q" --context "$c"
exit $fail
