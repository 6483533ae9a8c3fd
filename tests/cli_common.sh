#!/bin/sh
# cli_common.sh - the nlp command's shared behaviour, end to end: --help,
# --version, unknown commands and options, missing values, wrong types,
# exit codes (0 ok, 1 failed input, 2 usage), and the generic task runner
# (table and --json output, batches, per-input failures, stdin, text pairs,
# question/context inputs) driven through the test plugin tp_good.
#
# Environment (set by make check): NLP (the nlp binary), top_srcdir,
# top_builddir.
set -u
: "${top_srcdir:?}" "${top_builddir:?}"
NLP=${NLP:-$top_builddir/cli/nlp}
MODEL=$top_srcdir/data/models/tiny-bert

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cli_common.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
plugdir=$tmp/plugins
mkdir "$plugdir"
cp "$top_builddir/tests/plugins/.libs/tp_good.so" "$plugdir/" || {
    echo "cli_common: tests/plugins/.libs/tp_good.so is missing (make check builds it)"
    exit 1
}
# only the test plugin: nothing from NLP_PLUGIN_PATH set by the caller
unset NLP_PLUGIN_PATH

. "$(dirname "$0")/sh_lib.sh"

# same with stdin from a string
run_in() {
    input=$1
    want=$2
    shift 2
    n=$((n + 1))
    printf '%s' "$input" | "$@" >"$tmp/out" 2>"$tmp/err"
    got=$?
    if [ "$got" != "$want" ]; then
        echo "FAIL $n: exit $got, expected $want: $*"
        sed 's/^/  stderr: /' "$tmp/err"
        fails=$((fails + 1))
        return 1
    fi
    return 0
}

# expect FILE TEXT: FILE is exactly TEXT (plus a final newline)
expect() {
    printf '%s\n' "$2" >"$tmp/want"
    if ! cmp -s "$tmp/want" "$1"; then
        echo "FAIL $n: $(basename "$1") differs:"
        diff "$tmp/want" "$1" | sed 's/^/  /'
        fails=$((fails + 1))
    fi
}

# empty FILE: FILE is empty
empty() {
    if [ -s "$1" ]; then
        echo "FAIL $n: $(basename "$1") is not empty:"
        sed 's/^/  /' "$1"
        fails=$((fails + 1))
    fi
}

# contains FILE TEXT: FILE has a line containing TEXT
contains() {
    if ! grep -qF -- "$2" "$1"; then
        echo "FAIL $n: $(basename "$1") lacks '$2':"
        sed 's/^/  /' "$1"
        fails=$((fails + 1))
    fi
}

P="--plugin-dir $plugdir"

# ---- top level
run 0 "$NLP" --help && contains "$tmp/out" "usage: nlp COMMAND" &&
    contains "$tmp/out" "  plugins " && contains "$tmp/out" "Tasks (from plugins):"
run 0 "$NLP" --help --plugin-dir "$plugdir" && contains "$tmp/out" "  echo-qa "
run 0 "$NLP" -h
run 0 "$NLP" --version && grep -Eq '^nlp [0-9]+\.[0-9]+\.[0-9]+$' "$tmp/out" ||
    { echo "FAIL $n: --version printed: $(cat "$tmp/out")"; fails=$((fails + 1)); }
run 2 "$NLP" && contains "$tmp/err" "nlp: no command given (see 'nlp --help')"
run 2 "$NLP" frobnicate &&
    expect "$tmp/err" "nlp: unknown command 'frobnicate' (see 'nlp --help' and 'nlp plugins')"
run 2 "$NLP" --frobnicate && expect "$tmp/err" "nlp: unknown option '--frobnicate' (see 'nlp --help')"

# ---- nlp plugins
run 0 "$NLP" plugins $P &&
    grep -Eq "^good +1\.2\.3 +echo,echo-pair,echo-qa +$plugdir/tp_good.so\$" "$tmp/out" ||
    { echo "FAIL $n: no line for tp_good:"; cat "$tmp/out"; fails=$((fails + 1)); }
run 2 "$NLP" plugins --plugin-dir && expect "$tmp/err" "nlp plugins: option '--plugin-dir' needs a value (see 'nlp plugins --help')"
run 2 "$NLP" plugins --all && expect "$tmp/err" "nlp plugins: unknown option '--all' (see 'nlp plugins --help')"
printf 'not ELF' >"$tmp/junk.so"
mkdir "$tmp/junkdir" && cp "$tmp/junk.so" "$tmp/junkdir/"
NLP_PLUGIN_PATH=$tmp/junkdir:$plugdir run 0 "$NLP" plugins &&
    contains "$tmp/err" "nlp plugins: warning: refused $tmp/junkdir/junk.so: not a shared object (no ELF header)" &&
    contains "$tmp/out" "$plugdir/tp_good.so"
NLP_PLUGIN_PATH=$tmp/junkdir:$plugdir run 0 "$NLP" plugins --path &&
    contains "$tmp/out" "$tmp/junkdir" && contains "$tmp/out" "$plugdir"
# a plugin task named like a built-in command: listed, with a warning that
# the command wins (and `nlp bench` stays the command)
mkdir "$tmp/shadow" && cp "$top_builddir/tests/plugins/.libs/tp_shadow.so" "$tmp/shadow/"
run 0 "$NLP" plugins --plugin-dir "$tmp/shadow" &&
    contains "$tmp/out" "$tmp/shadow/tp_shadow.so" &&
    expect "$tmp/err" "nlp plugins: warning: task 'bench' of $tmp/shadow/tp_shadow.so is hidden by the built-in command 'nlp bench'"
NLP_PLUGIN_PATH=$tmp/shadow run 0 "$NLP" bench --help && contains "$tmp/out" "usage: nlp bench"
if NLP_PLUGIN_PATH=$tmp/shadow run 0 "$NLP" --help && grep -q "task named like a built-in" "$tmp/out"; then
    echo "FAIL $n: nlp --help lists the hidden task"
    fails=$((fails + 1))
fi

# ---- every task plugin of the build exports its entry symbol and nothing else
for so in "$top_builddir"/tasks/*/.libs/*.so; do
    [ -f "$so" ] || continue
    n=$((n + 1))
    syms=$(nm -D --defined-only "$so" | awk '$2 ~ /^[TDBRVW]$/ {print $3}' | sort -u)
    if [ "$syms" != "nlp_plugin_entry" ]; then
        echo "FAIL $n: $so exports: $syms"
        fails=$((fails + 1))
    fi
done

# ---- task --help, and help TASK
run 0 "$NLP" echo $P --help && {
    contains "$tmp/out" "usage: nlp echo [options] [TEXT...]"
    contains "$tmp/out" "echo each input as rows (test plugin)"
    contains "$tmp/out" "Default model: tiny-model"
    contains "$tmp/out" "--model DIR_OR_ID"
    contains "$tmp/out" "(default: tiny-model)"
    contains "$tmp/out" "--batch-size N"
    contains "$tmp/out" "inputs per forward pass (default: 8)"
    contains "$tmp/out" "worker threads, 0 = all cores (default: 0)"
    contains "$tmp/out" "--json"
    contains "$tmp/out" "--offline"
    contains "$tmp/out" "--top-k N"
    contains "$tmp/out" "rows per input (default: 3)"
    contains "$tmp/out" "--mode upper|lower|none"
    contains "$tmp/out" "multiplies the scores (default: 1.5)"
    contains "$tmp/out" "add an exclamation mark (default: off)"
    contains "$tmp/out" "a label copied into each row (default: unset)"
}
NLP_PLUGIN_PATH=$plugdir run 0 "$NLP" help echo && contains "$tmp/out" "usage: nlp echo"
run 0 "$NLP" help echo --plugin-dir "$plugdir" && contains "$tmp/out" "usage: nlp echo"
run 0 "$NLP" help plugins && contains "$tmp/out" "usage: nlp plugins"
run 2 "$NLP" help frobnicate &&
    contains "$tmp/err" "nlp: unknown command 'frobnicate' (see 'nlp --help' and 'nlp plugins')"
# an unknown command says which plugin files were refused
NLP_PLUGIN_PATH=$tmp/junkdir run 2 "$NLP" frobnicate &&
    expect "$tmp/err" "nlp: warning: refused $tmp/junkdir/junk.so: not a shared object (no ELF header)
nlp: unknown command 'frobnicate' (see 'nlp --help' and 'nlp plugins')"
run 0 "$NLP" echo-qa $P -h && contains "$tmp/out" "--question TEXT" && contains "$tmp/out" "--context TEXT"
run 0 "$NLP" echo-pair $P -h && contains "$tmp/out" "--text-pair TEXT"

# ---- usage errors: exit 2, one line, nothing on stdout
usage() {
    run 2 "$NLP" "$@" && expect "$tmp/err" "$LINE" && empty "$tmp/out"
}
LINE="nlp echo: unknown option '--colour' (see 'nlp echo --help')"; usage echo $P --colour red x
LINE="nlp echo: unknown option '-z' (see 'nlp echo --help')"; usage echo $P -z x
LINE="nlp echo: option '--top-k' needs a value (see 'nlp echo --help')"; usage echo $P x --top-k
LINE="nlp echo: option --top-k expects an integer, got 'abc' (see 'nlp echo --help')"; usage echo $P --top-k abc x
LINE="nlp echo: option --top-k expects an integer, got '2.5' (see 'nlp echo --help')"; usage echo $P --top-k=2.5 x
LINE="nlp echo: option --scale expects a number, got 'big' (see 'nlp echo --help')"; usage echo $P --scale big x
LINE="nlp echo: option --mode expects one of upper|lower|none, got 'loud' (see 'nlp echo --help')"; usage echo $P --mode loud x
LINE="nlp echo: option --batch-size expects an integer in 1..65536, got '0' (see 'nlp echo --help')"; usage echo $P --batch-size 0 x
LINE="nlp echo: option --threads expects an integer in 0..1024, got '-1' (see 'nlp echo --help')"; usage echo $P --threads -1 x
LINE="nlp echo: option '--shout' doesn't allow an argument (see 'nlp echo --help')"; usage echo $P --shout=yes x
LINE="nlp echo: unknown option '--text-pair' (see 'nlp echo --help')"; usage echo $P --text-pair b x
LINE="nlp echo-qa: --question and --context go together (see 'nlp echo-qa --help')"; usage echo-qa $P --question q

# ---- running (the test plugin ignores the model, which must still load)
if [ ! -f "$MODEL/config.json" ]; then
    echo "cli_common: FAIL: fixture model $MODEL is missing"
    exit 1
fi
M="--model $MODEL"

run 0 "$NLP" echo $P $M --top-k 2 hello && expect "$tmp/out" "rank  text    score
   1  hello  1.5000
   2  hello  0.7500"
run 0 "$NLP" echo $P $M --top-k 1 --mode upper --shout --scale 2 a bb && expect "$tmp/out" "[1] a
rank  text  score
   1  A!        2

[2] bb
rank  text  score
   1  BB!       2"
run 0 "$NLP" echo $P $M --json --top-k 2 --label pos "x y" && expect "$tmp/out" \
    '[{"score":1.5,"text":"x y","rank":1,"label":"pos"},{"score":0.75,"text":"x y","rank":2,"label":"pos"}]'
# stdin, one input per line (CRLF too), batches of 2, a failing input
run_in "$(printf 'a\r\nfail\nb\nc\n')" 1 "$NLP" echo $P $M --json --top-k 1 --batch-size 2 && {
    expect "$tmp/out" '[{"score":1.5,"text":"a","rank":1,"label":null}]
{"error":"echo: this input fails","error_type":"invalid_input"}
[{"score":1.5,"text":"b","rank":1,"label":null}]
[{"score":1.5,"text":"c","rank":1,"label":null}]'
    expect "$tmp/err" "nlp echo: input 2: echo: this input fails"
}
# a whole-run failure stops with status 1 and the plugin's message
run 1 "$NLP" echo $P $M --batch-size 1 a abort b && {
    contains "$tmp/err" "nlp echo: echo: asked to abort"
    contains "$tmp/out" "[1] a"
}
# no input at all: nothing to do
run_in "" 0 "$NLP" echo $P $M && empty "$tmp/out" && expect "$tmp/err" "nlp echo: no input"
# text pairs
run 0 "$NLP" echo-pair $P $M --json --text-pair second first && expect "$tmp/out" \
    '{"text":"first","text_pair":"second"}'
run 0 "$NLP" echo-pair $P $M first && expect "$tmp/out" "text:      first
text_pair: "
# question / context: options, JSON arguments, JSON Lines on stdin
run 0 "$NLP" echo-qa $P $M --json --question "who?" --context "me" && expect "$tmp/out" \
    '{"question":"who?","context":"me"}'
run_in '{"question":"q1","context":"c1"}
not json
{"question":"q3"}
{"context":"c4","question":"q4"}
' 1 "$NLP" echo-qa $P $M --json && {
    expect "$tmp/out" '{"question":"q1","context":"c1"}
{"error":"expected a JSON object {\"question\": ..., \"context\": ...}","error_type":"invalid_input"}
{"error":"the JSON object needs string fields \"question\" and \"context\"","error_type":"invalid_input"}
{"question":"q4","context":"c4"}'
    expect "$tmp/err" 'nlp echo-qa: input 2: expected a JSON object {"question": ..., "context": ...}
nlp echo-qa: input 3: the JSON object needs string fields "question" and "context"'
}
# a model that cannot be loaded: status 1, one line naming it
run 1 "$NLP" echo $P --model "$tmp/nowhere" x && contains "$tmp/err" "nlp echo: " &&
    contains "$tmp/err" "$tmp/nowhere"

echo "cli_common: $n cases, $fails failures"
[ "$fails" -eq 0 ]
