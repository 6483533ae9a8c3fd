#!/bin/sh
# quantize.sh - `nlp quantize` and the checkpoints libnlp writes, end to
# end: the int8, bf16 and fp16 copies of a fixture (and the int8 ones with
# int8 word embeddings and an fp16 rest, which fill-mask runs) and the random bert-tiny
# checkpoint of `nlp bench` keep their exact bytes (cksum values pinned
# from the writer's output), OUT_DIR is refused when it exists (exit 1,
# one line naming it and --force) and written with --force, OUT_DIR may
# not be IN_DIR, a value beyond the fp16 range is refused (exit 1, one
# line naming the tensor, no OUT_DIR), no temporary file is left behind,
# usage errors exit 2.  The fp16 bytes themselves are checked against
# PyTorch by check_checkpoint.
#
# Environment (set by make check): NLP (the nlp binary), top_srcdir.
set -u
: "${top_srcdir:?}"
NLP=${NLP:?NLP is not set}
IN=$top_srcdir/data/models/tiny-bert-mlm

tmp=$(mktemp -d "${TMPDIR:-/tmp}/quantize.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/sh_lib.sh"

# check_sum FILE EXPECTED: the cksum of FILE (checksum and size) is EXPECTED
check_sum() {
    got=$(cksum <"$1" | awk '{print $1, $2}')
    if [ "$got" != "$2" ]; then
        echo "FAIL $n: cksum of $1 is $got, expected $2"
        fails=$((fails + 1))
    fi
}

# has FILE TEXT: FILE contains TEXT
has() {
    if ! grep -qF -- "$2" "$1"; then
        echo "FAIL $n: $(basename "$1") lacks '$2':"
        sed 's/^/  /' "$1"
        fails=$((fails + 1))
    fi
}

run 0 "$NLP" quantize "$IN" "$tmp/q8" && has "$tmp/out" "12 layer weights as int8"
check_sum "$tmp/q8/model.safetensors" "166801525 304120"
cmp -s "$IN/vocab.txt" "$tmp/q8/vocab.txt" || { echo "FAIL $n: vocab.txt not copied"; fails=$((fails + 1)); }

run 0 "$NLP" quantize --dtype bf16 "$IN" "$tmp/q16"
check_sum "$tmp/q16/model.safetensors" "662556947 317352"

run 0 "$NLP" quantize --dtype fp16 "$IN" "$tmp/h16" && has "$tmp/out" "42 tensors as fp16"
check_sum "$tmp/h16/model.safetensors" "628621450 177336"
cmp -s "$IN/config.json" "$tmp/h16/config.json" || { echo "FAIL $n: config.json changed"; fails=$((fails + 1)); }
run 0 "$NLP" quantize --embeddings int8 "$IN" "$tmp/e8" && has "$tmp/out" "13 weights"
check_sum "$tmp/e8/model.safetensors" "3162614244 120136"
run 0 "$NLP" quantize --embeddings int8 --rest fp16 "$IN" "$tmp/s8" && has "$tmp/out" "29 other tensors as fp16"
check_sum "$tmp/s8/model.safetensors" "564721366 108128"
run 0 "$NLP" fill-mask --model "$tmp/s8" --json "paris is the [MASK] of france." && has "$tmp/out" '"token":1693'
run 0 "$NLP" fill-mask --model "$tmp/h16" --json "paris is the [MASK] of france." && has "$tmp/out" '"token":1693'

# a value fp16 cannot hold: refused, one line naming the tensor, nothing written
run 1 "$NLP" quantize --dtype fp16 "$top_srcdir/data/models/f16-overflow" "$tmp/over"
has "$tmp/err" "extra.big"
[ "$(wc -l <"$tmp/err")" -eq 1 ] || { echo "FAIL $n: more than one line on stderr"; fails=$((fails + 1)); }
[ ! -e "$tmp/over" ] || { echo "FAIL $n: $tmp/over was created"; fails=$((fails + 1)); }
run 1 "$NLP" quantize --rest fp16 "$top_srcdir/data/models/f16-overflow" "$tmp/over"
[ ! -e "$tmp/over" ] || { echo "FAIL $n: $tmp/over was created"; fails=$((fails + 1)); }

# an existing OUT_DIR: refused, one line, untouched
run 1 "$NLP" quantize --dtype bf16 "$IN" "$tmp/q8"
has "$tmp/err" "$tmp/q8"
has "$tmp/err" "--force"
[ "$(wc -l <"$tmp/err")" -eq 1 ] || { echo "FAIL $n: more than one line on stderr"; fails=$((fails + 1)); }
check_sum "$tmp/q8/model.safetensors" "166801525 304120"
mkdir "$tmp/empty"
run 1 "$NLP" quantize "$IN" "$tmp/empty"

# --force writes into it
run 0 "$NLP" quantize --force --dtype bf16 "$IN" "$tmp/q8"
check_sum "$tmp/q8/model.safetensors" "662556947 317352"
run 0 "$NLP" quantize --force "$IN" "$tmp/empty"
check_sum "$tmp/empty/model.safetensors" "166801525 304120"

# never into the input folder, not even with --force
cp -R "$IN" "$tmp/in"
run 1 "$NLP" quantize --force "$tmp/in" "$tmp/in"
cmp -s "$IN/model.safetensors" "$tmp/in/model.safetensors" \
    || { echo "FAIL $n: the input was changed"; fails=$((fails + 1)); }

# usage errors and help
run 2 "$NLP" quantize --dtype int4 "$IN" "$tmp/x" && has "$tmp/err" "int8, bf16 or fp16"
run 1 "$NLP" quantize --dtype fp16 "$IN" "$tmp/h16" && has "$tmp/err" "--force"
run 2 "$NLP" quantize --embeddings int4 "$IN" "$tmp/x"
run 2 "$NLP" quantize --rest bf16 "$IN" "$tmp/x"
run 2 "$NLP" quantize --dtype fp16 --embeddings int8 "$IN" "$tmp/x" && has "$tmp/err" "--dtype int8"
run 2 "$NLP" quantize --dtype bf16 --rest fp16 "$IN" "$tmp/x"
run 2 "$NLP" quantize "$IN"
run 0 "$NLP" quantize --help && has "$tmp/out" "--force"
run 1 "$NLP" quantize "$tmp/nothing-here" "$tmp/x"

# the random checkpoint of `nlp bench`
run 0 "$NLP" bench --shape bert-tiny --cache-dir "$tmp/bench" --seq-len 8 --iters 1 --warmup 0 \
    --threads 1 --json
check_sum "$tmp/bench/bert-tiny/model.safetensors" "2577590950 17481904"
check_sum "$tmp/bench/bert-tiny/config.json" "513000976 318"
# a config.json of another family as the shape: its text is kept byte for
# byte and the checkpoint it gets runs; a sequence longer than the shape's
# positions and a config no family reads are refused before anything is
# written
MB=$top_srcdir/data/models/tiny-modernbert/config.json
run 0 "$NLP" bench --shape "$MB" --cache-dir "$tmp/bench" --seq-len 8 --iters 1 --warmup 0 \
    --threads 1 --json && has "$tmp/out" '"shape":"modernbert-L4-H32-A4-I48-'
mbdir=$(find "$tmp/bench" -maxdepth 1 -name 'modernbert-*')
n=$((n + 1))
cmp -s "$MB" "$mbdir/config.json" || { echo "FAIL $n: $mbdir/config.json differs from $MB"; fails=$((fails + 1)); }
run 2 "$NLP" bench --shape roberta-base --cache-dir "$tmp/bench" --seq-len 513 &&
    has "$tmp/err" "--seq-len 513 exceeds the 512 tokens roberta-base has positions for"
printf '{"model_type": "gpt2"}' > "$tmp/gpt2.json"
run 1 "$NLP" bench --shape "$tmp/gpt2.json" --cache-dir "$tmp/bench" && has "$tmp/err" "gpt2.json"
run 2 "$NLP" bench --shape "$tmp/no-such.json" && has "$tmp/err" "neither a named shape"
# sizes no disk holds (2^24 x 2^24 floats of word embeddings) are refused
# before a byte is written
printf '{"model_type": "bert", "vocab_size": 16777216, "hidden_size": 16777216, "num_attention_heads": 1}' \
    > "$tmp/huge.json"
run 1 "$NLP" bench --shape "$tmp/huge.json" --cache-dir "$tmp/bench" && has "$tmp/err" "GB free there"
n=$((n + 1))
[ ! -e "$tmp/bench/roberta-base" ] || { echo "FAIL $n: roberta-base was written"; fails=$((fails + 1)); }

n=$((n + 1))
left=$(find "$tmp" -name '*.tmp.*' | head -n 1)
[ -z "$left" ] || { echo "FAIL $n: temporary file left behind: $left"; fails=$((fails + 1)); }

if [ "$fails" -gt 0 ]; then
    echo "quantize: $fails failure(s)"
    exit 1
fi
echo "quantize: all $n checks passed"
exit 0
