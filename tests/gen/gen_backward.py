#!/usr/bin/python3
"""
gen_backward.py - PyTorch autograd references for the backward pass
(tests/check_backward.c).

Run from the project root with Debian's python3 (it has torch):
    /usr/bin/python3 tests/gen/gen_backward.py

Writes data/expected/backward/:
  functions.safetensors   one group of tensors per building block
                          ("<case>.<name>"): random inputs, a random
                          upstream gradient, and autograd's outputs and
                          input / parameter gradients (dropout off)
  <case>.safetensors      whole models on fixture checkpoints: the batch
                          ("in.ids", "in.type_ids", "in.lengths",
                          "in.labels" / "in.targets" / "in.start" /
                          "in.end"), "loss" and "grad.<HF name>" for every
                          parameter of the model and its head
  manifest.json           the model cases: checkpoint, task, B, T, and for
                          the dropout cases the probabilities and seed

Dropout cases: the trainer's dropout is a pure function of (seed, stream,
index) (nlp/train.h; core/nn/backward.h), so the keep masks are rebuilt
here from that definition (splitmix64 mixing, the stream and index
numbering of the trainer) and multiplied into the PyTorch forward at
Hugging Face's dropout sites; autograd then gives the gradients.

The model math is torch_ref.py's (Hugging Face's structure written out in
torch.nn.functional, padded positions computed and masked with
finfo.min); losses are torch's CrossEntropyLoss (ignore_index -100, or
the sequence length for QA spans, as Hugging Face clamps them),
BCEWithLogitsLoss (multi-label), MSELoss (one label) and the mean over
both QA ends.  Fixed seeds throughout.
"""
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_ref as R  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MODELS = os.path.join(ROOT, "data", "models")
OUT = os.path.join(ROOT, "data", "expected", "backward")

g = torch.Generator().manual_seed(1234)


def randn(*shape, scale=1.0):
    return torch.randn(*shape, generator=g) * scale


def leaf(t):
    return t.clone().detach().requires_grad_(True)


# ---------------------------------------------------------------- functions


def functions():
    out = {}

    def put(case, **kw):
        for k, v in kw.items():
            t = v.detach()
            out["%s.%s" % (case, k)] = t.to(torch.int32) if t.dtype in (torch.int64, torch.int32) \
                else t.float().contiguous()

    # LayerNorm over [N][H]
    N, H = 5, 48
    x, gm, b = leaf(randn(N, H, scale=2.0) + 0.5), leaf(1 + randn(H, scale=0.1)), leaf(randn(H, scale=0.1))
    y = F.layer_norm(x, (H,), gm, b, 1e-12)
    dy = randn(N, H)
    y.backward(dy)
    put("layernorm", x=x, g=gm, b=b, dy=dy, dx=x.grad, dg=gm.grad, db=b.grad)

    # activations over 1000 values (x spread over [-6, 6])
    for name, fn in (("gelu", lambda t: F.gelu(t)),
                     ("gelu_tanh", lambda t: R._act(t, "gelu_new")),
                     ("relu", F.relu)):
        x = leaf(randn(1000, scale=2.5))
        dy = randn(1000)
        fn(x).backward(dy)
        put(name, x=x, dy=dy, dx=x.grad)

    # softmax rows
    x = leaf(randn(4, 9, scale=2.0))
    p = torch.softmax(x, -1)
    dy = randn(4, 9)
    p.backward(dy)
    put("softmax", p=p, dy=dy, dx=x.grad)

    # linear y = x W^T + b
    x, W, bb = leaf(randn(7, 13)), leaf(randn(11, 13, scale=0.3)), leaf(randn(11))
    y = F.linear(x, W, bb)
    dy = randn(7, 11)
    y.backward(dy)
    put("linear", x=x, W=W, b=bb, dy=dy, dx=x.grad, dW=W.grad, db=bb.grad)

    # masked multi-head attention over packed rows; "full" keeps the
    # padded query rows too (their keys are still masked)
    B, T, H, nh = 3, 6, 12, 3
    dh = H // nh
    lengths = torch.tensor([6, 3, 1])
    for mode in ("packed", "full"):
        qkv_pad = leaf(randn(B, T, 3 * H))
        mask = (torch.arange(T)[None, :] < lengths[:, None]).float()
        addm = (1.0 - mask[:, None, None, :]) * torch.finfo(torch.float32).min
        q, k, v = qkv_pad.split(H, dim=-1)
        heads = lambda t: t.reshape(B, T, nh, dh).transpose(1, 2)
        s = heads(q) @ heads(k).transpose(-1, -2) / math.sqrt(dh) + addm
        ctx = (torch.softmax(s, -1) @ heads(v)).transpose(1, 2).reshape(B, T, H)
        rows = lengths if mode == "packed" else torch.full((B,), T)
        sel = torch.cat([torch.arange(int(r)) + b * T for b, r in enumerate(rows)])
        dctx = randn(len(sel), H)
        ctx.reshape(B * T, H)[sel].backward(dctx)
        put("attention_" + mode, lengths=lengths, rows=rows,
            qkv=qkv_pad.reshape(B * T, 3 * H)[sel], out=ctx.reshape(B * T, H)[sel],
            dout=dctx, dqkv=qkv_pad.grad.reshape(B * T, 3 * H)[sel])

    # embeddings: gradient scattered into the rows used (repeated ids)
    V, P, TV, B, T, H = 20, 10, 2, 3, 5, 8
    ids = torch.randint(0, 6, (B, T), generator=g)
    tt = torch.randint(0, TV, (B, T), generator=g)
    lengths = torch.tensor([5, 2, 4])
    We, Pe, Te = leaf(randn(V, H)), leaf(randn(P, H)), leaf(randn(TV, H))
    x = We[ids] + Pe[torch.arange(T)][None] + Te[tt]
    sel = torch.cat([torch.arange(int(r)) + b * T for b, r in enumerate(lengths)])
    dx = randn(len(sel), H)
    x.reshape(B * T, H)[sel].backward(dx)
    put("embeddings", ids=ids, type_ids=tt, lengths=lengths, dx=dx,
        dword=We.grad, dpos=Pe.grad, dtype=Te.grad)

    # losses
    logits = leaf(randn(6, 10, scale=3.0))
    labels = torch.tensor([3, -100, 0, 9, -100, 5])
    loss = F.cross_entropy(logits, labels, ignore_index=-100)
    loss.backward()
    put("cross_entropy", logits=logits, labels=labels, loss=loss.reshape(1), dlogits=logits.grad)
    x = leaf(randn(4, 3, scale=3.0))
    y = (torch.rand(4, 3, generator=g) > 0.5).float()
    loss = F.binary_cross_entropy_with_logits(x, y)
    loss.backward()
    put("bce", x=x, y=y, loss=loss.reshape(1), dx=x.grad)
    x = leaf(randn(5))
    y = randn(5)
    loss = F.mse_loss(x, y)
    loss.backward()
    put("mse", x=x, y=y, loss=loss.reshape(1), dx=x.grad)

    # MLM head on its own: rows [M][H], vocab V, tied decoder
    M, H, V = 5, 16, 30
    rows = leaf(randn(M, H))
    dw, db_, lg, lb = leaf(randn(H, H, scale=0.3)), leaf(randn(H, scale=0.1)), \
        leaf(1 + randn(H, scale=0.1)), leaf(randn(H, scale=0.1))
    dec, bias = leaf(randn(V, H, scale=0.5)), leaf(randn(V, scale=0.1))
    t = F.layer_norm(F.gelu(F.linear(rows, dw, db_)), (H,), lg, lb, 1e-12)
    logits = F.linear(t, dec, bias)
    dl = randn(M, V)
    logits.backward(dl)
    put("mlm_head", rows=rows, dense_w=dw, dense_b=db_, ln_g=lg, ln_b=lb, dec_w=dec,
        dec_b=bias, logits=logits, dlogits=dl, drows=rows.grad, d_dense_w=dw.grad,
        d_dense_b=db_.grad, d_ln_g=lg.grad, d_ln_b=lb.grad, d_dec_w=dec.grad,
        d_dec_b=bias.grad)
    return out


# ---------------------------------------------------------------- dropout masks

M64 = (1 << 64) - 1


def mix64(z):
    """splitmix64's finaliser over uint64 arrays (wrapping arithmetic)."""
    z = np.asarray(z, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xbf58476d1ce4e5b9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94d049bb133111eb)
    return z ^ (z >> np.uint64(31))


def keep_scale(p, seed, stream, index):
    """The dropout multiplier (0 or 1/(1-p)) of each index of a stream:
    kept when mix64(mix64(seed ^ mix64(stream + golden)) + index) >> 32 is
    at least p * 2^32, p taken as a float32."""
    p32 = float(np.float32(p))
    golden = 0x9e3779b97f4a7c15
    key = int(mix64(np.uint64((stream + golden) & M64)))
    base = int(mix64(np.uint64(seed ^ key)))
    idx = np.asarray(index, dtype=np.uint64)
    with np.errstate(over="ignore"):
        h = mix64(np.uint64(base) + idx)
    keep = (h >> np.uint64(32)) >= np.uint64(int(p32 * 4294967296.0))
    return torch.from_numpy(np.where(keep, 1.0 / np.float32(1.0 - p32), 0.0).astype(np.float32))


def stream(micro, site):
    return (micro << 32) | (site << 20)


def hidden_mask(p, seed, st, rows, B, T, H):
    """[B][T][H] multipliers for dropout over packed rows (row offs[b] + t,
    index row * H + j); positions without a row get 1."""
    out = torch.ones(B, T, H)
    off = 0
    for b in range(B):
        r = int(rows[b])
        idx = (np.arange(off, off + r)[:, None] * H + np.arange(H)[None, :])
        out[b, :r] = keep_scale(p, seed, st, idx)
        off += r
    return out


def attention_mask(p, seed, st, rows, klen, B, T, nh):
    """[B][nh][T][T] multipliers on the probabilities: sub-stream b nh + h,
    index i T + k."""
    out = torch.ones(B, nh, T, T)
    for b in range(B):
        for h in range(nh):
            r, L = int(rows[b]), int(klen[b])
            idx = np.arange(r)[:, None] * T + np.arange(L)[None, :]
            out[b, h, :r, :L] = keep_scale(p, seed, st + b * nh + h, idx)
    return out


def encoder_with_dropout(state, config, ids, tt, lengths, p_hid, p_att, seed):
    """The encoder with Hugging Face's dropout sites, masks from the
    trainer's generator (first micro-batch): embeddings after their
    LayerNorm, attention probabilities, the attention output dense (BERT
    only) and the feed-forward output.  Rows are the real tokens."""
    V, H, L, nh, I, P, TV, eps, act = R._dims(config)
    distil = R._is_distil(config)
    B, T = ids.shape
    dh = H // nh
    G = lambda n: R._get(state, config, n)
    mask = (torch.arange(T)[None, :] < lengths[:, None]).long()
    rows = lengths
    x = F.embedding(ids, G("embeddings.word_embeddings.weight"))
    x = x + G("embeddings.position_embeddings.weight")[:T][None]
    if not distil:
        x = x + F.embedding(tt, G("embeddings.token_type_embeddings.weight"))
    x = F.layer_norm(x, (H,), G("embeddings.LayerNorm.weight"), G("embeddings.LayerNorm.bias"), eps)
    x = x * hidden_mask(p_hid, seed, stream(0, 0), rows, B, T, H)
    addm = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
    heads = lambda t: t.view(B, T, nh, dh).transpose(1, 2)
    for l in range(L):
        site = 2 + 3 * l
        if distil:
            p = "transformer.layer.%d." % l
            n = ("attention.q_lin", "attention.k_lin", "attention.v_lin", "attention.out_lin",
                 "sa_layer_norm", "ffn.lin1", "ffn.lin2", "output_layer_norm")
        else:
            p = "encoder.layer.%d." % l
            n = ("attention.self.query", "attention.self.key", "attention.self.value",
                 "attention.output.dense", "attention.output.LayerNorm", "intermediate.dense",
                 "output.dense", "output.LayerNorm")
        lin = lambda t, k: F.linear(t, G(p + n[k] + ".weight"), G(p + n[k] + ".bias"))
        s = heads(lin(x, 0)) @ heads(lin(x, 1)).transpose(-1, -2) / (dh ** 0.5) + addm
        probs = torch.softmax(s, -1) * attention_mask(p_att, seed, stream(0, site), rows, rows,
                                                      B, T, nh)
        ctx = (probs @ heads(lin(x, 2))).transpose(1, 2).reshape(B, T, H)
        o = lin(ctx, 3)
        if not distil:
            o = o * hidden_mask(p_hid, seed, stream(0, site + 1), rows, B, T, H)
        a = F.layer_norm(o + x, (H,), G(p + n[4] + ".weight"), G(p + n[4] + ".bias"), eps)
        f = lin(R._act(lin(a, 5), act), 6) * hidden_mask(p_hid, seed, stream(0, site + 2),
                                                        rows, B, T, H)
        x = F.layer_norm(f + a, (H,), G(p + n[7] + ".weight"), G(p + n[7] + ".bias"), eps)
    return x


# ---------------------------------------------------------------- models

# case, checkpoint, task, B, T, lengths, seed
CASES = [
    ("bert_mlm", "tiny-bert", "mlm", 3, 8, [8, 5, 3], 1),
    ("bert_gelu_new_mlm", "tiny-bert-gelu-new", "mlm", 2, 7, [7, 4], 2),
    ("bert_relu_mlm", "tiny-bert-relu-f16", "mlm", 2, 6, [6, 3], 3),
    ("distilbert_mlm", "tiny-distilbert", "mlm", 3, 8, [8, 6, 2], 4),
    ("bert_seq_cls", "tiny-bert-sst2", "seq_cls", 3, 8, [8, 5, 2], 5),
    ("bert_multilabel", "tiny-bert-multilabel", "seq_cls", 3, 6, [6, 4, 3], 6),
    ("distilbert_seq_cls", "tiny-distilbert-sst2", "seq_cls", 3, 8, [8, 5, 2], 7),
    ("distilbert_regression", "tiny-distilbert-1label", "seq_cls", 3, 8, [8, 6, 4], 14),
    ("bert_token_cls", "ner-bert", "token_cls", 2, 9, [9, 5], 8),
    ("distilbert_token_cls", "ner-distilbert", "token_cls", 2, 9, [9, 6], 9),
    ("bert_qa", "qa-bert", "qa", 3, 10, [10, 7, 5], 10),
    ("distilbert_qa", "qa-distilbert", "qa", 2, 10, [10, 6], 11),
]

# case, checkpoint, task, B, T, lengths, data seed, (hidden, attention,
# classifier) dropout, dropout seed
DROPOUT_CASES = [
    ("bert_mlm_dropout", "tiny-bert", "mlm", 3, 8, [8, 5, 3], 12, (0.1, 0.1, 0.0), 42),
    ("distilbert_seq_cls_dropout", "tiny-distilbert-sst2", "seq_cls", 3, 8, [8, 5, 2], 13,
     (0.1, 0.15, 0.2), 7),
]


def dropout_case(model, task, B, T, lengths, seed, probs, dseed):
    d = os.path.join(MODELS, model)
    config = json.load(open(os.path.join(d, "config.json")))
    state = {k: leaf(v) for k, v in R.read_safetensors(os.path.join(d, "model.safetensors")).items()}
    distil = config["model_type"] == "distilbert"
    V, H = config["vocab_size"], R._dims(config)[1]
    gen = torch.Generator().manual_seed(seed)
    lengths = torch.tensor(lengths)
    mask = (torch.arange(T)[None, :] < lengths[:, None]).long()
    ids = torch.randint(5, V, (B, T), generator=gen) * mask
    ids[:, 0] = 2
    tt = torch.zeros(B, T, dtype=torch.long)
    if not distil:
        tt = (torch.arange(T)[None, :] >= (lengths[:, None] // 2)).long() * mask
    hidden = encoder_with_dropout(state, config, ids, tt, lengths, probs[0], probs[1], dseed)
    tens = {"in.ids": ids, "in.type_ids": tt, "in.lengths": lengths}
    if task == "mlm":
        pick = (torch.rand(B, T, generator=gen) < 0.35) & mask.bool()
        labels = torch.where(pick, torch.randint(0, V, (B, T), generator=gen),
                             torch.full((B, T), -100))
        logits = R.mlm_logits(state, config, hidden)
        loss = F.cross_entropy(logits.reshape(-1, V), labels.reshape(-1), ignore_index=-100)
    else:
        # DistilBERT: pre_classifier, ReLU, dropout (head stream, index b H + j), classifier
        pre = F.relu(F.linear(hidden[:, 0], state["pre_classifier.weight"],
                              state["pre_classifier.bias"]))
        idx = np.arange(B)[:, None] * H + np.arange(H)[None, :]
        pre = pre * keep_scale(probs[2], dseed, stream(0, 1), idx)
        logits = F.linear(pre, state["classifier.weight"], state["classifier.bias"])
        labels = torch.randint(0, logits.shape[-1], (B,), generator=gen)
        loss = F.cross_entropy(logits, labels)
    tens["in.labels"] = labels
    loss.backward()
    tens["loss"] = loss.detach().reshape(1)
    for k, v in state.items():
        tens["grad." + k] = v.grad if v.grad is not None else torch.zeros_like(v)
    return {k: (v.to(torch.int32) if v.dtype == torch.int64 else v.detach().float().contiguous())
            for k, v in tens.items()}


def model_case(name, model, task, B, T, lengths, seed):
    d = os.path.join(MODELS, model)
    config = json.load(open(os.path.join(d, "config.json")))
    state = {k: leaf(v) for k, v in R.read_safetensors(os.path.join(d, "model.safetensors")).items()}
    distil = config["model_type"] == "distilbert"
    V = config["vocab_size"]
    gen = torch.Generator().manual_seed(seed)
    lengths = torch.tensor(lengths)
    mask = (torch.arange(T)[None, :] < lengths[:, None]).long()
    ids = torch.randint(5, V, (B, T), generator=gen) * mask      # padding id 0
    ids[:, 0] = 2                                                # [CLS]
    tt = torch.zeros(B, T, dtype=torch.long)
    if not distil:
        tt = (torch.arange(T)[None, :] >= (lengths[:, None] // 2)).long() * mask
    hidden = R.encoder_forward(state, config, ids, None if distil else tt, mask)
    tens = {"in.ids": ids, "in.type_ids": tt, "in.lengths": lengths}
    if task == "mlm":
        pick = (torch.rand(B, T, generator=gen) < 0.35) & mask.bool()
        pick[0, 1] = True
        labels = torch.where(pick, torch.randint(0, V, (B, T), generator=gen),
                             torch.full((B, T), -100))
        logits = R.mlm_logits(state, config, hidden)
        loss = F.cross_entropy(logits.reshape(-1, V), labels.reshape(-1), ignore_index=-100)
        tens["in.labels"] = labels
    elif task == "seq_cls":
        logits = R.seq_cls_logits(state, config, hidden)
        C = logits.shape[-1]
        if C == 1:
            # one label: regression, MSELoss over the squeezed logits
            targets = torch.randn(B, generator=gen)
            loss = F.mse_loss(logits.squeeze(), targets.squeeze())
            tens["in.targets"] = targets
        elif config.get("problem_type") == "multi_label_classification":
            targets = (torch.rand(B, C, generator=gen) > 0.5).float()
            loss = F.binary_cross_entropy_with_logits(logits, targets)
            tens["in.targets"] = targets
        else:
            labels = torch.randint(0, C, (B,), generator=gen)
            loss = F.cross_entropy(logits, labels)
            tens["in.labels"] = labels
    elif task == "token_cls":
        logits = R.token_cls_logits(state, config, hidden)
        C = logits.shape[-1]
        labels = torch.randint(0, C, (B, T), generator=gen)
        labels = torch.where(mask.bool(), labels, torch.full((B, T), -100))
        labels[0, 0] = -100                                      # [CLS] ignored, as HF aligns
        loss = F.cross_entropy(logits.reshape(-1, C), labels.reshape(-1), ignore_index=-100)
        tens["in.labels"] = labels
    else:
        s, e = R.qa_logits(state, config, hidden)
        start = torch.randint(0, T, (B,), generator=gen)
        end = torch.randint(0, T, (B,), generator=gen)
        end[-1] = T + 3                                          # out of range: ignored
        cs, ce = start.clamp(0, T), end.clamp(0, T)
        loss = (F.cross_entropy(s, cs, ignore_index=T) + F.cross_entropy(e, ce, ignore_index=T)) / 2
        tens["in.start"] = start
        tens["in.end"] = end
    loss.backward()
    tens["loss"] = loss.detach().reshape(1)
    for k, v in state.items():
        tens["grad." + k] = v.grad if v.grad is not None else torch.zeros_like(v)
    return {k: (v.to(torch.int32) if v.dtype == torch.int64 else v.detach().float().contiguous())
            for k, v in tens.items()}


def main():
    os.makedirs(OUT, exist_ok=True)
    R.write_safetensors(os.path.join(OUT, "functions.safetensors"), functions())
    manifest = []
    for name, model, task, B, T, lengths, seed in CASES:
        R.write_safetensors(os.path.join(OUT, name + ".safetensors"),
                            model_case(name, model, task, B, T, lengths, seed))
        manifest.append({"case": name, "model": model, "task": task, "B": B, "T": T})
    for name, model, task, B, T, lengths, seed, probs, dseed in DROPOUT_CASES:
        R.write_safetensors(os.path.join(OUT, name + ".safetensors"),
                            dropout_case(model, task, B, T, lengths, seed, probs, dseed))
        manifest.append({"case": name, "model": model, "task": task, "B": B, "T": T,
                         "hidden_dropout": probs[0], "attention_dropout": probs[1],
                         "classifier_dropout": probs[2], "seed": dseed})
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
