#!/usr/bin/python3
"""
tests/gen/gen_unigram_expected.py - expected Unigram encodings of t5-small's
tokenizer.json for tests/check_tokenizer (data/expected/tokenizer/t5.jsonl).

Inputs: SST-2 dev sentences, CoNLL-2003 validation sentences, SQuAD contexts
and question/context pairs, AG News descriptions and lines of the text corpus
from ../shared/data, plus hand-made hard cases.

Ids come from two independent sources that must agree: a small Python
implementation of tokenizers' Precompiled normaliser (the charsmap's
double-array trie decoded here, graphemes from `regex`'s \\X), WhitespaceSplit,
Metaspace, Unigram Viterbi and TemplateProcessing written here, and
Transformers.js run offline on the same folder (tests/gen/gen_tokenizer.mjs;
needs tests/ref/node_modules, `cd tests/ref && npm install --ignore-scripts`).
Transformers.js gives no offsets, so offsets (code points) come from the
Python reference alone, and the decoded texts (with and without special
tokens) from Transformers.js alone, following tokenizers' alignment rules.  Rows where
the two disagree are reported and left out (Transformers.js approximates the
charsmap with NFKC plus a few replacements).

    python3 tests/gen/gen_unigram_expected.py ../shared/data/tokenizers/t5 \\
        data/expected/tokenizer/t5.jsonl
"""
import base64
import csv
import json
import os
import random
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import real_text  # noqa: E402
import tfjs  # noqa: E402

import regex

WS = set([9, 10, 11, 12, 13, 32, 0x85, 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000] +
         list(range(0x2000, 0x200B)))
META = "\u2581"


class Charsmap:
    """sentencepiece's precompiled_charsmap: darts-clone trie + table."""

    def __init__(self, b64):
        blob = base64.b64decode(b64)
        size = struct.unpack("<I", blob[:4])[0]
        self.units = struct.unpack("<%dI" % (size // 4), blob[4:4 + size])
        self.table = blob[4 + size:]

    def first(self, data):
        """The replacement of the shortest key that prefixes data, or None."""
        u = self.units
        pos = 0
        unit = u[0]
        pos ^= (unit >> 10) << ((unit & (1 << 9)) >> 6)
        for c in data:
            if c == 0:
                break
            pos ^= c
            if pos >= len(u):
                return None
            unit = u[pos]
            if unit & ((1 << 31) | 0xFF) != c:
                return None
            pos ^= (unit >> 10) << ((unit & (1 << 9)) >> 6)
            if (unit >> 8) & 1:
                at = u[pos] & 0x7FFFFFFF
                end = self.table.index(b"\0", at)
                return self.table[at:end].decode("utf-8")
        return None


def apply_changes(chars, aligns, trans):
    """tokenizers' transform over a whole string: trans is [(char, change)]."""
    out_c, out_a, pos = [], [], 0
    for c, chg in trans:
        if chg > 0:
            al = aligns[pos - 1] if pos >= 1 else (0, 0)
        else:
            al = aligns[pos] if pos < len(aligns) else (aligns[-1][1], aligns[-1][1])
            pos += 1 - chg
        out_c.append(c)
        out_a.append(al)
    return out_c, out_a


def replace_into(trans, old_n, new):
    for c in new:
        trans.append([c, 0])
    diff = len(new) - old_n
    if diff > 0:
        for k in range(diff):
            trans[-1 - k][1] = 1
    elif diff < 0 and trans:
        trans[-1][1] += diff


def precompiled(cm, chars, aligns):
    trans, modified = [], False
    for g in regex.findall(r"\X", "".join(chars)):
        gb = g.encode("utf-8")
        if len(gb) < 6:
            r = cm.first(gb)
            if r is not None:
                replace_into(trans, len(g), r)
                modified = True
                continue
        for c in g:
            r = cm.first(c.encode("utf-8"))
            if r is not None:
                replace_into(trans, 1, r)
                modified = True
            else:
                trans.append([c, 0])
    if not modified:
        return chars, aligns
    return apply_changes(chars, aligns, [tuple(t) for t in trans])


class T5:
    def __init__(self, d):
        j = json.load(open(os.path.join(d, "tokenizer.json"), encoding="utf-8"))
        m = j["model"]
        self.pieces = {}
        for i, (p, s) in enumerate(m["vocab"]):
            self.pieces[p] = i
        self.scores = [s for _, s in m["vocab"]]
        self.maxlen = max(len(p) for p, _ in m["vocab"])
        self.unk = m["unk_id"]
        self.unk_score = min(self.scores) - 10.0
        nm = j["normalizer"]
        if nm["type"] == "Sequence":   # the Precompiled step of a sequence
            nm = next(n for n in nm["normalizers"] if n["type"] == "Precompiled")
        self.cm = Charsmap(nm["precompiled_charsmap"])
        self.added = [(a["content"], a["id"]) for a in j["added_tokens"]]

    def split_added(self, text):
        out, pos, seg = [], 0, 0
        while pos < len(text):
            best = None
            for c, i in self.added:
                if text.startswith(c, pos) and (best is None or len(c) > len(best[0])):
                    best = (c, i)
            if best is None:
                pos += 1
                continue
            if pos > seg:
                out.append((None, seg, pos))
            out.append((best[1], pos, pos + len(best[0])))
            pos = seg = pos + len(best[0])
        if seg < len(text):
            out.append((None, seg, len(text)))
        return out

    def viterbi(self, w):
        n = len(w)
        best = [None] * (n + 1)  # (score, start, id)
        best[0] = (0.0, 0, -1)
        for at in range(n):
            base = best[at][0] if best[at] else 0.0
            single = False
            for ln in range(1, min(self.maxlen, n - at) + 1):
                i = self.pieces.get(w[at:at + ln])
                if i is None:
                    continue
                c = base + self.scores[i]
                if best[at + ln] is None or c > best[at + ln][0]:
                    best[at + ln] = (c, at, i)
                single = single or ln == 1
            if not single:
                c = base + self.unk_score
                if best[at + 1] is None or c > best[at + 1][0]:
                    best[at + 1] = (c, at, self.unk)
        path, end = [], n
        while end > 0:
            _, st, i = best[end]
            path.append((st, end, i))
            end = st
        path.reverse()
        out = []
        for st, end, i in path:  # fuse unknowns
            if i == self.unk and out and out[-1][2] == self.unk:
                out[-1] = (out[-1][0], end, i)
            else:
                out.append((st, end, i))
        return [(st, end, self.pieces.get(w[st:end], self.unk)) for st, end, i in out]

    def encode_text(self, text):
        toks = []
        for aid, s, e in self.split_added(text):
            if aid is not None:
                toks.append((aid, s, e))
                continue
            chars, al = precompiled(self.cm, list(text[s:e]), [(s + k, s + k + 1) for k in range(e - s)])
            words, cur = [], None
            for c, a in zip(chars, al):  # WhitespaceSplit
                if ord(c) in WS:
                    cur = None
                    continue
                if cur is None:
                    cur = ([], [])
                    words.append(cur)
                cur[0].append(c)
                cur[1].append(a)
            for wc, wa in words:  # Metaspace (always prepend, split)
                wc = [META if c == " " else c for c in wc]
                if wc[0] != META:
                    wc, wa = [META] + wc, [wa[0]] + wa
                cuts = [k for k, c in enumerate(wc) if c == META and k > 0] + [len(wc)]
                st = 0
                for cut in cuts:
                    piece = "".join(wc[st:cut])
                    for a, b, i in self.viterbi(piece):
                        toks.append((i, wa[st + a][0], wa[st + b - 1][1]))
                    st = cut
        return toks

    def encode(self, text, pair=None):
        a = self.encode_text(text)
        ids = [t[0] for t in a] + [1]
        offs = [[t[1], t[2]] for t in a] + [[0, 0]]
        if pair is not None:
            b = self.encode_text(pair)
            ids += [t[0] for t in b] + [1]
            offs += [[t[1], t[2]] for t in b] + [[0, 0]]
        return {"ids": ids, "type_ids": [0] * len(ids), "offsets": offs}


HARD = [
    "", " ", "   ", "Hello world", " leading space", "trailing space ", "runs   of    spaces",
    "tabs\tand\nnewlines\r\n here", "x" + " " * 60 + "y", "translate English to German: That is good.",
    "summarize: <extra_id_0> was <extra_id_1>.", "word<extra_id_0>word", "<pad></s><unk>", "a</s>b",
    "emoji 😀👍🏽 and 👨‍👩‍👧 family", "🚀rocket", "🇫🇷🇩🇪 flags",
    "日本語のテキストです。", "中文字符 mixed with English", "한국어 텍스트", "café naïve résumé",
    "combining e\u0301 and a\u0308 and o\u0302\u0323", "stacked a\u0301\u0302\u0303\u0304\u0305 marks",
    "עברית וערבית: مرحبا بالعالم", "Ελληνικά κείμενα", "Кириллица тоже", "हिन्दी देवनागरी",
    "control\u0001chars\u0007here\u007f", "\u0001leading control", "zero\u200bwidth\u200djoiner",
    "nbsp\u00a0here\u2003em space\u3000ideographic", "Ｆｕｌｌ－ｗｉｄｔｈ　ＡＢＣ　１２３！", "ﾊﾝｶｸ ｶﾀｶﾅ",
    "ﬁ ligature ½ ⅓ ² ™ ℃ ㈱ ① ㎏", "\u00ad soft hyphen", "～ full-width tilde ～",
    "I'm sure they'll've done it, didn't we?", "numbers 12345 3.14159 1,000,000", "$100 & 50% off!!!",
    "http://example.com/path?x=1&y=2", "ALL CAPS and MiXeD", "a" * 300,
    "Pneumonoultramicroscopicsilicovolcanoconiosis" * 8, "...", "\u2581 literal meta \u2581x",
    "\ufeffbom", "replacement \ufffd char", "tab\u000bvt\u000cff", "Å\u030a Ａ\u0301",
]
PAIRS = [("Who wrote it?", "It was written by <extra_id_0> in 1999."), ("short", ""),
         ("  spaces  ", "\tmore\n"), ("日本", "😀 emoji"), ("question: ", "context: </s> inside")]


def sample_inputs(shared):
    rnd = random.Random(11)
    rows = [{"text": t} for t in HARD] + [{"text": a, "pair": b} for a, b in PAIRS]
    rows += [{"text": t} for t in rnd.sample(real_text.sst2_dev(shared), 120)]
    rows += [{"text": t} for t in rnd.sample(real_text.conll_sentences(shared), 100)]
    for c, q in rnd.sample(real_text.squad_contexts(shared), 12):
        rows.append({"text": c})
        rows.append({"text": q, "pair": c})
    news = list(csv.reader(open(os.path.join(shared, "agnews/test-a.csv"), encoding="utf-8")))
    rows += [{"text": r[1] + " " + r[2]} for r in rnd.sample(news, 50)]
    lines = []
    cdir = os.path.join(shared, "corpus")
    for name in sorted(os.listdir(cdir)):
        if name.endswith(".txt"):
            lines += [l for l in open(os.path.join(cdir, name), encoding="utf-8", errors="replace")
                      .read().splitlines() if l.strip()]
    rows += [{"text": t} for t in rnd.sample(lines, 60)]
    return rows


def main():
    tok_dir, out_path = sys.argv[1], sys.argv[2]
    shared = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../shared/data")
    rows = sample_inputs(shared)
    ref = T5(tok_dir)
    js = tfjs.run(tok_dir, rows)
    # decode (Metaspace decoder, clean_up_tokenization_spaces) of the ids,
    # without and with the special tokens
    dec = [d["text"] for d in tfjs.run(tok_dir, [{"decode": j["ids"], "skip_special": skip}
                                                for j in js for skip in (True, False)])]
    for k, j in enumerate(js):
        j["decoded"], j["decoded_special"] = dec[2 * k], dec[2 * k + 1]
    bad = 0
    with open(out_path, "w", encoding="utf-8") as f:
        for r, j in zip(rows, js):
            e = ref.encode(r["text"], r.get("pair"))
            if e["ids"] != j["ids"]:
                bad += 1
                print("ids differ from Transformers.js:", json.dumps(r, ensure_ascii=False)[:200],
                      e["ids"][:24], j["ids"][:24], file=sys.stderr)
                continue
            e["decoded"], e["decoded_special"] = j["decoded"], j["decoded_special"]
            f.write(json.dumps(dict(r, **e), ensure_ascii=False) + "\n")
    print(f"{len(rows) - bad} of {len(rows)} inputs written; {bad} disagreements", file=sys.stderr)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
