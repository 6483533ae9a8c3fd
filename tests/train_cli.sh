#!/bin/sh
# train_cli.sh - `nlp train` and `nlp eval` end to end:
#  - a run killed with SIGKILL after its first checkpoint and continued with
#    --resume ends with the same model.safetensors, byte for byte, as an
#    uninterrupted run (dropout on, masking, shuffling, AdamW state);
#  - the output folder: a checkpoint with the optimizer state, best/,
#    train_log.jsonl whose lines are JSON, a config.json with the data's
#    labels, and no temporary files;
#  - bad data: a malformed CSV row is named with file and line and skipped,
#    --strict stops there (exit 1), a label the model does not know is an
#    error naming it, a missing column lists the columns; a diverging run
#    stops with the step number and leaves the last checkpoint intact;
#  - usage errors exit 2;
#  - with ../shared/data: `nlp eval sentiment` on data/models/trained-sst2
#    over SST-2 dev reports exactly the accuracy, macro and per-label scores
#    of PyTorch's predictions (data/expected/eval/trained-sst2-dev.json,
#    from tests/gen/gen_eval_expected.py).
#
# Environment (set by make check): NLP (the nlp binary), top_srcdir.
set -u
: "${top_srcdir:?}"
NLP=${NLP:?NLP is not set}
M=$top_srcdir/data/models
VOCAB=$M/tiny-bert/vocab.txt

tmp=$(mktemp -d "${TMPDIR:-/tmp}/train_cli.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/sh_lib.sh"
# some text for the masked LM: the project's own documentation
grep -v '^ *$' "$top_srcdir/README.md" | head -300 >"$tmp/text.txt"

# ---------------------------------------------------------------- resume
MLM="mlm --data $tmp/text.txt --vocab $VOCAB --layers 2 --hidden 32 --heads 2
     --intermediate 64 --max-position 64 --max-len 32 --batch-size 4 --max-steps 400
     --lr 1e-3 --warmup 5 --save-every 5 --threads 2 --quiet"
run 0 "$NLP" train $MLM --out "$tmp/a"
"$NLP" train $MLM --out "$tmp/b" >/dev/null 2>&1 &
pid=$!
i=0
while ! ls -d "$tmp"/b/checkpoint-* >/dev/null 2>&1 && [ $i -lt 1200 ]; do
    sleep 0.05
    i=$((i + 1))
done
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
n=$((n + 1))
ls -d "$tmp"/b/checkpoint-* >/dev/null 2>&1 || fail "no checkpoint before the kill"
[ -f "$tmp/b/model.safetensors" ] && fail "the killed run finished before the kill"
run 0 "$NLP" train $MLM --out "$tmp/b" --resume
expect_err "resuming .*checkpoint-[0-9]+ at step"
n=$((n + 1))
cmp -s "$tmp/a/model.safetensors" "$tmp/b/model.safetensors" ||
    fail "the resumed run's model differs from the uninterrupted run's"
for f in config.json model.safetensors vocab.txt train_log.jsonl \
         checkpoint-400/optimizer.safetensors checkpoint-400/trainer_state.json; do
    [ -f "$tmp/a/$f" ] || fail "missing $f"
done
n=$((n + 1))
if ls -a "$tmp/a" "$tmp/a/checkpoint-400" | grep -q '\.tmp$'; then fail "temporary files left"; fi
grep -q '"architectures": *\[ *"BertForMaskedLM"' "$tmp/a/config.json" ||
    grep -q 'BertForMaskedLM' "$tmp/a/config.json" || fail "config.json lacks BertForMaskedLM"
n=$((n + 1))
[ "$(grep -c '"step": ' "$tmp/a/train_log.jsonl")" -ge 4 ] || fail "train_log.jsonl too short"
if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1])]' \
        "$tmp/a/train_log.jsonl" || fail "train_log.jsonl is not JSON Lines"
fi

# ---------------------------------------------------------------- sentence classification
printf 'text,label\ngood film,pos\nbad film,neg\n"a fine, fine film",pos\n"broken,neg\n' \
    >"$tmp/bad.csv"
printf 'awful plot,neg\nlovely cast,pos\nnice,pos\nboring,neg\n' >>"$tmp/bad.csv"
CLS="sentiment --init $M/tiny-bert --batch-size 2 --max-steps 3 --threads 1 --quiet"
run 0 "$NLP" train $CLS --data "$tmp/bad.csv" --out "$tmp/c" --eval "$tmp/bad.csv"
expect_err "bad.csv:5: unterminated quote.*skipped"
n=$((n + 1))
grep -q '"neg"' "$tmp/c/config.json" && grep -q '"pos"' "$tmp/c/config.json" ||
    fail "config.json lacks the data's labels"
[ -f "$tmp/c/best/model.safetensors" ] || fail "no best/ model with --eval"
run 0 "$NLP" train $CLS --data "$tmp/bad.csv" --out "$tmp/r" --rename-labels neg=negative,pos=positive
n=$((n + 1))
grep -q '"0":[[:space:]]*"negative"' "$tmp/r/config.json" &&
    grep -q '"1":[[:space:]]*"positive"' "$tmp/r/config.json" || fail "--rename-labels"
run 2 "$NLP" train $CLS --data "$tmp/bad.csv" --out "$tmp/r2" --rename-labels maybe=x
expect_err 'no label "maybe"'
run 1 "$NLP" train $CLS --data "$tmp/bad.csv" --out "$tmp/d" --strict
expect_err "bad.csv:5: "
printf 'text,label\nwhat a film,meh\n' >"$tmp/unknown.csv"
run 1 "$NLP" eval sentiment --model "$tmp/c" --data "$tmp/unknown.csv"
expect_err 'unknown.csv:2: label "meh" is not one of the model'
run 1 "$NLP" train $CLS --data "$tmp/bad.csv" --text-column review --out "$tmp/e"
expect_err 'review.*text.*label|text.*label.*review'
run 0 "$NLP" eval sentiment --model "$tmp/c" --data "$tmp/bad.csv" --json
grep -q '"accuracy":' "$tmp/out" || fail "eval --json lacks accuracy"

# a learning rate that makes the loss diverge stops the run, naming the step
run 1 "$NLP" train $CLS --data "$tmp/bad.csv" --out "$tmp/f" --lr 1e30 --max-steps 20 \
    --save-every 1 --max-grad-norm 0
expect_err "(loss|gradient norm) is (NaN|infinite) at step [0-9]+"

# ---------------------------------------------------------------- usage
run 2 "$NLP" train
run 2 "$NLP" train sentiment --out "$tmp/g"
run 2 "$NLP" train nosuchtask --data x --out y
run 2 "$NLP" train sentiment --data x --out y --lr banana
run 2 "$NLP" eval ner --data x
run 0 "$NLP" train --help
grep -q 'usage: nlp train' "$tmp/out" || fail "train --help"
run 1 "$NLP" train ner --init "$M/ner-bert" --data "$tmp/none.txt" --out "$tmp/h"
expect_err 'none.txt: cannot open'

# ---------------------------------------------------------------- zero-shot eval
# The top labels of transformers' zero-shot pipeline on three texts
# (data/expected/classify/bert-mnli-zs.json) against gold labels chosen
# here: the accuracy nlp eval reports must be the share of them that agree.
zs="$top_srcdir/data/expected/classify/bert-mnli-zs.json"
if command -v python3 >/dev/null 2>&1; then
    python3 - "$zs" "$tmp/zs.jsonl" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
with open(sys.argv[2], "w") as f:
    for text, gold in zip(d["inputs"], ["film", "politics", "sports"]):
        f.write(json.dumps({"text": text, "label": gold}) + "\n")
    f.write(json.dumps({"text": "", "label": "film"}) + "\n")
PY
    run 0 "$NLP" eval classify --model "$M/tiny-bert-mnli" --data "$tmp/zs.jsonl" \
        --labels 'sports, politics,film' --json
    expect_err 'zs.jsonl:4: no text or no label; skipped'
    n=$((n + 1))
    python3 - "$tmp/out" "$zs" <<'PY' ||
import json, sys
got = json.load(open(sys.argv[1]))
d = json.load(open(sys.argv[2]))
gold = ["film", "politics", "sports"]
acc = sum(e["labels"][0] == g for e, g in zip(d["expected"], gold)) / 3
sys.exit(0 if got["examples"] == 3 and abs(got["accuracy"] - acc) < 1e-12
         and set(got["per_label"]) == {"sports", "politics", "film"} else 1)
PY
        fail "zero-shot eval accuracy differs from transformers' top labels"
    printf '{"text": "a film", "label": "weather"}\n' > "$tmp/zs2.jsonl"
    run 1 "$NLP" eval classify --model "$M/tiny-bert-mnli" --data "$tmp/zs2.jsonl" --labels a,b
    expect_err "zs2.jsonl:1: label 'weather' is not one of the candidate labels"
fi
run 2 "$NLP" eval ner --model "$M/ner-bert" --data x --labels a,b
run 2 "$NLP" eval classify --model "$M/tiny-bert-mnli" --data x --template 'is {}'

# ---------------------------------------------------------------- stop at a step
run 0 "$NLP" train $CLS --data "$tmp/bad.csv" --out "$tmp/s" --max-steps 4 --stop-at 2 \
    --save-every 100
[ -d "$tmp/s/checkpoint-2" ] && [ ! -f "$tmp/s/model.safetensors" ] ||
    fail "--stop-at 2 did not stop with a checkpoint at step 2"

# ---------------------------------------------------------------- eval against PyTorch
dev="$top_srcdir/../shared/data/sst2/dev.tsv"
if [ -f "$dev" ] && command -v python3 >/dev/null 2>&1; then
    run 0 "$NLP" eval sentiment --model "$M/trained-sst2" --data "$dev" --json
    n=$((n + 1))
    python3 - "$tmp/out" "$top_srcdir/data/expected/eval/trained-sst2-dev.json" <<'PY' ||
import json, sys
got = json.load(open(sys.argv[1]))
want = json.load(open(sys.argv[2]))
bad = [k for k in ("accuracy", "macro_f1", "macro_precision", "macro_recall")
       if abs(got[k] - want[k]) > 1e-12]
for name, w in want["per_label"].items():
    g = got["per_label"][name]
    bad += [name + "." + k for k in w if abs(g[k] - w[k]) > 1e-12]
if bad:
    print("differ:", bad, file=sys.stderr)
    sys.exit(1)
PY
        fail "nlp eval sentiment differs from PyTorch's predictions"
else
    echo "SKIP: ../shared/data/sst2 or python3 missing: eval-vs-PyTorch check not run"
fi

echo "train_cli.sh: $n checks, $fails failed"
[ $fails -eq 0 ]
