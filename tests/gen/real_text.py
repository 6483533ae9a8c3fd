"""
real_text.py - the real-text inputs the tokenizer generators sample from
../shared/data: SST-2 dev sentences, CoNLL-2003 validation sentences and
SQuAD dev-a paragraphs with their first question, each as a list in file
order (callers draw their own samples with their own seed).
"""
import json
import os


def sst2_dev(shared):
    """The text field of every SST-2 dev row."""
    with open(os.path.join(shared, "sst2/dev.tsv"), encoding="utf-8") as f:
        return [l.split("\t")[0] for l in f.read().splitlines()[1:]]


def conll_sentences(shared):
    """CoNLL-2003 validation sentences: each run of non-empty lines, the
    first field of each line joined with spaces, -DOCSTART- left out."""
    sents, cur = [], []
    with open(os.path.join(shared, "conll2003/valid.txt"), encoding="utf-8") as f:
        for line in f:
            w = line.split(" ")[0].strip()
            if not w:
                if cur:
                    sents.append(" ".join(cur))
                cur = []
            elif w != "-DOCSTART-":
                cur.append(w)
    return sents


def squad_contexts(shared):
    """(context, its first question) of every SQuAD dev-a paragraph."""
    with open(os.path.join(shared, "squad/dev-a-v1.1.json"), encoding="utf-8") as f:
        sq = json.load(f)
    return [(p["context"], p["qas"][0]["question"]) for a in sq["data"] for p in a["paragraphs"]]
