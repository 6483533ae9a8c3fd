#!/usr/bin/python3
"""
tests/gen/gen_eval_expected.py - what `nlp eval sentiment` must report for
data/models/trained-sst2 on SST-2 dev (../shared/data/sst2/dev.tsv).

The predictions are PyTorch's: the arg max of the logits that
gen_trained_sst2.py stored in data/expected/int8/trained-sst2.json (one
entry per dev sentence, in file order).  The scores follow scikit-learn's
accuracy_score and precision_recall_fscore_support(average=None / 'macro',
zero_division=0), written out here.  Writes
data/expected/eval/trained-sst2-dev.json.

  /usr/bin/python3 tests/gen/gen_eval_expected.py [SHARED_DATA_DIR]
"""
import csv
import json
import os
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
shared = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "..", "shared", "data")
ref = json.load(open(os.path.join(ROOT, "data/expected/int8/trained-sst2.json")))
with open(os.path.join(shared, "sst2", "dev.tsv"), newline="") as f:
    rows = list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
gold = [int(r["label"]) for r in rows]
pred = [0 if e["cls"][0] >= e["cls"][1] else 1 for e in ref["entries"]]
assert len(gold) == len(pred) == 872

names = ["NEGATIVE", "POSITIVE"]
per = {}
for c, name in enumerate(names):
    tp = sum(1 for g, p in zip(gold, pred) if g == c and p == c)
    npred = sum(1 for p in pred if p == c)
    sup = sum(1 for g in gold if g == c)
    prec = tp / npred if npred else 0.0
    rec = tp / sup if sup else 0.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    per[name] = {"precision": prec, "recall": rec, "f1": f1, "support": sup}
out = {
    "accuracy": sum(1 for g, p in zip(gold, pred) if g == p) / len(gold),
    "macro_precision": sum(v["precision"] for v in per.values()) / len(per),
    "macro_recall": sum(v["recall"] for v in per.values()) / len(per),
    "macro_f1": sum(v["f1"] for v in per.values()) / len(per),
    "per_label": per,
}
path = os.path.join(ROOT, "data/expected/eval/trained-sst2-dev.json")
with open(path, "w") as f:
    json.dump(out, f, indent=1, sort_keys=True)
    f.write("\n")
print(path, out["accuracy"], out["macro_f1"])
