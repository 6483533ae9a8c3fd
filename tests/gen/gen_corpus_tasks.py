#!/usr/bin/python3
"""gen_corpus_tasks.py - a corpus and its expected sentiment results for
tests/corpus.sh (corpus mode end to end).

    /usr/bin/python3 tests/gen/gen_corpus_tasks.py     (from the project root; needs PyTorch)

Writes data/expected/corpus/reviews.csv: a CSV of 120 rows (id, review,
note) whose reviews range from one word to past the 64-position limit of
the tiny-bert-sst2 fixture, with quoted fields, embedded commas, quotes and
line breaks, two empty reviews (scored like any text, as the pipeline
scores ""), and four bad rows (wrong field counts, invalid UTF-8) at known
lines; and data/expected/corpus/reviews-expected.json: for
every good row its id and the label/score of Hugging Face's
TextClassificationPipeline with truncation to the model's 64 positions
(reference tokenizer tests/gen/ref_tokenizer.py, PyTorch forward
tests/gen/torch_ref.py, post-processing port in gen_tasks_cls.py), and for
every bad row its physical line and the reason.

The weights are the tiny-bert-sst2 fixture's, rebuilt from its seed; the
generator checks them against data/expected/sentiment/bert-sst2-default.json
first.
"""
import json
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gen_tasks_cls as g  # noqa: E402
import ref_tokenizer as rt  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(ROOT, "data", "expected", "corpus")

WORDS = ("the film movie story actors was were is great terrible boring fun "
         "loved hated slow fast funny sad dull brilliant plot music ending long "
         "short not very quite really a an and but or of in on with it this that "
         "good bad best worst acting script scene director camera time").split()


def model():
    vocab = [l.rstrip("\n") for l in open(os.path.join(ROOT, "data", "models", "tiny-bert-sst2",
                                                       "vocab.txt"), encoding="utf-8")]
    arch, kw, seed, head = g.fixture_specs()["tiny-bert-sst2"]
    m = g.Model.random("tiny-bert-sst2", arch, kw, seed, head, vocab)
    ref = json.load(open(os.path.join(ROOT, "data", "expected", "sentiment",
                                      "bert-sst2-default.json")))
    for text, want in zip(ref["inputs"], ref["expected"]):
        got = g.hf_text_classification(m, text)
        assert got["label"] == want["label"] and abs(got["score"] - want["score"]) < 1e-6, \
            "the rebuilt weights differ from the fixture's"
    return m


def classify_truncated(m, text, max_length):
    """TextClassificationPipeline(truncation=True): the tokenizer cuts to
    max_length tokens (longest_first), then the usual post-processing."""
    enc = rt.encode(m.vocab, text, max_length=max_length)
    out = m.seq_cls(enc).float().numpy()
    scores = g._softmax(out)
    return {"label": m.id2label[int(scores.argmax())], "score": float(scores.max())}, \
        len(rt.encode(m.vocab, text)["ids"])


def csv_field(s):
    if any(c in s for c in ',"\n\r'):
        return '"' + s.replace('"', '""') + '"'
    return s


def main():
    m = model()
    rnd = random.Random(7)
    lines = [b"id,review,note\n"]
    line_no = 2
    good, bad = [], []
    bad_at = {17: "empty", 40: "fields+", 63: "utf8", 77: "fields-", 95: "empty-quoted",
              110: "fields+"}
    for i in range(1, 121):
        n = rnd.choice([1, 2, 3, 5, 8, 13, 21, 34, 55, 70])
        words = [rnd.choice(WORDS) for _ in range(n)]
        review = " ".join(words)
        if i % 9 == 0:
            review = review.replace(" ", ", ", 1)
        if i % 11 == 0:
            review = 'said "' + review + '"'
        if i % 13 == 0:
            review = review + "\nsecond line"
        note = "n%d" % i if i % 4 else 'a "quoted", note'
        kind = bad_at.get(i)
        if kind in ("empty", "empty-quoted"):
            review = "" if kind == "empty" else "  "
            raw = ("%d,%s,%s\n" % (i, '"  "' if review else "", csv_field(note))).encode()
            res, ntok = classify_truncated(m, review, 64)
            good.append({"id": str(i), "line": line_no, "review": review, "note": note,
                         "label": res["label"], "score": res["score"], "tokens": ntok})
        elif kind == "fields+":
            raw = ("%d,%s,%s,extra\n" % (i, csv_field(review), csv_field(note))).encode()
            bad.append({"line": line_no, "reason": "4 fields, expected 3"})
        elif kind == "fields-":
            raw = ("%d,%s\n" % (i, csv_field(review))).encode()
            bad.append({"line": line_no, "reason": "2 fields, expected 3"})
        elif kind == "utf8":
            raw = ("%d,bad byte " % i).encode() + b"\xff" + ("here,%s\n" % csv_field(note)).encode()
            offset = sum(len(l) for l in lines) + len(("%d,bad byte " % i).encode())
            bad.append({"line": line_no, "reason": "invalid UTF-8 at byte %d (0xff)" % offset})
        else:
            raw = ("%d,%s,%s\n" % (i, csv_field(review), csv_field(note))).encode()
            res, ntok = classify_truncated(m, review, 64)
            good.append({"id": str(i), "line": line_no, "review": review, "note": note,
                         "label": res["label"], "score": res["score"], "tokens": ntok})
        lines.append(raw)
        line_no += raw.count(b"\n")
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "reviews.csv"), "wb") as f:
        f.write(b"".join(lines))
    with open(os.path.join(OUT, "reviews-expected.json"), "w", encoding="utf-8") as f:
        json.dump({"model": "data/models/tiny-bert-sst2", "max_length": 64,
                   "good": good, "bad": bad}, f, ensure_ascii=False, indent=1)
    print("%d good rows (%d over 64 tokens), %d bad" %
          (len(good), sum(g_["tokens"] > 64 for g_ in good), len(bad)))


if __name__ == "__main__":
    main()
