#!/usr/bin/python3
"""
gen_train_run.py - whole training runs in PyTorch for tests/check_train.c.

Run from the project root with Debian's python3 (it has torch):
    /usr/bin/python3 tests/gen/gen_train_run.py

For each case: 50 optimizer steps from a fixture checkpoint with dropout
off, as the Hugging Face Trainer runs them: torch.optim.AdamW (decoupled
weight decay on every parameter but biases and LayerNorm weights), the
linear warm-up / linear decay schedule (LambdaLR as
get_linear_schedule_with_warmup builds it), clip_grad_norm_ over all
parameters and gradient accumulation (each micro-batch's loss divided by
the accumulation count).  The model math is torch_ref.py's.

Writes data/expected/train/<case>.safetensors:
  in.ids, in.type_ids [S][B][T], in.lengths [S][B], in.labels / in.start /
  in.end (S micro-batches), "losses" [S] (each micro-batch's loss) and
  "final.<HF name>" (every parameter after the last step)
and data/expected/train/manifest.json (checkpoint, task, sizes, the
hyperparameters, the Hugging Face class and the tensor names its
save_pretrained writes (torch_ref.random_state), the sum of the learning rates over the steps, and the
"noise-driven" tensors: those whose first gradient is below 1e-5 of the
largest, i.e. zero in exact arithmetic, which AdamW moves by about the
learning rate whatever the rounding noise says).
"""
import json
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_ref as R  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MODELS = os.path.join(ROOT, "data", "models")
OUT = os.path.join(ROOT, "data", "expected", "train")

# case, checkpoint, task, B, T, steps, accum, lr, warmup, seed
CASES = [
    ("bert_mlm", "tiny-bert-mlm", "mlm", 4, 12, 50, 2, 1e-3, 5, 21),
    ("distilbert_mlm", "tiny-distilbert-mlm", "mlm", 4, 12, 50, 1, 1e-3, 5, 22),
    ("bert_seq_cls", "tiny-bert-sst2", "seq_cls", 4, 10, 50, 1, 1e-3, 5, 23),
    ("distilbert_token_cls", "ner-distilbert", "token_cls", 3, 10, 50, 1, 1e-3, 5, 24),
    ("bert_qa", "qa-bert", "qa", 3, 10, 50, 1, 1e-3, 5, 25),
]
WEIGHT_DECAY = 0.01
MAX_GRAD_NORM = 1.0


# the Hugging Face class of each family and task
ARCH = {("bert", "mlm"): "BertForMaskedLM",
        ("bert", "seq_cls"): "BertForSequenceClassification",
        ("bert", "token_cls"): "BertForTokenClassification",
        ("bert", "qa"): "BertForQuestionAnswering",
        ("distilbert", "mlm"): "DistilBertForMaskedLM",
        ("distilbert", "seq_cls"): "DistilBertForSequenceClassification",
        ("distilbert", "token_cls"): "DistilBertForTokenClassification",
        ("distilbert", "qa"): "DistilBertForQuestionAnswering"}


def config_of(model):
    return json.load(open(os.path.join(MODELS, model, "config.json")))


def batches(config, task, B, T, n, seed, C):
    gen = torch.Generator().manual_seed(seed)
    V = config["vocab_size"]
    distil = config["model_type"] == "distilbert"
    out = []
    for _ in range(n):
        lengths = torch.randint(3, T + 1, (B,), generator=gen)
        lengths[0] = T
        mask = (torch.arange(T)[None, :] < lengths[:, None]).long()
        ids = torch.randint(5, V, (B, T), generator=gen) * mask
        ids[:, 0] = 2
        tt = torch.zeros(B, T, dtype=torch.long)
        if not distil:
            tt = (torch.arange(T)[None, :] >= (lengths[:, None] // 2)).long() * mask
        b = {"ids": ids, "type_ids": tt, "lengths": lengths, "mask": mask}
        if task == "mlm":
            pick = (torch.rand(B, T, generator=gen) < 0.2) & mask.bool()
            pick[0, 2] = True
            b["labels"] = torch.where(pick, torch.randint(0, V, (B, T), generator=gen),
                                      torch.full((B, T), -100))
        elif task == "seq_cls":
            b["labels"] = torch.randint(0, C, (B,), generator=gen)
        elif task == "token_cls":
            lab = torch.randint(0, C, (B, T), generator=gen)
            b["labels"] = torch.where(mask.bool(), lab, torch.full((B, T), -100))
        else:
            b["start"] = torch.randint(0, T, (B,), generator=gen)
            b["end"] = torch.randint(0, T, (B,), generator=gen)
        out.append(b)
    return out


def loss_of(state, config, task, b, T):
    distil = config["model_type"] == "distilbert"
    hidden = R.encoder_forward(state, config, b["ids"], None if distil else b["type_ids"],
                               b["mask"])
    if task == "mlm":
        logits = R.mlm_logits(state, config, hidden)
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), b["labels"].reshape(-1),
                               ignore_index=-100)
    if task == "seq_cls":
        return F.cross_entropy(R.seq_cls_logits(state, config, hidden), b["labels"])
    if task == "token_cls":
        logits = R.token_cls_logits(state, config, hidden)
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), b["labels"].reshape(-1),
                               ignore_index=-100)
    s, e = R.qa_logits(state, config, hidden)
    return (F.cross_entropy(s, b["start"].clamp(0, T), ignore_index=T) +
            F.cross_entropy(e, b["end"].clamp(0, T), ignore_index=T)) / 2


def no_decay(name):
    """Hugging Face's Trainer: biases and LayerNorm weights do not decay."""
    return name.endswith(".bias") or "LayerNorm" in name or "layer_norm" in name


def run(case, model, task, B, T, steps, accum, lr, warmup, seed):
    d = os.path.join(MODELS, model)
    config = json.load(open(os.path.join(d, "config.json")))
    state = {k: v.clone().requires_grad_(True)
             for k, v in R.read_safetensors(os.path.join(d, "model.safetensors")).items()}
    C = len(config.get("id2label", {})) or 2
    data = batches(config, task, B, T, steps * accum, seed, C)
    names = list(state)
    groups = [{"params": [state[n] for n in names if not no_decay(n)], "weight_decay": WEIGHT_DECAY},
              {"params": [state[n] for n in names if no_decay(n)], "weight_decay": 0.0}]
    opt = torch.optim.AdamW(groups, lr=lr, betas=(0.9, 0.999), eps=1e-8, foreach=False)

    def lam(step):
        if step < warmup:
            return step / max(1, warmup)
        return max(0.0, (steps - step) / max(1, steps - warmup))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lam)
    losses = []
    noise = []
    for s in range(steps):
        for a in range(accum):
            loss = loss_of(state, config, task, data[s * accum + a], T)
            losses.append(loss.item())
            (loss / accum).backward()
        if s == 0:
            # tensors whose gradient is zero in exact arithmetic (the key
            # bias; a span head's bias): AdamW turns their rounding noise
            # into steps of about lr, so two correct implementations
            # disagree on them
            gmax = {n: state[n].grad.abs().max().item() for n in names}
            top = max(gmax.values())
            noise = [n for n in names if gmax[n] < 1e-5 * top]
        torch.nn.utils.clip_grad_norm_([state[n] for n in names], MAX_GRAD_NORM)
        opt.step()
        sched.step()
        opt.zero_grad()
    t = {
        "in.ids": torch.stack([b["ids"] for b in data]),
        "in.type_ids": torch.stack([b["type_ids"] for b in data]),
        "in.lengths": torch.stack([b["lengths"] for b in data]),
        "losses": torch.tensor(losses, dtype=torch.float32),
    }
    if "labels" in data[0]:
        t["in.labels"] = torch.stack([b["labels"] for b in data])
    if "start" in data[0]:
        t["in.start"] = torch.stack([b["start"] for b in data])
        t["in.end"] = torch.stack([b["end"] for b in data])
    for n in names:
        t["final." + n] = state[n].detach()
    run.noise = noise
    run.lr_sum = sum(lr * lam(s) for s in range(steps))
    return {k: (v.to(torch.int32) if v.dtype == torch.int64 else v.float().contiguous())
            for k, v in t.items()}


def main():
    os.makedirs(OUT, exist_ok=True)
    manifest = []
    for case, model, task, B, T, steps, accum, lr, warmup, seed in CASES:
        R.write_safetensors(os.path.join(OUT, case + ".safetensors"),
                            run(case, model, task, B, T, steps, accum, lr, warmup, seed))
        manifest.append({"case": case, "model": model, "task": task, "B": B, "T": T,
                         "steps": steps, "grad_accum": accum, "lr": lr, "warmup": warmup,
                         "weight_decay": WEIGHT_DECAY, "max_grad_norm": MAX_GRAD_NORM,
                         "noise_driven": run.noise, "lr_sum": run.lr_sum,
                         "architecture": ARCH[config_of(model)["model_type"], task],
                         "hf_keys": sorted(R.random_state(config_of(model),
                                                          ARCH[config_of(model)["model_type"], task],
                                                          0).keys())})
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
