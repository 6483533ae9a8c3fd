#!/usr/bin/python3
"""gen_f16.py - PyTorch's fp16 copies of checkpoints, for `nlp quantize
--dtype fp16` (tests/check_checkpoint.c).

Writes
  data/models/f16-edge/      the bert-mlm-f32 fixture of data/model-load
                             (config.json and its tensors) plus extra.edge,
                             F32: zeros, the F16 limits, rounding ties,
                             subnormals, infinities, NaNs and random values
                             over every F16 exponent, and extra.bf16, BF16:
                             random finite bit patterns
  data/models/f16-overflow/  the same plus extra.big, holding 65520, the
                             smallest magnitude that rounds to an F16
                             infinity
  data/expected/f16/expected.json
                             for tiny-bert, tiny-distilbert-bf16 and
                             f16-edge: every tensor of the copy that
                             model.half() gives (Tensor.half() of every
                             floating-point tensor, others as they are):
                             dtype, shape and the SHA-256 of its
                             little-endian bytes, and for the extra.*
                             tensors the F16 bits themselves

The expected bytes come from PyTorch's own conversion, never from nlp.

Run from the project root:  /usr/bin/python3 tests/gen/gen_f16.py
Needs PyTorch and numpy (not needed by make check).
"""
import hashlib
import json
import os
import shutil
import struct

import numpy as np
import torch

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "data")
TYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
         "F64": torch.float64, "I8": torch.int8, "I32": torch.int32, "I64": torch.int64}
NAMES = {v: k for k, v in TYPES.items()}


def read_safetensors(path):
    """name -> tensor in its stored dtype."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        raw = bytearray(data[8 + n + a:8 + n + b])
        t = torch.frombuffer(raw, dtype=TYPES[info["dtype"]]) if raw else \
            torch.empty(0, dtype=TYPES[info["dtype"]])
        out[name] = t.reshape(info["shape"])
    return out


def raw_bytes(t):
    t = t.contiguous()
    if t.dtype == torch.bfloat16:
        t = t.view(torch.int16)
    a = t.numpy()
    return a.astype(a.dtype.newbyteorder("<")).tobytes()


def write_safetensors(path, tensors):
    header, blobs, off = {"__metadata__": {"format": "pt"}}, [], 0
    for name in sorted(tensors):
        b = raw_bytes(tensors[name])
        header[name] = {"dtype": NAMES[tensors[name].dtype], "shape": list(tensors[name].shape),
                        "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def f32(bits):
    return torch.from_numpy(np.array(bits, dtype=np.uint32).view(np.float32).copy())


def edge_values(rng):
    """F32 values for every rounding case of F32 -> F16, all below 65520."""
    special = [
        0x00000000, 0x80000000,                 # +-0
        0x477fe000, 0xc77fe000,                 # +-65504, the largest half
        0x477fefff, 0xc77fefff,                 # just below 65520: 65504
        0x477fe001, 0x477ff000 - 0x1000,        # just above 65504
        0x38800000, 0xb8800000,                 # +-2^-14, the smallest normal half
        0x387fffff, 0x387fe000, 0x387ff000,     # rounding up to it, a tie
        0x33800000, 0xb3800000,                 # +-2^-24, the smallest subnormal
        0x33000000, 0x33000001, 0xb3000000,     # 2^-25: a tie to 0, just above, -
        0x32ffffff, 0x32800000, 0x00000001,     # below 2^-25, 2^-26, an F32 subnormal
        0x80000001, 0x007fffff,
        0x33c00000, 0x34200000, 0x34600000,     # 3, 5, 7 * 2^-25: ties between subnormals
        0x3f801000, 0x3f803000, 0x3f801001,     # 1 + 2^-11 (tie down), 1 + 3 * 2^-11 (up)
        0xbf801000, 0xbf803000, 0x3f800fff,
        0x7f800000, 0xff800000,                 # +-inf
        0x7fc00000, 0xffc00000, 0x7fa00001, 0xff812345,  # NaNs, quiet and signalling
    ]
    sign = rng.integers(0, 2, 3000, dtype=np.uint32) << 31
    exp = rng.integers(127 - 27, 127 + 16, 3000, dtype=np.uint32) << 23
    mant = rng.integers(0, 1 << 23, 3000, dtype=np.uint32)
    bits = sign | exp | mant
    bits = bits[(bits & 0x7fffffff) < 0x477ff000]
    return f32(special + [int(b) for b in bits])


def bf16_values(rng):
    bits = rng.integers(0, 1 << 16, 1200, dtype=np.uint32)
    bits = bits[((bits & 0x7fff) < 0x4780) & ((bits & 0x7f80) != 0x7f80)]
    return torch.from_numpy(bits.astype(np.int16)).view(torch.bfloat16)


def make_edge(name, extra):
    d = os.path.join(ROOT, "models", name)
    os.makedirs(d, exist_ok=True)
    src = os.path.join(ROOT, "model-load", "bert-mlm-f32")
    shutil.copy(os.path.join(src, "config.json"), os.path.join(d, "config.json"))
    tensors = read_safetensors(os.path.join(src, "model.safetensors"))
    tensors.update(extra)
    write_safetensors(os.path.join(d, "model.safetensors"), tensors)


def expected(model):
    out = {}
    for name, t in read_safetensors(os.path.join(ROOT, "models", model, "model.safetensors")).items():
        h = t.half() if t.dtype in (torch.float32, torch.bfloat16) else t
        b = raw_bytes(h)
        out[name] = {"dtype": NAMES[h.dtype], "shape": list(h.shape),
                     "sha256": hashlib.sha256(b).hexdigest()}
        if name.startswith("extra."):
            out[name]["f16_bits"] = [int(x) for x in h.view(torch.int16).numpy().view(np.uint16)]
    return out


def main():
    rng = np.random.default_rng(1616)
    edge = {"extra.edge": edge_values(rng), "extra.bf16": bf16_values(rng)}
    make_edge("f16-edge", edge)
    make_edge("f16-overflow", dict(edge, **{"extra.big": f32([0x3f800000, 0x477ff000, 0])}))
    exp = {m: expected(m) for m in ("tiny-bert", "tiny-distilbert-bf16", "f16-edge")}
    d = os.path.join(ROOT, "expected", "f16")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "expected.json"), "w") as f:
        json.dump(exp, f, separators=(",", ":"), sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
