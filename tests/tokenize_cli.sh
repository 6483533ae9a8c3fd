#!/bin/sh
# tests/tokenize_cli.sh - `nlp tokenize` end to end against the reference
# outputs of tests/gen/gen_tokenizer_expected.py: the hand-made hard cases
# (texts as arguments, as a pair, on stdin, --no-special) with the committed
# small vocabulary, the first SST-2 sentences with bert-base-uncased when
# ../shared/data is present, invalid UTF-8 (exit 1, input number and byte
# offset) and a usage error (exit 2).  Needs python3 (standard library only)
# to compare JSON; exits 77 (skip) without it.
: "${NLP:?NLP is not set}" "${top_srcdir:?top_srcdir is not set}"
PY=$(command -v python3 || command -v /usr/bin/python3 || true)
if [ -z "$PY" ]; then
    echo "tokenize_cli: SKIP: no python3 to compare JSON"
    exit 77
fi
export NLP top_srcdir
exec "$PY" - <<'PYEOF'
import json, os, subprocess, sys

nlp = os.environ["NLP"]
top = os.environ["top_srcdir"]
tokdir = os.path.join(top, "data", "expected", "tokenizer")
mini = os.path.join(tokdir, "mini")
failures = 0


def fail(msg):
    global failures
    failures += 1
    print("FAIL:", msg)


def jl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(l) for l in f if l.strip()]


def run(args, stdin=None):
    p = subprocess.run([nlp, "tokenize"] + args, input=stdin, capture_output=True)
    return p.returncode, p.stdout.decode("utf-8"), p.stderr.decode("utf-8", "replace")


def undelta(d):
    out, prev = [], 0
    for k in range(0, len(d), 2):
        s = prev + d[k]
        e = s + d[k + 1]
        out += [s, e]
        prev = e
    return out


def check(label, got, ids, types, off, vocab):
    want = {"ids": ids, "type_ids": types,
            "offsets": [[off[k], off[k + 1]] for k in range(0, len(off), 2)],
            "tokens": [vocab[i] for i in ids]}
    for key in ("tokens", "ids", "type_ids", "offsets"):
        if got.get(key) != want[key]:
            fail("%s: %s = %s, expected %s" % (label, key, got.get(key), want[key]))
            return


with open(os.path.join(mini, "vocab.txt"), encoding="utf-8") as f:
    mvocab = f.read().split("\n")
inputs = jl(os.path.join(tokdir, "hard_inputs.jsonl"))
expect = [r for r in jl(os.path.join(tokdir, "hard_cases.jsonl")) if r["cfg"] == "uncased"]

# single texts as arguments, one JSON object per input
single = [(k, q) for k, q in enumerate(inputs) if q.get("pair") is None]
rc, out, err = run(["--model", mini, "--json"] + [q["text"] for _, q in single])
lines = out.splitlines()
if rc != 0 or len(lines) != len(single):
    fail("arguments: exit %d, %d lines for %d inputs: %s" % (rc, len(lines), len(single), err))
else:
    for (k, q), line in zip(single, lines):
        e = expect[k]
        check("case %d" % k, json.loads(line), e["ids"], e["type_ids"], e["off"], mvocab)
        
# pairs
for k, q in enumerate(inputs):
    if q.get("pair") is None:
        continue
    rc, out, err = run(["-m", mini, "--json", "--pair", q["pair"], q["text"]])
    e = expect[k]
    if rc != 0:
        fail("pair case %d: exit %d %s" % (k, rc, err))
    else:
        check("pair case %d" % k, json.loads(out), e["ids"], e["type_ids"], e["off"], mvocab)

# stdin, one text per line (texts without line breaks)
flat = [(k, q) for k, q in single if not any(c in q["text"] for c in "\n\r\x0b\x0c\x85\u2028\u2029")]
rc, out, err = run(["--model", mini, "--json"], "\n".join(q["text"] for _, q in flat).encode() + b"\n")
lines = out.splitlines()
if rc != 0 or len(lines) != len(flat):
    fail("stdin: exit %d, %d lines for %d inputs" % (rc, len(lines), len(flat)))
else:
    for (k, q), line in zip(flat, lines):
        e = expect[k]
        check("stdin case %d" % k, json.loads(line), e["ids"], e["type_ids"], e["off"], mvocab)

# --no-special drops [CLS] and [SEP]
k, q = single[1]
rc, out, err = run(["--model", mini, "--json", "--no-special", q["text"]])
e = expect[k]
check("--no-special", json.loads(out), e["ids"][1:-1], e["type_ids"][1:-1], e["off"][2:-2], mvocab)

# the readable table has one line per token after its header
rc, out, err = run(["--model", mini, q["text"]])
if rc != 0 or len(out.splitlines()) != len(e["ids"]) + 1:
    fail("table output: exit %d, %d lines" % (rc, len(out.splitlines())))

# invalid UTF-8: the other inputs still print, exit 1, input number + byte offset
rc, out, err = run(["--model", mini, "--json"], b"good\nab\xffc\nalso good\n")
if rc != 1 or len(out.splitlines()) != 2 or "input 2" not in err or "byte 2" not in err:
    fail("invalid UTF-8: exit %d, stdout %r, stderr %r" % (rc, out, err))
if not err.startswith("nlp tokenize: "):
    fail("diagnostic shape: %r" % err)

# usage errors exit 2
rc, out, err = run(["--model", mini, "--bogus", "x"])
if rc != 2:
    fail("unknown option: exit %d" % rc)
rc, out, err = run(["--model", mini, "--truncation", "sideways", "x"])
if rc != 2:
    fail("bad --truncation: exit %d" % rc)
rc, out, err = run(["--model", "/nonexistent/model/dir", "--offline", "x"])
if rc != 1:
    fail("missing model: exit %d" % rc)

# real sentences with bert-base-uncased
shared = os.path.join(top, "..", "shared", "data")
full = os.path.join(shared, "vocab", "bert-base-uncased")
if os.path.isdir(full):
    with open(os.path.join(full, "vocab.txt"), encoding="utf-8") as f:
        fvocab = f.read().split("\n")
    rows = [r for r in jl(os.path.join(tokdir, "parity.jsonl")) if r["src"] == "sst2/train.tsv"][:300]
    with open(os.path.join(shared, "sst2", "train.tsv"), encoding="utf-8") as f:
        lines_ = f.read().split("\n")
    texts = [lines_[r["i"] - 1].split("\t")[0] for r in rows]
    rc, out, err = run(["--model", full, "--json"], ("\n".join(texts) + "\n").encode())
    got = out.splitlines()
    if rc != 0 or len(got) != len(rows):
        fail("SST-2: exit %d, %d lines" % (rc, len(got)))
    else:
        for r, line in zip(rows, got):
            check("sst2 line %d" % r["i"], json.loads(line), r["ids"], [0] * len(r["ids"]),
                  undelta(r["doff"]), fvocab)
    print("tokenize_cli: %d SST-2 sentences checked" % len(rows))
else:
    print("tokenize_cli: SKIP real sentences: %s is absent" % shared)

print("tokenize_cli: %s" % ("FAILED (%d)" % failures if failures else "all passed"))
sys.exit(1 if failures else 0)
PYEOF
