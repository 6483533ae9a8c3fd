#!/usr/bin/python3
"""gen_model_fixtures.py - tiny checkpoints for tests/check_model.c.

Writes data/model-load/<name>/ (config.json + safetensors weights in
Hugging Face's layouts) and data/model-load/expected.json, which holds for
every stored tensor its shape and the IEEE-754 bits of its values as F32,
as PyTorch converts them (Tensor.float() from F16 / BF16).  The loader is
checked against these bits, so the expected values never come from libnlp.

Fixtures (vocab 20, hidden 8, 2 heads, 2 layers, intermediate 12, 16
positions, 2 token types):
  bert-mlm-f32        BertForMaskedLM, "bert." prefix, decoder tied (absent)
  bert-base-f16       BertModel, no prefix, pooler, F16, plus extra.special
  bert-cls-bf16       BertForSequenceClassification, old gamma/beta
                      LayerNorm names, BF16, 3 labels, plus extra.special
  distilbert-mlm-f32  DistilBertForMaskedLM with an untied vocab_projector
  bert-sharded        BertModel split over two shards + index.json

extra.special holds every F16 / BF16 class of value: zeros, subnormals,
normals, infinities, quiet and signalling NaNs, then random bit patterns.

Run from the project root:  /usr/bin/python3 tests/gen/gen_model_fixtures.py
Needs PyTorch and numpy (not needed by make check).
"""
import json
import os
import struct
import sys

import numpy as np
import torch

V, H, NH, L, I, P, TV = 20, 8, 2, 2, 12, 16, 2
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "data", "model-load")

DTYPE_NAME = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16"}


def raw_bytes(t):
    """Little-endian bytes of tensor t (any of the three float dtypes)."""
    t = t.contiguous()
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().astype("<i2").tobytes()
    return t.numpy().astype(t.numpy().dtype.newbyteorder("<")).tobytes()


def write_safetensors(path, tensors):
    """tensors: dict name -> torch tensor.  Header padded to 8 bytes with
    spaces, as the reference writer does."""
    header, blobs, off = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name]
        b = raw_bytes(t)
        header[name] = {"dtype": DTYPE_NAME[t.dtype], "shape": list(t.shape),
                        "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    header["__metadata__"] = {"format": "pt"}
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def f32_bits(t):
    """F32 value bits of t as PyTorch converts it."""
    return [int(x) for x in t.float().contiguous().view(torch.int32).numpy().view(np.uint32).ravel()]


def rnd(*shape, scale=0.5, base=0.0):
    return base + scale * torch.randn(*shape)


def linear(d, name, out, inp):
    d[name + ".weight"] = rnd(out, inp)
    d[name + ".bias"] = rnd(out, scale=0.1)


def layernorm(d, name, old=False):
    g, b = ("gamma", "beta") if old else ("weight", "bias")
    d[f"{name}.{g}"] = rnd(H, scale=0.1, base=1.0)
    d[f"{name}.{b}"] = rnd(H, scale=0.1)


def bert_encoder(prefix="", old_ln=False):
    d = {}
    p = prefix
    d[p + "embeddings.word_embeddings.weight"] = rnd(V, H)
    d[p + "embeddings.position_embeddings.weight"] = rnd(P, H)
    d[p + "embeddings.token_type_embeddings.weight"] = rnd(TV, H)
    layernorm(d, p + "embeddings.LayerNorm", old_ln)
    for l in range(L):
        b = f"{p}encoder.layer.{l}."
        for n in ("query", "key", "value"):
            linear(d, b + "attention.self." + n, H, H)
        linear(d, b + "attention.output.dense", H, H)
        layernorm(d, b + "attention.output.LayerNorm", old_ln)
        linear(d, b + "intermediate.dense", I, H)
        linear(d, b + "output.dense", H, I)
        layernorm(d, b + "output.LayerNorm", old_ln)
    return d


def distilbert_encoder(prefix="distilbert."):
    d = {}
    p = prefix
    d[p + "embeddings.word_embeddings.weight"] = rnd(V, H)
    d[p + "embeddings.position_embeddings.weight"] = rnd(P, H)
    layernorm(d, p + "embeddings.LayerNorm")
    for l in range(L):
        b = f"{p}transformer.layer.{l}."
        for n in ("q_lin", "k_lin", "v_lin", "out_lin"):
            linear(d, b + "attention." + n, H, H)
        layernorm(d, b + "sa_layer_norm")
        linear(d, b + "ffn.lin1", I, H)
        linear(d, b + "ffn.lin2", H, I)
        layernorm(d, b + "output_layer_norm")
    return d


def special_f16():
    fixed = [0x0000, 0x8000, 0x0001, 0x8001, 0x0200, 0x03ff, 0x83ff, 0x0400, 0x8400,
             0x3c00, 0xbc00, 0x3555, 0x7bff, 0xfbff, 0x7c00, 0xfc00, 0x7e00, 0xfe00,
             0x7c01, 0x7d55, 0xfc01, 0x7fff, 0xffff]
    rng = np.random.default_rng(7)
    bits = np.array(fixed + list(rng.integers(0, 65536, 41)), dtype=np.uint16)
    return torch.from_numpy(bits.view(np.float16).copy())


def special_bf16():
    fixed = [0x0000, 0x8000, 0x0001, 0x8001, 0x0040, 0x007f, 0x807f, 0x0080, 0x8080,
             0x3f80, 0xbf80, 0x3eab, 0x7f7f, 0xff7f, 0x7f80, 0xff80, 0x7fc0, 0xffc0,
             0x7f81, 0x7faa, 0xff81, 0x7fff, 0xffff]
    rng = np.random.default_rng(8)
    bits = np.array(fixed + list(rng.integers(0, 65536, 41)), dtype=np.uint16)
    return torch.from_numpy(bits.view(np.int16).copy()).view(torch.bfloat16)


BERT_CFG = {
    "attention_probs_dropout_prob": 0.1, "hidden_act": "gelu", "hidden_dropout_prob": 0.1,
    "hidden_size": H, "initializer_range": 0.02, "intermediate_size": I,
    "layer_norm_eps": 1e-12, "max_position_embeddings": P, "model_type": "bert",
    "num_attention_heads": NH, "num_hidden_layers": L, "pad_token_id": 0,
    "position_embedding_type": "absolute", "type_vocab_size": TV, "vocab_size": V,
}


def save(name, config, tensors, shards=None):
    d = os.path.join(ROOT, name)
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        os.remove(os.path.join(d, f))
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(config, f, indent=2, sort_keys=True)
        f.write("\n")
    if shards is None:
        write_safetensors(os.path.join(d, "model.safetensors"), tensors)
    else:
        weight_map = {}
        for k, names in enumerate(shards):
            fname = f"model-{k + 1:05d}-of-{len(shards):05d}.safetensors"
            write_safetensors(os.path.join(d, fname), {n: tensors[n] for n in names})
            for n in names:
                weight_map[n] = fname
        total = sum(t.numel() * t.element_size() for t in tensors.values())
        with open(os.path.join(d, "model.safetensors.index.json"), "w") as f:
            json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2,
                      sort_keys=True)
            f.write("\n")
    return {n: {"shape": list(t.shape), "bits": f32_bits(t)} for n, t in sorted(tensors.items())}


def main():
    torch.manual_seed(1234)
    expected = {}

    # BertForMaskedLM: prefixed encoder, MLM head, decoder tied (absent)
    t = bert_encoder("bert.")
    linear(t, "cls.predictions.transform.dense", H, H)
    layernorm(t, "cls.predictions.transform.LayerNorm")
    t["cls.predictions.bias"] = rnd(V, scale=0.1)
    cfg = dict(BERT_CFG, architectures=["BertForMaskedLM"])
    expected["bert-mlm-f32"] = save("bert-mlm-f32", cfg, t)

    # BertModel in F16, no prefix, with pooler
    t = bert_encoder("")
    linear(t, "pooler.dense", H, H)
    t = {n: v.half() for n, v in t.items()}
    t["extra.special"] = special_f16()
    cfg = dict(BERT_CFG, architectures=["BertModel"], hidden_act="gelu_new", torch_dtype="float16")
    expected["bert-base-f16"] = save("bert-base-f16", cfg, t)

    # BertForSequenceClassification in BF16 with old LayerNorm names
    t = bert_encoder("bert.", old_ln=True)
    linear(t, "bert.pooler.dense", H, H)
    linear(t, "classifier", 3, H)
    t = {n: v.bfloat16() for n, v in t.items()}
    t["extra.special"] = special_bf16()
    cfg = dict(BERT_CFG, architectures=["BertForSequenceClassification"], torch_dtype="bfloat16",
               id2label={"0": "negative", "1": "neutral", "2": "positive"},
               label2id={"negative": 0, "neutral": 1, "positive": 2},
               problem_type="single_label_classification")
    expected["bert-cls-bf16"] = save("bert-cls-bf16", cfg, t)

    # DistilBertForMaskedLM with an untied projector
    t = distilbert_encoder()
    linear(t, "vocab_transform", H, H)
    layernorm(t, "vocab_layer_norm")
    t["vocab_projector.weight"] = rnd(V, H)
    t["vocab_projector.bias"] = rnd(V, scale=0.1)
    cfg = {"activation": "gelu", "architectures": ["DistilBertForMaskedLM"], "attention_dropout": 0.1,
           "dim": H, "dropout": 0.1, "hidden_dim": I, "initializer_range": 0.02,
           "max_position_embeddings": P, "model_type": "distilbert", "n_heads": NH, "n_layers": L,
           "pad_token_id": 0, "qa_dropout": 0.1, "seq_classif_dropout": 0.2,
           "sinusoidal_pos_embds": False, "vocab_size": V}
    expected["distilbert-mlm-f32"] = save("distilbert-mlm-f32", cfg, t)

    # BertModel over two shards
    t = bert_encoder("")
    linear(t, "pooler.dense", H, H)
    names = sorted(t)
    first = [n for n in names if n.startswith("embeddings.") or n.startswith("encoder.layer.0.")]
    second = [n for n in names if n not in first]
    cfg = dict(BERT_CFG, architectures=["BertModel"])
    expected["bert-sharded"] = save("bert-sharded", cfg, t, shards=[first, second])

    with open(os.path.join(ROOT, "expected.json"), "w") as f:
        json.dump(expected, f, separators=(",", ":"), sort_keys=True)
        f.write("\n")
    print("wrote", ROOT, file=sys.stderr)


if __name__ == "__main__":
    main()
