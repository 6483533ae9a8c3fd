#!/bin/sh
# hub.sh - `nlp download`, `nlp models` and first-use downloads by tasks,
# end to end against tests/hub_double.py (a local stand-in for the Hugging
# Face Hub on 127.0.0.1 that counts requests).  Served repos are copies of
# the committed fixture checkpoints in data/models/.  No test reaches the
# real hub.
#
# Environment (set by make check): NLP (the nlp binary), top_srcdir,
# top_builddir; PYTHON3 optional (default python3).
set -u
: "${top_srcdir:?}" "${top_builddir:?}"
NLP=${NLP:-$top_builddir/cli/nlp}
PY=${PYTHON3:-python3}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/hub_sh.XXXXXX") || exit 1
dpid=
cleanup() {
    [ -n "$dpid" ] && kill "$dpid" 2>/dev/null && wait "$dpid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

for m in tiny-bert-mlm tiny-bert-sst2; do
    [ -f "$top_srcdir/data/models/$m/model.safetensors" ] || {
        echo "hub.sh: SKIP: fixture data/models/$m is missing"
        exit 77
    }
done
mkdir -p "$tmp/srv/acme" "$tmp/srv/private"
cp -r "$top_srcdir/data/models/tiny-bert-mlm" "$tmp/srv/acme/tiny-bert-mlm"
cp -r "$top_srcdir/data/models/tiny-bert-sst2" "$tmp/srv/acme/tiny-bert-sst2"
cp -r "$top_srcdir/data/models/tiny-bert-mlm" "$tmp/srv/private/mlm"
printf 'hf_cli_secret_token\n' >"$tmp/srv/private/mlm/.token"

"$PY" "$top_srcdir/tests/hub_double.py" --root "$tmp/srv" >"$tmp/port" &
dpid=$!
i=0
while [ ! -s "$tmp/port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
port=$(head -n 1 "$tmp/port")
[ -n "$port" ] || { echo "hub.sh: the hub double did not start"; exit 1; }
ENDPOINT=http://127.0.0.1:$port

# Nothing from the caller's environment: our own cache, home and endpoint.
export HF_ENDPOINT="$ENDPOINT" HF_HUB_CACHE="$tmp/cache" HF_HOME="$tmp/home"
unset HF_TOKEN HF_TOKEN_PATH HF_HUB_OFFLINE
export NLP_PLUGIN_PATH="$top_builddir/tasks"

fails=0
n=0
fail() {
    echo "FAIL $n: $*"
    sed 's/^/  stdout: /' "$tmp/out"
    sed 's/^/  stderr: /' "$tmp/err"
    fails=$((fails + 1))
}
# run EXPECTED_STATUS CMD...: stdout in $tmp/out, stderr in $tmp/err
run() {
    want=$1
    shift
    n=$((n + 1))
    "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
    got=$?
    [ "$got" = "$want" ] || { fail "exit $got, expected $want: $*"; return 1; }
    return 0
}
ctl() { "$PY" - "$ENDPOINT" "$@" <<'EOF'
import json, sys, urllib.request
ep, what = sys.argv[1], sys.argv[2]
if what == "reset":
    urllib.request.urlopen(urllib.request.Request(ep + "/_reset", data=b"{}", method="POST"))
elif what == "count":
    print(json.load(urllib.request.urlopen(ep + "/_stats"))["total"])
EOF
}
requests_are() {
    got=$(ctl count)
    [ "$got" = "$1" ] || fail "$got requests to the hub, expected $1 ($2)"
}

# --- usage errors
run 2 "$NLP" download
run 2 "$NLP" download --bogus acme/x
run 2 "$NLP" download acme/a acme/b
run 2 "$NLP" download acme/a --include
run 2 "$NLP" models --bogus
run 2 "$NLP" models rm
run 0 "$NLP" download --help && grep -q "HF_TOKEN" "$tmp/out" || fail "download --help lacks HF_TOKEN"
requests_are 0 "usage errors"

# --- nlp download fills the cache; stdout is the snapshot; stderr is quiet off a terminal
if run 0 "$NLP" download acme/tiny-bert-mlm; then
    snap=$(cat "$tmp/out")
    case $snap in
    "$tmp/cache/models--acme--tiny-bert-mlm/snapshots/"*) ;;
    *) fail "snapshot path $snap" ;;
    esac
    [ -s "$tmp/err" ] && fail "stderr not empty without a terminal"
    for f in config.json vocab.txt tokenizer_config.json special_tokens_map.json model.safetensors; do
        [ -L "$snap/$f" ] || fail "$f is not a symlink into blobs/"
        cmp -s "$snap/$f" "$tmp/srv/acme/tiny-bert-mlm/$f" || fail "$f differs from the served file"
    done
    commit=$(cat "$tmp/cache/models--acme--tiny-bert-mlm/refs/main")
    [ "$snap" = "$tmp/cache/models--acme--tiny-bert-mlm/snapshots/$commit" ] || fail "refs/main does not name the snapshot"
fi

# --- nlp models lists it with its ref; the task reuses it without a request
run 0 "$NLP" models && grep -q "^acme/tiny-bert-mlm .* main " "$tmp/out" || fail "models does not list acme/tiny-bert-mlm@main"
ctl reset
run 0 "$NLP" fill-mask --model acme/tiny-bert-mlm "hello [MASK] world" && cp "$tmp/out" "$tmp/hub.txt"
requests_are 0 "fill-mask on a cached model"
run 0 "$NLP" fill-mask --model "$top_srcdir/data/models/tiny-bert-mlm" "hello [MASK] world"
cmp -s "$tmp/out" "$tmp/hub.txt" || fail "fill-mask from the cache differs from the local folder"

# --- a task given an uncached hub id downloads it on first use, then reuses it
ctl reset
run 0 "$NLP" sentiment --quiet --model acme/tiny-bert-sst2 "a fine film" && cp "$tmp/out" "$tmp/s1.txt"
[ "$(ctl count)" -gt 0 ] || fail "the first use made no request"
ctl reset
run 0 "$NLP" sentiment --model acme/tiny-bert-sst2 "a fine film"
cmp -s "$tmp/out" "$tmp/s1.txt" || fail "second run differs"
requests_are 0 "second use of acme/tiny-bert-sst2"

# --- offline: cached works, uncached is a clear error, no connection either way
ctl reset
run 0 "$NLP" download --offline acme/tiny-bert-mlm
run 1 "$NLP" download --offline acme/not-cached && grep -q "nlp download acme/not-cached" "$tmp/err" ||
    fail "offline miss does not say how to fetch"
[ "$(wc -l <"$tmp/err")" = 1 ] || fail "offline error is not one line"
HF_HUB_OFFLINE=1 run 1 "$NLP" fill-mask --model acme/not-cached "a [MASK]"
HF_HUB_OFFLINE=1 run 0 "$NLP" fill-mask --model acme/tiny-bert-mlm "a [MASK]"
requests_are 0 "offline mode"

# --- errors: 404 repo, gated repo (token never shown), unsupported weights
run 1 "$NLP" download acme/missing && grep -q "acme/missing" "$tmp/err" || fail "404 does not name the repo"
run 1 "$NLP" download private/mlm && grep -q "HF_TOKEN" "$tmp/err" || fail "401 does not mention HF_TOKEN"
HF_TOKEN=hf_wrong_secret run 1 "$NLP" download private/mlm
grep -q "hf_wrong_secret" "$tmp/out" "$tmp/err" && fail "the token was printed"
HF_TOKEN=hf_cli_secret_token run 0 "$NLP" download private/mlm
grep -q "hf_cli_secret_token" "$tmp/out" "$tmp/err" && fail "the token was printed"

# --- include / exclude
run 0 "$NLP" download --quiet --exclude 'vocab.txt' --include '*.md' acme/tiny-bert-sst2
snap=$(cat "$tmp/out")
[ -e "$snap/config.json" ] || fail "config.json missing"

# --- progress bar on a terminal, not with --quiet
rm -rf "$tmp/cache/models--acme--tiny-bert-mlm"
if script -qec "true" /dev/null >/dev/null 2>&1; then
    n=$((n + 1))
    script -qec "'$NLP' download acme/tiny-bert-mlm" /dev/null >"$tmp/out" 2>"$tmp/err" </dev/null
    grep -q "model.safetensors.*100%" "$tmp/out" || fail "no progress bar on a terminal"
    rm -rf "$tmp/cache/models--acme--tiny-bert-mlm"
    n=$((n + 1))
    script -qec "'$NLP' download --quiet acme/tiny-bert-mlm" /dev/null >"$tmp/out" 2>"$tmp/err" </dev/null
    grep -q "%" "$tmp/out" && fail "progress bar despite --quiet"
else
    echo "hub.sh: note: script(1) cannot allocate a terminal here; progress bar not checked"
fi

# --- nlp models rm
run 0 "$NLP" models rm acme/tiny-bert-mlm
run 0 "$NLP" models
grep -q "^acme/tiny-bert-mlm " "$tmp/out" && fail "removed model still listed"
grep -q "^acme/tiny-bert-sst2 " "$tmp/out" || fail "the other model is gone"
run 1 "$NLP" models rm acme/tiny-bert-mlm
run 1 "$NLP" models rm ../escape

# --- a Hub host that does not resolve fails at once (no retries), and a
# --model value that looks like a path says the directory is missing
t0=$(date +%s%N)
HF_ENDPOINT=http://nlp-test.invalid run 1 "$NLP" download acme/never-cached-model
t1=$(date +%s%N)
[ $(( (t1 - t0) / 1000000 )) -lt 2000 ] ||
    fail "an unresolvable host took $(( (t1 - t0) / 1000000 )) ms (retried?)"
mkdir -p "$tmp/models"
run 1 "$NLP" sentiment --model "$tmp/models/typo" "x"
grep -q "$tmp/models/typo: no such directory" "$tmp/err" || fail "path-like --model: $(cat "$tmp/err")"
run 1 sh -c 'cd "$1" && exec "$2" sentiment --model models/typo x' sh "$tmp" "$NLP"
grep -qx "nlp sentiment: models/typo: no such directory" "$tmp/err" || fail "relative path-like --model: $(cat "$tmp/err")"

echo "hub.sh: $n checks, $fails failed"
[ "$fails" = 0 ]
