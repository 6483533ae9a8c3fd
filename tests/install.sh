#!/bin/sh
# install.sh - a staged installation works as installed software:
#   make install DESTDIR=$tmp   (at the configured prefix)
# then the installed nlp (with the installed libnlp) lists the installed
# task plugins with `nlp plugins`, the installed plugins export only their
# entry symbol, and the example plugin, built out of tree with
#   cc -shared -fPIC $(pkg-config --cflags nlp) ...
# against the installed header and nlp.pc, is found through NLP_PLUGIN_PATH
# and runs.  The built-in models are installed from a fixture folder
# (BUILTIN_MODELS_SRC: nlp-mini, a link to data/models/tiny-bert-mlm, and a
# folder without config.json, which is not a model): the installed nlp
# finds nlp-mini in its own, staged $(pkgdatadir)/models and runs
# fill-mask on it without --model and without the Hub; make uninstall
# removes it.
#
# Usage: tests/install.sh [BUILDDIR]   (default: $top_builddir, else .)
# Run by `make installcheck`; not part of `make check` (it runs make install).
set -u
top_builddir=${1:-${top_builddir:-.}}
top_builddir=$(cd "$top_builddir" && pwd) || exit 1
top_srcdir=${top_srcdir:-$(sed -n 's/^abs_top_srcdir = //p' "$top_builddir/Makefile")}
MAKE=${MAKE:-make}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/nlp_install.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
stage=$tmp/stage
fail() {
    echo "install.sh: FAIL: $*"
    exit 1
}

# The configured prefix is kept (nlp.pc and the compiled-in plugin folder
# name it); DESTDIR stages the whole tree elsewhere.
prefix=$(sed -n 's/^prefix = //p' "$top_builddir/Makefile")
[ -n "$prefix" ] || fail "no prefix in $top_builddir/Makefile"
models_src=$tmp/models-src
mkdir -p "$models_src/not-a-model"
echo x >"$models_src/not-a-model/notes.txt"
ln -s "$top_srcdir/data/models/tiny-bert-mlm" "$models_src/nlp-mini"
$MAKE -s -C "$top_builddir" install DESTDIR="$stage" BUILTIN_MODELS_SRC="$models_src" \
    >"$tmp/make.log" 2>&1 || { cat "$tmp/make.log"; fail "make install"; }

root=$stage$prefix
nlp=$root/bin/nlp
[ -x "$nlp" ] || fail "$nlp was not installed"
for h in nlp.h plugin.h registry.h status.h; do
    [ -f "$root/include/nlp/$h" ] || fail "include/nlp/$h was not installed"
done
[ -f "$root/lib/pkgconfig/nlp.pc" ] || fail "lib/pkgconfig/nlp.pc was not installed"
[ -f "$root/share/man/man1/nlp.1" ] || fail "share/man/man1/nlp.1 was not installed"
ls "$root"/lib/nlp/*.so >/dev/null 2>&1 || fail "no task plugin in $root/lib/nlp"

# every installed plugin exports exactly its entry symbol
for so in "$root"/lib/nlp/*.so; do
    syms=$(nm -D --defined-only "$so" | awk '$2 ~ /^[TDBRV]$/ {print $3}' | sort -u)
    [ "$syms" = "nlp_plugin_entry" ] || fail "$so exports: $syms"
done

# the installed nlp runs against the installed libnlp and finds its plugins
export LD_LIBRARY_PATH="$root/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
unset NLP_PLUGIN_PATH
"$nlp" --version >/dev/null || fail "the installed nlp does not run"
"$nlp" plugins >"$tmp/plugins.txt" 2>"$tmp/plugins.err" || fail "nlp plugins: $(cat "$tmp/plugins.err")"
n_installed=$(ls "$root"/lib/nlp/*.so | wc -l)
n_listed=$(grep -c " $root/lib/nlp/" "$tmp/plugins.txt")
[ "$n_listed" -eq "$n_installed" ] || {
    cat "$tmp/plugins.txt" "$tmp/plugins.err"
    fail "nlp plugins lists $n_listed of the $n_installed installed plugins"
}
grep -q "$top_builddir" "$tmp/plugins.txt" && fail "the installed nlp loaded plugins from the build tree"
for task in fill-mask sentiment; do
    grep -Eq "^[^ ]+ +[^ ]+ +([^ ]*,)?$task(,[^ ]*)? " "$tmp/plugins.txt" ||
        fail "the installed plugins do not serve '$task'"
done

# the example plugin, out of tree, through pkg-config and NLP_PLUGIN_PATH
cflags=$(PKG_CONFIG_PATH=$root/lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$stage \
    pkg-config --cflags nlp) || fail "pkg-config --cflags nlp"
mkdir "$tmp/ext"
${CC:-cc} -shared -fPIC $cflags -o "$tmp/ext/keywords.so" \
    "$top_srcdir/plugins/example/keywords.c" -lm || fail "the example plugin does not build with: $cflags"
NLP_PLUGIN_PATH=$tmp/ext "$nlp" plugins >"$tmp/plugins2.txt" 2>&1 || fail "nlp plugins with NLP_PLUGIN_PATH"
grep -Eq "^keywords +0\.1\.0 +keywords +$tmp/ext/keywords.so$" "$tmp/plugins2.txt" ||
    { cat "$tmp/plugins2.txt"; fail "keywords.so not listed through NLP_PLUGIN_PATH"; }
NLP_PLUGIN_PATH=$tmp/ext "$nlp" keywords --model "$top_srcdir/data/models/tiny-bert" --json \
    "Hello world." >"$tmp/keywords.json" 2>"$tmp/keywords.err" ||
    fail "nlp keywords: $(cat "$tmp/keywords.err")"
grep -q '^\[{"word":"Hello",' "$tmp/keywords.json" ||
    fail "nlp keywords printed: $(cat "$tmp/keywords.json")"

# the built-in models: installed, found relocated, run with no Hub
models=$root/share/nlp/models
for f in "$top_srcdir"/data/models/tiny-bert-mlm/*; do
    cmp -s "$f" "$models/nlp-mini/${f##*/}" || fail "models/nlp-mini/${f##*/} was not installed"
done
[ -e "$models/not-a-model" ] && fail "a folder without config.json was installed as a model"
unset NLP_MODELS_PATH HF_HUB_OFFLINE
export HF_ENDPOINT=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 HF_HUB_CACHE="$tmp/cache"
"$nlp" models >"$tmp/models.txt" 2>"$tmp/models.err" || fail "nlp models: $(cat "$tmp/models.err")"
grep -Eq "^nlp-mini +BertForMaskedLM +.* $models/nlp-mini$" "$tmp/models.txt" ||
    { cat "$tmp/models.txt" "$tmp/models.err"; fail "the installed nlp does not find its built-in nlp-mini"; }
"$nlp" fill-mask --json "Paris is the [MASK] of France." >"$tmp/fm1.json" 2>"$tmp/fm.err" ||
    fail "fill-mask on the installed built-in model: $(cat "$tmp/fm.err")"
"$nlp" fill-mask --json --model "$top_srcdir/data/models/tiny-bert-mlm" "Paris is the [MASK] of France." \
    >"$tmp/fm2.json" 2>"$tmp/fm.err" || fail "fill-mask --model: $(cat "$tmp/fm.err")"
cmp -s "$tmp/fm1.json" "$tmp/fm2.json" || fail "the installed built-in model gives other results"
$MAKE -s -C "$top_builddir" uninstall DESTDIR="$stage" BUILTIN_MODELS_SRC="$models_src" \
    >"$tmp/make.log" 2>&1 || { cat "$tmp/make.log"; fail "make uninstall"; }
[ -e "$models" ] && fail "make uninstall left $(find "$models" | head -3)"

echo "install.sh: staged install OK ($n_installed task plugins listed, example plugin found via NLP_PLUGIN_PATH, built-in model found relocated)"
