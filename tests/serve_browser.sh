#!/bin/sh
# serve_browser.sh - `nlp serve`'s page at / in a real headless browser:
# tests/serve_browser.py loads it in chromium, runs sentiment, ner and qa
# through the form and checks the rendered result against the server's
# JSON.  Skips (77) when chromium is not installed; CHROMIUM names another
# binary.  Every process is ended within 60 s (timeout).
set -u
: "${top_srcdir:?}" "${top_builddir:?}"
NLP=${NLP:-$top_builddir/cli/nlp}
PY=${PYTHON3:-python3}

chromium=${CHROMIUM:-}
if [ -z "$chromium" ]; then
    for c in chromium chromium-browser; do
        chromium=$(command -v "$c" 2>/dev/null) && break
        chromium=
    done
fi
if [ -z "$chromium" ] || [ ! -x "$chromium" ]; then
    echo "SKIP: serve_browser: chromium is not installed (apt-get install chromium)"
    exit 77
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/serve_browser.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
unset NLP_PLUGIN_PATH NLP_API_KEY
timeout -k 5 60 "$PY" "$top_srcdir/tests/serve_browser.py" "$NLP" "$top_srcdir/data/models" "$chromium" "$tmp"
rc=$?
if [ $rc -ne 0 ] && [ -s "$tmp/chromium.log" ]; then
    echo "chromium.log (without the D-Bus lines):"
    grep -av 'dbus/' "$tmp/chromium.log" | tail -20
fi
exit $rc
