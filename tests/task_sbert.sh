#!/bin/sh
# task_sbert.sh - end-to-end tests of `nlp embed`, `nlp similarity` and
# `nlp rerank` against the PyTorch references of tests/gen/gen_sbert.py
# (data/expected/sbert) on the all-MiniLM-L6-v2-layout fixtures: every
# pooling mode with and without normalization, the model folder's own
# pooling, max_seq_length, a plain BERT (mean pooling, data/expected/embed),
# cosine scores for a query and for pairs, cross-encoder scores (sigmoid
# and raw), the ranked lists, corpus mode with --vectors (.npy and .f32),
# and the errors with their messages and exit statuses.
set -u
: "${top_srcdir:?}" "${top_builddir:?}"
NLP=${NLP:-$top_builddir/cli/nlp}
PY=${PYTHON3:-python3}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/task_sbert.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
. "$top_srcdir/tests/sh_lib.sh"

M=$top_srcdir/data/models
E=$top_srcdir/data/expected/sbert
EMB=$M/minilm-embed
RR=$M/minilm-rerank

# compare.py KIND REF OUT [ARGS...]: the numbers of OUT against REF within 1e-4
cat >"$tmp/compare.py" <<'PYEOF'
import json, sys
kind, ref_path, out_path = sys.argv[1:4]
rest = sys.argv[4:]
ref = None if kind == "embed-jsonl" else json.load(open(ref_path, encoding="utf-8"))
out = open(out_path, encoding="utf-8").read()
TOL = 1e-4

def close(a, b):
    return abs(a - b) <= TOL

def worst(pairs):
    return max([abs(a - b) for a, b in pairs] or [0.0])

if kind == "embed":          # rest: index of the case
    case = ref["cases"][int(rest[0])]
    got = [json.loads(l)["embedding"] for l in out.splitlines()]
    want = case["embeddings"]
    if len(got) != len(want) or any(len(g) != len(w) for g, w in zip(got, want)):
        sys.exit("shape %s, expected %s" % ([len(g) for g in got], [len(w) for w in want]))
    d = worst([(a, b) for g, w in zip(got, want) for a, b in zip(g, w)])
elif kind == "embed-jsonl":  # the jsonl references of gen_embed.py
    want = [json.loads(l)["embedding"] for l in open(ref_path, encoding="utf-8")]
    got = [json.loads(l)["embedding"] for l in out.splitlines()]
    if len(got) != len(want):
        sys.exit("%d vectors for %d" % (len(got), len(want)))
    d = worst([(a, b) for g, w in zip(got, want) for a, b in zip(g, w)])
elif kind in ("ranked", "ranked-text"):   # rest: the field of ref holding the scores [, case]
    scores = ref["cases"][int(rest[1])][rest[0]] if len(rest) > 1 else ref[rest[0]]
    got = json.loads(out)
    if sorted(g["index"] for g in got) != list(range(len(scores))):
        sys.exit("indices %s" % [g["index"] for g in got])
    if [g["score"] for g in got] != sorted((g["score"] for g in got), reverse=True):
        sys.exit("not sorted by score: %s" % out)
    for g in got:
        texts = ref["texts"]
        if kind == "ranked-text" and g.get("text") != texts[g["index"]]:
            sys.exit("text of %d: %r" % (g["index"], g.get("text")))
        if kind == "ranked" and "text" in g and rest[0] == "scores":
            sys.exit("text without --return-text")
    d = worst([(g["score"], scores[g["index"]]) for g in got])
elif kind == "column":       # rest: field of ref with the scores [, case]; out: JSON Lines with "score"
    scores = ref["cases"][int(rest[1])][rest[0]] if len(rest) > 1 else ref[rest[0]]
    got = [json.loads(l)["score"] for l in out.splitlines()]
    if len(got) != len(scores):
        sys.exit("%d rows for %d" % (len(got), len(scores)))
    d = worst(list(zip(got, scores)))
else:
    sys.exit("unknown kind " + kind)
if d > TOL:
    sys.exit("max |diff| %.3g > %g" % (d, TOL))
print("max |diff| %.2e" % d)
PYEOF

cmp_out() {
    kind=$1 ref=$2
    shift 2
    n=$((n + 1))
    if ! msg=$($PY "$tmp/compare.py" "$kind" "$ref" "$tmp/out" "$@" 2>&1); then
        fail "$kind $(basename "$ref") $*: $msg"
    else
        echo "ok $n: $kind $(basename "$ref") $*: $msg"
    fi
}

# ---- embed: every option set of the reference
ncases=$($PY -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["cases"]))' "$E/embed.json")
$PY -c 'import json,sys
for t in json.load(open(sys.argv[1], encoding="utf-8"))["texts"]: print(t)' "$E/embed.json" >"$tmp/texts.txt"
i=0
while [ "$i" -lt "$ncases" ]; do
    args=$($PY -c 'import json,sys; print(" ".join(json.load(open(sys.argv[1]))["cases"][int(sys.argv[2])]["args"]))' "$E/embed.json" "$i")
    # shellcheck disable=SC2086
    "$NLP" embed --model "$EMB" --json --batch-size 3 $args <"$tmp/texts.txt" >"$tmp/out" 2>"$tmp/err" ||
        { n=$((n + 1)); fail "nlp embed $args: $(cat "$tmp/err")"; }
    cmp_out embed "$E/embed.json" "$i"
    i=$((i + 1))
done
# --normalize on a plain BERT, and its default: mean pooling, no normalization
run 0 "$NLP" embed --model "$M/tiny-bert" --json "Hello world." "The quick brown fox jumps over the lazy dog, again and again." "a" "Café prices rose 12% in 2023!"
cmp_out embed-jsonl "$top_srcdir/data/expected/embed/tiny-bert.jsonl"
run 0 "$NLP" embed --model "$M/tiny-bert" --json --normalize "Hello world."
$PY -c 'import json,sys,math
v=json.loads(open(sys.argv[1]).read())["embedding"]
sys.exit(0 if abs(math.sqrt(sum(x*x for x in v)) - 1) < 1e-5 else 1)' "$tmp/out" || fail "--normalize: not unit length"
# the table shows the vector as JSON
run 0 "$NLP" embed --model "$EMB" "Hello world."
grep -q '^embedding' "$tmp/out" || fail "embed table: $(head -c 200 "$tmp/out")"

# ---- similarity: a query against texts, ranked; pairs in corpus mode
sargs() { $PY -c 'import json,sys; print(" ".join(json.load(open(sys.argv[1]))["cases"][int(sys.argv[2])]["args"]))' "$E/similarity.json" "$1"; }
query=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["query"])' "$E/similarity.json")
$PY -c 'import json,sys
for t in json.load(open(sys.argv[1], encoding="utf-8"))["texts"]: print(t)' "$E/similarity.json" >"$tmp/stexts.txt"
$PY -c 'import json,sys
for a, b in json.load(open(sys.argv[1], encoding="utf-8"))["pairs"]: print(json.dumps({"a": a, "b": b}))' \
    "$E/similarity.json" >"$tmp/pairs.jsonl"
for c in 0 1; do
    # shellcheck disable=SC2046
    "$NLP" similarity --model "$EMB" --json --query "$query" $(sargs $c) <"$tmp/stexts.txt" \
        >"$tmp/out" 2>"$tmp/err" || { n=$((n + 1)); fail "similarity: $(cat "$tmp/err")"; }
    cmp_out ranked-text "$E/similarity.json" query_scores "$c"
    # shellcheck disable=SC2046
    "$NLP" similarity --model "$EMB" $(sargs $c) --input "$tmp/pairs.jsonl" --text-column a \
        --text-pair-column b --output "$tmp/out" 2>"$tmp/err" ||
        { n=$((n + 1)); fail "similarity pairs: $(cat "$tmp/err")"; }
    cmp_out column "$E/similarity.json" pair_scores "$c"
done

# ---- rerank: sigmoid scores, raw logits, --return-text, corpus mode
$PY -c 'import json,sys
for t in json.load(open(sys.argv[1], encoding="utf-8"))["texts"]: print(t)' "$E/rerank.json" >"$tmp/passages.txt"
"$NLP" rerank --model "$RR" --json --query "$query" <"$tmp/passages.txt" >"$tmp/out" 2>"$tmp/err" ||
    { n=$((n + 1)); fail "rerank: $(cat "$tmp/err")"; }
cmp_out ranked "$E/rerank.json" scores
"$NLP" rerank --model "$RR" --json --raw-scores --return-text --query "$query" <"$tmp/passages.txt" \
    >"$tmp/out" 2>"$tmp/err" || { n=$((n + 1)); fail "rerank raw: $(cat "$tmp/err")"; }
cmp_out ranked-text "$E/rerank.json" logits
$PY -c 'import json,sys
for t in json.load(open(sys.argv[1], encoding="utf-8"))["texts"]: print(json.dumps({"passage": t}))' \
    "$E/rerank.json" >"$tmp/passages.jsonl"
run 0 "$NLP" rerank --model "$RR" --query "$query" --input "$tmp/passages.jsonl" \
    --text-column passage --output "$tmp/ranked.jsonl" && cp "$tmp/ranked.jsonl" "$tmp/out"
cmp_out column "$E/rerank.json" scores
run 0 "$NLP" rerank --model "$RR" --query "$query" "Paris" "x"
grep -Eq '^index +score$' "$tmp/out" || fail "rerank table: $(cat "$tmp/out")"

# ---- corpus mode: --vectors (.npy, .f32) holds exactly the JSON column's numbers
$PY -c 'import json,sys
for i, t in enumerate(json.load(open(sys.argv[1], encoding="utf-8"))["texts"]): print(json.dumps({"id": i, "text": t}))' \
    "$E/embed.json" >"$tmp/corpus.jsonl"
printf '{"id": 9, "text": "\\udc80"}\n' >>"$tmp/corpus.jsonl"   # a bad row, skipped in both
run 1 "$NLP" embed --model "$EMB" --input "$tmp/corpus.jsonl" --text-column text --output "$tmp/col.jsonl"
run 1 "$NLP" embed --model "$EMB" --input "$tmp/corpus.jsonl" --text-column text --output "$tmp/vec.jsonl" --vectors "$tmp/v.npy"
run 1 "$NLP" embed --model "$EMB" --input "$tmp/corpus.jsonl" --text-column text --output "$tmp/vec2.jsonl" --vectors "$tmp/v.f32"
n=$((n + 1))
$PY - "$tmp/col.jsonl" "$tmp/vec.jsonl" "$tmp/v.npy" "$tmp/v.f32" <<'PYEOF' || fail "--vectors"
import ast, json, struct, sys
col = [json.loads(l) for l in open(sys.argv[1])]
rows = [json.loads(l) for l in open(sys.argv[2])]
want = [r["embedding"] for r in col]
if [r["id"] for r in rows] != [r["id"] for r in col] or any("embedding" in r for r in rows):
    sys.exit("the table with --vectors: %r" % rows[:1])
raw = open(sys.argv[3], "rb").read()
if raw[:8] != b"\x93NUMPY\x01\x00":
    sys.exit("no .npy magic")
hl = struct.unpack("<H", raw[8:10])[0]
head = ast.literal_eval(raw[10:10 + hl].decode("latin1").strip())
if (10 + hl) % 64 or head != {"descr": "<f4", "fortran_order": False,
                              "shape": (len(want), len(want[0]))}:
    sys.exit("npy header %r" % head)
for data in (raw[10 + hl:], open(sys.argv[4], "rb").read()):
    got = struct.unpack("<%df" % (len(data) // 4), data)
    flat = [x for v in want for x in v]
    if len(got) != len(flat) or any(abs(a - b) > 1e-6 for a, b in zip(got, flat)):
        sys.exit("vector values differ")
print("ok: --vectors .npy and .f32 hold the %d x %d embeddings" % (len(want), len(want[0])))
PYEOF
run 2 "$NLP" embed --model "$EMB" --input "$tmp/corpus.jsonl" --text-column text --output "$tmp/vec.jsonl" --vectors "$tmp/v.npy" --resume
expect_err "nlp embed: --vectors and --resume exclude each other"

# ---- errors
run 2 "$NLP" embed --model "$EMB" --normalize --no-normalize "x"
expect_err "nlp embed: --normalize and --no-normalize exclude each other"
run 2 "$NLP" embed --model "$EMB" --pooling weighted "x"
expect_err "expects one of cls\|mean\|max\|mean-sqrt-len, got 'weighted'"
run 1 "$NLP" similarity --model "$EMB" --json "x"
expect_err "nlp similarity: input 1: no query: give --query, or a sentence pair"
run 1 "$NLP" rerank --model "$RR" --json "x"
expect_err "nlp rerank: input 1: no query: give --query, or a \(query, passage\) pair"
run 1 "$NLP" rerank --model "$EMB" --any-architecture --query q "x"
expect_err "no sequence-classification head"
bad=$tmp/bad
mkdir -p "$bad/1_Pooling"
cp "$EMB"/*.json "$EMB"/vocab.txt "$EMB"/model.safetensors "$bad/"
printf '{"word_embedding_dimension": 32, "pooling_mode_weightedmean_tokens": true}' >"$bad/1_Pooling/config.json"
run 1 "$NLP" embed --model "$bad" "x"
expect_err "1_Pooling/config.json: \"pooling_mode_weightedmean_tokens\" is not supported"
printf '{"pooling_mode_mean_tokens": "yes"}' >"$bad/1_Pooling/config.json"
run 1 "$NLP" embed --model "$bad" "x"
expect_err "1_Pooling/config.json: \"pooling_mode_mean_tokens\" must be true or false"
cp "$EMB/1_Pooling/config.json" "$bad/1_Pooling/config.json"
printf '[{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
 {"idx": 1, "name": "1", "path": "2_Dense", "type": "sentence_transformers.models.Dense"}]' >"$bad/modules.json"
run 1 "$NLP" embed --model "$bad" "x"
expect_err "modules.json: module type \"sentence_transformers.models.Dense\" is not supported"
printf '[{"type": 3}]' >"$bad/modules.json"
run 1 "$NLP" embed --model "$bad" "x"
expect_err "modules.json: each module needs a string \"type\" and \"path\""
printf '{"max_seq_length": -3}' >"$bad/sentence_bert_config.json"
cp "$EMB/modules.json" "$bad/modules.json"
run 1 "$NLP" embed --model "$bad" "x"
expect_err "sentence_bert_config.json: \"max_seq_length\" must be a positive integer"

echo "task_sbert: $n checks, $fails failures"
[ "$fails" -eq 0 ]
