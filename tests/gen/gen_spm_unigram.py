#!/usr/bin/python3
"""
tests/gen/gen_spm_unigram.py - a small SentencePiece Unigram model trained
with Debian's python3-sentencepiece, converted to tokenizer.json, and the
ids SentencePiece itself gives for a few hundred inputs, for
tests/check_tokenizer (data/expected/tokenizer/spm-unigram/).

The model is trained on a sample of ../shared/data (SST-2 train-like dev
sentences, AG News, the text corpus) with byte_fallback, a character
coverage below 1 (so rare characters fall back to <0xNN> pieces) and a
small custom normalisation rule table (full-width ASCII, tab / newline to
space, e + U+0301 to é, ligatures), so its precompiled_charsmap is small.
The converter writes what SentencePiece does as tokenizer.json parts:
Precompiled, then Replace " {2,}" -> " " and Replace "^ | $" -> ""
(remove_extra_whitespaces), Metaspace (add_dummy_prefix), Unigram with
byte_fallback, the ByteFallback + Metaspace decoders.  The charsmap is read
from the model's protobuf by hand (field 3 normalizer_spec, field 2
precompiled_charsmap), so no protobuf module is needed.

    /usr/bin/python3 tests/gen/gen_spm_unigram.py data/expected/tokenizer/spm-unigram
"""
import base64
import csv
import json
import os
import random
import sys
import tempfile

import sentencepiece as spm

RULES = ([(0xFF01 + i, [0x21 + i]) for i in range(94)] +  # full-width ASCII
         [(0x09, [0x20]), (0x0A, [0x20]), (0x3000, [0x20]), (0xFB01, [0x66, 0x69]),
          (0xFB02, [0x66, 0x6C]), (0x2126, [0x3A9]), (0x212B, [0xC5])])
SEQ_RULES = [([0x65, 0x301], [0xE9]), ([0x61, 0x308], [0xE4]), ([0x41, 0x30A], [0xC5])]

HARD = [
    "Hello world", "  leading and trailing  ", "runs   of    spaces", "tab\tand\nnewline",
    "Ｆｕｌｌ－ｗｉｄｔｈ　ＡＢＣ　１２３！", "ﬁne ﬂowers", "cafe\u0301 and a\u0308 and A\u030a",
    "café naïve", "emoji 😀👍🏽 and 👨‍👩‍👧", "日本語のテキスト", "Кириллица", "عربي",
    "nbsp\u00a0here", "x" * 200, "Pneumonoultramicroscopicsilicovolcanoconiosis",
    "numbers 12345 3.14159", "$100 & 50% off!!!", "Ω and Å units", "zero\u200bwidth", "",
]


def varint(b, i):
    v, s = 0, 0
    while True:
        c = b[i]
        i += 1
        v |= (c & 0x7F) << s
        s += 7
        if c < 0x80:
            return v, i


def fields(b):
    """(field number, wire type, value) of a protobuf message."""
    i = 0
    while i < len(b):
        key, i = varint(b, i)
        f, wt = key >> 3, key & 7
        if wt == 0:
            v, i = varint(b, i)
        elif wt == 1:
            v, i = b[i:i + 8], i + 8
        elif wt == 5:
            v, i = b[i:i + 4], i + 4
        elif wt == 2:
            n, i = varint(b, i)
            v, i = b[i:i + n], i + n
        else:
            raise ValueError("unexpected wire type %d" % wt)
        yield f, wt, v


def charsmap(model_bytes):
    for f, _, v in fields(model_bytes):
        if f == 3:
            for g, _, w in fields(v):
                if g == 2:
                    return w
    return b""


def convert(sp, cmap):
    vocab = [[sp.id_to_piece(i), float(sp.get_score(i))] for i in range(sp.get_piece_size())]
    added = [{"id": i, "content": sp.id_to_piece(i), "single_word": False, "lstrip": False,
              "rstrip": False, "normalized": False, "special": True}
             for i in range(sp.get_piece_size()) if sp.is_control(i) or sp.is_unknown(i)]
    meta = {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": True}
    return {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": added,
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "Precompiled", "precompiled_charsmap": base64.b64encode(cmap).decode()},
            {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "},
            {"type": "Replace", "pattern": {"Regex": "^ | $"}, "content": ""}]},
        "pre_tokenizer": meta,
        "post_processor": None,
        "decoder": {"type": "Sequence", "decoders": [{"type": "ByteFallback"}, {"type": "Fuse"},
                                                      dict(meta)]},
        "model": {"type": "Unigram", "unk_id": sp.unk_id(), "vocab": vocab, "byte_fallback": True},
    }


def texts(shared, rnd):
    dev = [l.split("\t")[0] for l in open(os.path.join(shared, "sst2/dev.tsv"), encoding="utf-8").read().splitlines()[1:]]
    news = [r[1] + " " + r[2] for r in csv.reader(open(os.path.join(shared, "agnews/test-a.csv"), encoding="utf-8"))]
    lines = []
    cdir = os.path.join(shared, "corpus")
    for name in sorted(os.listdir(cdir)):
        if name.endswith(".txt"):
            lines += [l for l in open(os.path.join(cdir, name), encoding="utf-8", errors="replace")
                      .read().splitlines() if l.strip()]
    rnd.shuffle(dev)
    rnd.shuffle(news)
    rnd.shuffle(lines)
    train = dev[:500] + news[:1500] + lines[:3000]
    test = dev[500:560] + news[1500:1560] + lines[3000:3100]
    return train, test


def main():
    out_dir = sys.argv[1]
    shared = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../shared/data")
    rnd = random.Random(5)
    train, test = texts(shared, rnd)
    with tempfile.TemporaryDirectory() as tmp:
        corpus, rules = os.path.join(tmp, "train.txt"), os.path.join(tmp, "rules.tsv")
        with open(corpus, "w", encoding="utf-8") as f:
            f.write("\n".join(train) + "\n")
        with open(rules, "w", encoding="utf-8") as f:
            for src, dst in [([s], d) for s, d in RULES] + SEQ_RULES:
                f.write(" ".join("%X" % c for c in src) + "\t" + " ".join("%X" % c for c in dst) + "\n")
        prefix = os.path.join(tmp, "m")
        spm.SentencePieceTrainer.train(input=corpus, model_prefix=prefix, vocab_size=800,
                                       model_type="unigram", byte_fallback=True,
                                       character_coverage=0.995, normalization_rule_tsv=rules,
                                       num_threads=1, minloglevel=2)
        model = open(prefix + ".model", "rb").read()
    sp = spm.SentencePieceProcessor(model_proto=model)
    os.makedirs(out_dir, exist_ok=True)
    os.makedirs(os.path.join(out_dir, "model"), exist_ok=True)
    with open(os.path.join(out_dir, "model", "spm.model"), "wb") as f:
        f.write(model)  # the same model as a .model file (tests/check_spm_model)
    with open(os.path.join(out_dir, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(convert(sp, charsmap(model)), f, ensure_ascii=False)
    with open(os.path.join(out_dir, "expected.jsonl"), "w", encoding="utf-8") as f:
        for t in HARD + test:
            f.write(json.dumps({"text": t, "ids": sp.encode(t)}, ensure_ascii=False) + "\n")
    print(f"{sp.get_piece_size()} pieces, {len(HARD) + len(test)} inputs", file=sys.stderr)


if __name__ == "__main__":
    main()
