#!/usr/bin/python3
"""
tests/gen/gen_trained_sst2.py - a small TRAINED BERT, and PyTorch's outputs
for it, for the int8 / bf16 accuracy checks (tests/check_int8.c).

The random-weight fixtures give nearly flat logits, so whether int8 keeps a
prediction there mostly measures ties.  This script trains a tiny BERT
(6000-token vocab from bert-base-uncased, hidden 96, 2 layers, 3 heads,
intermediate 384) with PyTorch on SST-2's training sentences, jointly as a
masked LM (15% of tokens, BERT's 80/10/10 rule) and as a sentiment
classifier over the pooler, then writes

  data/models/trained-sst2/       the checkpoint (F16 safetensors, HF names
                                  and files, both heads)
  data/expected/int8/trained-sst2.json
      one entry per SST-2 dev sentence, in file order:
        "cls":  PyTorch's two logits,
        "pos":  the token position masked for the fill-mask check (the
                middle real token; -1 when the sentence has fewer than 3),
        "top":  PyTorch's top-1 token at pos with that token masked,
        "margin": its lead over the second token (logits)
      plus the dev accuracy.  No text or token ids are stored: the test
      reads the sentences from ../shared/data/sst2/dev.tsv and tokenises
      them itself (its tokenizer is checked against Hugging Face's
      elsewhere); this script tokenises with tests/gen/ref_tokenizer.py.

Run from the project root with Debian's python3 (torch 1.13):
  /usr/bin/python3 tests/gen/gen_trained_sst2.py [--steps 2500] [--batch 32]
Training takes about 12 minutes on 2 cores with OpenBLAS behind torch
(Debian's python3-torch uses whatever libblas.so.3 provides; install
libopenblas0-pthread, the reference BLAS is many times slower); the
weights depend on torch's
RNG, so rerunning changes both the checkpoint and the expected file
together.
"""
import argparse
import json
import math
import os
import random
import sys
import time

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import ref_tokenizer as rt  # noqa: E402
import torch_ref as tr      # noqa: E402

ROOT = os.path.dirname(os.path.dirname(HERE))
SHARED = os.path.join(ROOT, "..", "shared", "data")
MAXLEN = 64


def read_sst2(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        next(f)
        for line in f:
            text, label = line.rstrip("\n").rsplit("\t", 1)
            rows.append((text, int(label)))
    return rows


def encode_all(vocab, rows, maxlen):
    """ids with [CLS] / [SEP]; training rows cut to maxlen tokens (the
    dev rows, maxlen None, are never cut: all fit the 128 positions)."""
    out = []
    for text, label in rows:
        ids = rt.encode(vocab, text)["ids"]
        if maxlen and len(ids) > maxlen:
            ids = ids[:maxlen - 1] + [ids[-1]]
        out.append((ids, label))
    return out


def init_state(config):
    """HF's initialisation: N(0, 0.02) matrices, zero biases, unit gains."""
    state = tr.random_state(config, "bert", 0, heads=("pooler", "mlm", "seq_cls"))
    g = torch.Generator().manual_seed(1234)
    out = {}
    for k, v in state.items():
        if k.endswith("LayerNorm.weight"):
            t = torch.ones_like(v)
        elif k.endswith("bias"):
            t = torch.zeros_like(v)
        else:
            t = torch.randn(v.shape, generator=g) * 0.02
        out[k] = t.requires_grad_(True)
    return out


def pad(batch):
    T = max(len(ids) for ids, _ in batch)
    ids = torch.zeros(len(batch), T, dtype=torch.long)
    mask = torch.zeros(len(batch), T, dtype=torch.long)
    for i, (row, _) in enumerate(batch):
        ids[i, :len(row)] = torch.tensor(row)
        mask[i, :len(row)] = 1
    return ids, mask


def mask_tokens(ids, mask, V, mask_id, first_word, g):
    """BERT's MLM corruption over real, non-special tokens."""
    special = (ids < first_word) | (mask == 0)
    pick = (torch.rand(ids.shape, generator=g) < 0.15) & ~special
    labels = torch.where(pick, ids, torch.full_like(ids, -100))
    r = torch.rand(ids.shape, generator=g)
    inp = ids.clone()
    inp[pick & (r < 0.8)] = mask_id
    rnd = pick & (r >= 0.8) & (r < 0.9)
    inp[rnd] = torch.randint(first_word, V, (int(rnd.sum()),), generator=g)
    return inp, labels


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=2500)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--expected-only", action="store_true",
                    help="keep data/models/trained-sst2 and only recompute the expected file")
    args = ap.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(2)
    random.seed(0)

    vocab = tr.make_vocab(os.path.join(SHARED, "vocab", "bert-base-uncased", "vocab.txt"), 6000)
    V = len(vocab)
    mask_id = vocab.index("[MASK]")
    first_word = len(tr.SPECIALS)
    config = tr.bert_config(V, hidden=96, layers=2, heads=3, intermediate=384,
                            max_pos=128, architectures=("BertForSequenceClassification",),
                            labels=["NEGATIVE", "POSITIVE"])
    dev = encode_all(vocab, read_sst2(os.path.join(SHARED, "sst2", "dev.tsv")), None)
    model_dir = os.path.join(ROOT, "data", "models", "trained-sst2")
    if args.expected_only:
        with open(os.path.join(model_dir, "config.json")) as f:
            config = json.load(f)
        ref = tr.read_safetensors(os.path.join(model_dir, "model.safetensors"))
    else:
        ref = train_model(args, config, vocab, V, mask_id, first_word, model_dir)
    write_expected(config, ref, dev, mask_id)


def train_model(args, config, vocab, V, mask_id, first_word, model_dir):
    """Train, write the checkpoint, return its weights as the C side reads
    them (rounded to F16)."""
    train = encode_all(vocab, read_sst2(os.path.join(SHARED, "sst2", "train.tsv")), MAXLEN)
    print("train %d sentences, vocab %d" % (len(train), V), flush=True)

    state = init_state(config)
    opt = torch.optim.AdamW(list(state.values()), lr=1e-3, weight_decay=0.01)
    warm = args.steps // 20
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warm) * max(0.0, (args.steps - s) / args.steps))
    g = torch.Generator().manual_seed(5)
    t0 = time.time()
    order = list(range(len(train)))
    pos = len(order)
    for step in range(args.steps):
        if pos + args.batch > len(order):
            random.shuffle(order)
            pos = 0
        batch = [train[i] for i in order[pos:pos + args.batch]]
        pos += args.batch
        ids, mask = pad(batch)
        labels = torch.tensor([lab for _, lab in batch])
        inp, mlm_labels = mask_tokens(ids, mask, V, mask_id, first_word, g)
        hidden = tr.encoder_forward(state, config, inp, attention_mask=mask)
        sel = mlm_labels != -100
        mlm = F.cross_entropy(tr.mlm_logits(state, config, hidden[sel]), mlm_labels[sel])
        # one pass for both heads: the classifier learns from the corrupted
        # sentence (the masking acts as noise; evaluation uses clean text)
        cls = F.cross_entropy(tr.seq_cls_logits(state, config, hidden), labels)
        loss = mlm + cls
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(list(state.values()), 1.0)
        opt.step()
        sched.step()
        if step % 100 == 0 or step == args.steps - 1:
            print("step %d  mlm %.3f  cls %.3f  %.0f s" % (step, mlm.item(), cls.item(),
                                                          time.time() - t0), flush=True)

    final = {k: v.detach() for k, v in state.items()}
    tr.write_checkpoint(model_dir, config, final, vocab, dtype="F16",
                        tokenizer_config={"model_max_length": 128})
    return tr.round_state(final, "F16")


def write_expected(config, ref, dev, mask_id):
    entries, correct = [], 0
    with torch.no_grad():
        for (ids, label) in dev:
            x = torch.tensor([ids])
            h = tr.encoder_forward(ref, config, x)
            logits = tr.seq_cls_logits(ref, config, h)[0]
            correct += int(int(torch.argmax(logits)) == label)
            e = {"cls": [float(v) for v in logits]}
            n_real = len(ids) - 2
            if n_real >= 3:
                p = 1 + n_real // 2
                xm = x.clone()
                xm[0, p] = mask_id
                hm = tr.encoder_forward(ref, config, xm)
                lm = tr.mlm_logits(ref, config, hm[0, p])
                top2 = torch.topk(lm, 2)
                e.update({"pos": p, "top": int(top2.indices[0]),
                          "margin": float(top2.values[0] - top2.values[1])})
            else:
                e.update({"pos": -1, "top": -1, "margin": 0.0})
            entries.append(e)
    acc = correct / len(dev)
    print("dev accuracy %.4f" % acc, flush=True)
    out_dir = os.path.join(ROOT, "data", "expected", "int8")
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "trained-sst2.json"), "w") as f:
        json.dump({"model": "trained-sst2", "source": "sst2/dev.tsv",
                   "rows": len(entries), "dev_accuracy": round(acc, 4),
                   "entries": entries}, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
