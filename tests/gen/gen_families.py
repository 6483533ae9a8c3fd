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
  unigram_fixture_tokenizer()  a small DeBERTa-v3-style Unigram
                            tokenizer.json: the pieces of the SentencePiece
                            model tests/gen/gen_spm_unigram.py trained, with
                            [PAD] [CLS] [SEP] [UNK] first and [MASK] last,
                            the normaliser, pre-tokeniser and [CLS] A [SEP]
                            B [SEP] template transformers' DebertaV2Converter
                            writes
  write_unigram_tokenizer(dir, tok)  it, with deberta-v3-large's
                            tokenizer_config.json and special_tokens_map.json

As a script (after gen_numerics.py wrote data/models/tiny-roberta and
tiny-deberta):
    /usr/bin/python3 tests/gen/gen_families.py [roberta|deberta]
writes data/expected/families/roberta-tasks.json: for fixed inputs, the
reference's fill-mask top 5, sentiment scores, per-token ner labels and
scores and the best qa span, from the PyTorch reference (torch_ref.py) over
the ids the Python BPE reference (gen_bpe_expected.py) gives; and
deberta-tasks.json, the same for tiny-deberta (plus zero-shot scores for
--labels) over the ids of a Python reference of the fixture's Unigram
tokenizer (Strip, Precompiled, Metaspace, Viterbi and the template, on
gen_unigram_expected.py's pieces), which must equal the ids
Transformers.js gives (tests/gen/tfjs.py; needs node and NODE_PATH as
tests/gen/gen_tokenizer.mjs says).
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
    "deberta": os.path.join(TOK, "deberta-v3", "deberta-v3-large", "config.json"),
}
SPM = os.path.join(ROOT, "data", "expected", "tokenizer", "spm-unigram", "tokenizer.json")
DEBERTA_SPECIALS = ["[PAD]", "[CLS]", "[SEP]", "[UNK]"]


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


def unigram_fixture_tokenizer():
    with open(SPM, encoding="utf-8") as f:
        spm = json.load(f)
    pieces = [p for p in spm["model"]["vocab"]
              if p[0] not in ("<unk>", "<s>", "</s>") and not p[0].startswith("<0x")]
    vocab = [[t, 0.0] for t in DEBERTA_SPECIALS] + pieces + [["[MASK]", 0.0]]
    ids = {t: i for i, (t, _) in enumerate(vocab)}
    meta = {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always",
            "split": True}
    charsmap = spm["normalizer"]["normalizers"][0]
    assert charsmap["type"] == "Precompiled"

    def special(tok, ty):
        return {"SpecialToken": {"id": tok, "type_id": ty}}

    def seq(x, ty):
        return {"Sequence": {"id": x, "type_id": ty}}

    return {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [{"id": ids[t], "content": t, "single_word": False, "lstrip": False,
                          "rstrip": False, "normalized": False, "special": True}
                         for t in DEBERTA_SPECIALS + ["[MASK]"]],
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "Strip", "strip_left": True, "strip_right": True}, charsmap,
            {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "}]},
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [meta]},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [special("[CLS]", 0), seq("A", 0), special("[SEP]", 0)],
            "pair": [special("[CLS]", 0), seq("A", 0), special("[SEP]", 0), seq("B", 1),
                     special("[SEP]", 1)],
            "special_tokens": {t: {"id": t, "ids": [ids[t]], "tokens": [t]}
                               for t in ("[CLS]", "[SEP]")}},
        "decoder": meta,
        "model": {"type": "Unigram", "unk_id": ids["[UNK]"], "vocab": vocab,
                  "byte_fallback": False},
    }


def write_unigram_tokenizer(directory, tok, max_len):
    for f in ("vocab.txt",):
        p = os.path.join(directory, f)
        if os.path.exists(p):
            os.remove(p)
    with open(os.path.join(directory, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tok, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    with open(os.path.join(os.path.dirname(CONFIGS["deberta"]), "tokenizer_config.json")) as f:
        tc = json.load(f)
    tc["model_max_length"] = max_len
    with open(os.path.join(directory, "tokenizer_config.json"), "w") as f:
        json.dump(tc, f, indent=2, sort_keys=True)
        f.write("\n")
    stm = {"bos_token": "[CLS]", "cls_token": "[CLS]", "eos_token": "[SEP]",
           "mask_token": "[MASK]", "pad_token": "[PAD]", "sep_token": "[SEP]",
           "unk_token": "[UNK]"}
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


def ner_tokens(text, e, logits, labels):
    """The best label and its probability for every token of e but the
    template tokens at the ends, from token-classification logits
    [1][T][C]."""
    p = torch.softmax(logits[0], -1)
    toks = []
    for i in range(1, len(e["ids"]) - 1):
        k = int(torch.argmax(p[i]))
        toks.append({"index": i, "entity": labels[k], "score": float(p[i, k])})
    return {"text": text, "tokens": toks}


def groups_of(m, encode, logits_of):
    """For each NER_GROUPS text and strategy, the pipeline's entities
    (gen_tasks_tok's port) for tokenizer description m, encode(text) ->
    {"ids", "offsets"} with one template token at each end, and
    logits_of(e) -> token-classification logits [1][T][C]."""
    import gen_tasks_tok as T
    import numpy as np
    out = []
    for text in NER_GROUPS:
        e = encode(text)
        p = torch.softmax(logits_of(e)[0], -1)
        ids = e["ids"][1:-1]
        enc = {"ids": ids, "tokens": [m["vocab"][i] for i in ids], "offsets": e["offsets"][1:-1]}
        pre = T.gather_pre_entities(m, text, enc, 1, np.asarray(p[1:-1].tolist(), dtype=np.float32))
        for strategy in ("simple", "first", "average", "max"):
            ents = T.aggregate(m, pre, strategy)
            out.append({"text": text, "aggregation": strategy,
                        "entities": [{"entity_group": x["entity_group"], "score": float(x["score"]),
                                      "word": x["word"], "start": x["start"], "end": x["end"]}
                                     for x in ents]})
    return out


def ner_groups(tok, state, cfg):
    """ner_groups for tiny-roberta: the pipeline's fallback word rule for a
    tokenizer without a continuation mark and the ByteLevel decoder."""
    inv = {v: k for k, v in tok.vocab.items()}
    bc_inv = {c: b for b, c in tok.bc.items()}
    m = {"vocab": [inv[i] for i in range(len(inv))], "config": cfg, "unk_token": "<unk>",
         "specials": ["<s>", "</s>", "<pad>", "<unk>", "<mask>"], "word_aware": False,
         "decode": lambda toks: bytelevel_decode(bc_inv, toks)}
    return groups_of(m, tok.encode,
                     lambda e: R.token_cls_logits(state, cfg, run(state, cfg, e["ids"])))


QA = [("Where does Anna live?", "Anna lives in Paris and works in Lyon.")]


def best_span(ps, pe, first, last, max_len=15):
    """The pipeline's answer search: the (score, i, j) of the best
    start i <= end j < i + max_len within [first, last]."""
    best = (-1.0, 0, 0)
    for i in range(first, last + 1):
        for j in range(i, min(last, i + max_len - 1) + 1):
            sc = float(ps[i] * pe[j])
            if sc > best[0]:
                best = (sc, i, j)
    return best


def answer_span(start_logits, end_logits, first, last):
    """The pipeline's answer over tokens first..last: softmax of each
    logit row with the other tokens masked (the first, [CLS] or <s>, stays
    in the softmax as the pipeline leaves it, then is never picked), then
    best_span."""
    keep = torch.full((len(start_logits),), -10000.0)
    keep[first:last + 1] = 0.0
    keep[0] = 0.0
    return best_span(torch.softmax(start_logits + keep, -1), torch.softmax(end_logits + keep, -1),
                     first, last)


def write_tasks(name, out):
    """data/expected/families/NAME-tasks.json."""
    dst = os.path.join(ROOT, "data", "expected", "families")
    os.makedirs(dst, exist_ok=True)
    with open(os.path.join(dst, name + "-tasks.json"), "w") as f:
        json.dump(out, f, indent=1, ensure_ascii=False)
        f.write("\n")


def run(state, cfg, ids):
    with torch.no_grad():
        return R.encoder_forward(state, cfg, torch.tensor([ids]))


def roberta_main():
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
        out["ner"].append(ner_tokens(text, e, R.token_cls_logits(state, cfg, run(state, cfg, e["ids"])), labels))
    for q, c in QA:
        e = tok.encode(q, c)
        ids = e["ids"]
        s, en = R.qa_logits(state, cfg, run(state, cfg, ids))
        s, en = s[0], en[0]
        # context tokens: after the question's </s></s>, before the last </s>
        first = ids.index(2) + 2
        last = len(ids) - 2
        sc, i, j = answer_span(s, en, first, last)
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
    write_tasks("roberta", out)


# ---------------------------------------------------------------- DeBERTa tasks

DEB_FILL = ["The movie was [MASK].", "I [MASK] it"]
DEB_SENT = ["I loved this film", "What a dull, boring day."]
DEB_ZS = [("I loved this film", ["happy", "sad", "angry"])]
DEB_TEMPLATE = "This example is {}."


def deberta_tokenizer(directory):
    """The Python reference of the fixture's tokenizer.json: encode(text,
    pair) -> ids, type_ids, offsets (code points) and the word (Metaspace
    piece) of each token (None for specials)."""
    import gen_unigram_expected as U

    class Deberta(U.T5):
        def segment(self, text, s, e, toks):
            chars = list(text[s:e])
            al = [(s + k, s + k + 1) for k in range(e - s)]
            while chars and chars[0].isspace():        # Strip
                chars, al = chars[1:], al[1:]
            while chars and chars[-1].isspace():
                chars, al = chars[:-1], al[:-1]
            if not chars:
                return
            chars, al = U.precompiled(self.cm, chars, al)
            assert "  " not in "".join(chars), "runs of spaces are not modelled here"
            wc = [U.META if c == " " else c for c in chars]     # Metaspace
            if wc[0] != U.META:
                wc, al = [U.META] + wc, [al[0]] + al
            cuts = [k for k, c in enumerate(wc) if c == U.META and k > 0] + [len(wc)]
            st = 0
            for cut in cuts:
                self.word += 1
                for a, b, i in self.viterbi("".join(wc[st:cut])):
                    toks.append((i, al[st + a][0], al[st + b - 1][1], self.word))
                st = cut

        def encode_text(self, text):
            toks = []
            for aid, s, e in self.split_added(text):
                if aid is None:
                    self.segment(text, s, e, toks)
                else:
                    self.word += 1
                    toks.append((aid, s, e, self.word))
            return toks

        def encode(self, text, pair=None):
            self.word = -1
            cls, sep = self.pieces["[CLS]"], self.pieces["[SEP]"]
            out = {"ids": [cls], "type_ids": [0], "offsets": [[0, 0]], "words": [None]}
            for ty, t in enumerate([text] + ([pair] if pair is not None else [])):
                for i, a, b, wd in self.encode_text(t):
                    out["ids"].append(i)
                    out["type_ids"].append(ty)
                    out["offsets"].append([a, b])
                    out["words"].append(wd)
                out["ids"].append(sep)
                out["type_ids"].append(ty)
                out["offsets"].append([0, 0])
                out["words"].append(None)
            return out

    return Deberta(directory)


def metaspace_decode(tokens):
    """The Metaspace decoder (prepend_scheme always): \u2581 back to spaces,
    the first token's leading space dropped."""
    out = [t.replace("\u2581", " ") for t in tokens]
    if out and out[0].startswith(" "):
        out[0] = out[0][1:]
    return "".join(out)


def deberta_ner_groups(tok, state, cfg, run_ids):
    """ner_groups (see roberta's) for tiny-deberta: the pipeline's space
    rule for a tokenizer without a continuation mark, the Metaspace
    decoder for words."""
    inv = {i: p for p, i in tok.pieces.items()}
    m = {"vocab": [inv[i] for i in range(len(inv))], "config": cfg, "unk_token": "[UNK]",
         "specials": ["[CLS]", "[SEP]", "[PAD]", "[UNK]", "[MASK]"], "word_aware": False,
         "decode": metaspace_decode}
    return groups_of(m, tok.encode, lambda e: R.token_cls_logits(state, cfg, run_ids(e)))


def deberta_main():
    import tfjs
    d = os.path.join(ROOT, "data", "models", "tiny-deberta")
    tok = deberta_tokenizer(d)
    cfg = json.load(open(os.path.join(d, "config.json")))
    state = R.read_safetensors(os.path.join(d, "model.safetensors"))
    labels = [cfg["id2label"][str(i)] for i in range(len(cfg["id2label"]))]
    requests = ([{"text": t} for t in DEB_FILL + DEB_SENT + NER + NER_GROUPS] +
                [{"text": t, "pair": DEB_TEMPLATE.format(l)} for t, ls in DEB_ZS for l in ls] +
                [{"text": q, "pair": c} for q, c in QA])
    for r, js in zip(requests, tfjs.run(d, requests)):
        mine = tok.encode(r["text"], r.get("pair"))["ids"]
        if mine != js["ids"]:
            raise SystemExit("ids differ from Transformers.js for %r: %s vs %s" % (r, mine, js["ids"]))

    def run_ids(e):
        with torch.no_grad():
            return R.encoder_forward(state, cfg, torch.tensor([e["ids"]]),
                                     torch.tensor([e["type_ids"]]))

    out = {"fill-mask": [], "sentiment": [], "zero-shot": [], "ner": [], "qa": []}
    mask_id = tok.pieces["[MASK]"]
    for text in DEB_FILL:
        e = tok.encode(text)
        t = e["ids"].index(mask_id)
        p = torch.softmax(R.mlm_logits(state, cfg, run_ids(e)[0, t]), -1)
        top = torch.topk(p, 5)
        out["fill-mask"].append({"text": text, "token": top.indices.tolist(),
                                 "score": top.values.tolist()})
    for text in DEB_SENT:
        p = torch.softmax(R.seq_cls_logits(state, cfg, run_ids(tok.encode(text)))[0], -1)
        out["sentiment"].append({"text": text, "scores": dict(zip(labels, p.tolist()))})
    entail = labels.index("entailment")
    for text, cands in DEB_ZS:
        lg = torch.stack([R.seq_cls_logits(state, cfg, run_ids(tok.encode(
            text, DEB_TEMPLATE.format(l))))[0, entail] for l in cands])
        out["zero-shot"].append({"text": text, "labels": cands,
                                 "scores": torch.softmax(lg, -1).tolist()})
    for text in NER:
        e = tok.encode(text)
        out["ner"].append(ner_tokens(text, e, R.token_cls_logits(state, cfg, run_ids(e)), labels))
    out["ner_groups"] = deberta_ner_groups(tok, state, cfg, run_ids)
    for q, c in QA:
        e = tok.encode(q, c)
        ids = e["ids"]
        s, en = R.qa_logits(state, cfg, run_ids(e))
        s, en = s[0], en[0]
        # context tokens: after the question's [SEP], before the last [SEP]
        first = ids.index(tok.pieces["[SEP]"]) + 1
        last = len(ids) - 2
        sc, i, j = answer_span(s, en, first, last)
        # whole words (word_to_chars): the Metaspace pieces of the tokens
        word = lambda k: [o for o, w in zip(e["offsets"], e["words"])
                          if w == e["words"][k] and e["type_ids"][k] == 1]
        a, b = word(i)[0][0], word(j)[-1][1]
        out["qa"].append({"question": q, "context": c, "score": sc, "start": a, "end": b,
                          "answer": c[a:b]})
    write_tasks("deberta", out)


# ---------------------------------------------------------------- ELECTRA tasks

ELE_FILL = ["The movie was [MASK].", "I [MASK] it"]


def electra_main():
    """electra-tasks.json for tiny-electra (electra-small-discriminator's
    config.json, every head, a WordPiece vocab.txt without tokenizer.json):
    the ids of ref_tokenizer.py (the WordPiece reference the BERT tasks
    use), the heads of torch_ref.py (the generator's masked-LM head for
    fill-mask)."""
    import gen_tasks_tok as T
    import ref_tokenizer as rt
    d = os.path.join(ROOT, "data", "models", "tiny-electra")
    vocab = rt.load_vocab(os.path.join(d, "vocab.txt"))
    cfg = json.load(open(os.path.join(d, "config.json")))
    state = R.read_safetensors(os.path.join(d, "model.safetensors"))
    labels = [cfg["id2label"][str(i)] for i in range(len(cfg["id2label"]))]
    enc = lambda text, pair=None: rt.encode(vocab, text, pair=pair)

    def hid(e):
        with torch.no_grad():
            return R.encoder_forward(state, cfg, torch.tensor([e["ids"]]),
                                     torch.tensor([e["type_ids"]]))

    out = {"fill-mask": [], "sentiment": [], "ner": [], "qa": []}
    for text in ELE_FILL:
        e = enc(text)
        t = e["ids"].index(vocab.index("[MASK]"))
        p = torch.softmax(R.mlm_logits(state, cfg, hid(e)[0, t]), -1)
        top = torch.topk(p, 5)
        out["fill-mask"].append({"text": text, "token": top.indices.tolist(),
                                 "score": top.values.tolist()})
    for text in SENT:
        p = torch.softmax(R.seq_cls_logits(state, cfg, hid(enc(text)))[0], -1)
        out["sentiment"].append({"text": text, "scores": dict(zip(labels, p.tolist()))})
    for text in NER:
        e = enc(text)
        out["ner"].append(ner_tokens(text, e, R.token_cls_logits(state, cfg, hid(e)), labels))
    m = {"vocab": vocab, "config": cfg, "decode": T.wordpiece_decode}
    out["ner_groups"] = groups_of(m, enc, lambda e: R.token_cls_logits(state, cfg, hid(e)))
    for q, c in QA:
        e = enc(q, c)
        ids = e["ids"]
        s, en = R.qa_logits(state, cfg, hid(e))
        s, en = s[0], en[0]
        first = ids.index(vocab.index("[SEP]")) + 1    # the context, up to the last [SEP]
        last = len(ids) - 2
        sc, i, j = answer_span(s, en, first, last)
        # whole words (word_to_chars): the pre-tokeniser's words of the context
        w = e["word_ids"]
        span = [o for o, wi, ty in zip(e["offsets"], w, e["type_ids"]) if ty == 1 and wi in (w[i], w[j])]
        a, b = span[0][0], span[-1][1]
        out["qa"].append({"question": q, "context": c, "score": sc, "start": a, "end": b,
                          "answer": c[a:b]})
    write_tasks("electra", out)


if __name__ == "__main__":
    which = sys.argv[1:] or ["roberta", "deberta", "electra"]
    if "roberta" in which:
        roberta_main()
    if "deberta" in which:
        deberta_main()
    if "electra" in which:
        electra_main()
