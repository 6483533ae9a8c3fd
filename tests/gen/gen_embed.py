#!/usr/bin/python3
"""
gen_embed.py - PyTorch reference for the task `embed` on a plain BERT
checkpoint (tasks/embed, tests/task_sbert.sh): mean-pooled,
attention-masked last hidden states.

Run from the project root with Debian's python3 (it has torch):
    /usr/bin/python3 tests/gen/gen_embed.py

Reads the committed fixture checkpoints data/models/tiny-bert and
tiny-distilbert (safetensors read here directly), tokenizes with the
reference WordPiece port (tests/gen/ref_tokenizer.py), runs the hand-written
PyTorch encoder (tests/gen/torch_ref.py) on the whole padded batch, and
writes data/expected/embed/<model>.jsonl: one {"text", "embedding"} per
line, embedding = sum(h[t] * mask[t]) / sum(mask[t]), as
sentence-transformers' mean pooling does.
"""
import json
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import ref_tokenizer as T  # noqa: E402
import torch_ref as R  # noqa: E402

ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
MODELS = ["tiny-bert", "tiny-distilbert"]
TEXTS = [
    "Hello world.",
    "The quick brown fox jumps over the lazy dog, again and again.",
    "a",
    "Caf\u00e9 prices rose 12% in 2023!",
]


def main():
    outdir = os.path.join(ROOT, "data", "expected", "embed")
    os.makedirs(outdir, exist_ok=True)
    for name in MODELS:
        d = os.path.join(ROOT, "data", "models", name)
        with open(os.path.join(d, "config.json")) as f:
            config = json.load(f)
        state = R.read_safetensors(os.path.join(d, "model.safetensors"))
        vocab = T.load_vocab(os.path.join(d, "vocab.txt"))
        enc = [T.encode(vocab, t)["ids"] for t in TEXTS]
        L = max(len(e) for e in enc)
        ids = [e + [0] * (L - len(e)) for e in enc]
        mask = [[1] * len(e) + [0] * (L - len(e)) for e in enc]
        with torch.no_grad():
            h = R.encoder_forward(state, config, ids, None, mask)   # [B][T][H]
            m = torch.tensor(mask, dtype=torch.float32)[:, :, None]
            emb = (h * m).sum(1) / m.sum(1)                          # [B][H]
        path = os.path.join(outdir, name + ".jsonl")
        with open(path, "w", encoding="utf-8") as f:
            for text, e in zip(TEXTS, emb.tolist()):
                f.write(json.dumps({"text": text, "embedding": e},
                                   ensure_ascii=False) + "\n")
        print("wrote", os.path.relpath(path, ROOT))


if __name__ == "__main__":
    main()
