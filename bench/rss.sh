#!/bin/sh
# rss.sh - peak memory and speed of the encoder forward pass on a
# bert-base-sized random checkpoint (not part of make check).
#
#   bench/rss.sh BUILD_DIR [BATCH [SEQ [THREADS [REPS [DTYPE]]]]]
#
# BUILD_DIR is a configured and built tree (core/.libs/libnlp.so).  The
# script writes a random BertModel checkpoint (hidden 768, 12 layers,
# 12 heads, intermediate 3072, vocab 30522, F32, ~420 MB) with numpy into a
# temporary directory, builds bench/fwd_rss.c against the build tree and
# runs it: the peak RSS should stay under the weight file size + 150 MB,
# since F32 weights are used in place from the mapping.  With RSS_MODEL set
# to a directory, the checkpoint is written there once and reused.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
build=$(cd "${1:?usage: rss.sh BUILD_DIR [BATCH [SEQ [THREADS [REPS]]]]}" && pwd)
shift
lib="$build/core/.libs"
[ -f "$lib/libnlp.so" ] || { echo "rss.sh: $lib/libnlp.so not found (build first)" >&2; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/nlp-rss.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

model="${RSS_MODEL:-$tmp/model}"
[ -f "$model/model.safetensors" ] || /usr/bin/python3 - "$model" <<'EOF'
import json, os, struct, sys
import numpy as np
d = sys.argv[1]
os.makedirs(d, exist_ok=True)
H, L, I, V, P, TV = 768, 12, 3072, 30522, 512, 2
cfg = {"architectures": ["BertModel"], "hidden_act": "gelu", "hidden_size": H,
       "intermediate_size": I, "layer_norm_eps": 1e-12,
       "max_position_embeddings": P, "model_type": "bert",
       "num_attention_heads": 12, "num_hidden_layers": L, "pad_token_id": 0,
       "type_vocab_size": TV, "vocab_size": V}
json.dump(cfg, open(os.path.join(d, "config.json"), "w"), indent=2)
shapes = {"embeddings.word_embeddings.weight": (V, H),
          "embeddings.position_embeddings.weight": (P, H),
          "embeddings.token_type_embeddings.weight": (TV, H),
          "embeddings.LayerNorm.weight": (H,), "embeddings.LayerNorm.bias": (H,),
          "pooler.dense.weight": (H, H), "pooler.dense.bias": (H,)}
for i in range(L):
    p = "encoder.layer.%d." % i
    for n in ("attention.self.query", "attention.self.key",
              "attention.self.value", "attention.output.dense"):
        shapes[p + n + ".weight"] = (H, H)
        shapes[p + n + ".bias"] = (H,)
    shapes[p + "intermediate.dense.weight"] = (I, H)
    shapes[p + "intermediate.dense.bias"] = (I,)
    shapes[p + "output.dense.weight"] = (H, I)
    shapes[p + "output.dense.bias"] = (H,)
    for n in ("attention.output.LayerNorm", "output.LayerNorm"):
        shapes[p + n + ".weight"] = (H,)
        shapes[p + n + ".bias"] = (H,)
names = sorted(shapes)
header, off = {"__metadata__": {"format": "pt"}}, 0
for n in names:
    size = 4 * int(np.prod(shapes[n]))
    header[n] = {"dtype": "F32", "shape": list(shapes[n]), "data_offsets": [off, off + size]}
    off += size
hj = json.dumps(header, separators=(",", ":")).encode()
hj += b" " * ((8 - len(hj) % 8) % 8)
rng = np.random.default_rng(0)
with open(os.path.join(d, "model.safetensors"), "wb") as f:
    f.write(struct.pack("<Q", len(hj)))
    f.write(hj)
    for n in names:
        if n.endswith("LayerNorm.weight"):
            a = np.ones(shapes[n], np.float32)
        else:
            a = rng.standard_normal(shapes[n], np.float32) * np.float32(0.02)
        f.write(a.astype("<f4").tobytes())
EOF

gcc -std=c11 -O2 -D_GNU_SOURCE -I"$top/include" "$here/fwd_rss.c" \
    -L"$lib" -Wl,-rpath,"$lib" -lnlp -o "$tmp/fwd_rss"
"$tmp/fwd_rss" "$model" "$@"
