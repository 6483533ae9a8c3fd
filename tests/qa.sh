#!/bin/sh
# tests/qa.sh - `nlp qa` end to end on the random-weight fixtures
# data/models/qa-{bert,distilbert} against data/expected/qa/, the output of
# tests/gen/gen_tasks_tok.py (PyTorch logits + a Python port of Hugging
# Face's QuestionAnsweringPipeline): SQuAD contexts spread over many
# windows, --top-k, --handle-impossible-answer, --max-answer-len,
# --max-seq-len / --doc-stride; then the error cases.
# Environment (from make check): NLP, top_srcdir.
. "$(dirname "$0")/task_lib.sh"
task_init
D="$top_srcdir/data"
E="$D/expected/qa"
if [ ! -f "$D/models/qa-bert/model.safetensors" ] || [ ! -f "$E/inputs.jsonl" ]; then
    echo "SKIP: qa fixtures missing (run tests/gen/gen_tasks_tok.py)"
    exit 77
fi

# check NAME EXPECTED ARGS...: nlp qa --json ARGS over inputs.jsonl
check() {
    name=$1 exp=$2
    shift 2
    task_compare "$name" "$exp" "$E/inputs.jsonl" "$NLP" qa --json "$@"
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
sed -n 4p "$E/qa-bert-default.jsonl" >"$task_tmp/exp"
task_compare "--question/--context" "$task_tmp/exp" /dev/null \
    "$NLP" qa --json --model "$M" --question "Where does Wolfgang live?" \
    --context "My name is Wolfgang and I live in Berlin."

expect 1 "input 1: the question is empty" '' \
    "$NLP" qa --model "$M" --question "" --context "Some context."
expect 1 "input 1: the context is empty" '' \
    "$NLP" qa --model "$M" --question "Who?" --context ""
expect 2 "--top-k 0: must be at least 1" '' \
    "$NLP" qa --model "$M" --top-k 0 --question "Who?" --context "Me."
expect 2 "--max-answer-len 0: must be at least 1" '' \
    "$NLP" qa --model "$M" --max-answer-len 0 --question "Who?" --context "Me."
expect 2 "--max-seq-len 100: the model accepts at most 64 tokens" '' \
    "$NLP" qa --model "$M" --max-seq-len 100 --question "Who?" --context "Me."
expect 2 "--doc-stride 41 is larger than --max-seq-len 40" '' \
    "$NLP" qa --model "$M" --max-seq-len 40 --doc-stride 41 --question "Who?" --context "Me."
expect 1 "no question-answering head (tensor qa_outputs.weight is missing)" '' \
    "$NLP" qa --model "$D/models/ner-bert" --question "Who?" --context "Me."
q=$(yes word | head -70 | tr '\n' ' ')
c=$(yes context | head -70 | tr '\n' ' ')
expect 1 "input 1: the question takes 64 tokens, leaving 0 context tokens" '' \
    "$NLP" qa --model "$M" --question "$q" --context "$c"
task_done
