#!/bin/sh
# serve_memory.sh - resident memory of `nlp serve` as requests bring new
# option sets (not part of make check; numbers go to the README's Server
# section).
#
#   bench/serve_memory.sh BUILD_DIR [THREADS]
#
# Starts `nlp serve --task sentiment=MODEL` with the bert-base-sized
# random-weight BertForSequenceClassification of bench/corpus.sh
# (BENCH_MODEL=DIR keeps it between runs), sends one request without
# parameters, then one each with {"top_k": 2} and {"function_to_apply":
# "sigmoid"}, and prints the server's VmRSS after start-up, after the first
# option set and after all three, and its peak (VmHWM).  Each option set
# has its own pipeline; before the pipelines shared the task's model, each
# loaded and packed the weights again.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
build=$(cd "${1:?usage: serve_memory.sh BUILD_DIR [THREADS]}" && pwd)
threads=${2:-2}
nlp="$build/cli/nlp"
shared="$top/../shared/data"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/nlp-serve-mem.XXXXXX")
pid=
trap '[ -z "$pid" ] || kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT INT TERM
model="${BENCH_MODEL:-$tmp/model}"
. "$here/serve_lib.sh"
bench_model "$model"
serve_start 3000 --task "sentiment=$model" --threads "$threads"
rss() { awk -v k="$1:" '$1 == k { printf "%.0f MiB", $2 / 1024 }' "/proc/$pid/status"; }
post() {
    curl -sf --max-time 300 -H 'Content-Type: application/json' \
        -d "{\"inputs\": \"a fine, moving film.\", \"parameters\": {$1}}" \
        "http://127.0.0.1:$port/sentiment" >/dev/null || { echo "serve_memory.sh: request failed" >&2; exit 1; }
}
echo "after start-up: $(rss VmRSS)"
post ''
echo "after 1 option set: $(rss VmRSS)"
post '"top_k": 2'
post '"function_to_apply": "sigmoid"'
echo "after 3 option sets: $(rss VmRSS) (peak $(rss VmHWM))"
