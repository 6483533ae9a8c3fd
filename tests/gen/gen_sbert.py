#!/usr/bin/python3
"""
gen_sbert.py - sentence-transformers fixtures and PyTorch references for
the embed, similarity and rerank tasks (tests/task_sbert.sh).

Run from the project root with Debian's python3 (it has torch):
    /usr/bin/python3 tests/gen/gen_sbert.py [minilm_dir]

minilm_dir (default ../shared/data/tokenizers/minilm) holds the real files
of sentence-transformers/all-MiniLM-L6-v2.  From them it writes, with
random weights and fewer, smaller layers (hidden 32, 2 layers, 4 heads,
intermediate 64, the first 2000 WordPiece entries kept as
torch_ref.make_vocab does) so each folder stays far below 1 MB:

  data/models/minilm-embed/   all-MiniLM-L6-v2's layout: config.json
      (BertModel), modules.json (Transformer, Pooling, Normalize),
      1_Pooling/config.json (mean), sentence_bert_config.json
      (max_seq_length 256, do_lower_case false),
      config_sentence_transformers.json, tokenizer_config.json,
      special_tokens_map.json, vocab.txt, model.safetensors.  (The real
      tokenizer.json is left out: it carries the whole vocabulary.)
  data/models/minilm-rerank/  a cross-encoder in the same layout as
      cross-encoder/ms-marco-MiniLM-L-6-v2: BertForSequenceClassification
      with one label, no sentence-transformers files.
  data/expected/sbert/embed.json       per option set, the vectors
  data/expected/sbert/similarity.json  cosine scores, query and pairs
  data/expected/sbert/rerank.json      sigmoid scores and raw logits

The pooling follows sentence_transformers.models.Pooling (cls = h[:, 0];
max over tokens with padding set to -1e9; mean = sum(h * mask) /
clamp(sum(mask), 1e-9); mean_sqrt_len = sum / sqrt(count)), Normalize is
F.normalize(p=2, dim=1), cosine is util.cos_sim, and CrossEncoder's
default activation for one label is a sigmoid.  The encoder is
torch_ref.py's hand-written BERT, tokens from ref_tokenizer.py.
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
SRC = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    ROOT, "..", "shared", "data", "tokenizers", "minilm")
MODELS = os.path.join(ROOT, "data", "models")
OUT = os.path.join(ROOT, "data", "expected", "sbert")
V = 2000
SMALL = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
             intermediate_size=64, vocab_size=V)

TEXTS = [
    "Hello world.",
    "The quick brown fox jumps over the lazy dog, again and again.",
    "a",
    "Caf\u00e9 prices rose 12% in 2023!",
    # 300 words: cut to max_seq_length (256 tokens) by the Transformer module
    " ".join(["the", "time", "of", "day"] * 75),
]
QUERY = "How old is the world?"
PAIRS = [["A man is eating food.", "A man is eating a piece of bread."],
         ["The cat sits outside.", "The new movie is awesome."]]
PASSAGES = ["The world is about four billion years old.",
            "Paris is the capital of France.",
            "Old people like the world.",
            "x"]
# option sets of `nlp embed` and the (pooling, normalize) each means
EMBED_CASES = [([], "mean", True)]
for _p in ("cls", "mean", "max", "mean-sqrt-len"):
    EMBED_CASES.append((["--pooling", _p], _p, True))
    EMBED_CASES.append((["--pooling", _p, "--no-normalize"], _p, False))


def load(name):
    with open(os.path.join(SRC, name), encoding="utf-8") as f:
        return json.load(f)


def dump(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2, ensure_ascii=False)
        f.write("\n")


def small_config(arch, labels=None):
    cfg = load("config.json")
    cfg.update(SMALL)
    cfg["architectures"] = [arch]
    if labels:
        cfg["id2label"] = {str(i): l for i, l in enumerate(labels)}
        cfg["label2id"] = {l: i for i, l in enumerate(labels)}
    return cfg


def write_model(name, cfg, arch, seed):
    d = os.path.join(MODELS, name)
    if os.path.isdir(d):
        shutil.rmtree(d)
    vocab = R.make_vocab(os.path.join(SRC, "vocab.txt"), V)
    state = R.random_state(cfg, arch, seed)
    R.write_checkpoint(d, cfg, state, vocab)
    for f in ("tokenizer_config.json", "special_tokens_map.json"):
        shutil.copyfile(os.path.join(SRC, f), os.path.join(d, f))
    return d, state, vocab


def write_sbert_files(d):
    for f in ("modules.json", "sentence_bert_config.json",
              "config_sentence_transformers.json"):
        shutil.copyfile(os.path.join(SRC, f), os.path.join(d, f))
    pool = load(os.path.join("1_Pooling", "config.json"))
    pool["word_embedding_dimension"] = SMALL["hidden_size"]
    dump(os.path.join(d, "1_Pooling", "config.json"), pool)


def hidden_states(state, cfg, vocab, texts, pairs=None, max_length=None):
    encs = [T.encode(vocab, t, pair=(pairs[i] if pairs else None),
                     max_length=max_length) for i, t in enumerate(texts)]
    L = max(len(e["ids"]) for e in encs)
    ids = [e["ids"] + [0] * (L - len(e["ids"])) for e in encs]
    tt = [e["type_ids"] + [0] * (L - len(e["ids"])) for e in encs]
    mask = [[1] * len(e["ids"]) + [0] * (L - len(e["ids"])) for e in encs]
    with torch.no_grad():
        h = R.encoder_forward(state, cfg, ids, tt, mask)
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


def embed(state, cfg, vocab, texts, mode, normalize, max_seq):
    h, mask = hidden_states(state, cfg, vocab, texts, max_length=max_seq)
    return pool(h, mask, mode, normalize)


def main():
    sbert = load("sentence_bert_config.json")
    max_seq = sbert["max_seq_length"]

    cfg = small_config("BertModel")
    d, state, vocab = write_model("minilm-embed", cfg, "BertModel", 41)
    write_sbert_files(d)
    cases = []
    for args, mode, norm in EMBED_CASES:
        v = embed(state, cfg, vocab, TEXTS, mode, norm, max_seq)
        cases.append({"args": args, "embeddings": v.tolist()})
    dump(os.path.join(OUT, "embed.json"), {"texts": TEXTS, "cases": cases})

    sims = []
    for args, mode in (([], "mean"), (["--pooling", "cls"], "cls")):
        q = embed(state, cfg, vocab, [QUERY], mode, True, max_seq)
        e = embed(state, cfg, vocab, PASSAGES, mode, True, max_seq)
        a = embed(state, cfg, vocab, [p[0] for p in PAIRS], mode, True, max_seq)
        b = embed(state, cfg, vocab, [p[1] for p in PAIRS], mode, True, max_seq)
        sims.append({"args": args,
                     "query_scores": F.cosine_similarity(q, e).tolist(),
                     "pair_scores": F.cosine_similarity(a, b).tolist()})
    dump(os.path.join(OUT, "similarity.json"),
         {"query": QUERY, "texts": PASSAGES, "pairs": PAIRS, "cases": sims})

    ccfg = small_config("BertForSequenceClassification", ["LABEL_0"])
    _, cstate, cvocab = write_model("minilm-rerank", ccfg,
                                    "BertForSequenceClassification", 42)
    h, _ = hidden_states(cstate, ccfg, cvocab, [QUERY] * len(PASSAGES), PASSAGES,
                         max_length=ccfg["max_position_embeddings"])
    with torch.no_grad():
        logits = R.seq_cls_logits(cstate, ccfg, h)[:, 0]
    dump(os.path.join(OUT, "rerank.json"),
         {"query": QUERY, "texts": PASSAGES, "logits": logits.tolist(),
          "scores": torch.sigmoid(logits).tolist()})
    print("wrote data/models/minilm-embed, data/models/minilm-rerank, data/expected/sbert")


if __name__ == "__main__":
    main()
