#!/bin/sh
# embed_example.sh - the example plugin (plugins/example/embed.c) built out
# of tree with nothing but the public headers, found through
# NLP_PLUGIN_PATH, and its mean-pooled vectors compared with the PyTorch
# reference of tests/gen/gen_embed.py (data/expected/embed/<model>.jsonl).
set -u
: "${top_srcdir:?}" "${top_builddir:?}"
NLP=${NLP:-$top_builddir/cli/nlp}
PY=${PYTHON3:-python3}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/embed_example.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

${CC:-cc} -std=c11 -Wall -Wextra -Werror -shared -fPIC -I"$top_srcdir/include" \
    -o "$tmp/embed.so" "$top_srcdir/plugins/example/embed.c" -lm || {
    echo "embed_example: FAIL: the example plugin does not build out of tree"
    exit 1
}
# it exports the entry symbol and needs nothing of libnlp
if nm -D --undefined-only "$tmp/embed.so" | grep -q ' nlp_'; then
    echo "embed_example: FAIL: embed.so refers to libnlp symbols:"
    nm -D --undefined-only "$tmp/embed.so" | grep ' nlp_'
    exit 1
fi

fails=0
for model in tiny-bert tiny-distilbert; do
    ref=$top_srcdir/data/expected/embed/$model.jsonl
    # the texts of the reference, one per line on stdin, in batches of 3
    $PY -c 'import json,sys
for line in open(sys.argv[1], encoding="utf-8"): print(json.loads(line)["text"])' "$ref" >"$tmp/in.txt"
    if ! NLP_PLUGIN_PATH=$tmp "$NLP" embed --model "$top_srcdir/data/models/$model" \
            --json --batch-size 3 --threads 2 <"$tmp/in.txt" >"$tmp/out.jsonl" 2>"$tmp/err"; then
        echo "embed_example: FAIL: nlp embed on $model:"
        cat "$tmp/err"
        fails=$((fails + 1))
        continue
    fi
    $PY - "$ref" "$tmp/out.jsonl" "$model" <<'PYEOF' || fails=$((fails + 1))
import json, sys
ref = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
got = [json.loads(l) for l in open(sys.argv[2], encoding="utf-8")]
if len(got) != len(ref):
    sys.exit(f"embed_example: FAIL {sys.argv[3]}: {len(got)} vectors for {len(ref)} inputs")
worst = 0.0
for r, g in zip(ref, got):
    a, b = r["embedding"], g["embedding"]
    if len(a) != len(b):
        sys.exit(f"embed_example: FAIL {sys.argv[3]}: {len(b)} dims, expected {len(a)}")
    for x, y in zip(a, b):
        err = abs(x - y) / (1e-4 + 1e-4 * abs(x))
        worst = max(worst, abs(x - y))
        if err > 1:
            sys.exit(f"embed_example: FAIL {sys.argv[3]}: {r['text']!r}: {y} vs {x}")
print(f"embed_example: {sys.argv[3]}: {len(ref)} vectors match PyTorch, max abs diff {worst:.2e}")
PYEOF
done
[ "$fails" -eq 0 ]
