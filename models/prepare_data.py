#!/usr/bin/env python3
"""prepare_data.py SHARED WORKDIR - the data files of models/train.sh that
need more than a path into ../shared/data:

  squad-train.json, squad-eval.json  SQuAD v1.1 dev-a: the first 20
      articles to train on, the last 4 held out
  nli-train.jsonl  SICK (all 9,840 pairs) and the SNLI dev part (pairs with
      a gold label): {"premise", "hypothesis", "label"}, labels
      entailment / neutral / contradiction
  nli-eval.jsonl   the SNLI test part, the same way
  agnews.jsonl     AG News test-a: {"text": title + " " + description,
      "label": World / Sports / Business / Science and technology}
"""
import csv
import json
import os
import sys

shared, work = sys.argv[1], sys.argv[2]


def write_jsonl(name, rows):
    with open(os.path.join(work, name), "w") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def squad():
    d = json.load(open(os.path.join(shared, "squad/dev-a-v1.1.json")))
    arts = d["data"]
    for name, part in (("squad-train.json", arts[:-4]), ("squad-eval.json", arts[-4:])):
        with open(os.path.join(work, name), "w") as f:
            json.dump({"version": d.get("version", "1.1"), "data": part}, f)


def sick():
    with open(os.path.join(shared, "nli/sick.tsv"), newline="") as f:
        for r in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            yield {"premise": r["sentence_A"], "hypothesis": r["sentence_B"],
                   "label": r["entailment_label"].lower()}


def snli(name):
    for line in open(os.path.join(shared, "nli", name)):
        r = json.loads(line)
        if r["gold_label"] in ("entailment", "neutral", "contradiction"):
            yield {"premise": r["sentence1"], "hypothesis": r["sentence2"],
                   "label": r["gold_label"]}


def agnews():
    names = {"1": "World", "2": "Sports", "3": "Business", "4": "Science and technology"}
    with open(os.path.join(shared, "agnews/test-a.csv"), newline="") as f:
        for cls, title, desc in csv.reader(f):
            yield {"text": (title.strip() + " " + desc.strip()).replace("\\", " "),
                   "label": names[cls]}


squad()
write_jsonl("nli-train.jsonl", list(sick()) + list(snli("snli-dev-part.jsonl")))
write_jsonl("nli-eval.jsonl", snli("snli-test-part.jsonl"))
write_jsonl("agnews.jsonl", agnews())
