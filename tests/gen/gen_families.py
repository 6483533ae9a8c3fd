#!/usr/bin/python3
"""
gen_families.py - the pieces of the RoBERTa / ELECTRA fixtures that come
from real checkpoints, for tests/gen/gen_numerics.py (importable) and the
CLI expectations of tests/families.sh (run as a script).

  real_config(family)       the config.json of twitter-roberta-base-
                            sentiment-latest / electra-small-discriminator
                            from ../shared/data/tokenizers
  bpe_fixture_tokenizer()   a small byte-level BPE tokenizer.json: roberta-
                            base's first MERGES merges, the 256 byte symbols
                            and the special tokens, ids renumbered densely
  write_bpe_tokenizer(dir)  tokenizer.json, tokenizer_config.json and
                            special_tokens_map.json into a checkpoint folder

As a script (after gen_numerics.py wrote data/models/tiny-roberta):
    /usr/bin/python3 tests/gen/gen_families.py
writes data/expected/families/roberta-tasks.json: for fixed inputs, the
reference's fill-mask top 5, sentiment scores, per-token ner labels and
scores and the best qa span, from the PyTorch reference (torch_ref.py) over
the ids the Python BPE reference (gen_bpe_expected.py) gives.
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_ref as R  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SHARED = os.environ.get("NLP_SHARED_DATA", os.path.join(ROOT, "..", "shared", "data"))
TOK = os.path.join(SHARED, "tokenizers")
MERGES = 600
CONFIGS = {
    "roberta": os.path.join(TOK, "roberta", "cardiffnlp-twitter-roberta-base-sentiment-latest",
                            "config.json"),
    "electra": os.path.join(TOK, "electra", "config.json"),
}


def real_config(family):
    with open(CONFIGS[family]) as f:
        return json.load(f)


def bpe_fixture_tokenizer():
    with open(os.path.join(TOK, "roberta", "tokenizer.json"), encoding="utf-8") as f:
        full = json.load(f)
    specials = ["<s>", "<pad>", "</s>", "<unk>"]
    vocab = {t: i for i, t in enumerate(specials)}
    old = full["model"]["vocab"]
    # the 256 byte symbols, in roberta-base's order
    for t, _ in sorted(((t, i) for t, i in old.items() if len(t) == 1), key=lambda x: x[1]):
        vocab.setdefault(t, len(vocab))
    merges = []
    for m in full["model"]["merges"][:MERGES]:
        a, b = m.split(" ") if isinstance(m, str) else m
        if a in vocab and b in vocab:
            merges.append("%s %s" % (a, b))
            vocab.setdefault(a + b, len(vocab))
    vocab["<mask>"] = len(vocab)
    tok = dict(full)
    tok["model"] = dict(full["model"], vocab=vocab, merges=merges)
    tok["added_tokens"] = [dict(a, id=vocab[a["content"]]) for a in full["added_tokens"]]
    return tok


def write_bpe_tokenizer(directory, tok):
    for f in ("vocab.txt",):
        p = os.path.join(directory, f)
        if os.path.exists(p):
            os.remove(p)
    with open(os.path.join(directory, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tok, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    tc = {"model_max_length": 512, "tokenizer_class": "RobertaTokenizer", "bos_token": "<s>",
          "eos_token": "</s>", "unk_token": "<unk>", "sep_token": "</s>", "pad_token": "<pad>",
          "cls_token": "<s>", "mask_token": "<mask>", "add_prefix_space": False}
    with open(os.path.join(directory, "tokenizer_config.json"), "w") as f:
        json.dump(tc, f, indent=2, sort_keys=True)
        f.write("\n")
    src = os.path.join(TOK, "roberta", "cardiffnlp-twitter-roberta-base-sentiment-latest",
                       "special_tokens_map.json")
    with open(src) as f:
        stm = json.load(f)
    with open(os.path.join(directory, "special_tokens_map.json"), "w") as f:
        json.dump(stm, f, indent=2, sort_keys=True)
        f.write("\n")


# ---------------------------------------------------------------- task expectations

FILL = ["The movie was <mask>.", "I<mask> it"]
SENT = ["I loved this film!", "What a dull, boring day."]
NER = ["Anna lives in Paris"]
# word grouping (aggregation simple / first / average / max): punctuation,
# a possessive, a hyphen and a character split over two byte tokens
NER_GROUPS = ["Anna lives in Paris, and John Smith's café is in New-York.",
              "Hello world"]


def bytelevel_decode(bc_inv, tokens):
    """The ByteLevel decoder: each character back to its byte, characters
    outside the byte alphabet kept as UTF-8, then lossy UTF-8."""
    out = bytearray()
    for t in tokens:
        for ch in t:
            if ch in bc_inv:
                out.append(bc_inv[ch])
            else:
                out += ch.encode("utf-8")
    return out.decode("utf-8", errors="replace")


def ner_groups(tok, state, cfg):
    """For each NER_GROUPS text and strategy, the pipeline's entities
    (gen_tasks_tok's port, with the pipeline's fallback word rule for a
    tokenizer without a continuation mark and the ByteLevel decoder)."""
    import gen_tasks_tok as T
    import numpy as np
    inv = {v: k for k, v in tok.vocab.items()}
    bc_inv = {c: b for b, c in tok.bc.items()}
    m = {"vocab": [inv[i] for i in range(len(inv))], "config": cfg, "unk_token": "<unk>",
         "specials": ["<s>", "</s>", "<pad>", "<unk>", "<mask>"], "word_aware": False,
         "decode": lambda toks: bytelevel_decode(bc_inv, toks)}
    out = []
    for text in NER_GROUPS:
        e = tok.encode(text)
        p = torch.softmax(R.token_cls_logits(state, cfg, run(state, cfg, e["ids"]))[0], -1)
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
QA = [("Where does Anna live?", "Anna lives in Paris and works in Lyon.")]


def run(state, cfg, ids):
    with torch.no_grad():
        return R.encoder_forward(state, cfg, torch.tensor([ids]))


def main():
    import gen_bpe_expected as B
    d = os.path.join(ROOT, "data", "models", "tiny-roberta")
    tok = B.Roberta(d)
    cfg = json.load(open(os.path.join(d, "config.json")))
    state = R.read_safetensors(os.path.join(d, "model.safetensors"))
    labels = [cfg["id2label"][str(i)] for i in range(len(cfg["id2label"]))]
    out = {"fill-mask": [], "sentiment": [], "ner": [], "qa": []}
    mask_id = tok.vocab["<mask>"]
    for text in FILL:
        e = tok.encode(text)
        hid = run(state, cfg, e["ids"])
        t = e["ids"].index(mask_id)
        p = torch.softmax(R.mlm_logits(state, cfg, hid[0, t]), -1)
        top = torch.topk(p, 5)
        out["fill-mask"].append({"text": text, "token": top.indices.tolist(),
                                 "score": top.values.tolist()})
    for text in SENT:
        e = tok.encode(text)
        p = torch.softmax(R.seq_cls_logits(state, cfg, run(state, cfg, e["ids"]))[0], -1)
        out["sentiment"].append({"text": text, "scores": dict(zip(labels, p.tolist()))})
    for text in NER:
        e = tok.encode(text)
        p = torch.softmax(R.token_cls_logits(state, cfg, run(state, cfg, e["ids"]))[0], -1)
        toks = []
        for i in range(1, len(e["ids"]) - 1):
            k = int(torch.argmax(p[i]))
            toks.append({"index": i, "entity": labels[k], "score": float(p[i, k])})
        out["ner"].append({"text": text, "tokens": toks})
    for q, c in QA:
        e = tok.encode(q, c)
        ids = e["ids"]
        s, en = R.qa_logits(state, cfg, run(state, cfg, ids))
        s, en = s[0], en[0]
        # context tokens: after the question's </s></s>, before the last </s>
        first = ids.index(2) + 2
        last = len(ids) - 2
        keep = torch.full((len(ids),), -10000.0)
        keep[first:last + 1] = 0.0
        keep[0] = 0.0   # the pipeline leaves <s> in the softmax (then never picks it)
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
        # the pipeline answers with whole words (word_to_chars): the
        # ByteLevel pre-tokeniser's pieces, leading space trimmed
        for m in B.PAT.finditer(c):
            ws, we = m.start() + (m.group().startswith(" ")), m.end()
            if ws <= a < we:
                a = ws
            if ws < b <= we:
                b = we
        out["qa"].append({"question": q, "context": c, "score": sc, "start": a, "end": b,
                          "answer": c[a:b]})
    out["ner_groups"] = ner_groups(tok, state, cfg)
    dst = os.path.join(ROOT, "data", "expected", "families")
    os.makedirs(dst, exist_ok=True)
    with open(os.path.join(dst, "roberta-tasks.json"), "w") as f:
        json.dump(out, f, indent=1, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
