#!/usr/bin/python3
"""
gen_modernbert.py - the ModernBERT pieces of the test fixtures: for
tests/gen/gen_numerics.py (importable) and the CLI expectations of
tests/families.sh (run as a script).

  real_config()             ModernBERT-large's config.json from
                            ../shared/data/tokenizers/modernbert
  fixture_tokenizer()       a small byte-level BPE tokenizer.json from
                            ModernBERT's: the 256 byte symbols, its first
                            MERGES merges, <|endoftext|>, <|padding|> and
                            [UNK] [CLS] [SEP] [PAD] [MASK], ids renumbered
                            densely (the template [CLS] A [SEP] B [SEP] and
                            [MASK]'s lstrip kept)
  fixture_config(tok, ...)  the real config shrunk, special ids renumbered
  write_tokenizer(dir, tok) tokenizer.json, tokenizer_config.json and
                            special_tokens_map.json into a checkpoint folder
  Tokenizer(dir)            the Python byte-level BPE reference
                            (gen_bpe_expected.py) with ModernBERT's NFC
                            normalizer and [CLS] A [SEP] B [SEP] template

As a script (after gen_numerics.py wrote data/models/tiny-modernbert):
    /usr/bin/python3 tests/gen/gen_modernbert.py
writes data/expected/families/modernbert-tasks.json: for fixed inputs, the
PyTorch reference's (torch_ref.py) fill-mask top 5, sentiment scores,
per-token ner labels and scores and the best qa span, over the ids of the
Python BPE reference, which must equal Transformers.js's (tests/gen/tfjs.py).
    /usr/bin/python3 tests/gen/gen_modernbert.py tokenizer
writes data/expected/tokenizer/modernbert.jsonl: ModernBERT's real
tokenizer over gen_bpe_expected.py's inputs (hard cases, SST-2, CoNLL,
SQuAD) and ModernBERT's own hard cases, ids from the Python reference and
Transformers.js (rows where they disagree are reported and left out),
offsets from the Python reference mapped back through NFC (nfc_spans).
"""
import json
import os
import sys
import unicodedata

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_ref as R  # noqa: E402
import gen_bpe_expected as BPE  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SHARED = os.environ.get("NLP_SHARED_DATA", os.path.join(ROOT, "..", "shared", "data"))
TOK = os.path.join(SHARED, "tokenizers", "modernbert")
MERGES = 600
SPECIALS = ["<|endoftext|>", "<|padding|>", "[UNK]", "[CLS]", "[SEP]", "[PAD]", "[MASK]"]


def real_config():
    with open(os.path.join(TOK, "config.json")) as f:
        return json.load(f)


def fixture_tokenizer():
    with open(os.path.join(TOK, "tokenizer.json"), encoding="utf-8") as f:
        full = json.load(f)
    old = full["model"]["vocab"]
    vocab = {}
    for t, _ in sorted(((t, i) for t, i in old.items() if len(t) == 1), key=lambda x: x[1]):
        vocab.setdefault(t, len(vocab))
    merges = []
    for m in full["model"]["merges"][:MERGES]:
        a, b = m.split(" ") if isinstance(m, str) else m
        if a in vocab and b in vocab:
            merges.append("%s %s" % (a, b))
            vocab.setdefault(a + b, len(vocab))
    for s in SPECIALS:
        vocab[s] = len(vocab)
    tok = dict(full)
    tok["model"] = dict(full["model"], vocab={t: i for t, i in vocab.items()
                                              if t not in SPECIALS[2:]}, merges=merges)
    tok["added_tokens"] = [dict(a, id=vocab[a["content"]]) for a in full["added_tokens"]
                           if a["content"] in SPECIALS]
    pp = json.loads(json.dumps(full["post_processor"]))
    for name, e in pp["special_tokens"].items():
        e["ids"] = [vocab[name]]
    tok["post_processor"] = pp
    return tok


def token_id(tok, content):
    for a in tok["added_tokens"]:
        if a["content"] == content:
            return a["id"]
    return tok["model"]["vocab"][content]


def fixture_config(tok, **kw):
    V = len(tok["model"]["vocab"]) + sum(1 for a in tok["added_tokens"]
                                         if a["content"] not in tok["model"]["vocab"])
    cfg = R.modernbert_config(real_config(), V, **kw)
    for key, name in (("bos_token_id", "[CLS]"), ("cls_token_id", "[CLS]"),
                      ("eos_token_id", "[SEP]"), ("sep_token_id", "[SEP]"),
                      ("pad_token_id", "[PAD]")):
        cfg[key] = token_id(tok, name)
    return cfg


def write_tokenizer(directory, tok):
    p = os.path.join(directory, "vocab.txt")
    if os.path.exists(p):
        os.remove(p)
    with open(os.path.join(directory, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tok, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    with open(os.path.join(TOK, "tokenizer_config.json")) as f:
        tc = json.load(f)
    tc["added_tokens_decoder"] = {str(a["id"]): {k: v for k, v in a.items()
                                                 if k not in ("id",)}
                                  for a in tok["added_tokens"]}
    tc["model_max_length"] = 8192
    with open(os.path.join(directory, "tokenizer_config.json"), "w") as f:
        json.dump(tc, f, indent=2, sort_keys=True)
        f.write("\n")
    with open(os.path.join(TOK, "special_tokens_map.json")) as f:
        stm = json.load(f)
    with open(os.path.join(directory, "special_tokens_map.json"), "w") as f:
        json.dump(stm, f, indent=2, sort_keys=True)
        f.write("\n")


class Tokenizer(BPE.Roberta):
    """ModernBERT's tokenizer.json: NFC, ByteLevel, BPE, [CLS] A [SEP] B [SEP].
    Offsets are code points of the NFC text (the inputs used here are NFC
    already), untrimmed: the post-processor is TemplateProcessing, and
    only ByteLevel / RobertaProcessing post-processors trim the leading
    space off a token's range."""

    def __init__(self, d):
        super().__init__(d)
        j = json.load(open(os.path.join(d, "tokenizer.json"), encoding="utf-8"))
        sp = j["post_processor"]["special_tokens"]
        self.cls, self.sep = sp["[CLS]"]["ids"][0], sp["[SEP]"]["ids"][0]
        # tokenizers' two passes: the added tokens not marked "normalized"
        # in the text, then the "normalized" ones in what is left
        both = [(a["content"], a["id"], a.get("lstrip", False), a.get("rstrip", False),
                 a.get("normalized", True)) for a in j["added_tokens"]]
        self.raw = [x[:4] for x in both if not x[4]]
        self.norm = [x[:4] for x in both if x[4]]

    def pieces(self, text):
        """[(added id or None, start, end)] after both passes."""
        self.added = self.raw
        out = []
        for added, s, e, i in self.split_added(text):
            if added:
                out.append((i, s, e))
                continue
            self.added = self.norm
            out += [(i if a else None, s + s2, s + e2)
                    for a, s2, e2, i in self.split_added(text[s:e])]
            self.added = self.raw
        return out

    def encode_text(self, text):
        toks = []  # (id, start, end)
        for i, s, e in self.pieces(text):
            if i is not None:
                toks.append((i, s, e))
                continue
            seg = text[s:e]
            for m in BPE.PAT.finditer(seg):
                word = []
                for ci in range(m.start(), m.end()):
                    for b in seg[ci].encode("utf-8"):
                        word.append((self.bc[b], s + ci))
                for tok, a, b in self.bpe(word):
                    toks.append((self.vocab[tok], a, b + 1))
        return toks

    def encode(self, text, pair=None):
        a = self.encode_text(unicodedata.normalize("NFC", text))
        ids = [self.cls] + [t[0] for t in a] + [self.sep]
        offs = [[0, 0]] + [[t[1], t[2]] for t in a] + [[0, 0]]
        if pair is not None:
            b = self.encode_text(unicodedata.normalize("NFC", pair))
            ids += [t[0] for t in b] + [self.sep]
            offs += [[t[1], t[2]] for t in b] + [[0, 0]]
        return {"ids": ids, "type_ids": [0] * len(ids), "offsets": offs}


# ---------------------------------------------------------------- tokenizer expectations

HARD = [
    "Hello [MASK]!", "Paris is the  [MASK] of France.", "[MASK] first", "I[MASK] it",
    "[CLS] inside [SEP] text [PAD] [UNK]", "<|endoftext|> and <|padding|>",
    "indented\n        code\n\t\tline", "x" + " " * 30 + "y", "two  spaces   three",
    "e\u0301cole and cafe\u0301 (decomposed)", "A\u030angstro\u0308m", "|||IP_ADDRESS||| [unused0]",
]


def nfc_spans(text):
    """For each code point of NFC(text), the [start, end) of the original
    code point it stands for, by tokenizers' transform rule: a character
    composed from several keeps the range of the first (the marks merged
    into it are dropped from the alignments)."""
    n = [len(unicodedata.normalize("NFC", text[:i + 1])) for i in range(len(text))]
    spans, i = [], 0
    while i < len(text):
        prev = n[i - 1] if i else 0
        k = i + 1
        while k < len(text) and n[k] <= n[k - 1]:   # marks composed into text[k - 1]
            k += 1
        for d in range(n[k - 1] - prev):
            spans.append([i + d, i + d + 1])
        i = k
    return spans


def tokenizer_rows():
    rows = [{"text": t} for t in HARD] + BPE.sample_inputs(SHARED)
    ref = Tokenizer(TOK)
    js = __import__("tfjs").run(TOK, rows)
    out, bad = [], 0
    for r, j in zip(rows, js):
        e = ref.encode(r["text"], r.get("pair"))
        if e["ids"] != j["ids"]:
            bad += 1
            print("ids differ from Transformers.js:", json.dumps(r, ensure_ascii=False)[:200],
                  file=sys.stderr)
            continue
        seq, maps = 0, [nfc_spans(r["text"]), nfc_spans(r.get("pair") or "")]
        for k, (a, b) in enumerate(e["offsets"]):
            if k and e["ids"][k - 1] == ref.sep and r.get("pair") is not None and seq == 0:
                seq = 1
            if b > a:
                e["offsets"][k] = [maps[seq][a][0], maps[seq][b - 1][1]]
        out.append(dict(r, **e))
    print("%d of %d inputs written; %d disagreements" % (len(out), len(rows), bad), file=sys.stderr)
    with open(os.path.join(ROOT, "data", "expected", "tokenizer", "modernbert.jsonl"), "w",
              encoding="utf-8") as f:
        for row in out:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


# ---------------------------------------------------------------- task expectations

FILL = ["The movie was [MASK].", "I[MASK] it"]
SENT = ["I loved this film!", "What a dull, boring day."]
NER = ["Anna lives in Paris"]
# word grouping (aggregation simple / first / average / max): punctuation,
# a possessive, a hyphen and a character split over two byte tokens
NER_GROUPS = ["Anna lives in Paris, and John Smith's café is in New-York.", "Hello world"]
QA = [("Where does Anna live?", "Anna lives in Paris and works in Lyon.")]


def ner_groups(tok, state, cfg, run):
    """For each NER_GROUPS text and strategy, the pipeline's entities
    (gen_tasks_tok's port with the pipeline's word rule for a tokenizer
    without a continuation mark, words through the ByteLevel decoder)."""
    import numpy as np
    import gen_families as GF
    import gen_tasks_tok as T
    inv = {v: k for k, v in tok.vocab.items()}
    for content, i, _, _ in tok.raw + tok.norm:
        inv[i] = content
    bc_inv = {c: b for b, c in tok.bc.items()}
    m = {"vocab": [inv[i] for i in range(len(inv))], "config": cfg, "unk_token": "[UNK]",
         "specials": [c for c, _, _, _ in tok.raw], "word_aware": False,
         "decode": lambda toks: GF.bytelevel_decode(bc_inv, toks)}
    out = []
    for text in NER_GROUPS:
        e = tok.encode(text)
        with torch.no_grad():
            p = torch.softmax(R.modernbert_token_logits(state, cfg, run(e["ids"]))[0], -1)
        ids = e["ids"][1:-1]
        enc = {"ids": ids, "tokens": [inv[i] for i in ids], "offsets": e["offsets"][1:-1]}
        pre = T.gather_pre_entities(m, text, enc, 1, np.asarray(p[1:-1].tolist(), dtype=np.float32))
        for strategy in ("simple", "first", "average", "max"):
            ents = T.aggregate(m, pre, strategy)
            out.append({"text": text, "aggregation": strategy,
                        "entities": [{"entity_group": x["entity_group"], "score": float(x["score"]),
                                      "word": x["word"], "start": x["start"], "end": x["end"]}
                                     for x in ents]})
    return out


def main():
    import tfjs
    d = os.path.join(ROOT, "data", "models", "tiny-modernbert")
    tok = Tokenizer(d)
    cfg = json.load(open(os.path.join(d, "config.json")))
    state = R.read_safetensors(os.path.join(d, "model.safetensors"))
    labels = [cfg["id2label"][str(i)] for i in range(len(cfg["id2label"]))]
    # the Python reference's ids must be Transformers.js's
    reqs = [{"text": t} for t in FILL + SENT + NER + NER_GROUPS] + \
        [{"text": q, "pair": c} for q, c in QA]
    js = tfjs.run(d, reqs)
    for r, j in zip(reqs, js):
        if tok.encode(r["text"], r.get("pair"))["ids"] != j["ids"]:
            raise SystemExit("ids differ from Transformers.js for %r" % r)

    def run(ids):
        with torch.no_grad():
            return R.modernbert_forward(state, cfg, torch.tensor([ids]))

    out = {"fill-mask": [], "sentiment": [], "ner": [], "qa": []}
    mask_id = token_id(json.load(open(os.path.join(d, "tokenizer.json"))), "[MASK]")
    for text in FILL:
        e = tok.encode(text)
        t = e["ids"].index(mask_id)
        with torch.no_grad():
            p = torch.softmax(R.modernbert_mlm_logits(state, cfg, run(e["ids"])[0, t]), -1)
        top = torch.topk(p, 5)
        out["fill-mask"].append({"text": text, "token": top.indices.tolist(),
                                 "score": top.values.tolist()})
    for text in SENT:
        e = tok.encode(text)
        with torch.no_grad():
            p = torch.softmax(R.modernbert_seq_cls_logits(state, cfg, run(e["ids"]))[0], -1)
        out["sentiment"].append({"text": text, "scores": dict(zip(labels, p.tolist()))})
    for text in NER:
        e = tok.encode(text)
        with torch.no_grad():
            p = torch.softmax(R.modernbert_token_logits(state, cfg, run(e["ids"]))[0], -1)
        toks = []
        for i in range(1, len(e["ids"]) - 1):
            k = int(torch.argmax(p[i]))
            toks.append({"index": i, "entity": labels[k], "score": float(p[i, k])})
        out["ner"].append({"text": text, "tokens": toks})
    for q, c in QA:
        e = tok.encode(q, c)
        ids = e["ids"]
        with torch.no_grad():
            lg = R.modernbert_token_logits(state, cfg, run(ids))[0]
        s, en = lg[:, 0], lg[:, 1]
        # context tokens: after the question's [SEP], before the last [SEP]
        first = ids.index(tok.sep) + 1
        last = len(ids) - 2
        keep = torch.full((len(ids),), -10000.0)
        keep[first:last + 1] = 0.0
        keep[0] = 0.0   # the pipeline leaves [CLS] in the softmax (then never picks it)
        ps = torch.softmax(s + keep, -1)
        pe = torch.softmax(en + keep, -1)
        best = (-1.0, 0, 0)
        for i in range(first, last + 1):
            for j in range(i, min(last, i + 14) + 1):
                sc = float(ps[i] * pe[j])
                if sc > best[0]:
                    best = (sc, i, j)
        sc, i, j = best
        a, b = e["offsets"][i][0], e["offsets"][j][1]
        # whole words, as the pipeline answers (word_to_chars: the ByteLevel
        # pieces, their leading space kept as the untrimmed offsets have it)
        for m in BPE.PAT.finditer(c):
            ws, we = m.start(), m.end()
            if ws <= a < we:
                a = ws
            if ws < b <= we:
                b = we
        out["qa"].append({"question": q, "context": c, "score": sc, "start": a, "end": b,
                          "answer": c[a:b]})
    out["ner_groups"] = ner_groups(tok, state, cfg, run)
    dst = os.path.join(ROOT, "data", "expected", "families")
    os.makedirs(dst, exist_ok=True)
    with open(os.path.join(dst, "modernbert-tasks.json"), "w") as f:
        json.dump(out, f, indent=1, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    if sys.argv[1:] == ["tokenizer"]:
        tokenizer_rows()
    else:
        main()
