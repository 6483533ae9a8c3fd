# serve_lib.sh - sourced by bench/serve.sh and bench/serve_memory.sh, which
# set here, shared, nlp and tmp first.
#
# bench_model DIR: writes the bert-base-sized random-weight
#   BertForSequenceClassification of bench/corpus.sh (its python heredoc)
#   to DIR, unless DIR already holds a model.
# serve_start TRIES ARGS...: runs `nlp serve ARGS --port 0 --quiet` in the
#   background (stderr in $tmp/err) and waits up to TRIES tenths of a second
#   for it to listen; sets port, wpid (the process started, which may be
#   libtool's wrapper script) and pid (the server's own).  Exits with the
#   server's messages when it does not come up.

bench_model() {
    [ ! -f "$1/model.safetensors" ] || return 0
    awk '/python3 - "\$model"/ { f = 1; next } f && /^EOF$/ { exit } f' "$here/corpus.sh" \
        >"$tmp/mkmodel.py"
    /usr/bin/python3 "$tmp/mkmodel.py" "$1" "$shared/vocab/bert-base-uncased/vocab.txt"
}

serve_start() {
    tries=$1
    shift
    "$nlp" serve "$@" --port 0 --quiet 2>"$tmp/err" &
    wpid=$!
    pid=$wpid
    port=
    for _ in $(seq "$tries"); do
        port=$(sed -n 's/.*listening on [^ ]* port \([0-9]*\).*/\1/p' "$tmp/err")
        [ -n "$port" ] && break
        sleep 0.1
    done
    [ -n "$port" ] || { cat "$tmp/err"; exit 1; }
    pid=$(sed -n 's/.*(pid \([0-9]*\)).*/\1/p' "$tmp/err")
}
