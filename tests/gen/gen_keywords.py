#!/usr/bin/python3
"""
gen_keywords.py - PyTorch reference for the example plugin `keywords`
(plugins/example/keywords.c).

Run from the project root with Debian's python3 (it has torch):
    /usr/bin/python3 tests/gen/gen_keywords.py

For each text and each fixture checkpoint (data/models/tiny-bert,
tiny-distilbert): tokenize with the reference WordPiece port
(tests/gen/ref_tokenizer.py), run the hand-written PyTorch encoder
(tests/gen/torch_ref.py) on the text alone, take the text's vector as the
mean of all its hidden states ([CLS] and [SEP] included), each word's as
the mean over its sub-tokens (word_ids, specials excluded), score words by
cosine similarity and keep the TOP_K best (ties: the earlier word).  The
word is text[start:end] with the code-point offsets of its first and last
sub-token.  Writes data/expected/keywords/keywords.json:
    {"top_k": 5, "models": {NAME: [{"text", "keywords": [{"word",
     "score", "start", "end"}]}]}}
It refuses to write a case whose ranking a 1e-4 error could change (two
scores closer than MIN_GAP around a kept position), so the test can
compare words exactly.
"""
import json
import os
import sys

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import ref_tokenizer as T  # noqa: E402
import torch_ref as R  # noqa: E402

ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
MODELS = ["tiny-bert", "tiny-distilbert"]
TOP_K = 5
MIN_GAP = 1e-3
TEXTS = [
    "Hello world.",
    "The quick brown fox jumps over the lazy dog, again and again.",
    "a",
    "Caf\u00e9 prices rose 12% in 2023!",
    "Unbelievably, the xylophonist's performance mesmerized everyone.",
    "",
]


def words_of(enc):
    """[(first, last)] token spans of the words, specials excluded."""
    spans = []
    for t, w in enumerate(enc["word_ids"]):
        if w is None:
            continue
        if spans and enc["word_ids"][spans[-1][1]] == w and spans[-1][1] == t - 1:
            spans[-1][1] = t
        else:
            spans.append([t, t])
    return spans


def keywords(state, config, vocab, text):
    enc = T.encode(vocab, text)
    with torch.no_grad():
        h = R.encoder_forward(state, config, [enc["ids"]], None, None)[0]  # [T][H]
    sent = h.mean(0)
    found = []
    for first, last in words_of(enc):
        vec = h[first:last + 1].mean(0)
        score = F.cosine_similarity(vec, sent, dim=0, eps=0.0).item()
        start, end = enc["offsets"][first][0], enc["offsets"][last][1]
        found.append({"word": text[start:end], "score": score,
                      "start": start, "end": end})
    found.sort(key=lambda k: -k["score"])   # stable: ties keep text order
    scores = [k["score"] for k in found]
    for j in range(min(len(scores), TOP_K + 1) - 1):
        if scores[j] - scores[j + 1] < MIN_GAP:
            sys.exit("gen_keywords: %r: scores %.6f and %.6f too close to rank"
                     % (text, scores[j], scores[j + 1]))
    return found[:TOP_K]


def main():
    out = {"top_k": TOP_K, "models": {}}
    for name in MODELS:
        d = os.path.join(ROOT, "data", "models", name)
        with open(os.path.join(d, "config.json")) as f:
            config = json.load(f)
        state = R.read_safetensors(os.path.join(d, "model.safetensors"))
        vocab = T.load_vocab(os.path.join(d, "vocab.txt"))
        out["models"][name] = [{"text": t, "keywords": keywords(state, config, vocab, t)}
                               for t in TEXTS]
    outdir = os.path.join(ROOT, "data", "expected", "keywords")
    os.makedirs(outdir, exist_ok=True)
    path = os.path.join(outdir, "keywords.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print("wrote", os.path.relpath(path, ROOT))


if __name__ == "__main__":
    main()
