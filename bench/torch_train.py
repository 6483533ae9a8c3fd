#!/usr/bin/python3
"""bench/torch_train.py - PyTorch 1.13 doing what `nlp bench --train` does.

Masked-LM training steps (forward, backward, clip_grad_norm_(1.0),
torch.optim.AdamW) on the random-weight checkpoint `nlp bench` wrote for a
shape, with the same batch: the ids of `nlp bench` (xorshift64, seed 7,
[CLS] first), 15% of the positions after [CLS] labelled and replaced by
[MASK] (seed 11), dropout 0.1.  The model is Hugging Face's
BertForMaskedLM written out (transformers is not needed): embeddings and
LayerNorm, post-LayerNorm layers with erf GELU, the MLM head (dense, GELU,
LayerNorm, decoder tied to the word embeddings plus a bias), and the loss
as BertForMaskedLM computes it: logits at every position, cross-entropy
with ignore_index -100.  --gather computes the head only at the labelled
positions instead (what nlp does; Hugging Face does not).
OMP_WAIT_POLICY defaults to PASSIVE here (the fastest setting measured
when OpenBLAS's threads share the cores with torch's OpenMP ones).

Prints one JSON object: tokens/s (median step), step times, peak RSS and
the BLAS torch runs on.  Not part of make check.

  bench/torch_train.py MODEL_DIR [--batch-size 16] [--seq-len 128]
                       [--threads 2] [--iters 10] [--warmup 2] [--gather]
"""
import argparse
import json
import math
import os
import resource
import statistics
import struct
import sys
import time


def read_safetensors(path):
    import numpy as np
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
    mm = np.memmap(path, dtype=np.uint8, mode="r")
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        a, b = t["data_offsets"]
        out[name] = np.frombuffer(mm[8 + n + a:8 + n + b], dtype=np.float32).reshape(t["shape"])
    return out


def xorshift_uniform(state):
    """nlp_rand_uniform: the next state and a float in [-1, 1)."""
    m = (1 << 64) - 1
    state ^= (state << 13) & m
    state ^= state >> 7
    state ^= (state << 17) & m
    import numpy as np
    u = np.float32((state >> 40) / float(1 << 24)) * np.float32(2.0) - np.float32(1.0)
    return state, float(u)


def make_batch(B, T, V):
    """The ids and labels `nlp bench --train` uses."""
    import numpy as np
    top = np.float32(V - 1)
    ids, rng = [], 7
    for _ in range(B * T):
        rng, u = xorshift_uniform(rng)
        ids.append(int((np.float32(u) * np.float32(0.5) + np.float32(0.5)) * top))
    labels, rng = [], 11
    for i in range(B * T):
        if i % T == 0:
            ids[i] = 101 % V
        rng, u = xorshift_uniform(rng)
        u = float(np.float32(u) * np.float32(0.5) + np.float32(0.5))
        if i % T == 0 or u >= 0.15:
            labels.append(-100)
        else:
            labels.append(ids[i])
            ids[i] = 103 % V
    return ids, labels


def build(cfg, sd, torch, gather):
    import torch.nn as nn
    import torch.nn.functional as F
    H, L, nh = cfg["hidden_size"], cfg["num_hidden_layers"], cfg["num_attention_heads"]
    I, V, eps = cfg["intermediate_size"], cfg["vocab_size"], cfg.get("layer_norm_eps", 1e-12)
    p = cfg.get("hidden_dropout_prob", 0.1)
    pa = cfg.get("attention_probs_dropout_prob", 0.1)
    dh = H // nh

    def lin(i, o, name=None):
        m = nn.Linear(i, o)
        if name:
            m.weight.data.copy_(torch.from_numpy(sd[name + ".weight"].copy()))
            m.bias.data.copy_(torch.from_numpy(sd[name + ".bias"].copy()))
        else:
            m.weight.data.normal_(0.0, 0.02)
            m.bias.data.zero_()
        return m

    def ln(name=None):
        m = nn.LayerNorm(H, eps=eps)
        if name:
            m.weight.data.copy_(torch.from_numpy(sd[name + ".weight"].copy()))
            m.bias.data.copy_(torch.from_numpy(sd[name + ".bias"].copy()))
        return m

    class Layer(nn.Module):
        def __init__(self, i):
            super().__init__()
            pre = "bert.encoder.layer.%d." % i
            self.q = lin(H, H, pre + "attention.self.query")
            self.k = lin(H, H, pre + "attention.self.key")
            self.v = lin(H, H, pre + "attention.self.value")
            self.o = lin(H, H, pre + "attention.output.dense")
            self.ln1 = ln(pre + "attention.output.LayerNorm")
            self.ff1 = lin(H, I, pre + "intermediate.dense")
            self.ff2 = lin(I, H, pre + "output.dense")
            self.ln2 = ln(pre + "output.LayerNorm")

        def forward(self, x, ext_mask):
            B, T, _ = x.shape

            def heads(t):
                return t.view(B, T, nh, dh).permute(0, 2, 1, 3)
            q, k, v = heads(self.q(x)), heads(self.k(x)), heads(self.v(x))
            s = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(dh) + ext_mask
            pr = F.dropout(F.softmax(s, dim=-1), pa, self.training)
            c = torch.matmul(pr, v).permute(0, 2, 1, 3).reshape(B, T, H)
            a = self.ln1(F.dropout(self.o(c), p, self.training) + x)
            f = self.ff2(F.gelu(self.ff1(a)))
            return self.ln2(F.dropout(f, p, self.training) + a)

    class MLM(nn.Module):
        def __init__(self):
            super().__init__()
            self.word = nn.Embedding(V, H)
            self.word.weight.data.copy_(torch.from_numpy(
                sd["bert.embeddings.word_embeddings.weight"].copy()))
            self.pos = nn.Embedding(cfg["max_position_embeddings"], H)
            self.pos.weight.data.copy_(torch.from_numpy(
                sd["bert.embeddings.position_embeddings.weight"].copy()))
            self.typ = nn.Embedding(cfg["type_vocab_size"], H)
            self.typ.weight.data.copy_(torch.from_numpy(
                sd["bert.embeddings.token_type_embeddings.weight"].copy()))
            self.eln = ln("bert.embeddings.LayerNorm")
            self.layers = nn.ModuleList([Layer(i) for i in range(L)])
            self.t_dense = lin(H, H)
            self.t_ln = ln()
            self.bias = nn.Parameter(torch.zeros(V))

        def forward(self, ids, mask, labels):
            B, T = ids.shape
            pos = torch.arange(T).unsqueeze(0)
            x = self.word(ids) + self.typ(torch.zeros_like(ids)) + self.pos(pos)
            x = F.dropout(self.eln(x), p, self.training)
            ext = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
            for layer in self.layers:
                x = layer(x, ext)
            x = x.reshape(B * T, H)
            lab = labels.reshape(-1)
            if gather:
                keep = (lab != -100).nonzero().squeeze(1)
                x, lab = x.index_select(0, keep), lab.index_select(0, keep)
            h = self.t_ln(F.gelu(self.t_dense(x)))
            logits = F.linear(h, self.word.weight, self.bias)      # tied decoder
            return F.cross_entropy(logits, lab, ignore_index=-100)

    return MLM()


def blas_name(torch):
    """The BLAS library mapped into this process, and torch's build info."""
    a = torch.randn(64, 64)
    (a @ a).sum()
    libs = sorted({l.split()[-1] for l in open("/proc/self/maps")
                   if "blas" in l.lower() and l.split()[-1].startswith("/")})
    info = [w for w in torch.__config__.show().replace(",", " ").split() if w.startswith("BLAS_INFO")]
    return " ".join(info + [os.path.realpath(x) for x in libs][:1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model_dir")
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--seq-len", type=int, default=128)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--iters", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--gather", action="store_true")
    a = ap.parse_args()
    os.environ.setdefault("OPENBLAS_NUM_THREADS", str(a.threads))
    # torch's OpenMP workers and OpenBLAS's threads share the cores: with
    # OpenMP's default spinning, steps ran 1.4-2x slower on 2 vCPUs
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import torch
    torch.set_num_threads(a.threads)
    torch.manual_seed(42)
    cfg = json.load(open(os.path.join(a.model_dir, "config.json")))
    if cfg.get("model_type") != "bert":
        raise SystemExit("torch_train.py: only BERT checkpoints")
    sd = read_safetensors(os.path.join(a.model_dir, "model.safetensors"))
    model = build(cfg, sd, torch, a.gather)
    del sd
    model.train()
    B, T = a.batch_size, a.seq_len
    ids, labels = make_batch(B, T, cfg["vocab_size"])
    ids = torch.tensor(ids, dtype=torch.long).view(B, T)
    labels = torch.tensor(labels, dtype=torch.long).view(B, T)
    mask = torch.ones(B, T, dtype=torch.long)
    decay = [p for n, p in model.named_parameters() if not (n.endswith("bias") or "ln" in n)]
    nodecay = [p for n, p in model.named_parameters() if n.endswith("bias") or "ln" in n]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01},
                             {"params": nodecay, "weight_decay": 0.0}], lr=5e-5)
    steps, fb, op, losses = [], [], [], []
    for i in range(a.warmup + a.iters):
        t0 = time.perf_counter()
        loss = model(ids, mask, labels)
        loss.backward()
        t1 = time.perf_counter()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=False)
        t2 = time.perf_counter()
        losses.append(float(loss))
        if i >= a.warmup:
            steps.append(t2 - t0)
            fb.append(t1 - t0)
            op.append(t2 - t1)
    med = statistics.median(steps)
    print(json.dumps({
        "engine": "torch", "torch": torch.__version__, "blas": blas_name(torch),
        "threads": torch.get_num_threads(), "batch_size": B, "seq_len": T,
        "masked": int((labels != -100).sum()), "gather": a.gather,
        "tokens_per_s": B * T / med, "median_ms": med * 1e3, "min_ms": min(steps) * 1e3,
        "max_ms": max(steps) * 1e3, "fwd_bwd_ms": statistics.median(fb) * 1e3,
        "optimizer_ms": statistics.median(op) * 1e3, "loss_first": losses[0],
        "loss_last": losses[-1],
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}))


if __name__ == "__main__":
    sys.exit(main())
