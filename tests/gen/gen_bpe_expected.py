#!/usr/bin/python3
"""
tests/gen/gen_bpe_expected.py - expected byte-level BPE encodings of
roberta-base for tests/check_tokenizer (data/expected/tokenizer/roberta.jsonl).

Inputs: a sample of SST-2 dev sentences, CoNLL-2003 validation sentences and
SQuAD contexts from ../shared/data, hand-made hard cases and pairs.

Ids come from two independent sources that must agree: a small Python
implementation of tokenizers' ByteLevel pre-tokeniser + BPE + RobertaProcessing
written here (standard library plus `regex`), and Transformers.js run offline
on the same folder (tests/gen/gen_tokenizer.mjs; needs tests/ref/node_modules,
`cd tests/ref && npm install --ignore-scripts`).  Transformers.js gives neither
offsets nor RoBERTa's type ids, so offsets come from the Python reference
alone (tokenizers' rules: every byte maps back to its whole character, then
RobertaProcessing's trim_offsets) and type ids are all 0 (RobertaProcessing
sets every type id to 0).

    python3 tests/gen/gen_bpe_expected.py ../shared/data/tokenizers/roberta \
        data/expected/tokenizer/roberta.jsonl
"""
import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import real_text  # noqa: E402
import tfjs  # noqa: E402

import regex

PAT = regex.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+""")
WS = set([9, 10, 11, 12, 13, 32, 0x85, 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000] +
         list(range(0x2000, 0x200B)))


def byte_chars():
    keep = list(range(33, 127)) + list(range(161, 173)) + list(range(174, 256))
    out, n = {}, 0
    for b in range(256):
        if b in keep:
            out[b] = chr(b)
        else:
            out[b] = chr(256 + n)
            n += 1
    return out


class Roberta:
    def __init__(self, d):
        j = json.load(open(os.path.join(d, "tokenizer.json"), encoding="utf-8"))
        self.vocab = j["model"]["vocab"]
        self.ranks = {}
        for i, m in enumerate(j["model"]["merges"]):
            a, b = m.split(" ") if isinstance(m, str) else m
            self.ranks[(a, b)] = i
        self.added = [(a["content"], a["id"], a.get("lstrip", False), a.get("rstrip", False))
                      for a in j["added_tokens"]]
        self.bc = byte_chars()

    def bpe(self, word):
        """word: list of (char, byte index); returns [(token, first, last)]."""
        syms = [(c, i, i) for c, i in word]
        while len(syms) > 1:
            best = None
            for k in range(len(syms) - 1):
                r = self.ranks.get((syms[k][0], syms[k + 1][0]))
                if r is not None and (best is None or r < best[0]):
                    best = (r, k)
            if best is None:
                break
            k = best[1]
            syms[k:k + 2] = [(syms[k][0] + syms[k + 1][0], syms[k][1], syms[k + 1][2])]
        return syms

    def split_added(self, text):
        """[(is_added, start, end, id)] in code points, leftmost-longest,
        lstrip/rstrip taking in whitespace."""
        out, pos, seg = [], 0, 0
        while pos < len(text):
            best = None
            for c, i, ls, rs in self.added:
                if text.startswith(c, pos) and (best is None or len(c) > len(best[0])):
                    best = (c, i, ls, rs)
            if best is None:
                pos += 1
                continue
            s, e = pos, pos + len(best[0])
            if best[2]:
                while s > seg and ord(text[s - 1]) in WS:
                    s -= 1
            if best[3]:
                while e < len(text) and ord(text[e]) in WS:
                    e += 1
            if s > seg:
                out.append((False, seg, s, None))
            out.append((True, s, e, best[1]))
            pos = seg = e
        if seg < len(text):
            out.append((False, seg, len(text), None))
        return out

    def encode_text(self, text):
        toks = []  # (id, start, end, token string)
        for added, s, e, i in self.split_added(text):
            if added:
                toks.append((i, s, e, ""))
                continue
            seg = text[s:e]
            for m in PAT.finditer(seg):
                word = []
                for ci in range(m.start(), m.end()):
                    for b in seg[ci].encode("utf-8"):
                        word.append((self.bc[b], s + ci))
                for tok, a, b in self.bpe(word):
                    toks.append((self.vocab[tok], a, b + 1, tok))
        # RobertaProcessing trim_offsets (add_prefix_space false)
        out = []
        for k, (i, s, e, tok) in enumerate(toks):
            lead = len(tok) - len(tok.lstrip("Ġ"))
            trail = len(tok) - len(tok.rstrip("Ġ"))
            if lead:
                s = min(s + lead, e)
            if trail and e >= trail:
                e = max(e - trail, s)
            out.append((i, s, e))
        return out

    def encode(self, text, pair=None):
        a = self.encode_text(text)
        ids = [0] + [t[0] for t in a] + [2]
        offs = [[0, 0]] + [[t[1], t[2]] for t in a] + [[0, 0]]
        if pair is not None:
            b = self.encode_text(pair)
            ids += [2] + [t[0] for t in b] + [2]
            offs += [[0, 0]] + [[t[1], t[2]] for t in b] + [[0, 0]]
        return {"ids": ids, "type_ids": [0] * len(ids), "offsets": offs}


HARD = [
    "", " ", "   ", "Hello world", " leading space", "trailing space ", "runs   of    spaces",
    "tabs\tand\nnewlines\r\n here", "Hello <mask>!", "Hello<mask>world", "Paris is the  <mask> of France.",
    "<mask> first", "<s>inside</s> text <pad> <unk>", "emoji 😀👍🏽 and 👨‍👩‍👧 family", "🚀rocket",
    "日本語のテキストです。", "中文字符 mixed with English", "한국어 텍스트", "café naïve résumé",
    "combining e\u0301 and a\u0308", "עברית וערבית: مرحبا بالعالم", "Ελληνικά κείμενα", "Кириллица тоже",
    "control\u0001chars\u0007here", "zero\u200bwidth\u200djoiner", "nbsp\u00a0here\u2003em space",
    "I'm sure they'll've done it, didn't we? 'S 'T", "numbers 12345 3.14159 1,000,000", "$100 & 50% off!!!",
    "http://example.com/path?x=1&y=2", "e-mail: someone@example.org", "ALL CAPS and MiXeD",
    "a" * 300, "x" + " " * 40 + "y", "...", "\u00ad soft hyphen", "ﬁ ligature ½ ⅓",
]
PAIRS = [("Who wrote it?", "It was written by <mask> in 1999."), ("short", ""),
         ("  spaces  ", "\tmore\n"), ("日本", "😀 emoji"), ("A question", "A context with <s> and </s>.")]


def sample_inputs(shared):
    rnd = random.Random(7)
    rows = [{"text": t} for t in HARD] + [{"text": a, "pair": b} for a, b in PAIRS]
    rows += [{"text": t} for t in rnd.sample(real_text.sst2_dev(shared), 120)]
    rows += [{"text": t} for t in rnd.sample(real_text.conll_sentences(shared), 120)]
    for c, q in rnd.sample(real_text.squad_contexts(shared), 12):
        rows.append({"text": c})
        rows.append({"text": q, "pair": c})
    return rows


def main():
    tok_dir, out_path = sys.argv[1], sys.argv[2]
    shared = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../shared/data")
    rows = sample_inputs(shared)
    ref = Roberta(tok_dir)
    js = tfjs.run(tok_dir, rows)
    bad = 0
    with open(out_path, "w", encoding="utf-8") as f:
        for r, j in zip(rows, js):
            e = ref.encode(r["text"], r.get("pair"))
            if e["ids"] != j["ids"]:
                bad += 1
                print("ids differ from Transformers.js:", json.dumps(r, ensure_ascii=False)[:200],
                      e["ids"][:20], j["ids"][:20], file=sys.stderr)
                continue
            f.write(json.dumps(dict(r, **e), ensure_ascii=False) + "\n")
    print(f"{len(rows) - bad} of {len(rows)} inputs written; {bad} disagreements", file=sys.stderr)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
