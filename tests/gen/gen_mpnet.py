#!/usr/bin/python3
"""
gen_mpnet.py - the MPNet fixtures and their expected outputs.

Importable (tests/gen/gen_numerics.py builds data/models/tiny-mpnet with
it) and a script:
    /usr/bin/python3 tests/gen/gen_numerics.py     (writes tiny-mpnet)
    /usr/bin/python3 tests/gen/gen_mpnet.py [shared_data_dir]

The configuration files are the real ones, shrunk; no copy ships in
../shared, so their fields are written out below as a public repository's
MPNet notes ("MPNet Source Snapshots", audit of 2026-05-13) quote them
verbatim from the Hub:
  MPNET_BASE  https://huggingface.co/microsoft/mpnet-base/raw/main/config.json
              (Hub revision 6996ce1e91bd2a9c7d7f61daec37463394f73f09)
  ALL_MPNET   https://huggingface.co/sentence-transformers/all-mpnet-base-v2/raw/main/config.json
              (Hub revision e8c3b32edf5434bc2275fc9bab85f82640a19130), with
              its modules.json, 1_Pooling/config.json (mean) and
              sentence_bert_config.json (max_seq_length 384)
The tokenizer is an MPNet-style tokenizer.json (MPNetTokenizerFast's
layout: BertNormalizer, BertPreTokenizer, WordPiece with unk [UNK],
RobertaProcessing <s> A </s></s> B </s>, special tokens <s> <pad> </s>
<unk> at 0..3 and <mask> last with lstrip) over the bert-base-uncased
vocabulary of ../shared/data/vocab, as the real one is (its ASCII
characters and most frequent words here, fixture_vocab).

Writes
  data/models/mpnet-embed/        all-mpnet-base-v2's layout, random weights
                                  (MPNetModel tensors without prefix, with
                                  the pooler), hidden 32, 2 layers, 4 heads
  data/expected/mpnet/embed.json  mean-pooled, normalised vectors (and the
                                  other pooling modes) per text; the last
                                  text is longer than max_seq_length
  data/expected/mpnet/similarity.json  cosine scores, query and pairs
  data/expected/mpnet/tokenizer.jsonl  per text (and pair): ids from
                                  Transformers.js (cross-checked against
                                  ref_tokenizer.py's WordPiece in MPNet's
                                  template) and code-point offsets from
                                  ref_tokenizer.py
  data/expected/mpnet/buckets.json  the relative-position bucket of every
                                  rel in [-600, 600] (torch_ref.mpnet_bucket)
  data/expected/families/mpnet-tasks.json  fill-mask, sentiment, ner and qa
                                  on tiny-mpnet, as gen_families.py does for
                                  RoBERTa
Everything comes from torch_ref.py's hand-written MPNet, ref_tokenizer.py
and Transformers.js (NODE_PATH=tests/ref/node_modules), never from nlp.
"""
import json
import os
import shutil
import sys

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import ref_tokenizer as T  # noqa: E402
import torch_ref as R  # noqa: E402

ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
SHARED = (sys.argv[1] if __name__ == "__main__" and len(sys.argv) > 1 else
          os.environ.get("NLP_SHARED_DATA", os.path.join(ROOT, "..", "shared", "data")))
VOCAB = os.path.join(SHARED, "vocab", "bert-base-uncased", "vocab.txt")
MODELS = os.path.join(ROOT, "data", "models")
OUT = os.path.join(ROOT, "data", "expected", "mpnet")

MPNET_BASE = {
    "architectures": ["MPNetForMaskedLM"],
    "attention_probs_dropout_prob": 0.1,
    "pad_token_id": 1,
    "bos_token_id": 0,
    "eos_token_id": 2,
    "hidden_act": "gelu",
    "hidden_dropout_prob": 0.1,
    "hidden_size": 768,
    "initializer_range": 0.02,
    "intermediate_size": 3072,
    "layer_norm_eps": 1e-05,
    "max_position_embeddings": 514,
    "relative_attention_num_buckets": 32,
    "model_type": "mpnet",
    "num_attention_heads": 12,
    "num_hidden_layers": 12,
    "vocab_size": 30527,
}
ALL_MPNET = {
    "_name_or_path": "microsoft/mpnet-base",
    "architectures": ["MPNetForMaskedLM"],
    "attention_probs_dropout_prob": 0.1,
    "bos_token_id": 0,
    "eos_token_id": 2,
    "hidden_act": "gelu",
    "hidden_dropout_prob": 0.1,
    "hidden_size": 768,
    "initializer_range": 0.02,
    "intermediate_size": 3072,
    "layer_norm_eps": 1e-05,
    "max_position_embeddings": 514,
    "model_type": "mpnet",
    "num_attention_heads": 12,
    "num_hidden_layers": 12,
    "pad_token_id": 1,
    "relative_attention_num_buckets": 32,
    "transformers_version": "4.8.2",
    "vocab_size": 30527,
}
ALL_MPNET_MODULES = [
    {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
    {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
    {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
]
ALL_MPNET_POOLING = {"word_embedding_dimension": 768, "pooling_mode_cls_token": False,
                     "pooling_mode_mean_tokens": True, "pooling_mode_max_tokens": False,
                     "pooling_mode_mean_sqrt_len_tokens": False}
ALL_MPNET_SBERT = {"max_seq_length": 384, "do_lower_case": False}
SMALL = dict(hidden=32, layers=2, heads=4, intermediate=64)
LABELS = ["negative", "neutral", "positive"]
SPECIALS = ["<s>", "<pad>", "</s>", "<unk>"]
V = 1000


# ---------------------------------------------------------------- tokenizer

def fixture_vocab():
    """<s> <pad> </s> <unk>, [PAD] [UNK] [CLS] [SEP] [MASK], bert-base-
    uncased's ASCII characters and "##" characters, then its words in
    frequency order (from "the", id 1996), then <mask>: V tokens."""
    with open(VOCAB, encoding="utf-8") as f:
        full = [line.rstrip("\n") for line in f]
    head = SPECIALS + R.SPECIALS
    chars = [t for t in full[999:1996] if len(t.replace("##", "", 1)) == 1 and t.isascii()]
    words = [t for t in full[1996:] if t not in head]
    return (head + chars + words)[:V - 1] + ["<mask>"]


def tokenizer_json(vocab):
    ids = {t: i for i, t in enumerate(vocab)}
    added = [{"id": ids[t], "content": t, "single_word": False, "lstrip": t == "<mask>",
              "rstrip": False, "normalized": False, "special": True}
             for t in SPECIALS + ["[UNK]", "<mask>"]]
    return {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": sorted(added, key=lambda a: a["id"]),
        "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True,
                       "strip_accents": None, "lowercase": True},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {"type": "RobertaProcessing", "sep": ["</s>", ids["</s>"]],
                           "cls": ["<s>", ids["<s>"]], "trim_offsets": True,
                           "add_prefix_space": False},
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": 100, "vocab": ids},
    }


def write_tokenizer(d, vocab, max_len=512):
    """tokenizer.json, vocab.txt, tokenizer_config.json and
    special_tokens_map.json as an MPNet checkpoint ships them."""
    with open(os.path.join(d, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tokenizer_json(vocab), f, ensure_ascii=False)
    with open(os.path.join(d, "vocab.txt"), "w", encoding="utf-8") as f:
        f.write("".join(t + "\n" for t in vocab))
    mask = {"content": "<mask>", "single_word": False, "lstrip": True, "rstrip": False,
            "normalized": True, "__type": "AddedToken"}
    stm = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "[UNK]", "sep_token": "</s>",
           "pad_token": "<pad>", "cls_token": "<s>", "mask_token": mask}
    tc = dict(stm, do_lower_case=True, tokenize_chinese_chars=True, strip_accents=None,
              model_max_length=max_len, tokenizer_class="MPNetTokenizer")
    for name, obj in (("tokenizer_config.json", tc), ("special_tokens_map.json", stm)):
        with open(os.path.join(d, name), "w") as f:
            json.dump(obj, f, indent=2, sort_keys=True)
            f.write("\n")


def encode(vocab, text, pair=None, max_length=None):
    """MPNetTokenizerFast's encoding: ref_tokenizer's WordPiece pieces in
    <s> A </s> (</s> B </s>); ids, offsets (code points, (0, 0) for the
    template) and word index per token (None for the template)."""
    kw = dict(specials=SPECIALS + ["[UNK]", "<mask>"], unk="[UNK]")   # the added tokens
    a = T.tokenize(vocab, text, **kw)
    b = T.tokenize(vocab, pair, **kw) if pair is not None else None
    if max_length:
        k1, k2 = T.truncate(len(a), len(b) if b else None, max_length - (4 if b else 2))
        a, b = a[:k1], (b[:k2] if b else b)
    cls, sep = (0, 0, 0, None), (2, 0, 0, None)
    rows = [cls] + [(i, s, e, w) for _, i, s, e, w in a] + [sep]
    if b is not None:
        rows += [sep] + [(i, s, e, w) for _, i, s, e, w in b] + [sep]
    return {"ids": [r[0] for r in rows], "offsets": [[r[1], r[2]] for r in rows],
            "words": [r[3] for r in rows], "n_a": len(a)}


# ---------------------------------------------------------------- models

def tiny_config():
    """tiny-mpnet's config.json: microsoft/mpnet-base's, every head."""
    return R.mpnet_config(MPNET_BASE, V, architectures=R.MPNET_ARCHS, labels=LABELS, **SMALL)


def hidden(state, cfg, encs):
    L = max(len(e["ids"]) for e in encs)
    ids = [e["ids"] + [1] * (L - len(e["ids"])) for e in encs]
    mask = [[1] * len(e["ids"]) + [0] * (L - len(e["ids"])) for e in encs]
    with torch.no_grad():
        h = R.encoder_forward(state, cfg, ids, None, mask)
    return h, torch.tensor(mask, dtype=torch.float32)


def pool(h, mask, mode, normalize):
    m = mask[:, :, None]
    if mode == "cls":
        v = h[:, 0]
    elif mode == "max":
        v = torch.where(m > 0, h, torch.full_like(h, -1e9)).max(1)[0]
    else:
        s = (h * m).sum(1)
        n = torch.clamp(m.sum(1), min=1e-9)
        v = s / n if mode == "mean" else s / torch.sqrt(n)
    return F.normalize(v, p=2, dim=1) if normalize else v


def dump(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=1, ensure_ascii=False)
        f.write("\n")


TEXTS = ["Hello world.",
         "The quick brown fox jumps over the lazy dog, again and again.",
         "a",
         "Caf\u00e9 prices rose 12% in 2023!",
         # 480 words: cut to max_seq_length (384 tokens), distances past 128
         " ".join(["the", "time", "of", "day"] * 120)]
QUERY = "How old is the world?"
PASSAGES = ["The world is about four billion years old.", "Paris is the capital of France.",
            "Old people like the world.", "x"]
PAIRS = [["A man is eating food.", "A man is eating a piece of bread."],
         ["The cat sits outside.", "The new movie is awesome."]]
EMBED_CASES = [([], "mean", True), (["--pooling", "cls"], "cls", True),
               (["--pooling", "max", "--no-normalize"], "max", False)]


def write_embed(vocab):
    d = os.path.join(MODELS, "mpnet-embed")
    if os.path.isdir(d):
        shutil.rmtree(d)
    cfg = R.mpnet_config(ALL_MPNET, V, **SMALL)
    state = R.random_state(cfg, "MPNetModel", 51)
    R.write_checkpoint(d, cfg, state, vocab)
    write_tokenizer(d, vocab)
    dump(os.path.join(d, "modules.json"), ALL_MPNET_MODULES)
    dump(os.path.join(d, "sentence_bert_config.json"), ALL_MPNET_SBERT)
    dump(os.path.join(d, "1_Pooling", "config.json"),
         dict(ALL_MPNET_POOLING, word_embedding_dimension=SMALL["hidden"]))
    max_seq = ALL_MPNET_SBERT["max_seq_length"]

    def emb(texts, mode="mean", norm=True):
        h, m = hidden(state, cfg, [encode(vocab, t, max_length=max_seq) for t in texts])
        return pool(h, m, mode, norm)
    dump(os.path.join(OUT, "embed.json"),
         {"texts": TEXTS, "cases": [{"args": a, "embeddings": emb(TEXTS, m, n).tolist()}
                                    for a, m, n in EMBED_CASES]})
    q, e = emb([QUERY]), emb(PASSAGES)
    a, b = emb([p[0] for p in PAIRS]), emb([p[1] for p in PAIRS])
    dump(os.path.join(OUT, "similarity.json"),
         {"query": QUERY, "texts": PASSAGES, "pairs": PAIRS,
          "query_scores": F.cosine_similarity(q, e).tolist(),
          "pair_scores": F.cosine_similarity(a, b).tolist()})


# ---------------------------------------------------------------- tokenizer parity

TOK_CASES = [{"text": "Hello, World!"},
             {"text": "Héllo wörld, naïve café CRÈME brûlée"},
             {"text": "The movie was <mask>."},
             {"text": "I<mask> it"},
             {"text": "unaffable tokenization xyzzy"},
             {"text": "<s>a</s> and <pad> [UNK] [CLS]"},
             {"text": "Where does Anna live?", "pair": "Anna lives in Paris and works in Lyon."},
             {"text": "a", "pair": ""},
             {"text": "  spaces   everywhere  "}]


def write_tokenizer_cases(vocab):
    import tfjs
    d = os.path.join(MODELS, "tiny-mpnet")
    got = tfjs.run(d, [{"text": c["text"], "pair": c.get("pair")} for c in TOK_CASES])
    with open(os.path.join(OUT, "tokenizer.jsonl"), "w", encoding="utf-8") as f:
        for c, g in zip(TOK_CASES, got):
            e = encode(vocab, c["text"], c.get("pair"))
            if e["ids"] != g["ids"]:
                print("Transformers.js and ref_tokenizer.py disagree on %r: %s vs %s"
                      % (c, g["ids"], e["ids"]))
            row = dict(c, ids=g["ids"])
            if "<mask>" not in c["text"]:   # lstrip moves <mask>'s start: ids only
                row["offsets"] = e["offsets"]
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


# ---------------------------------------------------------------- tasks

FILL = ["The movie was <mask>.", "I<mask> it"]
SENT = ["I loved this film!", "What a dull, boring day."]
NER = ["Anna lives in Paris"]
QA = [("Where does Anna live?", "Anna lives in Paris and works in Lyon.")]


def write_tasks(vocab):
    d = os.path.join(MODELS, "tiny-mpnet")
    cfg = json.load(open(os.path.join(d, "config.json")))
    state = R.read_safetensors(os.path.join(d, "model.safetensors"))
    run = lambda ids: hidden(state, cfg, [{"ids": ids}])[0]
    out = {"fill-mask": [], "sentiment": [], "ner": [], "qa": []}
    mask_id = vocab.index("<mask>")
    for text in FILL:
        e = encode(vocab, text)
        with torch.no_grad():
            p = torch.softmax(R.mlm_logits(state, cfg, run(e["ids"])[0, e["ids"].index(mask_id)]), -1)
        top = torch.topk(p, 5)
        out["fill-mask"].append({"text": text, "token": top.indices.tolist(),
                                 "score": top.values.tolist()})
    for text in SENT:
        with torch.no_grad():
            p = torch.softmax(R.seq_cls_logits(state, cfg, run(encode(vocab, text)["ids"]))[0], -1)
        out["sentiment"].append({"text": text, "scores": dict(zip(LABELS, p.tolist()))})
    for text in NER:
        ids = encode(vocab, text)["ids"]
        with torch.no_grad():
            p = torch.softmax(R.token_cls_logits(state, cfg, run(ids))[0], -1)
        toks = []
        for i in range(1, len(ids) - 1):
            k = int(torch.argmax(p[i]))
            toks.append({"index": i, "entity": LABELS[k], "score": float(p[i, k])})
        out["ner"].append({"text": text, "tokens": toks})
    for q, c in QA:
        e = encode(vocab, q, c)
        ids = e["ids"]
        with torch.no_grad():
            s, en = R.qa_logits(state, cfg, run(ids))
        s, en = s[0], en[0]
        first, last = e["n_a"] + 3, len(ids) - 2   # <s> Q </s></s> C </s>
        keep = torch.full((len(ids),), -10000.0)
        keep[first:last + 1] = 0.0
        keep[0] = 0.0   # the pipeline leaves <s> in the softmax (then never picks it)
        ps, pe = torch.softmax(s + keep, -1), torch.softmax(en + keep, -1)
        best = (-1.0, 0, 0)
        for i in range(first, last + 1):
            for j in range(i, min(last, i + 14) + 1):
                if float(ps[i] * pe[j]) > best[0]:
                    best = (float(ps[i] * pe[j]), i, j)
        sc, i, j = best
        # whole words (word_to_chars): the BertPreTokenizer word of each end
        span = lambda w: [o for o, ww in zip(e["offsets"][first:last + 1],
                                             e["words"][first:last + 1]) if ww == w]
        a, b = span(e["words"][i])[0][0], span(e["words"][j])[-1][1]
        out["qa"].append({"question": q, "context": c, "score": sc, "start": a, "end": b,
                          "answer": c[a:b]})
    dump(os.path.join(ROOT, "data", "expected", "families", "mpnet-tasks.json"), out)


def main():
    vocab = fixture_vocab()
    os.makedirs(OUT, exist_ok=True)
    rel = torch.arange(-600, 601)
    dump(os.path.join(OUT, "buckets.json"), {"from": -600, "buckets": R.mpnet_bucket(rel).tolist()})
    write_embed(vocab)
    write_tokenizer_cases(vocab)
    write_tasks(vocab)
    print("wrote data/models/mpnet-embed, data/expected/mpnet, "
          "data/expected/families/mpnet-tasks.json")


if __name__ == "__main__":
    main()
