#!/bin/sh
# examples.sh - the example program (examples/sentiment_example.c, built
# against the public headers only) on the fixtures: its three sentences
# against the PyTorch reference of data/expected/sentiment/
# distilbert-sst2-default.json, and the CSV it scores against
# data/expected/corpus/reviews-expected.json.
# Environment (from make check): top_srcdir, top_builddir.
set -u
: "${top_srcdir:?}" "${top_builddir:?}"
EX="$top_builddir/examples/sentiment_example"
PY=${PYTHON3:-python3}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
unset NLP_PLUGIN_PATH
"$EX" "$top_srcdir/data/models/tiny-distilbert-sst2" >"$T/out" 2>"$T/err" || {
    echo "FAIL: sentiment_example: $(cat "$T/err")"; exit 1; }
"$EX" "$top_srcdir/data/models/tiny-bert-sst2" "$top_srcdir/data/expected/corpus/reviews.csv" \
    review "$T/scored.csv" >"$T/out2" 2>"$T/err2" || {
    echo "FAIL: sentiment_example on a CSV: $(cat "$T/err2")"; exit 1; }
"$PY" - "$T/out" "$top_srcdir/data/expected/sentiment/distilbert-sst2-default.json" \
    "$T/scored.csv" "$top_srcdir/data/expected/corpus/reviews-expected.json" "$T/out2" <<'PYEOF'
import csv, json, sys
out, ref, scored, cref, summary = sys.argv[1:]
ref = json.load(open(ref))
want = {t: e for t, e in zip(ref["inputs"], ref["expected"])}
texts = ["this film was great, i loved it.", "what a terrible waste of time.", "Not bad at all!"]
got = [json.loads(l) for l in open(out)]
assert len(got) == 3, got
for t, g in zip(texts, got):
    assert g["label"] == want[t]["label"] and abs(g["score"] - want[t]["score"]) < 1e-5, (t, g)
rows = list(csv.DictReader(open(scored, newline="", encoding="utf-8")))
good = {g["id"]: g for g in json.load(open(cref))["good"]}
assert len(rows) == len(good), (len(rows), len(good))
for r in rows:
    g = good[r["id"]]
    assert r["label"] == g["label"] and abs(float(r["score"]) - g["score"]) < 1e-5, (r, g)
assert open(summary).read().splitlines()[-1] == "120 rows read, 116 written, 4 skipped"
print("PASS: sentiment_example: 3 sentences, %d CSV rows" % len(rows))
PYEOF
