#!/bin/sh
# models/pretrain.sh - pretrain the small masked-LM encoder the built-in
# models start from, with `nlp train mlm` on ../shared/data/corpus.
#
#   models/pretrain.sh NLP WORKDIR     (run it again to resume)
#
# NLP is the nlp binary, WORKDIR a folder outside the source tree that gets
# the corpus split (train.txt; eval.txt = every 200th paragraph, held out)
# and the run (WORKDIR/a: checkpoints, best/, train_log.jsonl).  The shape
# and recipe: 4 layers, hidden 256, 4 heads, intermediate 1024, the
# bert-base-uncased vocabulary, sequences of 128, 20% masking, no dropout,
# AdamW beta2 0.98, weight decay 0.01, clipping 0.5, peak learning rate
# 5e-4 after 300 warm-up steps, linear decay to 0 at step 6000, batch 64.
set -eu
NLP=${1:?usage: models/pretrain.sh NLP WORKDIR}
W=${2:?usage: models/pretrain.sh NLP WORKDIR}
SHARED=$(cd "$(dirname "$0")/../.." && pwd)/shared/data
mkdir -p "$W"
if [ ! -f "$W/train.txt" ]; then
    cat "$SHARED"/corpus/*.txt |
        awk -v t="$W/train.txt" -v e="$W/eval.txt" 'NR % 200 == 0 { print > e; next } { print > t }'
fi
R=""
[ -d "$W/a" ] && R=--resume
exec nice -n 10 "$NLP" train mlm --data "$W/train.txt" --eval "$W/eval.txt" \
    --vocab "$SHARED/vocab/bert-base-uncased/vocab.txt" \
    --layers 4 --hidden 256 --heads 4 --intermediate 1024 --max-position 512 \
    --max-len 128 --mask-prob 0.2 --dropout 0 --batch-size 64 --max-steps 6000 \
    --lr 5e-4 --warmup 300 --weight-decay 0.01 --adam-beta2 0.98 --max-grad-norm 0.5 \
    --eval-every 500 --save-every 100 --log-every 10 --seed 1 --out "$W/a" $R
