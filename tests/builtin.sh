#!/bin/sh
# builtin.sh - tasks without --model run their built-in model, end to end:
# against a fixture folder of built-in models given in NLP_MODELS_PATH
# (links to the tiny checkpoints of data/models under the names nlp
# ships), each task and `nlp tokenize` print exactly what they print with
# --model pointing at the same checkpoint, with the Hub unreachable
# (HF_ENDPOINT and HTTPS_PROXY at a closed port, HF_HUB_OFFLINE unset) and
# the cache left untouched; a missing built-in model is one clear line
# naming the folders searched (the source tree's models/ among them, the
# uninstalled binary's own); the classify default needs --labels;
# `nlp models` lists the built-in models and `nlp models rm` refuses them;
# other names still go to the Hub.  Nothing is written under models/.
#
# Environment (set by make check): NLP (the nlp binary), top_srcdir,
# top_builddir.
set -u
: "${top_srcdir:?}" "${top_builddir:?}"
NLP=${NLP:-$top_builddir/cli/nlp}
FIX=$top_srcdir/data/models
SRC_MODELS=$top_srcdir/models

tmp=$(mktemp -d "${TMPDIR:-/tmp}/builtin.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/models" "$tmp/empty" "$tmp/models/not-a-model"
ln -s "$FIX/tiny-bert-mlm" "$tmp/models/nlp-mini"
ln -s "$FIX/tiny-bert-sst2" "$tmp/models/nlp-mini-sst2"
ln -s "$FIX/ner-bert" "$tmp/models/nlp-mini-ner"
ln -s "$FIX/qa-bert" "$tmp/models/nlp-mini-squad"
ln -s "$FIX/tiny-bert-mnli" "$tmp/models/nlp-mini-nli"

# no way to the Hub, and a cache of our own that must stay empty
export HF_ENDPOINT=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 HTTP_PROXY=http://127.0.0.1:9
export https_proxy=$HTTPS_PROXY http_proxy=$HTTP_PROXY
export HF_HUB_CACHE="$tmp/cache" HF_HOME="$tmp/home" NLP_MODELS_PATH="$tmp/models"
unset HF_HUB_OFFLINE NLP_PLUGIN_PATH

. "$(dirname "$0")/sh_lib.sh"

# same CMD ARGS... without --model and with --model FIXTURE: same bytes
same() {
    fixture=$1
    shift
    run 0 "$@" || return
    cp "$tmp/out" "$tmp/builtin.out"
    cmd=$1
    task=$2
    shift 2
    run 0 "$cmd" "$task" --model "$FIX/$fixture" "$@" || return
    cmp -s "$tmp/out" "$tmp/builtin.out" || {
        fail "without --model differs from --model $fixture: $cmd $*"
        diff "$tmp/builtin.out" "$tmp/out" | head -5
    }
    [ -s "$tmp/out" ] || fail "no output: $cmd $*"
}

S="The film was a delight."
same tiny-bert-mlm "$NLP" fill-mask "Paris is the [MASK] of France."
same tiny-bert-mlm "$NLP" fill-mask --json "Paris is the [MASK] of France." "a [MASK] b"
same tiny-bert-sst2 "$NLP" sentiment "$S" "Dull."
same tiny-bert-sst2 "$NLP" sentiment --json --top-k all "$S"
same ner-bert "$NLP" ner "John Smith lives in Paris."
same ner-bert "$NLP" ner --json --aggregation none "John Smith lives in Paris."
same qa-bert "$NLP" qa --question "Where does John live?" --context "John lives in Paris."
same qa-bert "$NLP" qa --json --question "Where does John live?" --context "John lives in Paris."
same tiny-bert-mnli "$NLP" classify --labels film,music,sports "$S"
same tiny-bert-mnli "$NLP" classify --json --labels film,music --multi-label "$S"
same tiny-bert-mlm "$NLP" tokenize --json "$S"
# commands that take a model reference resolve built-in names the same way
run 0 "$NLP" quantize nlp-mini "$tmp/q8" && run 0 "$NLP" quantize "$FIX/tiny-bert-mlm" "$tmp/q8b" &&
    { cmp -s "$tmp/q8/model.safetensors" "$tmp/q8b/model.safetensors" || fail "quantize nlp-mini"; }
[ -e "$tmp/cache" ] && fail "the Hub cache was touched: $(ls -R "$tmp/cache" | head -3)"

# the built-in classify model is an NLI model: --labels (or --model) needed
run 2 "$NLP" classify "$S" &&
    grep -qx "nlp classify: the built-in classify model nlp-mini-nli is an NLI model for zero-shot classification: give --labels, or --model with a text classifier (see 'nlp classify --help')" "$tmp/err" ||
    fail "classify without --labels: $(cat "$tmp/err")"
run 0 "$NLP" classify --model "$FIX/tiny-bert-sst2" "$S"

# a missing built-in model: one line naming the folders searched, the
# uninstalled binary's own (the source tree's models/) last
if [ -f "$SRC_MODELS/nlp-mini/config.json" ]; then
    NLP_MODELS_PATH=$tmp/empty run 0 "$NLP" fill-mask "a [MASK]"
    echo "builtin.sh: $SRC_MODELS/nlp-mini exists: its run checked, not the missing-model error"
else
    NLP_MODELS_PATH=$tmp/empty run 1 "$NLP" fill-mask "a [MASK]"
    want="nlp fill-mask: built-in model nlp-mini not found (searched: $tmp/empty, $SRC_MODELS); give --model ID or DIR"
    [ "$(cat "$tmp/err")" = "$want" ] || fail "missing model: $(cat "$tmp/err")"
fi
[ -e "$tmp/cache" ] && fail "the Hub cache was touched by a missing built-in model"
rm "$tmp/models/nlp-mini-squad"
if [ ! -f "$SRC_MODELS/nlp-mini-squad/config.json" ]; then
    run 1 "$NLP" qa --offline --question q --context c
    grep -q "^nlp qa: built-in model nlp-mini-squad not found (searched: $tmp/models, $SRC_MODELS); give --model ID or DIR$" "$tmp/err" ||
        fail "missing model, offline: $(cat "$tmp/err")"
fi
ln -s "$FIX/qa-bert" "$tmp/models/nlp-mini-squad"

# other names still go to the Hub (unreachable here): a network error
for id in bert-base-uncased nlp-mini@main; do
    run 1 "$NLP" fill-mask --model "$id" "a [MASK]"
    grep -q "^nlp fill-mask: .*cannot reach http://127.0.0.1:9" "$tmp/err" ||
        fail "--model $id did not go to the Hub: $(cat "$tmp/err")"
done

# nlp models: the built-in section, then the cache
run 0 "$NLP" models
for m in nlp-mini:BertForMaskedLM nlp-mini-sst2:BertForSequenceClassification \
    nlp-mini-ner:BertForTokenClassification nlp-mini-squad:BertForQuestionAnswering \
    nlp-mini-nli:BertForSequenceClassification; do
    grep -Eq "^${m%%:*} +${m#*:} +[0-9.]+ [kMG]?B +$tmp/models/${m%%:*}$" "$tmp/out" ||
        fail "nlp models does not list ${m%%:*} as a ${m#*:}"
done
head -1 "$tmp/out" | grep -Eq '^NAME +TASK +SIZE +FOLDER$' || fail "nlp models header: $(head -1 "$tmp/out")"
grep -q not-a-model "$tmp/out" && fail "a folder without config.json is listed"
run 2 "$NLP" models rm nlp-mini
grep -q "nlp models: nlp-mini is a built-in model, not a cached one: it is not removed" "$tmp/err" ||
    fail "models rm of a built-in model: $(cat "$tmp/err")"
[ -e "$tmp/models/nlp-mini/config.json" ] || fail "models rm removed the built-in model"

# the uninstalled binary's own folder is the source tree's models/
run 0 env -u NLP_MODELS_PATH "$NLP" models
if ls "$SRC_MODELS"/*/config.json >/dev/null 2>&1; then
    grep -q " $SRC_MODELS/" "$tmp/out" || fail "nlp models does not list $SRC_MODELS"
else
    grep -q "no built-in models found" "$tmp/err" || fail "nlp models without built-in models: $(cat "$tmp/err")"
fi

# --help says which model runs without --model
run 0 "$NLP" sentiment --help
grep -q "^Default model: nlp-mini-sst2 (built in, no network access)$" "$tmp/out" ||
    fail "sentiment --help: $(grep Default "$tmp/out")"

echo "builtin.sh: $n checks, $fails failed"
[ $fails -eq 0 ]
