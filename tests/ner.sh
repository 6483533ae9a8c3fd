#!/bin/sh
# tests/ner.sh - `nlp ner` end to end on the random-weight fixtures
# data/models/ner-{bert,distilbert} against data/expected/ner/, the output
# of tests/gen/gen_tasks_tok.py (PyTorch logits + a Python port of Hugging
# Face's TokenClassificationPipeline): every aggregation strategy, a long
# text run in overlapping windows (default and explicit --stride),
# --ignore-labels; then the error cases (message and exit status).
# Environment (from make check): NLP, top_srcdir.
. "$(dirname "$0")/task_lib.sh"
task_init
D="$top_srcdir/data"
E="$D/expected/ner"
if [ ! -f "$D/models/ner-bert/model.safetensors" ] || [ ! -f "$E/inputs.txt" ]; then
    echo "SKIP: ner fixtures missing (run tests/gen/gen_tasks_tok.py)"
    exit 77
fi

for m in ner-bert ner-distilbert; do
    M="$D/models/$m"
    for s in none simple first average max; do
        task_compare "$m $s" "$E/$m-$s.jsonl" "$E/inputs.txt" \
            "$NLP" ner --json --model "$M" --aggregation "$s"
        task_compare "$m $s long text (windows)" "$E/$m-$s-long.jsonl" "$E/long.txt" \
            "$NLP" ner --json --model "$M" --aggregation "$s"
    done
    task_compare "$m simple --stride 10" "$E/$m-simple-long-stride10.jsonl" "$E/long.txt" \
        "$NLP" ner --json --model "$M" --aggregation simple --stride 10
    task_compare "$m first --ignore-labels ''" "$E/$m-first-ignore-none.jsonl" "$E/inputs.txt" \
        "$NLP" ner --json --model "$M" --aggregation first --ignore-labels ''
    task_compare "$m simple --ignore-labels PER,O" "$E/$m-simple-ignore-per-o.jsonl" "$E/inputs.txt" \
        "$NLP" ner --json --model "$M" --aggregation simple --ignore-labels PER,O
    # a batch size of 1 gives the same answers as the default batches
    task_compare "$m average --batch-size 1" "$E/$m-average.jsonl" "$E/inputs.txt" \
        "$NLP" ner --json --model "$M" --aggregation average --batch-size 1
done

M="$D/models/ner-bert"
# An empty text has no entities (Hugging Face returns []).
out=$(printf '\n' | "$NLP" ner --json --model "$M" 2>&1)
if [ "$out" = "[]" ]; then echo "PASS: empty text"; else
    echo "FAIL: empty text: $out"; task_failed=$((task_failed + 1)); fi

expect 2 "--aggregation expects one of none|simple|first|average|max" '' \
    "$NLP" ner --model "$M" --aggregation bogus text
expect 2 "--stride 62: must be at least 0 and below the window of 62 tokens" '' \
    "$NLP" ner --model "$M" --stride 62 text
expect 1 "no token-classification head (tensor classifier.weight is missing)" '' \
    "$NLP" ner --model "$D/models/qa-bert" text
# One bad input fails alone; the others are still answered, and every input
# has its line (the bad one an error object).
printf 'good text\n\377 bad\nmore\n' | "$NLP" ner --json --model "$M" >"$task_tmp/out" 2>"$task_tmp/err"
rc=$?
if [ "$rc" -eq 1 ] && grep -qF "input 2: invalid UTF-8 at byte 0" "$task_tmp/err" &&
   [ "$(wc -l < "$task_tmp/out")" -eq 3 ] &&
   sed -n 2p "$task_tmp/out" | grep -qF '{"error":"invalid UTF-8 at byte 0","error_type":"invalid_utf8"}'; then
    echo "PASS: invalid UTF-8 input"
else
    echo "FAIL: invalid UTF-8 input: status $rc, $(cat "$task_tmp/err"), $(wc -l < "$task_tmp/out") lines"
    task_failed=$((task_failed + 1))
fi
task_done
