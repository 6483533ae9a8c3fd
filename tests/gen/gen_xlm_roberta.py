#!/usr/bin/python3
"""
gen_xlm_roberta.py - the XLM-RoBERTa fixture data/models/tiny-xlm-roberta
(random weights, every head: XLMRobertaForMaskedLM / ForSequence-
Classification / ForTokenClassification / ForQuestionAnswering) with a
sentencepiece Unigram model as sentencepiece.bpe.model and the
XLMRobertaTokenizer tokenizer_config.json, and the CLI expectations of
tests/families.sh (data/expected/families/xlm-roberta-tasks.json).

The config is xlm-roberta-base's config.json (XLM_ROBERTA_BASE below, as
transformers 4.52.4 prints XLMRobertaConfig for that checkpoint; ../shared
has no XLM-R config) with the sizes shrunk.  The sentencepiece model is
data/expected/tokenizer/spm-model/nmt-nfkc/spm.model (tests/gen/
gen_spm_models.py: Unigram, nmt_nfkc, <unk> <s> </s> first, as XLM-R's).

Expected values: token ids from python3-sentencepiece with fairseq's
mapping applied here (<s> 0, <pad> 1, </s> 2, <unk> 3, every other piece
its id + 1, <mask> last; text split around <mask>, which takes in the
spaces before it, each part encoded on its own), run through the PyTorch
reference (torch_ref.py).  Words, for qa's whole-word answers, start at
each piece that begins with U+2581; offsets are sentencepiece's.

    /usr/bin/python3 tests/gen/gen_xlm_roberta.py
"""
import json
import os
import shutil
import sys

import sentencepiece as spm
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_ref as R  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MODEL = os.path.join(ROOT, "data", "models", "tiny-xlm-roberta")
SPM = os.path.join(ROOT, "data", "expected", "tokenizer", "spm-model", "nmt-nfkc", "spm.model")

XLM_ROBERTA_BASE = {
    "architectures": ["XLMRobertaForMaskedLM"], "attention_probs_dropout_prob": 0.1,
    "bos_token_id": 0, "classifier_dropout": None, "eos_token_id": 2, "hidden_act": "gelu",
    "hidden_dropout_prob": 0.1, "hidden_size": 768, "initializer_range": 0.02,
    "intermediate_size": 3072, "layer_norm_eps": 1e-05, "max_position_embeddings": 514,
    "model_type": "xlm-roberta", "num_attention_heads": 12, "num_hidden_layers": 12,
    "output_past": True, "pad_token_id": 1, "position_embedding_type": "absolute",
    "torch_dtype": "float32", "transformers_version": "4.52.4", "type_vocab_size": 1,
    "use_cache": True, "vocab_size": 250002,
}
ARCHS = ("XLMRobertaForMaskedLM", "XLMRobertaForSequenceClassification",
         "XLMRobertaForTokenClassification", "XLMRobertaForQuestionAnswering")
HEADS = ("mlm", "seq_cls", "token_cls", "qa")
LABELS = ["negative", "neutral", "positive"]
MASK = "<mask>"

FILL = ["The movie was <mask>.", "I<mask> it", "Paris is the <mask> of France."]
SENT = ["I loved this film!", "What a dull, boring day."]
NER = ["Anna lives in Paris", "Ｆｕｌｌ width and café ﬁne"]
QA = [("Where does Anna live?", "Anna lives in Paris and works in Lyon."),
      ("Who won?", "The   match was won by  Germany in 2014.")]


class XlmrTokenizer:
    """XLMRobertaTokenizer over sentencepiece: fairseq ids, <mask> split."""

    def __init__(self, path):
        self.sp = spm.SentencePieceProcessor(model_file=path)
        self.n = self.sp.get_piece_size()
        self.mask_id = self.n + 1

    def _part(self, text, base, out):
        for p in self.sp.encode_as_immutable_proto(text).pieces:
            if p.piece.startswith("\u2581") or not out["ids"]:
                out["next_word"] += 1
            out["ids"].append(3 if p.id == self.sp.unk_id() else p.id + 1)
            out["offsets"].append((base + p.begin, base + p.end))
            out["words"].append(out["next_word"] - 1)

    def text(self, text):
        out = {"ids": [], "offsets": [], "words": [], "next_word": 0}
        at = 0
        while True:
            k = text.find(MASK, at)
            end = len(text) if k < 0 else k
            left = text[at:end].rstrip(" ") if k >= 0 else text[at:end]
            if left:
                self._part(left, at, out)
            if k < 0:
                return out
            out["ids"].append(self.mask_id)
            out["offsets"].append((len(left) + at, k + len(MASK)))
            out["words"].append(out["next_word"])
            out["next_word"] += 1
            at = k + len(MASK)

    def encode(self, a, b=None):
        ea = self.text(a)
        ids, offs, words, seq = [0] + ea["ids"] + [2], [None] + ea["offsets"] + [None], \
            [None] + ea["words"] + [None], [None] + [0] * len(ea["ids"]) + [None]
        if b is not None:
            eb = self.text(b)
            ids += [2] + eb["ids"] + [2]
            offs += [None] + eb["offsets"] + [None]
            words += [None] + eb["words"] + [None]
            seq += [None] + [1] * len(eb["ids"]) + [None]
        return {"ids": ids, "offsets": offs, "words": words, "seq": seq}


def write_fixture():
    sp = spm.SentencePieceProcessor(model_file=SPM)
    V = sp.get_piece_size() + 2
    cfg = R.roberta_config(XLM_ROBERTA_BASE, V, hidden=32, layers=2, heads=4, intermediate=64,
                           architectures=ARCHS, labels=LABELS)
    state = R.random_state(cfg, "roberta", 18, heads=HEADS)
    R.write_checkpoint(MODEL, cfg, state, ["[PAD]"], dtype="F32")
    os.remove(os.path.join(MODEL, "vocab.txt"))
    shutil.copyfile(SPM, os.path.join(MODEL, "sentencepiece.bpe.model"))
    mask = {"content": MASK, "lstrip": True, "normalized": False, "rstrip": False,
            "single_word": False}
    tc = {"bos_token": "<s>", "cls_token": "<s>", "eos_token": "</s>", "mask_token": mask,
          "model_max_length": 512, "pad_token": "<pad>", "sep_token": "</s>",
          "tokenizer_class": "XLMRobertaTokenizer", "unk_token": "<unk>"}
    stm = {k: v for k, v in tc.items() if k.endswith("_token")}
    for name, d in (("tokenizer_config.json", tc), ("special_tokens_map.json", stm)):
        with open(os.path.join(MODEL, name), "w") as f:
            json.dump(d, f, indent=2, sort_keys=True)
            f.write("\n")
    return cfg, state


def run(state, cfg, ids):
    with torch.no_grad():
        return R.encoder_forward(state, cfg, torch.tensor([ids]))


def qa_case(tok, state, cfg, q, c):
    e = tok.encode(q, c)
    ids = e["ids"]
    s, en = R.qa_logits(state, cfg, run(state, cfg, ids))
    s, en = s[0], en[0]
    first = ids.index(2) + 2          # after the question's </s></s>
    last = len(ids) - 2               # before the last </s>
    keep = torch.full((len(ids),), -10000.0)
    keep[first:last + 1] = 0.0
    keep[0] = 0.0                     # the pipeline leaves <s> in the softmax
    ps, pe = torch.softmax(s + keep, -1), torch.softmax(en + keep, -1)
    best = (-1.0, 0, 0)
    for i in range(first, last + 1):
        for j in range(i, min(last, i + 14) + 1):
            sc = float(ps[i] * pe[j])
            if sc > best[0]:
                best = (sc, i, j)
    sc, i, j = best
    # whole words: the first token of i's word to the last token of j's word
    wi = [k for k in range(first, last + 1) if e["words"][k] == e["words"][i]]
    wj = [k for k in range(first, last + 1) if e["words"][k] == e["words"][j]]
    a, b = e["offsets"][wi[0]][0], e["offsets"][wj[-1]][1]
    return {"question": q, "context": c, "score": sc, "start": a, "end": b, "answer": c[a:b]}


def main():
    cfg, state = write_fixture()
    tok = XlmrTokenizer(SPM)
    out = {"fill-mask": [], "sentiment": [], "ner": [], "qa": []}
    for text in FILL:
        e = tok.encode(text)
        t = e["ids"].index(tok.mask_id)
        p = torch.softmax(R.mlm_logits(state, cfg, run(state, cfg, e["ids"])[0, t]), -1)
        top = torch.topk(p, 5)
        out["fill-mask"].append({"text": text, "ids": e["ids"], "token": top.indices.tolist(),
                                 "score": top.values.tolist()})
    for text in SENT:
        e = tok.encode(text)
        p = torch.softmax(R.seq_cls_logits(state, cfg, run(state, cfg, e["ids"]))[0], -1)
        out["sentiment"].append({"text": text, "ids": e["ids"], "scores": dict(zip(LABELS, p.tolist()))})
    for text in NER:
        e = tok.encode(text)
        p = torch.softmax(R.token_cls_logits(state, cfg, run(state, cfg, e["ids"]))[0], -1)
        toks = []
        for i in range(1, len(e["ids"]) - 1):
            k = int(torch.argmax(p[i]))
            toks.append({"index": i, "entity": LABELS[k], "score": float(p[i, k])})
        out["ner"].append({"text": text, "ids": e["ids"], "tokens": toks})
    for q, c in QA:
        out["qa"].append(qa_case(tok, state, cfg, q, c))
    dst = os.path.join(ROOT, "data", "expected", "families")
    os.makedirs(dst, exist_ok=True)
    with open(os.path.join(dst, "xlm-roberta-tasks.json"), "w") as f:
        json.dump(out, f, indent=1, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
