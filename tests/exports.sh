#!/bin/sh
# exports.sh - libnlp exports exactly the functions its public headers
# declare with NLP_API: nothing internal leaks (the library is built with
# hidden visibility), nothing declared is missing.
# Environment (from make check): top_srcdir, top_builddir.
set -u
: "${top_srcdir:?}" "${top_builddir:?}"
LIB="$top_builddir/core/.libs/libnlp.so"
if [ ! -f "$LIB" ] || ! command -v nm >/dev/null 2>&1; then
    echo "SKIP: no shared libnlp or no nm"
    exit 77
fi
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
nm -D --defined-only "$LIB" | awk '$2 == "T" { print $3 }' | sort >"$T/exported"
sed -n 's/^NLP_API [^(]*[ *]\([a-z_0-9]*\)(.*/\1/p' "$top_srcdir"/include/nlp/*.h | sort >"$T/declared"
fails=0
if ! cmp -s "$T/exported" "$T/declared"; then
    echo "FAIL: exported (<) and declared (>) differ:"
    diff "$T/exported" "$T/declared" | grep '^[<>]' | head -40
    fails=1
fi
echo "exports.sh: $(wc -l <"$T/exported") functions exported"
[ $fails -eq 0 ]
