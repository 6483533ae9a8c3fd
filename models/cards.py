#!/usr/bin/env python3
"""
cards.py - write the model card (NAME/README.md) of every built-in model
from what models/train.sh left in its WORKDIR: the runs' train_log.jsonl
(steps, epochs, wall time) and the `nlp eval` reports (NAME.eval.json for
the run in fp32, NAME-shipped.eval.json for the copy in the tree).

    python3 models/cards.py WORKDIR

The recipe lines are the commands of train.sh in words; the numbers are
read, never typed.  The machine is the one running this script, which is
the one that trained the models.
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def machine():
    name, flags = "unknown CPU", set()
    with open("/proc/cpuinfo") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k.strip() == "model name":
                name = v.strip()
            elif k.strip() == "flags":
                flags = set(v.split())
    isa = [x for x, f in (("AVX-512", "avx512f"), ("VNNI", "avx512_vnni"),
                          ("BF16", "avx512_bf16")) if f in flags]
    return "%d-vCPU %s guest%s" % (os.cpu_count(), name,
                                    (", " + " / ".join(isa)) if isa else "")


def run_log(path):
    """(last step, last epoch, wall seconds summed over resumed segments)."""
    step, epoch, wall, seg = 0, 0.0, 0.0, 0.0
    with open(os.path.join(path, "train_log.jsonl")) as f:
        for line in f:
            r = json.loads(line)
            if "elapsed_s" not in r:
                continue
            if r["elapsed_s"] < seg:        # a resumed run starts its clock again
                wall += seg
            seg = r["elapsed_s"]
            step, epoch = r["step"], r.get("epoch", epoch)
    return step, epoch, wall + seg


def hours(s):
    return "%.1f h" % (s / 3600) if s >= 5400 else "%d min" % round(s / 60)


def report(w, name):
    p = os.path.join(w, name + ".eval.json")
    return json.load(open(p)) if os.path.exists(p) else None


def pct(x):
    return "%.1f%%" % (100 * x)


def metric_rows(w, name, rows):
    """Markdown rows: metric, the fp32 run, the shipped copy."""
    out = []
    for label, rep, key, fmt in rows:
        a, b = report(w, rep), report(w, rep + "-shipped")
        out.append("| %s | %s | %s |" % (label, fmt(a[key]) if a else "-",
                                          fmt(b[key]) if b else "-"))
    return out


def f1(x):
    return "%.1f" % x


CARDS = {
    "nlp-mini": dict(
        title="masked language model (fill-mask, tokenize)",
        head="BertForMaskedLM", runs=["mlm", "mlm2"], batch=64, seq=128,
        weights="fp16 (loads in Hugging Face transformers as it is)",
        data="../shared/data/corpus (Wikipedia, Wikinews, Gutenberg, IMDB reviews, "
             "dialogues, dictionaries, documentation; 21 files, 23M words), every "
             "200th paragraph held out for evaluation; never any dev or test split",
        recipe="masked-LM pretraining from scratch: 128-token packed sequences, 20% "
               "masking (80/10/10), no dropout, AdamW (beta2 0.98, weight decay 0.01), "
               "clipping 0.5, batch 64; 3,300 steps at peak lr 5e-4 (seed 1), then "
               "2,000 more at peak 7e-4 (seed 2), linear warm-up and decay",
        stages="data pretrain pretrain2",
        rows=[("SST-2 dev sentences, 15% masked (seed 42): top-1", "nlp-mini",
               "top1_accuracy", pct),
              ("same: top-5", "nlp-mini", "top5_accuracy", pct),
              ("same: perplexity at masked positions", "nlp-mini", "perplexity",
               lambda x: "%.0f" % x)]),
    "nlp-mini-sst2": dict(
        title="sentiment (negative, positive)", head="BertForSequenceClassification",
        runs=["sst2"], batch=32,
        data="SST-2 train (67,349 sentences), labels renamed 0=negative, 1=positive",
        recipe="fine-tuned from nlp-mini: 2 epochs, batch 32, max length 66, lr 1e-4, "
               "10% warm-up, dropout 0.1, seed 1",
        stages="sst2",
        rows=[("SST-2 dev (872): accuracy", "nlp-mini-sst2", "accuracy", pct),
              ("SST-2 dev: macro F1", "nlp-mini-sst2", "macro_f1", pct)]),
    "nlp-mini-ner": dict(
        title="named entities (CoNLL-2003: PER, LOC, ORG, MISC)",
        head="BertForTokenClassification", runs=["ner"], batch=32,
        data="CoNLL-2003 train (14,041 sentences), tag on each word's first sub-token",
        recipe="fine-tuned from nlp-mini: 4 epochs, batch 32, max length 128, lr 2e-4, "
               "10% warm-up, dropout 0.1, seed 1",
        stages="ner",
        rows=[("CoNLL-2003 validation: entity F1", "nlp-mini-ner", "f1",
               lambda x: f1(100 * x)),
              ("entity precision", "nlp-mini-ner", "precision", lambda x: f1(100 * x)),
              ("entity recall", "nlp-mini-ner", "recall", lambda x: f1(100 * x))]),
    "nlp-mini-squad": dict(
        title="extractive question answering", head="BertForQuestionAnswering",
        runs=["squad"], batch=16,
        data="the first 20 of the 24 SQuAD v1.1 dev articles in ../shared (the last 4, "
             "765 questions, held out for evaluation); no SQuAD train set was available",
        recipe="fine-tuned from nlp-mini: 3 epochs, batch 16, windows of 256 tokens "
               "with stride 64, lr 2e-4, 10% warm-up, dropout 0.1, seed 1",
        stages="data squad",
        rows=[("held-out SQuAD articles: F1", "nlp-mini-squad", "f1", f1),
              ("exact match", "nlp-mini-squad", "exact_match", f1)]),
    "nlp-mini-nli": dict(
        title="natural language inference, for zero-shot classify --labels",
        head="BertForSequenceClassification (contradiction, entailment, neutral)",
        runs=["nli"], batch=32,
        data="SICK (9,840 pairs) and the SNLI dev part (pairs with a gold label)",
        recipe="fine-tuned from nlp-mini: 3 epochs, batch 32, max length 128, lr 1e-4, "
               "10% warm-up, dropout 0.1, seed 1",
        stages="data nli",
        rows=[("SNLI test part (1,254 pairs): accuracy", "nlp-mini-nli", "accuracy", pct),
              ("AG News test-a (3,800), zero-shot, labels World / Sports / Business / "
               "Science and technology, \"This example is about {}.\": accuracy",
               "nlp-mini-nli-agnews", "accuracy", pct)]),
}


def card(w, name, c, where):
    cfg = json.load(open(os.path.join(HERE, name, "config.json")))
    steps, wall, parts = 0, 0.0, []
    for r in c["runs"]:
        s, e, t = run_log(os.path.join(w, r))
        steps, wall = steps + s, wall + t
        parts.append("%s: %d steps, %.2f epochs" % (r, s, e))
    seen = ("%.1fM tokens" % (steps * c["batch"] * c["seq"] / 1e6) if "seq" in c
            else "%s examples" % format(steps * c["batch"], ","))
    size = os.path.getsize(os.path.join(HERE, name, "model.safetensors")) / 1e6
    lines = [
        "# %s" % name, "",
        "Built-in model of nlp: %s. `%s`, %d layers, hidden %d, %d heads, "
        "intermediate %d, the bert-base-uncased vocabulary (%s tokens), uncased." % (
            c["title"], c["head"], cfg["num_hidden_layers"], cfg["hidden_size"],
            cfg["num_attention_heads"], cfg["intermediate_size"],
            format(cfg["vocab_size"], ",")), "",
        "- Weights: %.1f MB, %s." % (size, c["weights"] if "weights" in c else
                                    "int8 (layer weights and word embeddings, one scale "
                                    "per row) and fp16 for the rest, nlp's format; "
                                    "`nlp quantize --dtype fp16` of it gives a copy that "
                                    "transformers loads"),
        "- Data: %s." % c["data"],
        "- Training: %s." % c["recipe"],
        "- Steps: %s; %s seen; %s of wall time on a %s (%s)." % (
            "; ".join(parts), seen, hours(wall), where,
            "other jobs shared the machine during parts of it"),
        "- Rebuild: `models/train.sh NLP WORKDIR %s export eval` (after the stages "
        "this model starts from)." % c["stages"], "",
        "Scores from `nlp eval` on data never trained on, for the fp32 run and for "
        "the copy shipped here (`nlp eval` computes in fp32 from the copy's weights; "
        "the tasks run an int8 copy on the int8 kernels, see ../README.md):", "",
        "| data and metric | fp32 run | shipped |", "|---|---|---|",
    ] + metric_rows(w, name, c["rows"]) + [""]
    return "\n".join(lines)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: models/cards.py WORKDIR")
    w, where = sys.argv[1], machine()
    for name, c in CARDS.items():
        if not os.path.exists(os.path.join(HERE, name, "config.json")):
            continue
        with open(os.path.join(HERE, name, "README.md"), "w") as f:
            f.write(card(w, name, c, where))
        print("wrote", os.path.join(HERE, name, "README.md"))


main()
