#!/usr/bin/python3
"""
tests/gen/make_bert_tokenizer_json.py - write a BertTokenizerFast-style model
folder (tokenizer.json, tokenizer_config.json, special_tokens_map.json and a
copy of vocab.txt) from a vocab.txt, the way transformers converts a BERT
vocabulary.  Used to give Transformers.js an offline tokenizer and to make
tokenizer.json fixtures for the C tests.

    /usr/bin/python3 tests/gen/make_bert_tokenizer_json.py VOCAB.txt OUTDIR \
        [--cased] [--strip-accents true|false|null] [--no-chinese] [--max-length 512]
"""
import argparse
import json
import os
import shutil

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def build(vocab_path, outdir, lowercase=True, strip_accents=None, chinese=True,
          max_length=512):
    with open(vocab_path, encoding="utf-8") as f:
        tokens = [line[:-1] if line.endswith("\n") else line for line in f]
    vocab = {}
    for i, t in enumerate(tokens):
        vocab[t] = i
    os.makedirs(outdir, exist_ok=True)
    sid = {t: vocab[t] for t in SPECIALS}
    tj = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [
            {"id": sid[t], "content": t, "single_word": False, "lstrip": False,
             "rstrip": False, "normalized": False, "special": True}
            for t in sorted(SPECIALS, key=lambda t: sid[t])
        ],
        "normalizer": {"type": "BertNormalizer", "clean_text": True,
                       "handle_chinese_chars": chinese,
                       "strip_accents": strip_accents, "lowercase": lowercase},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}},
                       {"Sequence": {"id": "A", "type_id": 0}},
                       {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}},
                     {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 0}},
                     {"Sequence": {"id": "B", "type_id": 1}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
            "special_tokens": {
                "[CLS]": {"id": "[CLS]", "ids": [sid["[CLS]"]], "tokens": ["[CLS]"]},
                "[SEP]": {"id": "[SEP]", "ids": [sid["[SEP]"]], "tokens": ["[SEP]"]},
            },
        },
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
        "model": {"type": "WordPiece", "unk_token": "[UNK]",
                  "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": 100, "vocab": vocab},
    }
    with open(os.path.join(outdir, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tj, f, ensure_ascii=False)
    cfg = {
        "tokenizer_class": "BertTokenizer",
        "do_lower_case": lowercase,
        "strip_accents": strip_accents,
        "tokenize_chinese_chars": chinese,
        "model_max_length": max_length,
        "clean_up_tokenization_spaces": True,
        "unk_token": "[UNK]", "sep_token": "[SEP]", "pad_token": "[PAD]",
        "cls_token": "[CLS]", "mask_token": "[MASK]",
    }
    with open(os.path.join(outdir, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(cfg, f, indent=1)
    with open(os.path.join(outdir, "special_tokens_map.json"), "w", encoding="utf-8") as f:
        json.dump({"unk_token": "[UNK]", "sep_token": "[SEP]", "pad_token": "[PAD]",
                   "cls_token": "[CLS]", "mask_token": "[MASK]"}, f, indent=1)
    if os.path.abspath(vocab_path) != os.path.abspath(os.path.join(outdir, "vocab.txt")):
        shutil.copyfile(vocab_path, os.path.join(outdir, "vocab.txt"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("vocab")
    ap.add_argument("outdir")
    ap.add_argument("--cased", action="store_true")
    ap.add_argument("--strip-accents", default="null", choices=["true", "false", "null"])
    ap.add_argument("--no-chinese", action="store_true")
    ap.add_argument("--max-length", type=int, default=512)
    a = ap.parse_args()
    sa = {"true": True, "false": False, "null": None}[a.strip_accents]
    build(a.vocab, a.outdir, not a.cased, sa, not a.no_chinese, a.max_length)


if __name__ == "__main__":
    main()
