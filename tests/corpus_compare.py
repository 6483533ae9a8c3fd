#!/usr/bin/env python3
"""corpus_compare.py - compare a corpus-mode output with its expected
results (stdlib only; used by tests/corpus.sh).

  corpus_compare.py output EXPECTED.json [--format csv|jsonl] [--tol X]
      the output holds every good row in input order, its input columns
      unchanged and label/score matching
  corpus_compare.py stderr EXPECTED.json FILE SOURCE
      FILE holds one "SOURCE: line N: reason" message per bad row, in order
"""
import csv
import io
import json
import sys


def fail(msg):
    print("corpus_compare: " + msg, file=sys.stderr)
    sys.exit(1)


def read_rows(path, fmt):
    with open(path, encoding="utf-8", newline="") as f:
        data = f.read()
    if fmt == "jsonl":
        rows = [json.loads(l) for l in data.splitlines() if l.strip()]
        return (list(rows[0].keys()) if rows else []), rows
    r = csv.reader(io.StringIO(data, newline=""))
    header = next(r)
    return header, [dict(zip(header, rec)) for rec in r]


def check_output(path, exp, fmt, tol):
    header, rows = read_rows(path, fmt)
    want_cols = ["id", "review", "note", "label", "score"]
    if header != want_cols:
        fail("columns %s, expected %s" % (header, want_cols))
    good = exp["good"]
    if len(rows) != len(good):
        fail("%d rows, expected %d" % (len(rows), len(good)))
    worst = 0.0
    for i, (got, want) in enumerate(zip(rows, good)):
        for col in ("id", "review", "note", "label"):
            if str(got[col]) != want[col]:
                fail("row %d (id %s): %s is %r, expected %r" % (i + 1, want["id"], col,
                                                               got[col], want[col]))
        d = abs(float(got["score"]) - want["score"])
        worst = max(worst, d)
        if d > tol:
            fail("row %d (id %s): score %s, expected %.9g" % (i + 1, want["id"], got["score"],
                                                             want["score"]))
    print("corpus_compare: %d rows in order, largest score difference %.2g" % (len(rows), worst))


def check_stderr(path, exp, source):
    msgs = [l.rstrip("\n") for l in open(path, encoding="utf-8")
            if l.startswith("nlp sentiment: " + source + ": line ")]
    want = ["nlp sentiment: %s: line %d: %s" % (source, b["line"], b["reason"]) for b in exp["bad"]]
    if msgs != want:
        fail("bad-row messages differ:\n got %s\nwant %s" % (msgs, want))


def main():
    mode, path, exp_path = sys.argv[1], sys.argv[2], sys.argv[3]
    exp = json.load(open(exp_path, encoding="utf-8"))
    if mode == "output":
        fmt, tol = "csv", 1e-5
        args = sys.argv[4:]
        if "--format" in args:
            fmt = args[args.index("--format") + 1]
        if "--tol" in args:
            tol = float(args[args.index("--tol") + 1])
        check_output(path, exp, fmt, tol)
    elif mode == "stderr":
        check_stderr(path, exp, sys.argv[4])
    else:
        fail("unknown mode " + mode)


if __name__ == "__main__":
    main()
