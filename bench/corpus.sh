#!/bin/sh
# corpus.sh - throughput and peak memory of corpus mode (not part of make
# check; numbers go to docs/corpus.md).
#
#   bench/corpus.sh BUILD_DIR [ROWS|all [BATCH]]
#
# 1. sentiment over the first ROWS rows (default all 67,349) of
#    ../shared/data/sst2/train.tsv with a bert-base-sized random-weight
#    BertForSequenceClassification (hidden 768, 12 layers, vocab 30,522,
#    F32, written with numpy; BENCH_MODEL=DIR keeps it between runs), four
#    ways:
#      corpus mode      --input train.tsv: windows sorted by length, batches
#                       of BATCH (default 32), reader thread; then the same
#                       with --dtype int8
#      input order      the same texts as lines, batches of BATCH in input
#                       order (padding to the longest of each batch)
#      one by one       the same texts as lines, --batch-size 1
#    reporting rows/s and peak RSS (getrusage of the child).
# 2. peak RSS of corpus mode over synthetic CSVs of 10 MB and 1 GB (rows of
#    ~10 KB, truncated to the model's 64 positions) with the tiny-bert-sst2
#    fixture, to show memory does not grow with the input.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
build=$(cd "${1:?usage: corpus.sh BUILD_DIR [ROWS|all [BATCH]]}" && pwd)
rows=${2:-all}
batch=${3:-32}
nlp="$build/cli/nlp"
[ -x "$nlp" ] || { echo "corpus.sh: $nlp not found (build first)" >&2; exit 1; }
shared="$top/../shared/data"
[ -f "$shared/sst2/train.tsv" ] || { echo "corpus.sh: $shared/sst2/train.tsv not found" >&2; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/nlp-corpus-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

model="${BENCH_MODEL:-$tmp/model}"
if [ ! -f "$model/model.safetensors" ]; then
    /usr/bin/python3 - "$model" "$shared/vocab/bert-base-uncased/vocab.txt" <<'EOF'
import json, os, shutil, struct, sys
import numpy as np
d, vocab = sys.argv[1], sys.argv[2]
os.makedirs(d, exist_ok=True)
H, L, I, V, P, TV = 768, 12, 3072, 30522, 512, 2
cfg = {"architectures": ["BertForSequenceClassification"], "hidden_act": "gelu",
       "hidden_size": H, "intermediate_size": I, "layer_norm_eps": 1e-12,
       "max_position_embeddings": P, "model_type": "bert", "num_attention_heads": 12,
       "num_hidden_layers": L, "pad_token_id": 0, "type_vocab_size": TV, "vocab_size": V,
       "id2label": {"0": "NEGATIVE", "1": "POSITIVE"}, "label2id": {"NEGATIVE": 0, "POSITIVE": 1}}
json.dump(cfg, open(os.path.join(d, "config.json"), "w"), indent=2)
json.dump({"do_lower_case": True, "model_max_length": 512},
          open(os.path.join(d, "tokenizer_config.json"), "w"))
shutil.copy(vocab, os.path.join(d, "vocab.txt"))
s = {"bert.embeddings.word_embeddings.weight": (V, H),
     "bert.embeddings.position_embeddings.weight": (P, H),
     "bert.embeddings.token_type_embeddings.weight": (TV, H),
     "bert.embeddings.LayerNorm.weight": (H,), "bert.embeddings.LayerNorm.bias": (H,)}
for l in range(L):
    b = "bert.encoder.layer.%d." % l
    for n in ("attention.self.query", "attention.self.key", "attention.self.value",
              "attention.output.dense"):
        s[b + n + ".weight"], s[b + n + ".bias"] = (H, H), (H,)
    s[b + "intermediate.dense.weight"], s[b + "intermediate.dense.bias"] = (I, H), (I,)
    s[b + "output.dense.weight"], s[b + "output.dense.bias"] = (H, I), (H,)
    for n in ("attention.output.LayerNorm", "output.LayerNorm"):
        s[b + n + ".weight"], s[b + n + ".bias"] = (H,), (H,)
s["bert.pooler.dense.weight"], s["bert.pooler.dense.bias"] = (H, H), (H,)
s["classifier.weight"], s["classifier.bias"] = (2, H), (2,)
rng = np.random.default_rng(0)
header, off = {}, 0
for k, shp in s.items():
    n = int(np.prod(shp)) * 4
    header[k] = {"dtype": "F32", "shape": list(shp), "data_offsets": [off, off + n]}
    off += n
hb = json.dumps(header).encode()
hb += b" " * (-len(hb) % 8)
with open(os.path.join(d, "model.safetensors"), "wb") as f:
    f.write(struct.pack("<Q", len(hb)) + hb)
    for k, shp in s.items():
        if k.endswith("LayerNorm.weight"):
            a = np.ones(shp, np.float32)
        elif k.endswith("bias") or "LayerNorm" in k:
            a = np.zeros(shp, np.float32)
        else:
            a = (rng.standard_normal(shp, dtype=np.float32) * 0.02)
        f.write(a.tobytes())
EOF
fi

# run LABEL CMD...: time and peak RSS of CMD (stdin/stdout as given)
measure() {
    label=$1
    shift
    /usr/bin/python3 - "$label" "$@" <<'EOF'
import resource, subprocess, sys, time
label, cmd = sys.argv[1], sys.argv[2:]
t = time.monotonic()
subprocess.run(cmd, check=False)
secs = time.monotonic() - t
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print("%s\t%.1f s\t%.0f MB" % (label, secs, rss), flush=True)
EOF
}

if [ "$rows" = all ]; then
    cp "$shared/sst2/train.tsv" "$tmp/in.tsv"
else
    head -n $((rows + 1)) "$shared/sst2/train.tsv" >"$tmp/in.tsv"
fi
n=$(($(wc -l <"$tmp/in.tsv") - 1))
tail -n +2 "$tmp/in.tsv" | cut -f1 >"$tmp/lines.txt"
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores," \
     "$(grep -o -m1 'avx512f' /proc/cpuinfo || echo 'no AVX-512')"
echo "sst2 train: $n rows, batch $batch, bert-base-sized random weights"
for mode in corpus corpus8 ordered single; do
    case $mode in
    corpus) r=$(measure "corpus mode (sorted windows, batch $batch)" "$nlp" sentiment --model "$model" --offline \
                    --input "$tmp/in.tsv" --text-column text --output "$tmp/out.tsv" --batch-size "$batch" --quiet) ;;
    corpus8) r=$(measure "corpus mode, --dtype int8 (batch $batch)" "$nlp" sentiment --model "$model" --offline \
                    --dtype int8 --input "$tmp/in.tsv" --text-column text --output "$tmp/out8.tsv" \
                    --batch-size "$batch" --quiet) ;;
    ordered) r=$(measure "lines in input order (batch $batch)" sh -c "'$nlp' sentiment --model '$model' --offline --json \
                    --batch-size $batch --quiet <'$tmp/lines.txt' >'$tmp/out.json'") ;;
    single) r=$(measure "one by one (batch 1)" sh -c "'$nlp' sentiment --model '$model' --offline --json \
                    --batch-size 1 --quiet <'$tmp/lines.txt' >'$tmp/out1.json'") ;;
    esac
    secs=$(echo "$r" | cut -f2 | cut -d' ' -f1)
    echo "$r	$(/usr/bin/python3 -c "print('%.1f rows/s' % ($n / $secs))")"
done
[ "$(($(wc -l <"$tmp/out.tsv") - 1))" -eq "$n" ] || echo "corpus.sh: warning: corpus mode wrote $(($(wc -l <"$tmp/out.tsv") - 1)) rows of $n"

# memory against input size (tiny fixture: the input dominates, not the model)
tiny="$top/data/models/tiny-bert-sst2"
for size in ${BENCH_SIZES:-10 1000}; do
    /usr/bin/python3 - "$tmp/syn.csv" "$size" <<'EOF'
import random, sys
path, mb = sys.argv[1], int(sys.argv[2])
rnd = random.Random(1)
words = "the film was great terrible boring fun slow plot music ending acting".split()
line = 0
with open(path, "w") as f:
    f.write("id,text\n")
    size = 0
    while size < mb * 1000000:
        t = " ".join(rnd.choice(words) for _ in range(rnd.randint(200, 2000)))
        s = "%d,%s\n" % (line, t)
        f.write(s)
        size += len(s)
        line += 1
EOF
    bytes=$(wc -c <"$tmp/syn.csv")
    r=$(measure "synthetic $size MB" "$nlp" sentiment --model "$tiny" --input "$tmp/syn.csv" \
            --text-column text --output /dev/null --batch-size "$batch" --quiet)
    echo "$r	$(($(wc -l <"$tmp/syn.csv") - 1)) rows, $bytes bytes"
    rm -f "$tmp/syn.csv"
done
