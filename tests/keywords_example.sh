#!/bin/sh
# keywords_example.sh - the example plugin (plugins/example/keywords.c)
# built out of tree with nothing but the public headers, found through
# NLP_PLUGIN_PATH, and its keywords compared with the PyTorch reference of
# tests/gen/gen_keywords.py (data/expected/keywords/keywords.json): the
# same words with the same offsets in the same order, scores within 1e-4,
# at the default --top-k and at --top-k 2.
set -u
: "${top_srcdir:?}" "${top_builddir:?}"
NLP=${NLP:-$top_builddir/cli/nlp}
PY=${PYTHON3:-python3}
REF=$top_srcdir/data/expected/keywords/keywords.json

tmp=$(mktemp -d "${TMPDIR:-/tmp}/keywords_example.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

${CC:-cc} -std=c11 -Wall -Wextra -Werror -shared -fPIC -fvisibility=hidden \
    -I"$top_srcdir/include" -o "$tmp/keywords.so" \
    "$top_srcdir/plugins/example/keywords.c" -lm || {
    echo "keywords_example: FAIL: the example plugin does not build out of tree"
    exit 1
}
# it exports the entry symbol alone and needs nothing of libnlp
if nm -D --undefined-only "$tmp/keywords.so" | grep -q ' nlp_'; then
    echo "keywords_example: FAIL: keywords.so refers to libnlp symbols:"
    nm -D --undefined-only "$tmp/keywords.so" | grep ' nlp_'
    exit 1
fi
exports=$(nm -D --defined-only "$tmp/keywords.so" | awk '$2 == "T" {print $3}')
[ "$exports" = nlp_plugin_entry ] || {
    echo "keywords_example: FAIL: keywords.so exports: $exports"
    exit 1
}
# found through NLP_PLUGIN_PATH next to the built-in plugins, clashing with none
NLP_PLUGIN_PATH=$tmp "$NLP" plugins >"$tmp/plugins.txt" 2>&1 || {
    echo "keywords_example: FAIL: nlp plugins:"; cat "$tmp/plugins.txt"; exit 1; }
grep -Eq "^keywords +0\.1\.0 +keywords +$tmp/keywords.so$" "$tmp/plugins.txt" &&
    ! grep -qi "refus" "$tmp/plugins.txt" || {
    echo "keywords_example: FAIL: nlp plugins with NLP_PLUGIN_PATH:"
    cat "$tmp/plugins.txt"
    exit 1
}

fails=0
for model in tiny-bert tiny-distilbert; do
    for k in 5 2; do
        # the texts of the reference as arguments, in batches of 3
        $PY -c 'import json,sys
for c in json.load(open(sys.argv[1], encoding="utf-8"))["models"][sys.argv[2]]:
    sys.stdout.write(c["text"] + "\0")' "$REF" "$model" >"$tmp/texts"
        if ! NLP_PLUGIN_PATH=$tmp xargs -0 "$NLP" keywords \
                --model "$top_srcdir/data/models/$model" --top-k "$k" --json \
                --batch-size 3 --threads 2 <"$tmp/texts" >"$tmp/out.jsonl" 2>"$tmp/err"; then
            echo "keywords_example: FAIL: nlp keywords --top-k $k on $model:"
            cat "$tmp/err"
            fails=$((fails + 1))
            continue
        fi
        $PY - "$REF" "$tmp/out.jsonl" "$model" "$k" <<'PYEOF' || fails=$((fails + 1))
import json, sys
ref_path, out_path, model, k = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
ref = json.load(open(ref_path, encoding="utf-8"))["models"][model]
got = [json.loads(l) for l in open(out_path, encoding="utf-8")]
what = f"keywords_example: {model} --top-k {k}"
if len(got) != len(ref):
    sys.exit(f"{what}: FAIL: {len(got)} results for {len(ref)} texts")
worst = 0.0
for r, g in zip(ref, got):
    want = r["keywords"][:k]
    if [(w["word"], w["start"], w["end"]) for w in g] != \
       [(w["word"], w["start"], w["end"]) for w in want]:
        sys.exit(f"{what}: FAIL: {r['text']!r}: got {g}, expected {want}")
    for x, y in zip(want, g):
        worst = max(worst, abs(x["score"] - y["score"]))
        if abs(x["score"] - y["score"]) > 1e-4:
            sys.exit(f"{what}: FAIL: {r['text']!r}: {y['word']!r} scores {y['score']}, "
                     f"expected {x['score']}")
print(f"{what}: {len(ref)} texts match PyTorch, max score diff {worst:.2e}")
PYEOF
    done
done
[ "$fails" -eq 0 ]
