#!/bin/sh
# tests/builtin_models.sh - the built-in models end to end: the cases of
# data/expected/builtin/ (written by tests/gen/gen_builtin.py from PyTorch
# on the weights of models/nlp-mini* and ports of Hugging Face's pipeline
# post-processing), each task run without --model so that it picks its
# built-in model, found through NLP_MODELS_PATH=$top_srcdir/models whatever
# the binary's location.  The int8 task models run with --dtype fp32 (1e-4)
# and once on the int8 kernels (the case's "tol").  No network may be used:
# the hub endpoint and the proxies point at a closed local port and the hub
# cache is an empty folder.  Skips (77) until the models are in the tree.
# Environment (from make check): NLP, top_srcdir.
. "$(dirname "$0")/task_lib.sh"
task_init

if [ ! -f "$top_srcdir/models/nlp-mini/config.json" ]; then
    echo "SKIP: no built-in models: $top_srcdir/models/nlp-mini/config.json is missing"
    exit 77
fi
if ! ls "$top_srcdir/data/expected/builtin/"*.json >/dev/null 2>&1; then
    echo "SKIP: no cases in $top_srcdir/data/expected/builtin (run tests/gen/gen_builtin.py)"
    exit 77
fi

NLP_MODELS_PATH="$top_srcdir/models"
HF_ENDPOINT=http://127.0.0.1:9
https_proxy=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9
http_proxy=http://127.0.0.1:9 HTTP_PROXY=http://127.0.0.1:9
mkdir "$task_tmp/hf" || exit 99
HF_HOME="$task_tmp/hf" HF_HUB_CACHE="$task_tmp/hf/hub" XDG_CACHE_HOME="$task_tmp/hf"
export NLP_MODELS_PATH HF_ENDPOINT https_proxy HTTPS_PROXY http_proxy HTTP_PROXY \
    HF_HOME HF_HUB_CACHE XDG_CACHE_HOME

task_cases builtin
task_done
