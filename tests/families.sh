#!/bin/sh
# tests/families.sh - fill-mask, sentiment, classify, ner and qa end to end
# on the RoBERTa, XLM-RoBERTa (sentencepiece.bpe.model, no tokenizer.json),
# MPNet, DeBERTa-v3, ModernBERT and ELECTRA fixtures (tests/families_tasks.py),
# MPNet's tokenizer, embed and similarity (tests/mpnet_cli.py), and a clear
# error for a model_type no family module knows.
# Environment (from make check): NLP, top_srcdir.
. "$(dirname "$0")/task_lib.sh"
task_init
python3 "$top_srcdir/tests/families_tasks.py" "$NLP" "$top_srcdir" || task_failed=$((task_failed + 1))
python3 "$top_srcdir/tests/families_tasks.py" "$NLP" "$top_srcdir" mpnet ||
    task_failed=$((task_failed + 1))
python3 "$top_srcdir/tests/families_tasks.py" "$NLP" "$top_srcdir" xlm-roberta ||
    task_failed=$((task_failed + 1))
python3 "$top_srcdir/tests/mpnet_cli.py" "$NLP" "$top_srcdir" || task_failed=$((task_failed + 1))
python3 "$top_srcdir/tests/families_tasks.py" "$NLP" "$top_srcdir" deberta ||
    task_failed=$((task_failed + 1))
python3 "$top_srcdir/tests/families_tasks.py" "$NLP" "$top_srcdir" modernbert ||
    task_failed=$((task_failed + 1))
python3 "$top_srcdir/tests/families_tasks.py" "$NLP" "$top_srcdir" electra ||
    task_failed=$((task_failed + 1))
mkdir -p "$task_tmp/gpt2"
printf '{"model_type": "gpt2"}\n' > "$task_tmp/gpt2/config.json"
: > "$task_tmp/gpt2/model.safetensors"
expect 1 'unsupported model_type "gpt2" (supported: bert, distilbert, roberta, xlm-roberta, electra, mpnet, deberta-v2, modernbert)' \
    "" "$NLP" sentiment --model "$task_tmp/gpt2" --json text
task_done
