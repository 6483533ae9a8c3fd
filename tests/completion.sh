#!/bin/sh
# completion.sh - completion/nlp.bash, sourced in bash, completes with the
# built nlp: command and task names, each one's options, the values of an
# A|B|C metavar (also after --opt=), files and folders where they are asked.
if [ -z "${BASH_VERSION:-}" ]; then
    command -v bash >/dev/null 2>&1 || { echo "completion.sh: no bash, skipped"; exit 77; }
    exec bash "$0" "$@"
fi
set -u
top_srcdir=${top_srcdir:-.}
NLP=${NLP:-${top_builddir:-.}/cli/nlp}
unset NLP_PLUGIN_PATH
source "$top_srcdir/completion/nlp.bash" || { echo "completion.sh: FAIL: cannot source nlp.bash"; exit 1; }
complete -p nlp >/dev/null || { echo "completion.sh: FAIL: nlp.bash registers no completion for nlp"; exit 1; }
cd "$top_srcdir/data" || exit 1
fails=0 n=0

# expect WORD... -- REPLY...: completing the last WORD offers exactly REPLY...
expect() {
    local words=() want=()
    while [ "$1" != -- ]; do words+=("$1"); shift; done
    shift
    want=("$@")
    COMP_WORDS=("$NLP" "${words[@]}")
    COMP_CWORD=${#words[@]}
    COMPREPLY=()
    _nlp
    local got want_s
    got=$(printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ')
    want_s=$(printf '%s\n' "${want[@]}" | sort | tr '\n' ' ')
    [ "$#" -eq 0 ] && want_s=$(printf '\n' | tr '\n' ' ')
    n=$((n + 1))
    if [ "$got" != "$want_s" ]; then
        echo "completion.sh: FAIL: nlp ${words[*]}<TAB> gave [$got], expected [$want_s]"
        fails=$((fails + 1))
    fi
}
# includes WORD... -- REPLY...: the replies include each REPLY
includes() {
    local words=() r
    while [ "$1" != -- ]; do words+=("$1"); shift; done
    shift
    COMP_WORDS=("$NLP" "${words[@]}")
    COMP_CWORD=${#words[@]}
    COMPREPLY=()
    _nlp
    n=$((n + 1))
    for r in "$@"; do
        printf '%s\n' "${COMPREPLY[@]}" | grep -qxF -- "$r" || {
            echo "completion.sh: FAIL: nlp ${words[*]}<TAB> gave [${COMPREPLY[*]}], without $r"
            fails=$((fails + 1))
        }
    done
}

# names: built-in commands, plugin tasks, help
includes "" -- tokenize plugins download models bench quantize serve help \
    fill-mask sentiment classify ner qa
expect f -- fill-mask
expect help se -- sentiment serve
expect help sen -- sentiment
expect --v -- --version
# options, from each one's --help
expect fill-mask --to -- --top-k
expect tokenize --m -- --model --max-length
includes tokenize - -- -m -q --json --pair
includes qa --handle -- --handle-impossible-answer
expect bench --war -- --warmup
expect serve --max-c -- --max-concurrent-requests --max-client-batch-size
expect serve --dtype "" -- fp32 int8 bf16
# enumerated values, from the option line or from the usage lines
expect ner --aggregation "" -- none simple first average max
expect ner --aggregation a -- average
expect ner --aggregation = m -- max
expect ner --aggregation=f -- --aggregation=first
expect fill-mask --dtype "" -- fp32 int8 bf16
expect bench --dtype "" -- fp32 int8 bf16
expect quantize --dtype "" -- int8 bf16 fp16
expect quantize --embeddings "" -- int8
expect quantize --rest "" -- fp16
expect sentiment --format j -- jsonl
expect classify --function si -- sigmoid
# files and folders
expect fill-mask --model models/tiny-bert-ml -- models/tiny-bert-mlm
expect sentiment --input models/tiny-bert-sst2/conf -- models/tiny-bert-sst2/config.json
expect ner --plugin-dir models/tiny-distilbert-ml -- models/tiny-distilbert-mlm
expect quantize models/tiny-bert-ml -- models/tiny-bert-mlm
expect models "" -- rm
# nothing to offer for a free value
expect fill-mask --top-k "" --

[ "$fails" -eq 0 ] || exit 1
echo "completion.sh: $n completions as expected"
