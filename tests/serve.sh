#!/bin/sh
# serve.sh - `nlp serve` over HTTP on 127.0.0.1 (a free port), end to end:
# tests/serve_http.py checks the routes against the CLI's --json, the
# errors and limits, the API key, disconnecting clients, many clients at
# once and SIGTERM under load.  The example plugin (keywords) is built
# here and served next to the built-in tasks.  Every wait is bounded
# (timeout 600).
set -u
: "${top_srcdir:?}" "${top_builddir:?}"
NLP=${NLP:-$top_builddir/cli/nlp}
PY=${PYTHON3:-python3}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/serve.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
${CC:-cc} -std=c11 -shared -fPIC -I"$top_srcdir/include" -o "$tmp/keywords.so" \
    "$top_srcdir/plugins/example/keywords.c" -lm || {
    echo "serve: FAIL: the example plugin does not build"
    exit 1
}
unset NLP_PLUGIN_PATH NLP_API_KEY
timeout 600 "$PY" "$top_srcdir/tests/serve_http.py" "$NLP" "$top_srcdir/data/models" "$tmp"
