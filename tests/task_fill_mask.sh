#!/bin/sh
# task_fill_mask.sh - end-to-end tests of `nlp fill-mask`: the reference
# cases of data/expected/fill-mask (BERT and DistilBERT fixtures: top-k,
# --targets, several masks, a line without a mask), then every error case
# with its message and exit status.
. "$(dirname "$0")/task_lib.sh"
task_init

task_cases fill-mask

M="$top_srcdir/data/models/tiny-bert-mlm"
D="$top_srcdir/data/models/tiny-distilbert-mlm"
long=$(i=0; while [ $i -lt 70 ]; do printf 'a '; i=$((i + 1)); done; printf '[MASK]')

expect 1 "nlp fill-mask: input 1: no [MASK] token in the input" 'hello world\n' \
    "$NLP" fill-mask --json --model "$M"
expect 1 "nlp fill-mask: input 2: no [MASK] token in the input" '' \
    "$NLP" fill-mask --json --model "$D" "a [MASK] day" "no mask" "[MASK] too"
expect 1 "nlp fill-mask: input 1: no [MASK] token in the input" '\n' \
    "$NLP" fill-mask --json --model "$M"
expect 1 "nlp fill-mask: input 1: invalid UTF-8 at byte 9" 'a [MASK] \377 b\n' \
    "$NLP" fill-mask --json --model "$M"
expect 1 "nlp fill-mask: input 1: input is 73 tokens long; the model accepts at most 64" '' \
    "$NLP" fill-mask --json --no-truncation --model "$M" "$long"
# cut to the model's 64 tokens by default: here that cuts the mask away
expect 1 "nlp fill-mask: warning: truncated input 1 from 73 tokens to 64" '' \
    "$NLP" fill-mask --json --model "$M" "$long"
expect 1 "nlp fill-mask: input 1: no [MASK] token in the input" '' \
    "$NLP" fill-mask --json --model "$M" "$long"
expect 2 "nlp fill-mask: --top-k must be at least 1, not 0" '' \
    "$NLP" fill-mask --model "$M" --top-k 0 "a [MASK]"
expect 2 "nlp fill-mask: option --top-k expects an integer, got 'abc'" '' \
    "$NLP" fill-mask --model "$M" --top-k abc "a [MASK]"
expect 2 "nlp fill-mask: --targets: no usable target word" '' \
    "$NLP" fill-mask --model "$M" --targets ' , ' "a [MASK]"
expect 0 "nlp fill-mask: warning: target 'Good' is not in the vocabulary; using 'good' instead" '' \
    "$NLP" fill-mask --json --model "$M" --targets 'Good,world' "a [MASK]"
expect 1 "nlp fill-mask: the checkpoint has no masked-LM head (tensor cls.predictions.transform.dense.weight is missing)" '' \
    "$NLP" fill-mask --model "$top_srcdir/data/models/tiny-bert-sst2" "a [MASK]"
expect 1 "nlp fill-mask: the checkpoint has no masked-LM head (tensor vocab_transform.weight is missing)" '' \
    "$NLP" fill-mask --model "$top_srcdir/data/models/tiny-distilbert-sst2" "a [MASK]"
expect 2 "nlp fill-mask: unknown option '--bogus'" '' \
    "$NLP" fill-mask --model "$M" --bogus 3 "a [MASK]"

# The readable table: one row per candidate, with the columns named.
"$NLP" fill-mask --model "$M" --top-k 2 "the [MASK] of the world." >"$task_tmp/table" 2>&1
if [ "$(grep -c 'the .* of the world\.' "$task_tmp/table")" -ne 2 ] ||
   ! grep -q 'score.*token.*token_str.*sequence' "$task_tmp/table"; then
    echo "FAIL: table output"; cat "$task_tmp/table"; task_failed=$((task_failed + 1))
else
    echo "PASS: table output"
fi

# Real sentences (SST-2 dev with their 3rd word, and in longer ones also
# their 8th, masked; when the shared data is there): batching and padding
# change nothing.
dev="$top_srcdir/../shared/data/sst2/dev.tsv"
if [ -f "$dev" ]; then
    tail -n +2 "$dev" | cut -f1 |
        awk '{ if (NF >= 3) $3 = "[MASK]"; else $0 = $0 " [MASK]"; if (NF >= 12) $8 = "[MASK]"; print }' \
        >"$task_tmp/masked.txt"
    task_consistency "$task_tmp/masked.txt" "$NLP" fill-mask --model "$M"
    task_consistency "$task_tmp/masked.txt" "$NLP" fill-mask --model "$D" --targets good,bad,film
else
    echo "SKIP: batching over SST-2 dev ($dev not found)"
fi

task_done
