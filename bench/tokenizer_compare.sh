#!/bin/sh
# bench/tokenizer_compare.sh - libnlp's tokenizers against Transformers.js,
# side by side in one run, per tokenizer family, on the same texts.
#
#   bench/tokenizer_compare.sh BUILD_DIR [FILE] [ROUNDS]
#
# BUILD_DIR is a build directory where libnlp is built; FILE defaults to
# SST-2 train (../shared/data/sst2/train.tsv); each round runs
# bench/tokenizer_speed.c and bench/tokenizer_speed.mjs (5 passes each,
# best pass kept) on every tokenizer, alternating, and the table gives the
# median over ROUNDS (default 3) of tokens per CPU second (steadier than
# wall time on a shared machine; both are single-threaded) and the ratio.
# Needs node and @huggingface/transformers (NODE_PATH, or tests/ref's
# node_modules after `npm install` there).  Never part of make check.
set -e
B=$(cd "${1:?usage: tokenizer_compare.sh BUILD_DIR [FILE] [ROUNDS]}" && pwd)
S=$(cd "$(dirname "$0")/.." && pwd)
T=$S/../shared/data/tokenizers
FILE=${2:-$S/../shared/data/sst2/train.tsv}
ROUNDS=${3:-3}
export NODE_PATH=${NODE_PATH:-$S/tests/ref/node_modules}
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
gcc -O2 -I"$S/include" "$S/bench/tokenizer_speed.c" -o "$W/tokenizer_speed" \
    -L"$B/core/.libs" -lnlp -Wl,-rpath,"$B/core/.libs"
# name:folder (every folder has tokenizer.json, which both read)
set -- "WordPiece (all-MiniLM-L6-v2, uncased):$T/minilm" \
       "byte-level BPE (roberta-base):$T/roberta" \
       "byte-level BPE (GPT-2):$T/gpt2-bpe" \
       "byte-level BPE (ModernBERT):$T/modernbert" \
       "Unigram (t5-small):$T/t5"
for r in $(seq "$ROUNDS"); do
    for spec in "$@"; do
        name=${spec%%:*}; dir=${spec#*:}
        o=$("$W/tokenizer_speed" "$dir" "$FILE" 5 2>&1) || o="failed: $o"
        printf '%s\t%s\tnlp\t%s\n' "$r" "$name" "$o" >> "$W/runs"
        o=$(cd "$S/tests/ref" && node "$S/bench/tokenizer_speed.mjs" "$dir" "$FILE" 5 2>&1) ||
            o="failed: $o"
        printf '%s\t%s\ttfjs\t%s\n' "$r" "$name" "$o" >> "$W/runs"
    done
done
python3 - "$W/runs" <<'PY'
import re, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    r, name, who, msg = line.rstrip("\n").split("\t", 3)
    if msg.startswith("failed"):
        print("%s: %s %s" % (name, who, msg.splitlines()[0][:200]), file=sys.stderr)
        rows.setdefault(name, {}).setdefault(who, [])
        continue
    tok = int(re.search(r"(\d+) tokens,", msg).group(1))
    cpu = int(re.search(r"(\d+) tokens per CPU second", msg).group(1))
    wall = int(re.search(r"(\d+) tokens/s", msg).group(1))
    rows.setdefault(name, {}).setdefault(who, []).append((cpu, wall, tok))
print("| tokenizer | tokens | nlp tokens/CPU s | Transformers.js tokens/CPU s | ratio | nlp tokens/s (wall) | Transformers.js tokens/s (wall) |")
print("|---|---:|---:|---:|---:|---:|---:|")
for name, d in rows.items():
    if not all(d.get(w) for w in ("nlp", "tfjs")):
        print("| %s | | %s | | | | |" % (name, "fails to load" if not d.get("nlp") else "(Transformers.js fails)"))
        continue
    med = lambda who, k: statistics.median(x[k] for x in d[who])
    toks = {x[2] for w in d for x in d[w]}
    print("| %s | %s | %.0f | %.0f | %.1fx | %.0f | %.0f |" % (
        name, "/".join(str(t) for t in sorted(toks)), med("nlp", 0), med("tfjs", 0),
        med("nlp", 0) / med("tfjs", 0), med("nlp", 1), med("tfjs", 1)))
PY
