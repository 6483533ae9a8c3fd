#!/bin/sh
# task_classify.sh - end-to-end tests of `nlp classify`: the reference
# cases of data/expected/classify (zero-shot over NLI fixtures with the
# entailment label first and last, --multi-label, one label, --template,
# only_first truncation of a long text; plain classification without
# --labels), then the error cases with their messages and exit statuses.
. "$(dirname "$0")/task_lib.sh"
task_init

task_cases classify

Z="$top_srcdir/data/models/tiny-distilbert-mnli"

expect 1 "nlp classify: zero-shot classification needs an NLI model: no label starting with 'entail' in the model's id2label (2 labels, first 'NEGATIVE')" '' \
    "$NLP" classify --model "$top_srcdir/data/models/tiny-bert-sst2" --labels a,b "text"
expect 2 "nlp classify: --labels: give at least one label" '' \
    "$NLP" classify --model "$Z" --labels ' , ,' "text"
expect 2 "nlp classify: --template \"no slot\" has no {} where the label goes" '' \
    "$NLP" classify --model "$Z" --labels a,b --template "no slot" "text"
expect 2 "nlp classify: --template: unexpected '{' at byte 6" '' \
    "$NLP" classify --model "$Z" --labels a,b --template "about {x}" "text"
expect 2 "nlp classify: --multi-label needs --labels" '' \
    "$NLP" classify --model "$Z" --multi-label "text"
expect 2 "nlp classify: --function and --top-k apply only without --labels" '' \
    "$NLP" classify --model "$Z" --labels a,b --top-k 2 "text"
expect 1 "nlp classify: input 1: zero-shot classification takes one text per input, not a pair" '' \
    "$NLP" classify --model "$Z" --labels a,b --text-pair "other" "text"
expect 1 "nlp classify: the checkpoint has no sequence-classification head (tensor classifier.weight is missing)" '' \
    "$NLP" classify --model "$top_srcdir/data/models/tiny-bert-mlm" --labels a,b "text"

# Real sentences (SST-2 dev, when the shared data is there): batching,
# padding and pair chunking change nothing.
dev="$top_srcdir/../shared/data/sst2/dev.tsv"
if [ -f "$dev" ]; then
    tail -n +2 "$dev" | cut -f1 | head -n 200 >"$task_tmp/sst2.txt"
    task_consistency "$task_tmp/sst2.txt" "$NLP" classify --model "$Z" --labels "film,music,sports"
    task_consistency "$task_tmp/sst2.txt" "$NLP" classify --model "$top_srcdir/data/models/tiny-bert-mnli" \
        --labels "good,bad" --multi-label
else
    echo "SKIP: batching over SST-2 dev ($dev not found)"
fi

task_done
