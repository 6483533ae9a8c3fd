#!/usr/bin/python3
"""make_bert_base.py - a bert-base-uncased-sized checkpoint of random F32
weights (BertForMaskedLM names, tied decoder, plus the pooler; 440 MB) for
bench/model_load.c.  Not part of make check.

    /usr/bin/python3 bench/make_bert_base.py /tmp/bert-base-random [F32|F16]
"""
import json
import os
import struct
import sys

import numpy as np

V, H, L, I, P, TV = 30522, 768, 12, 3072, 512, 2


def shapes():
    s = {"bert.embeddings.word_embeddings.weight": (V, H),
         "bert.embeddings.position_embeddings.weight": (P, H),
         "bert.embeddings.token_type_embeddings.weight": (TV, H),
         "bert.embeddings.LayerNorm.weight": (H,), "bert.embeddings.LayerNorm.bias": (H,)}
    for l in range(L):
        b = f"bert.encoder.layer.{l}."
        for n in ("attention.self.query", "attention.self.key", "attention.self.value",
                  "attention.output.dense"):
            s[b + n + ".weight"], s[b + n + ".bias"] = (H, H), (H,)
        s[b + "intermediate.dense.weight"], s[b + "intermediate.dense.bias"] = (I, H), (I,)
        s[b + "output.dense.weight"], s[b + "output.dense.bias"] = (H, I), (H,)
        for n in ("attention.output.LayerNorm", "output.LayerNorm"):
            s[b + n + ".weight"], s[b + n + ".bias"] = (H,), (H,)
    s["bert.pooler.dense.weight"], s["bert.pooler.dense.bias"] = (H, H), (H,)
    s["cls.predictions.transform.dense.weight"] = (H, H)
    s["cls.predictions.transform.dense.bias"] = (H,)
    s["cls.predictions.transform.LayerNorm.weight"] = (H,)
    s["cls.predictions.transform.LayerNorm.bias"] = (H,)
    s["cls.predictions.bias"] = (V,)
    return s


def main(out, dtype="F32"):
    np_dtype, size = ("<f2", 2) if dtype == "F16" else ("<f4", 4)
    os.makedirs(out, exist_ok=True)
    sh = shapes()
    header, off = {}, 0
    for name in sorted(sh):
        n = int(np.prod(sh[name])) * size
        header[name] = {"dtype": dtype, "shape": list(sh[name]), "data_offsets": [off, off + n]}
        off += n
    header["__metadata__"] = {"format": "pt"}
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    rng = np.random.default_rng(0)
    with open(os.path.join(out, "model.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for name in sorted(sh):
            f.write((rng.standard_normal(sh[name], dtype=np.float32) * 0.02).astype(np_dtype).tobytes())
    cfg = {"architectures": ["BertForMaskedLM"], "model_type": "bert", "hidden_size": H,
           "num_hidden_layers": L, "num_attention_heads": 12, "intermediate_size": I,
           "max_position_embeddings": P, "type_vocab_size": TV, "vocab_size": V,
           "hidden_act": "gelu", "layer_norm_eps": 1e-12, "pad_token_id": 0}
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/tmp/bert-base-random",
         sys.argv[2] if len(sys.argv) > 2 else "F32")
