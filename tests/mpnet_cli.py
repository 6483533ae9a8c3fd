#!/usr/bin/env python3
"""
mpnet_cli.py - the MPNet fixtures through the CLI, against the references
of tests/gen/gen_mpnet.py (data/expected/mpnet):
  tokenize    tiny-mpnet's tokenizer.json (WordPiece, RobertaProcessing):
              ids equal to Transformers.js, offsets to ref_tokenizer.py;
              the same from its vocab.txt alone (tokenizer_class
              MPNetTokenizer), as transformers' MPNetTokenizer encodes them
  embed       mpnet-embed (all-mpnet-base-v2's layout): the folder's own
              mean pooling + Normalize, --pooling cls, max without
              normalization; a text past max_seq_length (384) is cut
  similarity  a query against texts (ranked) and sentence pairs
Vectors and scores must agree within 1e-4, ids and offsets exactly.
Usage: mpnet_cli.py NLP TOP_SRCDIR   (standard library only)
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

NLP, TOP = sys.argv[1], sys.argv[2]
M = TOP + "/data/models/"
E = TOP + "/data/expected/mpnet/"
TOL = 1e-4
failed = 0


def nlp(*args, stdin=None):
    r = subprocess.run([NLP] + list(args) + ["--quiet", "--offline"], input=stdin,
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise AssertionError("nlp %s exited %d: %s" % (args[0], r.returncode, r.stderr.strip()))
    return r.stdout


def check(what, cond, detail=""):
    global failed
    if not cond:
        failed += 1
        print("FAIL: %s %s" % (what, detail))


def worst(got, want):
    return max((abs(a - b) for a, b in zip(got, want)), default=0.0)


tmp = tempfile.mkdtemp(prefix="mpnet_cli.")
vocab_only = os.path.join(tmp, "tiny-mpnet")
shutil.copytree(M + "tiny-mpnet", vocab_only)
os.remove(os.path.join(vocab_only, "tokenizer.json"))
for model in (M + "tiny-mpnet", vocab_only):
    for line in open(E + "tokenizer.jsonl", encoding="utf-8"):
        case = json.loads(line)
        args = ["tokenize", "--model", model, "--json", case["text"]]
        if "pair" in case:
            args += ["--pair", case["pair"]]
        got = json.loads(nlp(*args))
        what = "%s: tokenize %r" % ("vocab.txt" if model == vocab_only else "tokenizer.json", case["text"])
        check(what + " ids", got["ids"] == case["ids"], "%s vs %s" % (got["ids"], case["ids"]))
        if "offsets" in case:
            check(what + " offsets", got["offsets"] == case["offsets"],
                  "%s vs %s" % (got["offsets"], case["offsets"]))
shutil.rmtree(tmp)

emb = json.load(open(E + "embed.json", encoding="utf-8"))
texts = "".join(t + "\n" for t in emb["texts"])
for case in emb["cases"]:
    out = nlp("embed", "--model", M + "mpnet-embed", "--json", "--batch-size", "2", *case["args"], stdin=texts)
    got = [json.loads(l)["embedding"] for l in out.splitlines()]
    want = case["embeddings"]
    ok = len(got) == len(want) and all(len(g) == len(w) for g, w in zip(got, want))
    d = max((worst(g, w) for g, w in zip(got, want)), default=1.0) if ok else 1.0
    check("embed %s" % case["args"], ok and d <= TOL, "max |diff| %.3g" % d)
    print("embed %s: max |diff| %.2e" % (case["args"], d))

sim = json.load(open(E + "similarity.json", encoding="utf-8"))
got = json.loads(nlp("similarity", "--model", M + "mpnet-embed", "--json", "--query", sim["query"],
                     stdin="".join(t + "\n" for t in sim["texts"])))
want = sim["query_scores"]
check("similarity ranking", [g["index"] for g in got] ==
      sorted(range(len(want)), key=lambda i: -want[i]), json.dumps(got))
d = worst([g["score"] for g in got], [want[g["index"]] for g in got])
check("similarity scores", len(got) == len(want) and d <= TOL, "max |diff| %.3g" % d)
print("similarity query: max |diff| %.2e" % d)
for (a, b), w in zip(sim["pairs"], sim["pair_scores"]):
    got = json.loads(nlp("similarity", "--model", M + "mpnet-embed", "--json", "--text-pair", b, a))
    s = got[0]["score"] if isinstance(got, list) else got["score"]
    check("similarity pair %r" % a, abs(s - w) <= TOL, "%s vs %s" % (s, w))
    print("similarity pair: |diff| %.2e" % abs(s - w))
print("%s: %d failure(s)" % (sys.argv[0], failed))
sys.exit(1 if failed else 0)
