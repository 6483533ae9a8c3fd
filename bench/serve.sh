#!/bin/sh
# serve.sh - throughput of `nlp serve` under load (not part of make check;
# numbers go to the README's Server section).
#
#   bench/serve.sh BUILD_DIR [SECONDS [CLIENTS [THREADS]]]
#
# Starts `nlp serve --task sentiment=MODEL --max-input-length 512` on
# 127.0.0.1 (a free port) with
# a bert-base-sized random-weight BertForSequenceClassification (the one
# bench/corpus.sh writes; BENCH_MODEL=DIR keeps it between runs), then runs
# bench/serve_load.py: CLIENTS (default 1,8,64,256) clients sending single
# SST-2 dev sentences (../shared/data/sst2/dev.tsv) for SECONDS (default
# 20) each, with malformed bodies, oversized inputs and early disconnects
# mixed in, each level right after `nlp bench` on the same shape
# (bert-base, the sentences' mean token count, batch = clients up to 64);
# then SIGTERM while 64 clients still send.  Everything stops by itself.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
build=$(cd "${1:?usage: serve.sh BUILD_DIR [SECONDS [CLIENTS [THREADS]]]}" && pwd)
seconds=${2:-20}
clients=${3:-1,8,64,256}
threads=${4:-2}
nlp="$build/cli/nlp"
shared="$top/../shared/data"
[ -f "$shared/sst2/dev.tsv" ] || { echo "serve.sh: $shared/sst2/dev.tsv not found" >&2; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/nlp-serve-bench.XXXXXX")
pid=
trap '[ -z "$pid" ] || kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT INT TERM
model="${BENCH_MODEL:-$tmp/model}"
. "$here/serve_lib.sh"
bench_model "$model"
len=$(tail -n +2 "$shared/sst2/dev.tsv" | cut -f1 |
      "$nlp" tokenize --model "$model" --json 2>/dev/null |
      python3 -c 'import json,sys; n=[len(json.loads(l)["ids"]) for l in sys.stdin]; print(round(sum(n)/len(n)))')
echo "SST-2 dev: mean $len tokens per sentence (special tokens included)"
serve_start 600 --task "sentiment=$model" --threads "$threads" --max-input-length 512
# each level right after `nlp bench` at the same shape (the machine's speed
# drifts, so the pair is measured together): batch = clients, at most the
# server's 64 inputs per forward pass
for n in $(echo "$clients" | tr , ' '); do
    b=$((n < 64 ? n : 64))
    seqs=$("$nlp" bench --shape bert-base --seq-len "$len" --batch-size "$b" --threads "$threads" \
        --iters 4 --warmup 1 --json | python3 -c 'import json,sys; print("%.2f" % json.load(sys.stdin)["seq_per_s"])')
    echo "nlp bench --seq-len $len --batch-size $b --threads $threads: $seqs seq/s"
    python3 "$here/serve_load.py" "$port" "$shared/sst2/dev.tsv" --clients "$n" \
        --seconds "$seconds" --faults >"$tmp/level" || echo "serve.sh: some requests failed"
    cat "$tmp/level"
    awk -v s="$seqs" '$1 ~ /^[0-9]+$/ { r = $3 } END { printf "server / bench: %.0f%%\n", 100 * r / s }' "$tmp/level"
done
# SIGTERM with 64 clients sending: every answered request is a 200
python3 "$here/serve_load.py" "$port" "$shared/sst2/dev.tsv" --clients 64 --seconds 10 \
    --warmup 1 >"$tmp/last" 2>&1 &
load=$!
sleep 6
kill -TERM "$pid"
pid=
if wait "$wpid"; then echo "SIGTERM under load: exit status 0"; else echo "SIGTERM under load: exit status $?"; fi
wait "$load" || true
cat "$tmp/last"
