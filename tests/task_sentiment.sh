#!/bin/sh
# task_sentiment.sh - end-to-end tests of `nlp sentiment`: the reference
# cases of data/expected/sentiment (BERT and DistilBERT classifiers,
# --top-k, --function, a multi-label and a one-label head, text pairs),
# then the error cases with their messages and exit statuses, and --dtype.
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
    "fine\n$long\n" "$NLP" sentiment --json --no-truncation --model "$S"
expect 0 "nlp sentiment: warning: truncated input 2 from 72 tokens to 64" \
    "fine\n$long\n" "$NLP" sentiment --json --model "$S"
expect 1 "nlp sentiment: input 1: invalid UTF-8 at byte 2" 'ok\377\n' \
    "$NLP" sentiment --json --model "$S"

expect 2 "nlp sentiment: --dtype must be fp32, int8 or bf16, got 'int4'" '' \
    "$NLP" sentiment --model "$S" --dtype int4 "fine"

# --dtype on the trained model (tests/gen/gen_trained_sst2.py): int8 and
# bf16 keep PyTorch's labels on clear sentences (check_int8 measures them
# over all of SST-2 dev) with scores close to fp32's; a checkpoint written
# by `nlp quantize` runs as int8 by default: its scores are exactly those
# of --dtype int8, not those of --dtype fp32.
T="$top_srcdir/data/models/trained-sst2"
printf 'a charming and often affecting journey\nunflinchingly bleak and desperate\n' >"$task_tmp/two.txt"
for d in fp32 int8 bf16; do
    "$NLP" sentiment --model "$T" --dtype "$d" --json <"$task_tmp/two.txt" >"$task_tmp/$d.out" \
        2>"$task_tmp/$d.err" || { echo "FAIL: --dtype $d: $(cat "$task_tmp/$d.err")"; task_failed=$((task_failed + 1)); }
done
"$NLP" quantize "$T" "$task_tmp/q8" >/dev/null 2>"$task_tmp/q.err" \
    || { echo "FAIL: nlp quantize: $(cat "$task_tmp/q.err")"; task_failed=$((task_failed + 1)); }
"$NLP" sentiment --model "$task_tmp/q8" --json <"$task_tmp/two.txt" >"$task_tmp/q-default.out" 2>&1
"$NLP" sentiment --model "$task_tmp/q8" --dtype int8 --json <"$task_tmp/two.txt" >"$task_tmp/q-int8.out" 2>&1
"$NLP" sentiment --model "$task_tmp/q8" --dtype fp32 --json <"$task_tmp/two.txt" >"$task_tmp/q-fp32.out" 2>&1
if python3 - "$task_tmp" <<'PYEOF'
import json, sys
d = sys.argv[1]
rows = lambda n: [json.loads(l) for l in open("%s/%s.out" % (d, n))]
fp32 = rows("fp32")
assert [r["label"] for r in fp32] == ["POSITIVE", "NEGATIVE"], fp32
for n in ("int8", "bf16"):
    for a, b in zip(rows(n), fp32):
        assert a["label"] == b["label"] and abs(a["score"] - b["score"]) < 0.01, (n, a, b)
    assert rows(n) != fp32, n + " gives exactly the fp32 scores"
assert rows("q-default") == rows("q-int8"), (rows("q-default"), rows("q-int8"))
assert rows("q-default") != rows("q-fp32"), "quantised checkpoint ran as fp32 by default"
PYEOF
then
    echo "PASS: --dtype fp32|int8|bf16, and a quantised checkpoint runs as int8 by default"
else
    echo "FAIL: --dtype"
    task_failed=$((task_failed + 1))
fi

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
