#!/bin/sh
# task_sentiment.sh - end-to-end tests of `nlp sentiment`: the reference
# cases of data/expected/sentiment (BERT and DistilBERT classifiers,
# --top-k, --function, a multi-label and a one-label head, text pairs),
# then the error cases with their messages and exit statuses.
. "$(dirname "$0")/task_lib.sh"
task_init

task_cases sentiment

S="$top_srcdir/data/models/tiny-distilbert-sst2"
long=$(i=0; while [ $i -lt 70 ]; do printf 'good '; i=$((i + 1)); done)

expect 2 "nlp sentiment: --top-k must be a positive integer or 'all', not '0'" '' \
    "$NLP" sentiment --model "$S" --top-k 0 "fine"
expect 2 "nlp sentiment: --top-k must be a positive integer or 'all', not 'two'" '' \
    "$NLP" sentiment --model "$S" --top-k two "fine"
expect 2 "nlp sentiment: option --function expects one of softmax|sigmoid|none, got 'tanh'" '' \
    "$NLP" sentiment --model "$S" --function tanh "fine"
expect 1 "nlp sentiment: the checkpoint has no sequence-classification head (tensor classifier.weight is missing)" '' \
    "$NLP" sentiment --model "$top_srcdir/data/models/tiny-bert-mlm" "fine"
expect 1 "nlp sentiment: input 2: input is 72 tokens long; the model accepts at most 64" \
    "fine\n$long\n" "$NLP" sentiment --json --model "$S"
expect 1 "nlp sentiment: input 1: invalid UTF-8 at byte 2" 'ok\377\n' \
    "$NLP" sentiment --json --model "$S"

# Real sentences (SST-2 dev, when the shared data is there): batching and
# padding change nothing.
dev="$top_srcdir/../shared/data/sst2/dev.tsv"
if [ -f "$dev" ]; then
    tail -n +2 "$dev" | cut -f1 >"$task_tmp/sst2.txt"
    task_consistency "$task_tmp/sst2.txt" "$NLP" sentiment --model "$S" --top-k all
    task_consistency "$task_tmp/sst2.txt" "$NLP" sentiment --model "$top_srcdir/data/models/tiny-bert-sst2"
else
    echo "SKIP: batching over SST-2 dev ($dev not found)"
fi

task_done
