#!/bin/sh
# tests/corpus.sh - corpus mode end to end (`nlp TASK --input ... --output
# ...`) on the tiny-bert-sst2 fixture against data/expected/corpus/
# reviews-expected.json (PyTorch + the reference tokenizer + Hugging
# Face's post-processing, tests/gen/gen_corpus_tasks.py):
#   rows sorted by length into batches come back in input order with their
#   own results (several batch sizes, CSV and JSON Lines, stdin/stdout, TSV,
#   --no-header); over-long texts truncated with a warning; every bad row
#   reported with its line and reason, in --errors too; --strict; --resume
#   after a cut-off output and after a killed run (by count and by
#   --id-column); GNU parallel sharding equals one process; usage errors;
#   progress only on a terminal.
# Environment (from make check): NLP, top_srcdir.
set -u
: "${NLP:?}" "${top_srcdir:?}"
D="$top_srcdir/data"
E="$D/expected/corpus"
M="$D/models/tiny-bert-sst2"
if [ ! -f "$M/model.safetensors" ] || [ ! -f "$E/reviews.csv" ]; then
    echo "SKIP: corpus fixtures missing (run tests/gen/gen_corpus_tasks.py)"
    exit 77
fi
PY=${PYTHON3:-python3}
CMP="$top_srcdir/tests/corpus_compare.py"
EXP="$E/reviews-expected.json"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
failed=0
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }
ok() { echo "ok: $*"; }
S="nlp sentiment"
run() { "$NLP" sentiment --model "$M" "$@"; }

# ---- the reference corpus, bucketed with several batch sizes
for b in 1 4 7 32; do
    run --input "$E/reviews.csv" --text-column review --output "$T/out$b.csv" \
        --batch-size $b --errors "$T/err$b.csv" 2>"$T/stderr$b"
    st=$?
    [ $st -eq 1 ] || fail "batch $b: exit status $st, expected 1 (rows were skipped)"
    "$PY" "$CMP" output "$T/out$b.csv" "$EXP" || fail "batch $b: results or order differ"
    "$PY" "$CMP" stderr "$T/stderr$b" "$EXP" "$E/reviews.csv" || fail "batch $b: bad-row messages"
    grep -q "^$S: 120 rows read, 116 written (20 truncated), 4 skipped in " "$T/stderr$b" ||
        fail "batch $b: summary line"
    n=$(grep -c "^$S: warning: .*reviews.csv: line [0-9]*: [0-9]* tokens, truncated to 64" "$T/stderr$b")
    [ "$n" -eq 10 ] || fail "batch $b: $n truncation warnings, expected the first 10"
done
ok "bucketed batches: results in input order, bad rows, truncation"

# --errors: a CSV of line, error
"$PY" - "$T/err4.csv" "$EXP" "$E/reviews.csv" <<'EOF' || fail "--errors file"
import csv, json, sys
rows = list(csv.reader(open(sys.argv[1], encoding="utf-8", newline="")))
exp = json.load(open(sys.argv[2]))["bad"]
want = [["line", "error"]] + [[str(b["line"]), "%s: line %d: %s" % (sys.argv[3], b["line"], b["reason"])] for b in exp]
assert rows == want, (rows, want)
EOF
ok "--errors file"

# ---- stdin to stdout; JSON Lines in and out (ids as numbers stay numbers)
run --text-column review --quiet --output - <"$E/reviews.csv" >"$T/stdout.csv" 2>"$T/stdout.err"
[ $? -eq 1 ] || fail "stdin/stdout: exit status"
"$PY" "$CMP" output "$T/stdout.csv" "$EXP" || fail "stdin/stdout: results"
grep -q "rows read" "$T/stdout.err" && fail "--quiet still printed the summary"
"$PY" "$CMP" stderr "$T/stdout.err" "$EXP" stdin || fail "stdin: bad-row messages name stdin"

"$PY" - "$EXP" "$T/in.jsonl" <<'EOF'
import json, sys
exp = json.load(open(sys.argv[1]))
with open(sys.argv[2], "w", encoding="utf-8") as f:
    for g in exp["good"]:
        f.write(json.dumps({"id": int(g["id"]), "review": g["review"], "note": g["note"]},
                           ensure_ascii=False) + "\n")
EOF
run --input "$T/in.jsonl" --text-column review --output "$T/out.jsonl" --batch-size 5 --quiet
[ $? -eq 0 ] || fail "jsonl: exit status (no bad rows)"
"$PY" "$CMP" output "$T/out.jsonl" "$EXP" --format jsonl || fail "jsonl: results"
head -1 "$T/out.jsonl" | grep -q '^{"id":1,"review":"' || fail "jsonl: a numeric id is no longer a number"
# and JSON Lines out of a CSV in
run --input "$E/reviews.csv" --text-column 2 --output "$T/csv2.jsonl" --quiet 2>/dev/null
"$PY" "$CMP" output "$T/csv2.jsonl" "$EXP" --format jsonl || fail "csv in, jsonl out"
ok "stdin/stdout, JSON Lines"

# ---- TSV (inferred from .tsv, or --format tsv), --no-header with 1-based columns
"$PY" - "$EXP" "$T/in.tsv" "$T/nohdr.tsv" <<'EOF'
import json, sys
exp = json.load(open(sys.argv[1]))
rows = [g for g in exp["good"] if not any(c in g["review"] + g["note"] for c in '\n",')]
with open(sys.argv[2], "w", encoding="utf-8") as f:
    f.write("id\treview\tnote\n")
    for g in rows:
        f.write("%s\t%s\t%s\n" % (g["id"], g["review"], g["note"]))
with open(sys.argv[3], "w", encoding="utf-8") as f:
    for g in rows:
        f.write("%s\t%s\t%s\n" % (g["id"], g["review"], g["note"]))
exp["good"] = rows
json.dump(exp, open(sys.argv[2] + ".json", "w"))
EOF
run --input "$T/in.tsv" --text-column review --output "$T/out.tsv" --quiet || fail "tsv: exit status"
tr '\t' ',' <"$T/out.tsv" >"$T/out.tsv.csv"
"$PY" "$CMP" output "$T/out.tsv.csv" "$T/in.tsv.json" || fail "tsv: results"
run --format tsv --no-header --text-column 2 --quiet <"$T/nohdr.tsv" >"$T/nohdr.out"
[ $? -eq 0 ] || fail "--no-header: exit status"
{ printf 'id\treview\tnote\tlabel\tscore\n'; cat "$T/nohdr.out"; } | tr '\t' ',' >"$T/nohdr.csv"
"$PY" "$CMP" output "$T/nohdr.csv" "$T/in.tsv.json" || fail "--no-header: results"
# headerless TSV to JSON Lines: keys are the column numbers, then the results
run --format tsv --no-header --text-column 2 --quiet --output "$T/nohdr.jsonl" <"$T/nohdr.tsv"
head -1 "$T/nohdr.jsonl" | grep -q '^{"1":"[0-9]*","2":".*","3":".*","label":"[A-Z]*","score":[0-9.e-]*}$' ||
    fail "--no-header to JSON Lines: $(head -1 "$T/nohdr.jsonl")"
ok "TSV, --no-header"

# ---- --strict: stops at the first bad row (line 44), rows before it written
run --input "$E/reviews.csv" --text-column review --output "$T/strict.csv" --strict 2>"$T/strict.err"
[ $? -eq 1 ] || fail "--strict: exit status"
n=$("$PY" -c 'import csv,sys; print(len(list(csv.reader(open(sys.argv[1], newline="")))) - 1)' "$T/strict.csv")
[ "$n" -eq 39 ] || fail "--strict: $n rows written, expected the 39 before line 44"
grep -q "line 44: 4 fields, expected 3" "$T/strict.err" || fail "--strict: the bad row's message"
grep -q "line 68" "$T/strict.err" && fail "--strict: went on past the first bad row"
grep -q "stopped at the first bad row" "$T/strict.err" || fail "--strict: summary"
ok "--strict"

# ---- --resume after a cut-off output (a partly written last record)
size=$(wc -c <"$T/out4.csv")
for cut in 300 $((size / 3)) $((size / 2 + 7)) $((size - 2)); do
    head -c $cut "$T/out4.csv" >"$T/resume.csv"
    run --input "$E/reviews.csv" --text-column review --output "$T/resume.csv" --resume \
        --batch-size 4 2>"$T/resume.err"
    "$PY" "$CMP" output "$T/resume.csv" "$EXP" || fail "--resume after a cut at byte $cut"
    head -c $cut "$T/out4.csv" >"$T/resume.csv"
    run --input "$E/reviews.csv" --text-column review --output "$T/resume.csv" --resume \
        --id-column id --batch-size 3 2>"$T/resume.err"
    "$PY" "$CMP" output "$T/resume.csv" "$EXP" || fail "--resume --id-column after a cut at byte $cut"
done
grep -q "resumed after [0-9]* rows already in" "$T/resume.err" || fail "--resume: no note"
# a complete output: nothing left to do
run --input "$E/reviews.csv" --text-column review --output "$T/resume.csv" --resume 2>"$T/resume.err"
"$PY" "$CMP" output "$T/resume.csv" "$EXP" || fail "--resume of a complete output"
grep -q "0 rows read, 0 written" "$T/resume.err" || fail "--resume of a complete output read rows"
ok "--resume after cut-off outputs"

# ---- --resume after a killed run (a bigger corpus, one row per batch)
"$PY" - "$EXP" "$T/big.csv" "$T/big.json" <<'EOF'
import json, sys
exp = json.load(open(sys.argv[1]))
good = []
with open(sys.argv[2], "w", encoding="utf-8", newline="") as f:
    f.write("id,review,note\n")
    for k in range(40):
        for g in exp["good"]:
            if "\n" in g["review"] or '"' in g["review"] + g["note"] or "," in g["review"] + g["note"]:
                continue
            h = dict(g, id="%d-%s" % (k, g["id"]))
            good.append(h)
            f.write("%s,%s,%s\n" % (h["id"], h["review"], h["note"]))
exp["good"], exp["bad"] = good, []
json.dump(exp, open(sys.argv[3], "w"))
EOF
"$NLP" sentiment --model "$M" --input "$T/big.csv" --text-column review --output "$T/killed.csv" \
    --batch-size 1 --threads 1 --quiet 2>/dev/null &
pid=$!
i=0
while [ $i -lt 100 ] && [ "$(cat "$T/killed.csv" 2>/dev/null | wc -c)" -lt 20000 ]; do
    sleep 0.05
    i=$((i + 1))
done
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
before=$(($(wc -l <"$T/killed.csv") - 1))
run --input "$T/big.csv" --text-column review --output "$T/killed.csv" --resume --batch-size 8 \
    2>"$T/killed.err" || fail "--resume after kill: exit status"
"$PY" "$CMP" output "$T/killed.csv" "$T/big.json" || fail "--resume after kill -9 ($before rows were there)"
echo "   (killed with $before of $(grep -c . "$T/big.csv") lines written)"
ok "--resume after kill -9"

# ---- GNU parallel: shards through the same filter equal one process
if command -v parallel >/dev/null 2>&1; then
    run --input "$T/big.csv" --text-column review --output "$T/single.csv" --batch-size 1 --quiet
    parallel --will-cite --pipe --header : --keep-order -N 500 -j2 \
        "'$NLP' sentiment --model '$M' --text-column review --batch-size 1 --threads 1 --quiet |
         { [ {#} -eq 1 ] && cat || tail -n +2; }" <"$T/big.csv" >"$T/parallel.csv"
    cmp -s "$T/single.csv" "$T/parallel.csv" || fail "GNU parallel output differs from one process"
    [ "$(wc -l <"$T/parallel.csv")" -eq "$(wc -l <"$T/big.csv")" ] || fail "GNU parallel: row count"
    ok "GNU parallel equivalence ($(($(wc -l <"$T/big.csv") - 1)) rows)"
else
    echo "SKIP (part): GNU parallel is not installed"
fi

# ---- usage errors (exit 2, before the model loads)
expect_usage() {
    msg=$1
    shift
    "$NLP" sentiment --model "$M" "$@" </dev/null >/dev/null 2>"$T/usage.err"
    st=$?
    [ $st -eq 2 ] || fail "'$*': exit status $st, expected 2"
    grep -qF -e "$msg" "$T/usage.err" || fail "'$*': expected '$msg', got: $(cat "$T/usage.err")"
}
expect_usage "reviews.csv: no column \"text\" (columns: id, review, note)" --input "$E/reviews.csv" --text-column text
expect_usage "reviews.csv: no column 4 (it has 3 columns)" --input "$E/reviews.csv" --text-column 4
expect_usage "has 3 columns: choose the text with --text-column" --input "$E/reviews.csv"
expect_usage "--format must be csv, tsv or jsonl, not 'xml'" --input "$E/reviews.csv" --format xml
expect_usage "--delimiter must be one character" --input "$E/reviews.csv" --delimiter ab
expect_usage "--resume needs --output FILE" --input "$E/reviews.csv" --text-column review --resume
expect_usage "does not go with corpus options" --input "$E/reviews.csv" --text-column review "some text"
"$NLP" sentiment --model "$M" --input "$T/missing.csv" 2>"$T/usage.err"
[ $? -eq 1 ] && grep -q "missing.csv: No such file" "$T/usage.err" || fail "missing input file"
ok "usage errors"

# ---- one column needs no --text-column; an empty input gives an empty output
printf 'text\ngood\nbad\n' | run --format csv --quiet >"$T/one.csv" || fail "one column: exit status"
[ "$(head -1 "$T/one.csv")" = "text,label,score" ] || fail "one column: header"
printf '' | run --text-column x --output "$T/empty.csv" --quiet || fail "empty input: exit status"
[ ! -s "$T/empty.csv" ] || fail "empty input: output not empty"
ok "one column, empty input"

# ---- progress: only on a terminal, never with --quiet
grep -q "$(printf '\r')" "$T/stderr4" && fail "progress written to a non-terminal"
if command -v script >/dev/null 2>&1; then
    script -qec "'$NLP' sentiment --model '$M' --input '$T/big.csv' --text-column review --output '$T/tty.csv'" \
        /dev/null >"$T/tty.log" 2>&1
    grep -q "rows/s" "$T/tty.log" || fail "no progress on a terminal"
    script -qec "'$NLP' sentiment --model '$M' --input '$T/big.csv' --text-column review --output '$T/tty.csv' --quiet" \
        /dev/null >"$T/tty.log" 2>&1
    [ ! -s "$T/tty.log" ] || fail "--quiet printed on a terminal: $(head -c 200 "$T/tty.log")"
    ok "progress on a terminal only"
fi

# ---- the other tasks' result columns
printf 'question,context\nwho lives here,John lives in Paris\n' |
    "$NLP" qa --model "$D/models/qa-bert" --format csv --quiet >"$T/qa.csv" || fail "qa: exit status"
[ "$(head -1 "$T/qa.csv")" = "question,context,answer,score,start,end" ] || fail "qa columns"
printf 'text\nJohn lives in Paris\n' |
    "$NLP" ner --model "$D/models/ner-bert" --format csv --quiet >"$T/ner.csv" || fail "ner: exit status"
[ "$(head -1 "$T/ner.csv")" = "text,entities" ] || fail "ner columns"
printf 'text\nthe [MASK] is\n' |
    "$NLP" fill-mask --model "$D/models/tiny-bert-mlm" --top-k 1 --format csv --quiet >"$T/fm.csv" || fail "fill-mask: exit status"
[ "$(head -1 "$T/fm.csv")" = "text,token_str,score" ] || fail "fill-mask --top-k 1 columns"
printf 'text\nthe [MASK] is\n' |
    "$NLP" fill-mask --model "$D/models/tiny-bert-mlm" --format csv --quiet >"$T/fm.csv" || fail "fill-mask: exit status"
[ "$(head -1 "$T/fm.csv")" = "text,predictions" ] || fail "fill-mask columns"
printf 'text,label\ngood,1\n' | run --text-column text --quiet >"$T/clash.csv"
[ "$(head -1 "$T/clash.csv")" = "text,label,sentiment_label,score" ] || fail "a result column clashing with an input column"
ok "result columns of qa, ner, fill-mask; name clashes"

# ---- per-task results against the tasks' own references: qa over a JSON
# Lines corpus (long contexts, windowed), ner over a one-column CSV,
# sentiment with a text-pair column
cat >"$T/same.py" <<'PYEOF'
import csv, json, sys
kind, out, exp = sys.argv[1], sys.argv[2], sys.argv[3]
def close(a, b, where):
    if isinstance(b, float):
        assert abs(float(a) - b) < 1e-4, (where, a, b)
    elif isinstance(b, list):
        assert len(a) == len(b), (where, len(a), len(b))
        for i, (x, y) in enumerate(zip(a, b)):
            close(x, y, "%s[%d]" % (where, i))
    elif isinstance(b, dict):
        for k in b:
            close(a[k], b[k], where + "." + k)
    else:
        assert str(a) == str(b), (where, a, b)
if kind == "qa":
    got = [json.loads(l) for l in open(out, encoding="utf-8")]
    want = [json.loads(l) for l in open(exp, encoding="utf-8")]
    ins = [json.loads(l) for l in open(sys.argv[4], encoding="utf-8")]
    assert len(got) == len(want) == len(ins)
    for i, (g, w, x) in enumerate(zip(got, want, ins)):
        assert g["question"] == x["question"] and g["context"] == x["context"], i
        close({k: g[k] for k in w}, w, "row %d" % (i + 1))
elif kind == "ner":
    rows = list(csv.DictReader(open(out, encoding="utf-8", newline="")))
    want = [json.loads(l) for l in open(exp, encoding="utf-8")]
    texts = [l.rstrip("\n") for l in open(sys.argv[4], encoding="utf-8")]
    assert len(rows) == len(want) == len(texts), (len(rows), len(want))
    for i, (r, w, t) in enumerate(zip(rows, want, texts)):
        assert r["text"] == t, i
        close(json.loads(r["entities"]), w, "row %d" % (i + 1))
else:
    rows = list(csv.DictReader(open(out, encoding="utf-8", newline="")))
    case = json.load(open(exp, encoding="utf-8"))
    assert len(rows) == len(case["expected"])
    for i, (r, w) in enumerate(zip(rows, case["expected"])):
        close({"label": r["label"], "score": r["score"]}, w, "row %d" % (i + 1))
PYEOF
"$NLP" qa --model "$D/models/qa-bert" --input "$D/expected/qa/inputs.jsonl" --output "$T/qa.jsonl" \
    --batch-size 3 --quiet || fail "qa over JSON Lines: exit status"
"$PY" "$T/same.py" qa "$T/qa.jsonl" "$D/expected/qa/qa-bert-default.jsonl" "$D/expected/qa/inputs.jsonl" ||
    fail "qa over JSON Lines: results differ from data/expected/qa/qa-bert-default.jsonl"
"$PY" -c 'import csv,sys; w=csv.writer(sys.stdout, lineterminator="\n"); w.writerow(["text"]); [w.writerow([l.rstrip("\n")]) for l in open(sys.argv[1], encoding="utf-8")]' \
    "$D/expected/ner/inputs.txt" >"$T/ner-in.csv"
"$NLP" ner --model "$D/models/ner-bert" --aggregation simple --input "$T/ner-in.csv" \
    --output "$T/ner-out.csv" --batch-size 4 --quiet || fail "ner over CSV: exit status"
"$PY" "$T/same.py" ner "$T/ner-out.csv" "$D/expected/ner/ner-bert-simple.jsonl" "$D/expected/ner/inputs.txt" ||
    fail "ner over CSV: entities differ from data/expected/ner/ner-bert-simple.jsonl"
"$PY" -c 'import csv,json,sys; c=json.load(open(sys.argv[1])); w=csv.writer(sys.stdout, lineterminator="\n"); w.writerow(["a","b"]); [w.writerow([t, c["args"][1]]) for t in c["inputs"]]' \
    "$D/expected/sentiment/bert-sst2-pair.json" >"$T/pair.csv"
run --input "$T/pair.csv" --text-column a --text-pair-column b --output "$T/pair-out.csv" --quiet ||
    fail "sentiment pairs: exit status"
"$PY" "$T/same.py" pair "$T/pair-out.csv" "$D/expected/sentiment/bert-sst2-pair.json" ||
    fail "sentiment --text-pair-column differs from data/expected/sentiment/bert-sst2-pair.json"
ok "qa (JSON Lines), ner, sentiment pairs against their references"

if [ $failed -ne 0 ]; then
    echo "$failed failure(s)"
    exit 1
fi
echo "all corpus checks passed"
