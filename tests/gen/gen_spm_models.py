#!/usr/bin/python3
"""
tests/gen/gen_spm_models.py - small SentencePiece Unigram .model files
trained with Debian's python3-sentencepiece under different settings, and
the ids and offsets SentencePiece itself gives, for tests/check_spm_model
(data/expected/tokenizer/spm-model/NAME/{spm.model,expected.jsonl}).

Models (all model_type unigram, trained on SST-2 dev, CoNLL-2003 and
SQuAD text from ../shared/data through tests/gen/real_text.py):
  nmt-nfkc         nmt_nfkc (sentencepiece's default), no byte fallback
  nfkc-cf-bytes    nfkc_cf (case folding), byte_fallback
  identity-digits  identity, split_digits, add_dummy_prefix off, byte_fallback
  user-symbols     a small custom rule table (full-width ASCII, ligatures,
                   U+2122 -> TM), remove_extra_whitespaces off,
                   user_defined_symbols (kept unnormalised, always chosen)

Each expected.jsonl row: text, ids (SentencePiece's encode) and offsets
(code points, flat [begin, end, ...], from encode_as_immutable_proto).
Inputs: hard cases (emoji, CJK, combining marks, RTL, control characters,
runs of spaces) and a sample of held-out SST-2 / CoNLL / SQuAD text.
With --all every held-out line of the corpora is written instead (to
measure parity over them, e.g. into /tmp; not committed).

    /usr/bin/python3 tests/gen/gen_spm_models.py data/expected/tokenizer/spm-model
"""
import json
import os
import random
import sys
import tempfile

import sentencepiece as spm

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import real_text  # noqa: E402

SHARED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../shared/data")

HARD = [
    "Hello world", "  leading and trailing  ", "runs   of    spaces", " " * 40 + "x" + " " * 40,
    "tab\tand\nnewline", "Ｆｕｌｌ－ｗｉｄｔｈ　ＡＢＣ　１２３！", "ﬁne ﬂowers ™ and ℡",
    "cafe\u0301 and a\u0308 and A\u030a", "café naïve", "e\u0301\u0301\u0301 stacked marks",
    "emoji 😀👍🏽 and 👨‍👩‍👧 🇫🇷", "日本語のテキスト", "中文 한국어 ภาษาไทย", "Кириллица",
    "عربي مكتوب", "עברית and English mixed", "\u202eRTL override\u202c", "control \x01\x02\x1b\x7f chars",
    "nbsp\u00a0here", "zero\u200bwidth\u200djoiner", "x" * 300, "Pneumonoultramicroscopicsilicovolcanoconiosis",
    "numbers 12345 3.14159 2024-01-01", "$100 & 50% off!!!", "Ω and Å units", "", " ", "\u3000",
    "<sep> user @@ symbols ™ <sep>", "New York <sep>New York", "ALL CAPS Ünïcödé", "ß ẞ ǅ ﬀ",
]

MODELS = {
    "nmt-nfkc": dict(normalization_rule_name="nmt_nfkc", vocab_size=1000, character_coverage=0.9995),
    "nfkc-cf-bytes": dict(normalization_rule_name="nfkc_cf", vocab_size=1000, byte_fallback=True,
                          character_coverage=0.995),
    "identity-digits": dict(normalization_rule_name="identity", vocab_size=800, byte_fallback=True,
                            split_digits=True, add_dummy_prefix=False, character_coverage=0.995),
    "user-symbols": dict(vocab_size=800, remove_extra_whitespaces=False, character_coverage=0.9995,
                         user_defined_symbols=["<sep>", "@@", "New York", "ab", "™"]),
}

RULES = ([(0xFF01 + i, [0x21 + i]) for i in range(94)] +
         [(0x09, [0x20]), (0x0A, [0x20]), (0x3000, [0x20]), (0xFB01, [0x66, 0x69]),
          (0xFB02, [0x66, 0x6C]), (0x2122, [0x54, 0x4D])])


def corpora(rnd):
    """(train lines, test lines, all held-out lines)."""
    sst = real_text.sst2_dev(SHARED)
    conll = real_text.conll_sentences(SHARED)
    squad = real_text.squad_contexts(SHARED)
    ctx = sorted(set(c for c, _ in squad))
    qs = [q for _, q in squad]
    for x in (sst, conll, ctx, qs):
        rnd.shuffle(x)
    train = sst[:500] + conll[:1500] + ctx[:300] + qs[:500]
    held = sst[500:] + conll[1500:] + ctx[300:] + qs[500:]
    test = sst[500:600] + conll[1500:1600] + ctx[300:306] + qs[500:540]
    return train, test, held


def train(name, lines, tmp):
    corpus = os.path.join(tmp, "train.txt")
    with open(corpus, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    opts = dict(MODELS[name])
    if "normalization_rule_name" not in opts:
        rules = os.path.join(tmp, "rules.tsv")
        with open(rules, "w", encoding="utf-8") as f:
            for src, dst in RULES:
                f.write("%X\t%s\n" % (src, " ".join("%X" % c for c in dst)))
        opts["normalization_rule_tsv"] = rules
    prefix = os.path.join(tmp, name)
    spm.SentencePieceTrainer.train(input=corpus, model_prefix=prefix, model_type="unigram",
                                   num_threads=1, minloglevel=2, **opts)
    return open(prefix + ".model", "rb").read()


def row(sp, text):
    p = sp.encode_as_immutable_proto(text)
    off = []
    for x in p.pieces:
        off += [x.begin, x.end]
    return {"text": text, "ids": [x.id for x in p.pieces], "offsets": off}


def main():
    args = [a for a in sys.argv[1:] if a != "--all"]
    out = args[0]
    every = "--all" in sys.argv
    train_lines, test, held = corpora(random.Random(11))
    with tempfile.TemporaryDirectory() as tmp:
        for name in MODELS:
            model = train(name, train_lines, tmp)
            sp = spm.SentencePieceProcessor(model_proto=model)
            d = os.path.join(out, name)
            os.makedirs(d, exist_ok=True)
            with open(os.path.join(d, "spm.model"), "wb") as f:
                f.write(model)
            rows = HARD + (held if every else test)
            with open(os.path.join(d, "expected.jsonl"), "w", encoding="utf-8") as f:
                for t in rows:
                    f.write(json.dumps(row(sp, t), ensure_ascii=False, separators=(",", ":")) + "\n")
            print("%s: %d pieces, %d bytes, %d inputs" % (name, sp.get_piece_size(), len(model), len(rows)),
                  file=sys.stderr)


if __name__ == "__main__":
    main()
