#!/bin/sh
# models/train.sh - rebuild the built-in models from ../shared/data with
# `nlp train` and score them with `nlp eval`: the exact commands, seeds and
# steps.  Every stage resumes where it stopped when run again.
#
#   models/train.sh NLP WORKDIR [STAGE...]
#
# NLP is the nlp binary; WORKDIR a folder outside the source tree for the
# data splits, runs, checkpoints and evaluation reports (WORKDIR/*.eval.json).
# Stages, in order (default: all):
#   data      split the corpus (every 200th paragraph held out) and SQuAD
#             (the last 4 of its 24 articles held out); NLI and AG News as
#             JSON Lines (needs python3)
#   pretrain  nlp-mini: masked-LM pretraining from scratch (WORKDIR/mlm)
#   pretrain2 its continuation (WORKDIR/mlm2), the final nlp-mini
#   sst2 ner squad nli   fine-tunes of nlp-mini (WORKDIR/sst2, ...)
#   export    write the models into the source tree's models/ folder
#             (nlp-mini as fp16, the task models as int8)
#   eval      every model on its dev data, the runs and the tree's copies
#   small     a second, smaller shape and its SST-2 fine-tune (WORKDIR/
#             mlm-small, WORKDIR/sst2-small), for comparison; not shipped
set -eu
NLP=${1:?usage: models/train.sh NLP WORKDIR [STAGE...]}
W=${2:?usage: models/train.sh NLP WORKDIR [STAGE...]}
shift 2
HERE=$(cd "$(dirname "$0")" && pwd)
SHARED=$(cd "$HERE/../.." && pwd)/shared/data
[ -d "$SHARED" ] || { echo "models/train.sh: $SHARED not found" >&2; exit 1; }
mkdir -p "$W"
W=$(cd "$W" && pwd)
STAGES=${*:-data pretrain pretrain2 sst2 ner squad nli export eval}
# the masked LM the fine-tunes start from and nlp-mini is exported from
PRE=$W/mlm2
TRAIN="nice -n 10 $NLP train"

resume() { [ -d "$1" ] && ls -d "$1"/checkpoint-* >/dev/null 2>&1 && echo --resume || true; }
done_run() { [ -f "$1/model.safetensors" ]; }

stage_data() {
    [ -f "$W/corpus-train.txt" ] ||
        cat "$SHARED"/corpus/*.txt | awk -v t="$W/corpus-train.txt" -v e="$W/corpus-eval.txt" \
            'NR % 200 == 0 { print > e; next } { print > t }'
    python3 "$HERE/prepare_data.py" "$SHARED" "$W"
}

# 4 layers, hidden 256, 4 heads, the bert-base-uncased vocabulary, 128-token
# sequences, 20% masking, no dropout, AdamW beta2 0.98, weight decay 0.01,
# clipping 0.5, batch 64, peak lr 5e-4 after 300 warm-up steps, then linear
# decay.  The schedule's length changed four times during the run to fit
# the time the machine had (planned for 6,000 steps; 3,500 from step 1,500;
# 10,000 from step 1,712; 4,500 from step 1,850; 3,300 from step 2,024);
# the phases below reproduce it exactly, each continuing the previous
# one's checkpoint.
stage_pretrain() {
    done_run "$W/mlm" && return 0
    set -- mlm --data "$W/corpus-train.txt" --eval "$W/corpus-eval.txt" \
        --vocab "$SHARED/vocab/bert-base-uncased/vocab.txt" \
        --layers 4 --hidden 256 --heads 4 --intermediate 1024 --max-position 512 \
        --max-len 128 --mask-prob 0.2 --dropout 0 --batch-size 64 \
        --lr 5e-4 --warmup 300 --weight-decay 0.01 --adam-beta2 0.98 --max-grad-norm 0.5 \
        --eval-every 500 --save-every 100 --log-every 10 --seed 1 --out "$W/mlm"
    last=$(ls -d "$W"/mlm/checkpoint-* 2>/dev/null | sed 's/.*checkpoint-//' | sort -n | tail -1)
    last=${last:-0}
    [ "$last" -ge 1500 ] || $TRAIN "$@" --max-steps 6000 --stop-at 1500 $(resume "$W/mlm")
    [ "$last" -ge 1712 ] || $TRAIN "$@" --max-steps 3500 --stop-at 1712 --resume
    [ "$last" -ge 1850 ] || $TRAIN "$@" --max-steps 10000 --stop-at 1850 --resume
    [ "$last" -ge 2024 ] || $TRAIN "$@" --max-steps 4500 --stop-at 2024 --resume
    $TRAIN "$@" --max-steps 3300 --resume
}

# Continued pretraining of nlp-mini (the run above ends on the loss
# plateau around 6.2 that small BERTs sit on before they learn to use
# context): a new warm-up to a higher peak (7e-4 after 500 steps), then
# linear decay, new masks and order (seed 2), same data.  Planned for
# 10,000 steps; from step 900 the schedule ends at step 3,000, from step
# 1,084 at step 2,400 on one thread (the machine's other core was busy)
# and from step 1,133 at step 2,000, to fit the machine's time.
stage_pretrain2() {
    done_run "$W/mlm2" && return 0
    set -- mlm --init "$W/mlm" --data "$W/corpus-train.txt" --eval "$W/corpus-eval.txt" \
        --max-len 128 --mask-prob 0.2 --dropout 0 --batch-size 64 \
        --lr 7e-4 --warmup 500 --weight-decay 0.01 --adam-beta2 0.98 --max-grad-norm 0.5 \
        --eval-every 500 --save-every 100 --log-every 10 --seed 2 --out "$W/mlm2"
    last=$(ls -d "$W"/mlm2/checkpoint-* 2>/dev/null | sed 's/.*checkpoint-//' | sort -n | tail -1)
    [ "${last:-0}" -ge 900 ] || $TRAIN "$@" --max-steps 10000 --stop-at 900 $(resume "$W/mlm2")
    [ "${last:-0}" -ge 1084 ] || $TRAIN "$@" --max-steps 3000 --stop-at 1084 --resume
    [ "${last:-0}" -ge 1133 ] || $TRAIN "$@" --max-steps 2400 --threads 1 --stop-at 1133 --resume
    $TRAIN "$@" --max-steps 2000 --threads 1 --resume
}

# The second shape, for the comparison of dev metrics per hour of training
# in models/README.md (not shipped): 2 layers, hidden 128, 2 heads,
# intermediate 512, otherwise the recipe of `pretrain` at a peak lr of 1e-3,
# 1,500 steps on one thread; then the SST-2 fine-tune of `sst2`.
stage_small() {
    done_run "$W/mlm-small" || $TRAIN mlm --data "$W/corpus-train.txt" --eval "$W/corpus-eval.txt" \
        --vocab "$SHARED/vocab/bert-base-uncased/vocab.txt" \
        --layers 2 --hidden 128 --heads 2 --intermediate 512 --max-position 512 \
        --max-len 128 --mask-prob 0.2 --dropout 0 --batch-size 64 --max-steps 1500 \
        --lr 1e-3 --warmup 300 --weight-decay 0.01 --adam-beta2 0.98 --max-grad-norm 0.5 \
        --eval-every 500 --save-every 100 --log-every 10 --seed 1 --threads 1 \
        --out "$W/mlm-small" $(resume "$W/mlm-small")
    done_run "$W/sst2-small" || $TRAIN sentiment --init "$W/mlm-small" --data "$SHARED/sst2/train.tsv" \
        --eval "$SHARED/sst2/dev.tsv" --rename-labels 0=negative,1=positive --max-len 66 \
        --batch-size 32 --epochs 2 --lr 1e-4 --warmup-ratio 0.1 --dropout 0.1 --seed 1 \
        --threads 1 --save-every 500 --out "$W/sst2-small" $(resume "$W/sst2-small")
}

# Fine-tunes: AdamW, linear decay, 10% warm-up, dropout 0.1, seed 1, one
# thread each (two stage lists run side by side use both cores:
# `train.sh NLP W sst2 nli & train.sh NLP W squad ner`).
stage_sst2() {
    done_run "$W/sst2" && return 0
    $TRAIN sentiment --init "$PRE" --data "$SHARED/sst2/train.tsv" --eval "$SHARED/sst2/dev.tsv" \
        --rename-labels 0=negative,1=positive --max-len 66 --batch-size 32 --epochs 2 \
        --lr 1e-4 --warmup-ratio 0.1 --dropout 0.1 --seed 1 --threads 1 --save-every 500 \
        --out "$W/sst2" $(resume "$W/sst2")
}

stage_ner() {
    done_run "$W/ner" && return 0
    $TRAIN ner --init "$PRE" --data "$SHARED/conll2003/train.txt" \
        --eval "$SHARED/conll2003/valid.txt" --max-len 128 --batch-size 32 --epochs 4 \
        --lr 2e-4 --warmup-ratio 0.1 --dropout 0.1 --seed 1 --threads 1 --save-every 200 \
        --out "$W/ner" $(resume "$W/ner")
}

stage_squad() {
    done_run "$W/squad" && return 0
    $TRAIN qa --init "$PRE" --data "$W/squad-train.json" --eval "$W/squad-eval.json" \
        --max-len 256 --doc-stride 64 --batch-size 16 --epochs 3 \
        --lr 2e-4 --warmup-ratio 0.1 --dropout 0.1 --seed 1 --threads 1 --save-every 200 \
        --out "$W/squad" $(resume "$W/squad")
}

stage_nli() {
    done_run "$W/nli" && return 0
    $TRAIN classify --init "$PRE" --data "$W/nli-train.jsonl" --eval "$W/nli-eval.jsonl" \
        --text-column premise --text-pair-column hypothesis --max-len 128 --batch-size 32 \
        --epochs 3 --lr 1e-4 --warmup-ratio 0.1 --dropout 0.1 --seed 1 --threads 1 --save-every 200 \
        --out "$W/nli" $(resume "$W/nli")
}

# The metrics of the README's model card, as JSON in WORKDIR/NAME.eval.json.
evaluate() {   # NAME MODEL_DIR TASK ARGS...
    name=$1 dir=$2 task=$3
    shift 3
    echo "== $name ($dir)"
    "$NLP" eval "$task" --model "$dir" "$@" --json > "$W/$name.eval.json"
    cat "$W/$name.eval.json"
}

eval_set() {   # SUFFIX MLM SST2 NER SQUAD NLI
    x=$1
    evaluate nlp-mini$x "$2" mlm --data "$SHARED/sst2/dev.tsv" --mask-prob 0.15 --seed 42
    evaluate nlp-mini-sst2$x "$3" sentiment --data "$SHARED/sst2/dev.tsv"
    evaluate nlp-mini-ner$x "$4" ner --data "$SHARED/conll2003/valid.txt"
    evaluate nlp-mini-squad$x "$5" qa --data "$W/squad-eval.json" --max-len 256 --doc-stride 64
    evaluate nlp-mini-nli$x "$6" classify --data "$W/nli-eval.jsonl" \
        --text-column premise --text-pair-column hypothesis
    evaluate nlp-mini-nli-agnews$x "$6" classify --data "$W/agnews.jsonl" \
        --labels "World,Sports,Business,Science and technology" \
        --template "This example is about {}."
}

# The runs, then the tree's copies (fp16 / int8) once exported: WORKDIR/
# NAME.eval.json and NAME-shipped.eval.json.
stage_eval() {
    eval_set "" "$PRE" "$W/sst2" "$W/ner" "$W/squad" "$W/nli"
    [ -f "$HERE/nlp-mini-nli/config.json" ] || return 0
    eval_set -shipped "$HERE/nlp-mini" "$HERE/nlp-mini-sst2" "$HERE/nlp-mini-ner" \
        "$HERE/nlp-mini-squad" "$HERE/nlp-mini-nli"
}

# The tree's copies: fp16 for the masked LM (it loads in transformers as
# is), int8 with int8 word embeddings and the rest fp16 for the task
# models (nlp's format; --dtype fp16 of them gives transformers a copy).
stage_export() {
    "$NLP" quantize --force --dtype fp16 "$PRE" "$HERE/nlp-mini"
    for m in sst2 ner squad nli; do
        "$NLP" quantize --force --dtype int8 --embeddings int8 --rest fp16 "$W/$m" "$HERE/nlp-mini-$m"
    done
    for d in "$HERE"/nlp-mini*/; do
        rm -rf "$d"/checkpoint-* "$d/best" "$d/train_log.jsonl"
        printf '%s\n' '{"do_lower_case": true, "model_max_length": 512, "tokenizer_class": "BertTokenizer",' \
            ' "unk_token": "[UNK]", "sep_token": "[SEP]", "pad_token": "[PAD]", "cls_token": "[CLS]",' \
            ' "mask_token": "[MASK]"}' > "$d/tokenizer_config.json"
        printf '%s\n' '{"unk_token": "[UNK]", "sep_token": "[SEP]", "pad_token": "[PAD]",' \
            ' "cls_token": "[CLS]", "mask_token": "[MASK]"}' > "$d/special_tokens_map.json"
    done
}

for s in $STAGES; do
    echo "== stage $s"
    "stage_$s"
done
