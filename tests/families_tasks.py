#!/usr/bin/env python3
"""
families_tasks.py - every task end to end through the CLI on a family
fixture with every head: the RoBERTa one (data/models/tiny-roberta,
byte-level BPE) by default, or FAMILY's (deberta: tiny-deberta, Unigram,
with zero-shot --labels too; mpnet: tiny-mpnet, WordPiece with RoBERTa's
template, expectations from tests/gen/gen_mpnet.py; xlm-roberta:
tiny-xlm-roberta, sentencepiece.bpe.model; modernbert:
tiny-modernbert, byte-level BPE, from tests/gen/gen_modernbert.py; electra:
tiny-electra, a WordPiece vocab.txt, the generator's head for fill-mask,
from tests/gen/gen_families.py), checked
against
data/expected/families/FAMILY-tasks.json: the PyTorch reference's head
outputs over a Python tokenizer reference's ids,
ner also with every aggregation (words of a byte-level BPE or Unigram
tokenizer).
Scores must agree within 1e-4, tokens, labels and answer spans exactly.
Cases that carry "ids" (the XLM-RoBERTa fixture: tiny-xlm-roberta and
xlm-roberta-tasks.json from tests/gen/gen_xlm_roberta.py) also check
them with nlp tokenize.
Usage: families_tasks.py NLP TOP_SRCDIR [FAMILY]   (standard library only)
"""
import json
import subprocess
import sys

NLP, TOP = sys.argv[1], sys.argv[2]
FAMILY = sys.argv[3] if len(sys.argv) > 3 else "roberta"
MODEL = TOP + "/data/models/tiny-" + FAMILY
EXP = json.load(open(TOP + "/data/expected/families/%s-tasks.json" % FAMILY, encoding="utf-8"))
TOL = 1e-4
failed = 0


def nlp(*args):
    r = subprocess.run([NLP, args[0], "--model", MODEL, "--json", "--quiet"] + list(args[1:]),
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise AssertionError("nlp %s exited %d: %s" % (args[0], r.returncode, r.stderr.strip()))
    return json.loads(r.stdout)


def check(what, cond, detail=""):
    global failed
    if not cond:
        failed += 1
        print("FAIL: %s %s" % (what, detail))


def close(a, b):
    return abs(a - b) <= TOL


for case in EXP["fill-mask"]:
    got = nlp("fill-mask", case["text"])
    check("fill-mask tokens " + case["text"], [g["token"] for g in got] == case["token"],
          str([g["token"] for g in got]))
    check("fill-mask scores " + case["text"],
          all(close(g["score"], s) for g, s in zip(got, case["score"])))
for case in EXP["sentiment"]:
    got = nlp("sentiment", "--top-k", "all", case["text"])
    check("sentiment " + case["text"],
          len(got) == len(case["scores"]) and all(close(g["score"], case["scores"][g["label"]]) for g in got),
          json.dumps(got))
    got = nlp("classify", case["text"])
    best = max(case["scores"], key=case["scores"].get)
    check("classify " + case["text"], got["label"] == best and close(got["score"], case["scores"][best]),
          json.dumps(got))
for case in EXP.get("zero-shot", []):
    got = nlp("classify", "--labels", ",".join(case["labels"]), case["text"])
    want = dict(zip(case["labels"], case["scores"]))
    check("zero-shot " + case["text"], sorted(got["labels"]) == sorted(case["labels"]) and
          all(close(s, want[l]) for l, s in zip(got["labels"], got["scores"])) and
          got["scores"] == sorted(got["scores"], reverse=True), json.dumps(got))
for case in EXP["ner"]:
    got = nlp("ner", "--aggregation", "none", "--ignore-labels", "", case["text"])
    want = case["tokens"]
    check("ner count " + case["text"], len(got) == len(want), "%d vs %d" % (len(got), len(want)))
    for g, w in zip(got, want):
        check("ner token %d" % w["index"], g["index"] == w["index"] and g["entity"] == w["entity"]
              and close(g["score"], w["score"]), json.dumps(g))
for case in EXP.get("ner_groups", []):
    got = nlp("ner", "--aggregation", case["aggregation"], "--ignore-labels", "", case["text"])
    want = case["entities"]
    what = "ner %s %s" % (case["aggregation"], case["text"])
    check(what + " count", len(got) == len(want), json.dumps(got, ensure_ascii=False))
    for g, w in zip(got, want):
        check(what, all(g[k] == w[k] for k in ("entity_group", "word", "start", "end"))
              and close(g["score"], w["score"]), json.dumps(g, ensure_ascii=False))
for case in EXP["qa"]:
    got = nlp("qa", "--question", case["question"], "--context", case["context"])
    check("qa " + case["question"], got["start"] == case["start"] and got["end"] == case["end"]
          and got["answer"] == case["answer"] and close(got["score"], case["score"]), json.dumps(got))
for kind in ("fill-mask", "sentiment", "ner"):
    for case in EXP[kind]:
        if "ids" in case:
            got = nlp("tokenize", case["text"])
            check("ids " + case["text"], got["ids"] == case["ids"], str(got["ids"]))
print("%s %s: %d failure(s)" % (sys.argv[0], FAMILY, failed))
sys.exit(1 if failed else 0)
